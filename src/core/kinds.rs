//! Typed models of every kind `generate` writes, with unknown fields denied.
//!
//! Field names are taken from the upstream CRDs (VSO 0.10.x and 1.x `secrets.hashicorp.com/v1beta1`:
//! the spec fields the tool writes are the same in both; their status differs, see
//! [`crate::core::versions`]),
//! Flux 2.x helm-controller v2, kustomize-controller v1, source-controller v1). Only the fields
//! the tool may write are modelled: a field that is not here is, by construction, a template bug
//! (e.g. `tlsSecretRef` or `rollout: pods`, which guides print but no CRD has).

use k8s_openapi::api::core::v1::{Event, Namespace, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use k8s_openapi::NamespaceResourceScope;
use kube::core::ApiResource;
use kube::{CustomResource, Resource};
use serde::{Deserialize, Serialize};
use std::any::TypeId;
use std::collections::BTreeMap;

/// Every kind the tool writes (`generate`) or reads (`verify`), named once. Group, version,
/// kind and plural come from the types: the `#[kube(...)]` attributes below, or k8s-openapi.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Namespace,
    ServiceAccount,
    ClusterRoleBinding,
    /// Never written (secret values stay out of Git); `verify` reads the ones VSO writes.
    Secret,
    /// Read by `verify` (warnings), never written.
    Event,
    VaultConnection,
    VaultAuth,
    VaultStaticSecret,
    VaultDynamicSecret,
    VaultPKISecret,
    Certificate,
    Kustomization,
    HelmRepository,
    HelmRelease,
}

/// Calls `$f::<T>($args)` with the type `T` of a [`Kind`]: the one place that maps the two.
macro_rules! with_type {
    ($kind:expr, $f:ident ( $($arg:expr),* )) => {
        match $kind {
            Kind::Namespace => $f::<Namespace>($($arg),*),
            Kind::ServiceAccount => $f::<ServiceAccount>($($arg),*),
            Kind::ClusterRoleBinding => $f::<ClusterRoleBinding>($($arg),*),
            Kind::Secret => $f::<Secret>($($arg),*),
            Kind::Event => $f::<Event>($($arg),*),
            Kind::VaultConnection => $f::<VaultConnection>($($arg),*),
            Kind::VaultAuth => $f::<VaultAuth>($($arg),*),
            Kind::VaultStaticSecret => $f::<VaultStaticSecret>($($arg),*),
            Kind::VaultDynamicSecret => $f::<VaultDynamicSecret>($($arg),*),
            Kind::VaultPKISecret => $f::<VaultPKISecret>($($arg),*),
            Kind::Certificate => $f::<Certificate>($($arg),*),
            Kind::Kustomization => $f::<Kustomization>($($arg),*),
            Kind::HelmRepository => $f::<HelmRepository>($($arg),*),
            Kind::HelmRelease => $f::<HelmRelease>($($arg),*),
        }
    };
}

impl Kind {
    pub const ALL: [Kind; 14] = [
        Kind::Namespace,
        Kind::ServiceAccount,
        Kind::ClusterRoleBinding,
        Kind::Secret,
        Kind::Event,
        Kind::VaultConnection,
        Kind::VaultAuth,
        Kind::VaultStaticSecret,
        Kind::VaultDynamicSecret,
        Kind::VaultPKISecret,
        Kind::Certificate,
        Kind::Kustomization,
        Kind::HelmRepository,
        Kind::HelmRelease,
    ];

    /// Group, version, kind and plural, as the API server names them.
    pub fn resource(self) -> ApiResource {
        fn erase<K: Resource<DynamicType = ()>>() -> ApiResource {
            ApiResource::erase::<K>(&())
        }
        with_type!(self, erase())
    }

    /// True for a kind that lives in a namespace.
    pub fn namespaced(self) -> bool {
        fn namespaced<K: Resource<DynamicType = ()>>() -> bool
        where
            K::Scope: 'static,
        {
            TypeId::of::<K::Scope>() == TypeId::of::<NamespaceResourceScope>()
        }
        with_type!(self, namespaced())
    }

    /// The kind of a document with this `apiVersion` and `kind` (no allocation: the types'
    /// names are static).
    pub fn of(api_version: &str, kind: &str) -> Option<Kind> {
        fn is<K: Resource<DynamicType = ()>>(api_version: &str, kind: &str) -> bool {
            K::kind(&()) == kind && K::api_version(&()) == api_version
        }
        Kind::ALL
            .into_iter()
            .find(|k| with_type!(*k, is(api_version, kind)))
    }

