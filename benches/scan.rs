//! Benchmark: `scan` of a generated GitOps repository with 10,000 commits (mostly one small
//! manifest change each, over 1,000 files in 100 folders, a plaintext Secret planted every
//! 500 commits), history and work tree, against the floor: `git log -p --all` producing the
//! same history; then the work tree alone (and detect-secrets on the same tree, when
//! DETECT_SECRETS names it or it is on PATH). Then `scan --staged` on a 10,000-file
//! repository with a typical change staged (three files).
//! `cargo bench --bench scan`; `SCAN_BENCH_BASE=/path/to/an/older/kubectl-vault` measures that
//! binary too, runs alternated (for a before/after table).

mod measure;

use git2::{build::TreeUpdateBuilder, FileMode, Oid, Repository, Signature, Time};
use std::path::Path;
use std::process::Command;

const COMMITS: usize = 10_000;
const FILES: usize = 1_000;

fn manifest(i: usize, rev: usize) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  namespace: ns-{}\n  labels:\n    app.kubernetes.io/name: app-{i}\nspec:\n  replicas: {}\n  selector:\n    matchLabels:\n      app: app-{i}\n  template:\n    metadata:\n      labels:\n        app: app-{i}\n    spec:\n      serviceAccountName: app-{i}\n      containers:\n        - name: main\n          image: registry.example.com/app-{i}:1.{rev}.0\n          env:\n            - name: DB_PASSWORD\n              valueFrom:\n                secretKeyRef: {{name: app-{i}-db, key: password}}\n          resources:\n            requests: {{cpu: 100m, memory: 128Mi}}\n",
        i % 100,
        1 + rev % 3
    )
}

fn generate(path: &Path) {
    let repo = Repository::init(path).expect("init");
    let mut parent: Option<Oid> = None;
    let empty = repo.treebuilder(None).unwrap().write().unwrap();
    let mut base = repo.find_tree(empty).unwrap();
    for n in 0..COMMITS {
        let mut b = TreeUpdateBuilder::new();
        if n == 0 {
            for i in 0..FILES {
                let blob = repo.blob(manifest(i, 0).as_bytes()).unwrap();
                b.upsert(
                    format!("apps/ns-{}/app-{i}.yaml", i % 100),
                    blob,
                    FileMode::Blob,
                );
            }
        } else if n % 500 == 0 {
            let secret = format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: leaked-{n}\n  namespace: ns-{}\nstringData:\n  password: bench-planted-{n}-Xq9\n",
                n % 100
            );
            let blob = repo.blob(secret.as_bytes()).unwrap();
            b.upsert(
                format!("apps/ns-{}/leaked-{n}.yaml", n % 100),
                blob,
                FileMode::Blob,
            );
        } else {
            let i = (n * 7919) % FILES;
            let blob = repo.blob(manifest(i, n).as_bytes()).unwrap();
            b.upsert(
                format!("apps/ns-{}/app-{i}.yaml", i % 100),
                blob,
                FileMode::Blob,
            );
        }
        let tree = repo
            .find_tree(b.create_updated(&repo, &base).unwrap())
            .unwrap();
        let sig = Signature::new(
            "bench",
            "bench@example.com",
            &Time::new(1_700_000_000 + n as i64, 0),
        )
        .unwrap();
        let parents: Vec<git2::Commit> = parent
            .iter()
            .map(|p| repo.find_commit(*p).unwrap())
            .collect();
        let parent_refs: Vec<&git2::Commit> = parents.iter().collect();
        let id = repo
            .commit(
                Some("refs/heads/main"),
                &sig,
                &sig,
                &format!("change {n}"),
                &tree,
                &parent_refs,
            )
            .unwrap();
        parent = Some(id);
        base = tree;
    }
    repo.set_head("refs/heads/main").unwrap();
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .unwrap();
}

/// Best of `runs` runs of each command, alternated (a busy machine slows both alike).
fn best_of(runs: usize, cmds: &mut [(&str, Command)]) -> Vec<measure::Best> {
    let mut best: Vec<measure::Best> = cmds.iter().map(|_| measure::Best::default()).collect();
    for _ in 0..runs {
        for (i, (what, cmd)) in cmds.iter_mut().enumerate() {
            best[i].add(&measure::run(cmd, what));
        }
    }
    best
}

fn scan_cmd(bin: &str, repo: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(bin);
    c.args(["scan", "--exit-zero", "--repo"])
        .arg(repo)
        .args(extra);
    c
}

/// `git` in `dir`, with no user or system configuration.
fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir)
        .args([
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.com",
        ])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    c
}

