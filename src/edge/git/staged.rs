//! `scan --staged`'s Git edge: exactly what the next commit would add — the index against
//! `HEAD` (everything staged when `HEAD` is unborn), staged content only, never the work tree.
//! Each added or changed regular file's blob is read from the object database (bounded, as the
//! history's are) and scanned as its path says. Deleted files add nothing; symbolic links and
//! submodules hold no file content. Only tree and index entries are compared (libgit2 compares
//! their ids): a one-file change on a 10,000-file repository reads one blob.

use super::history::{git_err, open, scan_stored, History, Wanted};
use crate::core::secrets_scan::{shown_path, Located, Seen, Syntax};
use crate::error::Error;
use git2::{Delta, FileMode, Oid};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

pub(crate) fn scan(repo_dir: &Path) -> Result<History, Error> {
    let repo = open(repo_dir)?;
    let index = repo.index().map_err(|e| git_err("read the index", e))?;
    // An unborn HEAD (no commit yet): everything staged is added.
    let head = match repo.head() {
        Ok(h) => Some(
            h.peel_to_tree()
                .map_err(|e| git_err("read HEAD's tree", e))?,
        ),
        Err(e)
            if matches!(
                e.code(),
                git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound
            ) =>
        {
            None
        }
        Err(e) => return Err(git_err("read HEAD", e)),
    };
    let diff = repo
        .diff_tree_to_index(head.as_ref(), Some(&index), None)
        .map_err(|e| git_err("compare the index with HEAD", e))?;
    // blob → the paths it is staged at.
    let mut staged: HashMap<Oid, Vec<String>> = HashMap::new();
    for d in diff.deltas() {
        if !matches!(
            d.status(),
            Delta::Added | Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange
        ) {
            continue;
        }
        let f = d.new_file();
        let regular = matches!(f.mode(), FileMode::Blob | FileMode::BlobExecutable);
        if !regular || f.id().is_zero() {
            continue;
        }
        let Some(raw) = f.path_bytes() else { continue };
        staged.entry(f.id()).or_default().push(shown_path(raw));
    }
    let odb = repo
        .odb()
        .map_err(|e| git_err("open the object database", e))?;
    let mut out = History::default();
    let mut unread = BTreeSet::new();
    let mut unparsed = BTreeSet::new();
    let mut blobs: Vec<(Oid, Vec<String>)> = staged.into_iter().collect();
    blobs.sort();
    for (oid, mut paths) in blobs {
        paths.sort();
        let mut wanted: Wanted = [false; 3];
        for p in &paths {
            wanted[Syntax::of(p).index()] = true;
        }
        match scan_stored(&repo, &odb, oid, wanted) {
            Err(why) => {
                for p in paths {
                    unread.insert((p, why.clone()));
                }
            }
            Ok(scans) => {
                out.blobs += 1;
                for p in paths {
                    let Some((_, s)) = scans.iter().find(|(syntax, _)| *syntax == Syntax::of(&p))
                    else {
                        continue;
                    };
                    if let Some(u) = &s.unparsed {
                        unparsed.insert((p.clone(), u.clone()));
                    }
                    for f in &s.findings {
                        out.found.push(Located {
                            path: p.clone(),
                            seen: Seen::Staged,
                            finding: f.clone(),
                        });
                    }
                }
            }
        }
    }
    out.unread = unread.into_iter().collect();
    out.unparsed = unparsed.into_iter().collect();
    Ok(out)
}
