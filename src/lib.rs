//! kubectl-vault: wire HashiCorp Vault into Kubernetes the GitOps way.
//!
//! The folders say the architecture:
//! - [`core`]: the pure core, no I/O — spec → model → Vault side → render → self-check → tree,
//!   and the pure halves of `verify` and of the Vault planner;
//! - [`edge`]: the edges — files, Git, Kubernetes, Vault: I/O only, no decisions;
//! - [`commands`]: one module per subcommand, thin glue between the two; [`pipeline`] is the
//!   glue every command shares (read the spec, run the core).

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
        "std::time::SystemTime",
        "std::time::Instant",
        "SystemTime::now",
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

    /// The clients of the outside systems, which only the edges may hold: commands and the
    /// shared pipeline reach Git, Kubernetes and Vault through `crate::edge`.
    const FORBIDDEN_OUTSIDE_EDGES: &[&str] = &["git2::", "ureq::", "kube::", "hyper", "rustls::"];

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

    /// `file:line: word` for each line of code (before any `#[cfg(test)]`, comments cut)
    /// in `files` that holds one of `words`.
    fn occurrences(files: &[std::path::PathBuf], words: &[&str]) -> Vec<String> {
        let mut found = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(file).unwrap();
            // Unit tests may build fixtures however they like: the check ends at `#[cfg(test)]`.
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for (n, line) in code.lines().enumerate() {
                let line = line.split("//").next().unwrap_or_default();
                for word in words {
                    if mentions(line, word) {
                        found.push(format!("{}:{}: {word}", file.display(), n + 1));
                    }
                }
            }
        }
        found
    }

    /// Whether `line` names `word` as a path of its own (`kube::` counts, `edge::kube::` does not).
    fn mentions(line: &str, word: &str) -> bool {
        line.match_indices(word).any(|(i, _)| {
            !line[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
        })
    }

    fn src(dir: &str) -> Vec<std::path::PathBuf> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&root.join(dir), &mut files);
        files.sort();
        files
    }

    #[test]
    fn no_core_file_does_io() {
        let files = src("core");
        assert!(files.len() > 10, "the core is in src/core/");
        let found = occurrences(&files, FORBIDDEN_IN_CORE);
        assert!(
            found.is_empty(),
            "the core does I/O or uses an edge (move that to src/edge/ or a command):\n{}",
            found.join("\n")
        );
    }

    #[test]
    fn commands_reach_the_outside_only_through_edges() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = src("commands");
        files.extend(["pipeline.rs", "cli.rs", "main.rs"].map(|f| root.join(f)));
        let found = occurrences(&files, FORBIDDEN_OUTSIDE_EDGES);
        assert!(
            found.is_empty(),
            "a command holds a client of an outside system (move that into src/edge/):\n{}",
            found.join("\n")
        );
    }
}
