//! `kubectl vault generate`: the Flux tree for a spec, to stdout or into a folder.

use crate::cli::SpecArgs;
use crate::error::Error;
use crate::pipeline;
use crate::tree::Tree;
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Write the tree into this folder (created if missing) instead of printing the objects.
    /// Files of the tree are overwritten; other files in the folder are left alone.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn run(args: GenerateArgs) -> Result<(), Error> {
    let generated = pipeline::generate(&args.spec.file, &args.spec.options())?;
    eprint!("{}", generated.warnings);
    match &args.out {
        Some(dir) => {
            write_tree(&generated.tree, dir)?;
            eprintln!(
                "wrote {} files for cluster {} into {}",
                generated.tree.len(),
                generated.stack.cluster,
                dir.display()
            );
            Ok(())
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(objects_stream(&generated.tree).as_bytes())
                .map_err(|e| Error::environment(format!("cannot write to stdout: {e}")))
        }
    }
}

/// Every Kubernetes object of the tree as one multi-document YAML stream, in path order.
pub fn objects_stream(tree: &Tree) -> String {
    let mut out = String::new();
    for (path, content) in &tree.files {
        if !path.ends_with(".yaml") || path.ends_with("/kustomization.yaml") {
            continue;
        }
        out.push_str("---\n# Source: ");
        out.push_str(path);
        out.push('\n');
        out.push_str(content);
    }
    out
}

/// Writes every file through a temporary file and a rename, so no file is ever half written.
pub fn write_tree(tree: &Tree, dir: &Path) -> Result<(), Error> {
    let fail = |what: &str, p: &Path, e: std::io::Error| {
        Error::environment(format!("cannot {what} {}: {e}", p.display()))
    };
    for (rel, content) in &tree.files {
        let path = dir.join(rel);
        let parent = path.parent().expect("files live in folders");
        std::fs::create_dir_all(parent).map_err(|e| fail("create", parent, e))?;
        if std::fs::read(&path).ok().as_deref() == Some(content.as_bytes()) {
            continue;
        }
        let tmp = parent.join(format!(
            ".{}.kubectl-vault-tmp",
            path.file_name().expect("file").to_string_lossy()
        ));
        std::fs::write(&tmp, content).map_err(|e| fail("write", &tmp, e))?;
        if rel.ends_with(".sh") {
            set_executable(&tmp);
        }
        std::fs::rename(&tmp, &path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            fail("write", &path, e)
        })?;
    }
    Ok(())
}

#[cfg(unix)]
fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755));
}

#[cfg(not(unix))]
fn set_executable(_path: &Path) {}
