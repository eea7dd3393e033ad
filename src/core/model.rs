//! The normalized stack: the spec with every default applied and every derived name decided.
//!
//! Everything downstream (rendering, the Vault side, verify, configure) reads this model, so
//! the names that must agree across a dozen objects (roles, policies, service accounts,
//! VaultAuth refs, audiences) are decided exactly once, here.

use crate::core::duration::{Duration, Grammar};
use crate::core::spec::types::{self as spec, SecretSource, TlsSpec, ValidSpec};
use crate::core::versions::VsoLine;
use std::collections::BTreeMap;

pub const DEFAULT_SOURCE_REF: &str = "flux-system";
pub const DEFAULT_INTERVAL: &str = "10m";
pub const DEFAULT_VAULT_NAMESPACE: &str = "vault";
pub const DEFAULT_OPERATOR_NAMESPACE: &str = "vault-secrets-operator";
pub const HASHICORP_HELM_REPOSITORY: &str = "https://helm.releases.hashicorp.com";
pub const DEFAULT_AUDIENCE: &str = "vault";
/// The kubernetes auth mount is the cluster's own unless the spec names one: a mount holds one
/// API server's host and CA, so clusters sharing a Vault need one each.
pub fn default_auth_mount(cluster: &str) -> String {
    format!("kubernetes-{cluster}")
}
/// Flux objects (Kustomizations, HelmRepository, HelmReleases) live where Flux itself lives.
pub const FLUX_NAMESPACE: &str = "flux-system";
/// Helm release names; the charts derive service and service-account names from them.
pub const VAULT_RELEASE: &str = "vault";
pub const OPERATOR_RELEASE: &str = "vault-secrets-operator";
/// The chart names the service account `<release>-controller-manager`.
pub const OPERATOR_SERVICE_ACCOUNT: &str = "vault-secrets-operator-controller-manager";
/// The VaultConnection every generated VaultAuth names explicitly.
pub const VAULT_CONNECTION: &str = "vault";
/// With `vault.tlsIssuer`: the Secret (in the operator namespace) whose `ca.crt` is Vault's CA.
pub const CA_CARRIER_SECRET: &str = "vault-ca";
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "kubectl-vault";

#[derive(Debug, Clone)]
pub struct Stack {
    pub cluster: String,
    /// The spec's file name, as written in every generated header.
    pub spec_file: String,
    pub flux: Flux,
    pub vault: VaultServer,
    pub operator: Operator,
    pub auth_mount: String,
    pub apps: Vec<App>,
    /// The Vault-side settings that cannot be derived, as written.
    pub vault_config: spec::VaultConfigSpec,
}

#[derive(Debug, Clone)]
pub struct Flux {
    pub source_ref: String,
    pub interval: String,
    pub paths: Paths,
    /// Flux Kustomization names, in dependency order.
    pub vault_kustomization: String,
    pub operator_kustomization: String,
    pub apps_kustomization: String,
}

/// Folders of the generated tree, relative to the repository root.
#[derive(Debug, Clone)]
pub struct Paths {
    /// `clusters/<cluster>`: Flux Kustomization objects only.
    pub cluster: String,
    /// `infrastructure/<cluster>/vault`
    pub vault: String,
    /// `infrastructure/<cluster>/vault-secrets-operator`
    pub operator: String,
    /// `apps/<cluster>`: the VaultConnection and one folder per namespace, one per app.
    pub apps: String,
    /// `vault-config/<cluster>`: policies and the configure script, never applied by Flux.
    pub vault_config: String,
}

impl Paths {
    /// The folders the tool owns: `commit` prunes stale generated files only inside these.
    pub fn roots(&self) -> Vec<String> {
        vec![
            self.cluster.clone(),
            self.vault.clone(),
            self.operator.clone(),
            self.apps.clone(),
            self.vault_config.clone(),
        ]
    }
}

#[derive(Debug, Clone)]
pub struct VaultServer {
    pub namespace: String,
    pub chart_repository: String,
    pub chart_version: String,
    pub replicas: u32,
    /// Name of the kubernetes.io/tls Secret; `None` = plain HTTP.
    pub tls_secret: Option<String>,
    /// cert-manager ClusterIssuer that issues `tls_secret` (the tree then holds the Certificate).
    pub tls_issuer: Option<String>,
    pub ui: bool,
    pub injector: bool,
    pub seal: Option<Seal>,
    /// The chart's required pod anti-affinity (one replica per node); off for small clusters.
    pub anti_affinity: bool,
    /// An audit device writes to `/vault/audit`: the chart must give it a volume.
    pub audit_storage: bool,
    /// User chart values, merged last.
    pub values: Option<serde_json::Value>,
}

