//! Typed models of every kind `generate` writes, with unknown fields denied.
//!
//! Field names are taken from the upstream CRDs (VSO 0.10.x and 1.x `secrets.hashicorp.com/v1beta1`:
//! the spec fields the tool writes are the same in both; their status differs, see
//! [`crate::versions`]),
//! Flux 2.x helm-controller v2, kustomize-controller v1, source-controller v1). Only the fields
//! the tool may write are modelled: a field that is not here is, by construction, a template bug
//! (e.g. `tlsSecretRef` or `rollout: pods`, which guides print but no CRD has).

use k8s_openapi::api::core::v1::{Event, Namespace, Pod, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::NamespaceResourceScope;
use kube_core::ApiResource;
use kube_core::Resource;
use kube_derive::CustomResource;
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
    /// cert-manager's Vault issuer (`certManager`), and what lets cert-manager request its
    /// ServiceAccount's tokens.
    Issuer,
    ClusterIssuer,
    Role,
    RoleBinding,
    ExternalSecret,
    SecretStore,
    ClusterSecretStore,
    SecretProviderClass,
    /// Read by `verify` (the CSI driver writes one per pod and volume), never written.
    SecretProviderClassPodStatus,
    /// Read, never written: by `verify` (the Vault pods' seal labels; injector apps: the agent
    /// in the pods) and by `operator` (the Vault pods).
    Pod,
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
            Kind::ExternalSecret => $f::<ExternalSecret>($($arg),*),
            Kind::SecretStore => $f::<SecretStore>($($arg),*),
            Kind::ClusterSecretStore => $f::<ClusterSecretStore>($($arg),*),
            Kind::SecretProviderClass => $f::<SecretProviderClass>($($arg),*),
            Kind::SecretProviderClassPodStatus => $f::<SecretProviderClassPodStatus>($($arg),*),
            Kind::Pod => $f::<Pod>($($arg),*),
            Kind::Issuer => $f::<Issuer>($($arg),*),
            Kind::ClusterIssuer => $f::<ClusterIssuer>($($arg),*),
            Kind::Role => $f::<Role>($($arg),*),
            Kind::RoleBinding => $f::<RoleBinding>($($arg),*),
        }
    };
}

impl Kind {
    pub const ALL: [Kind; 24] = [
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
        Kind::Issuer,
        Kind::ClusterIssuer,
        Kind::Role,
        Kind::RoleBinding,
        Kind::ExternalSecret,
        Kind::SecretStore,
        Kind::ClusterSecretStore,
        Kind::SecretProviderClass,
        Kind::SecretProviderClassPodStatus,
        Kind::Pod,
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

/// A Kustomization's `dependsOn` entry: the namespace defaults to the Kustomization's own.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DependencyRef {
    pub name: String,
    pub namespace: Option<String>,
}

// ---------- secrets.hashicorp.com/v1beta1 ----------

#[derive(CustomResource, Debug, Clone, Serialize, Deserialize)]
#[kube(
    crates(kube_core = "::kube_core"),
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
    crates(kube_core = "::kube_core"),
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
    crates(kube_core = "::kube_core"),
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
    crates(kube_core = "::kube_core"),
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
    crates(kube_core = "::kube_core"),
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
    crates(kube_core = "::kube_core"),
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
    pub depends_on: Option<Vec<DependencyRef>>,
    pub health_check_exprs: Option<Vec<HealthCheckExpr>>,
}

