//! Typed models of every kind `generate` writes, with unknown fields denied.
//!
//! Field names are taken from the upstream CRDs (VSO 0.10.x and 1.x `secrets.hashicorp.com/v1beta1`:
//! the spec fields the tool writes are the same in both; their status differs, see
//! [`crate::core::versions`]),
//! Flux 2.x helm-controller v2, kustomize-controller v1, source-controller v1). Only the fields
//! the tool may write are modelled: a field that is not here is, by construction, a template bug
//! (e.g. `tlsSecretRef` or `rollout: pods`, which guides print but no CRD has).

use kube::CustomResource;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
