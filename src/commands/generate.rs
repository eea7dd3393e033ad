//! `kubectl vault generate`: the Flux tree for a spec, to stdout or into a folder.

use crate::commands::args::SpecArgs;
use crate::core::tree::{self, Tree};
use crate::edge::fs;
use crate::error::Error;
use crate::pipeline;
use crate::term::Term;
use clap::Args;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    #[command(flatten)]
    pub(crate) spec: SpecArgs,
    /// Write the tree into this folder (created if missing) instead of printing the objects.
    /// Files of the tree are overwritten; other files in the folder are left alone.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
}

pub(crate) fn run(args: GenerateArgs, term: &Term) -> Result<(), Error> {
    let generated = pipeline::generate_all(&args.spec.file, &args.spec.options())?;
    term.warnings(&generated.warnings);
    match &args.out {
        Some(dir) => {
            let done = write_tree(&generated.tree, dir)?;
            let clusters = generated.clusters();
            let whose = format!(
                "for cluster{} {}",
                if clusters.len() == 1 { "" } else { "s" },
                clusters.join(", ")
            );
            let files = |n: usize| format!("{n} file{}", if n == 1 { "" } else { "s" });
            term.err(match done {
                Written {
                    written: 0,
                    unchanged,
                } => format!(
                    "{} unchanged {whose} in {}: nothing to write\n",
                    files(unchanged),
                    dir.display()
                ),
                Written {
                    written,
                    unchanged: 0,
                } => {
                    format!("wrote {} {whose} into {}\n", files(written), dir.display())
                }
                Written { written, unchanged } => format!(
                    "wrote {} ({unchanged} unchanged) {whose} into {}\n",
                    files(written),
                    dir.display()
                ),
            });
            Ok(())
        }
        None => term.out(objects_stream(&generated.tree)),
    }
}

/// Every Kubernetes object of the tree as one multi-document YAML stream, in path order.
pub(crate) fn objects_stream(tree: &Tree) -> String {
    let mut out = String::new();
    for (path, content) in &tree.files {
        // Nor the argocd-cm patch (Argo CD's ConfigMap's keys, not an object).
        if !path.ends_with(".yaml")
            || path.ends_with("/kustomization.yaml")
            || path.ends_with("/argocd-cm-patch.yaml")
        {
            continue;
        }
        out.push_str("---\n# Source: ");
        out.push_str(path);
        out.push('\n');
        out.push_str(content);
    }
    out
}

/// Writes the tree into `dir`. A file that already exists is replaced through a temporary
/// file and a rename, so it is never half written; unchanged files are not touched.
/// What writing a tree did: how many files were written, and how many were already as wanted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Written {
    pub(crate) written: usize,
    pub(crate) unchanged: usize,
}

pub(crate) fn write_tree(tree: &Tree, dir: &Path) -> Result<Written, Error> {
    let fail = |what: &str, p: &Path, e: std::io::Error| {
        Error::environment(format!("cannot {what} {}: {e}", p.display()))
    };
    // Folders this run created hold no old files: skip the read-and-compare there.
    let mut fresh_dirs: HashSet<PathBuf> = HashSet::new();
    let mut known_dirs: HashSet<PathBuf> = HashSet::new();
    let mut done = Written::default();
    for (rel, content) in &tree.files {
        let path = dir.join(rel);
        let parent = path.parent().expect("files live in folders").to_path_buf();
        if !known_dirs.contains(&parent) {
            if !parent.is_dir() {
                std::fs::create_dir_all(&parent).map_err(|e| fail("create", &parent, e))?;
                fresh_dirs.insert(parent.clone());
            }
            known_dirs.insert(parent.clone());
        }
        let script = tree::is_script(rel);
        if fresh_dirs.contains(&parent) {
            fs::write_new_file(&path, content.as_bytes(), script)
        } else if std::fs::read(&path).ok().as_deref() == Some(content.as_bytes()) {
            done.unchanged += 1;
            continue;
        } else {
            fs::write_atomically(&path, content.as_bytes(), script)
        }
        .map_err(|e| fail("write", &path, e))?;
        done.written += 1;
    }
    Ok(done)
}
