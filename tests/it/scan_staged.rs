//! `scan --staged`: exactly what the next commit would add — the index against HEAD, staged
//! content only (not the work tree, not the history) — with the other modes' exit codes; the
//! `.pre-commit-hooks.yaml` at the repository's root, and the plain `git` hook the docs show.

use crate::scan::scan;
use crate::support::common::{redactions, stderr, stdout};
use std::path::Path;
use std::process::Command;

/// `git` in `dir`, with no user or system configuration.
fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "core.hooksPath=.git/hooks",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    out
}

fn ok(dir: &Path, args: &[&str]) {
    let out = git(dir, args);
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
}

fn write(dir: &Path, path: &str, text: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn secret(name: &str, password: &str) -> String {
    format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: shop\nstringData:\n  password: {password}\n")
}

fn token(n: u32) -> String {
    // Split, so that no token-shaped string is committed.
    format!("{}.{}{n}", "hvs", "CAESIStagedTokenQ7mXk29Lpw4bZ")
}

fn findings(out: &std::process::Output) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(&stdout(out)).unwrap();
    assert_eq!(v["scope"], "staged");
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn only_the_staged_content_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["init", "-q", "-b", "main"]);
    // Committed before: a leak already in HEAD is history's business, not this commit's.
    write(d, "apps/old.yaml", &secret("old", "Committed-Before-1"));
    write(d, "apps/gone.yaml", &secret("gone", "Deleted-Now-2"));
    write(d, "config/app.yaml", "app:\n  replicas: 2\n");
    ok(d, &["add", "-A"]);
    ok(d, &["commit", "-q", "-m", "one"]);

    // Staged: a new token in a changed file, a new Secret, a deletion.
    write(
        d,
        "config/app.yaml",
        &format!("app:\n  replicas: 2\n  apiToken: {}\n", token(1)),
    );
    write(d, "apps/new.yaml", &secret("new", "Staged-Value-3"));
    ok(d, &["rm", "-q", "apps/gone.yaml"]);
    ok(d, &["add", "config/app.yaml", "apps/new.yaml"]);
    // Staged with a secret, then cleaned in the work tree only: the commit would still add it.
    write(
        d,
        "apps/cleaned.yaml",
        &secret("cleaned", "Staged-Then-Cleaned-4"),
    );
    ok(d, &["add", "apps/cleaned.yaml"]);
    write(d, "apps/cleaned.yaml", "# moved to Vault\n");
    // Staged clean, then a secret added in the work tree only: not in the commit.
    write(d, "apps/later.yaml", "# empty\n");
    ok(d, &["add", "apps/later.yaml"]);
    write(d, "apps/later.yaml", &secret("later", "Work-Tree-Only-5"));
    // Untracked: not in the commit.
    write(
        d,
        "local/untracked.yaml",
        &secret("untracked", "Untracked-6"),
    );
    // A staged symbolic link is no file content.
    std::os::unix::fs::symlink("new.yaml", d.join("apps/link.yaml")).unwrap();
    ok(d, &["add", "apps/link.yaml"]);

    let out = scan(d, &["--staged", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        findings(&out),
        [
            (
                "kubernetes-secret".to_string(),
                "apps/cleaned.yaml".to_string()
            ),
            ("kubernetes-secret".to_string(), "apps/new.yaml".to_string()),
            ("vault-token".to_string(), "config/app.yaml".to_string()),
        ]
    );
    let all = format!("{}{}", stdout(&out), stderr(&out));
    for v in ["Staged-Value-3", "Staged-Then-Cleaned-4", &token(1)[4..]] {
        assert!(!all.contains(v), "a value was printed: {all}");
    }
    let out = scan(d, &["--staged"]);
    assert_eq!(out.status.code(), Some(1));
    redactions(&[(d, "repo")]).bind(|| insta::assert_snapshot!("staged_table", stdout(&out)));

    // --exit-zero reports without failing; a commit of it leaves nothing staged: exit 0.
    assert_eq!(scan(d, &["--staged", "--exit-zero"]).status.code(), Some(0));
    ok(d, &["commit", "-q", "-m", "two"]);
    let out = scan(d, &["--staged"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(
        stdout(&out),
        "0 findings in the staged changes; 0 file contents scanned\n"
    );
}

/// With no commit yet (an unborn HEAD), everything staged is what the first commit adds.
#[test]
fn an_unborn_head_stages_everything() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["init", "-q", "-b", "main"]);
    write(d, "a.yaml", &secret("a", "First-Commit-7"));
    write(d, "b/c.env", &format!("VAULT_TOKEN={}\n", token(2)));
    write(d, "notes.md", "# nothing\n");
    ok(d, &["add", "-A"]);
    let out = scan(d, &["--staged", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        findings(&out),
        [
            ("kubernetes-secret".to_string(), "a.yaml".to_string()),
            ("vault-token".to_string(), "b/c.env".to_string()),
        ]
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["scanned"]["blobs"], 3);

    // A staged file over 1 MiB is not read: named, and the run fails.
    write(d, "big.txt", &"x".repeat(1024 * 1024 + 1));
    ok(d, &["add", "big.txt"]);
    let out = scan(d, &["--staged", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["unread"][0]["path"], "big.txt");

    // --staged is neither --no-history nor outside a repository.
    let out = scan(d, &["--staged", "--no-history"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let elsewhere = tempfile::tempdir().unwrap();
    let out = scan(elsewhere.path(), &["--staged"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// The plain `git` hook of the docs stops a commit that adds a secret, and lets a clean one
/// through; `.pre-commit-hooks.yaml` declares the same command for pre-commit.
#[test]
fn the_git_hook_stops_a_commit_that_adds_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["init", "-q", "-b", "main"]);
    let hook = d.join(".git/hooks/pre-commit");
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nexec \"{}\" scan --staged\n",
            env!("CARGO_BIN_EXE_kubectl-vault")
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    write(d, "ok.yaml", "a: 1\n");
    ok(d, &["add", "ok.yaml"]);
    ok(d, &["commit", "-q", "-m", "clean"]);
    write(d, "leak.yaml", &secret("leak", "Hook-Stops-Me-8"));
    ok(d, &["add", "leak.yaml"]);
    let out = git(d, &["commit", "-q", "-m", "leak"]);
    assert!(!out.status.success(), "the hook let the commit through");
    // git shows the hook's output on its stderr.
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(said.contains("kubernetes-secret"), "{said}");
    assert!(!said.contains("Hook-Stops-Me-8"));
    let head = git(d, &["log", "--format=%s"]);
    assert_eq!(stdout(&head), "clean\n");

    let hooks = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    let hooks: serde_yaml::Value = serde_yaml::from_str(&hooks).unwrap();
    let h = &hooks[0];
    assert_eq!(h["id"], "kubectl-vault-scan");
    assert_eq!(h["entry"], "kubectl-vault scan --staged");
    assert_eq!(h["language"], "system");
    assert_eq!(h["pass_filenames"], false);
    assert_eq!(h["always_run"], true);
}
