//! Where a fleet's Vault runs, decided from its clusters' `vault.deploy`: one Vault for every
//! cluster (run by at most one of them, or outside all), or one Vault in every cluster.
//! Anything in between (two clusters with a Vault of their own and a third without) is
//! refused. On one shared Vault, every cluster needs an auth mount of its own, and a Vault path
//! that apps of several clusters are granted is a warning (each cluster's apps could read what
//! the other's read).

use super::Member;
use crate::model::{self, FleetVault, Source};
use crate::spec::{Diagnostic, Severity};
use std::collections::BTreeMap;

/// How a fleet's clusters use Vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topology {
    /// One Vault for every cluster, run by cluster `host` (`None`: outside every cluster):
    /// `configure` writes every cluster's auth mount, policies and roles into it.
    Shared { host: Option<String> },
    /// Every cluster runs its own Vault: `configure` configures each separately.
    PerCluster,
}

impl Topology {
    /// As one cluster's model carries it.
    pub fn fleet_vault(&self) -> FleetVault {
        match self {
            Topology::Shared { host } => FleetVault::Shared { host: host.clone() },
            Topology::PerCluster => FleetVault::PerCluster,
        }
    }
}

/// A diagnostic at `path` of member `m`, located where the fleet file wrote it.
fn at(m: &Member, severity: Severity, path: &str, message: String, hint: String) -> Diagnostic {
    let mut d = match severity {
        Severity::Error => Diagnostic::error(m.index.written_at(path), message),
        Severity::Warning => Diagnostic::warning(m.index.written_at(path), message),
    };
    d.location = m.index.value(path);
    d.with_hint(hint)
}

