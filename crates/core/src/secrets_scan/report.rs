//! The report: findings grouped per secret and file, minus what the allow-list allows; what
//! was not read; whether the run fails.

use super::{Finding, Rule, MAX_FILE};
use std::collections::BTreeSet;

/// Where a file content was seen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seen {
    /// Introduced (added or changed) at the path by this commit.
    Commit {
        /// Committer time, seconds since the epoch (orders the commits).
        time: i64,
        id: String,
    },
    /// In the work tree now.
    WorkTree,
    /// In the index, staged for the next commit (`scan --staged`).
    Staged,
}

/// A finding at a path, in one commit or the work tree.
#[derive(Debug, Clone)]
pub struct Located {
    pub path: String,
    pub seen: Seen,
    pub finding: Finding,
}

/// One secret in one file: every commit that introduced it there, and whether the work tree
/// still holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub fingerprint: String,
    pub rule: Rule,
    pub key: String,
    pub object: Option<String>,
    pub path: String,
    /// The line in the work tree, else in the latest commit introducing it.
    pub line: u32,
    /// Commits introducing it at this path, oldest first.
    pub commits: Vec<String>,
    pub in_work_tree: bool,
}

/// The report's entries: the findings grouped per secret and file, sorted by path, line, rule,
/// fingerprint.
pub fn report(found: Vec<Located>) -> Vec<Entry> {
    use std::collections::BTreeMap;
    // (fingerprint, path) → (finding, seen list with lines)
    type Group = (Finding, Vec<(Seen, u32)>);
    let mut groups: BTreeMap<(String, String), Group> = BTreeMap::new();
    for l in found {
        let g = groups
            .entry((l.finding.fingerprint.clone(), l.path.clone()))
            .or_insert_with(|| (l.finding.clone(), Vec::new()));
        g.1.push((l.seen, l.finding.line));
    }
    let mut entries: Vec<Entry> = groups
        .into_iter()
        .map(|((fingerprint, path), (f, mut seen))| {
            seen.sort();
            seen.dedup();
            // Commits sort before the work tree, oldest first.
            let in_work_tree = seen.iter().any(|(s, _)| *s == Seen::WorkTree);
            let line = seen.last().map(|(_, l)| *l).unwrap_or(f.line);
            let mut commits: Vec<String> = Vec::new();
            for (s, _) in &seen {
                if let Seen::Commit { id, .. } = s {
                    if !commits.contains(id) {
                        commits.push(id.clone());
                    }
                }
            }
            Entry {
                fingerprint,
                rule: f.rule,
                key: f.key,
                object: f.object,
                path,
                line,
                commits,
                in_work_tree,
            }
        })
        .collect();
    entries.sort_by(|a, b| {
        (&a.path, a.line, a.rule, &a.fingerprint).cmp(&(&b.path, b.line, b.rule, &b.fingerprint))
    });
    entries
}

/// The entries an allow-list's live fingerprints leave, and how many distinct fingerprints it
/// allowed.
pub fn unallowed(entries: Vec<Entry>, allowed: &BTreeSet<String>) -> (Vec<Entry>, usize) {
    let mut hit = BTreeSet::new();
    let shown = entries
        .into_iter()
        .filter(|e| {
            if allowed.contains(&e.fingerprint) {
                hit.insert(e.fingerprint.clone());
                false
            } else {
                true
            }
        })
        .collect();
    (shown, hit.len())
}

/// Why a file's content was not scanned.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unread {
    /// Larger than [`MAX_FILE`].
    TooLarge,
    /// Not in the repository's object database (a partial clone, a damaged repository).
    Missing,
    /// Reading it failed: what the system said.
    Failed(String),
}

impl Unread {
    pub fn reason(&self) -> String {
        match self {
            Unread::TooLarge => format!("over {} MiB", MAX_FILE / (1024 * 1024)),
            Unread::Missing => {
                "not in the object database (a partial clone? fetch the blobs)".to_string()
            }
            Unread::Failed(e) => format!("could not be read: {e}"),
        }
    }
}

/// A history cut short (a shallow clone): its older commits were never seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shallow {
    /// The commits it ends at (their parents were not fetched), full ids, sorted.
    pub boundary: Vec<String>,
    /// Parents those commits name that are not in the repository: at least that many commits
    /// (and all before them) were not scanned.
    pub missing_parents: usize,
}

/// Whether the run fails (exit 1, unless `--exit-zero`): a finding the allow-list does not
/// hold, a file that was not read (it may hold one), a shallow history (its older commits
/// were not scanned) unless `--allow-shallow`, or an allow-list entry that has expired.
pub fn fails(
    findings: usize,
    unread: usize,
    shallow: bool,
    allow_shallow: bool,
    expired: usize,
) -> bool {
    findings > 0 || unread > 0 || (shallow && !allow_shallow) || expired > 0
}
