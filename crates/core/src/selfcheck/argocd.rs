//! The Argo CD documents (`gitops.engine: argocd`): the Applications and the `argocd-cm` patch.

use super::{typed, typed_value, Problem};
use crate::kinds::Application;
use serde::Deserialize;
use serde_json::Value as Json;
use std::collections::BTreeMap;

pub(super) const CM_PATCH_TEMPLATE: &str = "argocd/argocd-cm-patch.yaml.j2";
const WAVE: &str = "argocd.argoproj.io/sync-wave";

/// An Application: its kind's schema, a sync wave, sources of one form each, and automated
/// sync (the tree's Applications are Argo CD's to keep in sync, as Flux's are).
pub(super) fn application(v: &Json) -> Result<(), Problem> {
    let a: Application = typed_value(v)?;
    let wave = a
        .metadata
        .annotations
        .as_ref()
        .and_then(|m| m.get(WAVE))
        .ok_or_else(|| problem!("lacks the annotation {WAVE}"))?;
    if wave.parse::<i64>().is_err() {
        return Err(problem!("{WAVE} `{wave}` is not an integer"));
    }
    if a.spec.sources.is_empty() {
        return Err("an Application with no source".into());
    }
    for s in &a.spec.sources {
        if s.chart.is_some() == s.path.is_some() || s.chart.is_some() != s.helm.is_some() {
            return Err("a source must be a chart (with its helm values) or a folder".into());
        }
    }
    let name = a.metadata.name.as_deref().unwrap_or_default();
    if name.len() > crate::model::argocd::MAX_NAME {
        return Err(problem!(
            "its name `{name}` is longer than 63 characters: Argo CD's resource tracking puts it in a label value"
        ));
    }
    let d = &a.spec.destination;
    if d.server.is_some() == d.name.is_some() {
        return Err(
            "a destination must name its cluster by `server` or by `name`, not both".into(),
        );
    }
    if a.spec.sync_policy.and_then(|p| p.automated).is_none() {
        return Err("an Application without automated sync".into());
    }
    Ok(())
}

/// The `argocd-cm` patch: `data` only, every key a health customization with a script.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CmPatch {
    data: BTreeMap<String, String>,
}

pub(super) fn cm_patch(body: &str) -> Result<(), Problem> {
    let p: CmPatch = typed(body)?;
    for (key, script) in &p.data {
        if !key.starts_with("resource.customizations.health.") || !script.contains("return") {
            return Err(problem!("`{key}` is not a health check with a script"));
        }
    }
    Ok(())
}

/// With Applications (`gitops.engine: argocd`): every file of objects outside
/// `clusters/<cluster>/` is in a folder exactly one Application applies (a Git source's
/// `path`, the repository's folder of the tree before it), as every object is in exactly one
/// Flux stage: none left out, none applied by two Applications.
pub(super) fn coverage(
    rendered: &crate::render::Rendered,
    clusters_dir: &str,
    problems: &mut Vec<String>,
) {
    let mut folders: Vec<String> = vec![];
    let mut any = false;
    for f in rendered
        .files
        .iter()
        .filter(|f| f.template == APPLICATION_TEMPLATE)
    {
        let Ok(a) = typed::<Application>(&f.body) else {
            continue;
        };
        any = true;
        // The root applies the Applications' own folder.
        if f.path.starts_with(&format!("{clusters_dir}/")) && !f.path.contains("/argocd/") {
            folders.extend(a.spec.sources.into_iter().filter_map(|s| s.path));
        }
    }
    if !any {
        return;
    }
    let applies = |dir: &str| {
        (folders.iter())
            .filter(|p| *p == dir || p.ends_with(&format!("/{dir}")))
            .count()
    };
    for f in rendered.files.iter().filter(|f| f.object.is_some()) {
        if f.path.starts_with(&format!("{clusters_dir}/")) || f.template.starts_with("injector/") {
            continue;
        }
        let dir = f.path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        match applies(dir) {
            1 => {}
            0 => problems.push(format!("{}: no Application applies its folder", f.path)),
            n => problems.push(format!(
                "{}: {n} Applications apply its folder: they would fight over its objects",
                f.path
            )),
        }
    }
}

const APPLICATION_TEMPLATE: &str = "argocd/application.yaml.j2";
