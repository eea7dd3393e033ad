//! The token formats, line by line, in any text file.

use super::yaml::is_empty_or_reference;
use super::{fingerprint, Finding, Rule};
use std::sync::OnceLock;

struct Patterns {
    vault: regex::Regex,
    aws: regex::Regex,
    url: regex::Regex,
    pem_begin: regex::Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        vault: regex::Regex::new(
            r"(?:^|[^A-Za-z0-9_.])((?:hv[sbr]\.[A-Za-z0-9_-]{24,})|(?:[sbr]\.[A-Za-z0-9]{24}))(?:$|[^A-Za-z0-9_.-])",
        )
        .expect("static regex"),
        aws: regex::Regex::new(r"(?:^|[^A-Z0-9])((?:AKIA|ASIA)[0-9A-Z]{16})(?:$|[^A-Z0-9])")
            .expect("static regex"),
        url: regex::Regex::new(
            r"\b([A-Za-z][A-Za-z0-9+.-]{1,20})://([^/\s:@'\x22]{1,256}):([^/\s@'\x22]{1,256})@[A-Za-z0-9\[\]._-]",
        )
        .expect("static regex"),
        pem_begin: regex::Regex::new(r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----")
            .expect("static regex"),
    })
}

/// The token format `s` (a key, a name) holds, if any: what looks like a token anywhere in it,
/// looser than the rules (no boundaries asked for), so that a key is redacted on less than a
/// finding takes. Built on the first finding only.
pub(super) fn token_in(s: &str) -> Option<Rule> {
    static IN_KEY: OnceLock<Vec<(Rule, regex::Regex)>> = OnceLock::new();
    IN_KEY
        .get_or_init(|| {
            [
                (
                    Rule::VaultToken,
                    r"hv[sbr]\.[A-Za-z0-9_-]{24,}|(?:^|[^A-Za-z0-9_])[sbr]\.[A-Za-z0-9]{24}",
                ),
                (Rule::AwsAccessKey, r"(?:AKIA|ASIA)[0-9A-Z]{16}"),
                (Rule::ConnectionString, r"://[^/\s:@]*:[^/\s@]+@"),
            ]
            .into_iter()
            .map(|(rule, re)| (rule, regex::Regex::new(re).expect("static regex")))
            .collect()
        })
        .iter()
        .find(|(_, re)| re.is_match(s))
        .map(|(rule, _)| *rule)
}

pub(super) fn token_findings(text: &str, out: &mut Vec<Finding>) {
    let p = patterns();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let n = (i + 1) as u32;
        if let Some(c) = p.pem_begin.captures(line) {
            if !c[1].contains("ENCRYPTED") {
                // The whole block is the value: from BEGIN to END (or the end of the file).
                let mut body = String::new();
                let mut j = i;
                while j < lines.len() {
                    let l = lines[j].trim().trim_start_matches(['|', '"', '\'']);
                    body.push_str(l);
                    body.push('\n');
                    if j > i && lines[j].contains("-----END ") {
                        break;
                    }
                    j += 1;
                }
                out.push(Finding::new(
                    n,
                    Rule::PrivateKey,
                    key_of(line).unwrap_or("pem"),
                    None,
                    body.as_bytes(),
                    fingerprint(Rule::PrivateKey, "pem", body.as_bytes()),
                ));
                i = j.max(i) + 1;
                continue;
            }
        }
        if let Some(c) = p.vault.captures(line) {
            push_token(out, n, Rule::VaultToken, line, &c[1]);
        } else if let Some(c) = p.aws.captures(line) {
            push_token(out, n, Rule::AwsAccessKey, line, &c[1]);
        } else if let Some(c) = p.url.captures(line) {
            let password = &c[3];
            if !is_empty_or_reference(password) && !password.starts_with('$') {
                let key = key_of(line).unwrap_or("url");
                out.push(Finding::new(
                    n,
                    Rule::ConnectionString,
                    key,
                    None,
                    password.as_bytes(),
                    fingerprint(Rule::ConnectionString, key, password.as_bytes()),
                ));
            }
        }
        i += 1;
    }
}

fn push_token(out: &mut Vec<Finding>, line: u32, rule: Rule, text: &str, token: &str) {
    out.push(Finding::new(
        line,
        rule,
        key_of(text).unwrap_or(rule.id()),
        None,
        token.as_bytes(),
        // The token alone identifies it: the key it sits under does not change it.
        fingerprint(rule, "", token.as_bytes()),
    ));
}

/// The key of a `key: value` / `key=value` line, when it has one.
fn key_of(line: &str) -> Option<&str> {
    let t = line.trim_start().trim_start_matches("- ").trim_start();
    let end = t.find([':', '='])?;
    let k = t[..end].trim().trim_matches(['"', '\'']);
    let ok = !k.is_empty()
        && k.len() <= 128
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    ok.then_some(k)
}
