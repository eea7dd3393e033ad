//! Benchmark: `commit` of the 1,000-app spec into a fresh repository, then the no-op re-run,
//! on tmpfs (the tool's own cost) and on the working disk (what a user waits for).
//! `cargo bench --bench commit`

mod measure;

use std::path::{Path, PathBuf};
use std::process::Command;

fn commit(bin: &str, spec: &Path, repo: &Path) -> measure::Run {
    measure::run(
        Command::new(bin)
            .args(["commit", "-f"])
            .arg(spec)
            .arg("--repo")
            .arg(repo),
        "commit",
    )
}

fn main() {
    measure::serve_as_launcher();
    let bin = env!("CARGO_BIN_EXE_kubectl-vault");
    let (dir, spec) = measure::big_spec();
    let shm = Path::new("/dev/shm");
    let cases: Vec<(&str, PathBuf)> = [
        shm.is_dir().then(|| {
            (
                "on tmpfs",
                shm.join(format!("kubectl-vault-bench-{}", std::process::id())),
            )
        }),
        Some(("on disk", dir.path().join("repos"))),
    ]
    .into_iter()
    .flatten()
    .collect();
    let runs = 3;
    for (label, base) in cases {
        let (mut first, mut noop) = (measure::Best::default(), measure::Best::default());
        for i in 0..runs {
            let repo_path = base.join(format!("fleet{i}"));
            let repo = git2::Repository::init(&repo_path).expect("init");
            let mut cfg = repo.config().expect("config");
            cfg.set_str("user.name", "bench").unwrap();
            cfg.set_str("user.email", "bench@example.com").unwrap();
            first.add(&commit(bin, &spec, &repo_path));
            noop.add(&commit(bin, &spec, &repo_path));
        }
        let _ = std::fs::remove_dir_all(&base);
        println!(
            "commit 1000 apps x 3 secrets, {label:<8} first commit (9,013 files): best of {runs}: {:>5.0} ms wall  peak RSS {:.1} MiB",
            first.ms(),
            first.mib()
        );
        println!(
            "commit 1000 apps x 3 secrets, {label:<8} re-run, no change:          best of {runs}: {:>5.0} ms wall  peak RSS {:.1} MiB",
            noop.ms(),
            noop.mib()
        );
    }
}
