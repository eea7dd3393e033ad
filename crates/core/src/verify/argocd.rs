//! `verify` with `gitops.engine: argocd`: the first link of every chain is Argo CD's verdict
//! on the tree's Applications (instead of Flux's Kustomizations and HelmReleases): each one
//! `Synced` to the expected commit and `Healthy`. Argo CD writes, for an Application with
//! `spec.sources`, one synced revision per source in `status.sync.revisions` (a commit for a
//! Git source, the chart version for a Helm one); `status.sync.revision` for a single
//! `spec.source`. Why one is not synced or healthy is in `status.conditions` (e.g.
//! `ComparisonError`, `SyncError`) and `status.operationState.message` (the last sync's).

use super::observe::index;
use super::view::{lenient, lenient_items, Meta, Named};
use super::{revision_matches, FluxCheck};
use crate::model::argocd::{self as argo, BOOTSTRAP_FOLDER};
use crate::model::Stack;
use serde::Deserialize;

/// An Application as `verify` reads it: where it syncs from, and Argo CD's verdict.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Application {
    #[serde(deserialize_with = "lenient")]
    pub metadata: Meta,
    #[serde(deserialize_with = "lenient")]
    pub spec: AppSpec,
    #[serde(deserialize_with = "lenient")]
    pub status: AppStatus,
}

impl Named for Application {
    fn meta(&self) -> &Meta {
        &self.metadata
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AppSpec {
    #[serde(deserialize_with = "lenient")]
    pub source: Option<AppSource>,
    #[serde(deserialize_with = "lenient_items")]
    pub sources: Vec<AppSource>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AppSource {
    #[serde(rename = "repoURL", deserialize_with = "lenient")]
    pub repo_url: String,
    #[serde(deserialize_with = "lenient")]
    pub chart: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AppStatus {
    #[serde(deserialize_with = "lenient")]
    pub sync: SyncStatus,
    #[serde(deserialize_with = "lenient")]
    pub health: Health,
    #[serde(deserialize_with = "lenient_items")]
    pub conditions: Vec<AppCondition>,
    #[serde(deserialize_with = "lenient")]
    pub operation_state: OperationState,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SyncStatus {
    #[serde(deserialize_with = "lenient")]
    pub status: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub revision: Option<String>,
    #[serde(deserialize_with = "lenient_items")]
    pub revisions: Vec<Option<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Health {
    #[serde(deserialize_with = "lenient")]
    pub status: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AppCondition {
    #[serde(rename = "type", deserialize_with = "lenient")]
    pub type_: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OperationState {
    #[serde(deserialize_with = "lenient")]
    pub phase: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub message: Option<String>,
}

impl Application {
    /// The revision synced from the tree's repository: the Git source's entry of
    /// `status.sync.revisions` (or `revision` for a single `spec.source`); `None` when no
    /// source is the tree's repository (a chart alone).
    fn synced_commit(&self, repo_url: &str) -> Option<Option<&str>> {
        if let Some(s) = &self.spec.source {
            return (s.repo_url == repo_url && s.chart.is_none())
                .then_some(self.status.sync.revision.as_deref());
        }
        let i =
            (self.spec.sources.iter()).position(|s| s.repo_url == repo_url && s.chart.is_none())?;
        Some(
            (self.status.sync.revisions.get(i))
                .and_then(|r| r.as_deref())
                .or(self.status.sync.revision.as_deref()),
        )
    }

    /// Why Argo CD says so: its conditions' messages, then the last sync's.
    fn why(&self) -> String {
        let mut parts: Vec<String> = (self.status.conditions.iter())
            .filter_map(|c| {
                let m = c.message.as_deref().filter(|m| !m.is_empty())?;
                Some(match &c.type_ {
                    Some(t) => format!("{t}: {m}"),
                    None => m.to_string(),
                })
            })
            .collect();
        if let Some(m) = (self.status.operation_state.message.as_deref()).filter(|m| !m.is_empty())
        {
            let phase = self
                .status
                .operation_state
                .phase
                .as_deref()
                .unwrap_or("sync");
            parts.push(format!("last sync {phase}: {m}"));
        }
        parts.join("; ")
    }
}

fn with_why(head: String, why: String) -> String {
    if why.is_empty() {
        head
    } else {
        format!("{head}: {why}")
    }
}

/// Every Application of the tree (the root first): Synced at the expected commit, Healthy.
pub fn checks(
    stack: &Stack,
    applications: &[Application],
    revision: Option<&str>,
) -> Vec<FluxCheck> {
    let found = index(applications);
    // The cluster's own Applications only: with a central Argo CD, the namespace also holds
    // the other clusters' (their names start with their cluster's).
    let root = argo::root(stack);
    let namespace = stack.flux.argocd.namespace.as_str();
    let names =
        std::iter::once(root.clone()).chain(argo::applications(stack).into_iter().map(|a| a.name));
    let repo = &stack.flux.argocd.repo_url;
    names
        .map(|name| {
            let (ok, detail) = match found.get(&(namespace, name.as_str())) {
                None if name == root => (
                    false,
                    format!(
                        "not found: apply {}/{BOOTSTRAP_FOLDER}/root.yaml once (see docs/src/argocd.md){}",
                        stack.flux.paths.cluster,
                        elsewhere(stack)
                    ),
                ),
                None => (
                    false,
                    format!("not found: {root} has not created it yet (is the commit synced?)"),
                ),
                Some(a) => verdict(a, repo, revision),
            };
            FluxCheck {
                kind: "Application".into(),
                namespace: namespace.into(),
                name,
                ok,
                detail,
            }
        })
        .collect()
}

/// With a destination outside Argo CD's cluster the Applications live in Argo CD's cluster,
/// and `verify` reads them through this cluster's context unless told another: say so.
fn elsewhere(stack: &Stack) -> String {
    match &stack.flux.argocd.destination {
        argo::Destination::InCluster => String::new(),
        _ => "; with a central Argo CD (gitops.argocd.destination) the Applications are in Argo CD's cluster, which this context may not reach: name its context with `--argocd-context`".to_string(),
    }
}

fn verdict(a: &Application, repo: &str, revision: Option<&str>) -> (bool, String) {
    let sync = a.status.sync.status.as_deref().unwrap_or("Unknown");
    let health = a.status.health.status.as_deref().unwrap_or("Unknown");
    if sync != "Synced" {
        return (false, with_why(sync.to_string(), a.why()));
    }
    if health != "Healthy" {
        let mut why = a.status.health.message.clone().unwrap_or_default();
        let more = a.why();
        if !more.is_empty() {
            why = if why.is_empty() {
                more
            } else {
                format!("{why}; {more}")
            };
        }
        return (false, with_why(format!("Synced, {health}"), why));
    }
    let commit = a.synced_commit(repo);
    match (commit, revision) {
        (Some(applied), Some(rev)) if !revision_matches(applied.unwrap_or_default(), rev) => (
            false,
            format!(
                "synced revision {}, expected {rev}: Argo CD has not synced the commit yet",
                applied.unwrap_or("(none)")
            ),
        ),
        (Some(Some(applied)), _) => (true, format!("Synced and Healthy at {applied}")),
        _ => (true, "Synced and Healthy".to_string()),
    }
}