impl VaultServer {
    pub fn ha(&self) -> bool {
        self.replicas > 1
    }
    pub fn scheme(&self) -> &'static str {
        if self.tls_secret.is_some() {
            "https"
        } else {
            "http"
        }
    }
    /// The in-cluster address of the Vault service the chart creates.
    pub fn service_address(&self) -> String {
        format!(
            "{}://{VAULT_RELEASE}.{}.svc.cluster.local:8200",
            self.scheme(),
            self.namespace
        )
    }
    /// The service that selects only the active (unsealed leader) node. The chart creates it
    /// in its HA mode, which the tree always uses (raft, also for one replica).
    pub fn active_address(&self) -> String {
        format!(
            "{}://{VAULT_RELEASE}-active.{}.svc.cluster.local:8200",
            self.scheme(),
            self.namespace
        )
    }
    /// The DNS names Vault's certificate must carry for the generated addresses to verify.
    pub fn certificate_names(&self) -> Vec<String> {
        let ns = &self.namespace;
        let mut names = vec![];
        for service in [VAULT_RELEASE.to_string(), format!("{VAULT_RELEASE}-active")] {
            names.push(format!("{service}.{ns}.svc"));
            names.push(format!("{service}.{ns}.svc.cluster.local"));
        }
        names.push(format!("*.{VAULT_RELEASE}-internal"));
        names.push(format!("*.{VAULT_RELEASE}-internal.{ns}.svc.cluster.local"));
        names
    }
}

/// An auto-unseal `seal` stanza: type and its HCL attributes, in order.
#[derive(Debug, Clone)]
pub struct Seal {
    pub kind: String,
    pub attributes: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Operator {
    pub namespace: String,
    pub chart_repository: String,
    pub chart_version: String,
    /// The release line of the chart version: decides what status the health checks read.
    pub vso: VsoLine,
    pub address: String,
    pub skip_tls_verify: bool,
    /// Secret (in the operator namespace, key `ca.crt`) with the CA that signed Vault's
    /// certificate: `operator.caCertSecret`, else the in-cluster Vault's TLS secret name, when
    /// TLS is on and verified. VSO reads it from the operator namespace only.
    pub ca_cert_secret: Option<String>,
    pub service_account: String,
    pub client_cache: Option<ClientCache>,
}

#[derive(Debug, Clone)]
pub struct ClientCache {
    pub transit_mount: String,
    pub key_name: String,
    pub role: String,
    pub policy: String,
    pub audiences: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct App {
    pub name: String,
    pub namespace: String,
    pub service_account: String,
    pub create_service_account: bool,
    /// Vault kubernetes-auth role.
    pub role: String,
    /// Vault policy granting exactly this app's paths.
    pub policy: String,
    pub audiences: Vec<String>,
    /// The app's VaultAuth (in its namespace).
    pub vault_auth: String,
    pub secrets: Vec<DeclaredSecret>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SecretKind {
    Static,
    Dynamic,
    Pki,
}

impl SecretKind {
    pub fn kind(&self) -> &'static str {
        match self {
            SecretKind::Static => "VaultStaticSecret",
            SecretKind::Dynamic => "VaultDynamicSecret",
            SecretKind::Pki => "VaultPKISecret",
        }
    }
    pub fn plural(&self) -> &'static str {
        match self {
            SecretKind::Static => "vaultstaticsecrets",
            SecretKind::Dynamic => "vaultdynamicsecrets",
            SecretKind::Pki => "vaultpkisecrets",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Kv {
        mount: String,
        path: String,
        version: u8,
    },
    Database {
        mount: String,
        role: String,
    },
    Dynamic {
        mount: String,
        path: String,
        params: BTreeMap<String, String>,
    },
    Pki {
        mount: String,
        role: String,
    },
}

/// One Vault path an app reads, with the capabilities that takes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    pub path: String,
    pub capabilities: Vec<&'static str>,
}

impl Source {
    pub fn kind(&self) -> SecretKind {
        match self {
            Source::Kv { .. } => SecretKind::Static,
            Source::Database { .. } | Source::Dynamic { .. } => SecretKind::Dynamic,
            Source::Pki { .. } => SecretKind::Pki,
        }
    }

    pub fn mount(&self) -> &str {
        match self {
            Source::Kv { mount, .. }
            | Source::Database { mount, .. }
            | Source::Dynamic { mount, .. }
            | Source::Pki { mount, .. } => mount,
        }
    }

