//! Rendering: model → documents → [`Tree`]. Pure: no I/O.
//!
//! The layout follows the widely copied Flux repository layout:
//!
//! ```text
//! clusters/<cluster>/                     Flux Kustomization objects only (no kustomization.yaml)
//! infrastructure/<cluster>/vault/         Namespace, HelmRepository, HelmRelease (Vault)
//! infrastructure/<cluster>/vault-secrets-operator/  Namespace, HelmRelease (VSO and its CRDs)
//! infrastructure/<cluster>/vault-{external-secrets,csi-driver}/  the consumers' controllers
//! apps/<cluster>/_<stage>/                each apps stage: its consumer's app folders
//! apps/<cluster>/<namespace>/<app>/       one folder per app
//! vault-config/<cluster>/                 policies/*.hcl and configure.sh, for review; never applied by Flux
//! ```
//!
//! The stages (one Flux Kustomization each) are the model's ([`crate::model::stages`]).

mod apps;
mod argocd;
mod auth;
mod backup;
pub mod consumers;
pub mod dashboard;
pub mod monitoring;
mod operator;
mod pipelines;
mod server_config;
mod stages;
pub mod templates;
mod values;

use crate::header;
use crate::kinds;
use crate::model::{self, Stack};
use crate::spec::types::GitopsEngine;
use crate::tree::{ObjectRef, Tree};
use crate::vault::side::VaultSide;
use crate::versions;
use apps::render_app;
use auth::{cert_manager_issuer, token_review};
use k8s_openapi::api::core::v1::Namespace;
use kube_core::Resource;
use minijinja::Value;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{json, Value as Json};
pub use templates::Templates;

/// Why the tree could not be rendered: a template (or a `--templates` override) that does not
/// compile or render, or a value that does not serialize. A bug, or a bad override.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// An override's file name is no template's.
    #[error("template override `{name}` does not replace any template; the names are: {}", known.join(", "))]
    UnknownOverride { name: String, known: Vec<String> },
    /// A template does not compile or render (minijinja's message, with its causes).
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    /// A generated value does not serialize to YAML.
    #[error("{0}")]
    Yaml(String),
    /// The model holds what the renderer cannot write (what validation should have refused).
    #[error("{0}")]
    Model(String),
}

impl RenderError {
    fn template(name: &str, e: &minijinja::Error) -> Self {
        RenderError::Template {
            name: name.to_string(),
            message: format!("{e:#}"),
        }
    }
}

/// A render failure that reaches the binary is a bug in the tool (or in a `--templates`
/// override).
impl From<RenderError> for crate::error::Error {
    fn from(e: RenderError) -> Self {
        crate::error::Error::bug(format!("rendering failed: {e}"))
    }
}
pub use values::deep_merge;
use values::{vault_server_context, vault_values};

/// One rendered file and the template it came from (for self-check messages).
#[derive(Debug, Clone)]
pub struct RenderedFile {
    pub path: String,
    pub template: String,
    /// The body, without the header.
    pub body: String,
    /// The object it holds, if any (a kustomization.yaml, a policy or a script holds none).
    pub object: Option<ObjectRef>,
    /// Written alike for several clusters (a central Argo CD's `argocd-cm` patch): its header
    /// names no cluster, so any of them may replace it.
    pub shared: bool,
}

/// Everything `generate` writes, before headers are added.
#[derive(Debug, Default)]
pub struct Rendered {
    pub files: Vec<RenderedFile>,
    /// What the tree refers to and the cluster provides: the user's Flux Kustomizations its
    /// stages depend on (`externalSecrets.dependsOn`, `csiDriver.dependsOn`) and, with
    /// `gitops.createNamespaces: false`, the app namespaces.
    pub external: Vec<ObjectRef>,
}

