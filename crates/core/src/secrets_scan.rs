//! `scan`'s pure half: which plaintext secrets one file's bytes hold.
//!
//! Not to be confused with [`super::spec::scan`] (the bounds check of a spec). The edge
//! (`crate::edge::git::history`) hands in each distinct blob once; this module decides.
//!
//! Rules ([`Rule`]):
//! - a Kubernetes `Secret` (`apiVersion: v1`) with a non-empty `data` / `stringData` value,
//!   and a kustomize `secretGenerator`'s `literals` (`KEY=value`);
//! - known token formats anywhere in a text file: Vault/OpenBao service, batch and recovery
//!   tokens (`hvs.`, `hvb.`, `hvr.`, and the legacy `s.`/`b.`/`r.` with 24 characters),
//!   PEM private keys (not `ENCRYPTED PRIVATE KEY`), AWS access key ids (`AKIA`/`ASIA` + 16),
//!   URLs with a password (`scheme://user:password@host`);
//! - in YAML, a high-entropy value under a credential-like key (`password`, `secret`, `token`,
//!   `apiKey`, … as the key's last word);
//! - a SOPS file (a top-level `sops:` block) holding a value that is not `ENC[…]` where SOPS
//!   would have encrypted it (a Secret's data, a credential-like key, or a map whose other
//!   values are encrypted).
//!
//! Not findings (false friends): manifests without values (VaultStaticSecret and the other
//! generated kinds), a Secret with empty data, SOPS `ENC[…]` values, and references rather
//! than values: `${VAR}`, `$(VAR)`, `{{ template }}`, `<placeholder>`, `*****`.
//!
//! A [`Finding`] never holds the value, nor any part of it: only its line, rule, key name and
//! a [`fingerprint`].

use sha2::{Digest, Sha256};
use std::sync::OnceLock;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Deepest YAML nesting looked into (deeper values are skipped, not an error).
const MAX_DEPTH: usize = 64;
/// Shortest value the entropy rule considers.
const ENTROPY_MIN_LEN: usize = 8;
/// Shannon entropy (bits per character) from which a value under a credential-like key counts
/// as a secret: `changeme` (2.75) does not, `S3cr3t-Pa55w0rd` (3.7) and random tokens do.
const ENTROPY_MIN_BITS: f64 = 3.0;

/// What kind of plaintext secret a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    KubernetesSecret,
    SopsUnencrypted,
    PrivateKey,
    VaultToken,
    AwsAccessKey,
    ConnectionString,
    HighEntropy,
}

impl Rule {
    /// The rule's stable name (output, JSON, fingerprints).
    pub fn id(self) -> &'static str {
        match self {
            Rule::KubernetesSecret => "kubernetes-secret",
            Rule::SopsUnencrypted => "sops-unencrypted",
            Rule::PrivateKey => "private-key",
            Rule::VaultToken => "vault-token",
            Rule::AwsAccessKey => "aws-access-key",
            Rule::ConnectionString => "connection-string",
            Rule::HighEntropy => "high-entropy",
        }
    }
}

/// One plaintext secret in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// 1-based line of the value (of the key for block values).
    pub line: u32,
    pub rule: Rule,
    /// The key the value sits under (a Secret's data key, a YAML key), or the token kind for a
    /// token outside YAML (`pem`, `url`, ...).
    pub key: String,
    /// `namespace/name` of the Kubernetes Secret holding it, for [`Rule::KubernetesSecret`]
    /// and SOPS-encrypted Secrets.
    pub object: Option<String>,
    pub fingerprint: String,
}

/// The finding's identity: hex of SHA-256 over the rule, the key and SHA-256 of the value,
/// cut to 24 hex digits (96 bits). It does not depend on the path, the line or the commit, so
/// it stays the same when a file is moved, reformatted or the secret is copied to another
/// commit; it changes when the value changes (a rotated secret is a new finding). It holds no
/// part of the value; like any hash of a value, it lets someone who guesses a weak password
/// confirm the guess, so treat scan reports as internal.
pub fn fingerprint(rule: Rule, key: &str, value: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"kubectl-vault scan v1\n");
    h.update(rule.id().as_bytes());
    h.update(b"\n");
    h.update(key.as_bytes());
    h.update(b"\n");
    h.update(Sha256::digest(value));
    hex::encode(&h.finalize()[..12])
}

