//! The rules that read a file as text, whatever its syntax: the token formats (cloud, forge,
//! chat, payment and registry credentials, private keys, JWTs, Vault tokens), URLs with a
//! password, and `KEY=value` files.
//!
//! A keyword prefilter comes first: one Aho-Corasick pass over the text finds which rules'
//! anchors (`ghp_`, `xox`, `AKIA`, `://`, `private key`, ...) it holds at all, and only those
//! rules' patterns run. Most files of a GitOps repository hold none, so a new rule costs a
//! keyword in that one pass, not a pass of its own.

mod cli;
mod cloud;
mod envfile;
mod forge;
mod keys;
mod registry;
mod saas;
mod url;

use super::{fingerprint, Finding, Rule, Syntax};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::sync::OnceLock;

/// A file's text, with its lines found on demand.
pub(super) struct Source<'a> {
    pub(super) text: &'a str,
    pub(super) syntax: Syntax,
    starts: OnceLock<Vec<usize>>,
}

impl<'a> Source<'a> {
    pub(super) fn new(text: &'a str, syntax: Syntax) -> Source<'a> {
        Source {
            text,
            syntax,
            starts: OnceLock::new(),
        }
    }

    fn starts(&self) -> &[usize] {
        self.starts.get_or_init(|| {
            std::iter::once(0)
                .chain(
                    self.text
                        .bytes()
                        .enumerate()
                        .filter(|(_, b)| *b == b'\n')
                        .map(|(i, _)| i + 1),
                )
                .collect()
        })
    }

    /// The 1-based line of a byte offset.
    pub(super) fn line_of(&self, at: usize) -> u32 {
        self.starts().partition_point(|&s| s <= at) as u32
    }

    /// The line (without its end) holding a byte offset.
    pub(super) fn line_at(&self, at: usize) -> &'a str {
        let starts = self.starts();
        let i = starts.partition_point(|&s| s <= at).saturating_sub(1);
        let start = starts[i];
        let end = starts.get(i + 1).map(|e| e - 1).unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches('\r')
    }

    /// The byte range of lines `from..=to` (1-based, clamped).
    pub(super) fn lines_range(&self, from: u32, to: u32) -> std::ops::Range<usize> {
        let starts = self.starts();
        let from = (from.max(1) as usize - 1).min(starts.len() - 1);
        let to = (to as usize).min(starts.len());
        let start = starts[from];
        let end = starts.get(to).copied().unwrap_or(self.text.len());
        start..end.max(start)
    }

    /// A finding of a token: the key of its line (when it has one) names it; the token alone
    /// identifies it (its fingerprint does not depend on the key it sits under).
    pub(super) fn token(&self, out: &mut Vec<Finding>, rule: Rule, at: usize, token: &str) {
        let line = self.line_at(at);
        out.push(Finding::new(
            self.line_of(at),
            rule,
            key_of(line).unwrap_or(rule.id()),
            None,
            token.as_bytes(),
            fingerprint(rule, "", token.as_bytes()),
        ));
    }

    /// A finding of a value under a key: the key is part of its identity, as for the YAML rules.
    pub(super) fn keyed(&self, out: &mut Vec<Finding>, rule: Rule, at: usize, key: &str, v: &[u8]) {
        out.push(Finding::new(
            self.line_of(at),
            rule,
            key,
            None,
            v,
            fingerprint(rule, key, v),
        ));
    }
}

/// One rule's search over a text.
pub(super) struct Detector {
    pub(super) rule: Rule,
    /// ASCII words, matched in any case, one of which the text must hold for the search to
    /// run; none: it always runs.
    pub(super) keywords: &'static [&'static str],
    pub(super) find: fn(&Source, &mut Vec<Finding>),
}

fn detectors() -> &'static [&'static Detector] {
    static ALL: OnceLock<Vec<&'static Detector>> = OnceLock::new();
    ALL.get_or_init(|| {
        [
            keys::DETECTORS,
            cloud::DETECTORS,
            forge::DETECTORS,
            saas::DETECTORS,
            registry::DETECTORS,
            url::DETECTORS,
            cli::DETECTORS,
            envfile::DETECTORS,
        ]
        .into_iter()
        .flatten()
        .collect()
    })
}

/// Every keyword of every detector in one automaton, and which detector each belongs to.
struct Prefilter {
    ac: AhoCorasick,
    owner: Vec<usize>,
    /// Detectors without keywords: they always run.
    always: Vec<usize>,
}

