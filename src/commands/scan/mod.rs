//! `kubectl vault scan`: the plaintext secrets a GitOps repository holds and ever held, or
//! what the next commit would add (`--staged`). The report (table, JSON, SARIF) is
//! `report.rs`'s.

mod report;

use crate::core::secrets_scan::{self, AllowList, Date};
use crate::edge::git::{history, staged};
use crate::error::{Error, Exit};
use crate::term::Term;
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};

/// The allow-list read from the repository's root when `--allow` is not given.
pub(crate) const ALLOW_FILE: &str = ".kubectl-vault-allow";
/// Largest allow-list file read.
const ALLOW_BYTES: u64 = 1024 * 1024;

/// `scan`'s output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ScanOutput {
    /// A table, for people.
    Table,
    /// JSON, for scripts.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other services that ingest it.
    Sarif,
}

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// The Git repository to scan (its work tree and every commit reachable from any ref).
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub(crate) repo: PathBuf,
    /// Reviewed findings to leave out: one fingerprint per line, optionally with
    /// reason="…" and expires=YYYY-MM-DD; `#` comments (default: .kubectl-vault-allow at the
    /// repository's root, when it exists).
    #[arg(long, value_name = "FILE")]
    pub(crate) allow: Option<PathBuf>,
    /// Only the work tree, not the history.
    #[arg(long)]
    pub(crate) no_history: bool,
    /// Only what the next commit would add: the staged content (the index against HEAD), not
    /// the work tree nor the history. For a pre-commit hook.
    #[arg(long, conflicts_with = "no_history")]
    pub(crate) staged: bool,
    /// Output format (json: for scripts, a failure is then a JSON error object on stdout too;
    /// sarif: SARIF 2.1.0 for code scanning).
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub(crate) output: ScanOutput,
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
    /// Write every current finding to FILE as an allow-list (fingerprint, rule and path; no
    /// value), to adopt scan on a repository without fixing its history first. The report is
    /// then the next run's with FILE as its allow-list.
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,
    /// With --baseline: replace FILE if it exists.
    #[arg(long, requires = "baseline")]
    pub(crate) force: bool,
}

impl ScanArgs {
    pub(crate) fn wants_json(&self) -> bool {
        self.output == ScanOutput::Json
    }

    fn scope(&self) -> &'static str {
        if self.staged {
            "staged"
        } else if self.no_history {
            "work-tree"
        } else {
            "history"
        }
    }
}

pub(crate) fn run(args: ScanArgs, term: &Term) -> Result<Exit, Error> {
    let (mut allow, mut allow_name) = read_allow(&args)?;
    let today = today();
    let mut scanned = if args.staged {
        staged::scan(&args.repo)?
    } else {
        history::scan(&args.repo, !args.no_history)?
    };
    let entries = secrets_scan::report(std::mem::take(&mut scanned.found));
    let mut wrote = None;
    if let Some(file) = &args.baseline {
        let text = secrets_scan::baseline(&entries, &allow, today);
        write_baseline(file, &text, args.force)?;
        allow = AllowList::parse(&text).expect("a baseline is an allow-list");
        allow_name = file.display().to_string();
        wrote = Some(allow.entries.len());
    }
    let (live, expired) = allow.on(today);
    let (entries, allowed) = secrets_scan::unallowed(entries, &live);
    let r = report::Report {
        entries: &entries,
        allowed,
        expired: &expired,
        allow_file: &allow_name,
        scanned: &scanned,
        scope: args.scope(),
        allow_shallow: args.allow_shallow,
    };
    let text = match args.output {
        ScanOutput::Table => report::table(&r),
        ScanOutput::Json => report::json(&r),
        ScanOutput::Sarif => report::sarif(&r),
    };
    term.out(text)?;
    if let (Some(n), Some(file)) = (wrote, &args.baseline) {
        let next = if file.file_name() == Some(std::ffi::OsStr::new(ALLOW_FILE)) {
            "commit it: the next runs read it".to_string()
        } else {
            format!(
                "commit it as {ALLOW_FILE}, or pass --allow {}",
                file.display()
            )
        };
        let line = format!(
            "baseline: {n} fingerprint{} written to {} (rule and path noted, no value); {next}",
            if n == 1 { "" } else { "s" },
            file.display(),
        );
        match args.output {
            ScanOutput::Table => term.outln(line)?,
            _ => term.err(format!("{line}\n")),
        }
    }
    let fails = secrets_scan::fails(
        entries.len(),
        scanned.unread.len(),
        scanned.shallow.is_some(),
        args.allow_shallow,
        expired.len(),
    );
    Ok(if fails && !args.exit_zero {
        Exit::CheckFailed
    } else {
        Exit::Ok
    })
}

/// Today (UTC), as allow-list expiry dates are read.
fn today() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Date::from_unix_days((secs / 86_400) as i64)
}

/// The allow-list, and its name as the report shows it: `--allow FILE`, else
/// `.kubectl-vault-allow` at the repository's root. The committed one is the repository's
/// content, which scan runs on in CI: it is read only as a regular file (no symbolic link, FIFO
/// or device), bounded, and its lines are never echoed.
fn read_allow(args: &ScanArgs) -> Result<(AllowList, String), Error> {
    let (path, explicit) = match &args.allow {
        Some(p) => (p.clone(), true),
        None => (args.repo.join(ALLOW_FILE), false),
    };
    let name = if explicit {
        path.display().to_string()
    } else {
        ALLOW_FILE.to_string()
    };
    if !explicit && std::fs::symlink_metadata(&path).is_err() {
        return Ok((AllowList::default(), name));
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
    let list = AllowList::parse(&text).map_err(|(line, msg)| {
        Error::usage(format!("{}:{line}: {msg}", path.display())).with_hint(
            "one fingerprint per line, optionally followed by reason=\"…\" and expires=YYYY-MM-DD; `#` starts a comment",
        )
    })?;
    Ok((list, name))
}

/// Writes the baseline: never over an existing file unless `force` (then replaced
/// atomically); never half written.
fn write_baseline(file: &Path, text: &str, force: bool) -> Result<(), Error> {
    if file.file_name().is_none() {
        return Err(Error::usage(format!(
            "--baseline {}: not a file name",
            file.display()
        )));
    }
    let exists = std::fs::symlink_metadata(file).is_ok();
    if exists && !force {
        return Err(Error::usage(format!(
            "--baseline {}: the file exists; nothing was written",
            file.display()
        ))
        .with_hint("pass --force to replace it, or name another file"));
    }
    let written = if force {
        crate::edge::fs::write_atomically(file, text.as_bytes(), false)
    } else {
        crate::edge::fs::create_atomically(file, text.as_bytes())
    };
    written.map_err(|e| {
        let msg = format!("--baseline {}: {e}; nothing was written", file.display());
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::usage(msg).with_hint("pass --force to replace it, or name another file")
        } else {
            Error::environment_from(msg, e)
        }
    })
}
