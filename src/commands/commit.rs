//! `kubectl vault commit`: generate into the GitOps repository and commit, safely.

use crate::commands::args::SpecArgs;
use crate::core::commit::{self, Action, Change};
use crate::core::tree::ObjectRef;
use crate::edge::git::{self, Plan};
use crate::error::{Error, Exit};
use crate::pipeline;
use crate::term::Term;
use clap::Args;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Args)]
pub(crate) struct CommitArgs {
    #[command(flatten)]
    pub(crate) spec: SpecArgs,
    /// The checkout of the Flux repository (its work tree root).
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub(crate) repo: PathBuf,
    /// Commit on this branch instead of the current one. A branch that is not checked out is
    /// committed to without touching the work tree.
    #[arg(long, value_name = "NAME")]
    pub(crate) branch: Option<String>,
    /// Create --branch from the current HEAD when it does not exist.
    #[arg(long, requires = "branch")]
    pub(crate) create_branch: bool,
    /// Show the diff and the summary; change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// With --dry-run: exit 1 when there are changes (for CI).
    #[arg(long, requires = "dry_run")]
    pub(crate) exit_code: bool,
    /// Overwrite generated files that were edited by hand, and files the tool did not write.
    #[arg(long)]
    pub(crate) force: bool,
    /// Push the branch after committing (also when there was nothing new to commit), with your
    /// own Git credentials.
    #[arg(long)]
    pub(crate) push: bool,
    /// The remote to push to.
    #[arg(long, value_name = "NAME", default_value = "origin", requires = "push")]
    pub(crate) remote: String,
    /// Commit although the repository has commit hooks (pre-commit, prepare-commit-msg,
    /// commit-msg, post-commit, reference-transaction). kubectl-vault never runs hooks;
    /// without this flag it refuses to commit in a repository that has them.
    #[arg(long)]
    pub(crate) no_verify: bool,
    /// How long to wait for another run on the same repository before giving up.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    pub(crate) lock_timeout: u64,
}

pub(crate) fn run(args: CommitArgs, term: &Term) -> Result<Exit, Error> {
    let generated = pipeline::generate_all(&args.spec.file, &args.spec.options())?;
    let clusters = generated.clusters();
    term.warnings_summary(&generated.warnings);
    let repo = git::open(&args.repo)?;
    let _lock = git::RepoLock::acquire(&repo, Duration::from_secs(args.lock_timeout))?;
    let roots = generated.roots();
    let plan = git::plan(
        &repo,
        &generated.tree,
        &git::Options {
            branch: args.branch.as_deref(),
            create_branch: args.create_branch,
            roots: &roots,
            clusters: &clusters,
        },
    )?;
    let color = term.color_out();

    if !plan.conflicts.is_empty() && !args.force {
        let mut msg = String::new();
        for c in &plan.conflicts {
            msg.push_str(&format!("{}: {}\n", c.path, c.reason));
            msg.push_str(&unified_diff(&c.path, &c.current, &c.wanted, false));
        }
        msg.push_str(&format!(
            "refusing to commit: {} file{} would lose changes nobody generated; nothing was changed",
            plan.conflicts.len(),
            if plan.conflicts.len() == 1 { "" } else { "s" }
        ));
        return Err(Error::check_failed(msg)
            .with_hint("move hand edits into the spec (or --templates); --force overwrites them"));
    }

    // Everything the run does happens before anything is printed: a closed stdout
    // (`commit ... | head -1`) can neither stop the push nor leave it half done.
    let mut report = Report::default();
    let message = commit_message(&clusters.join(","), &plan.changes, &generated.tree.objects);
    if plan.is_empty() {
        report.line(format!(
            "{} is up to date: the spec's tree is already committed on {}",
            args.repo.display(),
            plan.branch
        ));
    } else if args.dry_run {
        for c in &plan.changes {
            report.text(unified_diff(
                &c.path,
                c.old.as_deref().unwrap_or(""),
                c.new.as_deref().unwrap_or(""),
                color,
            ));
        }
        report.line(summary(&plan, &message));
        report.line("the commit message would be:".into());
        for line in message.lines() {
            report.line(format!("  {line}").trim_end().to_string());
        }
        report.line("dry run: nothing was changed".into());
    } else {
        let hooks = if args.no_verify {
            git::Hooks::Skip
        } else {
            git::Hooks::Refuse
        };
        let id = git::apply(&repo, &plan, &message, hooks)?;
        report.line(format!(
            "committed {} on {}: {}",
            &id.to_string()[..12],
            plan.branch,
            message.lines().next().unwrap_or_default()
        ));
        report.line(summary(&plan, &message));
    }
    if args.dry_run {
        if args.push {
            report.line(format!("dry run: {} was not pushed", plan.branch));
        }
        report.print(term);
        if args.exit_code && !plan.is_empty() {
            return Ok(Exit::CheckFailed);
        }
        return Ok(Exit::Ok);
    }
    if args.push {
        // Also when nothing was committed: the branch may be ahead of the remote.
        match git::push(&repo, &args.remote, &plan.branch) {
            Ok(pushed) => report.line(pushed.describe(&plan.branch, &args.remote)),
            Err(e) => {
                report.print(term);
                return Err(e);
            }
        }
    }
    report.print(term);
    Ok(Exit::Ok)
}

