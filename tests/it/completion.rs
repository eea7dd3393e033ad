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

/// The bash script, driven as bash drives it (COMP_WORDS, COMP_CWORD, then the function it
/// registers with `complete -F`): subcommands, nested subcommands and flags after the first
/// word complete (clap_complete's labels for a binary with `-` in its name never matched).
#[test]
fn the_bash_script_completes_past_the_first_word() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("kubectl-vault.bash");
    std::fs::write(&script, run(&["completion", "bash"]).stdout).unwrap();
    let complete = |words: &[&str]| -> Vec<String> {
        let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let cword = words.len() - 1;
        let prev = if cword > 0 { words[cword - 1] } else { "" };
        let body = format!(
            "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={cword}\nCOMP_LINE='{}'\nCOMP_POINT=${{#COMP_LINE}}\n\
             $(complete -p kubectl-vault | sed -E 's/.*-F ([^ ]+).*/\\1/') kubectl-vault '{}' '{}'\n\
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display(),
            quoted.join(" "),
            words.join(" "),
            words[cword],
            prev,
        );
        let o = std::process::Command::new("bash")
            .args(["--norc", "--noprofile", "-c", &body])
            .output()
            .expect("bash");
        assert!(o.status.success(), "{words:?}: {}", stderr(&o));
        stdout(&o).lines().map(str::to_string).collect()
    };
    assert!(complete(&["kubectl-vault", "ver"]).contains(&"verify".to_string()));
    assert_eq!(
        complete(&["kubectl-vault", "verify", "--con"]),
        ["--context"]
    );
    assert_eq!(complete(&["kubectl-vault", "operator", "st"]), ["status"]);
    assert!(complete(&["kubectl-vault", "operator", "status", "--kube"])
        .contains(&"--kubeconfig".to_string()));
    assert!(complete(&["kubectl-vault", "scan", "--no-h"]).contains(&"--no-history".to_string()));
    let formats = complete(&["kubectl-vault", "verify", "-o", ""]);
    assert!(formats.contains(&"json".to_string()), "{formats:?}");
}

/// fish drives its completions itself (`complete -C`); zsh loads its script into compinit.
#[test]
fn the_fish_and_zsh_scripts_load_and_complete() {
    let dir = tempfile::tempdir().unwrap();
    let fish = dir.path().join("kubectl-vault.fish");
    std::fs::write(&fish, run(&["completion", "fish"]).stdout).unwrap();
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_kubectl-vault"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = std::process::Command::new("fish")
        .args(["--no-config", "-c"])
        .arg(format!(
            "source '{}'; complete -C 'kubectl-vault verify --con'; complete -C 'kubectl-vault operator st'",
            fish.display()
        ))
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path())
        .env("PATH", &path)
        .output()
        .expect("fish (scripts/test-deps.sh installs it)");
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.lines().any(|l| l.starts_with("--context\t")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("status\t")), "{out}");

    let zsh = dir.path().join("_kubectl-vault");
    std::fs::write(&zsh, run(&["completion", "zsh"]).stdout).unwrap();
    let o = std::process::Command::new("zsh")
        .args(["-f", "-c"])
        .arg(format!(
            "autoload -U compinit && compinit -u -d '{}' && source '{}' && whence -w _kubectl-vault",
            dir.path().join("zcompdump").display(),
            zsh.display()
        ))
        .env("HOME", dir.path())
        .env("ZDOTDIR", dir.path())
        .output()
        .expect("zsh (scripts/test-deps.sh installs it)");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "_kubectl-vault: function");
}
