//! The checks that stop a run before it writes anything: paths that leave the repository
//! through a symbolic link, locks left by git (or a crashed git), an operation in progress,
//! a branch checked out in another worktree, commit hooks. And the test-only crash points.

use crate::error::Error;
use git2::{Repository, RepositoryState};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Confines work-tree access to the repository, as git does: a generated file that is a
/// symbolic link is accepted only when it resolves inside the work tree and outside `.git`
/// (it is then replaced by the file, as git checkout would); a folder on the way to a
/// generated file must not be a symbolic link at all. Results are cached per folder, so a
/// 9,000-file tree costs one `lstat` per file and one per folder.
pub(crate) struct Confinement {
    workdir: PathBuf,
    root: PathBuf,
    gitdirs: [PathBuf; 2],
    cache: HashMap<String, Option<String>>,
}

impl Confinement {
    pub(crate) fn new(repo: &Repository) -> Result<Confinement, Error> {
        let workdir = repo.workdir().expect("not bare").to_path_buf();
        let canon = |p: &Path| {
            p.canonicalize()
                .map_err(|e| Error::environment(format!("cannot resolve {}: {e}", p.display())))
        };
        Ok(Confinement {
            root: canon(&workdir)?,
            // A linked worktree's own git folder, and the common one.
            gitdirs: [canon(repo.path())?, canon(repo.commondir())?],
            workdir,
            cache: HashMap::new(),
        })
    }

    /// Why `rel` (a `/`-separated path in the work tree) may not be read or written through,
    /// or None when it is safe.
    pub(crate) fn escape(&mut self, rel: &str) -> Option<String> {
        let mut end = 0;
        for part in rel.split('/') {
            end += part.len();
            let prefix = &rel[..end];
            end += 1;
            if let Some(cached) = self.cache.get(prefix) {
                match cached {
                    Some(reason) => return Some(reason.clone()),
                    None => continue,
                }
            }
            let (verdict, stop) = self.check_one(prefix, end > rel.len());
            // Files are not cached: each is checked once anyway.
            if end <= rel.len() {
                self.cache.insert(prefix.to_string(), verdict.clone());
            }
            if verdict.is_some() {
                return verdict;
            }
            if stop {
                break;
            }
        }
        None
    }

    /// (reason to refuse, nothing further down exists).
    fn check_one(&self, prefix: &str, is_file: bool) -> (Option<String>, bool) {
        let full = self.workdir.join(prefix);
        let meta = match std::fs::symlink_metadata(&full) {
            Ok(m) => m,
            Err(_) => return (None, true),
        };
        if !meta.file_type().is_symlink() {
            return (None, false);
        }
        let target = std::fs::read_link(&full)
            .map(|t| t.display().to_string())
            .unwrap_or_default();
        let reason = match full.canonicalize() {
            Err(_) => Some(format!(
                "{prefix} is a symbolic link to {target}, which does not exist"
            )),
            Ok(real) if self.gitdirs.iter().any(|g| real.starts_with(g)) => Some(format!(
                "{prefix} is a symbolic link into the repository's .git folder ({})",
                real.display()
            )),
            Ok(real) if !real.starts_with(&self.root) => Some(format!(
                "{prefix} is a symbolic link to {}, outside the repository",
                real.display()
            )),
            // A linked file is replaced by the new file (rename) or unlinked, as git checkout
            // does; it is only read through, which is fine inside the repository.
            Ok(_) if is_file => None,
            // Git never looks beyond a linked folder (`git add` calls such a path "beyond a
            // symbolic link"): files written through it would show as deleted in git.
            Ok(real) => Some(format!(
                "{prefix} is a symbolic link to the folder {}, inside the repository, but git does not follow links to folders: the files written there would show as deleted in git",
                real.display()
            )),
        };
        (reason, false)
    }
}

/// The error for paths that leave the repository (exit 1: the repository is not in a state
/// the tool may write to; `--force` does not override it).
pub(crate) fn escapes_error(reasons: &[String]) -> Error {
    let mut unique: Vec<&String> = reasons.iter().collect();
    unique.sort();
    unique.dedup();
    let mut msg = String::new();
    for r in unique {
        msg.push_str(r);
        msg.push('\n');
    }
    msg.push_str(
        "refusing to commit: kubectl-vault never reads, writes or deletes through a symbolic link that leaves the repository, nor writes beyond a linked folder (git would not see the files); nothing was changed",
    );
    Error::check_failed(msg)
        .with_hint("replace the link with a real folder or file, then run again")
}

/// Refuses while git is in the middle of a merge, rebase, cherry-pick, revert, bisect or
/// `git am`: a commit now would be built on a state the user has not finished.
pub(crate) fn check_state(repo: &Repository) -> Result<(), Error> {
    let (what, finish) = match repo.state() {
        RepositoryState::Clean => return Ok(()),
        RepositoryState::Merge => ("a merge", "git merge --continue (or --abort)"),
        RepositoryState::Revert | RepositoryState::RevertSequence => {
            ("a revert", "git revert --continue (or --abort)")
        }
        RepositoryState::CherryPick | RepositoryState::CherryPickSequence => {
            ("a cherry-pick", "git cherry-pick --continue (or --abort)")
        }
        RepositoryState::Bisect => ("a bisect", "git bisect reset"),
        RepositoryState::Rebase
        | RepositoryState::RebaseInteractive
        | RepositoryState::RebaseMerge => ("a rebase", "git rebase --continue (or --abort)"),
        RepositoryState::ApplyMailbox | RepositoryState::ApplyMailboxOrRebase => {
            ("git am", "git am --continue (or --abort)")
        }
    };
    Err(Error::usage(format!(
            "{what} is in progress in {}: refusing to commit on top of an unfinished operation; nothing was changed",
            repo.workdir().unwrap_or(repo.path()).display()
        )).with_hint(format!("finish it with {finish}, then run again")))
}

