//! `scan`'s Git edge: every file content a repository ever held, at every path it was held at.
//!
//! 1. Every commit reachable from any ref (branches, tags, remotes, stash) and `HEAD`.
//! 2. Per commit, the files it added or changed against its first parent (the whole tree for
//!    a root commit), found by comparing tree ids (unchanged folders are never opened): (blob
//!    id, path, commit). Commits are split among threads, each with its own `Repository`
//!    (libgit2 handles are not `Sync`). Git's paths are bytes: a name that is not UTF-8 is kept
//!    and shown escaped (`secrets_scan::shown_path`).
//! 3. Each distinct blob is read once, in parallel, and handed to the pure scanner once per
//!    [`Syntax`] its paths read it as (YAML, `KEY=value`, text), however many commits and
//!    paths hold it; its findings are then reported at each of its paths. A blob over [`MAX_FILE`], or missing from
//!    the object database (a partial clone), is named at each of its paths as not read.
//! 4. The work tree: tracked and untracked (not ignored) files as they are on disk, hashed as
//!    git would (a file equal to a committed blob is not read again); one that cannot be read
//!    is named too.
//! 5. A shallow repository (a shallow clone) says where its history ends: the commits listed
//!    in `shallow`, and the parents they name that were never fetched.
//!
//! It decides nothing: the findings come from `core::secrets_scan`.

use crate::core::secrets_scan::{
    scan_blob, shown_path, Located, Scanned, Seen, Shallow, Syntax, Unparsed, Unread, MAX_FILE,
};
use crate::edge::fs::ReadError;
use crate::error::Error;
use git2::{ErrorCode, ObjectType, Oid, Repository, Sort};
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

#[derive(Debug, Default)]
pub(crate) struct History {
    pub(crate) found: Vec<Located>,
    pub(crate) commits: usize,
    /// Distinct file contents read and scanned.
    pub(crate) blobs: usize,
    /// Files not read (so not scanned), by path, sorted.
    pub(crate) unread: Vec<(String, Unread)>,
    /// YAML files not parsed (in full), by path, sorted: they were scanned as text.
    pub(crate) unparsed: Vec<(String, Unparsed)>,
    /// Where the history ends, when it was scanned and is shallow.
    pub(crate) shallow: Option<Shallow>,
}

/// Largest `shallow` file read (a million boundary commits).
const SHALLOW_BYTES: u64 = 64 * 1024 * 1024;

/// A blob a commit added or changed, at a path.
type Introduced = (Oid, String, Seen);
/// A blob's scans that found something, one per syntax asked for, or why it was not read.
type BlobScan = (Oid, Result<Vec<(Syntax, Scanned)>, Unread>);
/// The syntaxes a blob's paths read it as, by [`Syntax::index`].
pub(super) type Wanted = [bool; 3];

pub(super) fn git_err(what: &str, e: git2::Error) -> Error {
    Error::environment_from(format!("{what}: {}", e.message()), e)
}

/// The repository at `repo_dir`; not one is a usage error.
pub(super) fn open(repo_dir: &Path) -> Result<Repository, Error> {
    Repository::open(repo_dir).map_err(|e| {
        Error::usage(format!(
            "{} is not a Git repository: {}",
            repo_dir.display(),
            e.message()
        ))
        .with_hint("--repo names the root of a Git work tree")
    })
}

