//! Benchmark: a fleet of 50 clusters x 200 apps x 3 secrets (30,000 secrets, ~90,000 files)
//! from one fleet spec: `generate --out`, the first `commit` into a fresh repository and the
//! no-op re-run, on tmpfs (the tool's own cost). `cargo bench --bench fleet`

mod measure;

use std::path::Path;
use std::process::Command;

fn main() {
    measure::serve_as_launcher();
    let bin = env!("CARGO_BIN_EXE_kubectl-vault");
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("fleet.yaml");
    std::fs::write(&spec, measure::big_fleet(50, 200)).expect("spec");
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.join(format!("kubectl-vault-bench-fleet-{}", std::process::id()))
    } else {
        dir.path().join("work")
    };
    let runs = 2;
    let (mut generate, mut first, mut noop) = (
        measure::Best::default(),
        measure::Best::default(),
        measure::Best::default(),
    );
    for i in 0..runs {
        let out = base.join(format!("out{i}"));
        generate.add(&measure::run(
            Command::new(bin)
                .args(["generate", "-f"])
                .arg(&spec)
                .arg("--out")
                .arg(&out),
            "generate",
        ));
        let _ = std::fs::remove_dir_all(&out);
        let repo_path = base.join(format!("repo{i}"));
        let repo = git2::Repository::init(&repo_path).expect("init");
        let mut cfg = repo.config().expect("config");
        cfg.set_str("user.name", "bench").unwrap();
        cfg.set_str("user.email", "bench@example.com").unwrap();
        let commit = || {
            measure::run(
                Command::new(bin)
                    .args(["commit", "-f"])
                    .arg(&spec)
                    .arg("--repo")
                    .arg(&repo_path),
                "commit",
            )
        };
        first.add(&commit());
        noop.add(&commit());
        let _ = std::fs::remove_dir_all(&repo_path);
    }
    let _ = std::fs::remove_dir_all(&base);
    for (label, best) in [
        ("generate --out", &generate),
        ("commit, first", &first),
        ("commit, re-run (no change)", &noop),
    ] {
        println!(
            "fleet 50 clusters x 200 apps x 3 secrets, {label:<27} best of {runs}: {:>6.0} ms wall  peak RSS {:.1} MiB",
            best.ms(),
            best.mib()
        );
    }
}