/// The fleet's topology, and the diagnostics of what does not fit it.
pub(super) fn decide(members: &[Member]) -> (Topology, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let hosts: Vec<&Member> = members.iter().filter(|m| m.spec.vault.deploys()).collect();
    let names = |list: &[&Member]| {
        list.iter()
            .map(|m| m.spec.cluster.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let topology = if members.len() > 1 && hosts.len() == members.len() {
        Topology::PerCluster
    } else {
        if hosts.len() > 1 {
            let without: Vec<&Member> =
                members.iter().filter(|m| !m.spec.vault.deploys()).collect();
            diagnostics.push(at(
                hosts[1],
                Severity::Error,
                "vault.deploy",
                format!(
                    "clusters {} run a Vault of their own and {} {} not: a fleet runs one Vault for every cluster, or one in each",
                    names(&hosts),
                    names(&without),
                    if without.len() == 1 { "does" } else { "do" },
                ),
                "for one shared Vault, write `vault.deploy: false` in every cluster but the one that runs it (in all of them for a Vault outside every cluster); for a Vault in each cluster, remove `deploy: false`".into(),
            ));
            // Neither topology: what else would follow from one of them is not said.
            return (Topology::PerCluster, diagnostics);
        }
        Topology::Shared {
            host: hosts.first().map(|m| m.spec.cluster.clone()),
        }
    };
    let address = |m: &Member| {
        m.spec
            .vault_config
            .as_ref()
            .and_then(|vc| vc.address.clone())
    };
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    let mut shared_address: Option<(String, &str)> = None;
    for m in members {
        let Some(a) = address(m) else { continue };
        match &topology {
            Topology::PerCluster => {
                if let Some(first) = seen.insert(a.clone(), &m.spec.cluster) {
                    diagnostics.push(at(
                        m,
                        Severity::Error,
                        "vaultConfig.address",
                        format!(
                            "clusters {first} and {} each run their own Vault, but name one vaultConfig.address `{a}`",
                            m.spec.cluster
                        ),
                        "each cluster's Vault has its own address: set vaultConfig.address in each cluster's entry, not under defaults".into(),
                    ));
                }
            }
            Topology::Shared { .. } => match &shared_address {
                Some((first_address, first)) if *first_address != a => diagnostics.push(at(
                    m,
                    Severity::Error,
                    "vaultConfig.address",
                    format!(
                        "clusters {first} and {} share one Vault, but name different vaultConfig.address (`{first_address}`, `{a}`)",
                        m.spec.cluster
                    ),
                    "write the shared Vault's address once, under defaults.vaultConfig.address".into(),
                )),
                Some(_) => {}
                None => shared_address = Some((a, &m.spec.cluster)),
            },
        }
    }
    if matches!(topology, Topology::Shared { .. }) {
        diagnostics.extend(one_mount_each(members));
        diagnostics.extend(one_distribution(members));
    }
    (topology, diagnostics)
}

/// One Vault is one distribution: every cluster's side is written for it (OpenBao's audit
/// devices in its configuration, the script's CLI), so the clusters must agree.
fn one_distribution(members: &[Member]) -> Vec<Diagnostic> {
    let Some(first) = members.first() else {
        return vec![];
    };
    let d = first.spec.vault.distribution();
    (members.iter())
        .find(|m| m.spec.vault.distribution() != d)
        .map(|m| {
            at(
                m,
                Severity::Error,
                "vault.distribution",
                format!(
                    "clusters {} and {} share one Vault, but name different vault.distribution (`{}`, `{}`)",
                    first.spec.cluster,
                    m.spec.cluster,
                    d.keyword(),
                    m.spec.vault.distribution().keyword()
                ),
                "write it once, under defaults.vault.distribution".into(),
            )
        })
        .into_iter()
        .collect()
}

/// One Vault: every cluster needs an auth mount of its own (it holds one API server's host
/// and CA, and its roles).
fn one_mount_each(members: &[Member]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut mounts: BTreeMap<String, &str> = BTreeMap::new();
    for m in members {
        let mount = m
            .spec
            .vault_config
            .as_ref()
            .and_then(|vc| vc.kubernetes_auth.as_ref())
            .and_then(|k| k.mount.clone())
            .unwrap_or_else(|| model::defaults::default_auth_mount(&m.spec.cluster));
        if let Some(first) = mounts.insert(mount.clone(), &m.spec.cluster) {
            let path = "vaultConfig.kubernetesAuth.mount";
            let mut d = Diagnostic::error(
                m.index.written_at(path),
                format!(
                    "clusters {first} and {} share the kubernetes auth mount `{mount}` in one Vault",
                    m.spec.cluster
                ),
            )
            .with_hint("an auth mount holds one cluster's API server and CA: leave `mount` out (each cluster gets `kubernetes-<cluster>`) or name one per cluster");
            d.location = m.index.key(path);
            out.push(d);
        }
    }
    out
}

/// Who is granted one Vault path: (cluster, `namespace/app`, the spec path of the grant).
type Holders = Vec<(String, String, String)>;

/// On one shared Vault: each Vault path granted to apps (or cert-manager's issuer) of more
/// than one cluster, as a warning at the place the last of them was written. `file_name`
/// names the models; the members passed validation.
pub(super) fn shared_grants(members: &[Member], file_name: &str) -> Vec<Diagnostic> {
    let mut by_path: BTreeMap<String, (Holders, Option<Source>)> = BTreeMap::new();
    let mut member_of: BTreeMap<String, &Member> = BTreeMap::new();
    for m in members {
        let Ok(typed) = m.spec.clone().try_map_secrets(|_, _, s| s.into_secret()) else {
            continue;
        };
        let stack = model::build(&typed, file_name);
        member_of.insert(stack.cluster.clone(), m);
        for (ai, app) in stack.apps.iter().enumerate() {
            for (si, s) in app.secrets.iter().enumerate() {
                let field = match &s.source {
                    Source::Kv { .. } => "kv",
                    Source::Database { .. } => "database",
                    Source::Dynamic { .. } => "dynamic",
                    Source::Pki { .. } => "pki",
                    Source::Cloud { engine, .. } => engine.name(),
                };
                let entry = by_path.entry(s.source.grant().path).or_default();
                if entry.0.iter().all(|(c, _, _)| *c != stack.cluster) {
                    entry.0.push((
                        stack.cluster.clone(),
                        format!("{}/{}", app.namespace, app.name),
                        format!("apps[{ai}].secrets[{si}].{field}"),
                    ));
                }
                entry.1.get_or_insert(s.source.clone());
            }
        }
        if let Some(cm) = &stack.cert_manager {
            let entry = by_path.entry(cm.sign_path()).or_default();
            if entry.0.iter().all(|(c, _, _)| *c != stack.cluster) {
                entry.0.push((
                    stack.cluster.clone(),
                    format!("cert-manager issuer {}", cm.name),
                    "certManager.issuer.pki".into(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    for (path, (holders, source)) in by_path {
        let [.., (last, _, spec_path)] = &holders[..] else {
            continue;
        };
        if holders.len() < 2 {
            continue;
        }
        let who: Vec<String> = holders
            .iter()
            .map(|(c, app, _)| format!("{c} ({app})"))
            .collect();
        let hint = match &source {
            Some(Source::Database { mount, role }) => format!(
                "give each cluster its own database role (and connection) in its overlay, e.g. `database: {mount}/{role}-{last}` in cluster {last}'s apps and `{role}-{last}` under its vaultConfig.databases.{mount}.roles"
            ),
            Some(Source::Kv { mount, path, .. }) => format!(
                "give each cluster its own path in its overlay, e.g. `kv: {mount}/{last}/{path}`"
            ),
            Some(Source::Pki { mount, role }) => format!(
                "give each cluster its own PKI role in its overlay, e.g. `pki: {mount}/{role}-{last}` (declared under vaultConfig.pki.{mount}.roles)"
            ),
            _ => "give each cluster its own path or role in its overlay".into(),
        };
        let m = member_of[last.as_str()];
        out.push(at(
            m,
            Severity::Warning,
            spec_path,
            format!(
                "`{path}` is granted to apps of clusters {} in the one Vault they share: each cluster's apps can read what the other's read",
                who.join(" and ")
            ),
            hint,
        ));
    }
    out
}
