//! What kubectl-vault's integration tests, benchmarks and examples share (a dev-dependency
//! only, never published):
//! - [`fake_apiserver`]: an in-process Kubernetes API server that real clients (the tool through
//!   kube-rs, the real kubectl) reach through a kubeconfig;
//! - [`cluster_state`]: the objects of a generated tree as the API server, Flux and the Vault
//!   Secrets Operator leave them, loaded into a fake;
//! - [`big_spec`]: synthetic specs of any size for the scale tests and the benchmarks.
//!
//! It depends on the core crate only, not on the kubectl-vault package: rendering a spec is
//! the caller's (tests/it/support/cluster_state.rs and the verify bench hand the rendered
//! files in).

pub mod big_spec;
pub mod cluster_state;
pub mod fake_apiserver;
