//! `commit`'s planner: compare the generated tree with what the branch holds (and, when the
//! branch is checked out, the index and the work tree) and decide which files the commit
//! adds, updates and removes, and which it must not overwrite: `plan = diff(tree, snapshot)`,
//! pure. The Git edge (`src/edge/git/`) reads the [`RepoSnapshot`], in rounds as the planner
//! asks ([`Planned::Needs`]), and applies the plan.
//!
//! Ownership, from the header every generated file starts with ([`crate::header`]):
//! - a file the tool did not generate (no header) is never changed or removed: replacing it is
//!   a conflict;
//! - a file generated for a cluster this run does not generate is another run's: replacing it
//!   is a conflict, and it is never pruned;
//! - a generated file edited by hand since (header hash mismatch), committed or not, is a
//!   conflict; so are staged changes and uncommitted changes nobody generated;
//! - stale files (committed, no longer generated) are pruned only inside the run's roots and
//!   only when this run's clusters own them.
//!
//! Conflicts stop the command unless `--force`; the plan lists the changes either way.

mod describe;
#[cfg(test)]
mod tests;

pub use describe::describe;

use crate::header;
use crate::tree::Tree;
use std::cell::RefCell;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Add,
    Update,
    Remove,
}

/// One file the commit changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub action: Action,
    /// Content on the branch before (None for Add).
    pub old: Option<String>,
    /// Content after (None for Remove).
    pub new: Option<String>,
}

/// A file the run refuses to overwrite without `--force`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub path: String,
    pub reason: String,
    /// What is there now (committed or in the work tree).
    pub current: String,
    /// What the tool would write (empty when it would delete the file).
    pub wanted: String,
}

/// The changes, sorted by path, and the conflicts (one per path).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub conflicts: Vec<Conflict>,
}

#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// Folders the tool owns: stale generated files are pruned only inside them.
    pub roots: &'a [String],
    /// The clusters being generated: only files whose header names one of them are pruned,
    /// and a file another cluster's run generated is never overwritten without `--force`.
    pub clusters: &'a [String],
}

/// A blob's id as Git names it (hex). Compared here, never computed: Git's hashing (with the
/// repository's filters and line endings) is the edge's.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlobId(pub String);

/// How the index and the work tree of a checked-out branch differ from the branch for one path
/// under the roots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dirty {
    /// The index differs from the branch for the path (staged new, modified, deleted or
    /// renamed).
    pub staged: bool,
    /// With `staged`, the blob the index holds for the path (`None`: not in the index). A run
    /// killed after writing the index leaves exactly the planned blob staged, which is not a
    /// change of the user's.
    pub index_blob: Option<BlobId>,
}

/// What the repository holds, as far as the planner needs it. The edge fills the first three
/// fields up front, then the texts the planner asks for ([`Query`]).
#[derive(Debug, Default)]
pub struct RepoSnapshot {
    /// Every file the branch holds under [`folders`], by path (empty on an unborn branch).
    pub committed: BTreeMap<String, BlobId>,
    /// The blob each generated file would be as Git stores it (filters and line endings
    /// applied), by path: one per file of the tree.
    pub wanted: BTreeMap<String, BlobId>,
    /// The paths under the roots whose index or work tree differs from the branch (none when
    /// the branch is not checked out).
    pub dirty: BTreeMap<String, Dirty>,
    /// Committed files' texts, as the work tree shows them (`None`: unreadable).
    committed_texts: BTreeMap<String, Option<String>>,
    /// Work-tree files' texts, converted as Git would store them (`None`: no such file).
    work_tree_texts: BTreeMap<String, Option<String>>,
}

impl RepoSnapshot {
    pub fn insert_committed_text(&mut self, path: String, text: Option<String>) {
        self.committed_texts.insert(path, text);
    }
    pub fn insert_work_tree_text(&mut self, path: String, text: Option<String>) {
        self.work_tree_texts.insert(path, text);
    }
}

/// A read the planner needs before it can plan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Query {
    /// The text of the committed file at this path.
    Committed(String),
    /// The text of the work-tree file at this path.
    WorkTree(String),
}

/// The planner's answer: the plan, or the reads it lacks.
#[derive(Debug)]
pub enum Planned {
    Plan(Plan),
    Needs(Vec<Query>),
}

/// The top-level folders the tool may write or prune in: the tree's and the roots'. The
/// branch's files under them are the snapshot's `committed`.
pub fn folders(tree: &Tree, roots: &[String]) -> Vec<String> {
    let mut folders: Vec<String> = tree
        .files
        .keys()
        .map(|p| p.split('/').next().unwrap_or(p))
        .chain(roots.iter().map(|r| r.split('/').next().unwrap_or(r)))
        .map(str::to_string)
        .collect();
    folders.sort();
    folders.dedup();
    folders
}

/// The committed files under the roots that the tree no longer produces: the files the run may
/// prune (if their headers say they are this run's), in path order.
pub fn stale<'a>(tree: &Tree, snapshot: &'a RepoSnapshot, roots: &[String]) -> Vec<&'a str> {
    snapshot
        .committed
        .keys()
        .filter(|path| {
            !tree.files.contains_key(*path)
                && roots.iter().any(|r| {
                    path.strip_prefix(r.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
                })
        })
        .map(String::as_str)
        .collect()
}

/// Whether a generated file's header lets this run prune or replace it: written for one of the
/// clusters being generated, or before headers named a cluster (inside this run's own roots).
fn owned_by_run(stamp: &header::Stamp, clusters: &[String]) -> bool {
    stamp
        .cluster
        .as_ref()
        .is_none_or(|c| clusters.iter().any(|x| x == c))
}

