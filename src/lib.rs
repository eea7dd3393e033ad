//! kubectl-vault: wire HashiCorp Vault into Kubernetes the GitOps way.
//!
//! The folders say the architecture:
//! - [`core`]: the pure core, no I/O — spec → model → Vault side → render → self-check → tree,
//!   and the pure halves of `verify` and of the Vault planner;
//! - [`edge`]: the edges — files, Git, Kubernetes, Vault: I/O only, no decisions;
//! - [`commands`]: one module per subcommand, thin glue between the two; [`pipeline`] is the
//!   glue every command shares (read the spec, run the core).

/// The pure core, its own crate (`crates/core`): its Cargo.toml holds no I/O dependency, so
/// the compiler keeps it pure.
pub use kubectl_vault_core as core;
pub use kubectl_vault_core::error;

pub mod cli;
pub mod commands;
pub mod edge;
pub mod pipeline;
pub(crate) mod term;