/// What the run prints, held until the run's work is done.
#[derive(Default)]
struct Report(String);

impl Report {
    fn line(&mut self, line: String) {
        self.0.push_str(&line);
        self.0.push('\n');
    }
    fn text(&mut self, text: String) {
        self.0.push_str(&text);
    }
    /// Writes to stdout; a reader that went away (EPIPE) is not an error of the run, whose
    /// work is already done.
    fn print(self, term: &Term) {
        let _ = term.out(self.0);
    }
}

fn summary(plan: &Plan, _message: &str) -> String {
    let count = |a: Action| plan.changes.iter().filter(|c| c.action == a).count();
    let mut s = format!(
        "{} added, {} updated, {} removed",
        count(Action::Add),
        count(Action::Update),
        count(Action::Remove)
    );
    for c in &plan.changes {
        let mark = match c.action {
            Action::Add => 'A',
            Action::Update => 'M',
            Action::Remove => 'D',
        };
        // A path is the repository's content: escaped and bounded for the terminal.
        s.push_str(&format!(
            "\n  {mark} {}",
            crate::core::outside::shown(&c.path)
        ));
    }
    s
}

const SECRET_KINDS: [&str; 3] = ["VaultStaticSecret", "VaultDynamicSecret", "VaultPKISecret"];

/// `vault(homelab): add 2 secrets, update VaultAuth webapp` plus a file list.
pub(crate) fn commit_message(
    cluster: &str,
    changes: &[Change],
    objects: &BTreeMap<String, ObjectRef>,
) -> String {
    let described = commit::describe(changes, objects);
    let mut parts = Vec::new();
    for (action, verb) in [
        (Action::Add, "add"),
        (Action::Update, "update"),
        (Action::Remove, "remove"),
    ] {
        let Some(objects) = described.get(&action) else {
            continue;
        };
        let secrets = objects
            .iter()
            .filter(|(k, _)| SECRET_KINDS.contains(&k.as_str()))
            .count();
        let others: Vec<String> = objects
            .iter()
            .filter(|(k, _)| !SECRET_KINDS.contains(&k.as_str()))
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let mut words = Vec::new();
        if secrets > 0 {
            words.push(format!(
                "{secrets} secret{}",
                if secrets == 1 { "" } else { "s" }
            ));
        }
        if others.len() > 3 {
            words.push(format!("{} objects", others.len()));
        } else {
            words.extend(others);
        }
        if !words.is_empty() {
            parts.push(format!("{verb} {}", words.join(", ")));
        }
    }
    if parts.is_empty() {
        parts.push("update the generated configuration".into());
    }
    let mut msg = format!(
        "vault({cluster}): {}\n\nGenerated by kubectl-vault {}.\n\n",
        parts.join(", "),
        env!("CARGO_PKG_VERSION")
    );
    for c in changes {
        let mark = match c.action {
            Action::Add => "add",
            Action::Update => "update",
            Action::Remove => "remove",
        };
        msg.push_str(&format!("- {mark} {}\n", c.path));
    }
    msg
}

/// A unified diff of one file, coloured for a terminal.
pub(crate) fn unified_diff(path: &str, old: &str, new: &str, color: bool) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string();
    if !color {
        return text;
    }
    text.lines()
        .map(|l| {
            let code = if l.starts_with("+++") || l.starts_with("---") {
                "1"
            } else if l.starts_with('+') {
                "32"
            } else if l.starts_with('-') {
                "31"
            } else if l.starts_with("@@") {
                "36"
            } else {
                return format!("{l}\n");
            };
            format!("\x1b[{code}m{l}\x1b[0m\n")
        })
        .collect()
}