/// Whether `s` looks like a fingerprint (allow-list entries).
pub fn is_fingerprint(s: &str) -> bool {
    s.len() == 24
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// The findings in one file: `path` decides whether it is read as YAML (`.yaml`, `.yml`,
/// `.json`); binary content (a NUL byte) and invalid UTF-8 have none. Sorted by line, one
/// finding per line and rule at most.
pub fn scan_blob(path: &str, bytes: &[u8]) -> Vec<Finding> {
    if bytes.contains(&0) {
        return Vec::new();
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Vec::new();
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let lower = path.to_ascii_lowercase();
    if [".yaml", ".yml", ".json"]
        .iter()
        .any(|x| lower.ends_with(x))
    {
        if let Some(docs) = parse_yaml(text) {
            for doc in &docs {
                yaml_findings(doc, &mut out);
            }
        }
    }
    token_findings(text, &mut out);
    // One finding per line, the most specific rule (in `Rule`'s order): a Secret's data over
    // a token format, a token format over the entropy guess.
    out.sort_by(|a, b| (a.line, a.rule, &a.key).cmp(&(b.line, b.rule, &b.key)));
    out.dedup_by_key(|f| f.line);
    out
}

// ---------------------------------------------------------------------------------------
// YAML: a small tree with lines, no alias expansion.

#[derive(Debug)]
enum Node {
    Map(Vec<(Scalar, Node)>),
    Seq(Vec<Node>),
    Scalar(Scalar),
    /// An alias, or what lies deeper than [`MAX_DEPTH`].
    Other,
}

#[derive(Debug, Clone)]
struct Scalar {
    text: String,
    line: u32,
}

impl Node {
    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k.text == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn str(&self) -> Option<&str> {
        match self {
            Node::Scalar(s) => Some(&s.text),
            _ => None,
        }
    }
}

#[derive(Default)]
struct Builder {
    /// Open collections: a map with its pending key, or a list.
    stack: Vec<(Node, Option<Scalar>)>,
    docs: Vec<Node>,
    /// Nesting beyond MAX_DEPTH being skipped.
    skipping: usize,
}

impl Builder {
    fn push_value(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some((Node::Map(entries), pending)) => match pending.take() {
                None => {
                    // A key: only scalar keys are kept (complex keys hold no field names).
                    let key = match node {
                        Node::Scalar(s) => s,
                        _ => Scalar {
                            text: String::new(),
                            line: 0,
                        },
                    };
                    *pending = Some(key);
                }
                Some(key) => entries.push((key, node)),
            },
            Some((Node::Seq(items), _)) => items.push(node),
            Some(_) => {}
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let line = mark.line().max(1) as u32;
        match ev {
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if self.skipping > 0 || self.stack.len() >= MAX_DEPTH {
                    self.skipping += 1;
                    return;
                }
                let node = if matches!(ev, Event::MappingStart(..)) {
                    Node::Map(Vec::new())
                } else {
                    Node::Seq(Vec::new())
                };
                self.stack.push((node, None));
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if self.skipping > 0 {
                    self.skipping -= 1;
                    if self.skipping == 0 {
                        self.push_value(Node::Other);
                    }
                    return;
                }
                if let Some((node, _)) = self.stack.pop() {
                    self.push_value(node);
                }
            }
            Event::Scalar(text, ..) if self.skipping == 0 => {
                self.push_value(Node::Scalar(Scalar { text, line }))
            }
            Event::Alias(_) if self.skipping == 0 => self.push_value(Node::Other),
            _ => {}
        }
    }
}

/// The documents of `text`, or None when it is not YAML (templates, broken files).
fn parse_yaml(text: &str) -> Option<Vec<Node>> {
    let mut b = Builder::default();
    Parser::new_from_str(text).load(&mut b, true).ok()?;
    Some(b.docs)
}

fn yaml_findings(doc: &Node, out: &mut Vec<Finding>) {
    let sops = doc.get("sops").is_some_and(|s| matches!(s, Node::Map(_)));
    let is_secret = doc.get("kind").and_then(Node::str) == Some("Secret")
        && doc.get("apiVersion").and_then(Node::str) == Some("v1");
    let object = is_secret.then(|| {
        let meta = doc.get("metadata");
        let name = meta.and_then(|m| m.get("name")).and_then(Node::str);
        let ns = meta.and_then(|m| m.get("namespace")).and_then(Node::str);
        match (ns, name) {
            (Some(ns), Some(n)) => format!("{ns}/{n}"),
            (None, Some(n)) => n.to_string(),
            _ => "(unnamed)".to_string(),
        }
    });
    let Node::Map(entries) = doc else { return };
    // kustomize's secretGenerator: `literals: [KEY=value, ...]` become a Secret's data.
    if let Some(Node::Seq(generators)) = doc.get("secretGenerator") {
        for g in generators {
            let name = g.get("name").and_then(Node::str).unwrap_or("(unnamed)");
            let Some(Node::Seq(literals)) = g.get("literals") else {
                continue;
            };
            for l in literals.iter().filter_map(scalar) {
                let Some((k, v)) = l.text.split_once('=') else {
                    continue;
                };
                if is_empty_or_reference(v) {
                    continue;
                }
                out.push(Finding {
                    line: l.line,
                    rule: Rule::KubernetesSecret,
                    key: k.trim().to_string(),
                    object: Some(name.to_string()),
                    fingerprint: fingerprint(Rule::KubernetesSecret, k.trim(), v.as_bytes()),
                });
            }
        }
    }
    for (key, value) in entries {
        if sops && key.text == "sops" {
            continue;
        }
        let secret_data = is_secret && (key.text == "data" || key.text == "stringData");
        if secret_data {
            let Node::Map(items) = value else { continue };
            for (k, v) in items {
                let Some(s) = scalar(v) else { continue };
                if sops && is_encrypted(&s.text) {
                    continue;
                }
                if is_empty_or_reference(&s.text) {
                    continue;
                }
                let bytes = if key.text == "data" {
                    decode_base64(&s.text).unwrap_or_else(|| s.text.as_bytes().to_vec())
                } else {
                    s.text.as_bytes().to_vec()
                };
                if bytes.is_empty() || is_empty_or_reference(&String::from_utf8_lossy(&bytes)) {
                    continue;
                }
                let rule = if sops {
                    Rule::SopsUnencrypted
                } else {
                    Rule::KubernetesSecret
                };
                out.push(Finding {
                    line: k.line,
                    rule,
                    key: k.text.clone(),
                    object: object.clone(),
                    fingerprint: fingerprint(rule, &k.text, &bytes),
                });
            }
            continue;
        }
        walk(key, value, sops, out);
    }
}

/// A scalar value, also a one-line block scalar's (`key: |`).
fn scalar(n: &Node) -> Option<&Scalar> {
    match n {
        Node::Scalar(s) => Some(s),
        _ => None,
    }
}

/// The credential-like and SOPS rules over every `key: value` below a top-level field.
fn walk(key: &Scalar, value: &Node, sops: bool, out: &mut Vec<Finding>) {
    match value {
        Node::Scalar(s) => {
            let credential = is_credential_key(&key.text);
            if sops {
                if !is_encrypted(&s.text)
                    && credential
                    && !is_empty_or_reference(&s.text)
                    && !key.text.ends_with("_unencrypted")
                {
                    out.push(Finding {
                        line: key.line,
                        rule: Rule::SopsUnencrypted,
                        key: key.text.clone(),
                        object: None,
                        fingerprint: fingerprint(
                            Rule::SopsUnencrypted,
                            &key.text,
                            s.text.as_bytes(),
                        ),
                    });
                }
                return;
            }
            if credential && is_high_entropy(&s.text) {
                out.push(Finding {
                    line: key.line,
                    rule: Rule::HighEntropy,
                    key: key.text.clone(),
                    object: None,
                    fingerprint: fingerprint(Rule::HighEntropy, &key.text, s.text.as_bytes()),
                });
            }
        }
        Node::Map(entries) => {
            // In a SOPS file, a plain value beside encrypted ones was meant to be encrypted.
            let encrypted_siblings = sops
                && entries
                    .iter()
                    .any(|(_, v)| v.str().is_some_and(is_encrypted));
            for (k, v) in entries {
                if let (true, Some(s)) = (encrypted_siblings, scalar(v)) {
                    if !is_encrypted(&s.text)
                        && !is_empty_or_reference(&s.text)
                        && !k.text.ends_with("_unencrypted")
                    {
                        out.push(Finding {
                            line: k.line,
                            rule: Rule::SopsUnencrypted,
                            key: k.text.clone(),
                            object: None,
                            fingerprint: fingerprint(
                                Rule::SopsUnencrypted,
                                &k.text,
                                s.text.as_bytes(),
                            ),
                        });
                    }
                    continue;
                }
                walk(k, v, sops, out);
            }
        }
        Node::Seq(items) => {
            for item in items {
                walk(key, item, sops, out);
            }
        }
        Node::Other => {}
    }
}

fn is_encrypted(v: &str) -> bool {
    v.starts_with("ENC[") && v.ends_with(']')
}

/// Empty, null, a boolean, or a reference to a value kept elsewhere.
fn is_empty_or_reference(v: &str) -> bool {
    let t = v.trim();
    t.is_empty()
        || matches!(t, "~" | "null" | "true" | "false")
        || t.contains("${")
        || t.contains("$(")
        || t.contains("{{")
        || (t.starts_with('<') && t.ends_with('>'))
        || t.chars()
            .all(|c| c == '*' || c == 'x' || c == 'X' || c == '.')
}

/// A key whose last word names a credential (`password`, `DB_PASSWORD`, `clientSecret`,
/// `api-key`), not a key that refers to one (`secretName`, `passwordFrom`, `tokenPath`).
fn is_credential_key(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    const ENDINGS: &[&str] = &[
        "password",
        "passwd",
        "pwd",
        "pass",
        "secret",
        "token",
        "apikey",
        "accesskey",
        "secretkey",
        "privatekey",
        "credential",
        "credentials",
        "passphrase",
        "authkey",
    ];
    ENDINGS.iter().any(|e| k.ends_with(e)) && !["bypass", "compass"].iter().any(|e| k.ends_with(e))
}

fn is_high_entropy(v: &str) -> bool {
    let v = v.trim();
    if v.chars().count() < ENTROPY_MIN_LEN
        || v.chars().any(char::is_whitespace)
        || is_empty_or_reference(v)
        || is_encrypted(v)
    {
        return false;
    }
    shannon(v) >= ENTROPY_MIN_BITS
}

fn shannon(v: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut n = 0usize;
    for c in v.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
        n += 1;
    }
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / n as f64;
            -p * p.log2()
        })
        .sum()
}

