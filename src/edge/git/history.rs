//! `scan`'s Git edge: every file content a repository ever held, each read once.
//!
//! 1. Every commit reachable from any ref (branches, tags, remotes, stash) and `HEAD`.
//! 2. Per commit, the files it added or changed against its first parent (the whole tree for
//!    a root commit), found by comparing tree ids (unchanged folders are never opened): (blob id, path, commit). Commits are split among threads, each with its
//!    own `Repository` (libgit2 handles are not `Sync`).
//! 3. Each distinct blob is read and handed to the pure scanner once, in parallel, however
//!    many commits and paths hold it; blobs over [`MAX_BLOB`] are skipped and counted.
//! 4. The work tree: tracked and untracked (not ignored) files as they are on disk, hashed as
//!    git would (a file equal to a committed blob is not scanned again).
//!
//! It decides nothing: the findings come from `core::secrets_scan`.

use crate::core::secrets_scan::{scan_blob, Located, Scanned, Seen, Unparsed};
use crate::error::Error;
use git2::{ObjectType, Oid, Repository, Sort};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Largest file scanned: secrets live in manifests and config files, not in big binaries.
pub(crate) const MAX_BLOB: usize = 1024 * 1024;

#[derive(Debug, Default)]
pub(crate) struct History {
    pub(crate) found: Vec<Located>,
    pub(crate) commits: usize,
    pub(crate) blobs: usize,
    pub(crate) skipped_large: usize,
    /// YAML files not parsed (in full), by path: they were scanned as text.
    pub(crate) unparsed: Vec<(String, Unparsed)>,
}

/// A blob a commit added or changed, at a path.
type Introduced = (Oid, String, Seen);
/// A blob's findings (`None`: too large to scan).
type BlobScan = (Oid, Option<Scanned>);

fn git_err(what: &str, e: git2::Error) -> Error {
    Error::environment_from(format!("{what}: {}", e.message()), e)
}

/// Scans `repo_dir`: its history unless `history` is false, and its work tree.
pub(crate) fn scan(repo_dir: &Path, history: bool) -> Result<History, Error> {
    let repo = Repository::open(repo_dir).map_err(|e| {
        Error::usage(format!(
            "{} is not a Git repository: {}\nhint: --repo names the root of a Git work tree",
            repo_dir.display(),
            e.message()
        ))
    })?;
    let git_dir = repo.path().to_path_buf();
    let mut out = History::default();

    // (blob, path) → commits introducing it.
    let mut introduced: HashMap<(Oid, String), Vec<Seen>> = HashMap::new();
    if history {
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

    // The work tree, hashed as git hashes blobs. Work-tree contents git does not hold (new or changed files) are scanned as they are
    // read, so that at most one file's bytes are held at a time; the others are read from
    // the object database with the history's blobs.
    let mut worktree: Vec<(Oid, String)> = Vec::new();
    let mut by_blob: HashMap<Oid, Scanned> = HashMap::new();
    let mut local: HashSet<Oid> = HashSet::new();
    let odb = repo
        .odb()
        .map_err(|e| git_err("open the object database", e))?;
    if let Some(root) = repo.workdir() {
        for path in worktree_paths(&repo)? {
            let full = root.join(&path);
            let Ok(meta) = std::fs::symlink_metadata(&full) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            if meta.len() as usize > MAX_BLOB {
                out.skipped_large += 1;
                continue;
            }
            let Ok(bytes) = crate::edge::fs::read_file(&full, MAX_BLOB as u64) else {
                continue;
            };
            let oid = Oid::hash_object(ObjectType::Blob, &bytes)
                .map_err(|e| git_err("hash a work-tree file", e))?;
            if !odb.exists(oid) && local.insert(oid) {
                let found = scan_blob(&path, &bytes);
                if !found.is_empty() {
                    by_blob.insert(oid, found);
                }
                out.blobs += 1;
            }
            worktree.push((oid, path));
        }
    }

    // Each distinct blob once, with one of its paths (the path only says whether it is YAML).
    let mut blobs: HashMap<Oid, String> = HashMap::new();
    for (oid, path) in introduced.keys() {
        let e = blobs.entry(*oid).or_insert_with(|| path.clone());
        if path < e {
            *e = path.clone();
        }
    }
    for (oid, path) in &worktree {
        if odb.exists(*oid) {
            blobs.entry(*oid).or_insert_with(|| path.clone());
        }
    }
    let mut list: Vec<(Oid, String)> = blobs.into_iter().collect();
    list.sort();
    out.blobs += list.len();
    let scanned: Vec<Result<BlobScan, Error>> = list
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
                let mut v = Vec::new();
                for (oid, path) in chunk {
                    let (size, _) = odb
                        .read_header(*oid)
                        .map_err(|e| git_err("read a blob header", e))?;
                    if size > MAX_BLOB {
                        v.push((*oid, None));
                        continue;
                    }
                    let blob = repo
                        .find_blob(*oid)
                        .map_err(|e| git_err("read a blob", e))?;
                    v.push((*oid, Some(scan_blob(path, blob.content()))));
                }
                Ok(v)
            },
        )
        .collect::<Result<Vec<_>, Error>>()?
        .into_iter()
        .flatten()
        .map(Ok)
        .collect();
    for r in scanned {
        let (oid, f) = r?;
        match f {
            None => out.skipped_large += 1,
            Some(f) if !f.is_empty() => {
                by_blob.insert(oid, f);
            }
            Some(_) => {}
        }
    }

    let mut unparsed = std::collections::BTreeSet::new();
    for ((oid, path), seen) in introduced {
        if let Some(scanned) = by_blob.get(&oid) {
            if let Some(u) = &scanned.unparsed {
                unparsed.insert((path.clone(), u.clone()));
            }
            for s in seen {
                for f in &scanned.findings {
                    out.found.push(Located {
                        path: path.clone(),
                        seen: s.clone(),
                        finding: f.clone(),
                    });
                }
            }
        }
    }
    for (oid, path) in worktree {
        if let Some(scanned) = by_blob.get(&oid) {
            if let Some(u) = &scanned.unparsed {
                unparsed.insert((path.clone(), u.clone()));
            }
            for f in &scanned.findings {
                out.found.push(Located {
                    path: path.clone(),
                    seen: Seen::WorkTree,
                    finding: f.clone(),
                });
            }
        }
    }
    out.unparsed = unparsed.into_iter().collect();
    Ok(out)
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
        let Ok(name) = entry.name() else { continue };
        let before = parent.and_then(|p| p.get_name(name));
        if before.as_ref().is_some_and(|b| b.id() == entry.id()) {
            continue;
        }
        let path = format!("{prefix}{name}");
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

/// Tracked files and untracked files git does not ignore, relative to the work tree.
fn worktree_paths(repo: &Repository) -> Result<Vec<String>, Error> {
    let mut paths: HashSet<String> = HashSet::new();
    let index = repo.index().map_err(|e| git_err("read the index", e))?;
    for e in index.iter() {
        if let Ok(p) = String::from_utf8(e.path) {
            paths.insert(p);
        }
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
            if let Ok(p) = s.path() {
                paths.insert(p.to_string());
            }
        }
    }
    let mut v: Vec<String> = paths.into_iter().collect();
    v.sort();
    Ok(v)
}
