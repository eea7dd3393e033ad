//! The `kubectl-vault` binary; `kubectl vault …` finds it on PATH.
fn main() {}
