//! A closed stdout is not a crash: `kubectl vault … | head -1` ends quietly (exit 0, or the
//! command's own verdict), never with a panic (exit 101). The read end of the pipe is closed
//! before the tool writes, so every write meets EPIPE.

use crate::support;
use crate::support::common::*;
use crate::support::fake_apiserver::FakeApiServer;
use std::process::{Command, Stdio};

/// Runs `cmd` with its stdout closed from the start; returns (exit code, stderr).
fn with_closed_stdout(mut cmd: Command) -> (Option<i32>, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kubectl-vault");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_quiet(what: &str, (code, err): (Option<i32>, String), expected: i32) {
    assert_eq!(code, Some(expected), "{what}: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{what}: {err}"
    );
}

#[test]
fn init_and_generate_with_a_closed_stdout_exit_0() {
    let mut init = bin();
    init.arg("init");
    assert_quiet("init", with_closed_stdout(init), 0);
    for spec in ["example.yaml", "production.yaml"] {
        let mut generate = bin();
        generate.args(["generate", "-f", fixture(spec).to_str().unwrap()]);
        assert_quiet(spec, with_closed_stdout(generate), 0);
    }
    let mut script = bin();
    script.args([
        "configure",
        "-f",
        fixture("example.yaml").to_str().unwrap(),
        "--script",
    ]);
    assert_quiet("configure --script", with_closed_stdout(script), 0);
}

#[test]
fn verify_with_a_closed_stdout_keeps_its_verdict() {
    let fake = FakeApiServer::start();
    support::cluster_state::synced(&fake, &fixture("example.yaml"));
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = fake.write_kubeconfig(dir.path(), "homelab");
    let verify = |extra: &[&str]| {
        let mut cmd = bin();
        cmd.args([
            "verify",
            "-f",
            fixture("example.yaml").to_str().unwrap(),
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
        ])
        .args(extra)
        .env_remove("KUBECONFIG");
        cmd
    };
    assert_quiet("verify", with_closed_stdout(verify(&[])), 0);
    assert_quiet(
        "verify -o json",
        with_closed_stdout(verify(&["-o", "json"])),
        0,
    );
    // Not synced: the verdict (exit 1) survives the closed pipe.
    fake.remove("VaultStaticSecret", "app", "app-kvv2-secret");
    assert_quiet("verify, not synced", with_closed_stdout(verify(&[])), 1);
}

#[test]
fn commit_with_a_closed_stdout_does_not_crash() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("fleet");
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(ok, "git {args:?}");
    };
    std::fs::create_dir_all(&repo).unwrap();
    if Command::new("git").arg("--version").output().is_err() {
        eprintln!("skipped: git not found");
        return;
    }
    git(&["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("README.md"), "fleet\n").unwrap();
    git(&["add", "README.md"]);
    git(&["commit", "-q", "-m", "init"]);
    let mut commit = bin();
    commit
        .args([
            "commit",
            "-f",
            fixture("example.yaml").to_str().unwrap(),
            "--repo",
            repo.to_str().unwrap(),
        ])
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com");
    let (code, err) = with_closed_stdout(commit);
    assert!(
        code != Some(101) && !err.contains("panicked"),
        "{code:?}: {err}"
    );
    assert!(matches!(code, Some(0) | Some(1)), "{code:?}: {err}");
}