impl Rendered {
    /// The tree: every file with its header.
    pub fn to_tree(&self, cluster: &str) -> Tree {
        let mut tree = Tree::default();
        for f in &self.files {
            let shebang = crate::tree::is_script(&f.path).then_some("#!/usr/bin/env bash");
            let owner = if f.shared { None } else { Some(cluster) };
            tree.insert(f.path.clone(), header::stamp_for(&f.body, owner, shebang));
            if let Some(object) = &f.object {
                tree.objects.insert(f.path.clone(), object.clone());
            }
        }
        tree
    }
}

struct Renderer<'a> {
    templates: &'a Templates,
    out: Rendered,
}

/// The object of kind `K` (from the typed kinds) named `name` in `namespace` ("" if none).
fn of<K: Resource<DynamicType = ()>>(namespace: &str, name: &str) -> ObjectRef {
    ObjectRef::new(&K::kind(&()), namespace, name)
}

impl Renderer<'_> {
    /// A file that holds no object.
    fn file(&mut self, path: String, template: &str, ctx: Value) -> Result<(), RenderError> {
        self.render(path, template, ctx, None)
    }

    /// A file that holds `object` (the first, when the template writes several).
    fn object(
        &mut self,
        object: ObjectRef,
        path: String,
        template: &str,
        ctx: Value,
    ) -> Result<(), RenderError> {
        self.render(path, template, ctx, Some(object))
    }

    /// A Certificate from the ClusterIssuer that signs Vault's own: its Secret's ca.crt is the
    /// CA of Vault's certificate, carried into `namespace` through Git alone.
    fn ca_carrier(
        &mut self,
        namespace: &str,
        carrier: &str,
        issuer: &str,
        path: String,
    ) -> Result<(), RenderError> {
        self.object(
            of::<kinds::Certificate>(namespace, carrier),
            path,
            "core/certificate.yaml.j2",
            Value::from_serialize(CertificateContext {
                name: carrier,
                namespace,
                secret_name: carrier,
                common_name: format!("{}-ca-carrier", model::VAULT_RELEASE),
                dns_names: vec![],
                ip_addresses: vec![],
                issuer,
                duration: None,
                renew_before: None,
            }),
        )
    }

    fn render(
        &mut self,
        path: String,
        template: &str,
        ctx: Value,
        object: Option<ObjectRef>,
    ) -> Result<(), RenderError> {
        let body = self.templates.render(template, ctx)?;
        self.out.files.push(RenderedFile {
            path,
            template: template.to_string(),
            body,
            object,
            shared: false,
        });
        Ok(())
    }

    fn raw(&mut self, path: String, what: &str, body: String) {
        self.out.files.push(RenderedFile {
            path,
            template: what.to_string(),
            body,
            object: None,
            shared: false,
        });
    }

    /// A kustomization.yaml listing exactly `resources` (files and sub-folders of `dir`).
    fn kustomization(&mut self, dir: &str, resources: Vec<String>) -> Result<(), RenderError> {
        self.file(
            format!("{dir}/kustomization.yaml"),
            "kustomize/kustomization.yaml.j2",
            Value::from_serialize(KustomizeContext { resources }),
        )
    }
}

// ---------- template contexts: one type per template, the names it reads ----------

/// `kustomize/kustomization.yaml.j2`
#[derive(Serialize)]
struct KustomizeContext {
    resources: Vec<String>,
}

/// `flux/kustomization.yaml.j2`
#[derive(Serialize)]
struct FluxKustomizationContext<'a> {
    name: &'a str,
    namespace: &'a str,
    interval: &'a str,
    path: &'a str,
    source_ref: &'a str,
    depends_on: Vec<stages::DependsOnContext<'a>>,
    retry_interval: &'a str,
    /// `wait: true`: Ready only once everything it applied is healthy.
    wait: bool,
    /// Flux CEL health checks for the versions in use (see [`crate::versions`]): an apps
    /// stage is Ready only once its consumer has synced every secret of the current
    /// generation, and Failed at once where that version reports a failed sync.
    health_check_exprs: Vec<versions::HealthCheck>,
}

