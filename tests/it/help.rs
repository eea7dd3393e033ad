//! What `--help`, `--version` and a usage error print, pinned by snapshots: the help text is
//! the reference most users read first.

use crate::support::common::*;

/// Runs the binary at a fixed terminal width, so the wrapping is the same everywhere.
fn text(args: &[&str]) -> (Option<i32>, String, String) {
    let o = bin()
        .args(args)
        .env("COLUMNS", "100")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .unwrap();
    (o.status.code(), stdout(&o), stderr(&o))
}

#[test]
fn help_of_every_command() {
    for (name, args) in [
        ("help", &["--help"][..]),
        ("help_short", &["-h"]),
        ("help_init", &["init", "--help"]),
        ("help_generate", &["generate", "--help"]),
        ("help_commit", &["commit", "--help"]),
        ("help_verify", &["verify", "--help"]),
        ("help_configure", &["configure", "--help"]),
        ("help_schema", &["schema", "--help"]),
        ("help_completion", &["completion", "--help"]),
        ("help_operator", &["operator", "--help"]),
        ("help_operator_status", &["operator", "status", "--help"]),
        ("help_operator_init", &["operator", "init", "--help"]),
        ("help_operator_unseal", &["operator", "unseal", "--help"]),
        (
            "help_operator_snapshot_save",
            &["operator", "snapshot", "save", "--help"],
        ),
        ("help_scan", &["scan", "--help"]),
        ("help_import", &["import", "--help"]),
    ] {
        let (code, out, err) = text(args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert_eq!(err, "", "{args:?}");
        insta::assert_snapshot!(name, out);
    }
}

/// The list the help and completion tests walk is the CLI's own.
#[test]
fn subcommands_is_every_visible_command() {
    use clap::CommandFactory;
    let cli = kubectl_vault::cli::Cli::command();
    let visible: Vec<&str> = cli
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name())
        .collect();
    assert_eq!(visible, SUBCOMMANDS);
}

#[test]
fn the_help_subcommand_prints_the_same_as_the_flag() {
    for &cmd in SUBCOMMANDS {
        assert_eq!(text(&["help", cmd]).1, text(&[cmd, "--help"]).1, "{cmd}");
    }
}

#[test]
fn version() {
    let (code, out, _) = text(&["--version"]);
    assert_eq!(code, Some(0));
    redactions(&[]).bind(|| insta::assert_snapshot!("version", out));
}

#[test]
fn usage_errors_exit_2_and_say_what_is_wrong() {
    for (name, args) in [
        ("usage_no_command", &[][..]),
        ("usage_unknown_command", &["genrate"]),
        ("usage_unknown_flag", &["generate", "--ouput", "x"]),
        ("usage_bad_value", &["verify", "-o", "yaml"]),
    ] {
        let (code, out, err) = text(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert_eq!(out, "", "{args:?}");
        insta::assert_snapshot!(name, err);
    }
}

/// clap's help follows `--color` and NO_COLOR / CLICOLOR_FORCE like the rest of the output.
#[test]
fn help_is_coloured_as_asked() {
    let help = |args: &[&str], vars: &[(&str, &str)]| {
        let mut c = bin();
        c.args(args)
            .env_remove("CLICOLOR_FORCE")
            .env_remove("NO_COLOR");
        for (k, v) in vars {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        stdout(&o).contains("\x1b[")
    };
    assert!(!help(&["--help"], &[]));
    assert!(help(&["--color", "always", "--help"], &[]));
    assert!(help(
        &["verify", "--help", "--color=always"],
        &[("NO_COLOR", "1")]
    ));
    assert!(help(&["--help"], &[("CLICOLOR_FORCE", "1")]));
    assert!(!help(
        &["--help"],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]
    ));
    assert!(!help(
        &["--color", "never", "--help"],
        &[("CLICOLOR_FORCE", "1")]
    ));
}

/// The examples in every command's help are printed as written (verbatim): none is wider
/// than the help's 100 columns less its indent, so none wraps mid-phrase.
#[test]
fn no_help_example_wraps() {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, path: &str, long: &mut Vec<String>) {
        if let Some(about) = cmd.get_long_about() {
            // Example lines (indented, printed verbatim); prose is reflowed by clap.
            for line in about.to_string().lines().filter(|l| l.starts_with("  ")) {
                if line.chars().count() > 98 {
                    long.push(format!("{path}: {line}"));
                }
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()), long);
        }
    }
    let mut long = Vec::new();
    walk(
        &kubectl_vault::cli::Cli::command(),
        "kubectl vault",
        &mut long,
    );
    assert!(
        long.is_empty(),
        "help lines that wrap:\n{}",
        long.join("\n")
    );
}