fn decode_base64(v: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

// ---------------------------------------------------------------------------------------
// Token formats, line by line, in any text file.

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

fn token_findings(text: &str, out: &mut Vec<Finding>) {
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
                out.push(Finding {
                    line: n,
                    rule: Rule::PrivateKey,
                    key: key_of(line).unwrap_or("pem").to_string(),
                    object: None,
                    fingerprint: fingerprint(Rule::PrivateKey, "pem", body.as_bytes()),
                });
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
                let key = key_of(line).unwrap_or("url").to_string();
                out.push(Finding {
                    line: n,
                    rule: Rule::ConnectionString,
                    fingerprint: fingerprint(Rule::ConnectionString, &key, password.as_bytes()),
                    key,
                    object: None,
                });
            }
        }
        i += 1;
    }
}

fn push_token(out: &mut Vec<Finding>, line: u32, rule: Rule, text: &str, token: &str) {
    let key = key_of(text).unwrap_or(rule.id()).to_string();
    out.push(Finding {
        line,
        rule,
        // The token alone identifies it: the key it sits under does not change it.
        fingerprint: fingerprint(rule, "", token.as_bytes()),
        key,
        object: None,
    });
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

// ---------------------------------------------------------------------------------------
// The report: findings grouped per secret and file, minus the allow-list.

/// Where a file content was seen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seen {
    /// Introduced (added or changed) at the path by this commit.
    Commit {
        /// Committer time, seconds since the epoch (orders the commits).
        time: i64,
        id: String,
    },
    /// In the work tree now.
    WorkTree,
}