/// `core/namespace.yaml.j2`
#[derive(Serialize)]
struct NamespaceContext<'a> {
    name: &'a str,
    annotations: Json,
}

impl NamespaceContext<'_> {
    /// A namespace Flux keeps when it leaves the tree.
    fn kept(name: &str) -> Value {
        Value::from_serialize(NamespaceContext {
            name,
            annotations: keep_on_prune(),
        })
    }
}

/// `flux/helmrepository.yaml.j2`
#[derive(Serialize)]
struct HelmRepositoryContext<'a> {
    name: &'a str,
    namespace: &'a str,
    interval: &'a str,
    url: &'a str,
}

impl HelmRepositoryContext<'_> {
    fn of(name: &str, url: &str) -> Value {
        Value::from_serialize(HelmRepositoryContext {
            name,
            namespace: model::FLUX_NAMESPACE,
            interval: "24h",
            url,
        })
    }
}

/// `core/certificate.yaml.j2`
#[derive(Serialize)]
struct CertificateContext<'a> {
    name: &'a str,
    namespace: &'a str,
    secret_name: &'a str,
    common_name: String,
    dns_names: Vec<String>,
    ip_addresses: Vec<&'a str>,
    issuer: &'a str,
    duration: Option<&'a str>,
    renew_before: Option<&'a str>,
}

#[derive(Serialize)]
struct NamedRef<'a> {
    name: &'a str,
    namespace: &'a str,
}

/// `flux/helmrelease.yaml.j2`
#[derive(Serialize)]
struct HelmReleaseContext<'a> {
    name: &'a str,
    namespace: &'a str,
    release_name: &'a str,
    interval: &'a str,
    chart: &'a str,
    version: &'a str,
    repository: NamedRef<'a>,
    crds: bool,
    disable_wait: bool,
    annotations: Json,
    values: Json,
}

/// `vso/vaultconnection.yaml.j2`
#[derive(Serialize)]
struct VaultConnectionContext<'a> {
    name: &'a str,
    namespace: &'a str,
    address: &'a str,
    skip_tls_verify: bool,
    ca_cert_secret: Option<&'a str>,
}

