//! kubectl-vault: one short spec to a Vault + VSO GitOps tree. (Skeleton; the core lands next.)
#![allow(dead_code)]
mod header;
mod tree;
fn main() {}
