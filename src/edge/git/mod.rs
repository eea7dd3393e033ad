//! The Git edge of `commit`: read what the core's planner ([`crate::core::commit`]) needs from a
//! branch, its index and its work tree, then apply the plan as one commit without disturbing
//! anything else in the repository. Whose file is whose, what is stale and what was edited by
//! hand is the core's decision; this edge reads and writes.
//!
//! Safety rules, in the order they are enforced:
//! - one run at a time per repository (an OS lock on `.git/kubectl-vault.lock`);
//! - the commit is built from the branch's tree plus the generated files (never `git add -A`):
//!   unrelated staged, modified and untracked files stay exactly as they were;
//! - files the tool did not generate (no header) are never modified or deleted; files it did
//!   generate but that were edited by hand since (header hash mismatch, committed or not) stop
//!   the run unless `--force` (the core's plan says which);
//! - nothing is read, written or deleted through a symbolic link that leaves the work tree,
//!   nor written beyond a linked folder (`guard`);
//! - git's own state is respected: operations in progress, other worktrees, stale lock files,
//!   commit hooks (refused) and signing (done by the user's `git`) (`guard`), attributes and
//!   filters (`convert`);
//! - objects are written first, then the work tree (temporary file + rename, restored on
//!   failure), then the index entries of the generated paths, and the branch ref moves last;
//!   a run killed between any two steps is completed by the next one.

mod convert;
mod guard;
pub(crate) mod history;
mod push;
pub(crate) mod staged;

pub(crate) use push::push;

use crate::core::commit::{self, BlobId, Change, Planned, Query, RepoSnapshot};
use crate::core::tree::Tree;
use crate::error::Error;
use git2::{build::TreeUpdateBuilder, FileMode, ObjectType, Oid, Repository, Signature};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The core's plan ([`commit::plan`]) with what applying it needs from Git.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) branch: String,
    /// Whether the branch is checked out (then the work tree and index are updated too).
    pub(crate) checked_out: bool,
    pub(crate) parent: Option<Oid>,
    pub(crate) changes: Vec<Change>,
    pub(crate) conflicts: Vec<commit::Conflict>,
    /// How git converts the paths that are not stored byte for byte (filters, CRLF).
    pub(crate) rules: BTreeMap<String, convert::Rule>,
}

impl Plan {
    pub(crate) fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

pub(crate) struct Options<'a> {
    /// Commit on this branch (default: the current branch).
    pub(crate) branch: Option<&'a str>,
    pub(crate) create_branch: bool,
    /// Folders the tool owns: stale generated files are pruned only inside them.
    pub(crate) roots: &'a [String],
    /// The clusters being generated: only files whose header names one of them are pruned,
    /// and a file another cluster's run generated is never overwritten without `--force`.
    pub(crate) clusters: &'a [String],
}

/// The commit `HEAD` of the repository at `repo` names (verify's `--repo`).
pub(crate) fn head_of(repo: &Path) -> Result<String, Error> {
    let r = Repository::open(repo).map_err(|e| {
        Error::usage(format!(
            "--repo {}: not a Git repository: {}",
            repo.display(),
            e.message()
        ))
    })?;
    let head =
        r.head().ok().and_then(|h| h.target()).ok_or_else(|| {
            Error::usage(format!("--repo {}: HEAD has no commit", repo.display()))
        })?;
    Ok(head.to_string())
}

/// Opens the repository at `path` (its work tree root).
pub(crate) fn open(path: &Path) -> Result<Repository, Error> {
    let repo = Repository::open(path).map_err(|e| {
        Error::usage(format!(
            "{} is not a Git repository: {}",
            path.display(),
            e.message()
        ))
        .with_hint("pass the root of your Flux repository's checkout with --repo")
    })?;
    if repo.is_bare() {
        return Err(Error::usage(format!(
            "{} is a bare repository: commit needs a checkout (clone it, then run again)",
            path.display()
        )));
    }
    Ok(repo)
}

/// An exclusive lock on the repository for the duration of a run: an OS file lock (flock) on
/// `.git/kubectl-vault.lock`. The kernel releases it when the process ends, however it ends, so
/// a run that was killed leaves no stale lock behind. The file itself stays (it is never
/// removed: removing it would let a waiting run lock an unlinked file while a third run locks a
/// new one).
pub(crate) struct RepoLock {
    _file: std::fs::File,
}

