//! Cloud credentials: AWS access key ids and secret access keys, GCP service-account keys and
//! API keys, Azure storage account keys and shared access keys.

use super::{re, Detector, Source};
use crate::secrets_scan::values::{is_mixed, looks_fake};
use crate::secrets_scan::{Finding, Rule};
use std::sync::OnceLock;

pub(super) const DETECTORS: &[Detector] = &[
    Detector {
        rule: Rule::AwsAccessKey,
        keywords: &["akia", "asia"],
        find: aws_access_keys,
    },
    Detector {
        rule: Rule::AwsSecretKey,
        keywords: &[
            "akia",
            "asia",
            "secret_access",
            "secretaccess",
            "secret_key",
            "secretkey",
        ],
        find: aws_secret_keys,
    },
    Detector {
        rule: Rule::GcpServiceAccount,
        keywords: &["service_account"],
        find: gcp_service_accounts,
    },
    Detector {
        rule: Rule::GcpApiKey,
        keywords: &["aiza"],
        find: gcp_api_keys,
    },
    Detector {
        rule: Rule::AzureStorageKey,
        keywords: &["accountkey", "sharedaccesskey"],
        find: azure_keys,
    },
];

/// How many lines from an access key id its secret key is looked for.
const PAIR_LINES: u32 = 3;

fn aws_id_re() -> &'static regex::Regex {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| re(r"(?:^|[^A-Z0-9])((?:AKIA|ASIA)[0-9A-Z]{16})(?:$|[^A-Z0-9])"))
}

/// AWS documents its examples with ids ending in `EXAMPLE` (`AKIAIOSFODNN7EXAMPLE`).
fn aws_ids<'a>(src: &Source<'a>) -> impl Iterator<Item = regex::Match<'a>> {
    aws_id_re()
        .captures_iter(src.text)
        .map(|c| c.get(1).expect("group"))
        .filter(|m| !looks_fake(&m.as_str()[4..]))
}

fn aws_access_keys(src: &Source, out: &mut Vec<Finding>) {
    for m in aws_ids(src) {
        src.token(out, Rule::AwsAccessKey, m.start(), m.as_str());
    }
}

/// A secret access key (40 characters of base64) under a key that names it
/// (`aws_secret_access_key`, `secretAccessKey`, `AWS_SECRET_KEY`), or within a few lines of an
/// access key id.
fn aws_secret_keys(src: &Source, out: &mut Vec<Finding>) {
    static KEYED: OnceLock<regex::Regex> = OnceLock::new();
    static BARE: OnceLock<regex::Regex> = OnceLock::new();
    let keyed = KEYED.get_or_init(|| {
        re(r#"(?i)(?:aws_?secret_?(?:access_?)?key|secret_?access_?key)["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})(?:$|[^A-Za-z0-9/+=])"#)
    });
    let bare =
        BARE.get_or_init(|| re(r"(?:^|[^A-Za-z0-9/+=])([A-Za-z0-9/+]{40})(?:$|[^A-Za-z0-9/+=])"));
    let ok = |v: &str| is_mixed(v) && !looks_fake(v);
    for c in keyed.captures_iter(src.text) {
        let m = c.get(1).expect("group");
        if ok(m.as_str()) {
            src.token(out, Rule::AwsSecretKey, m.start(), m.as_str());
        }
    }
    let mut near: Vec<std::ops::Range<usize>> = Vec::new();
    for id in aws_ids(src) {
        let line = src.line_of(id.start());
        let range = src.lines_range(line.saturating_sub(PAIR_LINES), line + PAIR_LINES);
        if near.last().is_some_and(|r| r.end >= range.start) {
            let last = near.last_mut().expect("a range");
            last.end = last.end.max(range.end);
        } else {
            near.push(range);
        }
    }
    for r in near {
        for c in bare.captures_iter(&src.text[r.clone()]) {
            let m = c.get(1).expect("group");
            if ok(m.as_str()) {
                src.token(out, Rule::AwsSecretKey, r.start + m.start(), m.as_str());
            }
        }
    }
}

/// A service-account key file (`"type": "service_account"`) with its private key: one finding,
/// at the `private_key` line.
fn gcp_service_accounts(src: &Source, out: &mut Vec<Finding>) {
    static TYPE: OnceLock<regex::Regex> = OnceLock::new();
    static KEY: OnceLock<regex::Regex> = OnceLock::new();
    let ty = TYPE.get_or_init(|| re(r#"\\?"type\\?"\s*:\s*\\?"service_account\\?""#));
    let key = KEY.get_or_init(|| re(r#""private_key"\s*:\s*"([^"\n]+)""#));
    if !ty.is_match(src.text) {
        return;
    }
    for c in key.captures_iter(src.text) {
        let m = c.get(1).expect("group");
        let v = m.as_str();
        let body: String = v
            .replace("\\n", "\n")
            .lines()
            .filter(|l| !l.contains("-----"))
            .collect();
        let b64 = body
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
            .count();
        if v.contains("PRIVATE KEY") && b64 >= 64 && !body.contains("...") && !looks_fake(&body) {
            src.token(out, Rule::GcpServiceAccount, m.start(), v);
        }
    }
}

fn gcp_api_keys(src: &Source, out: &mut Vec<Finding>) {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| re(r"\b(AIza[0-9A-Za-z_-]{35})(?:$|[^0-9A-Za-z_-])"));
    for c in re.captures_iter(src.text) {
        let m = c.get(1).expect("group");
        if !looks_fake(&m.as_str()[4..]) {
            src.token(out, Rule::GcpApiKey, m.start(), m.as_str());
        }
    }
}

/// A storage account key (`AccountKey=`, 64 bytes of base64) or a Service Bus / Event Hubs
/// shared access key (`SharedAccessKey=`, 32 bytes), in a connection string. Azurite's
/// published development key (`AccountName=devstoreaccount1`) is not one.
fn azure_keys(src: &Source, out: &mut Vec<Finding>) {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        re(r"(?i)\b(?:AccountKey=([A-Za-z0-9+/]{86}==)|SharedAccessKey=([A-Za-z0-9+/]{43}=))")
    });
    for c in re.captures_iter(src.text) {
        let m = c.get(1).or_else(|| c.get(2)).expect("a group");
        let line = src.line_at(m.start());
        if !line.to_ascii_lowercase().contains("devstoreaccount1") && !looks_fake(m.as_str()) {
            src.token(out, Rule::AzureStorageKey, m.start(), m.as_str());
        }
    }
}