/// Renders the whole tree for `stack`. An error here is a template bug (or a bad override).
pub fn render(
    stack: &Stack,
    vault: &VaultSide,
    templates: &Templates,
) -> Result<Rendered, RenderError> {
    let mut r = Renderer {
        templates,
        out: Rendered::default(),
    };
    let p = &stack.flux.paths;

    // A cluster that runs no Vault (`vault.deploy: false`) has no Vault stage (see
    // `model::stages`): the operator comes first, and reaches the Vault at its address.
    let deploy = stack.vault.deploy;
    // infrastructure/vault/ (only where Vault runs)
    let vault_repo = stack.vault.distribution.helm_repository_name();
    if deploy {
        render_vault(&mut r, stack, vault, vault_repo)?;
    }

    // infrastructure/vault-secrets-operator/ (only where the tree installs VSO)
    if let Some(chart) = &stack.operator.chart {
        operator::render_operator(&mut r, stack, vault, vault_repo, chart)?;
    }

    // The controllers the consumers need, when the tree installs them.
    consumers::render_external_secrets(&mut r, stack)?;
    consumers::render_csi_driver(&mut r, stack)?;

    // apps/<cluster>/: the namespaces stage, each apps stage's folder, cert-manager's issuer,
    // then one folder per app (`<namespace>/<app>/`).
    stages::namespaces(&mut r, stack)?;
    stages::app_stages(&mut r, stack)?;
    if let Some(stage) = stages::stage_of(stack, model::StageKind::CertManager) {
        let files = cert_manager_issuer(&mut r, stack, &stage.path)?;
        r.kustomization(&stage.path, files)?;
    }
    // Apps are independent: render them in parallel (thousands of files for big specs).
    let app_files: Vec<Result<Vec<RenderedFile>, RenderError>> = stack
        .apps
        .par_iter()
        .map(|app| {
            let mut ar = Renderer {
                templates,
                out: Rendered::default(),
            };
            render_app(
                &mut ar,
                stack,
                app,
                &format!("{}/{}/{}", p.apps, app.namespace, app.name),
            )?;
            Ok(ar.out.files)
        })
        .collect();
    for files in app_files {
        r.out.files.extend(files?);
    }

    // vault-config/<cluster>/: the Vault side, for review.
    for policy in &vault.policies {
        r.raw(
            format!("{}/policies/{}.hcl", p.vault_config, policy.name),
            "policy (vault_side::Policy::hcl)",
            policy.hcl(),
        );
    }
    r.file(
        format!("{}/configure.sh", p.vault_config),
        "vault/configure.sh.j2",
        Value::from_serialize(script_context(stack, vault)),
    )?;
    pipelines::snippets(&mut r, stack, &p.vault_config)?;
    dashboard::audit_shipping(&mut r, stack, &p.vault_config)?;

    // The one place the engine is chosen: what wraps the objects rendered above (and
    // clusters/<cluster>/): a Flux Kustomization per stage, or Argo CD Applications.
    match stack.flux.engine {
        GitopsEngine::Flux => stages::flux_kustomizations(&mut r, stack)?,
        GitopsEngine::Argocd => argocd::wrap(&mut r, stack)?,
    }
    r.out.files.sort_by(|a, b| a.path.cmp(&b.path));
    let ours: Vec<&str> = stack.flux.stages.iter().map(|s| s.name.as_str()).collect();
    let mut external: Vec<ObjectRef> = stack
        .flux
        .stages
        .iter()
        .flat_map(|s| &s.depends_on)
        .filter(|d| d.namespace != model::FLUX_NAMESPACE || !ours.contains(&d.name.as_str()))
        .map(|d| of::<kinds::Kustomization>(&d.namespace, &d.name))
        .collect();
    if !stack.flux.create_namespaces {
        // The apps' own Kustomizations (or the platform's) declare their namespaces.
        let mut infra = vec![&stack.vault.namespace];
        if stack.operator.installed() {
            infra.push(&stack.operator.namespace);
        }
        let issuer = stack
            .cert_manager
            .as_ref()
            .map(|c| &c.service_account_namespace);
        external.extend(
            stack
                .apps
                .iter()
                .map(|a| &a.namespace)
                .chain(issuer)
                .filter(|ns| !infra.contains(ns))
                .map(|ns| of::<Namespace>("", ns)),
        );
    }
    if stack.flux.engine == GitopsEngine::Argocd {
        // The Applications live in Argo CD's namespace.
        external.push(of::<Namespace>("", &stack.flux.argocd.namespace));
    }
    external.sort();
    external.dedup();
    r.out.external = external;
    Ok(r.out)
}