/// A finding at a path, in one commit or the work tree.
#[derive(Debug, Clone)]
pub struct Located {
    pub path: String,
    pub seen: Seen,
    pub finding: Finding,
}

/// One secret in one file: every commit that introduced it there, and whether the work tree
/// still holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub fingerprint: String,
    pub rule: Rule,
    pub key: String,
    pub object: Option<String>,
    pub path: String,
    /// The line in the work tree, else in the latest commit introducing it.
    pub line: u32,
    /// Commits introducing it at this path, oldest first.
    pub commits: Vec<String>,
    pub in_work_tree: bool,
}

/// Reviewed fingerprints: one per line, `#` starts a comment.
#[derive(Debug, Default, Clone)]
pub struct AllowList {
    pub fingerprints: std::collections::BTreeSet<String>,
}

impl AllowList {
    /// Parses an allow-list file; the error is the 1-based line and what is wrong there.
    pub fn parse(text: &str) -> Result<AllowList, (usize, String)> {
        let mut out = AllowList::default();
        for (i, line) in text.lines().enumerate() {
            let entry = line.split('#').next().unwrap_or_default().trim();
            if entry.is_empty() {
                continue;
            }
            if !is_fingerprint(entry) {
                // The line itself is never shown: the file is the repository's, and may be
                // anything (a token pasted by mistake).
                return Err((
                    i + 1,
                    "not a scan fingerprint (24 lower-case hex digits, as `scan` prints them)"
                        .to_string(),
                ));
            }
            out.fingerprints.insert(entry.to_string());
        }
        Ok(out)
    }
}

