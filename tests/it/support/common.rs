//! Helpers shared by the integration tests: run the real binary, read trees back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary, run with a HOME of its own (an empty folder per test process): nothing it
/// reads or writes by default (`~/.vault-token`, `~/.kube/config`, git's global config) is
/// the developer's. Tests that need a kubeconfig or a token pass it explicitly.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kubectl-vault"));
    c.env("HOME", test_home())
        .env("XDG_CONFIG_HOME", test_home());
    c
}

/// The HOME every run of the binary gets (see [`bin`]).
pub fn test_home() -> &'static Path {
    static HOME: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    HOME.get_or_init(|| tempfile::tempdir().expect("a HOME for the tests"))
        .path()
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// Runs the binary with `args` and returns its output.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run kubectl-vault")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every file below `dir`, by relative path.
pub fn read_tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read_to_string(&p).expect("utf-8 file"));
            }
        }
    }
    out
}

/// The tree as one text, for a snapshot.
pub fn tree_text(tree: &BTreeMap<String, String>) -> String {
    let mut s = String::new();
    for (path, content) in tree {
        s.push_str(&format!("===== {path}\n{content}"));
    }
    s
}

/// Insta settings whose filters make output stable across machines and runs: each
/// `(path, name)` pair turns that path into `[name]` (e.g. a temp dir into `[TMP]`), and
/// loopback ports, the tool's version and RFC 3339 timestamps become placeholders. Use as
/// `redactions(&[(dir, "TMP")]).bind(|| insta::assert_snapshot!(...))`.
pub fn redactions(paths: &[(&Path, &str)]) -> insta::Settings {
    let mut paths: Vec<_> = paths
        .iter()
        .map(|(p, name)| (p.to_string_lossy().into_owned(), format!("[{name}]")))
        .collect();
    // A folder nested in another is replaced first.
    paths.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    let mut filters: Vec<(String, String)> = paths
        .into_iter()
        .map(|(p, name)| (regex_escape(&p), name))
        .collect();
    filters.extend(
        [
            (r"(127\.0\.0\.1|localhost):\d+", "$1:[PORT]"),
            (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[TIMESTAMP]"),
        ]
        .map(|(re, to)| (re.to_string(), to.to_string())),
    );
    filters.push((
        format!(r"\b{}\b", regex_escape(env!("CARGO_PKG_VERSION"))),
        "[VERSION]".to_string(),
    ));
    let mut settings = insta::Settings::clone_current();
    for (re, to) in filters {
        settings.add_filter(&re, to);
    }
    settings
}

fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Asserts that `o` (a step named `what`) succeeded, showing its exit code and output if not.
pub fn ok(what: &str, o: &Output) {
    assert!(
        o.status.success(),
        "{what}: exit {:?}\n{}{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
}

/// Every top-level subcommand a user sees (the hidden `__complete` and `__exec-credential`
/// are not here).
pub const SUBCOMMANDS: &[&str] = &[
    "init",
    "generate",
    "commit",
    "verify",
    "configure",
    "operator",
    "scan",
    "import",
    "schema",
    "completion",
];

/// `kubectl vault verify -f SPEC --kubeconfig KUBECONFIG EXTRA…`, with no `KUBECONFIG` from
/// the environment: the one verify runner of the tests.
pub fn verify(spec: &Path, kubeconfig: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("verify")
        .arg("-f")
        .arg(spec)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(extra)
        .env_remove("KUBECONFIG")
        .output()
        .expect("run kubectl-vault verify")
}

/// [`verify`] with `-o json`: the exit code and the parsed report (a panic that shows both
/// streams when stdout is not JSON).
pub fn verify_json(
    spec: &Path,
    kubeconfig: &Path,
    extra: &[&str],
) -> (Option<i32>, serde_json::Value) {
    let o = verify(spec, kubeconfig, &[&["-o", "json"], extra].concat());
    let v = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&o), stderr(&o)));
    (o.status.code(), v)
}