/// `infrastructure/<cluster>/vault/`: Vault's namespace, chart repository, certificate,
/// HelmRelease and token reviewer, in a cluster that runs Vault.
fn render_vault(
    r: &mut Renderer,
    stack: &Stack,
    vault: &VaultSide,
    vault_repo: &str,
) -> Result<(), RenderError> {
    let p = &stack.flux.paths;
    let flux = &stack.flux;
    let templates = r.templates;
    let mut files = vec![];
    r.object(
        of::<Namespace>("", &stack.vault.namespace),
        format!("{}/namespace.yaml", p.vault),
        "core/namespace.yaml.j2",
        NamespaceContext::kept(&stack.vault.namespace),
    )?;
    files.push("namespace.yaml".to_string());
    r.object(
        of::<kinds::HelmRepository>(model::FLUX_NAMESPACE, vault_repo),
        format!("{}/helmrepository.yaml", p.vault),
        "flux/helmrepository.yaml.j2",
        HelmRepositoryContext::of(vault_repo, &stack.vault.chart_repository),
    )?;
    files.push("helmrepository.yaml".to_string());
    if let (Some(issuer), Some(secret)) = (&stack.vault.tls_issuer, &stack.vault.tls_secret) {
        // Every name the generated addresses use: the services, the pods (raft), localhost.
        r.object(
            of::<kinds::Certificate>(&stack.vault.namespace, secret),
            format!("{}/certificate.yaml", p.vault),
            "core/certificate.yaml.j2",
            Value::from_serialize(CertificateContext {
                name: secret,
                namespace: &stack.vault.namespace,
                secret_name: secret,
                common_name: format!("{}.{}.svc", stack.vault.release(), stack.vault.namespace),
                dns_names: stack.vault.certificate_names(),
                ip_addresses: vec!["127.0.0.1"],
                issuer,
                duration: Some(&stack.vault.tls_duration),
                renew_before: Some(&stack.vault.tls_renew_before),
            }),
        )?;
        files.push("certificate.yaml".to_string());
    }
    let server_hcl = templates.render(
        "vault/server.hcl.j2",
        Value::from_serialize(vault_server_context(stack)),
    )?;
    let reload_script = templates.render("vault/tls-reload.sh.j2", Value::UNDEFINED)?;
    r.object(
        of::<kinds::HelmRelease>(&stack.vault.namespace, stack.vault.release()),
        format!("{}/helmrelease.yaml", p.vault),
        "flux/helmrelease.yaml.j2",
        Value::from_serialize(HelmReleaseContext {
            name: stack.vault.release(),
            namespace: &stack.vault.namespace,
            release_name: stack.vault.release(),
            interval: &flux.interval,
            chart: stack.vault.distribution.chart(),
            version: &stack.vault.chart_version,
            repository: NamedRef {
                name: vault_repo,
                namespace: model::FLUX_NAMESPACE,
            },
            // The Vault chart ships no CRDs; its raft data must outlive a prune.
            crds: false,
            // Vault's pods are Ready only once initialized and unsealed, a step after the
            // install: Helm waiting for them would fail the install and roll it back.
            disable_wait: true,
            annotations: keep_on_prune(),
            values: vault_values(stack, &server_hcl, &reload_script),
        }),
    )?;
    files.push("helmrelease.yaml".to_string());
    files.extend(token_review(r, stack, vault, &p.vault)?);
    if let Some(b) = &stack.backup {
        files.extend(backup::render_backup(r, stack, b, &p.vault)?);
    }
    files.extend(monitoring::vault(r, stack, &p.vault)?);
    files.extend(dashboard::render(r, stack, &p.vault)?);
    r.kustomization(&p.vault, files)?;
    Ok(())
}

/// The `vault` CLI script for the Vault side (also what `configure --script` prints).
pub fn configure_script(
    stack: &Stack,
    vault: &VaultSide,
    templates: &Templates,
) -> Result<String, RenderError> {
    templates.render(
        "vault/configure.sh.j2",
        Value::from_serialize(script_context(stack, vault)),
    )
}

/// How soon Flux retries a Kustomization whose apply or health check failed (instead of
/// waiting a whole `interval`), e.g. once Vault is unsealed and configured.
pub const RETRY_INTERVAL: &str = "2m";

/// `kustomize.toolkit.fluxcd.io/prune: disabled`: Flux leaves the object in the cluster when it
/// leaves the tree (a Namespace with the user's workloads, Vault and its raft volumes).
fn keep_on_prune() -> Json {
    json!({"kustomize.toolkit.fluxcd.io/prune": "disabled"})
}

fn script_context<'a>(
    stack: &'a Stack,
    vault: &'a VaultSide,
) -> crate::vault::side::ScriptContext<'a> {
    crate::vault::side::script_context(stack, vault)
}
