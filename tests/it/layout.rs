//! The architecture, guarded where the compiler cannot:
//! - the core is its own crate (`crates/core`), and its dependency closure (`cargo tree`) holds
//!   no runtime, network, TLS, Git or Kubernetes client crate, so no core code *can* do that I/O;
//! - no core file reaches for the standard library's I/O either (files, processes, sockets,
//!   the environment, the terminal, the clock), which a crate boundary cannot forbid;
//! - commands and the shared pipeline reach Git, Kubernetes and Vault only through `src/edge/`;
//! - the binary holds one HTTP client stack (hyper, kube's) and one TLS implementation
//!   (rustls with ring).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Crates that do I/O (async runtimes, HTTP, TLS, Git, the Kubernetes client): none may be in the
/// core's dependency closure.
const FORBIDDEN_CORE_CRATES: &[&str] = &[
    "tokio",
    "mio",
    "hyper",
    "hyper-util",
    "hyper-rustls",
    "ureq",
    "reqwest",
    "rustls",
    "ring",
    "openssl",
    "openssl-sys",
    "git2",
    "libgit2-sys",
    "libssh2-sys",
    "kube",
    "kube-client",
    "tower",
    "anstream",
    "rpassword",
];

/// The crates `package` is built with (normal dependencies, features as they resolve for
/// that package alone), as `cargo tree` lists them.
fn dependency_closure(package: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = std::process::Command::new(cargo)
        .current_dir(root())
        .args(["tree", "-p", package, "-e", "normal", "--prefix", "none"])
        .args(["--format", "{p}", "--locked", "--offline"])
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn the_core_crate_depends_on_nothing_that_does_io() {
    let closure = dependency_closure("kubectl-vault-core");
    assert!(
        closure.contains("serde"),
        "cargo tree listed the core's dependencies: {closure:?}"
    );
    let found: Vec<_> = FORBIDDEN_CORE_CRATES
        .iter()
        .filter(|c| closure.contains(**c))
        .collect();
    assert!(
        found.is_empty(),
        "the core crate (crates/core) reaches crates that do I/O: {found:?}; move that code to \
         src/edge/"
    );
}

/// HTTP clients and TLS implementations other than the one the binary uses (hyper under kube's
/// client and the Vault edge, rustls with ring).
const SECOND_STACKS: &[&str] = &[
    "ureq",
    "reqwest",
    "isahc",
    "attohttpc",
    "curl",
    "curl-sys",
    "surf",
    "openssl",
    "openssl-sys",
    "native-tls",
    "aws-lc-rs",
    "aws-lc-sys",
];

#[test]
fn the_binary_has_one_http_stack_and_one_tls_implementation() {
    let closure = dependency_closure("kubectl-vault");
    for one in ["hyper", "hyper-util", "hyper-rustls", "rustls", "ring"] {
        assert!(closure.contains(one), "{one} is not in {closure:?}");
    }
    let found: Vec<_> = SECOND_STACKS
        .iter()
        .filter(|c| closure.contains(**c))
        .collect();
    assert!(
        found.is_empty(),
        "a second HTTP or TLS stack is in the binary: {found:?}; talk HTTP through hyper \
         (src/edge/vault/transport.rs, kube's client) and TLS through rustls"
    );
}

/// What only an edge may use from the standard library: files, processes, the network, the
/// environment, the terminal and the clock.
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
    "println!",
    "eprintln!",
    "print!",
    "eprint!",
];

/// The clients of the outside systems, which only the edges may hold: commands and the shared
/// pipeline reach Git, Kubernetes and Vault through `crate::edge`.
const FORBIDDEN_OUTSIDE_EDGES: &[&str] = &["git2::", "kube::", "hyper", "rustls::"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// `file:line: word` for each line of code (before any `#[cfg(test)]`, comments cut) in `files`
/// that holds one of `words`.
fn occurrences(files: &[PathBuf], words: &[&str]) -> Vec<String> {
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

fn files_under(dir: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(&root().join(dir), &mut files);
    files.sort();
    files
}

#[test]
fn no_core_file_uses_the_standard_librarys_io() {
    let files = files_under("crates/core/src");
    assert!(files.len() > 10, "the core is in crates/core/src/");
    let found = occurrences(&files, FORBIDDEN_IN_CORE);
    assert!(
        found.is_empty(),
        "the core does I/O (move that to src/edge/ or a command):\n{}",
        found.join("\n")
    );
}

#[test]
fn commands_reach_the_outside_only_through_edges() {
    let mut files = files_under("src/commands");
    files.extend(["pipeline.rs", "cli.rs", "main.rs"].map(|f| root().join("src").join(f)));
    let found = occurrences(&files, FORBIDDEN_OUTSIDE_EDGES);
    assert!(
        found.is_empty(),
        "a command holds a client of an outside system (move that into src/edge/):\n{}",
        found.join("\n")
    );
}

/// One terminal: only `src/term.rs` writes to stdout and stderr; everything else prints
/// through the `Term` handed to each command (no `print!`, which panics on a closed pipe).
#[test]
fn only_the_terminal_prints() {
    let words = [
        "println!",
        "print!",
        "eprintln!",
        "eprint!",
        "std::io::stdout",
        "std::io::stderr",
    ];
    let files: Vec<PathBuf> = files_under("src")
        .into_iter()
        .filter(|f| !f.ends_with("src/term.rs"))
        .collect();
    let found = occurrences(&files, &words);
    assert!(
        found.is_empty(),
        "printing outside src/term.rs (write through the command's &Term):\n{}",
        found.join("\n")
    );
}