/// The work tree of another worktree that has `branch` checked out (or is rebasing it), as git
/// checks before it moves a branch.
pub(crate) fn checked_out_elsewhere(repo: &Repository, branch: &str) -> Option<PathBuf> {
    let common = repo.commondir();
    let own = repo.path().canonicalize().ok();
    let refname = format!("refs/heads/{branch}");
    let mut gitdirs = vec![common.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(common.join("worktrees")) {
        gitdirs.extend(entries.flatten().map(|e| e.path()));
    }
    for gitdir in gitdirs {
        if gitdir.canonicalize().ok() == own {
            continue;
        }
        let names = |file: &str| {
            std::fs::read_to_string(gitdir.join(file))
                .ok()
                .map(|s| s.trim().trim_start_matches("ref: ").to_string())
        };
        let holds = ["HEAD", "rebase-merge/head-name", "rebase-apply/head-name"]
            .iter()
            .any(|f| names(f).as_deref() == Some(refname.as_str()));
        if !holds {
            continue;
        }
        let worktree = if gitdir == common {
            // A bare repository's HEAD is not a checkout (its linked worktrees are).
            let bare = repo
                .config()
                .and_then(|c| c.get_bool("core.bare"))
                .unwrap_or(false);
            if bare {
                continue;
            }
            common.parent().map(Path::to_path_buf)
        } else {
            // `worktrees/<name>/gitdir` holds the path of the worktree's `.git` file.
            std::fs::read_to_string(gitdir.join("gitdir"))
                .ok()
                .and_then(|p| Path::new(p.trim()).parent().map(Path::to_path_buf))
        };
        return Some(worktree.unwrap_or(gitdir));
    }
    None
}

/// Lock files that make git (and libgit2) refuse to write the index or move the branch. They
/// are left behind when a git process is killed; only the user can know that none is running.
pub(crate) fn check_locks(repo: &Repository, branch: &str, checked_out: bool) -> Result<(), Error> {
    let mut locks = vec![];
    if checked_out {
        locks.push((repo.path().join("index.lock"), "the index"));
    }
    locks.push((
        repo.commondir().join(format!("refs/heads/{branch}.lock")),
        "the branch",
    ));
    for (lock, what) in locks {
        if lock.exists() {
            return Err(lock_error(&lock, what));
        }
    }
    Ok(())
}

pub(crate) fn lock_error(lock: &Path, what: &str) -> Error {
    Error::environment(format!(
        "{} exists: a git command is writing {what} right now, or one was killed while writing it; nothing was changed",
        lock.display(),
    ))
    .with_hint(format!(
        "if no git command is running in this repository, remove it (rm {}) and run again",
        lock.display()
    ))
}

/// The hooks `git commit` runs.
const COMMIT_HOOKS: [&str; 5] = [
    "pre-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "reference-transaction",
];

/// The commit hooks git would run in this repository (executable files in `core.hooksPath` or
/// `.git/hooks`; git ignores hooks that are not executable, and so does this check).
pub(crate) fn commit_hooks(repo: &Repository) -> Vec<PathBuf> {
    let config = repo.config().ok();
    let dir = config
        .as_ref()
        .and_then(|c| c.get_path("core.hooksPath").ok())
        .map(|p| match (p.is_relative(), repo.workdir()) {
            (true, Some(w)) => w.join(p),
            _ => p,
        })
        .unwrap_or_else(|| repo.commondir().join("hooks"));
    COMMIT_HOOKS
        .iter()
        .map(|h| dir.join(h))
        .filter(|p| is_executable(p))
        .collect()
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

/// Whether commits must be signed (`commit.gpgsign`), as `git commit` reads it.
pub(crate) fn signing_required(repo: &Repository) -> bool {
    repo.config()
        .ok()
        .and_then(|c| c.get_bool("commit.gpgsign").ok())
        .unwrap_or(false)
}

/// The named points where `apply` can be made to abort, to test recovery from a kill there.
///
/// TEST-ONLY, and only in a build with the `fault-injection` feature (scripts/test.sh): the
/// integration tests set `KUBECTL_VAULT_TEST_ABORT_AT=<point>`; the process then aborts (like a
/// `kill -9`: no destructor, no cleanup) when it reaches that point. A release build has no
/// such switch.
#[cfg(feature = "fault-injection")]
pub(crate) fn crash_point(name: &str) {
    if std::env::var_os("KUBECTL_VAULT_TEST_ABORT_AT").is_some_and(|v| v == name) {
        std::process::abort();
    }
}

#[cfg(not(feature = "fault-injection"))]
pub(crate) fn crash_point(_name: &str) {}