impl RepoLock {
    /// Takes the lock, waiting up to `wait` for another run to finish.
    pub(crate) fn acquire(repo: &Repository, wait: Duration) -> Result<RepoLock, Error> {
        let path = repo.path().join("kubectl-vault.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| {
                Error::environment(format!(
                    "cannot create the lock file {}: {e}",
                    path.display()
                ))
            })?;
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(RepoLock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) => {
                    if start.elapsed() >= wait {
                        return Err(Error::environment(format!(
                            "another kubectl-vault run holds {} (waited {}s)",
                            path.display(),
                            wait.as_secs()
                        ))
                        .with_hint("wait for it to finish, or raise --lock-timeout"));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Error::environment(format!(
                        "cannot lock {}: {e}",
                        path.display()
                    )))
                }
            }
        }
    }
}

fn git_err(what: &str) -> impl Fn(git2::Error) -> Error + '_ {
    move |e| Error::environment_from(format!("git: {what}: {}", e.message()), e)
}

/// Resolves the target branch: (short name, checked out?, current tip).
fn target_branch(repo: &Repository, opts: &Options) -> Result<(String, bool, Option<Oid>), Error> {
    let head_branch: Option<String> = match repo.head() {
        Ok(h) if h.is_branch() => h.shorthand().ok().map(str::to_string),
        Ok(_) => None,
        Err(e) if e.code() == git2::ErrorCode::UnbornBranch => {
            // A fresh repository: HEAD names a branch that has no commit yet.
            let head = repo.find_reference("HEAD").map_err(git_err("read HEAD"))?;
            head.symbolic_target()
                .ok()
                .flatten()
                .and_then(|t| t.strip_prefix("refs/heads/"))
                .map(str::to_string)
        }
        Err(e) => return Err(git_err("read HEAD")(e)),
    };
    let detached = head_branch.is_none();
    let wanted = match (opts.branch, &head_branch) {
        (Some(b), _) => b.to_string(),
        (None, Some(h)) => h.clone(),
        (None, None) => {
            return Err(
                Error::usage("HEAD is detached: there is no current branch to commit on")
                    .with_hint("`git switch <branch>`, or pass --branch"),
            )
        }
    };
    if git2::Branch::name_is_valid(&wanted).ok() != Some(true) {
        return Err(Error::usage(format!(
            "`{wanted}` is not a valid branch name"
        )));
    }
    let checked_out = !detached && head_branch.as_deref() == Some(wanted.as_str());
    let tip = match repo.find_branch(&wanted, git2::BranchType::Local) {
        Ok(b) => Some(
            b.get()
                .peel_to_commit()
                .map_err(git_err("read the branch"))?
                .id(),
        ),
        Err(_) if checked_out => None, // unborn: the first commit creates it
        Err(_) if opts.create_branch => None,
        Err(_) => {
            return Err(Error::usage(format!("branch `{wanted}` does not exist"))
                .with_hint("pass --create-branch to create it from the current HEAD"))
        }
    };
    // A new branch starts from the current HEAD commit (if any).
    let tip = match tip {
        Some(t) => Some(t),
        None if !checked_out => repo.head().ok().and_then(|h| h.target()),
        None => None,
    };
    Ok((wanted, checked_out, tip))
}

/// Every blob in `tree` under the given top-level folders, by path, read in one walk.
///
/// One walk per folder, not one `get_path` per file: libgit2 does not cache large tree
/// objects, so per-file lookups re-read and re-hash a 1,000-entry `apps/` tree each time.
fn committed_blobs(
    repo: &Repository,
    tree: &git2::Tree,
    folders: Vec<String>,
) -> BTreeMap<String, Oid> {
    let mut out = BTreeMap::new();
    for folder in folders {
        let Ok(entry) = tree.get_path(Path::new(&folder)) else {
            continue;
        };
        match entry.kind() {
            Some(ObjectType::Blob) => {
                out.insert(folder.clone(), entry.id());
            }
            Some(ObjectType::Tree) => {
                let Ok(sub) = repo.find_tree(entry.id()) else {
                    continue;
                };
                let _ = sub.walk(git2::TreeWalkMode::PreOrder, |dir, e| {
                    if e.kind() == Some(ObjectType::Blob) {
                        if let Ok(name) = e.name() {
                            out.insert(format!("{folder}/{dir}{name}"), e.id());
                        }
                    }
                    git2::TreeWalkResult::Ok
                });
            }
            _ => {}
        }
    }
    out
}

