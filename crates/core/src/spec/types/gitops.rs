//! `gitops.engine` and the fields Argo CD needs (`repoURL`, `targetRevision`, `path`).

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
