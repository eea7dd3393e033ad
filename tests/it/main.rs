//! The integration tests: one test binary (as ripgrep and uv do), one module per area.
//! Shared helpers live in `support`: running the binary, the fake Kubernetes API server,
//! cluster states, real OpenBao and PostgreSQL servers.

mod support;

mod bad_specs;
mod closed_pipes;
mod commit;
mod configure;
mod configure_script;
mod diagnostics;
mod fleet;
mod fuzz_spec;
mod generate;
mod health_checks;
mod help;
mod import;
mod krew;
mod scan;
mod verify;
mod verify_vault;
