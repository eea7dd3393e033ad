//! The allow-list: reviewed findings, by fingerprint, each with an optional reason and expiry
//! date; and the baseline (`scan --baseline FILE`), an allow-list of every current finding.
//!
//! The format, one entry per line (`#` starts a comment outside quotes; a file of bare
//! fingerprints, the first format, reads as it always did):
//!
//! ```text
//! # reviewed 2026-11-23
//! 0bc8dd65d90bfea8de86dc8e  # a test value
//! 3a033f25c00e973a04683458  expires=2027-03-31  reason="rotated, history purge planned"
//! 9554113f5ea851cdc8fed0a0  rule=connection-string  path="docs/setup.md"  reason="baseline"
//! ```
//!
//! An entry allows its fingerprint wherever it is found (`rule` and `path` are notes for the
//! reader); from the day after `expires` it allows nothing and is reported, and the run fails.

use super::{is_fingerprint, Entry};
use std::collections::{BTreeMap, BTreeSet};

/// A calendar date (UTC), as `expires=` writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// `YYYY-MM-DD`, a day that exists.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = &s[r];
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())
                .flatten()
        };
        let (year, month, day) = (num(0..4)? as i32, num(5..7)?, num(8..10)?);
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days)
            .contains(&day)
            .then_some(Date { year, month, day })
    }

    /// The date `days` after 1970-01-01 (days since the Unix epoch, as the clock gives them).
    pub fn from_unix_days(days: i64) -> Date {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// One line of the allow-list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowEntry {
    pub fingerprint: String,
    /// 1-based line in the file.
    pub line: usize,
    pub reason: Option<String>,
    /// The last day it allows (UTC).
    pub expires: Option<Date>,
    pub rule: Option<String>,
    pub path: Option<String>,
}

/// Reviewed fingerprints.
#[derive(Debug, Default, Clone)]
pub struct AllowList {
    pub entries: Vec<AllowEntry>,
}

const FIELDS_HINT: &str = "fields: reason=\"…\", expires=YYYY-MM-DD, rule=RULE, path=\"PATH\"";

impl AllowList {
    /// Parses an allow-list file; the error is the 1-based line and what is wrong there. The
    /// line itself is never part of the error: the file is the repository's, and may hold
    /// anything (a token pasted by mistake).
    pub fn parse(text: &str) -> Result<AllowList, (usize, String)> {
        let mut out = AllowList::default();
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let tokens = tokens(line).map_err(|e| (n, e.to_string()))?;
            let Some((first, rest)) = tokens.split_first() else {
                continue;
            };
            if first.1.is_some() || !is_fingerprint(&first.0) {
                return Err((
                    n,
                    "not a scan fingerprint (24 lower-case hex digits, as `scan` prints them)"
                        .to_string(),
                ));
            }
            let mut entry = AllowEntry {
                fingerprint: first.0.clone(),
                line: n,
                reason: None,
                expires: None,
                rule: None,
                path: None,
            };
            for (key, value) in rest {
                let Some(value) = value else {
                    return Err((
                        n,
                        format!("not `field=value` after the fingerprint ({FIELDS_HINT})"),
                    ));
                };
                let slot = match key.as_str() {
                    "reason" => &mut entry.reason,
                    "rule" => &mut entry.rule,
                    "path" => &mut entry.path,
                    "expires" => {
                        let Some(d) = Date::parse(value) else {
                            return Err((n, "expires is not a date (YYYY-MM-DD)".to_string()));
                        };
                        if entry.expires.replace(d).is_some() {
                            return Err((n, "expires is given twice".to_string()));
                        }
                        continue;
                    }
                    _ => return Err((n, format!("an unknown field ({FIELDS_HINT})"))),
                };
                if slot.replace(value.clone()).is_some() {
                    return Err((n, "a field is given twice".to_string()));
                }
            }
            out.entries.push(entry);
        }
        Ok(out)
    }

    /// What the list allows on `today`: the fingerprints of its live entries, and its expired
    /// entries (sorted by line).
    pub fn on(&self, today: Date) -> (BTreeSet<String>, Vec<AllowEntry>) {
        let mut live = BTreeSet::new();
        let mut expired = Vec::new();
        for e in &self.entries {
            match e.expires {
                Some(d) if d < today => expired.push(e.clone()),
                _ => {
                    live.insert(e.fingerprint.clone());
                }
            }
        }
        (live, expired)
    }
}

