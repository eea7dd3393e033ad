//! Test support: the fake API server, cluster states shaped as VSO and Flux write them, and
//! real OpenBao and PostgreSQL servers.

pub mod big_spec;
pub mod cluster_state;
pub mod common;
pub mod crd_schema;
pub mod fake_apiserver;
pub mod servers;
pub mod vault_fakes;
pub mod vault_setup;
