//! `commit --push` (issue 11, item 6): a bare remote, a rejected push and its recovery, a
//! branch that is ahead, a closed stdout, relative remote paths and the user's own git.

use super::*;

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
