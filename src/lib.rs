//! kubectl-vault: wire HashiCorp Vault into Kubernetes the GitOps way.
//!
//! A pure core turns the spec into a model and rendered documents with no I/O
//! ([`spec`] → [`model`] → [`vault_side`] → [`render`] → [`selfcheck`] → [`tree`]);
//! thin edges talk to Git, Kubernetes and Vault; [`commands`] holds one module per subcommand.

pub mod bounded;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod error;
pub mod gitops;
pub mod header;
pub mod model;
pub mod pipeline;
pub mod render;
pub mod selfcheck;
pub mod spec;
pub mod tree;
pub mod vault_api;
pub mod vault_plan;
pub mod vault_side;
pub mod verify;
pub mod versions;
