//! Flux kinds (kustomize-controller, source-controller, helm-controller).

use super::*;

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
