//! Benchmark: `commit` of the 1,000-app spec into a fresh repository, then the no-op re-run.
//! `cargo bench --bench commit`

use std::process::Command;
use std::time::Instant;

fn run(bin: &str, spec: &std::path::Path, repo: &std::path::Path) -> f64 {
    let start = Instant::now();
    let o = Command::new(bin)
        .args(["commit", "-f"])
        .arg(spec)
        .arg("--repo")
        .arg(repo)
        .output()
        .expect("run kubectl-vault");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    start.elapsed().as_secs_f64()
}

fn main() {
    let bin = env!("CARGO_BIN_EXE_kubectl-vault");
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("vault.yaml");
    std::fs::write(&spec, kubectl_vault::bench_support::big_spec(1000, 3)).expect("spec");
    let (mut first, mut noop) = (f64::MAX, f64::MAX);
    for i in 0..3 {
        let repo_path = dir.path().join(format!("fleet{i}"));
        let repo = git2::Repository::init(&repo_path).expect("init");
        let mut cfg = repo.config().expect("config");
        cfg.set_str("user.name", "bench").unwrap();
        cfg.set_str("user.email", "bench@example.com").unwrap();
        first = first.min(run(bin, &spec, &repo_path));
        noop = noop.min(run(bin, &spec, &repo_path));
    }
    println!(
        "commit 1000 apps x 3 secrets into a fresh repository: best of 3: {:>5.0} ms wall",
        first * 1000.0
    );
    println!(
        "commit re-run with no change (no commit made):        best of 3: {:>5.0} ms wall",
        noop * 1000.0
    );
}