    /// The `path` (or `role`) field of the secret CR, relative to the mount.
    pub fn cr_path(&self) -> String {
        match self {
            Source::Kv { path, .. } | Source::Dynamic { path, .. } => path.clone(),
            Source::Database { role, .. } => format!("creds/{role}"),
            Source::Pki { role, .. } => role.clone(),
        }
    }

    /// What the app's policy must grant for this source, and nothing more.
    pub fn grant(&self) -> Grant {
        match self {
            Source::Kv {
                mount,
                path,
                version: 2,
            } => Grant {
                path: format!("{mount}/data/{path}"),
                capabilities: vec!["read"],
            },
            Source::Kv { mount, path, .. } => Grant {
                path: format!("{mount}/{path}"),
                capabilities: vec!["read"],
            },
            Source::Database { mount, role } => Grant {
                path: format!("{mount}/creds/{role}"),
                capabilities: vec!["read"],
            },
            // A generic dynamic path may be read (GET) or written (POST with params).
            Source::Dynamic {
                mount,
                path,
                params,
            } => Grant {
                path: format!("{mount}/{path}"),
                capabilities: if params.is_empty() {
                    vec!["read"]
                } else {
                    vec!["create", "update"]
                },
            },
            Source::Pki { mount, role } => Grant {
                path: format!("{mount}/issue/{role}"),
                capabilities: vec!["create", "update"],
            },
        }
    }

