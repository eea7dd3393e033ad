//! `gitops.engine` and the fields Argo CD needs (`repoURL`, `targetRevision`, `path`,
//! `argocd`).

use schemars::JsonSchema;
use serde::Deserialize;

/// The GitOps engine that applies the tree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GitopsEngine {
    /// Flux: Kustomizations in `flux-system` with `dependsOn` (default).
    #[default]
    Flux,
    /// Argo CD: Applications in `argocd` ordered by sync waves, under one app-of-apps root.
    Argocd,
}

impl GitopsEngine {
    /// The engine as the report names it.
    pub fn name(self) -> &'static str {
        match self {
            GitopsEngine::Flux => "Flux",
            GitopsEngine::Argocd => "Argo CD",
        }
    }
}

/// `gitops.argocd`: the Argo CD that holds this cluster's Applications. By default one Argo CD
/// per cluster (in `argocd`, project `default`, deploying to its own cluster); a central Argo
/// CD managing several clusters names this cluster as it registered it.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArgocdSpec {
    /// Where the Applications deploy: `in-cluster` (default: the cluster Argo CD runs in), or
    /// this cluster as registered in Argo CD, by name (`spec.destination.name`, e.g.
    /// `production`) or by API server URL (`https://…`, `spec.destination.server`). Any other
    /// than `in-cluster` means a central Argo CD: the Applications' names start with the
    /// cluster's (as in a fleet).
    pub destination: Option<String>,
    /// The namespace of Argo CD (where the Applications live; default `argocd`).
    pub namespace: Option<String>,
    /// The AppProject of every Application (default `default`): it must allow the repository
    /// and the destination.
    pub project: Option<String>,
}