fn prefilter() -> &'static Prefilter {
    static P: OnceLock<Prefilter> = OnceLock::new();
    P.get_or_init(|| {
        let mut words = Vec::new();
        let mut owner = Vec::new();
        let mut always = Vec::new();
        for (i, d) in detectors().iter().enumerate() {
            if d.keywords.is_empty() {
                always.push(i);
            }
            for k in d.keywords {
                words.push(*k);
                owner.push(i);
            }
        }
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&words)
            .expect("static keywords");
        Prefilter { ac, owner, always }
    })
}

/// Which detectors `text` holds a keyword of.
fn triggered(text: &str) -> Vec<bool> {
    let p = prefilter();
    let n = detectors().len();
    let mut on = vec![false; n];
    let mut left = n - p.always.len();
    for &i in &p.always {
        on[i] = true;
    }
    for m in p.ac.find_overlapping_iter(text) {
        let i = p.owner[m.pattern().as_usize()];
        if !on[i] {
            on[i] = true;
            left -= 1;
            if left == 0 {
                break;
            }
        }
    }
    on
}

/// The text rules' findings in `text`, read as `syntax` says.
pub(super) fn findings(text: &str, syntax: Syntax, out: &mut Vec<Finding>) {
    let source = Source::new(text, syntax);
    for (d, on) in detectors().iter().zip(triggered(text)) {
        if on {
            let before = out.len();
            (d.find)(&source, out);
            debug_assert!(out[before..].iter().all(|f| f.rule == d.rule));
        }
    }
}

/// The token format `s` (a key, a name) holds, if any: what looks like a token anywhere in it,
/// looser than the rules (no boundaries asked for, made-up values too), so that a key is
/// redacted on less than a finding takes. Built on the first finding only.
pub(super) fn token_in(s: &str) -> Option<Rule> {
    static IN_KEY: OnceLock<Vec<(Rule, regex::Regex)>> = OnceLock::new();
    let loose = IN_KEY.get_or_init(|| {
        [
            (
                Rule::VaultToken,
                r"hv[sbr]\.[A-Za-z0-9_-]{24,}|(?:^|[^A-Za-z0-9_])[sbr]\.[A-Za-z0-9]{24}",
            ),
            (Rule::AwsAccessKey, r"(?:AKIA|ASIA)[0-9A-Z]{16}"),
            (Rule::GithubToken, r"gh[pousr]_[A-Za-z0-9]{20,}|github_pat_"),
            (
                Rule::GitlabToken,
                r"gl(?:pat|dt|rt|ptt|ft|soat|cbt)-[A-Za-z0-9_-]{16,}",
            ),
            (Rule::SlackToken, r"xox[abposre]-[0-9A-Za-z-]{10,}"),
            (Rule::StripeKey, r"[sr]k_live_[0-9A-Za-z]{16,}"),
            (Rule::NpmToken, r"npm_[A-Za-z0-9]{30,}"),
            (Rule::PypiToken, r"pypi-AgE[A-Za-z0-9_-]{30,}"),
            (Rule::GcpApiKey, r"AIza[0-9A-Za-z_-]{30,}"),
            (Rule::Jwt, r"eyJ[A-Za-z0-9_-]{8,}\.eyJ"),
            (Rule::ConnectionString, r"://[^/\s:@]*:[^\s@]+@"),
        ]
        .into_iter()
        .map(|(rule, re)| (rule, regex::Regex::new(re).expect("static regex")))
        .collect()
    });
    if let Some((rule, _)) = loose.iter().find(|(_, re)| re.is_match(s)) {
        return Some(*rule);
    }
    let mut found = Vec::new();
    findings(s, Syntax::Text, &mut found);
    found.iter().map(|f| f.rule).min()
}

/// A static regex, with `\b` meaning an ASCII word boundary (what the fast engines run).
pub(super) fn re(pattern: &str) -> regex::Regex {
    regex::Regex::new(&pattern.replace(r"\b", r"(?-u:\b)")).expect("static regex")
}

/// The key of a `key: value` / `key=value` line, when it has one. (A connection string's
/// fingerprint holds it: what it returns for a line does not change, so that allow-lists keep
/// working.)
pub(super) fn key_of(line: &str) -> Option<&str> {
    let t = line.trim_start().trim_start_matches("- ").trim_start();
    let end = t.find([':', '='])?;
    let k = t[..end].trim().trim_matches(['"', '\'']);
    let ok = !k.is_empty()
        && k.len() <= 128
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    ok.then_some(k)
}

#[cfg(test)]
mod tests;
