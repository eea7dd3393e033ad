//! The normalized stack: the spec with every default applied and every derived name decided.
//!
//! Everything downstream (rendering, the Vault side, verify, configure) reads this model, so
//! the names that must agree across a dozen objects (roles, policies, service accounts,
//! VaultAuth refs, audiences) are decided exactly once, here.

use crate::duration::{Duration, Grammar};
use crate::spec::types::{self as spec, SecretSource, TlsSpec, ValidSpec};
use crate::versions::VsoLine;
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
/// The injector's kustomize Component: a folder in the app's folder, not applied by Flux.
pub const INJECTOR_COMPONENT: &str = "vault-agent";
/// The projected volume that carries the app's token (audience included) to the agent.
pub const INJECTOR_TOKEN_VOLUME: &str = "vault-token";
/// The Flux Kustomization (and folder) of the External Secrets Operator and the CSI driver.
pub const CONSUMERS_KUSTOMIZATION: &str = "vault-consumers";
/// The External Secrets Operator, pinned to the release of the reference CRDs
/// (external-secrets.io/v1).
pub const ESO_RELEASE: &str = "external-secrets";
pub const ESO_NAMESPACE: &str = "external-secrets";
pub const ESO_REPOSITORY: &str = "https://charts.external-secrets.io";
pub const ESO_CHART_VERSION: &str = "2.9.0";
/// The Secrets Store CSI driver, pinned to the release of the reference CRDs
/// (secrets-store.csi.x-k8s.io/v1); it runs in Vault's namespace beside Vault's CSI provider.
pub const CSI_RELEASE: &str = "csi-secrets-store";
pub const CSI_CHART: &str = "secrets-store-csi-driver";
pub const CSI_REPOSITORY: &str =
    "https://kubernetes-sigs.github.io/secrets-store-csi-driver/charts";
pub const CSI_CHART_VERSION: &str = "1.6.0";
/// Where the Vault chart's CSI provider mounts Vault's TLS Secret (its `ca.crt`).
pub const CSI_PROVIDER_TLS_DIR: &str = "/vault/tls";

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
    /// cert-manager's Vault issuer (`certManager`), if the spec asks for one.
    pub cert_manager: Option<CertManager>,
}

/// cert-manager's default namespace and controller ServiceAccount (the chart's names).
pub const CERT_MANAGER_NAMESPACE: &str = "cert-manager";
pub const CERT_MANAGER_SERVICE_ACCOUNT: &str = "cert-manager";

/// A cert-manager Vault issuer: a ServiceAccount cert-manager requests tokens for, the
/// kubernetes-auth role they log in with, and a policy that may only sign with one PKI role.
#[derive(Debug, Clone)]
pub struct CertManager {
    /// cert-manager's own namespace and controller ServiceAccount (the token requester).
    pub namespace: String,
    pub controller_service_account: String,
    pub kind: spec::IssuerKind,
    pub name: String,
    /// Where the issuer's ServiceAccount lives: the Issuer's namespace, or cert-manager's
    /// (its cluster resource namespace) for a ClusterIssuer.
    pub service_account_namespace: String,
    pub service_account: String,
    /// The PKI mount and role it signs with (`MOUNT/sign/ROLE`).
    pub mount: String,
    pub pki_role: String,
    /// Vault kubernetes-auth role and its policy.
    pub role: String,
    pub policy: String,
    /// The audience cert-manager requests its tokens with: `vault://<namespace>/<name>` for an
    /// Issuer, `vault://<name>` for a ClusterIssuer.
    pub audience: String,
    /// The Vault address (the operator's) and the Secret, in the ServiceAccount's namespace,
    /// whose `ca.crt` verifies it (https only).
    pub server: String,
    pub ca_bundle_secret: Option<String>,
    /// With `vault.tlsIssuer` and no `caBundleSecret`: the ClusterIssuer whose Certificate
    /// carries Vault's CA into `ca_bundle_secret` (as for the operator).
    pub ca_carrier_issuer: Option<String>,
}

impl CertManager {
    /// The one path its policy grants (`update`).
    pub fn sign_path(&self) -> String {
        format!("{}/sign/{}", self.mount, self.pki_role)
    }
    /// The Role that lets cert-manager request the ServiceAccount's tokens.
    pub fn token_role(&self) -> String {
        format!("{}-token-request", self.service_account)
    }
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
    /// `vault-consumers`: ESO and the CSI driver, when an app uses them.
    pub consumers_kustomization: String,
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
    /// `infrastructure/<cluster>/vault-consumers`: ESO and the CSI driver, when used.
    pub consumers: String,
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
            self.consumers.clone(),
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
    /// How the app's pods receive the secrets; the Vault side is the same for each.
    pub consumer: Consumer,
    /// With TLS: the Secret (key `ca.crt`) in the app's namespace that the injector's agent
    /// or ESO's store trusts Vault's certificate with.
    pub ca_secret: Option<CaSecret>,
    pub secrets: Vec<DeclaredSecret>,
}

