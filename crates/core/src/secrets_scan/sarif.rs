//! The report as SARIF 2.1.0 (`scan -o sarif`), for GitHub code scanning and the other
//! services that ingest it: one run, every rule's metadata, one result per entry with its path
//! and line (history-only entries also name their commits, as a property and a logical
//! location), the fingerprint in `partialFingerprints`, and what was not scanned as tool
//! notifications. Like the other reports it holds no value, nor any part of one.

use super::{Entry, Rule};
use serde_json::{json, Value};

/// The `partialFingerprints` key of a result's fingerprint (`scan`'s own, versioned as the
/// fingerprint is).
pub const FINGERPRINT_KEY: &str = "kubectlVaultScan/v1";

/// Something the run says about itself: a file not read, a shallow history, an expired
/// allow-list entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// `error`, `warning` or `note`.
    pub level: &'static str,
    pub text: String,
    /// The file it is about, relative to the repository's root.
    pub path: Option<String>,
}

/// What the run scanned, as the run's properties say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// `history`, `work-tree` or `staged`.
    pub scope: &'static str,
    pub commits: usize,
    pub file_contents: usize,
    pub allowed: usize,
}

/// The SARIF log of one scan.
pub fn sarif(entries: &[Entry], version: &str, scanned: &Run, notes: &[Note]) -> Value {
    let rules: Vec<Value> = Rule::ALL.iter().map(|r| rule(*r)).collect();
    let results: Vec<Value> = entries.iter().map(result).collect();
    let notifications: Vec<Value> = notes
        .iter()
        .map(|n| {
            let mut v = json!({
                "level": n.level,
                "message": {"text": n.text},
            });
            if let Some(p) = &n.path {
                v["locations"] = json!([{"physicalLocation": artifact(p)}]);
            }
            v
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "kubectl-vault scan",
                "semanticVersion": version,
                "informationUri": "https://github.com/kubectl-vault/kubectl-vault",
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {
                "scope": scanned.scope,
                "commits": scanned.commits,
                "fileContents": scanned.file_contents,
                "allowedByTheAllowList": scanned.allowed,
            },
        }],
    })
}

fn rule(r: Rule) -> Value {
    json!({
        "id": r.id(),
        "name": r.name(),
        "shortDescription": {"text": r.summary()},
        "fullDescription": {"text": format!("{} Found by kubectl vault scan's {} rule; no value is ever reported, only a fingerprint.", r.summary(), r.id())},
        "help": {
            "text": r.help(),
            "markdown": format!("{}\n\nAllow a reviewed finding by its fingerprint in `.kubectl-vault-allow` (a reason and an expiry date may follow it).", r.help()),
        },
        "defaultConfiguration": {"level": "error"},
        "properties": {
            "tags": ["security", "secret", "external/cwe/cwe-798"],
            "precision": if r == Rule::HighEntropy { "high" } else { "very-high" },
            "security-severity": "9.0",
        },
    })
}

fn result(e: &Entry) -> Value {
    let mut message = format!("{}: {}", e.rule.id(), what(e));
    let history_only = !e.in_work_tree && !e.commits.is_empty();
    if history_only {
        message.push_str(&format!(
            "; only in history (introduced by {}{})",
            &e.commits[0][..e.commits[0].len().min(12)],
            match e.commits.len() {
                1 => String::new(),
                n => format!(
                    " and {} more commit{}",
                    n - 1,
                    if n == 2 { "" } else { "s" }
                ),
            }
        ));
    }
    message.push_str(&format!("; fingerprint {}", e.fingerprint));
    let mut location = json!({"physicalLocation": artifact(&e.path)});
    location["physicalLocation"]["region"] = json!({"startLine": e.line.max(1)});
    if history_only {
        location["logicalLocations"] = Value::Array(
            e.commits
                .iter()
                .map(|c| json!({"name": c, "fullyQualifiedName": format!("commit/{c}"), "kind": "commit"}))
                .collect(),
        );
    }
    json!({
        "ruleId": e.rule.id(),
        "ruleIndex": Rule::ALL.iter().position(|r| *r == e.rule).unwrap_or(0),
        "level": "error",
        "message": {"text": message},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: e.fingerprint},
        "properties": {
            "key": e.key,
            "secret": e.object,
            "commits": e.commits,
            "inWorkTree": e.in_work_tree,
        },
    })
}

/// What the entry is, in words: the key, and the Secret holding it.
fn what(e: &Entry) -> String {
    match &e.object {
        Some(o) => format!("a plaintext value under `{}` in the Secret {o}", e.key),
        None if e.key == e.rule.id() => "a plaintext secret".to_string(),
        None => format!("a plaintext secret under `{}`", e.key),
    }
}

fn artifact(path: &str) -> Value {
    json!({"artifactLocation": {"uri": uri(path), "uriBaseId": "%SRCROOT%"}})
}

/// A path as a relative URI reference: every byte but the unreserved characters and `/`
/// percent-encoded (a `:` too, which would read as a scheme).
pub fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
