//! `commit` on real repositories in temp dirs: assertions on the resulting Git objects.
//!
//! One module per topic; they share the isolated Git environment ([`Env`]), the repository
//! helpers and the specs below.

use crate::support::common::*;
use git2::{Repository, Status, StatusOptions};
use std::path::{Path, PathBuf};
use std::process::Output;

mod crash_recovery;
mod git_semantics;
mod push;
mod safety;
mod workflow;

/// A temp dir with an isolated Git environment (no global or system config).
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    /// A repository with an identity in its own config, on branch `main`, without commits.
    fn repo(&self, name: &str) -> (PathBuf, Repository) {
        let path = self.path().join(name);
        let mut opts = git2::RepositoryInitOptions::new();
        opts.initial_head("main");
        let repo = Repository::init_opts(&path, &opts).unwrap();
        let mut cfg = repo.config().unwrap();
        cfg.set_str("user.name", "Fleet Bot").unwrap();
        cfg.set_str("user.email", "fleet@example.com").unwrap();
        (path, repo)
    }
    fn spec(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
    /// The binary with the isolated environment.
    fn cmd(&self) -> std::process::Command {
        let mut c = bin();
        c.env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("GIT_AUTHOR_NAME")
            .env_remove("GIT_AUTHOR_EMAIL")
            .env_remove("GIT_COMMITTER_NAME")
            .env_remove("GIT_COMMITTER_EMAIL")
            .env_remove("KUBECTL_VAULT_TEST_ABORT_AT")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("NO_COLOR");
        c
    }
    /// Snapshot settings that hide this run's temp dir and the id of `commit` (and its parent).
    fn stable(&self, commit: &git2::Oid) -> insta::Settings {
        let mut settings = redactions(&[(self.path(), "TMP")]);
        settings.add_filter(&commit.to_string()[..12], "[COMMIT]");
        settings.add_filter(r"\b[0-9a-f]{12,40}\b", "[OTHER-COMMIT]");
        settings
    }
    fn kv(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }
    fn commit_args(spec: &Path, repo: &Path, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "commit".into(),
            "-f".into(),
            spec.to_str().unwrap().into(),
            "--repo".into(),
            repo.to_str().unwrap().into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }
    fn commit(&self, spec: &Path, repo: &Path, extra: &[&str]) -> Output {
        self.cmd()
            .args(Self::commit_args(spec, repo, extra))
            .output()
            .unwrap()
    }
    /// `commit`, aborted (as by kill -9) at the named point of the write (a build with the
    /// `fault-injection` feature).
    #[cfg_attr(not(feature = "fault-injection"), allow(dead_code))]
    fn commit_killed_at(&self, point: &str, spec: &Path, repo: &Path) -> Output {
        self.cmd()
            .args(Self::commit_args(spec, repo, &[]))
            .env("KUBECTL_VAULT_TEST_ABORT_AT", point)
            .output()
            .unwrap()
    }
    /// The real `git` in `dir`, with the same isolated environment; panics when it fails.
    fn git(&self, dir: &Path, args: &[&str]) -> String {
        let o = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}

fn head_id(repo: &Repository) -> Option<git2::Oid> {
    repo.head().ok().and_then(|h| h.target())
}

fn commit_count(repo: &Repository) -> usize {
    let Some(head) = head_id(repo) else { return 0 };
    let mut walk = repo.revwalk().unwrap();
    walk.push(head).unwrap();
    walk.count()
}

fn head_file(repo: &Repository, path: &str) -> Option<String> {
    let tree = repo.head().ok()?.peel_to_tree().ok()?;
    let entry = tree.get_path(Path::new(path)).ok()?;
    let blob = repo.find_blob(entry.id()).ok()?;
    Some(String::from_utf8_lossy(blob.content()).into_owned())
}

fn statuses(repo: &Repository) -> Vec<(String, Status)> {
    let mut o = StatusOptions::new();
    o.include_untracked(true).recurse_untracked_dirs(true);
    let mut v: Vec<(String, Status)> = repo
        .statuses(Some(&mut o))
        .unwrap()
        .iter()
        .map(|e| (e.path().unwrap().to_string(), e.status()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Every file below `dir`, recursively.
fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn fsck_clean(path: &Path) {
    let o = std::process::Command::new("git")
        .arg("-C")
        .arg(path)
        .args(["fsck", "--strict"])
        .output();
    if let Ok(o) = o {
        assert!(
            o.status.success(),
            "git fsck: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

const TWO_APPS: &str = "apiVersion: kubectl-vault/v1alpha1\nkind: VaultStack\ncluster: dev\nvault:\n  chart: {version: 0.30.0}\n  tls: vault-tls\noperator:\n  chart: {version: 0.10.0}\napps:\n  - name: api\n    namespace: shop\n    secrets:\n      - name: api-config\n        kv: secret/shop/api\n      - name: api-keys\n        kv: secret/shop/keys\n  - name: web\n    namespace: shop\n    secrets:\n      - name: web-config\n        kv: secret/shop/web\n";

fn one_app() -> String {
    TWO_APPS
        .split("  - name: web\n")
        .next()
        .unwrap()
        .to_string()
}
