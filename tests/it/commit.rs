//! `commit` on real repositories in temp dirs: assertions on the resulting Git objects.

use crate::support::common::*;
use git2::{Repository, Status, StatusOptions};
use std::path::{Path, PathBuf};
use std::process::Output;

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

#[test]
fn fresh_repository_gets_one_commit_and_a_rerun_commits_nothing() {
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    let spec = env.spec("vault.yaml", TWO_APPS);
    let o = env.commit(&spec, &path, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(commit_count(&repo), 1);
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    env.stable(&head.id())
        .bind(|| insta::assert_snapshot!("message_first_commit", head.message().unwrap()));
    assert_eq!(head.author().email().ok(), Some("fleet@example.com"));
    env.stable(&head.id())
        .bind(|| insta::assert_snapshot!("stdout_first_commit", stdout(&o)));
    // The commit holds exactly the generated tree, and the work tree and index match it.
    let g = env.kv(&[
        "generate",
        "-f",
        spec.to_str().unwrap(),
        "--out",
        env.path().join("gen").to_str().unwrap(),
    ]);
    assert!(g.status.success());
    let generated = read_tree(&env.path().join("gen"));
    for (p, content) in &generated {
        assert_eq!(
            head_file(&repo, p).as_deref(),
            Some(content.as_str()),
            "{p}"
        );
    }
    assert!(statuses(&repo).is_empty(), "{:?}", statuses(&repo));
    let mode = head
        .tree()
        .unwrap()
        .get_path(Path::new("vault-config/dev/configure.sh"))
        .unwrap()
        .filemode();
    assert_eq!(mode, 0o100755, "the script is committed executable");

    let again = env.commit(&spec, &path, &[]);
    assert!(again.status.success());
    env.stable(&head.id())
        .bind(|| insta::assert_snapshot!("stdout_up_to_date", stdout(&again)));
    assert_eq!(commit_count(&repo), 1, "an unchanged spec commits nothing");
    fsck_clean(&path);
}

#[test]
fn unrelated_work_is_never_staged_committed_or_reverted() {
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    // History with the user's own files.
    std::fs::create_dir_all(path.join("apps/other")).unwrap();
    std::fs::write(path.join("README.md"), "fleet\n").unwrap();
    std::fs::write(path.join("apps/other/deploy.yaml"), "kind: ConfigMap\n").unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new("README.md")).unwrap();
    index.add_path(Path::new("apps/other/deploy.yaml")).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("u", "u@example.com").unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "initial", &tree, &[])
        .unwrap();
    // Dirty: a modified tracked file, a staged new file, an untracked file.
    std::fs::write(path.join("README.md"), "fleet, edited\n").unwrap();
    std::fs::write(path.join("staged.txt"), "staged\n").unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new("staged.txt")).unwrap();
    index.write().unwrap();
    std::fs::write(path.join("notes.txt"), "untracked\n").unwrap();
    let before = statuses(&repo);

    let spec = env.spec("vault.yaml", TWO_APPS);
    let o = env.commit(&spec, &path, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(commit_count(&repo), 2);
    assert_eq!(
        statuses(&repo),
        before,
        "unrelated changes must stay exactly as they were"
    );
    assert_eq!(
        head_file(&repo, "README.md").as_deref(),
        Some("fleet\n"),
        "modified file not committed"
    );
    assert_eq!(
        head_file(&repo, "staged.txt"),
        None,
        "staged file not committed"
    );
    assert_eq!(head_file(&repo, "notes.txt"), None);
    assert_eq!(
        std::fs::read_to_string(path.join("README.md")).unwrap(),
        "fleet, edited\n"
    );
    assert_eq!(
        head_file(&repo, "apps/other/deploy.yaml").as_deref(),
        Some("kind: ConfigMap\n")
    );
    fsck_clean(&path);
}

