//! kubectl-vault: wire HashiCorp Vault into Kubernetes the GitOps way.
//!
//! The folders say the architecture:
//! - [`core`]: the pure core, no I/O — spec → model → Vault side → render → self-check → tree,
//!   and the pure halves of `verify` and of the Vault planner;
//! - [`edge`]: the edges — files, Git, Kubernetes, Vault: I/O only, no decisions;
//! - [`commands`]: one module per subcommand, thin glue between the two; [`pipeline`] is the
//!   glue every command shares (read the spec, run the core).

pub mod bench_support;
pub mod cli;
pub mod commands;
pub mod core;
pub mod edge;
pub mod error;
pub mod pipeline;