/// Scans `repo_dir`: its history unless `history` is false, and its work tree.
pub(crate) fn scan(repo_dir: &Path, history: bool) -> Result<History, Error> {
    let repo = open(repo_dir)?;
    let git_dir = repo.path().to_path_buf();
    let mut out = History::default();

    // (blob, path) → commits introducing it.
    let mut introduced: HashMap<(Oid, String), Vec<Seen>> = HashMap::new();
    if history {
        if repo.is_shallow() {
            out.shallow = Some(shallow(&repo));
        }
        let commits = all_commits(&repo)?;
        out.commits = commits.len();
        let per_chunk: Vec<Result<Vec<Introduced>, Error>> = commits
            .par_chunks(256.max(commits.len() / (rayon::current_num_threads() * 4) + 1))
            .map(|chunk| {
                let repo = Repository::open(&git_dir).map_err(|e| git_err("open", e))?;
                let mut v = Vec::new();
                for &c in chunk {
                    changed_blobs(&repo, c, &mut v)?;
                }
                Ok(v)
            })
            .collect();
        for chunk in per_chunk {
            for (oid, path, seen) in chunk? {
                introduced.entry((oid, path)).or_default().push(seen);
            }
        }
    }

    // What each (blob, syntax) holds, when it holds anything: the cache of the per-blob work.
    let mut by_blob: HashMap<(Oid, Syntax), Scanned> = HashMap::new();
    let mut unread: BTreeSet<(String, Unread)> = BTreeSet::new();

    // The work tree, hashed as git hashes blobs. Work-tree contents git does not hold (new or
    // changed files) are scanned as they are read, so that at most one file's bytes are held
    // at a time; the others are read from the object database with the history's blobs.
    let mut worktree: Vec<(Oid, String)> = Vec::new();
    let mut local: HashSet<(Oid, Syntax)> = HashSet::new();
    let mut local_blobs: HashSet<Oid> = HashSet::new();
    let odb = repo
        .odb()
        .map_err(|e| git_err("open the object database", e))?;
    if let Some(root) = repo.workdir() {
        for raw in worktree_paths(&repo)? {
            let path = shown_path(&raw);
            let bytes = match read_worktree_file(&root.join(os_path(&raw))) {
                Ok(Some(b)) => b,
                Ok(None) => continue,
                Err(why) => {
                    unread.insert((path, why));
                    continue;
                }
            };
            let oid = Oid::hash_object(ObjectType::Blob, &bytes)
                .map_err(|e| git_err("hash a work-tree file", e))?;
            if !odb.exists(oid) {
                let syntax = Syntax::of(&path);
                if local.insert((oid, syntax)) {
                    local_blobs.insert(oid);
                    let found = scan_blob(syntax, &bytes);
                    if !found.is_empty() {
                        by_blob.insert((oid, syntax), found);
                    }
                }
            }
            worktree.push((oid, path));
        }
    }
    out.blobs = local_blobs.len();

    // Each distinct blob of the object database once, with the syntaxes its paths read it as.
    let mut wanted: HashMap<Oid, Wanted> = HashMap::new();
    let stored = introduced
        .keys()
        .map(|(oid, path)| (oid, path))
        .chain(worktree.iter().map(|(oid, path)| (oid, path)))
        .filter(|(oid, _)| !local_blobs.contains(oid));
    for (oid, path) in stored {
        wanted.entry(*oid).or_default()[Syntax::of(path).index()] = true;
    }
    let mut list: Vec<(Oid, Wanted)> = wanted.into_iter().collect();
    list.sort_unstable_by_key(|(oid, _)| *oid);
    let scanned: Vec<BlobScan> = list
        .par_chunks(64)
        .map_init(
            || Repository::open(&git_dir),
            |repo, chunk| {
                let repo = repo
                    .as_ref()
                    .map_err(|e| Error::environment(format!("open: {}", e.message())))?;
                let odb = repo
                    .odb()
                    .map_err(|e| git_err("open the object database", e))?;
                Ok(chunk
                    .iter()
                    .map(|(oid, wanted)| (*oid, scan_stored(repo, &odb, *oid, *wanted)))
                    .collect::<Vec<_>>())
            },
        )
        .collect::<Result<Vec<_>, Error>>()?
        .into_iter()
        .flatten()
        .collect();
    let mut unread_blobs: HashMap<Oid, Unread> = HashMap::new();
    for (oid, r) in scanned {
        match r {
            Ok(scans) => {
                out.blobs += 1;
                for (syntax, found) in scans {
                    by_blob.insert((oid, syntax), found);
                }
            }
            Err(why) => {
                unread_blobs.insert(oid, why);
            }
        }
    }

    // Each path reports what its content holds, read as that path says.
    let mut unparsed = BTreeSet::new();
    let mut at_path = |oid: Oid, path: &str, seen: &mut dyn Iterator<Item = Seen>| {
        if let Some(why) = unread_blobs.get(&oid) {
            unread.insert((path.to_string(), why.clone()));
        }
        let Some(scanned) = by_blob.get(&(oid, Syntax::of(path))) else {
            return;
        };
        if let Some(u) = &scanned.unparsed {
            unparsed.insert((path.to_string(), u.clone()));
        }
        for s in seen {
            for f in &scanned.findings {
                out.found.push(Located {
                    path: path.to_string(),
                    seen: s.clone(),
                    finding: f.clone(),
                });
            }
        }
    };
    for ((oid, path), seen) in introduced {
        at_path(oid, &path, &mut seen.into_iter());
    }
    for (oid, path) in worktree {
        at_path(oid, &path, &mut std::iter::once(Seen::WorkTree));
    }
    out.unread = unread.into_iter().collect();
    out.unparsed = unparsed.into_iter().collect();
    Ok(out)
}