/// Reads what the core's planner needs ([`commit::RepoSnapshot`]) from the branch, the index
/// and the work tree, in the rounds it asks for, and returns its plan: the decisions (whose
/// file, stale or not, edited by hand or not) are the core's.
pub(crate) fn plan(repo: &Repository, tree: &Tree, opts: &Options) -> Result<Plan, Error> {
    guard::check_state(repo)?;
    let (branch, checked_out, parent) = target_branch(repo, opts)?;
    if let Some(elsewhere) = guard::checked_out_elsewhere(repo, &branch) {
        return Err(Error::usage(format!(
            "branch `{branch}` is checked out in another worktree, {}: committing would move it under that worktree (git refuses this too); nothing was changed",
            elsewhere.display(),
        ))
        .with_hint(format!(
            "run kubectl vault commit --repo {} there, or pass another --branch",
            elsewhere.display()
        )));
    }
    // The branch's tree (none on an unborn branch); reading only, planning writes no object.
    let base = match parent {
        Some(p) => Some(
            repo.find_commit(p)
                .and_then(|c| c.tree())
                .map_err(git_err("read the branch tree"))?,
        ),
        None => None,
    };
    let mut snapshot = RepoSnapshot::default();
    // Paths under the generated roots whose work tree or index differs from HEAD: only those
    // need their content compared (git's stat cache answers for the rest).
    if checked_out {
        let dirty = dirty_paths(repo, opts.roots)?;
        let index = if dirty.is_empty() {
            None
        } else {
            Some(repo.index().map_err(git_err("read the index"))?)
        };
        for (path, status) in dirty {
            let staged = status.intersects(
                git2::Status::INDEX_NEW
                    | git2::Status::INDEX_MODIFIED
                    | git2::Status::INDEX_DELETED
                    | git2::Status::INDEX_RENAMED,
            );
            let index_blob = index
                .as_ref()
                .filter(|_| staged)
                .and_then(|i| i.get_path(Path::new(&path), 0))
                .map(|e| blob_id(e.id));
            snapshot
                .dirty
                .insert(path, commit::Dirty { staged, index_blob });
        }
    }
    // Everything the tool may write or prune lives under these top-level folders.
    let committed = match &base {
        Some(base) => committed_blobs(repo, base, commit::folders(tree, opts.roots)),
        None => BTreeMap::new(),
    };
    snapshot.committed = committed
        .iter()
        .map(|(path, id)| (path.clone(), blob_id(*id)))
        .collect();
    let stale: Vec<String> = commit::stale(tree, &snapshot, opts.roots)
        .into_iter()
        .map(str::to_string)
        .collect();

    // Nothing in the work tree is read, written or deleted through a link that leaves it.
    if checked_out {
        let mut confinement = guard::Confinement::new(repo)?;
        let escapes: Vec<String> = tree
            .files
            .keys()
            .chain(&stale)
            .filter_map(|p| confinement.escape(p))
            .collect();
        if !escapes.is_empty() {
            return Err(guard::escapes_error(&escapes));
        }
    }

    // How git converts each path, and the blob each generated file would be: hashing the
    // wanted text is far cheaper than reading and inflating thousands of unchanged blobs.
    let mut converter = convert::Converter::new(repo);
    converter.preload(tree.files.keys().chain(&stale).map(String::as_str));
    let mut rules: BTreeMap<String, convert::Rule> = BTreeMap::new();
    for (path, content) in &tree.files {
        let rule = converter.rule(path, content)?;
        let wanted = converter.blob_id(path, &rule, content, false)?;
        snapshot.wanted.insert(path.clone(), blob_id(wanted));
        rules.insert(path.clone(), rule);
    }
    for path in stale {
        let rule = converter.rule(&path, "")?;
        rules.insert(path, rule);
    }

    let workdir = repo.workdir().map(Path::to_path_buf);
    let plain = convert::Rule::default();
    let options = commit::Options {
        roots: opts.roots,
        clusters: opts.clusters,
    };
    let planned = loop {
        let queries = match commit::plan(tree, &snapshot, &options) {
            Planned::Plan(plan) => break plan,
            Planned::Needs(queries) => queries,
        };
        for query in queries {
            match query {
                Query::Committed(path) => {
                    let rule = rules.get(&path).unwrap_or(&plain);
                    let text = committed
                        .get(&path)
                        .and_then(|id| converter.read_blob(&path, rule, *id));
                    snapshot.insert_committed_text(path, text);
                }
                Query::WorkTree(path) => {
                    let rule = rules.get(&path).unwrap_or(&plain);
                    let text = workdir.as_ref().and_then(|dir| {
                        std::fs::read(dir.join(&path)).ok().map(|b| {
                            convert::Converter::from_worktree(
                                rule,
                                String::from_utf8_lossy(&b).into_owned(),
                            )
                        })
                    });
                    snapshot.insert_work_tree_text(path, text);
                }
            }
        }
    };
    // Only the paths git does not store byte for byte need their rule when applying.
    rules.retain(|_, rule| *rule != plain);
    Ok(Plan {
        branch,
        checked_out,
        parent,
        changes: planned.changes,
        conflicts: planned.conflicts,
        rules,
    })
}

