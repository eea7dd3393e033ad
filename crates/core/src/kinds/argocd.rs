//! Argo CD kinds (`argoproj.io/v1alpha1`): the Applications the tree writes with
//! `gitops.engine: argocd`. Field names from Argo CD v3.5.1's `manifests/crds/application-crd.yaml`;
//! only what the tree writes is modelled, unknown fields denied.

use super::*;

#[derive(CustomResource, Debug, Clone, Serialize, Deserialize)]
#[kube(
    crates(kube_core = "::kube_core"),
    group = "argoproj.io",
    version = "v1alpha1",
    kind = "Application",
    namespaced,
    schema = "disabled"
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationSpec {
    pub project: String,
    pub sources: Vec<ApplicationSource>,
    pub destination: ApplicationDestination,
    pub sync_policy: Option<SyncPolicy>,
}

/// One source: a Helm chart from its repository, or a folder of the user's Git repository.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationSource {
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    pub target_revision: String,
    pub chart: Option<String>,
    pub path: Option<String>,
    pub helm: Option<ApplicationSourceHelm>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationSourceHelm {
    pub release_name: String,
    pub values_object: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationDestination {
    /// A cluster registered in Argo CD by API server URL; or else `name`, never both.
    pub server: Option<String>,
    /// A cluster registered in Argo CD by name.
    pub name: Option<String>,
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncPolicy {
    pub automated: Option<SyncPolicyAutomated>,
    pub sync_options: Option<Vec<String>>,
    pub retry: Option<RetryStrategy>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncPolicyAutomated {
    pub prune: bool,
    pub self_heal: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetryStrategy {
    pub limit: i64,
    pub backoff: Option<Backoff>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Backoff {
    pub duration: String,
    pub factor: i64,
    pub max_duration: String,
}