/// Where a shallow repository's history ends: the commits its `shallow` file lists (in the
/// common Git folder, for linked work trees too), and how many parents they name that are
/// not in the object database. What cannot be read leaves the list empty: the history is
/// still said to be shallow.
fn shallow(repo: &Repository) -> Shallow {
    let file = repo.commondir().join("shallow");
    let text = crate::edge::fs::read_regular_file(&file, SHALLOW_BYTES, true)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let odb = repo.odb().ok();
    let mut out = Shallow::default();
    for id in text.split_whitespace() {
        let Ok(oid) = Oid::from_str(id) else { continue };
        out.boundary.push(oid.to_string());
        let Some(odb) = &odb else { continue };
        // The commit as stored: libgit2 hides a boundary commit's parents.
        let Ok(raw) = odb.read(oid) else { continue };
        out.missing_parents += String::from_utf8_lossy(raw.data())
            .lines()
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.strip_prefix("parent "))
            .filter_map(|p| Oid::from_str(p.trim()).ok())
            .filter(|p| !odb.exists(*p))
            .count();
    }
    out.boundary.sort();
    out.boundary.dedup();
    out
}

/// A blob of the object database scanned as each syntax `wanted` (what found something), or why
/// it was not read.
pub(super) fn scan_stored(
    repo: &Repository,
    odb: &git2::Odb,
    oid: Oid,
    wanted: Wanted,
) -> Result<Vec<(Syntax, Scanned)>, Unread> {
    let not_read = |e: git2::Error| match e.code() {
        ErrorCode::NotFound => Unread::Missing,
        _ => Unread::Failed(e.message().to_string()),
    };
    let (size, _) = odb.read_header(oid).map_err(not_read)?;
    if size as u64 > MAX_FILE {
        return Err(Unread::TooLarge);
    }
    let blob = repo.find_blob(oid).map_err(not_read)?;
    Ok(Syntax::ALL
        .into_iter()
        .filter(|s| wanted[s.index()])
        .map(|s| (s, scan_blob(s, blob.content())))
        .filter(|(_, found)| !found.is_empty())
        .collect())
}

/// A work-tree file's bytes; `None` when it is not a regular file (a symbolic link, a
/// submodule, a file deleted since the index was written).
fn read_worktree_file(full: &Path) -> Result<Option<Vec<u8>>, Unread> {
    let meta = match std::fs::symlink_metadata(full) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Unread::Failed(e.to_string())),
    };
    if !meta.is_file() {
        return Ok(None);
    }
    if meta.len() > MAX_FILE {
        return Err(Unread::TooLarge);
    }
    // Never a link followed or a FIFO opened, should the file change under us.
    match crate::edge::fs::read_regular_file(full, MAX_FILE, false) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(ReadError::TooLarge { .. }) => Err(Unread::TooLarge),
        Err(e) => Err(Unread::Failed(e.to_string())),
    }
}

/// A Git path (bytes) as a path of this system.
fn os_path(raw: &[u8]) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        PathBuf::from(std::ffi::OsStr::from_bytes(raw))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(raw).into_owned())
    }
}

