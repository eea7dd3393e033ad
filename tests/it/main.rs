//! The integration tests: one test binary (as ripgrep and uv do), one module per area.
//! Shared helpers live in `support`: running the binary, the fake Kubernetes API server,
//! cluster states, real OpenBao and PostgreSQL servers.

mod support;

mod audit_devices;
mod bad_specs;
mod bring_your_own;
mod cert_manager;
mod closed_pipes;
mod commit;
mod completion;
mod configure;
mod configure_fields;
mod configure_script;
mod consumers;
mod credential_files;
mod csi_agent;
mod dashboard;
mod diagnostics;
mod docs;
mod fleet;
mod fleet_topology;
mod fleet_vault;
mod fleet_verify;
mod fuzz_spec;
mod generate;
mod health_checks;
mod help;
mod import;
mod injector_agent;
mod injector_workloads;
mod json_errors;
mod krew;
mod layout;
mod monitoring;
mod operator;
mod outside_text;
mod pki_intermediate;
mod pki_roles;
mod scan;
mod scan_allow;
mod scan_corpus;
mod scan_inputs;
mod scan_sarif;
mod scan_staged;
mod schema;
mod unreachable;
mod vault_namespace;
mod vault_tls;
mod verify;
mod verify_vault;
