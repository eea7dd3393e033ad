//! The `kubectl-vault` binary; `kubectl vault …` finds it on PATH.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = kubectl_vault::cli::Cli::parse();
    match kubectl_vault::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let msg = e.to_string();
            eprint!("{msg}");
            if !msg.ends_with('\n') {
                eprintln!();
            }
            ExitCode::from(e.exit_code())
        }
    }
}
