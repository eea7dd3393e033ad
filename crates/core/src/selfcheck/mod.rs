//! The self-check every rendered tree passes before anything is written.
//!
//! Each document must parse back and deserialize into the typed model of its kind (unknown
//! fields denied), every reference must resolve inside the output, and no Secret with data
//! may ever be produced. A failure here is a bug in the tool (or in a `--templates` override):
//! the message names the file and the template that produced it.

use crate::kinds::*;
use crate::render::{Rendered, RenderedFile};
use crate::versions::VsoLine;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, Role, RoleBinding};
use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use std::collections::BTreeSet;

/// An object found in the output: kind, namespace, name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ObjectKey {
    kind: String,
    namespace: String,
    name: String,
}

#[derive(Default)]
struct Seen {
    objects: BTreeSet<ObjectKey>,
    /// (file, what it refers to, the object it needs)
    needs: Vec<(String, String, ObjectKey)>,
    /// Flux Kustomization paths that must be folders with a kustomization.yaml.
    paths: Vec<(String, String)>,
    /// Chart versions of the operator's HelmRelease (one expected).
    vso_versions: Vec<String>,
    /// (file, kind, expression) of every health check.
    health_exprs: Vec<(String, String, String)>,
}

/// The rendered tree fails its self-check: every problem found, each naming its file (and the
/// template that wrote it). A bug in the tool, or in a `--templates` override.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the rendered tree fails its self-check; nothing was written:\n  {}", problems.join("\n  "))]
pub struct SelfCheckError {
    pub problems: Vec<String>,
}

impl From<SelfCheckError> for crate::error::Error {
    fn from(e: SelfCheckError) -> Self {
        crate::error::Error::bug(e.to_string())
    }
}

/// One problem of one document or file, before it is placed (`FILE (from template T): ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
struct Problem(String);

impl From<String> for Problem {
    fn from(message: String) -> Self {
        Problem(message)
    }
}

impl From<&str> for Problem {
    fn from(message: &str) -> Self {
        Problem(message.to_string())
    }
}

/// A [`Problem`] from a format string.
macro_rules! problem {
    ($($arg:tt)*) => {
        Problem(format!($($arg)*))
    };
}

mod argocd;
mod backup;

