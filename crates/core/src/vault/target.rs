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
    /// `vaultNamespace`; `None`: `VAULT_NAMESPACE` (see [`namespace`]).
    pub namespace: Option<String>,
    pub clusters: Vec<usize>,
}

/// The Vault namespace `configure` (and `verify --vault`) sends as `X-Vault-Namespace`: the
/// spec's `vaultNamespace` wins over the environment's `VAULT_NAMESPACE` (the generated
/// logins go to the spec's, so the roles and policies must be there too); without one in the
/// spec the environment's is honoured, as the vault CLI does. Returns the namespace and,
/// when the two disagree, the warning to print.
pub fn namespace(spec: Option<&str>, env: Option<&str>) -> (Option<String>, Option<String>) {
    let env = env.filter(|e| !e.trim_matches('/').is_empty());
    match (spec, env) {
        (Some(s), Some(e)) if e.trim_matches('/') != s => (
            Some(s.to_string()),
            Some(format!(
                "warning: VAULT_NAMESPACE is `{}` but the spec's vaultNamespace is `{s}`: configuring namespace `{s}` (the generated logins go there); unset VAULT_NAMESPACE or change the spec",
                crate::outside::shown(e)
            )),
        ),
        (Some(s), _) => (Some(s.to_string()), None),
        (None, e) => (e.map(str::to_string), None),
    }
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
                namespace: s.vault_namespace.clone(),
                clusters: vec![i],
            })
            .collect());
    }
    // One Vault: the fleet checked that its clusters name one address (or none). One
    // namespace in it, too: the one plan is applied with one X-Vault-Namespace.
    let namespaces: std::collections::BTreeSet<Option<&str>> = stacks
        .iter()
        .map(|s| s.vault_namespace.as_deref())
        .collect();
    if namespaces.len() > 1 {
        return Err(Error::usage(format!(
            "the clusters of {spec} share one Vault but name different vaultNamespace values"
        ))
        .with_hint("set `vaultNamespace` once under `defaults`, or configure one cluster at a time (`--cluster NAME`)"));
    }
    Ok(vec![Target {
        address: stacks.iter().find_map(|s| address(s)),
        namespace: stacks.iter().find_map(|s| s.vault_namespace.clone()),
        clusters: (0..stacks.len()).collect(),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The models of a fleet file's clusters, as the loader makes them.
    fn stacks(fleet: &str) -> Vec<Stack> {
        let (members, diagnostics) = crate::fleet::expand("fleet.yaml", fleet)
            .map_err(|e| e.render())
            .unwrap();
        assert!(
            diagnostics
                .iter()
                .all(|d| d.severity == crate::spec::Severity::Warning),
            "{diagnostics:?}"
        );
        members
            .iter()
            .map(|m| {
                let typed = m
                    .spec
                    .clone()
                    .try_map_secrets(|_, _, s| s.into_secret())
                    .unwrap();
                let mut stack = crate::model::build(&typed, "fleet.yaml");
                stack.vault.fleet = Some(m.topology.fleet_vault());
                stack
            })
            .collect()
    }

    const PER_CLUSTER: &str = "apiVersion: kubectl-vault/v1alpha1\nkind: VaultFleet\ndefaults:\n  vault: {chart: {version: 0.30.0}, tls: vault-tls}\n  operator: {chart: {version: 1.4.1}}\nclusters:\n  - name: staging\n    vaultConfig: {address: https://vault.staging.example.com:8200}\n  - name: production\n    vaultConfig: {address: https://vault.production.example.com:8200}\n";

    #[test]
    fn a_vault_per_cluster_is_one_target_each_and_needs_their_addresses() {
        let all = stacks(PER_CLUSTER);
        let refs: Vec<&Stack> = all.iter().collect();
        let t = targets(&refs, "fleet.yaml").unwrap();
        assert_eq!(
            t,
            [
                Target {
                    address: Some("https://vault.staging.example.com:8200".into()),
                    namespace: None,
                    clusters: vec![0]
                },
                Target {
                    address: Some("https://vault.production.example.com:8200".into()),
                    namespace: None,
                    clusters: vec![1]
                },
            ]
        );
        // One cluster selected: its address, or VAULT_ADDR.
        assert_eq!(targets(&refs[1..], "fleet.yaml").unwrap()[0].clusters, [0]);
        let without = PER_CLUSTER.replace(
            "    vaultConfig: {address: https://vault.production.example.com:8200}\n",
            "",
        );
        let all = stacks(&without);
        let refs: Vec<&Stack> = all.iter().collect();
        let e = targets(&refs, "fleet.yaml").unwrap_err().to_string();
        assert!(e.contains("production has no vaultConfig.address"), "{e}");
        assert_eq!(targets(&refs[1..], "fleet.yaml").unwrap()[0].address, None);
    }

    #[test]
    fn one_shared_vault_is_one_target_for_every_cluster() {
        let shared = PER_CLUSTER
            .replace(
                "  - name: staging\n    vaultConfig: {address: https://vault.staging.example.com:8200}\n",
                "  - name: staging\n    vault: {deploy: false}\n    operator: {address: https://vault.example.com:8200}\n    vaultConfig:\n      kubernetesAuth: {host: https://api.staging:6443, caCertFrom: file:ca.crt, disableLocalCaJwt: true, tokenReviewer: {mode: client}}\n",
            )
            .replace("vault.production.example.com", "vault.example.com");
        let all = stacks(&shared);
        let refs: Vec<&Stack> = all.iter().collect();
        assert_eq!(
            targets(&refs, "fleet.yaml").unwrap(),
            [Target {
                address: Some("https://vault.example.com:8200".into()),
                namespace: None,
                clusters: vec![0, 1]
            }]
        );
    }

    #[test]
    fn one_shared_vault_takes_one_vault_namespace() {
        let shared = PER_CLUSTER
            .replace(
                "  - name: staging\n    vaultConfig: {address: https://vault.staging.example.com:8200}\n",
                "  - name: staging\n    vault: {deploy: false}\n    operator: {address: https://vault.example.com:8200}\n    vaultConfig:\n      kubernetesAuth: {host: https://api.staging:6443, caCertFrom: file:ca.crt, disableLocalCaJwt: true, tokenReviewer: {mode: client}}\n",
            )
            .replace("vault.production.example.com", "vault.example.com");
        let same = shared.replace("defaults:\n", "defaults:\n  vaultNamespace: admin/fleet\n");
        let all = stacks(&same);
        let refs: Vec<&Stack> = all.iter().collect();
        let t = targets(&refs, "fleet.yaml").unwrap();
        assert_eq!(t[0].namespace.as_deref(), Some("admin/fleet"));
        let differ = shared.replace(
            "  - name: production\n",
            "  - name: production\n    vaultNamespace: admin/prod\n",
        );
        let all = stacks(&differ);
        let refs: Vec<&Stack> = all.iter().collect();
        let e = targets(&refs, "fleet.yaml").unwrap_err().to_string();
        assert!(e.contains("different vaultNamespace values"), "{e}");
        // One cluster at a time: its own.
        assert_eq!(
            targets(&refs[1..], "fleet.yaml").unwrap()[0]
                .namespace
                .as_deref(),
            Some("admin/prod")
        );
    }

    #[test]
    fn the_spec_namespace_wins_over_the_environment_with_a_warning() {
        assert_eq!(namespace(None, None), (None, None));
        assert_eq!(namespace(None, Some("")), (None, None));
        assert_eq!(namespace(None, Some("env")), (Some("env".into()), None));
        assert_eq!(namespace(Some("a/b"), None), (Some("a/b".into()), None));
        assert_eq!(
            namespace(Some("a/b"), Some("a/b/")),
            (Some("a/b".into()), None)
        );
        let (ns, warning) = namespace(Some("admin"), Some("other"));
        assert_eq!(ns.as_deref(), Some("admin"));
        assert!(warning.unwrap().contains("`other`"));
    }
}
