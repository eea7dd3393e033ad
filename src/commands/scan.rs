//! `kubectl vault scan`: the plaintext secrets a GitOps repository holds and ever held.

use crate::commands::args::{Output, OutputArgs};
use crate::core::secrets_scan::{self, AllowList, Entry, Unread};
use crate::edge::git::history;
use crate::error::{Error, Exit};
use crate::term::Term;
use clap::Args;
use std::path::PathBuf;

/// The allow-list read from the repository's root when `--allow` is not given.
pub(crate) const ALLOW_FILE: &str = ".kubectl-vault-allow";
/// Largest allow-list file read.
const ALLOW_BYTES: u64 = 1024 * 1024;
/// Files named per list in the table (`-o json` names them all).
const LISTED: usize = 20;

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// The Git repository to scan (its work tree and every commit reachable from any ref).
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub(crate) repo: PathBuf,
    /// Reviewed findings to leave out: one fingerprint per line, `#` comments
    /// (default: .kubectl-vault-allow at the repository's root, when it exists).
    #[arg(long, value_name = "FILE")]
    pub(crate) allow: Option<PathBuf>,
    /// Only the work tree, not the history.
    #[arg(long)]
    pub(crate) no_history: bool,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    /// Exit 1 when anything is found (the default; for scripts that spell it out).
    #[arg(long, conflicts_with = "exit_zero")]
    pub(crate) exit_code: bool,
    /// Exit 0 even when something is found (report only).
    #[arg(long)]
    pub(crate) exit_zero: bool,
    /// Pass on a shallow history (a shallow clone, CI's default checkout): scan what was
    /// fetched; the report still says where the history ends.
    #[arg(long)]
    pub(crate) allow_shallow: bool,
}

pub(crate) fn run(args: ScanArgs, term: &Term) -> Result<Exit, Error> {
    let allow = read_allow(&args)?;
    let mut scanned = history::scan(&args.repo, !args.no_history)?;
    let found = std::mem::take(&mut scanned.found);
    let (entries, allowed) = secrets_scan::report(found, &allow);
    let text = match args.output.output {
        Output::Table => table(&entries, allowed, &scanned, args.allow_shallow),
        Output::Json => json(&entries, allowed, &scanned),
    };
    term.out(text)?;
    let fails = secrets_scan::fails(
        entries.len(),
        scanned.unread.len(),
        scanned.shallow.is_some(),
        args.allow_shallow,
    );
    Ok(if fails && !args.exit_zero {
        Exit::CheckFailed
    } else {
        Exit::Ok
    })
}

/// The allow-list: `--allow FILE`, else `.kubectl-vault-allow` at the repository's root. The
/// committed one is the repository's content, which scan runs on in CI: it is read only as a
/// regular file (no symbolic link, FIFO or device), bounded, and its lines are never echoed.
fn read_allow(args: &ScanArgs) -> Result<AllowList, Error> {
    let (path, explicit) = match &args.allow {
        Some(p) => (p.clone(), true),
        None => (args.repo.join(ALLOW_FILE), false),
    };
    if !explicit && std::fs::symlink_metadata(&path).is_err() {
        return Ok(AllowList::default());
    }
    let bytes = crate::edge::fs::read_regular_file(&path, ALLOW_BYTES, explicit)
        .map_err(|e| Error::usage(format!("{}: {e}", path.display())))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::usage(format!(
            "{}: not UTF-8 text (byte {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })?;
    AllowList::parse(&text).map_err(|(line, msg)| {
        Error::usage(format!("{}:{line}: {msg}", path.display()))
            .with_hint("one fingerprint per line; `#` starts a comment")
    })
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

fn table(entries: &[Entry], allowed: usize, h: &history::History, allow_shallow: bool) -> String {
    let mut rows: Vec<[String; 7]> = vec![[
        "FINGERPRINT".into(),
        "RULE".into(),
        "FILE".into(),
        "KEY".into(),
        "SECRET".into(),
        "COMMITS".into(),
        "WORK TREE".into(),
    ]];
    for e in entries {
        let commits = match e.commits.first() {
            None => "-".to_string(),
            Some(first) if e.commits.len() == 1 => short(first).to_string(),
            Some(first) => format!("{} +{}", short(first), e.commits.len() - 1),
        };
        rows.push([
            e.fingerprint.clone(),
            e.rule.id().to_string(),
            format!("{}:{}", e.path, e.line),
            e.key.clone(),
            e.object.clone().unwrap_or_else(|| "-".into()),
            commits,
            if e.in_work_tree { "yes" } else { "no" }.into(),
        ]);
    }
    let mut out = String::new();
    if !entries.is_empty() {
        let widths: Vec<usize> = (0..7)
            .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
            .collect();
        for r in &rows {
            let mut line = String::new();
            for (i, cell) in r.iter().enumerate() {
                if i + 1 == r.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    let live = entries.iter().filter(|e| e.in_work_tree).count();
    out.push_str(&format!(
        "{} finding{} ({live} in the work tree, {} only in history); {} commit{}, {} file content{} scanned",
        entries.len(),
        plural(entries.len()),
        entries.len() - live,
        h.commits,
        plural(h.commits),
        h.blobs,
        plural(h.blobs),
    ));
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
    if allowed > 0 {
        out.push_str(&format!("; {allowed} allowed by the allow-list"));
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
    list(&mut out, "not read", &unread);
    list(&mut out, "not parsed as YAML (scanned as text)", &unparsed);
    if let Some(s) = &h.shallow {
        out.push_str(&shallow_line(s));
    }
    if !h.unread.is_empty() {
        out.push_str(
            "hint: a file that was not read was not scanned and may hold a secret: check it another way; --exit-zero reports without failing\n",
        );
    }
    if h.shallow.is_some() && !allow_shallow {
        out.push_str(
            "hint: fetch the whole history (git fetch --unshallow; actions/checkout: fetch-depth: 0), or pass --allow-shallow to scan only what was fetched\n",
        );
    }
    if !entries.is_empty() {
        out.push_str(
            "hint: move each live Secret into Vault (kubectl vault import), rotate every value found, then purge the history (docs: purging-history.md); allow-list a reviewed finding by its fingerprint in .kubectl-vault-allow\n",
        );
    }
    out
}

/// Where a shallow history ends, and what that leaves unseen.
fn shallow_line(s: &secrets_scan::Shallow) -> String {
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

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn json(entries: &[Entry], allowed: usize, h: &history::History) -> String {
    let findings: Vec<serde_json::Value> = entries
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
        "shallow": h.shallow.is_some(),
        "shallowBoundary": h.shallow.as_ref().map(|s| s.boundary.clone()).unwrap_or_default(),
        "shallowMissingParents": h.shallow.as_ref().map_or(0, |s| s.missing_parents),
        "findings": findings,
        "allowed": allowed,
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