fn blob_id(id: Oid) -> BlobId {
    BlobId(id.to_string())
}

/// Status of every path under `roots` that differs from HEAD (work tree or index).
fn dirty_paths(
    repo: &Repository,
    roots: &[String],
) -> Result<BTreeMap<String, git2::Status>, Error> {
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false);
    for r in roots {
        opts.pathspec(format!("{r}/"));
    }
    let statuses = repo
        .statuses(Some(&mut opts))
        .map_err(git_err("read the status"))?;
    Ok(statuses
        .iter()
        .filter_map(|e| e.path().ok().map(|p| (p.to_string(), e.status())))
        .collect())
}

/// The author and committer, as git would take them: GIT_AUTHOR_* / GIT_COMMITTER_* from the
/// environment, else user.name and user.email from the repository's config.
pub(crate) fn signatures(
    repo: &Repository,
) -> Result<(Signature<'static>, Signature<'static>), Error> {
    let config = repo.config().ok();
    let from_config = |key: &str| config.as_ref().and_then(|c| c.get_string(key).ok());
    let person = |kind: &str| -> Result<Signature<'static>, Error> {
        let name = std::env::var(format!("GIT_{kind}_NAME"))
            .ok()
            .or_else(|| from_config("user.name"));
        let email = std::env::var(format!("GIT_{kind}_EMAIL"))
            .ok()
            .or_else(|| from_config("user.email"));
        match (name, email) {
            (Some(n), Some(e)) if !n.trim().is_empty() && !e.trim().is_empty() => {
                Signature::now(&n, &e).map_err(|e| Error::usage(format!("invalid git identity: {}", e.message())))
            }
            _ => Err(Error::usage("no Git identity to commit with").with_hint(
                "git config user.name \"Your Name\" && git config user.email you@example.com (or set GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL)",
            )),
        }
    };
    Ok((person("AUTHOR")?, person("COMMITTER")?))
}

fn file_mode(path: &str) -> FileMode {
    if crate::core::tree::is_script(path) {
        FileMode::BlobExecutable
    } else {
        FileMode::Blob
    }
}

/// Above this many new files, the objects go into one pack instead of loose files — the same
/// threshold git uses for received objects (`transfer.unpackLimit`). Creating 9,000 loose
/// object files costs more than the rest of a large first commit.
const LOOSE_OBJECT_LIMIT: usize = 100;

/// What `apply` does about the repository's commit hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hooks {
    /// Refuse to commit when git would run a commit hook (the tool does not run hooks).
    Refuse,
    /// Commit without running them: the user asked for it (`--no-verify`).
    Skip,
}

