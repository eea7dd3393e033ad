//! The Argo CD side of the stages (`gitops.engine: argocd`): the objects the rest of the
//! renderer wrote for Flux, wrapped for Argo CD instead. Each HelmRelease becomes a Helm
//! source (its chart, version, repository and the very values it carries) of its stage's
//! Application; each folder a Git source; the Flux-only files (HelmRepositories, the
//! folders' kustomization.yaml) are not written. One Application per stage that applies
//! something of its own and one per app folder, in the sync waves of
//! [`crate::model::argocd`]; the app-of-apps root and the `argocd-cm` patch with the health
//! checks ([`health`]) in `clusters/<cluster>/argocd/` (for a central Argo CD, the patch in
//! `clusters/argocd-cm-patch.yaml`, one for all its clusters).
//!
//! Nothing else in the renderer knows the engine: consumers, apps and fleets render the same
//! objects either way.

pub(crate) mod health;

use super::{of, RenderError, Renderer};
use crate::kinds;
use crate::model::argocd::{self as argo, BOOTSTRAP_FOLDER, IN_CLUSTER_SERVER, SHARED_CM_PATCH};
use crate::model::{AppsOf, Stack, StageKind};
use minijinja::Value;
use serde::Serialize;
use serde_json::{json, Value as Json};
use std::collections::{BTreeMap, BTreeSet};

const PRUNE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/prune";
const APPLICATION_TEMPLATE: &str = "argocd/application.yaml.j2";
pub(crate) const CM_PATCH_TEMPLATE: &str = "argocd/argocd-cm-patch.yaml.j2";

/// `argocd/application.yaml.j2`
#[derive(Serialize)]
struct ApplicationContext<'a> {
    name: &'a str,
    namespace: &'a str,
    wave: u32,
    project: &'a str,
    sources: Vec<SourceContext>,
    /// `spec.destination.name` (a cluster registered in Argo CD), or else `.server`.
    destination_name: Option<&'a str>,
    destination_server: &'a str,
    destination_namespace: Option<String>,
    prune: bool,
    sync_options: Vec<&'static str>,
}

#[derive(Serialize)]
struct SourceContext {
    repo_url: String,
    target_revision: String,
    /// A Helm chart (with its release name and values), or a folder (`path`).
    chart: Option<String>,
    release_name: Option<String>,
    values: Option<Json>,
    path: Option<String>,
}

/// `argocd/argocd-cm-patch.yaml.j2`
#[derive(Serialize)]
struct CmPatchContext<'a> {
    argocd_namespace: &'a str,
    path: &'a str,
    checks: BTreeMap<String, String>,
}

/// A HelmRelease as an Application's Helm source, with what its stage needs to know.
struct Release {
    source: SourceContext,
    namespace: String,
    keep: bool,
}