    /// Short human form, e.g. `kv-v2 kvv2/webapp/config`.
    pub fn describe(&self) -> String {
        match self {
            Source::Kv {
                mount,
                path,
                version,
            } => format!("kv-v{version} {mount}/{path}"),
            Source::Database { mount, role } => format!("database {mount}/{role}"),
            Source::Dynamic { mount, path, .. } => format!("dynamic {mount}/{path}"),
            Source::Pki { mount, role } => format!("pki {mount}/{role}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct DeclaredSecret {
    /// The destination Kubernetes Secret, and the name of the CR that writes it.
    pub name: String,
    pub namespace: String,
    pub source: Source,
    pub refresh_after: Option<String>,
    pub rollout: Vec<RolloutTarget>,
    pub secret_type: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub pki: Option<PkiOptions>,
    /// VSO may take over an existing Secret (`destination.overwrite: true`).
    pub adopt: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutTarget {
    pub kind: String,
    pub name: String,
}

#[derive(Debug, Clone, Default)]
pub struct PkiOptions {
    pub common_name: String,
    pub alt_names: Vec<String>,
    pub ttl: Option<String>,
    pub expiry_offset: Option<String>,
}

/// Builds the model. The spec must have passed [`crate::core::spec::validate::check`].
pub fn build(spec: &ValidSpec, spec_file: &str) -> Stack {
    let g = &spec.gitops;
    let join = |root: &Option<String>, default: &str, leaf: &str| {
        let root = root.as_deref().unwrap_or(default);
        format!("{root}/{leaf}")
    };
    // Every folder is the cluster's own: another cluster's run in the same repository never
    // writes (or prunes) a path of this one.
    let c = &spec.cluster;
    let paths = Paths {
        cluster: join(&g.paths.clusters, "clusters", c),
        vault: join(
            &g.paths.infrastructure,
            "infrastructure",
            &format!("{c}/vault"),
        ),
        operator: join(
            &g.paths.infrastructure,
            "infrastructure",
            &format!("{c}/{OPERATOR_RELEASE}"),
        ),
        apps: join(&g.paths.apps, "apps", c),
        vault_config: join(&g.paths.vault_config, "vault-config", c),
    };
    let vault = VaultServer {
        namespace: spec
            .vault
            .namespace
            .clone()
            .unwrap_or_else(|| DEFAULT_VAULT_NAMESPACE.into()),
        chart_repository: spec
            .vault
            .chart
            .repository
            .clone()
            .unwrap_or_else(|| HASHICORP_HELM_REPOSITORY.into()),
        chart_version: spec.vault.chart.version.clone(),
        replicas: spec.vault.replicas.unwrap_or(1),
        tls_secret: match &spec.vault.tls {
            TlsSpec::Disabled => None,
            TlsSpec::Secret(s) => Some(s.clone()),
        },
        tls_issuer: spec.vault.tls_issuer.clone(),
        ui: spec.vault.ui.unwrap_or(false),
        injector: spec.vault.injector.unwrap_or(false),
        seal: spec.vault.auto_unseal.as_ref().and_then(seal),
        anti_affinity: spec.vault.anti_affinity.unwrap_or(true),
        audit_storage: spec
            .vault_config
            .as_ref()
            .and_then(|vc| vc.audit.as_ref())
            .is_some_and(|a| a.device_type.as_deref().unwrap_or("file") == "file"),
        values: spec
            .vault
            .values
            .as_ref()
            .and_then(|v| serde_json::to_value(v).ok()),
    };
    let auth_mount = spec
        .vault_config
        .as_ref()
        .and_then(|vc| vc.kubernetes_auth.as_ref())
        .and_then(|k| k.mount.clone())
        .unwrap_or_else(|| default_auth_mount(&spec.cluster));
    let operator_namespace = spec
        .operator
        .namespace
        .clone()
        .unwrap_or_else(|| DEFAULT_OPERATOR_NAMESPACE.into());
    let operator = Operator {
        namespace: operator_namespace.clone(),
        chart_repository: spec
            .operator
            .chart
            .repository
            .clone()
            .unwrap_or_else(|| HASHICORP_HELM_REPOSITORY.into()),
        chart_version: spec.operator.chart.version.clone(),
        vso: VsoLine::of(&spec.operator.chart.version)
            .expect("validated: a supported operator chart version"),
        address: spec
            .operator
            .address
            .clone()
            .unwrap_or_else(|| vault.active_address()),
        skip_tls_verify: spec.operator.skip_tls_verify,
        ca_cert_secret: match (&vault.tls_secret, &spec.operator.address) {
            _ if spec.operator.skip_tls_verify => None,
            _ if spec.operator.ca_cert_secret.is_some() => spec.operator.ca_cert_secret.clone(),
            // VSO reads the CA from its own namespace: with an issuer, the tree carries the CA
            // there through a Certificate of the same issuer (its Secret's ca.crt).
            (Some(_), None)
                if vault.tls_issuer.is_some() && operator_namespace != vault.namespace =>
            {
                Some(CA_CARRIER_SECRET.into())
            }
            (Some(tls), None) => Some(tls.clone()),
            _ => None,
        },
        service_account: OPERATOR_SERVICE_ACCOUNT.into(),
        client_cache: spec.operator.client_cache.as_ref().map(|c| ClientCache {
            transit_mount: c.transit_mount.clone(),
            key_name: c.key_name.clone(),
            role: c.role.clone(),
            policy: format!("{}-{OPERATOR_RELEASE}-client-cache", spec.cluster),
            audiences: vec![DEFAULT_AUDIENCE.into()],
        }),
    };
    let vc = spec.vault_config.as_ref();
    let apps = spec
        .apps
        .iter()
        .map(|a| app(a, &spec.cluster, vc))
        .collect();
    let mut stack = Stack {
        cluster: spec.cluster.clone(),
        spec_file: spec_file.to_string(),
        flux: Flux {
            source_ref: g
                .source_ref
                .clone()
                .unwrap_or_else(|| DEFAULT_SOURCE_REF.into()),
            interval: g
                .interval
                .clone()
                .unwrap_or_else(|| DEFAULT_INTERVAL.into()),
            paths,
            vault_kustomization: "vault".into(),
            operator_kustomization: OPERATOR_RELEASE.into(),
            apps_kustomization: "vault-apps".into(),
        },
        vault,
        operator,
        auth_mount,
        apps,
        vault_config: spec.vault_config.clone().unwrap_or_default(),
    };
    add_client_token_review_audience(&mut stack);
    stack
}

/// With a client-JWT token reviewer, Vault presents each client's own token to the API
/// server's TokenReview endpoint: the token must then also carry the API server's audience.
/// The Vault role stays bound to the first audience.
fn add_client_token_review_audience(stack: &mut Stack) {
    let Some(api_audience) = stack
        .vault_config
        .kubernetes_auth
        .as_ref()
        .and_then(|k| k.token_reviewer.as_ref())
        .filter(|r| r.mode == spec::TokenReviewerMode::Client)
        .map(|r| {
            r.api_audience
                .clone()
                .unwrap_or_else(|| crate::core::spec::validate::DEFAULT_API_AUDIENCE.into())
        })
    else {
        return;
    };
    let audiences = stack.apps.iter_mut().map(|a| &mut a.audiences).chain(
        stack
            .operator
            .client_cache
            .iter_mut()
            .map(|c| &mut c.audiences),
    );
    for list in audiences {
        if !list.contains(&api_audience) {
            list.push(api_audience.clone());
        }
    }
}

fn seal(au: &spec::AutoUnsealSpec) -> Option<Seal> {
    let attrs = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    if let Some(a) = &au.awskms {
        return Some(Seal {
            kind: "awskms".into(),
            attributes: attrs(&[("region", &a.region), ("kms_key_id", &a.kms_key_id)]),
        });
    }
    if let Some(g) = &au.gcpckms {
        return Some(Seal {
            kind: "gcpckms".into(),
            attributes: attrs(&[
                ("project", &g.project),
                ("region", &g.region),
                ("key_ring", &g.key_ring),
                ("crypto_key", &g.crypto_key),
            ]),
        });
    }
    if let Some(a) = &au.azurekeyvault {
        return Some(Seal {
            kind: "azurekeyvault".into(),
            attributes: attrs(&[
                ("tenant_id", &a.tenant_id),
                ("vault_name", &a.vault_name),
                ("key_name", &a.key_name),
            ]),
        });
    }
    au.transit.as_ref().map(|t| Seal {
        kind: "transit".into(),
        attributes: attrs(&[
            ("address", &t.address),
            ("mount_path", &t.mount_path),
            ("key_name", &t.key_name),
        ]),
    })
}

fn app(a: &spec::AppSpec<spec::Secret>, cluster: &str, vc: Option<&spec::VaultConfigSpec>) -> App {
    let role = a
        .role
        .clone()
        .unwrap_or_else(|| format!("{}-{}", a.namespace, a.name));
    App {
        name: a.name.clone(),
        namespace: a.namespace.clone(),
        service_account: a.service_account.clone().unwrap_or_else(|| a.name.clone()),
        create_service_account: a.create_service_account.unwrap_or(true),
        // Policies are global in a Vault: the cluster's name keeps two clusters' apart.
        policy: format!("{cluster}-{}-{}", a.namespace, a.name),
        role,
        audiences: a
            .audiences
            .clone()
            .unwrap_or_else(|| vec![DEFAULT_AUDIENCE.into()]),
        vault_auth: a.name.clone(),
        secrets: a
            .secrets
            .iter()
            .map(|s| secret(s, &a.namespace, vc))
            .collect(),
    }
}

fn secret(s: &spec::Secret, namespace: &str, vc: Option<&spec::VaultConfigSpec>) -> DeclaredSecret {
    let source = match &s.source {
        SecretSource::Kv(kv) => Source::Kv {
            mount: kv.mount.clone(),
            path: kv.path.clone(),
            version: kv.version.unwrap_or(2),
        },
        SecretSource::Database(db) => Source::Database {
            mount: db.mount.clone(),
            role: db.role.clone(),
        },
        SecretSource::Dynamic(d) => Source::Dynamic {
            mount: d.mount.clone(),
            path: d.path.clone(),
            params: d.params.clone(),
        },
        SecretSource::Pki(p) => Source::Pki {
            mount: p.mount.clone(),
            role: p.role.clone(),
        },
    };
    let pki = match &source {
        Source::Pki { mount, role } => Some(PkiOptions {
            common_name: s.common_name.clone().unwrap_or_default(),
            alt_names: s.alt_names.clone().unwrap_or_default(),
            ttl: s.ttl.clone(),
            expiry_offset: s.expiry_offset.clone().or_else(|| {
                // The certificate's lifetime: its own ttl, else what its role caps it at.
                let role_max = vc
                    .and_then(|vc| vc.pki.get(mount))
                    .and_then(|m| m.roles.get(role))
                    .and_then(|r| r.max_ttl.as_deref());
                s.ttl
                    .as_deref()
                    .or(role_max)
                    .and_then(default_expiry_offset)
            }),
        }),
        _ => None,
    };
    DeclaredSecret {
        name: s.name.clone(),
        namespace: namespace.to_string(),
        source,
        refresh_after: s.refresh_after.clone(),
        rollout: s
            .rollout
            .iter()
            .filter_map(|r| r.split_once('/'))
            .map(|(k, n)| RolloutTarget {
                kind: k.into(),
                name: n.into(),
            })
            .collect(),
        secret_type: s.secret_type.clone(),
        labels: s.labels.clone(),
        annotations: s.annotations.clone(),
        pki,
        adopt: s.adopt,
    }
}

/// VSO renews a certificate only `expiryOffset` before it expires (none: at expiry, when
/// clients already reject it). Default: a third of its lifetime, as cert-manager renews.
pub fn default_expiry_offset(ttl: &str) -> Option<String> {
    let total = Duration::parse(ttl, Grammar::Vault)?.as_secs_f64();
    let secs = (total / 3.0).floor() as u64;
    if secs == 0 {
        return None;
    }
    // VSO's pattern: a number and one of s, m, h.
    Some(if secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    })
}