/// Writes the commit (objects, work tree, index, branch ref) and returns its id.
///
/// A run killed at any point leaves a state the next run completes: objects are unreferenced
/// until the ref moves, a work-tree file is either old or new (rename), and a staged entry
/// that equals the planned content is accepted by `plan`.
pub(crate) fn apply(
    repo: &Repository,
    plan: &Plan,
    message: &str,
    hooks: Hooks,
) -> Result<Oid, Error> {
    let (author, committer) = signatures(repo)?;
    let found = guard::commit_hooks(repo);
    if !found.is_empty() && hooks == Hooks::Refuse {
        let list: Vec<String> = found.iter().map(|p| format!("  {}", p.display())).collect();
        return Err(Error::usage(format!(
            "the repository has commit hooks that `git commit` would run:\n{}\nkubectl-vault writes its commit without running hooks, and refuses rather than skip them silently; nothing was changed",
            list.join("\n")
        )).with_hint("review the change with --dry-run, then pass --no-verify to commit without running the hooks (as `git commit --no-verify` would skip pre-commit and commit-msg), or commit the generated files yourself"));
    }
    guard::check_locks(repo, &plan.branch, plan.checked_out)?;
    let sign = guard::signing_required(repo);

    // 1. Objects: harmless if anything below fails (unreferenced objects, collected by gc).
    let (tree_id, blob_ids, commit_id) = if plan.changes.len() > LOOSE_OBJECT_LIMIT {
        // A second handle on the repository, so that the in-memory backend never outlives
        // this step in the caller's handle.
        let packing = Repository::open(repo.path()).map_err(git_err("open the repository"))?;
        let odb = packing.odb().map_err(git_err("open the object database"))?;
        let mempack = odb
            .add_new_mempack_backend(1000)
            .map_err(git_err("prepare a pack"))?;
        let (tree_id, blob_ids) = write_objects(&packing, plan)?;
        let commit_id = if sign {
            None
        } else {
            Some(write_commit(
                &packing, plan, tree_id, message, &author, &committer,
            )?)
        };
        let mut pack = git2::Buf::new();
        mempack
            .dump(&packing, &mut pack)
            .map_err(git_err("build the pack"))?;
        let mut writer = odb.packwriter().map_err(git_err("write the pack"))?;
        use std::io::Write;
        writer
            .write_all(&pack)
            .map_err(|e| Error::environment(format!("git: write the pack: {e}")))?;
        writer.commit().map_err(git_err("write the pack"))?;
        (tree_id, blob_ids, commit_id)
    } else {
        let (tree_id, blob_ids) = write_objects(repo, plan)?;
        let commit_id = if sign {
            None
        } else {
            Some(write_commit(
                repo, plan, tree_id, message, &author, &committer,
            )?)
        };
        (tree_id, blob_ids, commit_id)
    };
    let commit_id = match commit_id {
        Some(id) => id,
        None => signed_commit(repo, plan, tree_id, message, &author, &committer)?,
    };
    guard::crash_point("objects");

    // 2. Work tree and index, only when the branch is checked out.
    let refname = format!("refs/heads/{}", plan.branch);
    if plan.checked_out {
        let workdir = repo.workdir().expect("not bare").to_path_buf();
        // Read before the work tree changes: an index libgit2 cannot read (e.g. a split index)
        // stops the run while nothing has been written yet.
        let mut index = repo.index().map_err(git_err("read the index"))?;
        write_work_tree(&workdir, plan)?;
        guard::crash_point("work-tree");
        let rerun = "the work tree already holds the new generated files and the branch has not moved; run again to complete the commit";
        for c in &plan.changes {
            let p = Path::new(&c.path);
            let r = match blob_ids.get(c.path.as_str()) {
                Some(id) => std::fs::symlink_metadata(workdir.join(&c.path))
                    .map_err(|e| git2::Error::from_str(&format!("{}: {e}", c.path)))
                    .and_then(|stat| index.add(&index_entry(&c.path, *id, Some(&stat)))),
                None => index.remove_path(p),
            };
            r.map_err(|e| {
                Error::environment(format!("git: update the index: {}\n{rerun}", e.message()))
            })?;
        }
        index.write().map_err(|e| {
            let lock = repo.path().join("index.lock");
            let error =
                Error::environment(format!("git: write the index: {}\n{rerun}", e.message()));
            if lock.exists() {
                error.with_hint(format!(
                    "if no git command is running in this repository, remove {} first",
                    lock.display()
                ))
            } else {
                error
            }
        })?;
        guard::crash_point("index");
    }

    // 3. The branch moves last, and only from the tip we planned against.
    let log = format!(
        "kubectl-vault: {}",
        message.lines().next().unwrap_or_default()
    );
    let moved = match plan.parent {
        Some(old) if repo.find_reference(&refname).is_ok() => {
            repo.reference_matching(&refname, commit_id, true, old, &log)
        }
        _ => repo.reference(&refname, commit_id, false, &log),
    };
    moved.map_err(|e| {
        let lock = repo.commondir().join(format!("{refname}.lock"));
        let state = if plan.checked_out {
            "the work tree and index already hold the new generated files; "
        } else {
            ""
        };
        let hint = if lock.exists() {
            format!("{state}if no git command is running in this repository, remove {} and run again to complete the commit", lock.display())
        } else {
            format!("{state}the branch moved during the run (or could not be written); run again")
        };
        Error::environment(format!(
            "git: move {refname}: {}",
            e.message()
        )).with_hint(hint)
    })?;
    guard::crash_point("ref");
    Ok(commit_id)
}