/// Rewraps what was rendered for Flux: see the module doc.
pub(in crate::render) fn wrap(r: &mut Renderer, stack: &Stack) -> Result<(), RenderError> {
    let files = std::mem::take(&mut r.out.files);
    let mut repositories: BTreeMap<String, String> = BTreeMap::new();
    let mut helm_releases: Vec<(String, kinds::HelmRelease)> = vec![];
    for f in files {
        match f.template.as_str() {
            "flux/helmrepository.yaml.j2" => {
                let h: kinds::HelmRepository = parse(&f.path, &f.body)?;
                repositories.insert(h.metadata.name.unwrap_or_default(), h.spec.url);
            }
            "flux/helmrelease.yaml.j2" => {
                helm_releases.push((folder_of(&f.path), parse(&f.path, &f.body)?));
            }
            "kustomize/kustomization.yaml.j2" => {}
            _ => r.out.files.push(f),
        }
    }
    let mut releases: BTreeMap<String, Release> = BTreeMap::new();
    for (dir, h) in helm_releases {
        let chart = &h.spec.chart.spec;
        let url = repositories.get(&chart.source_ref.name).ok_or_else(|| {
            RenderError::Model(format!(
                "{dir}: the HelmRelease's repository {} is not in the tree",
                chart.source_ref.name
            ))
        })?;
        let annotations = h.metadata.annotations.clone().unwrap_or_default();
        releases.insert(
            dir,
            Release {
                source: SourceContext {
                    repo_url: url.clone(),
                    target_revision: chart.version.clone(),
                    chart: Some(chart.chart.clone()),
                    release_name: h.spec.release_name.clone(),
                    values: Some(h.spec.values.clone().unwrap_or_else(|| json!({}))),
                    path: None,
                },
                namespace: h.metadata.namespace.clone().unwrap_or_default(),
                keep: annotations.get(PRUNE_ANNOTATION).map(String::as_str) == Some("disabled"),
            },
        );
    }
    // The folders that hold objects, whether one of them must outlive a prune, and the
    // namespaces the tree creates.
    let mut folders: BTreeMap<String, bool> = BTreeMap::new();
    let mut created: BTreeSet<String> = BTreeSet::new();
    for f in r.out.files.iter().filter(|f| f.object.is_some()) {
        let keep = folders.entry(folder_of(&f.path)).or_default();
        for doc in crate::yaml::Deserializer::from_str(&f.body) {
            let v: Json = serde::Deserialize::deserialize(doc)
                .map_err(|e| RenderError::Yaml(format!("{}: {e}", f.path)))?;
            let meta = &v["metadata"];
            *keep |= meta["annotations"][PRUNE_ANNOTATION] == "disabled";
            if v["kind"] == "Namespace" && v["apiVersion"] == "v1" {
                created.insert(meta["name"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    let git = stack.flux.argocd.clone();
    let folder_source = |dir: &str| SourceContext {
        repo_url: git.repo_url.clone(),
        target_revision: git.target_revision.clone(),
        chart: None,
        release_name: None,
        values: None,
        path: Some(git.path_of(dir)),
    };
    let cluster_dir = &stack.flux.paths.cluster;
    let namespace_ = git.namespace.as_str();
    let (destination_name, destination_server) = match git.destination.field() {
        ("name", n) => (Some(n), IN_CLUSTER_SERVER),
        (_, s) => (None, s),
    };
    for app in argo::applications(stack) {
        let Some(stage) = stack.flux.stages.iter().find(|s| s.name == app.stage_name) else {
            continue;
        };
        let mut sources = vec![];
        let mut keep = false;
        let mut namespace = None;
        let dir = match &app.app {
            Some((ns, name)) => {
                namespace = Some(ns.clone());
                format!("{}/{ns}/{name}", stack.flux.paths.apps)
            }
            None => stage.path.clone(),
        };
        if app.app.is_none() {
            if let Some(rel) = releases.remove(&dir) {
                keep |= rel.keep;
                namespace = Some(rel.namespace);
                sources.push(rel.source);
            }
            if stage.kind == StageKind::Apps(AppsOf::Operator) {
                namespace = Some(stack.operator.namespace.clone());
            }
        }
        if let Some(k) = folders.get(&dir) {
            keep |= *k;
            sources.push(folder_source(&dir));
        }
        if sources.is_empty() {
            continue;
        }
        let mut sync_options = vec![];
        if namespace.as_ref().is_some_and(|ns| created.contains(ns)) {
            sync_options.push("CreateNamespace=true");
        }
        // The charts that install CRDs: large ones exceed the client-side apply annotation.
        let crds = match stage.kind {
            StageKind::Operator | StageKind::CsiDriver => true,
            StageKind::ExternalSecrets => stack.external_secrets.install_crds,
            _ => false,
        };
        if crds && app.app.is_none() {
            sync_options.push("ServerSideApply=true");
        }
        application(
            r,
            format!("{cluster_dir}/{}.yaml", app.base),
            ApplicationContext {
                name: &app.name,
                namespace: namespace_,
                wave: app.wave,
                project: &git.project,
                sources,
                destination_name,
                destination_server,
                destination_namespace: namespace,
                prune: !keep,
                sync_options,
            },
        )?;
    }
    if let Some(dir) = releases.keys().next() {
        return Err(RenderError::Model(format!(
            "{dir}: a HelmRelease outside every stage's folder"
        )));
    }
    // The root: applied once by hand, then every Application above is Argo CD's. It applies
    // Applications, so it deploys to Argo CD's own cluster and namespace, wherever they deploy.
    let bootstrap = format!("{cluster_dir}/{BOOTSTRAP_FOLDER}");
    let root = argo::root(stack);
    application(
        r,
        format!("{bootstrap}/root.yaml"),
        ApplicationContext {
            name: &root,
            namespace: namespace_,
            wave: 0,
            project: &git.project,
            sources: vec![folder_source(cluster_dir)],
            destination_name: None,
            destination_server: IN_CLUSTER_SERVER,
            destination_namespace: Some(namespace_.to_string()),
            prune: true,
            sync_options: vec![],
        },
    )?;
    // One patch per Argo CD: in the cluster's bootstrap folder for its own Argo CD; for a
    // central one, beside the clusters' folders, the same file for every cluster it manages
    // (the fleet's loader keeps one, and refuses clusters whose checks differ).
    let central = argo::central(stack);
    let path = match central {
        false => format!("{bootstrap}/argocd-cm-patch.yaml"),
        true => format!("{}/{SHARED_CM_PATCH}", stack.flux.paths.clusters_root()),
    };
    r.file(
        path.clone(),
        CM_PATCH_TEMPLATE,
        Value::from_serialize(CmPatchContext {
            argocd_namespace: namespace_,
            path: &path,
            checks: health::customizations(stack.operator.vso()),
        }),
    )?;
    if let Some(f) = r.out.files.last_mut() {
        f.shared = central;
    }
    Ok(())
}

fn application(r: &mut Renderer, path: String, ctx: ApplicationContext) -> Result<(), RenderError> {
    r.object(
        of::<kinds::Application>(ctx.namespace, ctx.name),
        path,
        APPLICATION_TEMPLATE,
        Value::from_serialize(&ctx),
    )
}

fn folder_of(path: &str) -> String {
    path.rsplit_once('/')
        .map(|(d, _)| d)
        .unwrap_or("")
        .to_string()
}

fn parse<T: serde::de::DeserializeOwned>(path: &str, body: &str) -> Result<T, RenderError> {
    crate::yaml::from_str(body).map_err(|e| RenderError::Yaml(format!("{path}: {e}")))
}
