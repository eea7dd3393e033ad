//! The Vault side: what the spec asks of Vault ([`side`]: policies, kubernetes-auth roles,
//! secrets engines, derived from the model) and `configure`'s plan to make Vault hold it
//! ([`plan`]: a diff against the snapshot the edge read), and which Vault each cluster's side
//! goes into ([`target`]: a fleet's one shared Vault, or each cluster's own).

pub mod plan;
pub mod side;
pub mod target;