#[derive(Debug, PartialEq)]
enum TokenError {
    Unclosed,
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::Unclosed => write!(f, "a quoted value is not closed"),
        }
    }
}

/// A line's words before its comment: `word` or `key=value`, the value bare or quoted (`"…"`,
/// with `\"` and `\\`).
fn tokens(line: &str) -> Result<Vec<(String, Option<String>)>, TokenError> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.peek() {
            None | Some('#') => return Ok(out),
            _ => {}
        }
        let mut key = String::new();
        let mut value = None;
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() || c == '#' {
                break;
            }
            chars.next();
            if c == '=' {
                let mut v = String::new();
                if chars.peek() == Some(&'"') {
                    chars.next();
                    loop {
                        match chars.next() {
                            None => return Err(TokenError::Unclosed),
                            Some('"') => break,
                            Some('\\') => match chars.next() {
                                Some(e) => v.push(e),
                                None => return Err(TokenError::Unclosed),
                            },
                            Some(c) => v.push(c),
                        }
                    }
                } else {
                    while let Some(&c) = chars.peek() {
                        if c.is_whitespace() || c == '#' {
                            break;
                        }
                        v.push(c);
                        chars.next();
                    }
                }
                value = Some(v);
                break;
            }
            key.push(c);
        }
        out.push((key, value));
    }
}

fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An allow-list of every finding in `entries` (allowed or not): one line per fingerprint,
/// where it is first found (by path and line), with its rule and path as notes, and the
/// reason and expiry of its entry in `current` when it has one (an expired entry keeps its
/// date: a baseline does not renew it), else a reason saying it is a baseline. No value, nor
/// any part of one: fingerprints, rule ids and paths only.
pub fn baseline(entries: &[Entry], current: &AllowList, today: Date) -> String {
    let mut first: BTreeMap<&str, (&Entry, usize)> = BTreeMap::new();
    for e in entries {
        first
            .entry(e.fingerprint.as_str())
            .and_modify(|(_, n)| *n += 1)
            .or_insert((e, 1));
    }
    let mut rows: Vec<&(&Entry, usize)> = first.values().collect();
    rows.sort_by(|a, b| {
        (&a.0.path, a.0.line, &a.0.fingerprint).cmp(&(&b.0.path, b.0.line, &b.0.fingerprint))
    });
    let mut out = format!(
        "# kubectl vault scan --baseline, {today}: {} finding{} of this repository, allowed as they are.\n\
         # Review each: give it a reason and an expiry (expires=YYYY-MM-DD), or fix it and remove\n\
         # its line. A fingerprint holds no part of the value; rule and path are notes for the\n\
         # reader (an entry allows its fingerprint at any path).\n",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
    for (e, paths) in rows {
        let kept = current
            .entries
            .iter()
            .filter(|a| a.fingerprint == e.fingerprint)
            .max_by_key(|a| (a.reason.is_some(), a.expires));
        out.push_str(&format!(
            "{}  rule={}  path={}",
            e.fingerprint,
            e.rule.id(),
            quoted(&e.path)
        ));
        if let Some(d) = kept.and_then(|a| a.expires) {
            out.push_str(&format!("  expires={d}"));
        }
        let reason = kept
            .and_then(|a| a.reason.clone())
            .unwrap_or_else(|| format!("baseline of {today}, not reviewed"));
        out.push_str(&format!("  reason={}", quoted(&reason)));
        if *paths > 1 {
            out.push_str(&format!(
                "  # and {} more path{}",
                paths - 1,
                if *paths == 2 { "" } else { "s" }
            ));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP: &str = "0123456789abcdef01234567";

    #[test]
    fn dates() {
        assert_eq!(Date::from_unix_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_unix_days(-1).to_string(), "1969-12-31");
        // 2024-02-29, a leap day, and the day after.
        assert_eq!(Date::from_unix_days(19_782).to_string(), "2024-02-29");
        assert_eq!(Date::from_unix_days(19_783).to_string(), "2024-03-01");
        assert_eq!(
            Date::parse("2024-02-29"),
            Some(Date {
                year: 2024,
                month: 2,
                day: 29
            })
        );
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-1-01",
            "26-01-01",
            "2026-01-32",
            "2026/01/01",
            "+026-01-01",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
        assert!(Date::parse("2026-12-31") < Date::parse("2027-01-01"));
    }

    /// The first format reads as it always did; fields follow a fingerprint; `#` starts a
    /// comment outside quotes.
    #[test]
    fn entries() {
        let text = format!(
            "# comment\n\n{FP}\n{FP}  # note\n{FP} reason=\"a # in \\\"quotes\\\"\" expires=2027-01-31 rule=jwt path=\"a b/c\" # tail\n"
        );
        let list = AllowList::parse(&text).unwrap();
        assert_eq!(list.entries.len(), 3);
        let e = &list.entries[2];
        assert_eq!(e.line, 5);
        assert_eq!(e.reason.as_deref(), Some("a # in \"quotes\""));
        assert_eq!(e.expires, Date::parse("2027-01-31"));
        assert_eq!(e.rule.as_deref(), Some("jwt"));
        assert_eq!(e.path.as_deref(), Some("a b/c"));
        for (bad, line) in [
            ("not-a-fingerprint\n".to_string(), 1),
            (format!("{FP}\n{FP} expires=2027-02-30\n"), 2),
            (format!("{FP} x=1\n"), 1),
            (format!("{FP} reason=\"open\n"), 1),
            (format!("{FP} word\n"), 1),
            (format!("{FP} expires=2027-01-01 expires=2028-01-01\n"), 1),
            (format!("reason=x {FP}\n"), 1),
        ] {
            assert_eq!(
                AllowList::parse(&bad).map(|_| ()).unwrap_err().0,
                line,
                "{bad}"
            );
        }
    }

    /// An entry allows through its expiry day, and not after.
    #[test]
    fn expiry() {
        let list = AllowList::parse(&format!("{FP} expires=2026-12-07\n")).unwrap();
        let day = |s| Date::parse(s).unwrap();
        assert_eq!(list.on(day("2026-12-07")).0.len(), 1);
        let (live, expired) = list.on(day("2026-12-08"));
        assert!(live.is_empty());
        assert_eq!(expired[0].line, 1);
    }

    /// A baseline is an allow-list of every finding, which keeps the reasons and dates of the
    /// current list's entries.
    #[test]
    fn baselines() {
        use crate::secrets_scan::Rule;
        let entry = |fp: &str, path: &str| Entry {
            fingerprint: fp.to_string(),
            rule: Rule::VaultToken,
            key: "token".into(),
            object: None,
            path: path.into(),
            line: 3,
            commits: vec![],
            in_work_tree: true,
        };
        let other = "abcdefabcdefabcdefabcdef";
        let entries = [
            entry(FP, "b \"q\".yaml"),
            entry(FP, "a.yaml"),
            entry(other, "c.yaml"),
        ];
        let current =
            AllowList::parse(&format!("{other} expires=2001-01-01 reason=\"old\"\n")).unwrap();
        let today = Date::parse("2026-12-07").unwrap();
        let text = baseline(&entries, &current, today);
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines,
            [
                format!("{FP}  rule=vault-token  path=\"b \\\"q\\\".yaml\"  reason=\"baseline of 2026-12-07, not reviewed\"  # and 1 more path"),
                format!("{other}  rule=vault-token  path=\"c.yaml\"  expires=2001-01-01  reason=\"old\""),
            ]
        );
        let back = AllowList::parse(&text).unwrap();
        assert_eq!(back.entries[0].path.as_deref(), Some("b \"q\".yaml"));
        // The expired entry stays expired.
        assert_eq!(back.on(today).1.len(), 1);
    }
}
