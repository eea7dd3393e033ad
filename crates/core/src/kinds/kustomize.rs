//! kustomize files the tool writes: the injector Component and `kustomization.yaml`.

use super::*;

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

// ---------- kustomize ----------

/// `kustomization.yaml` (kustomize.config.k8s.io/v1beta1), as the tool writes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KustomizeConfig {
    pub api_version: String,
    pub kind: String,
    pub resources: Vec<String>,
}
