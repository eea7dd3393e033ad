//! kubectl-vault: one short spec to a Vault + VSO GitOps tree. (Skeleton; the core lands next.)
fn main() {}
