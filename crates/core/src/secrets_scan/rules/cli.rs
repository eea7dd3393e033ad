//! Credentials handed to a program: a command line's `curl -u user:password`,
//! `--password value` (and `--token`, `--api-key`, `--secret`), and HTTP `Authorization: Basic`
//! headers.

use super::url::is_password;
use super::{key_of, re, Detector, Source};
use crate::secrets_scan::values::is_placeholder;
use crate::secrets_scan::{Finding, Rule};
use std::sync::OnceLock;

pub(super) const DETECTORS: &[Detector] = &[
    Detector {
        rule: Rule::BasicAuth,
        keywords: &["basic "],
        find: basic_auth,
    },
    Detector {
        rule: Rule::CliPassword,
        keywords: &[
            "-u ",
            "--user",
            "--pass",
            "--token",
            "--api-key",
            "--secret",
        ],
        find: arguments,
    },
];

fn arguments(src: &Source, out: &mut Vec<Finding>) {
    static USER: OnceLock<regex::Regex> = OnceLock::new();
    static FLAG: OnceLock<regex::Regex> = OnceLock::new();
    let user = USER.get_or_init(|| {
        re(r#"(?:^|[\s(])(?:-u|--user)\s+['"]?([^\s:'"`$]{1,64}):([^\s'"`]{1,256})"#)
    });
    let flag = FLAG.get_or_init(|| {
        re(r#"(?:^|[\s(])--(?:password|passwd|pass|token|api-key|secret)(?:=|\s+)['"]?([^\s'"`]{1,256})"#)
    });
    for re in [user, flag] {
        for c in re.captures_iter(src.text) {
            // `-u user:password`: the password is the second group; `--password value`: the first.
            let m = c.get(2).or_else(|| c.get(1)).expect("group");
            let name = c.get(2).and(c.get(1)).map(|u| u.as_str());
            // A sentence's punctuation is not part of the value.
            let v = m.as_str().trim_end_matches([',', ';', ')', '.', ':']);
            // `docker run -u 1000:1000`, `-u app:app`: a user and a group, not a password.
            let user_and_group = name == Some(v) || v.bytes().all(|b| b.is_ascii_digit());
            if is_password(v) && v.len() >= 4 && !v.starts_with('-') && !user_and_group {
                let key = key_of(src.line_at(m.start())).unwrap_or("argument");
                src.keyed(out, Rule::CliPassword, m.start(), key, v.as_bytes());
            }
        }
    }
}

fn basic_auth(src: &Source, out: &mut Vec<Finding>) {
    use base64::Engine;
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| re(r"(?i)\bauthorization\s*:\s*basic\s+([A-Za-z0-9+/]{8,}={0,2})"));
    for c in re.captures_iter(src.text) {
        let m = c.get(1).expect("group");
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(m.as_str()) else {
            continue;
        };
        let Ok(pair) = String::from_utf8(raw) else {
            continue;
        };
        if let Some((_, password)) = pair.split_once(':') {
            if password.len() >= 4 && !is_placeholder(password) {
                src.token(out, Rule::BasicAuth, m.start(), &pair);
            }
        }
    }
}
