//! The pure core: from the spec's text to the rendered tree, the Vault side, the Vault plan and
//! verify's verdicts. Nothing here reads or writes files, starts processes or talks to a network;
//! the binary's edges (`src/edge/`) do that and hand the results in.
//!
//! This is its own crate so that the compiler keeps it pure (as kube-core is for kube-rs): its
//! `Cargo.toml` names no async runtime, HTTP or TLS stack, Git or Kubernetes client, and
//! `tests/it/layout.rs` checks the whole dependency closure in `Cargo.lock`.

pub mod commit;
pub mod cron;
pub mod duration;
pub mod error;
pub mod fleet;
pub mod header;
pub mod kinds;
pub mod model;
pub mod outside;
pub mod render;
pub mod secrets_scan;
pub mod selfcheck;
pub mod snapshot;
pub mod spec;
pub mod tree;
pub mod vault;
pub mod vault_pods;
pub mod verify;
pub mod versions;
pub mod yaml;
