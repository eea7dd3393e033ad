//! kubectl-vault: wire HashiCorp Vault into Kubernetes the GitOps way.
//!
//! The crate is a pure core (spec → model → rendered documents, no I/O) with thin edges for
//! Git, Kubernetes and Vault, and one module per subcommand under [`commands`].

pub mod error;
pub mod header;
pub mod tree;