#[test]
fn hand_edits_are_refused_with_a_diff_and_force_overwrites() {
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    let spec = env.spec("vault.yaml", TWO_APPS);
    assert!(env.commit(&spec, &path, &[]).status.success());
    let file = "apps/dev/shop/api/vaultauth.yaml";

    // Uncommitted hand edit.
    let original = std::fs::read_to_string(path.join(file)).unwrap();
    let edited = original.replace("role: shop-api", "role: hacked");
    std::fs::write(path.join(file), &edited).unwrap();
    let spec2 = env.spec(
        "vault.yaml",
        &TWO_APPS.replace("secret/shop/web", "secret/shop/web2"),
    );
    let head_before = head_id(&repo);
    let o = env.commit(&spec2, &path, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // Names the file and shows the hand edit as a diff.
    env.stable(&head_id(&repo).unwrap())
        .bind(|| insta::assert_snapshot!("hand_edit_refused", stderr(&o)));
    assert_eq!(head_id(&repo), head_before, "no commit");
    assert_eq!(
        std::fs::read_to_string(path.join(file)).unwrap(),
        edited,
        "the edit is kept"
    );

    // Committed hand edit.
    let mut index = repo.index().unwrap();
    index.add_path(Path::new(file)).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let parent = repo.head().unwrap().peel_to_commit().unwrap();
    let sig = git2::Signature::now("u", "u@example.com").unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "hand edit", &tree, &[&parent])
        .unwrap();
    let head_before = head_id(&repo);
    let o = env.commit(&spec2, &path, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("(committed)"), "{}", stderr(&o));
    assert_eq!(head_id(&repo), head_before);

    let o = env.commit(&spec2, &path, &["--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(head_file(&repo, file).as_deref(), Some(original.as_str()));
    assert!(statuses(&repo).is_empty());
}

#[test]
fn removed_app_is_pruned_and_foreign_files_are_kept() {
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    let spec = env.spec("vault.yaml", TWO_APPS);
    assert!(env.commit(&spec, &path, &[]).status.success());
    // A file of the user's own inside a generated root, committed.
    std::fs::write(
        path.join("apps/dev/shop/web/extra.yaml"),
        "kind: ConfigMap\n",
    )
    .unwrap();
    let mut index = repo.index().unwrap();
    index
        .add_path(Path::new("apps/dev/shop/web/extra.yaml"))
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let parent = repo.head().unwrap().peel_to_commit().unwrap();
    let sig = git2::Signature::now("u", "u@example.com").unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "user file", &tree, &[&parent])
        .unwrap();

    let spec = env.spec("vault.yaml", &one_app());
    let o = env.commit(&spec, &path, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    env.stable(&head.id())
        .bind(|| insta::assert_snapshot!("message_app_removed", head.message().unwrap()));
    assert_eq!(
        head_file(&repo, "apps/dev/shop/web/vaultauth.yaml"),
        None,
        "pruned"
    );
    assert_eq!(
        head_file(&repo, "apps/dev/shop/web/vaultstaticsecret-web-config.yaml"),
        None
    );
    assert!(!path.join("apps/dev/shop/web/vaultauth.yaml").exists());
    assert_eq!(
        head_file(&repo, "apps/dev/shop/web/extra.yaml").as_deref(),
        Some("kind: ConfigMap\n"),
        "not ours: kept"
    );
    assert!(head_file(&repo, "apps/dev/shop/api/vaultauth.yaml").is_some());
    assert!(!head_file(&repo, "apps/dev/shop/kustomization.yaml")
        .unwrap()
        .contains("- web"));
    assert!(statuses(&repo).is_empty(), "{:?}", statuses(&repo));
}

#[test]
fn dry_run_shows_the_diff_and_changes_nothing() {
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    let spec = env.spec("vault.yaml", TWO_APPS);
    let o = env.commit(&spec, &path, &["--dry-run"]);
    assert!(o.status.success());
    assert!(
        stdout(&o).contains("+++ b/apps/dev/shop/api/vaultauth.yaml"),
        "{}",
        stdout(&o)
    );
    assert!(!stdout(&o).contains("\x1b["), "plain when not a terminal");
    assert!(stdout(&o).contains("dry run: nothing was changed"));
    assert_eq!(commit_count(&repo), 0);
    assert!(!path.join("apps").exists());
    let objects: Vec<_> = walk_files(&path.join(".git/objects"));
    assert!(
        objects.is_empty(),
        "a dry run writes no object: {objects:?}"
    );
    assert!(!path.join(".git/index").exists(), "nor an index");
    let o = env.commit(&spec, &path, &["--dry-run", "--exit-code"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(env.commit(&spec, &path, &[]).status.success());
    let o = env.commit(&spec, &path, &["--dry-run", "--exit-code"]);
    assert_eq!(o.status.code(), Some(0), "no changes: exit 0");
}

/// What a user reads before and after a change: the dry run's diff, then the commit's
/// message and summary.
#[test]
fn a_change_shown_by_dry_run_then_committed() {
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    let spec = env.spec("vault.yaml", TWO_APPS);
    assert!(env.commit(&spec, &path, &[]).status.success());
    let changed = TWO_APPS
        .replace("secret/shop/web", "secret/shop/web2")
        .replace("      - name: api-keys\n        kv: secret/shop/keys\n", "");
    let spec = env.spec("vault.yaml", &changed);
    let before = head_id(&repo).unwrap();
    let o = env.commit(&spec, &path, &["--dry-run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    env.stable(&before)
        .bind(|| insta::assert_snapshot!("dry_run_diff", stdout(&o)));
    let o = env.commit(&spec, &path, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    env.stable(&head.id())
        .bind(|| insta::assert_snapshot!("message_change", head.message().unwrap()));
    env.stable(&head.id())
        .bind(|| insta::assert_snapshot!("stdout_change", stdout(&o)));
}

#[test]
fn a_held_lock_makes_the_second_run_fail_clearly() {
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    let spec = env.spec("vault.yaml", TWO_APPS);
    let lock_path = path.join(".git/kubectl-vault.lock");
    // A lock file left behind by a killed run (nobody holds the OS lock) does not block.
    std::fs::write(&lock_path, "12345\n").unwrap();
    let o = env.commit(&spec, &path, &["--dry-run", "--lock-timeout", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // A held lock (here by this test process) makes the run wait, then fail clearly.
    let held = std::fs::OpenOptions::new()
        .write(true)
        .open(&lock_path)
        .unwrap();
    held.lock().unwrap();
    let o = env.commit(&spec, &path, &["--lock-timeout", "1"]);
    assert_eq!(o.status.code(), Some(3));
    redactions(&[(env.path(), "TMP")]).bind(|| insta::assert_snapshot!("lock_held", stderr(&o)));
    assert_eq!(commit_count(&repo), 0);
    drop(held);

    // Two real runs at once: exactly one commit, the other waits and finds nothing to do.
    let spec_s = spec.to_str().unwrap().to_string();
    let path_s = path.to_str().unwrap().to_string();
    let home = env.path().to_path_buf();
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let (s, p, h) = (spec_s.clone(), path_s.clone(), home.clone());
            std::thread::spawn(move || {
                bin()
                    .args(["commit", "-f", &s, "--repo", &p, "--lock-timeout", "30"])
                    .env("HOME", &h)
                    .env("GIT_CONFIG_NOSYSTEM", "1")
                    .output()
                    .unwrap()
            })
        })
        .collect();
    let outs: Vec<Output> = runs.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(
        outs.iter().all(|o| o.status.success()),
        "{:?}",
        outs.iter().map(stderr).collect::<Vec<_>>()
    );
    assert_eq!(commit_count(&repo), 1);
    assert_eq!(
        outs.iter()
            .filter(|o| stdout(o).contains("up to date"))
            .count(),
        1
    );
    fsck_clean(&path);
}

#[test]
fn push_to_a_bare_remote_and_a_rejected_push() {
    let env = Env::new();
    let remote_path = env.path().join("remote.git");
    let remote = Repository::init_bare(&remote_path).unwrap();
    let (path, repo) = env.repo("fleet");
    repo.remote("origin", remote_path.to_str().unwrap())
        .unwrap();
    let spec = env.spec("vault.yaml", TWO_APPS);
    let o = env.commit(&spec, &path, &["--push"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        remote.find_reference("refs/heads/main").unwrap().target(),
        head_id(&repo)
    );

    // Someone else pushes first; our next push is rejected.
    let (other_path, other) = env.repo("other");
    other
        .remote("origin", remote_path.to_str().unwrap())
        .unwrap();
    let mut r = other.find_remote("origin").unwrap();
    r.fetch(&["refs/heads/main:refs/remotes/origin/main"], None, None)
        .unwrap();
    let theirs = other
        .find_reference("refs/remotes/origin/main")
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let sig = git2::Signature::now("o", "o@example.com").unwrap();
    let tree = theirs.tree().unwrap();
    let c = other
        .commit(None, &sig, &sig, "theirs", &tree, &[&theirs])
        .unwrap();
    other.reference("refs/heads/main", c, true, "x").unwrap();
    let mut r = other.find_remote("origin").unwrap();
    r.push(&["refs/heads/main:refs/heads/main"], None).unwrap();
    let _ = other_path;
    let remote_tip = remote.find_reference("refs/heads/main").unwrap().target();

    let spec2 = env.spec("vault.yaml", &one_app());
    let o = env.commit(&spec2, &path, &["--push"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    env.stable(&head_id(&repo).unwrap())
        .bind(|| insta::assert_snapshot!("push_rejected", stderr(&o)));
    assert_eq!(commit_count(&repo), 2, "the local commit is kept");
    assert_eq!(
        remote.find_reference("refs/heads/main").unwrap().target(),
        remote_tip,
        "remote untouched"
    );
}

#[test]
fn branches_detached_head_and_identity() {
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    let spec = env.spec("vault.yaml", TWO_APPS);
    assert!(env.commit(&spec, &path, &[]).status.success());
    let main_tip = head_id(&repo).unwrap();

    let o = env.commit(&spec, &path, &["--branch", "vault-update"]);
    assert_eq!(o.status.code(), Some(2));
    redactions(&[(env.path(), "TMP")])
        .bind(|| insta::assert_snapshot!("branch_missing", stderr(&o)));

    // A branch that is not checked out gets the commit; the work tree is not touched.
    let spec2 = env.spec("vault.yaml", &one_app());
    let o = env.commit(
        &spec2,
        &path,
        &["--branch", "vault-update", "--create-branch"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let branch_tip = repo
        .find_branch("vault-update", git2::BranchType::Local)
        .unwrap()
        .get()
        .target()
        .unwrap();
    assert_eq!(
        repo.find_commit(branch_tip).unwrap().parent_id(0).unwrap(),
        main_tip
    );
    assert_eq!(head_id(&repo), Some(main_tip));
    assert!(
        path.join("apps/dev/shop/web/vaultauth.yaml").exists(),
        "work tree untouched"
    );

    // Detached HEAD.
    repo.set_head_detached(main_tip).unwrap();
    let o = env.commit(&spec2, &path, &[]);
    assert_eq!(o.status.code(), Some(2));
    env.stable(&main_tip)
        .bind(|| insta::assert_snapshot!("head_detached", stderr(&o)));

    // No identity anywhere.
    let (p2, r2) = env.repo("noid");
    let mut cfg = r2.config().unwrap();
    cfg.remove("user.name").unwrap();
    cfg.remove("user.email").unwrap();
    let o = env.commit(&spec, &p2, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    redactions(&[(env.path(), "TMP")]).bind(|| insta::assert_snapshot!("no_identity", stderr(&o)));
    assert!(!p2.join("apps").exists(), "nothing written");
}

#[test]
fn a_failure_halfway_leaves_the_repository_as_it_was() {
    // chattr +i stops even root from creating files in a folder.
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    let spec = env.spec("vault.yaml", TWO_APPS);
    assert!(env.commit(&spec, &path, &[]).status.success());
    let before_head = head_id(&repo);
    let before_tree = read_tree(&path.join("apps"));
    let locked = path.join("apps/dev/shop/web");
    let chattr = std::process::Command::new("chattr")
        .arg("+i")
        .arg(&locked)
        .status();
    if !matches!(chattr, Ok(s) if s.success()) {
        // Without chattr (or as non-root), fall back to permissions.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    let spec2 = env.spec(
        "vault.yaml",
        &TWO_APPS
            .replace("kv: secret/shop/web", "kv: secret/shop/web-v2")
            .replace("secret/shop/api", "secret/shop/api-v2"),
    );
    let o = env.commit(&spec2, &path, &[]);
    let _ = std::process::Command::new("chattr")
        .arg("-i")
        .arg(&locked)
        .status();
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755));
    }
    if o.status.success() {
        eprintln!("skipped: this environment cannot make a folder read-only");
        return;
    }
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("restored"), "{}", stderr(&o));
    assert_eq!(head_id(&repo), before_head, "no commit");
    assert_eq!(
        read_tree(&path.join("apps")),
        before_tree,
        "no partial tree"
    );
    assert!(statuses(&repo).is_empty(), "{:?}", statuses(&repo));
    fsck_clean(&path);
}

#[test]
fn a_large_first_commit_is_written_as_one_pack_and_the_work_tree_matches_it() {
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    // 40 apps x 3 secrets: a few hundred files, above the loose-object limit.
    let spec = env.spec("vault.yaml", &crate::support::big_spec::big_spec(40, 3));
    let o = env.commit(&spec, &path, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(commit_count(&repo), 1);

    let objects = path.join(".git/objects");
    let packs: Vec<_> = std::fs::read_dir(objects.join("pack"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "pack"))
        .collect();
    assert_eq!(packs.len(), 1, "the objects go into one pack");
    let loose = std::fs::read_dir(&objects)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().len() == 2)
        .count();
    assert_eq!(loose, 0, "no loose objects besides the pack");

    // Every committed file is in the work tree with the same content, and the index agrees
    // with both (no status entries at all).
    let tree = repo.head().unwrap().peel_to_tree().unwrap();
    let mut files = 0;
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, e| {
        if e.kind() == Some(git2::ObjectType::Blob) {
            let rel = format!("{dir}{}", e.name().unwrap());
            let blob = repo.find_blob(e.id()).unwrap();
            assert_eq!(
                std::fs::read(path.join(&rel)).unwrap(),
                blob.content(),
                "{rel}"
            );
            files += 1;
        }
        git2::TreeWalkResult::Ok
    })
    .unwrap();
    assert!(files > 300, "{files} files");
    assert!(
        statuses(&repo).is_empty(),
        "{:?}",
        &statuses(&repo)[..3.min(statuses(&repo).len())]
    );
    fsck_clean(&path);

    // The re-run reads the packed objects and commits nothing.
    let o = env.commit(&spec, &path, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("up to date"), "{}", stdout(&o));
    assert_eq!(commit_count(&repo), 1);
}

#[test]
fn a_run_killed_while_writing_the_work_tree_is_completed_by_the_next_run() {
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    let spec = env.spec("vault.yaml", &one_app());
    assert!(env.commit(&spec, &path, &[]).status.success());
    // The killed run: the branch did not move, but some files already hold the new content
    // (a new app's file, and an updated one), neither staged.
    std::fs::write(&spec, TWO_APPS).unwrap();
    let out = env.path().join("out");
    assert!(bin()
        .args(["generate", "-f", spec.to_str().unwrap(), "--out"])
        .arg(&out)
        .status()
        .unwrap()
        .success());
    let partial = [
        "apps/dev/shop/web/vaultauth.yaml",
        "apps/dev/shop/kustomization.yaml",
    ];
    for f in partial {
        assert!(head_file(&repo, f) != Some(std::fs::read_to_string(out.join(f)).unwrap()));
        std::fs::create_dir_all(path.join(f).parent().unwrap()).unwrap();
        std::fs::copy(out.join(f), path.join(f)).unwrap();
    }
    let o = env.commit(&spec, &path, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(commit_count(&repo), 2);
    for f in partial {
        assert_eq!(
            head_file(&repo, f),
            Some(std::fs::read_to_string(out.join(f)).unwrap())
        );
    }
    assert!(statuses(&repo).is_empty(), "{:?}", statuses(&repo));
}

// ---- Symbolic links (issue 11, item 2) ----

#[cfg(unix)]
#[test]
fn a_generated_folder_behind_a_symbolic_link_is_refused_and_a_linked_file_inside_is_replaced() {
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    let spec = env.spec("vault.yaml", TWO_APPS);
    let outside = env.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, path.join("apps")).unwrap();
    let o = env.commit(&spec, &path, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("apps is a symbolic link to")
            && stderr(&o).contains("outside the repository")
            && stderr(&o).contains("nothing was changed"),
        "{}",
        stderr(&o)
    );
    assert!(walk_files(&outside).is_empty(), "nothing written outside");
    assert_eq!(commit_count(&repo), 0);
    assert!(
        !path.join("vault-config").exists(),
        "nothing written at all"
    );
    // --force does not override it.
    let o = env.commit(&spec, &path, &["--force"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(walk_files(&outside).is_empty());

    // A folder linked inside the repository: git itself does not follow it (`git add` says
    // "beyond a symbolic link"), so files written there would show as deleted. Refused too.
    std::fs::remove_file(path.join("apps")).unwrap();
    std::fs::create_dir_all(path.join("shared/apps")).unwrap();
    std::os::unix::fs::symlink("shared/apps", path.join("apps")).unwrap();
    let o = env.commit(&spec, &path, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("inside the repository, but git does not follow links to folders"),
        "{}",
        stderr(&o)
    );
    assert!(walk_files(&path.join("shared")).is_empty());

    // A generated file linked inside the repository is replaced by the file, as git checkout
    // replaces it; the link's target is not written.
    std::fs::remove_file(path.join("apps")).unwrap();
    let o = env.commit(&spec, &path, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let file = "apps/dev/shop/kustomization.yaml";
    let current = std::fs::read_to_string(path.join(file)).unwrap();
    std::fs::write(path.join("shared/target.yaml"), &current).unwrap();
    std::fs::remove_file(path.join(file)).unwrap();
    std::os::unix::fs::symlink("../../../shared/target.yaml", path.join(file)).unwrap();
    let spec2 = env.spec("vault.yaml", &one_app());
    let o = env.commit(&spec2, &path, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!std::fs::symlink_metadata(path.join(file))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_to_string(path.join(file)).unwrap(),
        head_file(&repo, file).unwrap()
    );
    assert!(!head_file(&repo, file).unwrap().contains("- web"));
    assert_eq!(
        std::fs::read_to_string(path.join("shared/target.yaml")).unwrap(),
        current,
        "the link's target is untouched"
    );
    assert_eq!(commit_count(&repo), 2);
}

#[cfg(unix)]
#[test]
fn a_generated_file_linked_outside_the_repository_is_refused() {
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    let spec = env.spec("vault.yaml", TWO_APPS);
    assert!(env.commit(&spec, &path, &[]).status.success());
    let file = "apps/dev/shop/api/vaultauth.yaml";
    let outside = env.path().join("victim.yaml");
    std::fs::write(&outside, "precious\n").unwrap();
    std::fs::remove_file(path.join(file)).unwrap();
    std::os::unix::fs::symlink(&outside, path.join(file)).unwrap();
    let head = head_id(&repo);
    let spec2 = env.spec(
        "vault.yaml",
        &TWO_APPS.replace("secret/shop/api", "secret/shop/api-v2"),
    );
    for extra in [&[][..], &["--force"][..]] {
        let o = env.commit(&spec2, &path, extra);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("{file} is a symbolic link to")),
            "{}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("precious"), "not read either");
    }
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious\n");
    assert_eq!(head_id(&repo), head);
}

#[cfg(unix)]
#[test]
fn a_later_prune_never_deletes_through_a_link_outside_the_repository() {
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    let spec = env.spec("vault.yaml", TWO_APPS);
    assert!(env.commit(&spec, &path, &[]).status.success());
    // The user moves one app's folder out of the repository and links it back.
    let outside = env.path().join("outside-web");
    std::fs::rename(path.join("apps/dev/shop/web"), &outside).unwrap();
    std::os::unix::fs::symlink(&outside, path.join("apps/dev/shop/web")).unwrap();
    let before = read_tree(&outside);
    assert!(!before.is_empty());
    let head = head_id(&repo);
    // The web app leaves the spec: its generated files would be pruned.
    let spec = env.spec("vault.yaml", &one_app());
    let o = env.commit(&spec, &path, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("apps/dev/shop/web is a symbolic link to"),
        "{}",
        stderr(&o)
    );
    assert_eq!(read_tree(&outside), before, "nothing deleted outside");
    assert_eq!(head_id(&repo), head);
}

// ---- Recovery (issue 11, item 3) ----

/// The change the crash tests interrupt: adds an app, removes a secret, updates shared files.
fn crash_specs() -> (String, String) {
    let before = one_app();
    let after = TWO_APPS.replace("      - name: api-keys\n        kv: secret/shop/keys\n", "");
    (before, after)
}

/// The tree and message of the commit an uninterrupted run makes.
fn reference_commit(env: &Env) -> (git2::Oid, String) {
    let (before, after) = crash_specs();
    let (path, repo) = env.repo("reference");
    std::fs::create_dir_all(env.path().join("reference-spec")).unwrap();
    let spec = env.spec("reference-spec/vault.yaml", &before);
    assert!(env.commit(&spec, &path, &[]).status.success());
    std::fs::write(&spec, &after).unwrap();
    assert!(env.commit(&spec, &path, &[]).status.success());
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    (head.tree_id(), head.message().unwrap().to_string())
}

fn assert_completed(env: &Env, path: &Path, repo: &Repository, reference: &(git2::Oid, String)) {
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(commit_count(repo), 2, "exactly one commit on top");
    assert_eq!(head.tree_id(), reference.0, "exactly the planned tree");
    assert_eq!(head.message().unwrap(), reference.1);
    assert!(statuses(repo).is_empty(), "{:?}", statuses(repo));
    assert_eq!(env.git(path, &["status", "--porcelain"]), "");
    fsck_clean(path);
}

#[test]
#[cfg_attr(
    not(feature = "fault-injection"),
    ignore = "needs the fault-injection feature (scripts/test.sh enables it)"
)]
fn a_run_killed_at_any_point_is_completed_by_the_next_run() {
    let env = Env::new();
    let reference = reference_commit(&env);
    let (before, after) = crash_specs();
    for point in ["objects", "work-tree-half", "work-tree", "index", "ref"] {
        let (path, repo) = env.repo(&format!("fleet-{point}"));
        std::fs::create_dir_all(env.path().join(point)).unwrap();
        let spec = env.spec(&format!("{point}/vault.yaml"), &before);
        assert!(env.commit(&spec, &path, &[]).status.success());
        std::fs::write(&spec, &after).unwrap();
        let o = env.commit_killed_at(point, &spec, &path);
        assert!(
            o.status.code().is_none(),
            "{point}: killed by a signal, {o:?}"
        );
        let o = env.commit(&spec, &path, &[]);
        assert!(o.status.success(), "{point}: {}", stderr(&o));
        assert_completed(&env, &path, &repo, &reference);
    }
}

#[test]
#[cfg_attr(
    not(feature = "fault-injection"),
    ignore = "needs the fault-injection feature (scripts/test.sh enables it)"
)]
fn a_first_commit_killed_at_any_point_is_completed_by_the_next_run() {
    let env = Env::new();
    let spec = env.spec("vault.yaml", TWO_APPS);
    let (ref_path, ref_repo) = env.repo("reference");
    assert!(env.commit(&spec, &ref_path, &[]).status.success());
    let reference = ref_repo.head().unwrap().peel_to_commit().unwrap();
    for point in ["objects", "work-tree-half", "work-tree", "index", "ref"] {
        let (path, repo) = env.repo(&format!("fleet-{point}"));
        let o = env.commit_killed_at(point, &spec, &path);
        assert!(o.status.code().is_none(), "{point}: {o:?}");
        let o = env.commit(&spec, &path, &[]);
        assert!(o.status.success(), "{point}: {}", stderr(&o));
        let head = repo.head().unwrap().peel_to_commit().unwrap();
        assert_eq!(commit_count(&repo), 1, "{point}");
        assert_eq!(head.tree_id(), reference.tree_id(), "{point}");
        assert_eq!(head.message(), reference.message(), "{point}");
        assert!(statuses(&repo).is_empty(), "{point}: {:?}", statuses(&repo));
        fsck_clean(&path);
    }
}

#[test]
fn real_kill_9_at_random_moments_then_the_next_run_completes_or_names_what_to_remove() {
    let env = Env::new();
    let before = crate::support::big_spec::big_spec(30, 3);
    let after = crate::support::big_spec::big_spec(40, 2);
    let spec = env.spec("vault.yaml", &before);
    let (ref_path, ref_repo) = env.repo("reference");
    assert!(env.commit(&spec, &ref_path, &[]).status.success());
    std::fs::write(&spec, &after).unwrap();
    assert!(env.commit(&spec, &ref_path, &[]).status.success());
    let reference = ref_repo.head().unwrap().peel_to_commit().unwrap();
    for (i, delay_ms) in [5u64, 30, 60, 100, 150, 250].into_iter().enumerate() {
        let (path, repo) = env.repo(&format!("fleet-{i}"));
        std::fs::write(&spec, &before).unwrap();
        assert!(env.commit(&spec, &path, &[]).status.success());
        std::fs::write(&spec, &after).unwrap();
        let mut child = env
            .cmd()
            .args(Env::commit_args(&spec, &path, &[]))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // The next run completes, or names the lock file a killed git write left behind.
        let mut o = env.commit(&spec, &path, &[]);
        for _ in 0..2 {
            if o.status.success() {
                break;
            }
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(3), "after {delay_ms} ms: {err}");
            let lock = err
                .split("(rm ")
                .nth(1)
                .and_then(|r| r.split(')').next())
                .unwrap_or_else(|| panic!("after {delay_ms} ms: {err}"));
            std::fs::remove_file(lock).unwrap();
            o = env.commit(&spec, &path, &[]);
        }
        assert!(o.status.success(), "after {delay_ms} ms: {}", stderr(&o));
        let head = repo.head().unwrap().peel_to_commit().unwrap();
        assert_eq!(head.tree_id(), reference.tree_id(), "after {delay_ms} ms");
        assert_eq!(commit_count(&repo), 2, "after {delay_ms} ms");
        assert!(
            statuses(&repo).is_empty(),
            "after {delay_ms} ms: {:?}",
            statuses(&repo)
        );
        fsck_clean(&path);
    }
}

#[test]
#[cfg_attr(
    not(feature = "fault-injection"),
    ignore = "needs the fault-injection feature (scripts/test.sh enables it)"
)]
fn a_stale_branch_lock_after_a_kill_is_named_and_the_run_completes_once_it_is_removed() {
    let env = Env::new();
    let reference = reference_commit(&env);
    let (before, after) = crash_specs();
    let (path, repo) = env.repo("fleet");
    let spec = env.spec("vault.yaml", &before);
    assert!(env.commit(&spec, &path, &[]).status.success());
    std::fs::write(&spec, &after).unwrap();
    // Killed between the index write and the ref move, while holding the ref's lock file.
    let o = env.commit_killed_at("index", &spec, &path);
    assert!(o.status.code().is_none());
    let lock = path.join(".git/refs/heads/main.lock");
    std::fs::write(&lock, "").unwrap();
    let head = head_id(&repo);
    let o = env.commit(&spec, &path, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("rm {}", lock.display()))
            && stderr(&o).contains("killed while writing it"),
        "{}",
        stderr(&o)
    );
    assert_eq!(head_id(&repo), head);
    std::fs::remove_file(&lock).unwrap();
    let o = env.commit(&spec, &path, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_completed(&env, &path, &repo, &reference);
}

#[test]
fn a_stale_index_lock_is_named_before_anything_is_written() {
    let env = Env::new();
    let reference = reference_commit(&env);
    let (before, after) = crash_specs();
    let (path, repo) = env.repo("fleet");
    let spec = env.spec("vault.yaml", &before);
    assert!(env.commit(&spec, &path, &[]).status.success());
    std::fs::write(&spec, &after).unwrap();
    let lock = path.join(".git/index.lock");
    std::fs::write(&lock, "").unwrap();
    let tree_before = read_tree(&path.join("apps"));
    let o = env.commit(&spec, &path, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("rm {}", lock.display())),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        read_tree(&path.join("apps")),
        tree_before,
        "work tree untouched"
    );
    assert_eq!(commit_count(&repo), 1);
    std::fs::remove_file(&lock).unwrap();
    let o = env.commit(&spec, &path, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_completed(&env, &path, &repo, &reference);
}

#[test]
fn staged_content_that_is_not_the_planned_content_is_refused_with_the_command_to_unstage_it() {
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    let spec = env.spec("vault.yaml", TWO_APPS);
    assert!(env.commit(&spec, &path, &[]).status.success());
    let file = "apps/dev/shop/api/vaultauth.yaml";
    let edited = std::fs::read_to_string(path.join(file))
        .unwrap()
        .replace("role: shop-api", "role: staged");
    std::fs::write(path.join(file), edited).unwrap();
    env.git(&path, &["add", file]);
    let spec2 = env.spec("vault.yaml", &one_app());
    let o = env.commit(&spec2, &path, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("git restore --staged -- {file}")),
        "{}",
        stderr(&o)
    );
    assert_eq!(commit_count(&repo), 1);
}

// ---- Git semantics (issue 11, item 5) ----

#[test]
fn clean_and_smudge_filters_are_applied_to_the_blobs_and_the_rerun_is_a_no_op() {
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    // A reversible "encryption" (rot13), as git-crypt or a sops-style driver would be set up.
    let rot13 = "tr A-Za-z N-ZA-Mn-za-m";
    env.git(&path, &["config", "filter.rot13.clean", rot13]);
    env.git(&path, &["config", "filter.rot13.smudge", rot13]);
    env.git(&path, &["config", "filter.rot13.required", "true"]);
    std::fs::write(path.join(".gitattributes"), "apps/**/*.yaml filter=rot13\n").unwrap();
    let spec = env.spec("vault.yaml", TWO_APPS);
    let o = env.commit(&spec, &path, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let file = "apps/dev/shop/api/vaultauth.yaml";
    let plain = std::fs::read_to_string(path.join(file)).unwrap();
    assert!(
        plain.contains("kind: VaultAuth"),
        "the work tree holds plain text"
    );
    let blob = head_file(&repo, file).unwrap();
    assert!(
        blob.contains("xvaq: InhygNhgu"),
        "the blob is the clean filter's output: {blob}"
    );
    assert_eq!(env.git(&path, &["show", &format!("HEAD:{file}")]), blob);
    // git agrees with the work tree, and the re-run commits nothing.
    assert_eq!(
        env.git(&path, &["status", "--porcelain"]),
        "?? .gitattributes\n"
    );
    let o = env.commit(&spec, &path, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("up to date"), "{}", stdout(&o));
    // A change of one file re-encrypts it and leaves the rest as git has them.
    let spec = env.spec("vault.yaml", &one_app());
    let o = env.commit(&spec, &path, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(commit_count(&repo), 2);
    assert_eq!(
        env.git(&path, &["status", "--porcelain"]),
        "?? .gitattributes\n"
    );
    fsck_clean(&path);
}

#[test]
fn eol_attributes_give_the_work_tree_crlf_and_the_blobs_lf() {
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    std::fs::write(path.join(".gitattributes"), "*.yaml text eol=crlf\n").unwrap();
    let spec = env.spec("vault.yaml", TWO_APPS);
    let o = env.commit(&spec, &path, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let file = "apps/dev/shop/api/vaultauth.yaml";
    let disk = std::fs::read_to_string(path.join(file)).unwrap();
    assert!(disk.contains("\r\n"), "work tree: CRLF");
    let blob = head_file(&repo, file).unwrap();
    assert!(!blob.contains('\r'), "blob: LF");
    assert_eq!(disk.replace("\r\n", "\n"), blob);
    assert_eq!(
        env.git(&path, &["status", "--porcelain"]),
        "?? .gitattributes\n"
    );
    let o = env.commit(&spec, &path, &[]);
    assert!(
        stdout(&o).contains("up to date"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );

    // core.autocrlf=true, no attributes at all: the same as git checkout does.
    let (path, repo) = env.repo("autocrlf");
    env.git(&path, &["config", "core.autocrlf", "true"]);
    let o = env.commit(&spec, &path, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(path.join(file))
        .unwrap()
        .contains("\r\n"));
    assert!(!head_file(&repo, file).unwrap().contains('\r'));
    assert_eq!(env.git(&path, &["status", "--porcelain"]), "");
    let o = env.commit(&spec, &path, &[]);
    assert!(
        stdout(&o).contains("up to date"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
}

#[test]
fn without_a_git_binary_attributes_are_read_through_libgit2() {
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    std::fs::write(
        path.join(".gitattributes"),
        "*.yaml text eol=crlf\n*.sh -text\n",
    )
    .unwrap();
    let spec = env.spec("vault.yaml", TWO_APPS);
    let o = env
        .cmd()
        .args(Env::commit_args(&spec, &path, &[]))
        .env("PATH", env.path().join("empty"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let file = "apps/dev/shop/api/vaultauth.yaml";
    assert!(std::fs::read_to_string(path.join(file))
        .unwrap()
        .contains("\r\n"));
    assert!(!head_file(&repo, file).unwrap().contains('\r'));
    assert_eq!(
        env.git(&path, &["status", "--porcelain"]),
        "?? .gitattributes\n"
    );
}

#[test]
fn an_attribute_the_tool_cannot_honour_is_refused_by_name() {
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    std::fs::write(
        path.join(".gitattributes"),
        "*.yaml working-tree-encoding=UTF-16\n",
    )
    .unwrap();
    let spec = env.spec("vault.yaml", TWO_APPS);
    let o = env.commit(&spec, &path, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("`working-tree-encoding=UTF-16`"),
        "{}",
        stderr(&o)
    );
    assert_eq!(commit_count(&repo), 0);
    assert!(!path.join("apps").exists());
    // A required filter with no command configured: git refuses too.
    std::fs::write(path.join(".gitattributes"), "*.yaml filter=crypt\n").unwrap();
    env.git(&path, &["config", "filter.crypt.required", "true"]);
    let o = env.commit(&spec, &path, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("`filter=crypt`"), "{}", stderr(&o));
}

#[test]
fn a_branch_checked_out_in_another_worktree_is_refused() {
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    let spec = env.spec("vault.yaml", TWO_APPS);
    assert!(env.commit(&spec, &path, &[]).status.success());
    let wt = env.path().join("wt");
    env.git(
        &path,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "vault-update",
            wt.to_str().unwrap(),
        ],
    );
    let tip = repo.refname_to_id("refs/heads/vault-update").unwrap();
    let spec2 = env.spec("vault.yaml", &one_app());
    let o = env.commit(&spec2, &path, &["--branch", "vault-update"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("checked out in another worktree")
            && stderr(&o).contains(wt.file_name().unwrap().to_str().unwrap()),
        "{}",
        stderr(&o)
    );
    assert_eq!(repo.refname_to_id("refs/heads/vault-update").unwrap(), tip);
    // From the other side: `main` is checked out in the main worktree.
    let o = env.commit(&spec2, &wt, &["--branch", "main"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // In its own worktree the branch is the current one: committed there.
    let o = env.commit(&spec2, &wt, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(repo.refname_to_id("refs/heads/vault-update").unwrap(), tip);
}

#[test]
fn a_merge_cherry_pick_or_rebase_in_progress_is_refused() {
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    let spec = env.spec("vault.yaml", TWO_APPS);
    assert!(env.commit(&spec, &path, &[]).status.success());
    // A real conflicting merge.
    std::fs::write(path.join("notes.txt"), "base\n").unwrap();
    env.git(&path, &["add", "notes.txt"]);
    env.git(&path, &["commit", "-qm", "base"]);
    env.git(&path, &["switch", "-qc", "other"]);
    std::fs::write(path.join("notes.txt"), "other\n").unwrap();
    env.git(&path, &["commit", "-qam", "other"]);
    env.git(&path, &["switch", "-q", "main"]);
    std::fs::write(path.join("notes.txt"), "main\n").unwrap();
    env.git(&path, &["commit", "-qam", "main"]);
    let merge = std::process::Command::new("git")
        .arg("-C")
        .arg(&path)
        .args(["merge", "other"])
        .env("HOME", env.path())
        .output()
        .unwrap();
    assert!(!merge.status.success(), "the merge conflicts");
    let head = head_id(&repo);
    let spec2 = env.spec("vault.yaml", &one_app());
    let o = env.commit(&spec2, &path, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("a merge is in progress")
            && stderr(&o).contains("git merge --continue"),
        "{}",
        stderr(&o)
    );
    assert_eq!(head_id(&repo), head);
    env.git(&path, &["merge", "--abort"]);
    std::fs::write(
        path.join(".git/CHERRY_PICK_HEAD"),
        format!("{}\n", head.unwrap()),
    )
    .unwrap();
    let o = env.commit(&spec2, &path, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("a cherry-pick is in progress"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_file(path.join(".git/CHERRY_PICK_HEAD")).unwrap();

    // A real conflicting rebase (HEAD is detached while it runs; the state is named first).
    let rebase = std::process::Command::new("git")
        .arg("-C")
        .arg(&path)
        .args(["rebase", "other"])
        .env("HOME", env.path())
        .output()
        .unwrap();
    assert!(!rebase.status.success(), "the rebase conflicts");
    let o = env.commit(&spec2, &path, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("a rebase is in progress")
            && stderr(&o).contains("git rebase --continue"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        repo.refname_to_id("refs/heads/main").ok(),
        head,
        "main not moved"
    );
}

#[cfg(unix)]
#[test]
fn commit_gpgsign_is_honoured_by_letting_git_sign_the_commit() {
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    let key = env.path().join("signing-key");
    let keygen = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status();
    if !matches!(keygen, Ok(s) if s.success()) {
        eprintln!("skipped: no ssh-keygen to make a signing key");
        return;
    }
    env.git(&path, &["config", "gpg.format", "ssh"]);
    env.git(&path, &["config", "user.signingkey", key.to_str().unwrap()]);
    env.git(&path, &["config", "commit.gpgsign", "true"]);
    let spec = env.spec("vault.yaml", TWO_APPS);
    let o = env.commit(&spec, &path, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    let (signature, _) = repo.extract_signature(&head.id(), None).unwrap();
    assert!(
        signature.as_str().unwrap().contains("BEGIN SSH SIGNATURE"),
        "the commit is signed"
    );
    assert_eq!(head.author().email().ok(), Some("fleet@example.com"));
    assert!(head
        .message()
        .unwrap()
        .starts_with("vault(dev): add 3 secrets"));
    assert!(statuses(&repo).is_empty());

    // Signing that fails stops the run before anything is written.
    env.git(&path, &["config", "user.signingkey", "/nonexistent/key"]);
    let spec2 = env.spec("vault.yaml", &one_app());
    let tree_before = read_tree(&path.join("apps"));
    let o = env.commit(&spec2, &path, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("signing the commit failed"),
        "{}",
        stderr(&o)
    );
    assert_eq!(commit_count(&repo), 1);
    assert_eq!(read_tree(&path.join("apps")), tree_before);
}

#[cfg(unix)]
#[test]
fn commit_hooks_are_refused_by_name_unless_no_verify() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let (path, repo) = env.repo("fleet");
    let spec = env.spec("vault.yaml", TWO_APPS);
    let hook = path.join(".git/hooks/pre-commit");
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::write(&hook, "#!/bin/sh\nexit 0\n").unwrap();
    // Not executable: git ignores it, and so does the tool.
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(env.commit(&spec, &path, &["--dry-run"]).status.success());
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = env.commit(&spec, &path, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("pre-commit") && stderr(&o).contains("--no-verify"),
        "{}",
        stderr(&o)
    );
    assert_eq!(commit_count(&repo), 0);
    assert!(!path.join("apps").exists());
    // A dry run still shows the change.
    assert!(env.commit(&spec, &path, &["--dry-run"]).status.success());
    let o = env.commit(&spec, &path, &["--no-verify"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(commit_count(&repo), 1);

    // core.hooksPath, relative to the work tree as git takes it.
    std::fs::remove_file(&hook).unwrap();
    let dir = path.join(".githooks");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("commit-msg"), "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(
        dir.join("commit-msg"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    env.git(&path, &["config", "core.hooksPath", ".githooks"]);
    let spec = env.spec("vault.yaml", &one_app());
    let o = env.commit(&spec, &path, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(".githooks/commit-msg"),
        "{}",
        stderr(&o)
    );
}

// ---- Push (issue 11, item 6) and output (item 9) ----

#[test]
fn push_sends_a_branch_that_is_ahead_even_when_there_is_nothing_to_commit() {
    let env = Env::new();
    let remote_path = env.path().join("remote.git");
    let remote = Repository::init_bare(&remote_path).unwrap();
    let (path, repo) = env.repo("fleet");
    repo.remote("origin", remote_path.to_str().unwrap())
        .unwrap();
    let spec = env.spec("vault.yaml", TWO_APPS);
    // Committed without --push (or a push that failed): the branch is ahead of the remote.
    assert!(env.commit(&spec, &path, &[]).status.success());
    let tip = head_id(&repo).unwrap();
    let short = &tip.to_string()[..12];
    let o = env.commit(&spec, &path, &["--push"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("up to date"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(&format!("pushed main to origin: new branch at {short}")),
        "{}",
        stdout(&o)
    );
    assert_eq!(remote.refname_to_id("refs/heads/main").unwrap(), tip);

    // Nothing left to push: said so.
    let o = env.commit(&spec, &path, &["--push"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!(
            "origin already has main at {short}: nothing to push"
        )),
        "{}",
        stdout(&o)
    );

    // Two local commits ahead: both pushed, and the range is shown.
    std::fs::write(&spec, one_app()).unwrap();
    assert!(env.commit(&spec, &path, &[]).status.success());
    std::fs::write(&spec, TWO_APPS).unwrap();
    assert!(env.commit(&spec, &path, &[]).status.success());
    let new_tip = head_id(&repo).unwrap();
    let o = env.commit(&spec, &path, &["--push"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!(
            "pushed main to origin: {short}..{} (2 commits)",
            &new_tip.to_string()[..12]
        )),
        "{}",
        stdout(&o)
    );
    assert_eq!(remote.refname_to_id("refs/heads/main").unwrap(), new_tip);
}

#[test]
fn the_recovery_for_a_rejected_push_pushes() {
    let env = Env::new();
    let remote_path = env.path().join("remote.git");
    let remote = Repository::init_bare(&remote_path).unwrap();
    let (path, _repo) = env.repo("fleet");
    env.git(
        &path,
        &["remote", "add", "origin", remote_path.to_str().unwrap()],
    );
    let spec = env.spec("vault.yaml", TWO_APPS);
    assert!(env.commit(&spec, &path, &["--push"]).status.success());
    // Someone else pushes an unrelated file.
    let other = env.path().join("other");
    env.git(
        env.path(),
        &[
            "clone",
            "-q",
            "-b",
            "main",
            remote_path.to_str().unwrap(),
            other.to_str().unwrap(),
        ],
    );
    std::fs::write(other.join("README.md"), "fleet\n").unwrap();
    env.git(&other, &["add", "README.md"]);
    env.git(
        &other,
        &[
            "-c",
            "user.name=o",
            "-c",
            "user.email=o@example.com",
            "commit",
            "-qm",
            "readme",
        ],
    );
    env.git(&other, &["push", "-q", "origin", "main"]);
    let spec = env.spec("vault.yaml", &one_app());
    let o = env.commit(&spec, &path, &["--push"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("git pull --rebase origin main"),
        "{}",
        stderr(&o)
    );
    // The recovery the hint gives: pull --rebase, run again. The re-run has nothing to commit
    // and must still push.
    env.git(&path, &["pull", "-q", "--rebase", "origin", "main"]);
    let o = env.commit(&spec, &path, &["--push"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("pushed main to origin:"),
        "{}",
        stdout(&o)
    );
    let local = Repository::open(&path).unwrap();
    assert_eq!(
        remote.refname_to_id("refs/heads/main").unwrap(),
        head_id(&local).unwrap()
    );
}

#[test]
fn a_closed_stdout_neither_crashes_the_run_nor_skips_the_push() {
    let env = Env::new();
    let remote_path = env.path().join("remote.git");
    let remote = Repository::init_bare(&remote_path).unwrap();
    let (path, repo) = env.repo("fleet");
    repo.remote("origin", remote_path.to_str().unwrap())
        .unwrap();
    let spec = env.spec("vault.yaml", TWO_APPS);
    // `commit ... | head -1` where head is already gone: every write to stdout fails.
    let mut child = env
        .cmd()
        .args(Env::commit_args(&spec, &path, &["--push"]))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert_ne!(o.status.code(), Some(101));
    assert_eq!(commit_count(&repo), 1);
    assert_eq!(
        remote.refname_to_id("refs/heads/main").ok(),
        head_id(&repo),
        "pushed"
    );
}

#[cfg(unix)]
#[test]
fn written_files_follow_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    for (umask, script, yaml) in [
        ("077", 0o700, 0o600),
        ("022", 0o755, 0o644),
        ("002", 0o775, 0o664),
    ] {
        let (path, _repo) = env.repo(&format!("fleet-{umask}"));
        let spec = env.spec("vault.yaml", TWO_APPS);
        let mut args = vec![
            "-c".to_string(),
            format!("umask {umask}; exec \"$@\""),
            "sh".into(),
            env!("CARGO_BIN_EXE_kubectl-vault").into(),
        ];
        args.extend(Env::commit_args(&spec, &path, &[]));
        let o = std::process::Command::new("sh")
            .args(&args)
            .env("HOME", env.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let mode = |p: &str| {
            std::fs::metadata(path.join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(
            mode("vault-config/dev/configure.sh"),
            script,
            "umask {umask}"
        );
        assert_eq!(
            mode("apps/dev/shop/api/vaultauth.yaml"),
            yaml,
            "umask {umask}"
        );
    }
}

/// A remote written as a relative path (`../remote.git`), as `git remote add` accepts it, is
/// relative to the repository (not to where the command runs); the push lands there and the
/// remote-tracking branch follows, as with git.
#[test]
fn push_to_a_remote_with_a_relative_path() {
    let env = Env::new();
    let remote_path = env.path().join("remote.git");
    let remote = Repository::init_bare(&remote_path).unwrap();
    let (path, repo) = env.repo("fleet");
    repo.remote("origin", "../remote.git").unwrap();
    let spec = env.spec("vault.yaml", TWO_APPS);
    let elsewhere = env.path().join("elsewhere/deeper");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let o = env
        .cmd()
        .current_dir(&elsewhere)
        .args(Env::commit_args(&spec, &path, &["--push"]))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("pushed main to origin"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        remote.find_reference("refs/heads/main").unwrap().target(),
        head_id(&repo)
    );
    assert_eq!(
        repo.find_reference("refs/remotes/origin/main")
            .unwrap()
            .target(),
        head_id(&repo),
        "the remote-tracking branch moved as with git push"
    );
    // git agrees: origin/main is the pushed commit, and git reaches the same remote.
    assert_eq!(
        env.git(&path, &["rev-parse", "origin/main"]).trim(),
        head_id(&repo).unwrap().to_string()
    );
    env.git(&path, &["fetch", "-q", "origin"]);
}

/// `--color always` colours the dry run's diff even into a pipe; NO_COLOR turns auto off
/// even when CLICOLOR_FORCE is set; CLICOLOR_FORCE turns it on.
#[test]
fn the_diff_is_coloured_as_color_no_color_and_clicolor_force_say() {
    let env = Env::new();
    let (path, _repo) = env.repo("fleet");
    let spec = env.spec("vault.yaml", TWO_APPS);
    let dry = Env::commit_args(&spec, &path, &["--dry-run"]);
    let run = |extra: &[&str], vars: &[(&str, &str)]| {
        let mut c = env.cmd();
        c.args(&dry).args(extra);
        for (k, v) in vars {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o).contains("\x1b[32m+")
    };
    assert!(!run(&[], &[]), "auto, not a terminal: plain");
    assert!(run(&["--color", "always"], &[]));
    assert!(
        run(&["--color=always"], &[("NO_COLOR", "1")]),
        "the flag wins"
    );
    assert!(!run(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]));
    assert!(run(&[], &[("CLICOLOR_FORCE", "1")]));
    assert!(!run(&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]));
}

/// `--push` goes through the user's own git, so what git knows about reaching a remote applies
/// (here an SSH remote whose transport is the repository's `core.sshCommand`, which libgit2,
/// built without ssh, could not use); a rejection by the remote's hook is reported with git's
/// reason and the local commit kept.
#[test]
fn push_uses_the_users_git_and_its_ssh_settings() {
    let env = Env::new();
    let remote_path = env.path().join("remote.git");
    let remote = Repository::init_bare(&remote_path).unwrap();
    let (path, repo) = env.repo("fleet");
    // A stand-in `ssh`: drops the host and runs the remote command locally, as sshd would.
    let ssh = env.path().join("fake-ssh");
    std::fs::write(&ssh, "#!/bin/sh\nshift\nexec sh -c \"$*\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o755)).unwrap();
    env.git(&path, &["config", "core.sshCommand", ssh.to_str().unwrap()]);
    let url = format!("ssh://git@vault-fleet.example{}", remote_path.display());
    env.git(&path, &["remote", "add", "origin", &url]);
    let spec = env.spec("vault.yaml", TWO_APPS);
    let o = env.commit(&spec, &path, &["--push"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("pushed main to origin: new branch at"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        remote.find_reference("refs/heads/main").unwrap().target(),
        head_id(&repo)
    );

    // The remote's pre-receive hook declines: git's reason, exit 3, the local commit kept.
    let hook = remote_path.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'frozen for the audit' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let before = remote.find_reference("refs/heads/main").unwrap().target();
    let spec2 = env.spec("vault.yaml", &one_app());
    let o = env.commit(&spec2, &path, &["--push"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("push of main to origin was rejected: pre-receive hook declined"),
        "{}",
        stderr(&o)
    );
    assert!(
        !stderr(&o).contains("git pull --rebase"),
        "not a non-fast-forward: {}",
        stderr(&o)
    );
    assert_eq!(commit_count(&repo), 2, "the local commit is kept");
    assert_eq!(
        remote.find_reference("refs/heads/main").unwrap().target(),
        before
    );
}
