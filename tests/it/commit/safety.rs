//! What `commit` never does to a user's repository: stage or revert unrelated work, overwrite
//! hand edits or staged content, run twice at once, leave half a change behind, or write
//! through a symbolic link.

use super::*;

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
    let file = "apps/dev/_vault-apps/kustomization.yaml";
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
