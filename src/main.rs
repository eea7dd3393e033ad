//! The `kubectl-vault` binary; `kubectl vault …` finds it on PATH.

fn main() -> std::process::ExitCode {
    kubectl_vault::cli::main()
}