/// Writes the blobs and trees of `plan`; returns the tree id and the blob id of every written
/// file.
fn write_objects<'p>(
    repo: &Repository,
    plan: &'p Plan,
) -> Result<(Oid, BTreeMap<&'p str, Oid>), Error> {
    let converter = convert::Converter::new(repo);
    let plain = convert::Rule::default();
    let mut blob_ids: BTreeMap<&str, Oid> = BTreeMap::new();
    for c in &plan.changes {
        if let Some(content) = &c.new {
            let rule = plan.rules.get(&c.path).unwrap_or(&plain);
            let oid = converter.blob_id(&c.path, rule, content, true)?;
            blob_ids.insert(c.path.as_str(), oid);
        }
    }
    let tree_id = match plan.parent {
        Some(p) => {
            let base = repo
                .find_commit(p)
                .and_then(|c| c.tree())
                .map_err(git_err("read the branch tree"))?;
            let mut updates = TreeUpdateBuilder::new();
            for c in &plan.changes {
                match blob_ids.get(c.path.as_str()) {
                    Some(id) => updates.upsert(c.path.as_str(), *id, file_mode(&c.path)),
                    None => updates.remove(c.path.as_str()),
                };
            }
            updates
                .create_updated(repo, &base)
                .map_err(git_err("write the tree"))?
        }
        None => {
            // The first commit: build the trees from an in-memory index (no empty base tree
            // left dangling in the object database).
            let mut index = git2::Index::new().map_err(git_err("build the tree"))?;
            for (path, id) in &blob_ids {
                index
                    .add(&index_entry(path, *id, None))
                    .map_err(git_err("build the tree"))?;
            }
            index
                .write_tree_to(repo)
                .map_err(git_err("write the tree"))?
        }
    };
    Ok((tree_id, blob_ids))
}

fn write_commit(
    repo: &Repository,
    plan: &Plan,
    tree_id: Oid,
    message: &str,
    author: &Signature,
    committer: &Signature,
) -> Result<Oid, Error> {
    let tree = repo.find_tree(tree_id).map_err(git_err("read the tree"))?;
    let parents: Vec<git2::Commit> = plan
        .parent
        .iter()
        .map(|p| repo.find_commit(*p))
        .collect::<Result<_, _>>()
        .map_err(git_err("read the parent commit"))?;
    let parent_refs: Vec<&git2::Commit> = parents.iter().collect();
    repo.commit(None, author, committer, message, &tree, &parent_refs)
        .map_err(git_err("write the commit"))
}

