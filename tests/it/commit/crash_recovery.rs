//! Recovery (issue 11, item 3): a run killed at any point (by the fault-injection crash points
//! or a real kill -9) is completed by the next run, or the stale lock it left is named.

use super::*;

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
        "apps/dev/_vault-apps/kustomization.yaml",
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
