//! Shell completion: `kubectl vault completion SHELL` scripts, and the candidates kubectl's
//! plugin completion gets from `kubectl_complete-vault` (the hidden `__complete`).

use crate::support::common::*;

fn candidates(words: &[&str]) -> Vec<String> {
    let o = bin().arg("__complete").args(words).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.last(),
        Some(&":4"),
        "ends with cobra's directive: {out}"
    );
    lines[..lines.len() - 1]
        .iter()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect()
}

#[test]
fn completion_scripts_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let o = run(&["completion", shell]);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        assert!(
            script.contains("kubectl-vault") && script.contains("verify"),
            "{shell}: {script}"
        );
        assert!(
            !script.contains("__exec-credential"),
            "{shell}: hidden commands stay hidden"
        );
    }
    // The bash script is valid bash.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kubectl-vault.bash");
    std::fs::write(&file, run(&["completion", "bash"]).stdout).unwrap();
    if let Ok(o) = std::process::Command::new("bash")
        .arg("-n")
        .arg(&file)
        .output()
    {
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let o = run(&["completion", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn plugin_completion_candidates() {
    let top = candidates(&[""]);
    for &cmd in SUBCOMMANDS {
        assert!(top.iter().any(|c| c == cmd), "{cmd} not in {top:?}");
    }
    assert!(!top.iter().any(|c| c.starts_with("__")), "{top:?}");
    assert_eq!(candidates(&["ver"]), ["verify"]);
    assert!(candidates(&["verify", "--con"]).contains(&"--context".to_string()));
    let formats = candidates(&["verify", "-o", ""]);
    assert!(
        formats.contains(&"json".into()) && formats.contains(&"table".into()),
        "{formats:?}"
    );
    let shells = candidates(&["completion", ""]);
    assert!(shells.contains(&"zsh".into()), "{shells:?}");
    assert!(candidates(&["--color", ""]).contains(&"never".into()));
}

/// The shipped helper kubectl runs: `kubectl_complete-vault verify --con` from PATH.
#[test]
fn the_kubectl_complete_helper_prints_the_candidates() {
    let helper =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completion/kubectl_complete-vault");
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_kubectl-vault"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = std::process::Command::new("sh")
        .arg(&helper)
        .args(["verify", "--con"])
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "--context\tThe kubeconfig context to use (default: the spec's `context` for the cluster, else the current context). With a fleet, `CLUSTER=NAME` for each cluster (repeat the flag)\n:4\n"
    );
}
