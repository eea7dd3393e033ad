//! `KEY=value` files (`.env`, `*.env` as kustomize's `secretGenerator` `envs:` read them,
//! `.properties`, INI, TOML, `.tfvars`): a value under a credential-like key.

use super::{Detector, Source};
use crate::secrets_scan::values::{is_credential_key, is_crypt_hash, is_encrypted, is_placeholder};
use crate::secrets_scan::{Finding, Rule, Syntax};

pub(super) const DETECTORS: &[Detector] = &[Detector {
    rule: Rule::EnvFile,
    keywords: &[],
    find: assignments,
}];

/// Shortest value reported: `PASSWORD=abc` is a placeholder more often than a password.
const MIN_LEN: usize = 6;

fn assignments(src: &Source, out: &mut Vec<Finding>) {
    if src.syntax != Syntax::Env {
        return;
    }
    let mut at = 0;
    for raw in src.text.split_inclusive('\n') {
        let start = at;
        at += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let t = line.trim_start();
        if t.starts_with(['#', ';', '!', '[']) || t.is_empty() {
            continue;
        }
        let t = t.strip_prefix("export ").unwrap_or(t).trim_start();
        let Some(sep) = t.find(['=', ':']) else {
            continue;
        };
        let key = t[..sep].trim().trim_matches(['"', '\'']);
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            || !is_credential_key(key)
        {
            continue;
        }
        let rest = &t[sep + 1..];
        let (value, quoted) = unquote(rest);
        if is_secret(value) && (quoted || !is_expression(value)) {
            let offset = start + (line.len() - t.len()) + sep + 1;
            src.keyed(out, Rule::EnvFile, offset, key, value.as_bytes());
        }
    }
}

/// The value of `rest` (what follows `=`): a quoted string's content, else up to an inline
/// ` #` comment, trimmed; and whether it was quoted.
fn unquote(rest: &str) -> (&str, bool) {
    let r = rest.trim();
    for q in ['"', '\''] {
        if let Some(inner) = r.strip_prefix(q) {
            return (inner.split(q).next().unwrap_or(inner), true);
        }
    }
    (r.split(" #").next().unwrap_or(r).trim(), false)
}

/// An unquoted Terraform / HCL expression, not a literal: `var.db_password`,
/// `random_password.db.result`, `file("pw.txt")`, `local.creds["db"]`.
fn is_expression(v: &str) -> bool {
    const ROOTS: &[&str] = &[
        "var.",
        "local.",
        "data.",
        "module.",
        "each.",
        "self.",
        "path.",
        "terraform.",
        "random_",
    ];
    ROOTS.iter().any(|r| v.starts_with(r)) || v.contains(['(', '['])
}

fn is_secret(v: &str) -> bool {
    let distinct = {
        let mut c: Vec<char> = v.chars().collect();
        c.sort_unstable();
        c.dedup();
        c.len()
    };
    v.chars().count() >= MIN_LEN
        && distinct >= 4
        && !is_placeholder(v)
        && !is_crypt_hash(v)
        && !is_encrypted(v)
        && !v.starts_with(['/', '$', '@'])
        && !v.starts_with("./")
        && !v.starts_with("~/")
        && !v.starts_with("file:")
        && !v.bytes().all(|b| b.is_ascii_digit())
}