    /// `vaultstaticsecrets.secrets.hashicorp.com`, as RBAC names it.
    pub fn qualified(self) -> String {
        let r = self.resource();
        if r.group.is_empty() {
            r.plural
        } else {
            format!("{}.{}", r.plural, r.group)
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedRef {
    pub name: String,
}

// ---------- secrets.hashicorp.com/v1beta1 ----------

#[derive(CustomResource, Debug, Clone, Serialize, Deserialize)]
#[kube(
    group = "secrets.hashicorp.com",
    version = "v1beta1",
    kind = "VaultConnection",
    namespaced,
    schema = "disabled"
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultConnectionSpec {
    pub address: String,
    #[serde(rename = "skipTLSVerify")]
    pub skip_tls_verify: bool,
    pub ca_cert_secret_ref: Option<String>,
    pub tls_server_name: Option<String>,
    pub timeout: Option<String>,
}

#[derive(CustomResource, Debug, Clone, Serialize, Deserialize)]
#[kube(
    group = "secrets.hashicorp.com",
    version = "v1beta1",
    kind = "VaultAuth",
    namespaced,
    schema = "disabled"
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultAuthSpec {
    pub vault_connection_ref: Option<String>,
    pub method: VaultAuthMethod,
    pub mount: String,
    pub kubernetes: VaultAuthKubernetes,
    pub storage_encryption: Option<StorageEncryption>,
    pub allowed_namespaces: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub enum VaultAuthMethod {
    Kubernetes,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultAuthKubernetes {
    pub role: String,
    pub service_account: String,
    pub audiences: Vec<String>,
    pub token_expiration_seconds: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StorageEncryption {
    pub mount: String,
    pub key_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Destination {
    pub name: String,
    pub create: bool,
    /// Take over an existing Secret VSO does not own yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overwrite: Option<bool>,
    #[serde(rename = "type")]
    pub secret_type: Option<String>,
    pub labels: Option<BTreeMap<String, String>>,
    pub annotations: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutRestartTarget {
    pub kind: RolloutKind,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum RolloutKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    #[serde(rename = "argo.Rollout")]
    ArgoRollout,
}

#[derive(CustomResource, Debug, Clone, Serialize, Deserialize)]
#[kube(
    group = "secrets.hashicorp.com",
    version = "v1beta1",
    kind = "VaultStaticSecret",
    namespaced,
    schema = "disabled"
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultStaticSecretSpec {
    pub vault_auth_ref: String,
    #[serde(rename = "type")]
    pub kv_type: KvType,
    pub mount: String,
    pub path: String,
    pub refresh_after: Option<String>,
    pub destination: Destination,
    pub rollout_restart_targets: Option<Vec<RolloutRestartTarget>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum KvType {
    #[serde(rename = "kv-v1")]
    V1,
    #[serde(rename = "kv-v2")]
    V2,
}

#[derive(CustomResource, Debug, Clone, Serialize, Deserialize)]
#[kube(
    group = "secrets.hashicorp.com",
    version = "v1beta1",
    kind = "VaultDynamicSecret",
    namespaced,
    schema = "disabled"
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultDynamicSecretSpec {
    pub vault_auth_ref: String,
    pub mount: String,
    pub path: String,
    #[serde(rename = "requestHTTPMethod")]
    pub request_http_method: Option<String>,
    pub params: Option<BTreeMap<String, String>>,
    pub refresh_after: Option<String>,
    pub destination: Destination,
    pub rollout_restart_targets: Option<Vec<RolloutRestartTarget>>,
}

#[derive(CustomResource, Debug, Clone, Serialize, Deserialize)]
#[kube(
    group = "secrets.hashicorp.com",
    version = "v1beta1",
    kind = "VaultPKISecret",
    namespaced,
    schema = "disabled"
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultPKISecretSpec {
    pub vault_auth_ref: String,
    pub mount: String,
    pub role: String,
    pub common_name: String,
    pub alt_names: Option<Vec<String>>,
    pub ttl: Option<String>,
    pub expiry_offset: Option<String>,
    pub destination: Destination,
    pub rollout_restart_targets: Option<Vec<RolloutRestartTarget>>,
}

// ---------- Flux ----------

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CrossNamespaceRef {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HealthCheckExpr {
    pub api_version: String,
    pub kind: String,
    pub current: String,
    pub failed: Option<String>,
    pub in_progress: Option<String>,
}

#[derive(CustomResource, Debug, Clone, Serialize, Deserialize)]
#[kube(
    group = "kustomize.toolkit.fluxcd.io",
    version = "v1",
    kind = "Kustomization",
    namespaced,
    schema = "disabled"
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KustomizationSpec {
    pub interval: String,
    pub retry_interval: Option<String>,
    pub path: String,
    pub prune: bool,
    pub wait: Option<bool>,
    pub timeout: Option<String>,
    pub source_ref: CrossNamespaceRef,
    pub depends_on: Option<Vec<NamedRef>>,
    pub health_check_exprs: Option<Vec<HealthCheckExpr>>,
}

#[derive(CustomResource, Debug, Clone, Serialize, Deserialize)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "HelmRepository",
    namespaced,
    schema = "disabled"
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HelmRepositorySpec {
    pub interval: String,
    pub url: String,
    #[serde(rename = "type")]
    pub repo_type: Option<String>,
}

#[derive(CustomResource, Debug, Clone, Serialize, Deserialize)]
#[kube(
    group = "helm.toolkit.fluxcd.io",
    version = "v2",
    kind = "HelmRelease",
    namespaced,
    schema = "disabled"
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HelmReleaseSpec {
    pub interval: String,
    pub release_name: Option<String>,
    pub chart: HelmChartTemplate,
    pub install: Option<HelmInstall>,
    pub upgrade: Option<HelmUpgrade>,
    pub values: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelmChartTemplate {
    pub spec: HelmChartTemplateSpec,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HelmChartTemplateSpec {
    pub chart: String,
    pub version: String,
    pub source_ref: CrossNamespaceRef,
    pub interval: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum CrdPolicy {
    Skip,
    Create,
    CreateReplace,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Remediation {
    pub retries: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HelmInstall {
    pub crds: Option<CrdPolicy>,
    pub disable_wait: Option<bool>,
    pub remediation: Option<Remediation>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HelmUpgrade {
    pub crds: Option<CrdPolicy>,
    pub disable_wait: Option<bool>,
    pub remediation: Option<Remediation>,
}

// ---------- cert-manager.io/v1 ----------

#[derive(CustomResource, Debug, Clone, Serialize, Deserialize)]
#[kube(
    group = "cert-manager.io",
    version = "v1",
    kind = "Certificate",
    namespaced,
    schema = "disabled"
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CertificateSpec {
    pub secret_name: String,
    pub common_name: Option<String>,
    pub dns_names: Option<Vec<String>>,
    pub ip_addresses: Option<Vec<String>>,
    pub issuer_ref: IssuerRef,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerRef {
    pub group: Option<String>,
    pub kind: Option<String>,
    pub name: String,
}

// ---------- kustomize ----------

/// `kustomization.yaml` (kustomize.config.k8s.io/v1beta1), as the tool writes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KustomizeConfig {
    pub api_version: String,
    pub kind: String,
    pub resources: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names the API servers use (the reference CRDs' `spec.names.plural`): the derive's
    /// guesses must match them.
    #[test]
    fn resources_are_the_upstream_names() {
        let got: Vec<String> = Kind::ALL
            .iter()
            .map(|k| {
                let r = k.resource();
                format!(
                    "{} {} {} {}",
                    r.api_version,
                    r.kind,
                    r.plural,
                    k.namespaced()
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                "v1 Namespace namespaces false",
                "v1 ServiceAccount serviceaccounts true",
                "rbac.authorization.k8s.io/v1 ClusterRoleBinding clusterrolebindings false",
                "v1 Secret secrets true",
                "v1 Event events true",
                "secrets.hashicorp.com/v1beta1 VaultConnection vaultconnections true",
                "secrets.hashicorp.com/v1beta1 VaultAuth vaultauths true",
                "secrets.hashicorp.com/v1beta1 VaultStaticSecret vaultstaticsecrets true",
                "secrets.hashicorp.com/v1beta1 VaultDynamicSecret vaultdynamicsecrets true",
                "secrets.hashicorp.com/v1beta1 VaultPKISecret vaultpkisecrets true",
                "cert-manager.io/v1 Certificate certificates true",
                "kustomize.toolkit.fluxcd.io/v1 Kustomization kustomizations true",
                "source.toolkit.fluxcd.io/v1 HelmRepository helmrepositories true",
                "helm.toolkit.fluxcd.io/v2 HelmRelease helmreleases true",
            ]
        );
    }

    #[test]
    fn of_finds_each_kind_and_nothing_else() {
        for k in Kind::ALL {
            let r = k.resource();
            assert_eq!(Kind::of(&r.api_version, &r.kind), Some(k));
        }
        assert_eq!(Kind::of("v1", "Pod"), None);
        assert_eq!(Kind::of("secrets.hashicorp.com/v1", "VaultAuth"), None);
    }
}
