//! `kubectl vault completion SHELL` (clap's generators) and the hidden `__complete` that
//! kubectl's plugin completion reaches through the `kubectl_complete-vault` script.

use crate::error::Error;
use crate::term::Term;
use clap::{Args, CommandFactory};

#[derive(Debug, Args)]
pub(crate) struct CompletionArgs {
    /// The shell to print the completion script for.
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub(crate) struct CompleteArgs {
    /// The words after `kubectl vault`; the last is the one being completed (may be empty).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub(crate) words: Vec<std::ffi::OsString>,
}

/// The binary's name as shells see it (`kubectl vault` is kubectl's, not a shell command).
const BIN: &str = "kubectl-vault";

/// Cobra's "no file completion" directive, which kubectl reads from a plugin's helper.
const DIRECTIVE: &str = ":4";

pub(crate) fn run(args: CompletionArgs, term: &Term) -> Result<(), Error> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut for_scripts(), BIN, &mut out);
    if args.shell == clap_complete::Shell::Bash {
        out = bash_labels_fixed(&String::from_utf8_lossy(&out)).into_bytes();
    }
    term.out(&out)
}

/// clap_complete's bash script names each subcommand's `case` label from its bin name with
/// every `-` turned into `__subcmd__` (`kubectl__subcmd__vault__subcmd__verify`), but sets
/// `cmd` with the binary's `-` turned into `__` (`kubectl__vault__subcmd__verify`): for a
/// binary with a `-` in its name, no label ever matched and completion stopped after the first
/// word. The labels are made to match what `cmd` is set to.
fn bash_labels_fixed(script: &str) -> String {
    let wrong = BIN.replace('-', "__subcmd__");
    let right = BIN.replace('-', "__");
    script.replace(&format!("{wrong}__subcmd__"), &format!("{right}__subcmd__"))
}

/// The command tree as shells see it: named `kubectl-vault` (kubectl's `kubectl vault` is
/// not a shell command) and without the hidden helpers, which the generators would list.
fn for_scripts() -> clap::Command {
    let full = crate::cli::Cli::command();
    let mut cmd = clap::Command::new(BIN)
        .bin_name(BIN)
        .version(env!("CARGO_PKG_VERSION"))
        .args(full.get_arguments().cloned())
        .subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    if let Some(about) = full.get_about() {
        cmd = cmd.about(about.clone());
    }
    cmd
}

/// Prints one candidate per line (`value<TAB>description`), then the directive line, as
/// kubectl expects from `kubectl_complete-<plugin>` (the format of cobra's `__complete`).
pub(crate) fn complete(args: CompleteArgs, term: &Term) -> Result<(), Error> {
    let mut words: Vec<std::ffi::OsString> = vec![BIN.into()];
    words.extend(args.words);
    if words.len() == 1 {
        words.push("".into());
    }
    let index = words.len() - 1;
    let cwd = std::env::current_dir().ok();
    let candidates = clap_complete::engine::complete(
        &mut crate::cli::Cli::command(),
        words,
        index,
        cwd.as_deref(),
    )
    .map_err(|e| Error::environment_from(format!("cannot complete: {e}"), e))?;
    let mut out = String::new();
    for c in candidates.iter().filter(|c| !c.is_hide_set()) {
        let value = c.get_value().to_string_lossy();
        // Hidden helpers (`__complete`, `__exec-credential`) are never offered.
        if value.starts_with("__") || value.contains(['\n', '\t']) {
            continue;
        }
        out.push_str(&value);
        if let Some(help) = c.get_help() {
            let help = help.to_string();
            if let Some(line) = help.lines().next().filter(|l| !l.is_empty()) {
                out.push('\t');
                out.push_str(line);
            }
        }
        out.push('\n');
    }
    out.push_str(DIRECTIVE);
    out.push('\n');
    term.out(out)
}