#[derive(CustomResource, Debug, Clone, Serialize, Deserialize)]
#[kube(
    crates(kube_core = "::kube_core"),
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
    crates(kube_core = "::kube_core"),
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
    crates(kube_core = "::kube_core"),
    group = "cert-manager.io",
    version = "v1",
    kind = "Certificate",
    namespaced,
    schema = "disabled"
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CertificateSpec {
    pub secret_name: String,
    pub duration: Option<String>,
    pub renew_before: Option<String>,
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

// ---------- external-secrets.io/v1 (ESO, the reference CRDs of v2.9.0) ----------

#[derive(CustomResource, Debug, Clone, Serialize, Deserialize)]
#[kube(
    crates(kube_core = "::kube_core"),
    group = "external-secrets.io",
    version = "v1",
    kind = "SecretStore",
    namespaced,
    schema = "disabled"
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretStoreSpec {
    pub provider: StoreProvider,
    pub conditions: Option<Vec<StoreCondition>>,
}

/// A ClusterSecretStore has the spec of a SecretStore; `conditions` limit its namespaces.
#[derive(CustomResource, Debug, Clone, Serialize, Deserialize)]
#[kube(
    crates(kube_core = "::kube_core"),
    group = "external-secrets.io",
    version = "v1",
    kind = "ClusterSecretStore",
    schema = "disabled"
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterSecretStoreSpec {
    pub provider: StoreProvider,
    pub conditions: Option<Vec<StoreCondition>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreCondition {
    pub namespaces: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreProvider {
    pub vault: VaultProvider,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultProvider {
    pub server: String,
    pub path: String,
    pub version: VaultKvVersion,
    pub auth: VaultProviderAuth,
    pub ca_provider: Option<CaProvider>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum VaultKvVersion {
    #[serde(rename = "v1")]
    V1,
    #[serde(rename = "v2")]
    V2,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultProviderAuth {
    pub kubernetes: VaultProviderKubernetes,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultProviderKubernetes {
    pub mount_path: String,
    pub role: String,
    pub service_account_ref: ServiceAccountSelector,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccountSelector {
    pub name: String,
    pub namespace: Option<String>,
    pub audiences: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaProvider {
    #[serde(rename = "type")]
    pub provider_type: CaProviderType,
    pub name: String,
    pub key: String,
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum CaProviderType {
    Secret,
    ConfigMap,
}

#[derive(CustomResource, Debug, Clone, Serialize, Deserialize)]
#[kube(
    crates(kube_core = "::kube_core"),
    group = "external-secrets.io",
    version = "v1",
    kind = "ExternalSecret",
    namespaced,
    schema = "disabled"
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalSecretSpec {
    pub refresh_interval: Option<String>,
    pub secret_store_ref: SecretStoreRef,
    pub target: ExternalSecretTarget,
    pub data: Option<Vec<ExternalSecretData>>,
    pub data_from: Option<Vec<ExternalSecretDataFrom>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretStoreRef {
    pub kind: StoreKind,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StoreKind {
    SecretStore,
    ClusterSecretStore,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalSecretTarget {
    pub name: String,
    pub creation_policy: CreationPolicy,
    pub template: Option<ExternalSecretTemplate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CreationPolicy {
    Owner,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalSecretTemplate {
    #[serde(rename = "type")]
    pub secret_type: Option<String>,
    pub engine_version: Option<String>,
    pub merge_policy: Option<String>,
    pub metadata: Option<TemplateMetadata>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateMetadata {
    pub labels: Option<BTreeMap<String, String>>,
    pub annotations: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalSecretData {
    pub secret_key: String,
    pub remote_ref: RemoteRef,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteRef {
    pub key: String,
    pub property: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalSecretDataFrom {
    pub extract: RemoteRef,
}

// ---------- secrets-store.csi.x-k8s.io/v1 (the reference CRDs of v1.6.0) ----------

#[derive(CustomResource, Debug, Clone, Serialize, Deserialize)]
#[kube(
    crates(kube_core = "::kube_core"),
    group = "secrets-store.csi.x-k8s.io",
    version = "v1",
    kind = "SecretProviderClass",
    namespaced,
    schema = "disabled"
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretProviderClassSpec {
    pub provider: String,
    pub parameters: BTreeMap<String, String>,
    pub secret_objects: Option<Vec<SecretObject>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretObject {
    pub secret_name: String,
    #[serde(rename = "type")]
    pub secret_type: String,
    pub labels: Option<BTreeMap<String, String>>,
    pub annotations: Option<BTreeMap<String, String>>,
    pub data: Vec<SecretObjectData>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretObjectData {
    pub object_name: String,
    pub key: String,
}

/// One object of a SecretProviderClass's `objects` parameter (a YAML string the Vault CSI
/// provider parses).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CsiVaultObject {
    pub object_name: String,
    pub secret_path: String,
    pub secret_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_args: Option<BTreeMap<String, serde_json::Value>>,
}

/// The status the driver writes for each pod volume; no spec.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct SecretProviderClassPodStatus {
    pub metadata: kube_core::ObjectMeta,
    pub status: Option<SecretProviderClassPodStatusStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SecretProviderClassPodStatusStatus {
    pub mounted: Option<bool>,
    pub pod_name: Option<String>,
    pub secret_provider_class_name: Option<String>,
}

impl Resource for SecretProviderClassPodStatus {
    type DynamicType = ();
    type Scope = NamespaceResourceScope;
    fn kind(_: &()) -> std::borrow::Cow<'_, str> {
        "SecretProviderClassPodStatus".into()
    }
    fn group(_: &()) -> std::borrow::Cow<'_, str> {
        "secrets-store.csi.x-k8s.io".into()
    }
    fn version(_: &()) -> std::borrow::Cow<'_, str> {
        "v1".into()
    }
    fn plural(_: &()) -> std::borrow::Cow<'_, str> {
        "secretproviderclasspodstatuses".into()
    }
    fn meta(&self) -> &kube_core::ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut kube_core::ObjectMeta {
        &mut self.metadata
    }
}

// ---------- the injector's kustomize Component ----------

/// `kustomization.yaml` of a kustomize Component (kustomize.config.k8s.io/v1alpha1).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KustomizeComponent {
    pub api_version: String,
    pub kind: String,
    pub patches: Vec<KustomizePatch>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KustomizePatch {
    pub path: String,
    pub target: PatchTarget,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchTarget {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub name: String,
}

/// The strategic-merge patch the Component applies to the user's workload: the agent's
/// annotations, the app's service account and the projected token the agent logs in with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkloadPatch {
    pub api_version: String,
    pub kind: String,
    pub metadata: PatchMetadata,
    pub spec: WorkloadPatchSpec,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchMetadata {
    pub name: String,
}

/// `spec` of the patch: the pod template, or a CronJob's `jobTemplate` around it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkloadPatchSpec {
    pub template: Option<PodTemplatePatch>,
    pub job_template: Option<JobTemplatePatch>,
}

/// A CronJob's `spec.jobTemplate`: its `spec.template` is the pod template.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobTemplatePatch {
    pub spec: JobSpecPatch,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpecPatch {
    pub template: PodTemplatePatch,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodTemplatePatch {
    pub metadata: PodTemplateMetadata,
    pub spec: PodSpecPatch,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodTemplateMetadata {
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodSpecPatch {
    pub service_account_name: String,
    pub volumes: Vec<k8s_openapi::api::core::v1::Volume>,
}

/// `spec` of an Issuer and a ClusterIssuer: the tool writes only the `vault` type.
#[derive(CustomResource, Debug, Clone, Serialize, Deserialize)]
#[kube(
    crates(kube_core = "::kube_core"),
    group = "cert-manager.io",
    version = "v1",
    kind = "Issuer",
    namespaced,
    schema = "disabled"
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IssuerSpec {
    pub vault: VaultIssuer,
}

/// The same spec as a cluster-scoped kind (one Rust type per kind, as the derive wants).
#[derive(CustomResource, Debug, Clone, Serialize, Deserialize)]
#[kube(
    crates(kube_core = "::kube_core"),
    group = "cert-manager.io",
    version = "v1",
    kind = "ClusterIssuer",
    schema = "disabled"
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterIssuerSpec {
    pub vault: VaultIssuer,
}

/// `spec.vault` (cert-manager v1.21 CRD): the fields the tool writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultIssuer {
    pub server: String,
    /// `MOUNT/sign/ROLE`.
    pub path: String,
    pub ca_bundle_secret_ref: Option<SecretKeyRef>,
    pub auth: VaultIssuerAuth,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretKeyRef {
    pub name: String,
    pub key: Option<String>,
}

/// Only kubernetes auth with a bound token (`serviceAccountRef`): no static token Secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultIssuerAuth {
    pub kubernetes: VaultIssuerKubernetesAuth,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultIssuerKubernetesAuth {
    pub role: String,
    /// `/v1/auth/<mount>`.
    pub mount_path: String,
    pub service_account_ref: ServiceAccountTokenRef,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccountTokenRef {
    pub name: String,
    pub audiences: Option<Vec<String>>,
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
                "cert-manager.io/v1 Issuer issuers true",
                "cert-manager.io/v1 ClusterIssuer clusterissuers false",
                "rbac.authorization.k8s.io/v1 Role roles true",
                "rbac.authorization.k8s.io/v1 RoleBinding rolebindings true",
                "external-secrets.io/v1 ExternalSecret externalsecrets true",
                "external-secrets.io/v1 SecretStore secretstores true",
                "external-secrets.io/v1 ClusterSecretStore clustersecretstores false",
                "secrets-store.csi.x-k8s.io/v1 SecretProviderClass secretproviderclasses true",
                "secrets-store.csi.x-k8s.io/v1 SecretProviderClassPodStatus secretproviderclasspodstatuses true",
                "v1 Pod pods true",
            ]
        );
    }

    #[test]
    fn of_finds_each_kind_and_nothing_else() {
        for k in Kind::ALL {
            let r = k.resource();
            assert_eq!(Kind::of(&r.api_version, &r.kind), Some(k));
        }
        assert_eq!(Kind::of("v1", "ConfigMap"), None);
        assert_eq!(Kind::of("secrets.hashicorp.com/v1", "VaultAuth"), None);
    }
}
