//! Git semantics (issue 11, item 5): clean/smudge filters, eol attributes, worktrees, merges
//! in progress, commit signing and hooks, as the user's git would honour them.

use super::*;

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
