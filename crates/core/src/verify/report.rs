//! `verify`'s report as the user reads it: the table, its columns, the progress counts.

use super::{FluxCheck, Report, SecretRow};
use crate::outside::shown;
use std::collections::BTreeMap;

/// The report as a table and a summary line.
pub fn table(r: &Report) -> String {
    let mut out = String::new();
    for f in &r.flux {
        out.push_str(&flux_line(f, ""));
    }
    out.push('\n');
    let rows: Vec<Vec<String>> = r.secrets.iter().map(secret_cells).collect();
    out.push_str(&columns(&SECRET_HEADERS, &rows));
    let flux_failed = r.flux.iter().filter(|f| !f.ok).count();
    out.push_str(&format!(
        "\n{}/{} secrets synced{}; {}\n",
        r.synced,
        r.total,
        if flux_failed > 0 {
            format!(", {flux_failed} {} check(s) failing", r.engine)
        } else {
            String::new()
        },
        if r.ok { "all good" } else { "NOT SYNCED" }
    ));
    out
}

/// One Flux check as a table line; `prefix` (e.g. a padded cluster column) goes after the mark.
/// What the cluster sent (names, the condition's message) is shown escaped and bounded: an
/// ESC sequence in a message cannot forge an `ok` or erase a `FAIL`.
pub fn flux_line(f: &FluxCheck, prefix: &str) -> String {
    if f.namespace.is_empty() && f.name.is_empty() {
        // Not an object: a fact about the cluster (e.g. that it runs no Vault).
        return format!(
            "{} {prefix}{}: {}\n",
            if f.ok { "ok  " } else { "FAIL" },
            shown(&f.kind),
            shown(&f.detail)
        );
    }
    format!(
        "{} {prefix}{} {}/{}: {}\n",
        if f.ok { "ok  " } else { "FAIL" },
        shown(&f.kind),
        shown(&f.namespace),
        shown(&f.name),
        shown(&f.detail)
    )
}

/// The secrets table's headers, one per cell of [`secret_cells`].
pub const SECRET_HEADERS: [&str; 6] = ["NAMESPACE", "SECRET", "KIND", "SOURCE", "STATUS", "DETAIL"];

/// One secret row's cells, in [`SECRET_HEADERS`]' order.
pub fn secret_cells(s: &SecretRow) -> Vec<String> {
    vec![
        s.namespace.clone(),
        s.secret.clone(),
        s.kind.clone(),
        s.source.clone(),
        s.status.to_string(),
        s.detail.clone(),
    ]
}

/// A header line and the rows under it: every column but the last padded to its widest
/// cell and two spaces, trailing blanks trimmed.
/// Every cell is outside text made safe ([`shown`]): escaped and bounded.
pub fn columns(headers: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| shown(c)).collect())
        .collect();
    let rows = &rows;
    let last = headers.len().saturating_sub(1);
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, c) in row.iter().enumerate().take(last) {
            widths[i] = widths[i].max(c.len());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::new();
        for (i, c) in cells.enumerate() {
            if i < last {
                l.push_str(&format!("{c:<w$}  ", w = widths[i]));
            } else {
                l.push_str(c);
            }
        }
        l.trim_end().to_string() + "\n"
    };
    let mut out = line(&mut headers.iter().copied());
    for row in rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    out
}

/// Counts by status, for the progress line.
pub fn pending(r: &Report) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for s in r.secrets.iter().filter(|s| !s.synced()) {
        *m.entry(s.status.to_string()).or_insert(0) += 1;
    }
    m
}