/// A Secret with Vault's CA in an app namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaSecret {
    pub name: String,
    /// The tree holds a cert-manager Certificate of `vault.tlsIssuer` that writes it (its
    /// `ca.crt`); else the Secret is expected to exist.
    pub generated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumer {
    Operator,
    Injector(Injector),
    Csi(Csi),
    Eso(Eso),
}

impl Consumer {
    pub fn word(&self) -> &'static str {
        match self {
            Consumer::Operator => spec::Consumer::Operator.as_str(),
            Consumer::Injector(_) => spec::Consumer::Injector.as_str(),
            Consumer::Csi(_) => spec::Consumer::Csi.as_str(),
            Consumer::Eso(_) => spec::Consumer::Eso.as_str(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injector {
    /// The workload the patch applies to.
    pub workload: RolloutTarget,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Csi {
    /// Mirror each secret into a Kubernetes Secret (`secretObjects`).
    pub secret_objects: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eso {
    pub cluster_store: bool,
    /// One store per kv mount the app reads (a store's `path` is one mount).
    pub stores: Vec<EsoStore>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsoStore {
    pub name: String,
    pub mount: String,
    /// `v1` or `v2`.
    pub version: u8,
}

impl Eso {
    /// The store of a kv mount.
    pub fn store(&self, mount: &str) -> Option<&EsoStore> {
        self.stores.iter().find(|s| s.mount == mount)
    }
}

/// The store names of an ESO app: `<app>` when it reads one kv mount, else `<app>.<mount>`
/// per mount (lower-case, with `_` and `/` as `-`). App names hold no `.`, so no two apps'
/// stores meet; validation checks that one app's do not.
pub fn eso_store_names<'a>(app: &str, mounts: &[&'a str]) -> Vec<(&'a str, String)> {
    let mut distinct: Vec<&str> = vec![];
    for m in mounts {
        if !distinct.contains(m) {
            distinct.push(m);
        }
    }
    let one = distinct.len() == 1;
    distinct
        .into_iter()
        .map(|m| {
            let name = if one {
                app.to_string()
            } else {
                let slug: String = m
                    .chars()
                    .map(|c| match c {
                        '_' | '/' => '-',
                        c => c.to_ascii_lowercase(),
                    })
                    .collect();
                format!("{app}.{slug}")
            };
            (m, name)
        })
        .collect()
}

/// The cluster-wide name of an app's ClusterSecretStore: namespaces hold no `.`.
pub fn cluster_store_name(namespace: &str, store: &str) -> String {
    format!("{namespace}.{store}")
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

    /// The keys Vault's response always has (database credentials, a certificate); none for
    /// kv and generic dynamic paths, whose keys are the user's.
    pub fn known_keys(&self) -> Vec<String> {
        let keys: &[&str] = match self {
            Source::Database { .. } => &["username", "password"],
            Source::Pki { .. } => &["certificate", "private_key", "issuing_ca"],
            Source::Kv { .. } | Source::Dynamic { .. } => &[],
        };
        keys.iter().map(|k| k.to_string()).collect()
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
    /// The keys the consumer reads (csi: one file each); empty: all of them.
    pub keys: Vec<String>,
    /// injector: the user's agent template.
    pub template: Option<String>,
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

/// Builds the model. The spec must have passed [`crate::spec::validate::check`].
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
        consumers: join(
            &g.paths.infrastructure,
            "infrastructure",
            &format!("{c}/{CONSUMERS_KUSTOMIZATION}"),
        ),
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
        .map(|a| {
            let ca_secret = app_ca_secret(&a.namespace, &vault, &operator);
            app(a, &spec.cluster, vc, ca_secret)
        })
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
            consumers_kustomization: CONSUMERS_KUSTOMIZATION.into(),
        },
        vault,
        operator,
        auth_mount,
        apps,
        vault_config: spec.vault_config.clone().unwrap_or_default(),
        cert_manager: None,
    };
    stack.cert_manager = spec.cert_manager.as_ref().map(|c| cert_manager(c, &stack));
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
                .unwrap_or_else(|| crate::spec::validate::DEFAULT_API_AUDIENCE.into())
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

fn cert_manager(c: &spec::CertManagerSpec, stack: &Stack) -> CertManager {
    let cluster = &stack.cluster;
    let i = &c.issuer;
    let server = stack.operator.address.clone();
    let https = server.starts_with("https://");
    let carrier = match (&i.ca_bundle_secret, &stack.vault.tls_issuer) {
        (None, Some(issuer)) if https && spec_address_is_in_cluster(stack) => Some(issuer.clone()),
        _ => None,
    };
    let namespace = c
        .namespace
        .clone()
        .unwrap_or_else(|| CERT_MANAGER_NAMESPACE.into());
    let kind = i.kind.unwrap_or(spec::IssuerKind::Issuer);
    let (service_account_namespace, audience) = match kind {
        spec::IssuerKind::Issuer => {
            let ns = i.namespace.clone().unwrap_or_else(|| namespace.clone());
            let audience = format!("vault://{ns}/{}", i.name);
            (ns, audience)
        }
        spec::IssuerKind::ClusterIssuer => (namespace.clone(), format!("vault://{}", i.name)),
    };
    CertManager {
        controller_service_account: c
            .controller_service_account
            .clone()
            .unwrap_or_else(|| CERT_MANAGER_SERVICE_ACCOUNT.into()),
        kind,
        name: i.name.clone(),
        service_account: i.service_account.clone().unwrap_or_else(|| i.name.clone()),
        mount: i.pki.0.mount.clone(),
        pki_role: i.pki.0.role.clone(),
        role: i
            .role
            .clone()
            .unwrap_or_else(|| format!("cert-manager-{}", i.name)),
        // Policies are global in a Vault: the cluster's name keeps two clusters' apart.
        policy: format!("{cluster}-cert-manager-{}", i.name),
        audience,
        server,
        ca_bundle_secret: if https {
            i.ca_bundle_secret
                .clone()
                .or_else(|| carrier.as_ref().map(|_| CA_CARRIER_SECRET.to_string()))
        } else {
            None
        },
        ca_carrier_issuer: carrier,
        service_account_namespace,
        namespace,
    }
}

/// True when the operator reaches the in-cluster Vault (no `operator.address` of its own).
fn spec_address_is_in_cluster(stack: &Stack) -> bool {
    stack.operator.address == stack.vault.active_address()
}

/// Which Secret in `namespace` holds Vault's CA for an agent or an ESO store (TLS on and
/// verified only).
fn app_ca_secret(namespace: &str, vault: &VaultServer, operator: &Operator) -> Option<CaSecret> {
    let tls = vault.tls_secret.as_ref()?;
    if operator.skip_tls_verify {
        return None;
    }
    let existing = |name: &str| {
        Some(CaSecret {
            name: name.to_string(),
            generated: false,
        })
    };
    if namespace == vault.namespace {
        return existing(tls);
    }
    if namespace == operator.namespace {
        if let Some(ca) = &operator.ca_cert_secret {
            return existing(ca);
        }
    }
    if vault.tls_issuer.is_some() {
        return Some(CaSecret {
            name: CA_CARRIER_SECRET.into(),
            generated: true,
        });
    }
    // Vault's certificate is the user's own: a copy of its CA in the app's namespace.
    existing(operator.ca_cert_secret.as_deref().unwrap_or(tls))
}

/// What the app's consumer needs beyond the Vault side.
fn consumer(a: &spec::AppSpec<spec::Secret>) -> Consumer {
    match a.consumer {
        spec::Consumer::Operator => Consumer::Operator,
        spec::Consumer::Injector => Consumer::Injector(Injector {
            workload: a
                .injector
                .as_ref()
                .and_then(|i| i.workload.as_deref())
                .and_then(|w| w.split_once('/'))
                .map(|(k, n)| RolloutTarget {
                    kind: k.into(),
                    name: n.into(),
                })
                .unwrap_or_else(|| RolloutTarget {
                    kind: "Deployment".into(),
                    name: a.name.clone(),
                }),
        }),
        spec::Consumer::Csi => Consumer::Csi(Csi {
            secret_objects: a.csi.as_ref().is_some_and(|c| c.secret_objects),
        }),
        spec::Consumer::Eso => {
            let kv: Vec<(&str, u8)> = a
                .secrets
                .iter()
                .filter_map(|s| match &s.source {
                    SecretSource::Kv(kv) => Some((kv.mount.as_str(), kv.version.unwrap_or(2))),
                    _ => None,
                })
                .collect();
            let mounts: Vec<&str> = kv.iter().map(|(m, _)| *m).collect();
            Consumer::Eso(Eso {
                cluster_store: a
                    .eso
                    .as_ref()
                    .is_some_and(|e| e.store == spec::EsoStore::Cluster),
                stores: eso_store_names(&a.name, &mounts)
                    .into_iter()
                    .map(|(mount, name)| EsoStore {
                        name,
                        mount: mount.to_string(),
                        version: kv
                            .iter()
                            .find(|(m, _)| *m == mount)
                            .map(|(_, v)| *v)
                            .unwrap_or(2),
                    })
                    .collect(),
            })
        }
    }
}

fn app(
    a: &spec::AppSpec<spec::Secret>,
    cluster: &str,
    vc: Option<&spec::VaultConfigSpec>,
    ca_secret: Option<CaSecret>,
) -> App {
    let role = a
        .role
        .clone()
        .unwrap_or_else(|| format!("{}-{}", a.namespace, a.name));
    let consumer = consumer(a);
    let ca_secret = match consumer {
        Consumer::Injector(_) | Consumer::Eso(_) => ca_secret,
        Consumer::Operator | Consumer::Csi(_) => None,
    };
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
            .map(|s| secret(s, &a.namespace, vc, &consumer))
            .collect(),
        consumer,
        ca_secret,
    }
}

fn secret(
    s: &spec::Secret,
    namespace: &str,
    vc: Option<&spec::VaultConfigSpec>,
    consumer: &Consumer,
) -> DeclaredSecret {
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
    let keys = match (&s.keys, consumer) {
        (Some(keys), _) => keys.clone(),
        // The CSI driver mounts one file per key: the keys of what Vault returns.
        (None, Consumer::Csi(_)) => source.known_keys(),
        (None, _) => vec![],
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
        keys,
        template: s.template.clone(),
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