/// With `commit.gpgsign`, the user's own `git` makes the commit object (`git commit-tree -S`),
/// so it is signed exactly as `git commit` would sign it (gpg, ssh or x509, `user.signingkey`).
fn signed_commit(
    repo: &Repository,
    plan: &Plan,
    tree_id: Oid,
    message: &str,
    author: &Signature,
    committer: &Signature,
) -> Result<Oid, Error> {
    let git_date = |s: &Signature| {
        let t = s.when();
        let off = t.offset_minutes();
        format!(
            "@{} {}{:02}{:02}",
            t.seconds(),
            if off < 0 { '-' } else { '+' },
            off.abs() / 60,
            off.abs() % 60
        )
    };
    let fail = |why: String| {
        Error::environment(format!("commit.gpgsign is set, and signing the commit failed: {why}; nothing was changed")).with_hint("check that `git commit -S` works in this repository (user.signingkey, gpg.format, the gpg or ssh agent)")
    };
    let mut cmd = std::process::Command::new("git");
    cmd.arg("--git-dir")
        .arg(repo.path())
        .args(["commit-tree", "-S", "-F", "-"])
        .arg(tree_id.to_string());
    if let Some(p) = &plan.parent {
        cmd.arg("-p").arg(p.to_string());
    }
    for (kind, sig) in [("AUTHOR", author), ("COMMITTER", committer)] {
        cmd.env(format!("GIT_{kind}_NAME"), sig.name().unwrap_or_default())
            .env(format!("GIT_{kind}_EMAIL"), sig.email().unwrap_or_default())
            .env(format!("GIT_{kind}_DATE"), git_date(sig));
    }
    if let Some(dir) = repo.workdir() {
        cmd.current_dir(dir);
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run git: {e}")))?;
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("piped");
        stdin
            .write_all(message.as_bytes())
            .map_err(|e| fail(format!("git commit-tree: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("git commit-tree: {e}")))?;
    if !out.status.success() {
        return Err(fail(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Oid::from_str(text.trim())
        .map_err(|_| fail(format!("git commit-tree printed `{}`", text.trim())))
}

/// The index entry of a file with a known blob id. With `stat` (the file just written to the
/// work tree), the entry carries its stat data, so the file is not read and hashed again (as
/// `add_path` would) and `git status` trusts the entry.
fn index_entry(path: &str, id: Oid, stat: Option<&std::fs::Metadata>) -> git2::IndexEntry {
    #[allow(unused_mut)]
    let mut entry = git2::IndexEntry {
        ctime: git2::IndexTime::new(0, 0),
        mtime: git2::IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode: u32::from(file_mode(path)),
        uid: 0,
        gid: 0,
        file_size: stat.map_or(0, |m| m.len() as u32),
        id,
        flags: 0,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    };
    #[cfg(unix)]
    if let Some(m) = stat {
        use std::os::unix::fs::MetadataExt;
        entry.ctime = git2::IndexTime::new(m.ctime() as i32, m.ctime_nsec() as u32);
        entry.mtime = git2::IndexTime::new(m.mtime() as i32, m.mtime_nsec() as u32);
        entry.dev = m.dev() as u32;
        entry.ino = m.ino() as u32;
        entry.uid = m.uid();
        entry.gid = m.gid();
    }
    entry
}

/// Applies file changes through temporary files and renames; on failure, puts back what was
/// already changed so the work tree is as it was.
fn write_work_tree(workdir: &Path, plan: &Plan) -> Result<(), Error> {
    let changes = &plan.changes;
    let plain = convert::Rule::default();
    let mut done: Vec<&Change> = Vec::new();
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    let result = (|| -> std::io::Result<()> {
        for (i, c) in changes.iter().enumerate() {
            if i == changes.len() / 2 {
                guard::crash_point("work-tree-half");
            }
            let path = workdir.join(&c.path);
            let rule = plan.rules.get(&c.path).unwrap_or(&plain);
            match &c.new {
                Some(content) => {
                    let parent = path.parent().expect("in a folder");
                    if !parent.exists() {
                        let mut missing = vec![];
                        let mut p = parent.to_path_buf();
                        while !p.exists() {
                            missing.push(p.clone());
                            if !p.pop() {
                                break;
                            }
                        }
                        std::fs::create_dir_all(parent)?;
                        created_dirs.extend(missing.into_iter().rev());
                    }
                    crate::edge::fs::write_atomically(
                        &path,
                        &convert::Converter::to_worktree(rule, content),
                        crate::core::tree::is_script(&c.path),
                    )?;
                }
                None => match std::fs::remove_file(&path) {
                    Ok(()) => remove_empty_parents(workdir, &path),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                },
            }
            done.push(c);
        }
        Ok(())
    })();
    if let Err(e) = result {
        for c in done.iter().rev() {
            let path = workdir.join(&c.path);
            match &c.old {
                Some(old) => {
                    if let Some(parent) = path.parent() {
                        let _ = std::fs::create_dir_all(parent);
                    }
                    let rule = plan.rules.get(&c.path).unwrap_or(&plain);
                    let _ = std::fs::write(&path, convert::Converter::to_worktree(rule, old));
                }
                None => {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        for d in created_dirs.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
        return Err(Error::environment(format!(
            "cannot write the work tree ({e}); nothing was committed and the work tree was restored"
        )));
    }
    Ok(())
}

fn remove_empty_parents(workdir: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == workdir || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}
