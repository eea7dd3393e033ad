//! cert-manager kinds (`cert-manager.io/v1`): Certificate, Issuer, ClusterIssuer.

use super::*;

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
    /// The Vault namespace (`vaultNamespace`).
    pub namespace: Option<String>,
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
