//! Test support: the fake API server, cluster states shaped as VSO and Flux write them, and
//! real OpenBao and PostgreSQL servers.
//!
//! The fake API server, the cluster states and the synthetic specs live in the
//! `kubectl-vault-testkit` crate (crates/testkit), which the benchmarks share; they are
//! re-exported here under their old paths (`crate::support::fake_apiserver::…`).

pub use kubectl_vault_testkit::{big_spec, fake_apiserver};

pub mod cluster_state;
pub mod common;
pub mod crd_schema;
pub mod http;
pub mod jwt_signer;
pub mod servers;
pub mod vault_fakes;
pub mod vault_setup;