/// Checks the rendered tree. `Err` lists every problem found.
pub fn check(rendered: &Rendered, clusters_dir: &str) -> Result<(), SelfCheckError> {
    let all_paths: BTreeSet<&str> = rendered.files.iter().map(|f| f.path.as_str()).collect();
    // Folders that are kustomize Components (the injector's): included by the user's own
    // kustomization, so no generated kustomization.yaml lists them.
    let components: BTreeSet<&str> = rendered
        .files
        .iter()
        .filter(|f| f.template == COMPONENT_TEMPLATE)
        .filter_map(|f| f.path.strip_suffix("/kustomization.yaml"))
        .collect();
    // Files are checked independently (in parallel: thousands of documents parse back here),
    // then their references are resolved against everything the output contains.
    let per_file: Vec<(Vec<String>, Seen)> = rendered
        .files
        .par_iter()
        .map(|f| check_file(f, clusters_dir, &all_paths, &components))
        .collect();
    let mut problems = Vec::new();
    let mut seen = Seen::default();
    // The user's Kustomizations the stages depend on (and, without `createNamespaces`, the app
    // namespaces) are the cluster's, not the output's.
    seen.objects
        .extend(rendered.external.iter().map(|o| ObjectKey {
            kind: o.kind.clone(),
            namespace: o.namespace.clone(),
            name: o.name.clone(),
        }));
    one_owner(rendered, &all_paths, &mut problems);
    for (p, s) in per_file {
        problems.extend(p);
        seen.objects.extend(s.objects);
        seen.needs.extend(s.needs);
        seen.paths.extend(s.paths);
        seen.vso_versions.extend(s.vso_versions);
        seen.health_exprs.extend(s.health_exprs);
    }
    check_health_exprs(&seen, &mut problems);
    argocd::coverage(rendered, clusters_dir, &mut problems);

    for (file, what, needed) in &seen.needs {
        if !seen.objects.contains(needed) {
            problems.push(format!(
                "{file}: {what} refers to {} {}/{}, which the output does not contain",
                needed.kind, needed.namespace, needed.name
            ));
        }
    }
    for (file, path) in &seen.paths {
        let rel = path.trim_start_matches("./");
        if !all_paths.contains(format!("{rel}/kustomization.yaml").as_str()) {
            problems.push(format!(
                "{file}: spec.path {path} is not a generated folder with a kustomization.yaml"
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(SelfCheckError { problems })
    }
}

/// `dir/entry` with its `..` segments resolved (an apps stage lists `../<namespace>/<app>`).
fn joined(dir: &str, entry: &str) -> String {
    let mut parts: Vec<&str> = dir.split('/').collect();
    for segment in entry.split('/') {
        match segment {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// Every file and folder is applied by at most one kustomization.yaml: two Flux stages
/// applying one object would fight over it (and one's prune could delete it under the other).
fn one_owner(rendered: &Rendered, all_paths: &BTreeSet<&str>, problems: &mut Vec<String>) {
    let mut owner: std::collections::BTreeMap<String, &str> = Default::default();
    for f in rendered
        .files
        .iter()
        .filter(|f| f.path.ends_with("/kustomization.yaml") && f.template == KUSTOMIZE_TEMPLATE)
    {
        let Ok(k) = typed::<KustomizeConfig>(&f.body) else {
            continue;
        };
        let dir = f.path.trim_end_matches("/kustomization.yaml");
        for r in &k.resources {
            let entry = joined(dir, r);
            if !all_paths.contains(entry.as_str())
                && !all_paths.contains(format!("{entry}/kustomization.yaml").as_str())
            {
                continue;
            }
            if let Some(first) = owner.insert(entry.clone(), &f.path) {
                problems.push(format!(
                    "{}: lists `{r}`, which {first} lists too: two stages would apply the same objects",
                    f.path
                ));
            }
        }
    }
}

const KUSTOMIZE_TEMPLATE: &str = "kustomize/kustomization.yaml.j2";
const COMPONENT_TEMPLATE: &str = "injector/kustomization.yaml.j2";
const PATCH_TEMPLATE: &str = "injector/patch.yaml.j2";
const AUDIT_SHIPPING_TEMPLATE: &str = "monitoring/audit-shipping.yaml.j2";

fn check_file(
    f: &RenderedFile,
    clusters_dir: &str,
    all_paths: &BTreeSet<&str>,
    components: &BTreeSet<&str>,
) -> (Vec<String>, Seen) {
    let mut problems = Vec::new();
    let mut seen = Seen::default();
    let at = format!("{} (from template {})", f.path, f.template);
    if f.template == COMPONENT_TEMPLATE {
        if let Err(e) = check_component(&f.path, &f.body, all_paths) {
            problems.push(format!("{at}: {e}"));
        }
        return (problems, seen);
    }
    if f.template == argocd::CM_PATCH_TEMPLATE {
        if let Err(e) = argocd::cm_patch(&f.body) {
            problems.push(format!("{at}: {e}"));
        }
        return (problems, seen);
    }
    if f.template == PATCH_TEMPLATE {
        if let Err(e) = check_workload_patch(&f.body) {
            problems.push(format!("{at}: {e}"));
        }
        return (problems, seen);
    }
    if f.path.ends_with("/kustomization.yaml") {
        if f.path.starts_with(&format!("{clusters_dir}/")) {
            problems.push(format!("{at}: a kustomization.yaml under {clusters_dir}/ would hide flux-system/ from Flux's root Kustomization"));
        }
        if let Err(e) = check_kustomize_config(&f.path, &f.body, all_paths, components) {
            problems.push(format!("{at}: {e}"));
        }
        return (problems, seen);
    }
    if !f.path.ends_with(".yaml") {
        return (problems, seen);
    }
    if f.template == AUDIT_SHIPPING_TEMPLATE {
        // Not a Kubernetes object: a Promtail `scrape_configs` list, for review.
        if !matches!(crate::yaml::from_str::<Json>(&f.body), Ok(Json::Array(_))) {
            problems.push(format!("{at}: not a list of Promtail scrape jobs"));
        }
        return (problems, seen);
    }
    for doc in crate::yaml::Deserializer::from_str(&f.body) {
        let value = match <Json as serde::Deserialize>::deserialize(doc) {
            Ok(v) => v,
            Err(e) => {
                // serde_yaml's document iterator repeats a syntax error forever: stop here.
                problems.push(format!("{at}: does not parse back as YAML: {e}"));
                break;
            }
        };
        if let Err(e) = check_object(&f.path, &value, &mut seen) {
            problems.push(format!("{at}: {e}"));
        }
    }
    (problems, seen)
}

/// The injector's Component: its patches exist beside it.
fn check_component(path: &str, body: &str, all_paths: &BTreeSet<&str>) -> Result<(), Problem> {
    let k: KustomizeComponent = typed(body)?;
    if k.api_version != "kustomize.config.k8s.io/v1alpha1" || k.kind != "Component" {
        return Err(problem!("unexpected {}/{}", k.api_version, k.kind));
    }
    let dir = path.trim_end_matches("/kustomization.yaml");
    for p in &k.patches {
        if !all_paths.contains(format!("{dir}/{}", p.path).as_str()) {
            return Err(problem!("patches `{}`, which is not in the output", p.path));
        }
    }
    Ok(())
}

/// The injector's patch: a workload the agent can be injected into, annotated for it.
fn check_workload_patch(body: &str) -> Result<(), Problem> {
    let p: WorkloadPatch = typed(body)?;
    let completes = matches!(p.kind.as_str(), "Job" | "CronJob");
    let api_version = if completes { "batch/v1" } else { "apps/v1" };
    if p.api_version != api_version
        || !crate::spec::validate::rules::INJECTOR_WORKLOAD_KINDS.contains(&p.kind.as_str())
    {
        return Err(problem!("cannot patch {}/{}", p.api_version, p.kind));
    }
    // A CronJob's pod template is in its jobTemplate; every other kind's in spec.template.
    let template = match (&p.spec.template, &p.spec.job_template, p.kind.as_str()) {
        (None, Some(j), "CronJob") => &j.spec.template,
        (Some(t), None, kind) if kind != "CronJob" => t,
        _ => {
            return Err(problem!(
                "the pod template of a {} is not where the patch puts it",
                p.kind
            ))
        }
    };
    let a = &template.metadata.annotations;
    for required in [
        "vault.hashicorp.com/agent-inject",
        "vault.hashicorp.com/role",
        "vault.hashicorp.com/auth-path",
    ] {
        if !a.contains_key(required) {
            return Err(problem!("lacks the annotation {required}"));
        }
    }
    // Pods that run to completion get the init container only: a sidecar would keep them
    // running; long-running pods keep the sidecar that re-renders their secrets.
    let only = a.get("vault.hashicorp.com/agent-pre-populate-only");
    if completes != (only.map(String::as_str) == Some("true")) {
        return Err(problem!(
            "a {} must {}carry vault.hashicorp.com/agent-pre-populate-only: \"true\"",
            p.kind,
            if completes { "" } else { "not " }
        ));
    }
    // Every secret has its template, and every template its secret.
    let secrets: BTreeSet<&str> = a
        .keys()
        .filter_map(|k| k.strip_prefix("vault.hashicorp.com/agent-inject-secret-"))
        .collect();
    let templates: BTreeSet<&str> = a
        .keys()
        .filter_map(|k| k.strip_prefix("vault.hashicorp.com/agent-inject-template-"))
        .collect();
    if secrets != templates {
        return Err(
            "agent-inject-secret-* and agent-inject-template-* annotations do not pair up".into(),
        );
    }
    let volume = a.get("vault.hashicorp.com/agent-service-account-token-volume-name");
    let has_volume = template.spec.volumes.iter().any(|v| {
        Some(&v.name) == volume
            && v.projected.as_ref().is_some_and(|pr| {
                pr.sources.iter().flatten().any(|s| {
                    s.service_account_token
                        .as_ref()
                        .is_some_and(|t| t.audience.is_some())
                })
            })
    });
    if !has_volume {
        return Err("the agent's token volume is not a projected token with an audience".into());
    }
    Ok(())
}

fn check_kustomize_config(
    path: &str,
    body: &str,
    all_paths: &BTreeSet<&str>,
    components: &BTreeSet<&str>,
) -> Result<(), Problem> {
    let k: KustomizeConfig = typed(body)?;
    if k.api_version != "kustomize.config.k8s.io/v1beta1" || k.kind != "Kustomization" {
        return Err(problem!("unexpected {}/{}", k.api_version, k.kind));
    }
    let dir = path.trim_end_matches("/kustomization.yaml");
    let listed: BTreeSet<&str> = k.resources.iter().map(String::as_str).collect();
    // Every entry exists: a file, or a sub-folder with its own kustomization.yaml.
    for r in &k.resources {
        let file = joined(dir, r);
        if components.contains(file.as_str()) {
            return Err(problem!("lists the Component `{r}` as a resource"));
        }
        let folder = format!("{file}/kustomization.yaml");
        if !all_paths.contains(file.as_str()) && !all_paths.contains(folder.as_str()) {
            return Err(problem!("lists `{r}`, which is not in the output"));
        }
    }
    // And exactly: every file and sub-folder of the folder is listed.
    let prefix = format!("{dir}/");
    for p in all_paths
        .range(prefix.as_str()..)
        .take_while(|p| p.starts_with(&prefix))
    {
        let rest = &p[prefix.len()..];
        if rest == "kustomization.yaml" {
            continue;
        }
        let entry = rest.split('/').next().unwrap_or(rest);
        let is_folder = rest.contains('/');
        if is_folder && components.contains(format!("{dir}/{entry}").as_str()) {
            continue;
        }
        if (is_folder || rest.ends_with(".yaml")) && !listed.contains(entry) {
            return Err(problem!("does not list `{entry}`"));
        }
    }
    Ok(())
}

fn typed<T: DeserializeOwned>(body: &str) -> Result<T, Problem> {
    crate::yaml::from_str(body).map_err(|e| problem!("does not match its kind's schema: {e}"))
}

fn typed_value<T: DeserializeOwned>(v: &Json) -> Result<T, Problem> {
    T::deserialize(v).map_err(|e| problem!("does not match its kind's schema: {e}"))
}

const TOP_KEYS: [&str; 4] = ["apiVersion", "kind", "metadata", "spec"];
/// A ClusterRoleBinding has no `spec`: its role and subjects are top-level fields.
const BINDING_KEYS: [&str; 2] = ["roleRef", "subjects"];
const METADATA_KEYS: [&str; 4] = ["name", "namespace", "labels", "annotations"];

fn check_object(file: &str, v: &Json, seen: &mut Seen) -> Result<(), Problem> {
    let obj = v.as_object().ok_or("a document is not a map")?;
    let top_kind = obj.get("kind").and_then(Json::as_str);
    let is_binding = matches!(top_kind, Some("ClusterRoleBinding" | "RoleBinding"));
    for k in obj.keys() {
        let allowed = TOP_KEYS.contains(&k.as_str())
            || (is_binding && BINDING_KEYS.contains(&k.as_str()))
            || (top_kind == Some("Role") && k == "rules")
            || (top_kind == Some("ConfigMap") && k == "data");
        if !allowed {
            return Err(problem!("unknown top-level field `{k}`"));
        }
    }
    let meta = obj
        .get("metadata")
        .and_then(Json::as_object)
        .ok_or("no metadata")?;
    for k in meta.keys() {
        if !METADATA_KEYS.contains(&k.as_str()) {
            return Err(problem!("unknown metadata field `{k}`"));
        }
    }
    let managed = meta
        .get("labels")
        .and_then(|l| l.get(crate::model::MANAGED_BY_LABEL))
        .and_then(Json::as_str);
    if managed != Some(crate::model::MANAGED_BY) {
        return Err("lacks the label app.kubernetes.io/managed-by: kubectl-vault".into());
    }
    let api_version = obj
        .get("apiVersion")
        .and_then(Json::as_str)
        .unwrap_or_default();
    let kind = obj.get("kind").and_then(Json::as_str).unwrap_or_default();
    let name = meta
        .get("name")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    let namespace = meta
        .get("namespace")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    let key = |kind: &str, namespace: &str, name: &str| ObjectKey {
        kind: kind.into(),
        namespace: namespace.into(),
        name: name.into(),
    };
    let mut need =
        |what: &str, k: ObjectKey| seen.needs.push((file.to_string(), what.to_string(), k));
    if !namespace.is_empty() && namespace != crate::model::FLUX_NAMESPACE {
        need("metadata.namespace", key("Namespace", "", &namespace));
    }
    match Kind::of(api_version, kind) {
        Some(Kind::Namespace) => {
            typed_value::<Namespace>(v)?;
            keeps_on_prune(meta)?;
        }
        Some(Kind::ServiceAccount) => {
            typed_value::<ServiceAccount>(v)?;
        }
        Some(Kind::ClusterRoleBinding) => {
            let b: ClusterRoleBinding = typed_value(v)?;
            if b.role_ref.kind != "ClusterRole" || b.role_ref.name != "system:auth-delegator" {
                return Err(problem!(
                    "a generated ClusterRoleBinding may only grant system:auth-delegator, not {} {}",
                    b.role_ref.kind, b.role_ref.name
                ));
            }
        }
        Some(Kind::Secret) => {
            return Err(
                "a Secret must never be generated: secret values do not belong in Git".into(),
            )
        }
        Some(Kind::VaultConnection) => {
            typed_value::<VaultConnection>(v)?;
        }
        Some(Kind::VaultAuth) => {
            let a: VaultAuth = typed_value(v)?;
            if let Some(r) = &a.spec.vault_connection_ref {
                let (ns, n) = r.split_once('/').unwrap_or((&namespace, r));
                need("spec.vaultConnectionRef", key("VaultConnection", ns, n));
            }
            if a.spec.kubernetes.audiences.is_empty() {
                return Err("VaultAuth has no audiences".into());
            }
        }
        Some(Kind::VaultStaticSecret) => {
            let s: VaultStaticSecret = typed_value(v)?;
            need(
                "spec.vaultAuthRef",
                key("VaultAuth", &namespace, &s.spec.vault_auth_ref),
            );
            check_destination(&s.spec.destination)?;
        }
        Some(Kind::VaultDynamicSecret) => {
            let s: VaultDynamicSecret = typed_value(v)?;
            need(
                "spec.vaultAuthRef",
                key("VaultAuth", &namespace, &s.spec.vault_auth_ref),
            );
            check_destination(&s.spec.destination)?;
        }
        Some(Kind::VaultPKISecret) => {
            let s: VaultPKISecret = typed_value(v)?;
            need(
                "spec.vaultAuthRef",
                key("VaultAuth", &namespace, &s.spec.vault_auth_ref),
            );
            check_destination(&s.spec.destination)?;
            if s.spec.destination.secret_type.as_deref() != Some("kubernetes.io/tls") {
                return Err("a VaultPKISecret must write a kubernetes.io/tls Secret".into());
            }
        }
        Some(Kind::Kustomization) => {
            let k: Kustomization = typed_value(v)?;
            for d in k.spec.depends_on.iter().flatten() {
                let ns = d.namespace.as_deref().unwrap_or(&namespace);
                need("spec.dependsOn", key("Kustomization", ns, &d.name));
            }
            if k.spec.source_ref.kind != "GitRepository" {
                return Err("sourceRef must be a GitRepository".into());
            }
            seen.paths.push((file.to_string(), k.spec.path.clone()));
            for h in k.spec.health_check_exprs.iter().flatten() {
                for e in [&h.in_progress, &h.failed, &Some(h.current.clone())]
                    .into_iter()
                    .flatten()
                {
                    seen.health_exprs
                        .push((file.to_string(), h.kind.clone(), e.clone()));
                }
            }
        }
        Some(Kind::Certificate) => {
            let c: Certificate = typed_value(v)?;
            // A namespaced Issuer could not serve both the Vault and the operator namespace.
            if c.spec.issuer_ref.kind.as_deref() != Some("ClusterIssuer") {
                return Err("the Certificate must name a ClusterIssuer".into());
            }
        }
        Some(Kind::HelmRepository) => {
            typed_value::<HelmRepository>(v)?;
        }
        Some(Kind::HelmRelease) => {
            let h: HelmRelease = typed_value(v)?;
            match h.spec.chart.spec.chart.as_str() {
                "vault-secrets-operator" => {
                    seen.vso_versions.push(h.spec.chart.spec.version.clone())
                }
                // Vault's (and OpenBao's) raft data must outlive a prune; its chart has no
                // CRDs to manage.
                "vault" | "openbao" => {
                    keeps_on_prune(meta)?;
                    let crds = h.spec.install.as_ref().and_then(|i| i.crds.as_ref()).or(h
                        .spec
                        .upgrade
                        .as_ref()
                        .and_then(|u| u.crds.as_ref()));
                    if crds.is_some() {
                        return Err("the Vault chart ships no CRDs: a CRD policy on its HelmRelease is meaningless".into());
                    }
                }
                _ => {}
            }
            let r = &h.spec.chart.spec.source_ref;
            need(
                "spec.chart.spec.sourceRef",
                key(
                    &r.kind,
                    r.namespace.as_deref().unwrap_or(&namespace),
                    &r.name,
                ),
            );
        }
        Some(Kind::Role) => {
            // Only what cert-manager needs: to request tokens of named ServiceAccounts.
            let r: Role = typed_value(v)?;
            let only_token_requests = r.rules.iter().flatten().all(|rule| {
                rule.api_groups.as_deref() == Some(&[String::new()][..])
                    && rule.resources.as_deref() == Some(&["serviceaccounts/token".to_string()][..])
                    && rule.verbs == ["create"]
                    && rule.resource_names.as_ref().is_some_and(|n| !n.is_empty())
            });
            if !only_token_requests {
                return Err(
                    "a generated Role may only allow `create` on named serviceaccounts/token"
                        .into(),
                );
            }
        }
        Some(Kind::SecretStore) => {
            let st: SecretStore = typed_value(v)?;
            check_store(&st.spec.provider, &namespace, false)?;
        }
        Some(Kind::ClusterSecretStore) => {
            let st: ClusterSecretStore = typed_value(v)?;
            check_store(&st.spec.provider, &namespace, true)?;
            // Each app's store serves the app's namespace only.
            let limited = st
                .spec
                .conditions
                .as_ref()
                .is_some_and(|c| !c.is_empty() && c.iter().all(|c| !c.namespaces.is_empty()));
            if !limited {
                return Err(
                    "a ClusterSecretStore must be limited to its app's namespace (spec.conditions)"
                        .into(),
                );
            }
        }
        Some(Kind::RoleBinding) => {
            let b: RoleBinding = typed_value(v)?;
            if b.role_ref.kind != "Role" {
                return Err(problem!(
                    "a generated RoleBinding may only bind a generated Role, not {} {}",
                    b.role_ref.kind,
                    b.role_ref.name
                ));
            }
            need("roleRef", key("Role", &namespace, &b.role_ref.name));
        }
        Some(Kind::Issuer) => {
            let i: Issuer = typed_value(v)?;
            check_vault_issuer(&i.spec.vault)?;
            need(
                "spec.vault.auth.kubernetes.serviceAccountRef",
                key(
                    "ServiceAccount",
                    &namespace,
                    &i.spec.vault.auth.kubernetes.service_account_ref.name,
                ),
            );
        }
        Some(Kind::ClusterIssuer) => {
            let i: ClusterIssuer = typed_value(v)?;
            check_vault_issuer(&i.spec.vault)?;
        }
        Some(Kind::ExternalSecret) => {
            let e: ExternalSecret = typed_value(v)?;
            let r = &e.spec.secret_store_ref;
            match r.kind {
                StoreKind::SecretStore => need(
                    "spec.secretStoreRef",
                    key("SecretStore", &namespace, &r.name),
                ),
                StoreKind::ClusterSecretStore => need(
                    "spec.secretStoreRef",
                    key("ClusterSecretStore", "", &r.name),
                ),
            }
            if e.spec.data.as_ref().is_none_or(Vec::is_empty)
                == e.spec.data_from.as_ref().is_none_or(Vec::is_empty)
            {
                return Err(
                    "an ExternalSecret reads either `data` (listed keys) or `dataFrom` (all keys)"
                        .into(),
                );
            }
        }
        Some(Kind::SecretProviderClass) => {
            let c: SecretProviderClass = typed_value(v)?;
            check_secret_provider_class(&c.spec)?;
        }
        Some(Kind::CronJob) => {
            let (account, claims) = backup::cron_job(v)?;
            need(
                "spec.jobTemplate…serviceAccountName",
                key("ServiceAccount", &namespace, &account),
            );
            for c in claims {
                need(
                    "spec.jobTemplate…persistentVolumeClaim",
                    key("PersistentVolumeClaim", &namespace, &c),
                );
            }
        }
        Some(Kind::PersistentVolumeClaim) => {
            backup::persistent_volume_claim(v)?;
            keeps_on_prune(meta)?;
        }
        Some(Kind::Application) => argocd::application(v)?,
        Some(Kind::ServiceMonitor) => {
            typed_value::<crate::kinds::ServiceMonitor>(v)?;
        }
        Some(Kind::PrometheusRule) => {
            typed_value::<crate::kinds::PrometheusRule>(v)?;
        }
        Some(Kind::ConfigMap) => {
            // Only the dashboard: a ConfigMap with any other content could carry a value that
            // belongs in Vault.
            let c: k8s_openapi::api::core::v1::ConfigMap = typed_value(v)?;
            let labels = c.metadata.labels.unwrap_or_default();
            let keys: Vec<&String> = c.data.iter().flat_map(|d| d.keys()).collect();
            if labels.get("grafana_dashboard").map(String::as_str) != Some("1")
                || keys.len() != 1
                || !keys[0].ends_with(".json")
            {
                return Err(problem!(
                    "the only ConfigMap the tree writes is a Grafana dashboard"
                ));
            }
        }
        Some(Kind::Event) | Some(Kind::SecretProviderClassPodStatus) | Some(Kind::Pod) | None => {
            return Err(problem!("unexpected kind {api_version}/{kind}"))
        }
    }
    seen.objects.insert(key(kind, &namespace, &name));
    Ok(())
}

const PRUNE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/prune";

/// Objects whose deletion would take the user's data with them must not be pruned by Flux.
fn keeps_on_prune(meta: &serde_json::Map<String, Json>) -> Result<(), Problem> {
    let value = meta
        .get("annotations")
        .and_then(|a| a.get(PRUNE_ANNOTATION))
        .and_then(Json::as_str);
    if value != Some("disabled") {
        return Err(problem!(
            "lacks the annotation {PRUNE_ANNOTATION}: disabled (a prune would delete what it holds)"
        ));
    }
    Ok(())
}

/// Health checks must read only status fields the operator version in the tree writes: a
/// check on a field that never appears can never pass.
fn check_health_exprs(seen: &Seen, problems: &mut Vec<String>) {
    // The VSO line, asked for only by a check on a VSO kind (ESO's and cert-manager's kinds
    // are judged by their CRDs, with or without VSO in the tree).
    let mut vso: Option<Option<VsoLine>> = None;
    let mut line_of = |problems: &mut Vec<String>| -> Option<VsoLine> {
        *vso.get_or_insert_with(|| {
            let [version] = seen.vso_versions.as_slice() else {
                problems.push(format!(
                    "the tree has health checks but {} operator HelmReleases: cannot tell which VSO version they are for",
                    seen.vso_versions.len()
                ));
                return None;
            };
            let line = VsoLine::of(version);
            if line.is_none() {
                problems.push(format!(
                    "the operator HelmRelease pins chart {version}, not a supported VSO version ({})",
                    crate::versions::SUPPORTED_VSO
                ));
            }
            line
        })
    };
    for (file, kind, expr) in &seen.health_exprs {
        let (written, whose) = match crate::versions::consumer_status_fields(kind) {
            Some(fields) => (fields, "its CRD".to_string()),
            None => match line_of(problems) {
                Some(line) => (line.status_fields(kind), format!("VSO {line}")),
                None => continue,
            },
        };
        for field in crate::versions::status_fields_read(expr) {
            if !written.contains(&field) {
                problems.push(format!(
                    "{file}: the health check for {kind} reads status.{field}, which {whose} never writes: it could never pass"
                ));
            }
        }
    }
}

/// cert-manager signs through `MOUNT/sign/ROLE` only (never `issue/`, which would hand it
/// the private key) and logs in at the kubernetes auth mount's login path.
fn check_vault_issuer(v: &VaultIssuer) -> Result<(), Problem> {
    let sign = v
        .path
        .rsplit_once("/sign/")
        .is_some_and(|(m, r)| !m.is_empty() && !r.is_empty() && !r.contains('/'));
    if !sign {
        return Err(problem!(
            "spec.vault.path `{}` is not MOUNT/sign/ROLE",
            v.path
        ));
    }
    if !v.auth.kubernetes.mount_path.starts_with("/v1/auth/") {
        return Err(problem!(
            "spec.vault.auth.kubernetes.mountPath `{}` is not /v1/auth/<mount>",
            v.auth.kubernetes.mount_path
        ));
    }
    Ok(())
}

/// Kubernetes auth bound to a service account, and a CA Secret where TLS is on.
fn check_store(p: &StoreProvider, namespace: &str, cluster: bool) -> Result<(), Problem> {
    let k = &p.vault.auth.kubernetes;
    if k.service_account_ref.audiences.is_empty() {
        return Err("the store's serviceAccountRef has no audiences".into());
    }
    if cluster != k.service_account_ref.namespace.is_some() {
        return Err("only a ClusterSecretStore names its service account's namespace".into());
    }
    if !cluster
        && p.vault
            .ca_provider
            .as_ref()
            .is_some_and(|c| c.namespace.is_some())
    {
        return Err(problem!(
            "a SecretStore reads its CA from its own namespace {namespace}: caProvider.namespace is refused"
        ));
    }
    if p.vault.server.starts_with("https://") != p.vault.ca_provider.is_some() {
        return Err("the store has a CA exactly when its server is https".into());
    }
    Ok(())
}

/// The Vault provider's parameters, and its `objects` string parsed as the provider does.
fn check_secret_provider_class(spec: &SecretProviderClassSpec) -> Result<(), Problem> {
    // The chart's provider: Vault's (`vault`) or OpenBao's (`openbao`), each with its own
    // name for the auth mount parameter.
    let Some(d) = [
        crate::model::Distribution::Vault,
        crate::model::Distribution::Openbao,
    ]
    .into_iter()
    .find(|d| d.csi_provider() == spec.provider) else {
        return Err(problem!(
            "provider `{}` is not `vault` or `openbao`",
            spec.provider
        ));
    };
    let mount = d.csi_mount_parameter();
    let namespace_parameter = d.csi_namespace_parameter();
    let parameters = [
        "roleName",
        mount,
        "audience",
        "objects",
        namespace_parameter,
    ];
    // The provider's own connection to Vault: set in a class, it overrides the chart's
    // VAULT_ADDR (the CSI agent's socket) and bypasses the agent's cache and renewal.
    const BYPASS: [&str; 6] = [
        "vaultAddress",
        "vaultCACertPath",
        "vaultSkipTLSVerify",
        "openbaoAddress",
        "openbaoCACertPath",
        "openbaoSkipTLSVerify",
    ];
    for k in spec.parameters.keys() {
        if BYPASS.contains(&k.as_str()) {
            return Err(problem!(
                "parameter `{k}` would make the provider talk to Vault itself, not through the Vault chart's CSI agent"
            ));
        }
        if !parameters.contains(&k.as_str()) {
            return Err(problem!(
                "unknown parameter `{k}` of the Vault CSI provider"
            ));
        }
    }
    for required in ["roleName", mount, "objects"] {
        if !spec.parameters.contains_key(required) {
            return Err(problem!("parameter `{required}` is missing"));
        }
    }
    let objects: Vec<CsiVaultObject> =
        crate::yaml::from_str(&spec.parameters["objects"]).map_err(|e| {
            format!("parameter `objects` does not parse as the provider's objects: {e}")
        })?;
    if objects.is_empty() {
        return Err("parameter `objects` lists nothing".into());
    }
    let names: BTreeSet<&str> = objects.iter().map(|o| o.object_name.as_str()).collect();
    if names.len() != objects.len() {
        return Err("two objects have the same objectName (the same file)".into());
    }
    for so in spec.secret_objects.iter().flatten() {
        for d in &so.data {
            if !names.contains(d.object_name.as_str()) {
                return Err(problem!(
                    "secretObjects {} maps objectName `{}`, which `objects` does not list",
                    so.secret_name,
                    d.object_name
                ));
            }
        }
    }
    Ok(())
}

fn check_destination(d: &Destination) -> Result<(), Problem> {
    if !d.create {
        return Err("destination.create must be true: VSO should own the Secret it writes".into());
    }
    Ok(())
}
