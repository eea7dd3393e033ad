//! `scan`'s pure half: which plaintext secrets one file's bytes hold.
//!
//! Not to be confused with [`super::spec::scan`] (the bounds check of a spec). The edge
//! (`crate::edge::git::history`) hands in each distinct blob once per [`Syntax`] its paths
//! read it as, and reports the result at each path; this module decides.
//!
//! Every file is text ([`scan_blob`]: UTF-16/32 with a BOM decoded, other bytes that are not
//! UTF-8 replaced); a YAML file is read document by document, a broken document losing only
//! what follows its error, a `List` (`kubectl get secrets -o yaml`) item by item.
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
//!
//! The module's parts: `yaml` (the YAML rules), `tokens` (the token formats in any text),
//! `text` (bytes to text), `report` (findings grouped per secret and file, the allow-list,
//! what was not read, whether the run fails).

mod report;
mod text;
mod tokens;
mod yaml;

pub use report::{fails, report, AllowList, Entry, Located, Seen, Shallow, Unread};
pub use text::shown_path;

/// Largest file content scanned (1 MiB): secrets live in manifests and config files. A larger
/// one is not read; it is named in the report ([`Unread::TooLarge`]) and fails the run.
pub const MAX_FILE: u64 = 1024 * 1024;

use sha2::{Digest, Sha256};

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

impl Finding {
    /// A finding of `rule` for `value` under `key`, in `object`. The key and the object are
    /// the repository's text and are shown as [`shown`] says.
    pub(super) fn new(
        line: u32,
        rule: Rule,
        key: &str,
        object: Option<&str>,
        value: &[u8],
        fingerprint: String,
    ) -> Finding {
        Finding {
            line,
            rule,
            key: shown(key, rule, value),
            object: object.map(|o| shown(o, rule, value)),
            fingerprint,
        }
    }
}

/// A key or an object's name as a report may show it. No part of a detected value is shown,
/// keys included: a key holding a token (`hvs.…: admin`, an `AKIA…:secret` line, a Secret's data
/// key) or the finding's own value (`user: user`) is shown as `<redacted: RULE>`, the rule
/// of the token it holds or of the finding. Control and bidirectional characters are escaped.
fn shown(s: &str, rule: Rule, value: &[u8]) -> String {
    if let Some(token) = tokens::token_in(s) {
        return format!("<redacted: {}>", token.id());
    }
    let value = String::from_utf8_lossy(value);
    let value = value.trim();
    if !value.is_empty() && (s == value || (value.chars().count() >= 4 && s.contains(value))) {
        return format!("<redacted: {}>", rule.id());
    }
    text::escape_hidden(s)
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

/// What one file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scanned {
    /// Sorted by line, one finding per line at most.
    pub findings: Vec<Finding>,
    /// Where its YAML could not be parsed (it was scanned as text all the same).
    pub unparsed: Option<Unparsed>,
}

impl Scanned {
    /// Nothing found and nothing to report.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty() && self.unparsed.is_none()
    }
}

/// Where and why a YAML file was not parsed (in full).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Unparsed {
    /// 1-based.
    pub line: u32,
    pub reason: String,
}

/// How a file's content is read, as its path says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Syntax {
    /// `.yaml`, `.yml`, `.json` (any case): the YAML rules and the token formats.
    Yaml,
    /// Anything else: the token formats.
    Text,
}

impl Syntax {
    pub fn of(path: &str) -> Syntax {
        let p = path.as_bytes();
        if [".yaml", ".yml", ".json"].iter().any(|x| {
            p.len() >= x.len() && p[p.len() - x.len()..].eq_ignore_ascii_case(x.as_bytes())
        }) {
            Syntax::Yaml
        } else {
            Syntax::Text
        }
    }
}

/// The findings in one file's content, read as `syntax`. Every content is text: UTF-8, UTF-16
/// or UTF-32 with a BOM, anything else read as UTF-8 with what is not replaced (a Latin-1 byte,
/// a NUL, a binary file). Sorted by line, one finding per line at most.
pub fn scan_blob(syntax: Syntax, bytes: &[u8]) -> Scanned {
    let text = text::decode(bytes);
    let text = text.as_ref();
    let mut out = Vec::new();
    let mut unparsed = None;
    if syntax == Syntax::Yaml {
        unparsed = yaml::findings(text, &mut out);
    }
    tokens::token_findings(text, &mut out);
    // One finding per line, the most specific rule (in `Rule`'s order): a Secret's data over
    // a token format, a token format over the entropy guess.
    out.sort_by(|a, b| (a.line, a.rule, &a.key).cmp(&(b.line, b.rule, &b.key)));
    out.dedup_by_key(|f| f.line);
    Scanned {
        findings: out,
        unparsed,
    }
}

#[cfg(test)]
mod tests;
