//! External Secrets Operator kinds (`external-secrets.io/v1`).

use super::*;

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
    /// The Vault namespace (`vaultNamespace`).
    pub namespace: Option<String>,
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
