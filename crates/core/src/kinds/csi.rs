//! Secrets Store CSI driver kinds (`secrets-store.csi.x-k8s.io/v1`).

use super::*;

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
