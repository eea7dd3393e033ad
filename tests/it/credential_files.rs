//! Errors about credential files (a kubeconfig holds tokens, passwords and keys) show the
//! position and the reason, never the file's content.

use crate::support::common::*;

#[test]
fn a_broken_kubeconfig_is_named_by_position_never_by_its_lines() {
    let dir = tempfile::tempdir().unwrap();
    // The credential is made of pieces: no token-shaped string in the source.
    let token = format!("{}-{}", "sa-token", "must-never-be-printed-0123456789");
    let broken = format!(
        "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: {token}\n    bad: [1,\n    x: 2\n"
    );
    let path = dir.path().join("config");
    std::fs::write(&path, &broken).unwrap();
    let spec = fixture("example.yaml");
    // Named with --kubeconfig, through KUBECONFIG, and as ~/.kube/config.
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".kube")).unwrap();
    std::fs::write(home.join(".kube/config"), &broken).unwrap();
    let runs = [
        bin()
            .args(["verify", "-f"])
            .arg(&spec)
            .arg("--kubeconfig")
            .arg(&path)
            .output()
            .unwrap(),
        bin()
            .args(["verify", "-f"])
            .arg(&spec)
            .env("KUBECONFIG", &path)
            .output()
            .unwrap(),
        bin()
            .args(["verify", "-f"])
            .arg(&spec)
            .env_remove("KUBECONFIG")
            .env("HOME", &home)
            .output()
            .unwrap(),
    ];
    for o in &runs {
        let err = stderr(o);
        // 2 when the user named the file (--kubeconfig), 3 when the environment did.
        assert!(matches!(o.status.code(), Some(2 | 3)), "{err}");
        assert!(
            !err.contains("must-never-be-printed") && !stdout(o).contains("must-never-be-printed"),
            "{err}"
        );
        assert!(err.contains("line 7"), "the position is given: {err}");
        assert!(!err.contains(" | "), "no excerpt: {err}");
    }
}

#[test]
fn a_missing_kubeconfig_names_its_path_quoted_once() {
    let home = tempfile::tempdir().unwrap();
    let o = bin()
        .args(["verify", "-f"])
        .arg(fixture("example.yaml"))
        .env_remove("KUBECONFIG")
        .env("HOME", home.path())
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    let expected = format!("'{}'", home.path().join(".kube/config").display());
    assert!(err.contains(&expected), "{err}");
    assert!(!err.contains("'\""), "{err}");
}
