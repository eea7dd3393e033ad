//! Vault Secrets Operator kinds (`secrets.hashicorp.com/v1beta1`).

use super::*;

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
    /// The Vault namespace to log in to (`vaultNamespace`); the secrets of this VaultAuth
    /// are read there too (VSO infers their namespace from it).
    pub namespace: Option<String>,
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
