//! Passwords in connection strings: a URL's `user:password@` (a `/` in the password, an empty
//! user as in `redis://:password@`), a URL's `?password=` (JDBC), ADO.NET / ODBC
//! `Server=…;Password=…` and libpq's `host=… password=…`.

use super::{key_of, re, Detector, Source};
use crate::secrets_scan::values::is_placeholder;
use crate::secrets_scan::{Finding, Rule};
use std::sync::OnceLock;

pub(super) const DETECTORS: &[Detector] = &[
    Detector {
        rule: Rule::ConnectionString,
        keywords: &["://"],
        find: urls,
    },
    Detector {
        rule: Rule::ConnectionString,
        keywords: &["password=", "pwd="],
        find: key_value_strings,
    },
];

fn urls(src: &Source, out: &mut Vec<Finding>) {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    static QUERY: OnceLock<regex::Regex> = OnceLock::new();
    let url = RE.get_or_init(|| {
        re(r#"\b([A-Za-z][A-Za-z0-9+.-]{1,20})://([^\s/:@'"<>{}\\]{0,256}):([^\s@'"<>\\]{1,256})@[A-Za-z0-9\[\]._-]"#)
    });
    let query = QUERY.get_or_init(|| {
        re(r#"(?i)://[^\s'"<>]*?[?&;](?:password|passwd|pwd)=([^&;\s'"<>]{1,256})"#)
    });
    for c in url.captures_iter(src.text) {
        let m = c.get(3).expect("group");
        if is_password(m.as_str()) {
            push(src, out, m.start(), m.as_str());
        }
    }
    for c in query.captures_iter(src.text) {
        let m = c.get(1).expect("group");
        if is_password(m.as_str()) {
            push(src, out, m.start(), m.as_str());
        }
    }
}

/// `Server=db;Database=app;User Id=app;Password=…;` (ADO.NET, ODBC) and libpq's
/// `host=db user=app password=…`.
fn key_value_strings(src: &Source, out: &mut Vec<Finding>) {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let kv = RE.get_or_init(|| {
        re(r#"(?i)(?:^|[;"'\s])(?:server|data source|host|hostname|dsn)\s*=\s*[^;\s'"]+[^\n]*?[;\s](?:password|pwd)\s*=\s*([^;'"\s]{1,256})"#)
    });
    for c in kv.captures_iter(src.text) {
        let m = c.get(1).expect("group");
        if is_password(m.as_str()) {
            push(src, out, m.start(), m.as_str());
        }
    }
}

fn push(src: &Source, out: &mut Vec<Finding>, at: usize, password: &str) {
    let key = key_of(src.line_at(at)).unwrap_or("url");
    src.keyed(out, Rule::ConnectionString, at, key, password.as_bytes());
}

/// A password, not a reference, a placeholder, or what a URL without one looks like:
/// `host:8080/path@…` (a port and a path), `proxy:3128/http://…`.
pub(super) fn is_password(p: &str) -> bool {
    if is_placeholder(p) || p.starts_with('$') || p.starts_with('%') || p.contains("://") {
        return false;
    }
    match p.split_once('/') {
        Some((before, _)) => !before.bytes().all(|b| b.is_ascii_digit()),
        None => true,
    }
}
