//! `scan`'s report as a table, JSON or SARIF: findings (never a value), what was allowed and
//! what allow-list entries expired, what was not read or parsed, where a shallow history ends.

use crate::core::secrets_scan::sarif::{self as sarif_log, Note};
use crate::core::secrets_scan::{AllowEntry, Entry, Shallow, Unread};
use crate::edge::git::history::History;

/// Files named per list in the table (`-o json` names them all).
const LISTED: usize = 20;

/// What one run found and how it went.
pub(super) struct Report<'a> {
    /// The findings the allow-list does not allow.
    pub(super) entries: &'a [Entry],
    /// Distinct fingerprints the allow-list allowed.
    pub(super) allowed: usize,
    pub(super) expired: &'a [AllowEntry],
    /// The allow-list as the report names it.
    pub(super) allow_file: &'a str,
    pub(super) scanned: &'a History,
    /// `history`, `work-tree` or `staged`.
    pub(super) scope: &'static str,
    pub(super) allow_shallow: bool,
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

pub(super) fn table(r: &Report) -> String {
    let h = r.scanned;
    let staged = r.scope == "staged";
    let mut header = vec!["FINGERPRINT", "RULE", "FILE", "KEY", "SECRET"];
    if !staged {
        header.extend(["COMMITS", "WORK TREE"]);
    }
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for e in r.entries {
        let mut row = vec![
            e.fingerprint.clone(),
            e.rule.id().to_string(),
            format!("{}:{}", e.path, e.line),
            e.key.clone(),
            e.object.clone().unwrap_or_else(|| "-".into()),
        ];
        if !staged {
            row.push(match e.commits.first() {
                None => "-".to_string(),
                Some(first) if e.commits.len() == 1 => short(first).to_string(),
                Some(first) => format!("{} +{}", short(first), e.commits.len() - 1),
            });
            row.push(if e.in_work_tree { "yes" } else { "no" }.into());
        }
        rows.push(row);
    }
    let mut out = String::new();
    if !r.entries.is_empty() {
        let widths: Vec<usize> = (0..rows[0].len())
            .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
            .collect();
        for row in &rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    let n = r.entries.len();
    if staged {
        out.push_str(&format!(
            "{n} finding{} in the staged changes; {} file content{} scanned",
            plural(n),
            h.blobs,
            plural(h.blobs),
        ));
    } else {
        let live = r.entries.iter().filter(|e| e.in_work_tree).count();
        out.push_str(&format!(
            "{n} finding{} ({live} in the work tree, {} only in history); {} commit{}, {} file content{} scanned",
            plural(n),
            n - live,
            h.commits,
            plural(h.commits),
            h.blobs,
            plural(h.blobs),
        ));
    }
    if !h.unread.is_empty() {
        out.push_str(&format!(
            ", {} file{} not read",
            h.unread.len(),
            plural(h.unread.len())
        ));
    }
    if !h.unparsed.is_empty() {
        out.push_str(&format!(
            ", {} file{} not parsed as YAML",
            h.unparsed.len(),
            plural(h.unparsed.len())
        ));
    }
    if r.allowed > 0 || !r.expired.is_empty() {
        out.push_str(&format!("; {} allowed by the allow-list", r.allowed));
    }
    if !r.expired.is_empty() {
        out.push_str(&format!(", {} of its entries expired", r.expired.len()));
    }
    out.push('\n');
    let unparsed: Vec<String> = h
        .unparsed
        .iter()
        .map(|(path, u)| format!("{path}:{}: {}", u.line, u.reason))
        .collect();
    let unread: Vec<String> = h
        .unread
        .iter()
        .map(|(path, why)| format!("{path}: {}", why.reason()))
        .collect();
    let expired: Vec<String> = r
        .expired
        .iter()
        .map(|a| expired_line(r.allow_file, a))
        .collect();
    list(&mut out, "not read", &unread);
    list(&mut out, "not parsed as YAML (scanned as text)", &unparsed);
    list(&mut out, "allow-list", &expired);
    if let Some(s) = &h.shallow {
        out.push_str(&shallow_line(s));
    }
    if !h.unread.is_empty() {
        out.push_str(
            "hint: a file that was not read was not scanned and may hold a secret: check it another way; --exit-zero reports without failing\n",
        );
    }
    if h.shallow.is_some() && !r.allow_shallow {
        out.push_str(
            "hint: fetch the whole history (git fetch --unshallow; actions/checkout: fetch-depth: 0), or pass --allow-shallow to scan only what was fetched\n",
        );
    }
    if !r.expired.is_empty() {
        out.push_str(
            "hint: an expired entry allows nothing and fails the run: review its finding again and give the entry a later expires=, or fix the finding and remove the entry\n",
        );
    }
    if !r.entries.is_empty() {
        out.push_str(if staged {
            "hint: unstage the file (git restore --staged FILE), keep the value in Vault instead (kubectl vault import for a Secret), then stage again; allow-list a reviewed finding by its fingerprint in .kubectl-vault-allow\n"
        } else {
            "hint: move each live Secret into Vault (kubectl vault import), rotate every value found, then purge the history (docs: purging-history.md); allow-list a reviewed finding by its fingerprint in .kubectl-vault-allow\n"
        });
    }
    out
}

/// An expired allow-list entry, by file, line and fingerprint (never its reason: the file is
/// the repository's text).
fn expired_line(file: &str, a: &AllowEntry) -> String {
    format!(
        "{file}:{}: {} expired on {}; it allows nothing now",
        a.line,
        a.fingerprint,
        a.expires.map(|d| d.to_string()).unwrap_or_default()
    )
}

/// Where a shallow history ends, and what that leaves unseen.
fn shallow_line(s: &Shallow) -> String {
    let n = s.boundary.len();
    let mut ids: Vec<&str> = s.boundary.iter().take(LISTED).map(|id| short(id)).collect();
    if n > LISTED {
        ids.push("…");
    }
    let ends = if n == 0 {
        "its boundary commits could not be read".to_string()
    } else {
        format!(
            "it ends at {n} commit{} ({}) whose {} parent{} {} not fetched",
            plural(n),
            ids.join(", "),
            s.missing_parents,
            plural(s.missing_parents),
            if s.missing_parents == 1 {
                "was"
            } else {
                "were"
            },
        )
    };
    format!("history is shallow: {ends}; older commits were not scanned\n")
}

/// One line per item, `title: item`, at most [`LISTED`].
fn list(out: &mut String, title: &str, items: &[String]) {
    for item in items.iter().take(LISTED) {
        out.push_str(&format!("{title}: {item}\n"));
    }
    if items.len() > LISTED {
        out.push_str(&format!(
            "{title}: and {} more (-o json lists them all)\n",
            items.len() - LISTED
        ));
    }
}

pub(super) fn json(r: &Report) -> String {
    let h = r.scanned;
    let findings: Vec<serde_json::Value> = r
        .entries
        .iter()
        .map(|e| {
            serde_json::json!({
                "fingerprint": e.fingerprint,
                "rule": e.rule.id(),
                "path": e.path,
                "line": e.line,
                "key": e.key,
                "secret": e.object,
                "commits": e.commits,
                "inWorkTree": e.in_work_tree,
            })
        })
        .collect();
    let v = serde_json::json!({
        "scope": r.scope,
        "shallow": h.shallow.is_some(),
        "shallowBoundary": h.shallow.as_ref().map(|s| s.boundary.clone()).unwrap_or_default(),
        "shallowMissingParents": h.shallow.as_ref().map_or(0, |s| s.missing_parents),
        "findings": findings,
        "allowed": r.allowed,
        "expiredAllowEntries": r.expired.iter().map(|a| serde_json::json!({
            "file": r.allow_file,
            "line": a.line,
            "fingerprint": a.fingerprint,
            "expires": a.expires.map(|d| d.to_string()),
        })).collect::<Vec<_>>(),
        "scanned": {
            "commits": h.commits,
            "blobs": h.blobs,
            "skippedLarge": h.unread.iter().filter(|(_, why)| *why == Unread::TooLarge).count(),
            "unread": h.unread.len(),
            "unparsed": h.unparsed.len(),
        },
        "unread": h.unread.iter().map(|(path, why)| serde_json::json!({
            "path": path,
            "reason": why.reason(),
        })).collect::<Vec<_>>(),
        "unparsed": h.unparsed.iter().map(|(path, u)| serde_json::json!({
            "path": path,
            "line": u.line,
            "reason": u.reason,
        })).collect::<Vec<_>>(),
    });
    let mut s = serde_json::to_string_pretty(&v).expect("JSON of plain values");
    s.push('\n');
    s
}

pub(super) fn sarif(r: &Report) -> String {
    let h = r.scanned;
    let mut notes = Vec::new();
    for (path, why) in &h.unread {
        notes.push(Note {
            level: "error",
            text: format!("{path} was not read (so not scanned): {}", why.reason()),
            path: Some(path.clone()),
        });
    }
    for (path, u) in &h.unparsed {
        notes.push(Note {
            level: "warning",
            text: format!(
                "{path}:{}: not parsed as YAML ({}); scanned as text",
                u.line, u.reason
            ),
            path: Some(path.clone()),
        });
    }
    if let Some(s) = &h.shallow {
        notes.push(Note {
            level: if r.allow_shallow { "warning" } else { "error" },
            text: shallow_line(s).trim_end().to_string(),
            path: None,
        });
    }
    for a in r.expired {
        notes.push(Note {
            level: "error",
            text: format!("allow-list: {}", expired_line(r.allow_file, a)),
            path: None,
        });
    }
    let run = sarif_log::Run {
        scope: r.scope,
        commits: h.commits,
        file_contents: h.blobs,
        allowed: r.allowed,
    };
    let v = sarif_log::sarif(r.entries, env!("CARGO_PKG_VERSION"), &run, &notes);
    let mut s = serde_json::to_string_pretty(&v).expect("JSON of plain values");
    s.push('\n');
    s
}
