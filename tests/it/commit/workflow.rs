//! The everyday run: a first commit and a rerun that commits nothing, pruning a removed app,
//! the dry run's diff then the commit, branches and identity, a large first commit, and what
//! the written files and the diff look like (umask, colour).

use super::*;

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
    assert!(!head_file(&repo, "apps/dev/_vault-apps/kustomization.yaml")
        .unwrap()
        .contains("shop/web"));
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
