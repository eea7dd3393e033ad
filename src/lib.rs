//! kubectl-vault: wire HashiCorp Vault into Kubernetes the GitOps way.
//!
//! The folders say the architecture:
//! - [`core`]: the pure core, no I/O — spec → model → Vault side → render → self-check → tree,
//!   and the pure halves of `verify` and of the Vault planner;
//! - [`edge`]: the edges — files, Git, Kubernetes, Vault: I/O only, no decisions;
//! - [`commands`]: one module per subcommand, thin glue between the two; [`pipeline`] is the
//!   glue every command shares (read the spec, run the core).

pub mod bench_support;
pub mod cli;
pub mod commands;
pub mod core;
pub mod edge;
pub mod error;
pub mod pipeline;

/// The core/edge split, guarded: no file under `src/core/` may do I/O or reach for an edge.
/// (This test lives outside the core because it reads files itself.)
#[cfg(test)]
mod layout {
    /// What only an edge may use: files, processes, the network, the environment, the clock,
    /// and the clients of Kubernetes, Vault and Git.
    const FORBIDDEN_IN_CORE: &[&str] = &[
        "std::fs",
        "std::process",
        "std::net",
        "std::env",
        "std::io::stdin",
        "std::io::stdout",
        "std::io::stderr",
        "SystemTime",
        "Instant::now",
        "tokio",
        "ureq",
        "hyper",
        "kube::Client",
        "kube::Api",
        "git2",
        "println!",
        "eprintln!",
        "print!",
        "eprint!",
        "crate::edge",
        "crate::commands",
        "crate::pipeline",
        "crate::cli",
    ];

    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn no_core_file_does_io() {
        let core = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/core");
        let mut files = Vec::new();
        rust_files(&core, &mut files);
        files.sort();
        assert!(files.len() > 10, "the core is in src/core/");
        let mut found = Vec::new();
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            // Unit tests may build fixtures however they like: the check ends at `#[cfg(test)]`.
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for (n, line) in code.lines().enumerate() {
                let line = line.split("//").next().unwrap_or_default();
                for word in FORBIDDEN_IN_CORE {
                    if line.contains(word) {
                        found.push(format!("{}:{}: {word}", file.display(), n + 1));
                    }
                }
            }
        }
        assert!(
            found.is_empty(),
            "the core does I/O or uses an edge (move that to src/edge/ or a command):\n{}",
            found.join("\n")
        );
    }
}