/// The report's entries (sorted by path, line, rule, fingerprint) and how many findings the
/// allow-list suppressed (distinct fingerprints).
pub fn report(found: Vec<Located>, allow: &AllowList) -> (Vec<Entry>, usize) {
    use std::collections::BTreeMap;
    let mut allowed = std::collections::BTreeSet::new();
    // (fingerprint, path) → (finding, seen list with lines)
    type Group = (Finding, Vec<(Seen, u32)>);
    let mut groups: BTreeMap<(String, String), Group> = BTreeMap::new();
    for l in found {
        if allow.fingerprints.contains(&l.finding.fingerprint) {
            allowed.insert(l.finding.fingerprint.clone());
            continue;
        }
        let g = groups
            .entry((l.finding.fingerprint.clone(), l.path.clone()))
            .or_insert_with(|| (l.finding.clone(), Vec::new()));
        g.1.push((l.seen, l.finding.line));
    }
    let mut entries: Vec<Entry> = groups
        .into_iter()
        .map(|((fingerprint, path), (f, mut seen))| {
            seen.sort();
            seen.dedup();
            // Commits sort before the work tree, oldest first.
            let in_work_tree = seen.iter().any(|(s, _)| *s == Seen::WorkTree);
            let line = seen.last().map(|(_, l)| *l).unwrap_or(f.line);
            let mut commits: Vec<String> = Vec::new();
            for (s, _) in &seen {
                if let Seen::Commit { id, .. } = s {
                    if !commits.contains(id) {
                        commits.push(id.clone());
                    }
                }
            }
            Entry {
                fingerprint,
                rule: f.rule,
                key: f.key,
                object: f.object,
                path,
                line,
                commits,
                in_work_tree,
            }
        })
        .collect();
    entries.sort_by(|a, b| {
        (&a.path, a.line, a.rule, &a.fingerprint).cmp(&(&b.path, b.line, b.rule, &b.fingerprint))
    });
    (entries, allowed.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(path: &str, text: &str) -> Vec<(u32, &'static str, String)> {
        scan_blob(path, text.as_bytes())
            .into_iter()
            .map(|f| (f.line, f.rule.id(), f.key))
            .collect()
    }

    #[test]
    fn secret_data_and_string_data() {
        let y = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\ndata:\n  password: aHVudGVyMg==\n  empty: \"\"\nstringData:\n  user: admin\n  ref: ${DB_USER}\n";
        assert_eq!(
            rules("a.yaml", y),
            vec![
                (7, "kubernetes-secret", "password".into()),
                (10, "kubernetes-secret", "user".into())
            ]
        );
        let f = scan_blob("a.yaml", y.as_bytes());
        assert_eq!(f[0].object.as_deref(), Some("shop/db"));
        // data (base64) and stringData of the same value share a fingerprint.
        let s = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: hunter2\n";
        assert_eq!(
            scan_blob("b.yml", s.as_bytes())[0].fingerprint,
            f[0].fingerprint
        );
    }

    #[test]
    fn kustomize_literals() {
        let k = "secretGenerator:\n  - name: db\n    literals:\n      - password=S3cret\n      - user=${USER}\n";
        assert_eq!(
            rules("kustomization.yaml", k),
            vec![(4, "kubernetes-secret", "password".into())]
        );
        let f = scan_blob("k.yaml", k.as_bytes());
        // The same value as a Secret's stringData: one fingerprint.
        let s =
            "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: S3cret\n";
        assert_eq!(
            scan_blob("s.yaml", s.as_bytes())[0].fingerprint,
            f[0].fingerprint
        );
    }

    #[test]
    fn false_friends() {
        let empty = "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\ndata: {}\n";
        assert!(rules("e.yaml", empty).is_empty());
        let vss = "apiVersion: secrets.hashicorp.com/v1beta1\nkind: VaultStaticSecret\nmetadata:\n  name: app-secret\nspec:\n  vaultAuthRef: webapp\n  type: kv-v2\n  mount: kvv2\n  path: webapp/config\n  destination:\n    name: app-secret\n    create: true\n";
        assert!(rules("v.yaml", vss).is_empty());
        let tmpl = "db:\n  password: \"{{ .Values.password }}\"\n  url: postgresql://{{username}}:{{password}}@db:5432/x\n  passwordFrom: env:DB_PASSWORD\n  apiToken: ${TOKEN}\n";
        assert!(rules("t.yaml", tmpl).is_empty());
        let sops = "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData:\n  password: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:x]\n  version: 3.9.0\n";
        assert!(rules("s.yaml", sops).is_empty());
    }

    #[test]
    fn sops_plaintext() {
        let sops = "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData:\n  password: ENC[AES256_GCM,data:abc]\n  apiKey: plaintext-added-later\nsops:\n  version: 3.9.0\n";
        assert_eq!(
            rules("s.yaml", sops),
            vec![(6, "sops-unencrypted", "apiKey".into())]
        );
        let plain = "db:\n  host: ENC[AES256_GCM,data:abc]\n  user: bob\nsops: {version: 3.9.0}\n";
        assert_eq!(
            rules("p.yaml", plain),
            vec![(3, "sops-unencrypted", "user".into())]
        );
    }

    #[test]
    fn tokens_and_entropy() {
        // Token and key markers split in the source: no token- or key-shaped string is committed.
        let t = concat!(
            "vault_token: hv",
            "s.CAESIJ7q3xYbFzA0mEwO9lTqkTz1\naws: AKIAIOSFODNN7EXAMPLE\n",
            "dsn: postgres://app:S3cr3tPw@db:5432/app\nclientSecret: 9f8a7b6c5d4e3f2a1b0c\n",
            "low: changeme\npassword: changeme\nkey: |\n  -----BEGIN RSA PRIVATE",
            " KEY-----\n  MIIBOgIBAAJBAK\n  -----END RSA PRIVATE KEY-----\n"
        );
        assert_eq!(
            rules("c.yaml", t),
            vec![
                (1, "vault-token", "vault_token".into()),
                (2, "aws-access-key", "aws".into()),
                (3, "connection-string", "dsn".into()),
                (4, "high-entropy", "clientSecret".into()),
                (8, "private-key", "pem".into()),
            ]
        );
        // Outside YAML only the token formats.
        assert_eq!(
            rules(
                "x.env",
                concat!("TOKEN=hv", "s.CAESIJ7q3xYbFzA0mEwO9lTqkTz1\n")
            )
            .len(),
            1
        );
        assert!(rules("bin", "AKIAIOSFODNN7EXAMPLE\0").is_empty());
        assert!(!is_credential_key("secretName"));
        assert!(is_credential_key("DB_PASSWORD"));
    }

    #[test]
    fn fingerprint_holds_no_value_and_is_stable() {
        let a = fingerprint(Rule::KubernetesSecret, "password", b"hunter2");
        assert!(is_fingerprint(&a));
        assert_eq!(
            a,
            fingerprint(Rule::KubernetesSecret, "password", b"hunter2")
        );
        assert_ne!(
            a,
            fingerprint(Rule::KubernetesSecret, "password", b"hunter3")
        );
        let moved = "\n\napiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: hunter2\n";
        assert_eq!(
            scan_blob("other/path.yaml", moved.as_bytes())[0].fingerprint,
            a
        );
    }
}