/// Every commit reachable from a ref or HEAD, each once.
fn all_commits(repo: &Repository) -> Result<Vec<Oid>, Error> {
    let mut walk = repo.revwalk().map_err(|e| git_err("walk the history", e))?;
    walk.set_sorting(Sort::NONE)
        .map_err(|e| git_err("walk the history", e))?;
    let refs = repo.references().map_err(|e| git_err("list refs", e))?;
    for r in refs.flatten() {
        // Tags of trees or blobs, and broken refs, hold no commits.
        if let Ok(c) = r.peel_to_commit() {
            let _ = walk.push(c.id());
        }
    }
    if let Ok(head) = repo.head() {
        if let Ok(c) = head.peel_to_commit() {
            let _ = walk.push(c.id());
        }
    }
    walk.map(|r| r.map_err(|e| git_err("walk the history", e)))
        .collect()
}

/// The blobs `commit` added or changed against its first parent.
fn changed_blobs(repo: &Repository, commit: Oid, out: &mut Vec<Introduced>) -> Result<(), Error> {
    let c = repo
        .find_commit(commit)
        .map_err(|e| git_err("read a commit", e))?;
    let tree = c.tree().map_err(|e| git_err("read a tree", e))?;
    let parent = match c.parent(0) {
        Ok(p) => Some(p.tree().map_err(|e| git_err("read a tree", e))?),
        Err(_) => None,
    };
    let seen = Seen::Commit {
        id: commit.to_string(),
        time: c.time().seconds(),
    };
    new_blobs(repo, &tree, parent.as_ref(), "", &seen, out)
}

/// The blobs of `tree` that `parent` (the same folder in the parent commit) does not hold at
/// the same path. Subtrees with the same id as the parent's are skipped unread: a commit that
/// changes one file costs one path from the root, whatever the size of the tree.
fn new_blobs(
    repo: &Repository,
    tree: &git2::Tree,
    parent: Option<&git2::Tree>,
    prefix: &str,
    seen: &Seen,
    out: &mut Vec<Introduced>,
) -> Result<(), Error> {
    for entry in tree.iter() {
        let name = entry.name_bytes();
        let before = parent.and_then(|p| p.get_name_bytes(name));
        if before.as_ref().is_some_and(|b| b.id() == entry.id()) {
            continue;
        }
        let path = format!("{prefix}{}", shown_path(name));
        match entry.kind() {
            Some(ObjectType::Tree) => {
                let sub = repo
                    .find_tree(entry.id())
                    .map_err(|e| git_err("read a tree", e))?;
                let old = match before {
                    Some(b) if b.kind() == Some(ObjectType::Tree) => Some(
                        repo.find_tree(b.id())
                            .map_err(|e| git_err("read a tree", e))?,
                    ),
                    _ => None,
                };
                new_blobs(repo, &sub, old.as_ref(), &format!("{path}/"), seen, out)?;
            }
            // Regular and executable files; not symbolic links (0o120000) or submodules.
            Some(ObjectType::Blob) if entry.filemode() & 0o170000 == 0o100000 => {
                out.push((entry.id(), path, seen.clone()));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Tracked files and untracked files git does not ignore, relative to the work tree (as Git's
/// bytes: names that are not UTF-8 too).
fn worktree_paths(repo: &Repository) -> Result<Vec<Vec<u8>>, Error> {
    let mut paths: HashSet<Vec<u8>> = HashSet::new();
    let index = repo.index().map_err(|e| git_err("read the index", e))?;
    for e in index.iter() {
        paths.insert(e.path);
    }
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false)
        .exclude_submodules(true);
    let statuses = repo
        .statuses(Some(&mut opts))
        .map_err(|e| git_err("read the work tree's status", e))?;
    for s in statuses.iter() {
        if s.status().contains(git2::Status::WT_NEW) {
            paths.insert(s.path_bytes().to_vec());
        }
    }
    let mut v: Vec<Vec<u8>> = paths.into_iter().collect();
    v.sort();
    Ok(v)
}
