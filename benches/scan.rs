//! Benchmark: `scan` of a generated GitOps repository with 10,000 commits (mostly one small
//! manifest change each, over 1,000 files in 100 folders, a plaintext Secret planted every
//! 500 commits), history and work tree; then the work tree alone.
//! `cargo bench --bench scan`

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

fn main() {
    measure::serve_as_launcher();
    let bin = env!("CARGO_BIN_EXE_kubectl-vault");
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
        let mut best = measure::Best::default();
        for _ in 0..runs {
            best.add(&measure::run(
                Command::new(bin)
                    .args(["scan", "--exit-zero", "--repo"])
                    .arg(&repo)
                    .args(extra),
                "scan",
            ));
        }
        println!(
            "scan {COMMITS} commits, {label:<20}: best of {runs}: {:>6.0} ms wall  peak RSS {:.1} MiB",
            best.ms(),
            best.mib()
        );
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
}
