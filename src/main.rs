//! The `kubectl-vault` binary; `kubectl vault …` finds it on PATH.

use std::process::ExitCode;

fn main() -> ExitCode {
    kubectl_vault::cli::quiet_on_closed_pipes();
    let cli = kubectl_vault::cli::parse();
    match kubectl_vault::cli::run(cli) {
        Ok(exit) => ExitCode::from(exit.code()),
        // A command that reports its own closed stdout as an error (rather than through
        // `cli::write_stdout`) still ends quietly, as with `| head -1`.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            let mut msg = e.to_string();
            if !msg.ends_with('\n') {
                msg.push('\n');
            }
            // A closed stderr must not turn an error into a crash: the code still tells.
            kubectl_vault::cli::write_stderr(&msg);
            ExitCode::from(e.exit_code())
        }
    }
}