fn main() {
    measure::serve_as_launcher();
    let bin = env!("CARGO_BIN_EXE_kubectl-vault");
    let base = std::env::var("SCAN_BENCH_BASE").ok();
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm).expect("tempdir")
    } else {
        tempfile::tempdir().expect("tempdir")
    };
    let repo = dir.path().join("fleet");
    let t = std::time::Instant::now();
    generate(&repo);
    println!(
        "generated {COMMITS} commits over {FILES} files in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let runs = 3;
    for (label, extra) in [
        ("history + work tree", &[][..]),
        ("work tree only", &["--no-history"][..]),
    ] {
        let mut cmds = vec![("scan", scan_cmd(bin, &repo, extra))];
        if let Some(b) = &base {
            cmds.push(("scan (base)", scan_cmd(b, &repo, extra)));
        }
        if extra.is_empty() {
            let mut log = git(&repo);
            log.args(["log", "-p", "--all"]);
            cmds.push(("git log -p --all", log));
        }
        let best = best_of(runs, &mut cmds);
        for ((what, _), b) in cmds.iter().zip(&best) {
            println!(
                "{what:<18} {label:<20}: best of {runs}: {:>6.0} ms wall  {:>6.0} ms CPU  peak RSS {:.1} MiB",
                b.ms(),
                b.cpu_ms(),
                b.mib()
            );
        }
        if extra.is_empty() {
            let floor = best.last().expect("git log");
            println!(
                "scan / git log -p --all: {:.2}x wall, {:.2}x CPU{}",
                best[0].ms() / floor.ms(),
                best[0].cpu_ms() / floor.cpu_ms(),
                base.as_ref()
                    .map(|_| format!(
                        " (base: {:.2}x wall, {:.2}x CPU)",
                        best[1].ms() / floor.ms(),
                        best[1].cpu_ms() / floor.cpu_ms()
                    ))
                    .unwrap_or_default()
            );
        }
    }
    // detect-secrets on the same work tree (its `scan` reads the files git tracks).
    let ds = std::env::var("DETECT_SECRETS").unwrap_or_else(|_| "detect-secrets".into());
    if Command::new(&ds)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        let mut c = Command::new(&ds);
        c.arg("scan").current_dir(&repo);
        let mut cmds = [
            ("scan --no-history", scan_cmd(bin, &repo, &["--no-history"])),
            ("detect-secrets scan", c),
        ];
        let best = best_of(runs, &mut cmds);
        for ((what, _), b) in cmds.iter().zip(&best) {
            println!(
                "{what:<20} work tree ({FILES} + files): best of {runs}: {:>6.0} ms wall  {:>6.0} ms CPU  peak RSS {:.1} MiB",
                b.ms(),
                b.cpu_ms(),
                b.mib()
            );
        }
    } else {
        println!("detect-secrets not found (DETECT_SECRETS=path): skipped");
    }
    // The findings themselves (20 planted Secrets), to show the run found them.
    let out = Command::new(bin)
        .args(["scan", "-o", "json", "--exit-zero", "--repo"])
        .arg(&repo)
        .output()
        .expect("scan");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    println!(
        "findings: {} (planted: {})",
        v["findings"].as_array().map(Vec::len).unwrap_or(0),
        COMMITS / 500 - 1
    );
    staged(bin, base.as_deref(), dir.path());
}

const STAGED_FILES: usize = 10_000;

/// `scan --staged` on a repository of 10,000 files (100 folders) with three changed files
/// staged (one of them a new Secret): what a pre-commit hook runs on every commit.
fn staged(bin: &str, base: Option<&str>, root: &Path) {
    let path = root.join("big");
    let repo = Repository::init(&path).expect("init");
    let mut b = TreeUpdateBuilder::new();
    let empty = repo.treebuilder(None).unwrap().write().unwrap();
    let base_tree = repo.find_tree(empty).unwrap();
    for i in 0..STAGED_FILES {
        let blob = repo.blob(manifest(i, 0).as_bytes()).unwrap();
        b.upsert(
            format!("apps/ns-{}/app-{i}.yaml", i % 100),
            blob,
            FileMode::Blob,
        );
    }
    let tree = repo
        .find_tree(b.create_updated(&repo, &base_tree).unwrap())
        .unwrap();
    let sig = Signature::new("bench", "bench@example.com", &Time::new(1_700_000_000, 0)).unwrap();
    repo.commit(Some("refs/heads/main"), &sig, &sig, "all", &tree, &[])
        .unwrap();
    repo.set_head("refs/heads/main").unwrap();
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .unwrap();
    for i in [17, 4242] {
        std::fs::write(
            path.join(format!("apps/ns-{}/app-{i}.yaml", i % 100)),
            manifest(i, 1),
        )
        .unwrap();
    }
    std::fs::write(
        path.join("apps/ns-7/leaked.yaml"),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: leaked\nstringData:\n  password: bench-staged-Xq9\n",
    )
    .unwrap();
    assert!(git(&path).args(["add", "-A"]).status().unwrap().success());
    let runs = 10;
    let mut cmds = vec![("scan --staged", scan_cmd(bin, &path, &["--staged"]))];
    if let Some(b) = base {
        // An older binary has no --staged: its work-tree scan is the comparison.
        cmds.push((
            "scan --no-history (base)",
            scan_cmd(b, &path, &["--no-history"]),
        ));
    }
    cmds.push(("scan --no-history", scan_cmd(bin, &path, &["--no-history"])));
    let mut diff = git(&path);
    diff.args(["diff", "--cached"]);
    cmds.push(("git diff --cached", diff));
    let best = best_of(runs, &mut cmds);
    for ((what, _), b) in cmds.iter().zip(&best) {
        println!(
            "{what:<26} {STAGED_FILES} files, 3 staged: best of {runs}: {:>6.1} ms wall  {:>6.1} ms CPU  peak RSS {:.1} MiB",
            b.ms(),
            b.cpu_ms(),
            b.mib()
        );
    }
}