/// The snapshot as the planner sees it: a text not in it reads as absent, and is noted.
struct Lookup<'a> {
    snapshot: &'a RepoSnapshot,
    missing: RefCell<Vec<Query>>,
}

impl<'a> Lookup<'a> {
    fn committed_text(&self, path: &str) -> Option<&'a String> {
        match self.snapshot.committed_texts.get(path) {
            Some(text) => text.as_ref(),
            None => {
                self.missing
                    .borrow_mut()
                    .push(Query::Committed(path.into()));
                None
            }
        }
    }

    fn work_tree_text(&self, path: &str) -> Option<&'a String> {
        match self.snapshot.work_tree_texts.get(path) {
            Some(text) => text.as_ref(),
            None => {
                self.missing.borrow_mut().push(Query::WorkTree(path.into()));
                None
            }
        }
    }
}

/// `plan = diff(tree, snapshot)`: what the commit changes and what it would overwrite, or the
/// texts the snapshot still lacks (which texts are needed depends on the ones read: a stale
/// file's header says whether its work-tree copy matters).
pub fn plan(tree: &Tree, snapshot: &RepoSnapshot, options: &Options) -> Planned {
    let read = Lookup {
        snapshot,
        missing: RefCell::new(vec![]),
    };
    let planned = diff(tree, &read, options);
    let mut missing = read.missing.into_inner();
    if missing.is_empty() {
        return Planned::Plan(planned);
    }
    missing.sort();
    missing.dedup();
    Planned::Needs(missing)
}

fn diff(tree: &Tree, read: &Lookup, options: &Options) -> Plan {
    let snapshot = read.snapshot;
    let mut changes = Vec::new();
    let mut conflicts = Vec::new();

    // `committed`: what the branch holds when it differs from what is wanted (`None` when it
    // equals it, or the branch has no such file); `wanted_id`: `None` for a removal.
    let mut check_edits = |path: &str,
                           committed: Option<&String>,
                           wanted: &str,
                           wanted_id: Option<&BlobId>| {
        // Committed: the branch holds a file that is not ours, or ours edited by hand.
        if let Some(old) = committed {
            let reason = match header::read(old) {
                None => Some("exists in the branch and was not generated by kubectl-vault".into()),
                Some(s) if !owned_by_run(&s, options.clusters) => Some(format!(
                    "was generated for cluster {}, not for this spec's cluster",
                    s.cluster.as_deref().unwrap_or_default()
                )),
                Some(s) if s.is_hand_edited() => Some(
                    "was edited by hand after kubectl-vault generated it (committed)".to_string(),
                ),
                _ => None,
            };
            if let Some(reason) = reason {
                conflicts.push(Conflict {
                    path: path.into(),
                    reason,
                    current: old.clone(),
                    wanted: wanted.into(),
                });
            }
        }
        // Uncommitted: the index or work tree differs from the branch and from what we would
        // write.
        let Some(dirty) = snapshot.dirty.get(path) else {
            return;
        };
        if dirty.staged && dirty.index_blob.as_ref() != wanted_id {
            conflicts.push(Conflict {
                path: path.into(),
                reason: format!("has staged changes: commit them, or unstage them with `git restore --staged -- {path}`"),
                current: read.work_tree_text(path).cloned().unwrap_or_default(),
                wanted: wanted.into(),
            });
            return;
        }
        if let Some(disk) = read.work_tree_text(path) {
            if Some(disk) != committed && disk != wanted {
                let reason = match header::read(disk) {
                    Some(s) if !s.is_hand_edited() => {
                        "has uncommitted changes (an older generated version)"
                    }
                    Some(_) => "was edited by hand after kubectl-vault generated it (uncommitted)",
                    None => "has uncommitted changes that kubectl-vault did not write",
                };
                conflicts.push(Conflict {
                    path: path.into(),
                    reason: reason.into(),
                    current: disk.clone(),
                    wanted: wanted.into(),
                });
            }
        }
    };

    for (path, content) in &tree.files {
        // Compare blob ids first: the committed text is read only when they differ.
        let committed_id = snapshot.committed.get(path);
        let wanted_id = snapshot.wanted.get(path);
        if committed_id.is_some() && committed_id == wanted_id {
            check_edits(path, None, content, wanted_id);
            continue;
        }
        let old = committed_id.and_then(|_| read.committed_text(path));
        match old {
            // Stored differently (e.g. line endings), the same text.
            Some(o) if o == content => check_edits(path, None, content, wanted_id),
            _ => {
                check_edits(path, old, content, wanted_id);
                changes.push(Change {
                    path: path.clone(),
                    action: if committed_id.is_some() {
                        Action::Update
                    } else {
                        Action::Add
                    },
                    old: old.cloned(),
                    new: Some(content.clone()),
                });
            }
        }
    }
    for path in stale(tree, snapshot, options.roots) {
        let Some(old) = read.committed_text(path) else {
            continue;
        };
        match header::read(old) {
            // Not ours, or another cluster's: never touched.
            None => continue,
            Some(s) if !owned_by_run(&s, options.clusters) => continue,
            Some(_) => {
                check_edits(path, Some(old), "", None);
                changes.push(Change {
                    path: path.to_string(),
                    action: Action::Remove,
                    old: Some(old.clone()),
                    new: None,
                });
            }
        }
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    // A committed foreign file reported twice (branch and work tree) once is enough.
    conflicts.dedup_by(|a, b| a.path == b.path);
    Plan { changes, conflicts }
}
