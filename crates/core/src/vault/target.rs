//! Which Vault each cluster's Vault side goes into, for `configure` (and `verify --vault`):
//! one Vault for a single cluster and for a fleet on one shared Vault (every cluster's mount,
//! policies and roles in it), one Vault per cluster for a fleet where every cluster runs its
//! own, each configured separately — never every cluster's mounts in one of them.
//!
//! A Vault is `vaultConfig.address` when the spec names one, else `VAULT_ADDR` (which the
//! edge reads). Several clusters each with their own Vault need their addresses in the spec:
//! one `VAULT_ADDR` cannot name them all.

use crate::error::Error;
use crate::model::{FleetVault, Stack};

/// One Vault and the clusters (indexes into the stacks given) whose Vault side goes there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `vaultConfig.address`; `None`: `VAULT_ADDR`.
    pub address: Option<String>,
    pub clusters: Vec<usize>,
}

/// The Vaults the clusters of `stacks` (all of a spec file's, or those selected) go into, in
/// the clusters' order. `spec` names the file, for the hint.
pub fn targets(stacks: &[&Stack], spec: &str) -> Result<Vec<Target>, Error> {
    let address = |s: &Stack| s.vault_config.address.clone();
    let per_cluster = stacks
        .iter()
        .any(|s| s.vault.fleet == Some(FleetVault::PerCluster));
    if per_cluster && stacks.len() > 1 {
        let missing: Vec<&str> = stacks
            .iter()
            .filter(|s| s.vault_config.address.is_none())
            .map(|s| s.cluster.as_str())
            .collect();
        if !missing.is_empty() {
            let first = missing[0];
            return Err(Error::usage(format!(
                "every cluster of {spec} runs its own Vault, and {} {} no vaultConfig.address: one VAULT_ADDR cannot name {} Vaults",
                missing.join(", "),
                if missing.len() == 1 { "has" } else { "have" },
                stacks.len()
            ))
            .with_hint(format!(
                "configure one cluster at a time against its own Vault (`VAULT_ADDR=<the Vault of {first}> kubectl vault configure -f {spec} --cluster {first}`), or write each cluster's `vaultConfig.address` in its entry"
            )));
        }
        return Ok(stacks
            .iter()
            .enumerate()
            .map(|(i, s)| Target {
                address: address(s),
                clusters: vec![i],
            })
            .collect());
    }
    // One Vault: the fleet checked that its clusters name one address (or none).
    Ok(vec![Target {
        address: stacks.iter().find_map(|s| address(s)),
        clusters: (0..stacks.len()).collect(),
    }])
}
