//! Rendering: model → documents → [`Tree`]. Pure: no I/O.
//!
//! The layout follows the widely copied Flux repository layout:
//!
//! ```text
//! clusters/<cluster>/                     Flux Kustomization objects only (no kustomization.yaml)
//! infrastructure/vault/                   Namespace, HelmRepository, HelmRelease (Vault)
//! infrastructure/vault-secrets-operator/  Namespace, HelmRelease (VSO and its CRDs)
//! apps/                                   VaultConnection, then apps/<namespace>/<app>/
//! vault-config/<cluster>/                 policies/*.hcl and configure.sh, for review; never applied by Flux
//! ```

pub mod consumers;
pub mod templates;

use crate::header;
use crate::kinds;
use crate::model::{self, App, DeclaredSecret, Source, Stack};
use crate::tree::{ObjectRef, Tree};
use crate::vault_side::VaultSide;
use crate::versions;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube_core::Resource;
use minijinja::Value;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{json, Value as Json};
use std::collections::{BTreeMap, BTreeSet};
pub use templates::Templates;

/// One rendered file and the template it came from (for self-check messages).
#[derive(Debug, Clone)]
pub struct RenderedFile {
    pub path: String,
    pub template: String,
    /// The body, without the header.
    pub body: String,
    /// The object it holds, if any (a kustomization.yaml, a policy or a script holds none).
    pub object: Option<ObjectRef>,
}

/// Everything `generate` writes, before headers are added.
#[derive(Debug, Default)]
pub struct Rendered {
    pub files: Vec<RenderedFile>,
}

impl Rendered {
    /// The tree: every file with its header.
    pub fn to_tree(&self, spec_file: &str, cluster: &str) -> Tree {
        let mut tree = Tree::default();
        for f in &self.files {
            let shebang = crate::tree::is_script(&f.path).then_some("#!/usr/bin/env bash");
            tree.insert(
                f.path.clone(),
                header::stamp(&f.body, spec_file, cluster, shebang),
            );
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
    fn file(&mut self, path: String, template: &str, ctx: Value) -> Result<(), String> {
        self.render(path, template, ctx, None)
    }

    /// A file that holds `object` (the first, when the template writes several).
    fn object(
        &mut self,
        object: ObjectRef,
        path: String,
        template: &str,
        ctx: Value,
    ) -> Result<(), String> {
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
    ) -> Result<(), String> {
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
            }),
        )
    }

    fn render(
        &mut self,
        path: String,
        template: &str,
        ctx: Value,
        object: Option<ObjectRef>,
    ) -> Result<(), String> {
        let body = self.templates.render(template, ctx)?;
        self.out.files.push(RenderedFile {
            path,
            template: template.to_string(),
            body,
            object,
        });
        Ok(())
    }

    fn raw(&mut self, path: String, what: &str, body: String) {
        self.out.files.push(RenderedFile {
            path,
            template: what.to_string(),
            body,
            object: None,
        });
    }

    /// A kustomization.yaml listing exactly `resources` (files and sub-folders of `dir`).
    fn kustomization(&mut self, dir: &str, resources: Vec<String>) -> Result<(), String> {
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
    depends_on: Vec<&'a String>,
    retry_interval: &'a str,
    /// Flux CEL health checks for the VSO version in use (see [`crate::versions`]): the
    /// apps stage is Ready only once VSO has synced every secret of the current generation,
    /// and Failed at once where that version reports a failed sync.
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

/// `core/serviceaccount.yaml.j2`
#[derive(Serialize)]
struct ServiceAccountContext<'a> {
    name: &'a str,
    namespace: &'a str,
    app: &'a str,
}

/// `vso/vaultauth.yaml.j2`
#[derive(Serialize)]
struct VaultAuthContext<'a> {
    name: &'a str,
    namespace: &'a str,
    app: &'a str,
    vault_connection_ref: String,
    mount: &'a str,
    role: &'a str,
    service_account: &'a str,
    audiences: &'a [String],
}

/// Renders the whole tree for `stack`. An error here is a template bug (or a bad override).
pub fn render(stack: &Stack, vault: &VaultSide, templates: &Templates) -> Result<Rendered, String> {
    let mut r = Renderer {
        templates,
        out: Rendered::default(),
    };
    let p = &stack.flux.paths;
    let flux = &stack.flux;

    // clusters/<cluster>/: the three Flux Kustomizations, in dependency order (and the
    // consumers' controllers beside the operator, when an app uses them).
    let consumers = consumers::render_infrastructure(&mut r, stack)?;
    if consumers {
        r.object(
            of::<kinds::Kustomization>(model::FLUX_NAMESPACE, &flux.consumers_kustomization),
            format!("{}/{}.yaml", p.cluster, flux.consumers_kustomization),
            "flux/kustomization.yaml.j2",
            Value::from_serialize(FluxKustomizationContext {
                name: &flux.consumers_kustomization,
                namespace: model::FLUX_NAMESPACE,
                interval: &flux.interval,
                path: &p.consumers,
                source_ref: &flux.source_ref,
                depends_on: vec![&flux.vault_kustomization],
                retry_interval: RETRY_INTERVAL,
                health_check_exprs: vec![],
            }),
        )?;
    }
    let stages = [
        (&flux.vault_kustomization, &p.vault, None, false),
        (
            &flux.operator_kustomization,
            &p.operator,
            Some(&flux.vault_kustomization),
            false,
        ),
        (
            &flux.apps_kustomization,
            &p.apps,
            Some(&flux.operator_kustomization),
            true,
        ),
    ];
    for (name, path, depends_on, health) in stages {
        let mut depends_on: Vec<&String> = depends_on.into_iter().collect();
        if health && consumers {
            depends_on.push(&flux.consumers_kustomization);
        }
        r.object(
            of::<kinds::Kustomization>(model::FLUX_NAMESPACE, name),
            format!("{}/{name}.yaml", p.cluster),
            "flux/kustomization.yaml.j2",
            Value::from_serialize(FluxKustomizationContext {
                name,
                namespace: model::FLUX_NAMESPACE,
                interval: &flux.interval,
                path,
                source_ref: &flux.source_ref,
                depends_on,
                retry_interval: RETRY_INTERVAL,
                health_check_exprs: if health {
                    versions::health_checks(stack.operator.vso)
                } else {
                    vec![]
                },
            }),
        )?;
    }

    // infrastructure/vault/
    let vault_repo = "hashicorp";
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
                common_name: format!("{}.{}.svc", model::VAULT_RELEASE, stack.vault.namespace),
                dns_names: stack.vault.certificate_names(),
                ip_addresses: vec!["127.0.0.1"],
                issuer,
            }),
        )?;
        files.push("certificate.yaml".to_string());
    }
    let server_hcl = templates.render(
        "vault/server.hcl.j2",
        Value::from_serialize(vault_server_context(stack)),
    )?;
    r.object(
        of::<kinds::HelmRelease>(&stack.vault.namespace, model::VAULT_RELEASE),
        format!("{}/helmrelease.yaml", p.vault),
        "flux/helmrelease.yaml.j2",
        Value::from_serialize(HelmReleaseContext {
            name: model::VAULT_RELEASE,
            namespace: &stack.vault.namespace,
            release_name: model::VAULT_RELEASE,
            interval: &flux.interval,
            chart: "vault",
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
            values: vault_values(stack, &server_hcl),
        }),
    )?;
    files.push("helmrelease.yaml".to_string());
    files.extend(token_review(&mut r, stack, vault, &p.vault)?);
    r.kustomization(&p.vault, files)?;

    // infrastructure/vault-secrets-operator/
    let mut files = vec![];
    if stack.operator.namespace != stack.vault.namespace {
        r.object(
            of::<Namespace>("", &stack.operator.namespace),
            format!("{}/namespace.yaml", p.operator),
            "core/namespace.yaml.j2",
            NamespaceContext::kept(&stack.operator.namespace),
        )?;
        files.push("namespace.yaml".to_string());
    }
    if let (Some(issuer), Some(carrier)) = (&stack.vault.tls_issuer, &stack.operator.ca_cert_secret)
    {
        if carrier == model::CA_CARRIER_SECRET {
            // Issued by the same ClusterIssuer, so its Secret's ca.crt is the CA that signed
            // Vault's certificate: the CA reaches the operator namespace through Git alone.
            r.ca_carrier(
                &stack.operator.namespace,
                carrier,
                issuer,
                format!("{}/vault-ca.yaml", p.operator),
            )?;
            files.push("vault-ca.yaml".to_string());
        }
    }
    let operator_repo = if stack.operator.chart_repository == stack.vault.chart_repository {
        vault_repo.to_string()
    } else {
        r.object(
            of::<kinds::HelmRepository>(model::FLUX_NAMESPACE, model::OPERATOR_RELEASE),
            format!("{}/helmrepository.yaml", p.operator),
            "flux/helmrepository.yaml.j2",
            HelmRepositoryContext::of(model::OPERATOR_RELEASE, &stack.operator.chart_repository),
        )?;
        files.push("helmrepository.yaml".to_string());
        model::OPERATOR_RELEASE.to_string()
    };
    r.object(
        of::<kinds::HelmRelease>(&stack.operator.namespace, model::OPERATOR_RELEASE),
        format!("{}/helmrelease.yaml", p.operator),
        "flux/helmrelease.yaml.j2",
        Value::from_serialize(HelmReleaseContext {
            name: model::OPERATOR_RELEASE,
            namespace: &stack.operator.namespace,
            release_name: model::OPERATOR_RELEASE,
            interval: &flux.interval,
            chart: "vault-secrets-operator",
            version: &stack.operator.chart_version,
            repository: NamedRef {
                name: &operator_repo,
                namespace: model::FLUX_NAMESPACE,
            },
            crds: true,
            disable_wait: false,
            annotations: json!({}),
            values: operator_values(stack),
        }),
    )?;
    files.push("helmrelease.yaml".to_string());
    r.kustomization(&p.operator, files)?;

    // apps/: the VaultConnection, then one folder per namespace, one per app.
    let mut top = vec!["vault-connection.yaml".to_string()];
    r.object(
        of::<kinds::VaultConnection>(&stack.operator.namespace, model::VAULT_CONNECTION),
        format!("{}/vault-connection.yaml", p.apps),
        "vso/vaultconnection.yaml.j2",
        Value::from_serialize(VaultConnectionContext {
            name: model::VAULT_CONNECTION,
            namespace: &stack.operator.namespace,
            address: &stack.operator.address,
            skip_tls_verify: stack.operator.skip_tls_verify,
            ca_cert_secret: stack.operator.ca_cert_secret.as_deref(),
        }),
    )?;
    let mut by_namespace: BTreeMap<&str, Vec<&App>> = BTreeMap::new();
    for app in &stack.apps {
        by_namespace.entry(&app.namespace).or_default().push(app);
    }
    let infra_namespaces: BTreeSet<&str> = [
        stack.vault.namespace.as_str(),
        stack.operator.namespace.as_str(),
    ]
    .into();
    let carriers = consumers::ca_carriers(stack);
    for (ns, apps) in &by_namespace {
        let ns_dir = format!("{}/{ns}", p.apps);
        let mut ns_files = vec![];
        if !infra_namespaces.contains(ns) {
            // Kept when the last app of the namespace goes: the user's workloads live there.
            r.object(
                of::<Namespace>("", ns),
                format!("{ns_dir}/namespace.yaml"),
                "core/namespace.yaml.j2",
                NamespaceContext::kept(ns),
            )?;
            ns_files.push("namespace.yaml".to_string());
        }
        if let (Some(carrier), Some(issuer)) = (carriers.get(ns), &stack.vault.tls_issuer) {
            // Vault's CA for the agents and ESO stores of this namespace, as in the operator's.
            r.ca_carrier(ns, carrier, issuer, format!("{ns_dir}/{carrier}.yaml"))?;
            ns_files.push(format!("{carrier}.yaml"));
        }
        let mut sorted = apps.clone();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        for app in sorted {
            ns_files.push(app.name.clone());
        }
        r.kustomization(&ns_dir, ns_files)?;
        top.push(ns.to_string());
    }
    top.extend(cert_manager_issuer(&mut r, stack, &p.apps)?);
    r.kustomization(&p.apps, top)?;
    // Apps are independent: render them in parallel (thousands of files for big specs).
    let app_files: Vec<Result<Vec<RenderedFile>, String>> = stack
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

    r.out.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(r.out)
}

/// The `vault` CLI script for the Vault side (also what `configure --script` prints).
pub fn configure_script(
    stack: &Stack,
    vault: &VaultSide,
    templates: &Templates,
) -> Result<String, String> {
    templates.render(
        "vault/configure.sh.j2",
        Value::from_serialize(script_context(stack, vault)),
    )
}

fn render_app(r: &mut Renderer, stack: &Stack, app: &App, dir: &str) -> Result<(), String> {
    let mut files = vec![];
    if app.create_service_account {
        r.object(
            of::<ServiceAccount>(&app.namespace, &app.service_account),
            format!("{dir}/serviceaccount.yaml"),
            "core/serviceaccount.yaml.j2",
            Value::from_serialize(ServiceAccountContext {
                name: &app.service_account,
                namespace: &app.namespace,
                app: &app.name,
            }),
        )?;
        files.push("serviceaccount.yaml".to_string());
    }
    if app.consumer != model::Consumer::Operator {
        files.extend(consumers::render_app(r, stack, app, dir)?);
        return r.kustomization(dir, files);
    }
    r.object(
        of::<kinds::VaultAuth>(&app.namespace, &app.vault_auth),
        format!("{dir}/vaultauth.yaml"),
        "vso/vaultauth.yaml.j2",
        Value::from_serialize(VaultAuthContext {
            name: &app.vault_auth,
            namespace: &app.namespace,
            app: &app.name,
            vault_connection_ref: format!(
                "{}/{}",
                stack.operator.namespace,
                model::VAULT_CONNECTION
            ),
            mount: &stack.auth_mount,
            role: &app.role,
            service_account: &app.service_account,
            audiences: &app.audiences,
        }),
    )?;
    files.push("vaultauth.yaml".to_string());
    for s in &app.secrets {
        let kind = s.source.kind();
        let file = format!("{}-{}.yaml", kind.kind().to_lowercase(), s.name);
        let template = format!("vso/{}.yaml.j2", kind.kind().to_lowercase());
        r.object(
            ObjectRef::new(kind.kind(), &s.namespace, &s.name),
            format!("{dir}/{file}"),
            &template,
            Value::from_serialize(SecretFileContext {
                secret: secret_context(app, s),
            }),
        )?;
        files.push(file);
    }
    r.kustomization(dir, files)
}

/// `vso/vault*secret.yaml.j2` (and `vso/_destination.j2`): `secret`.
#[derive(Serialize)]
struct SecretFileContext<'a> {
    secret: SecretContext<'a>,
}

#[derive(Serialize)]
struct SecretContext<'a> {
    name: &'a str,
    namespace: &'a str,
    app: &'a str,
    vault_auth: &'a str,
    mount: &'a str,
    path: String,
    refresh_after: Option<&'a str>,
    #[serde(rename = "type")]
    secret_type: Option<&'a str>,
    labels: &'a BTreeMap<String, String>,
    annotations: &'a BTreeMap<String, String>,
    rollout: Vec<RolloutContext<'a>>,
    params: BTreeMap<&'a str, &'a str>,
    /// A KV secret's `kv-v1` or `kv-v2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    kv_type: Option<String>,
    #[serde(flatten)]
    pki: Option<PkiContext<'a>>,
    /// `destination.overwrite: true`: VSO adopts an existing Secret.
    overwrite: bool,
}

#[derive(Serialize)]
struct RolloutContext<'a> {
    kind: &'a str,
    name: &'a str,
}

/// A PKI secret's certificate.
#[derive(Serialize)]
struct PkiContext<'a> {
    role: &'a str,
    common_name: &'a str,
    alt_names: &'a [String],
    ttl: Option<&'a str>,
    expiry_offset: Option<&'a str>,
}

fn secret_context<'a>(app: &'a App, s: &'a DeclaredSecret) -> SecretContext<'a> {
    let mut c = SecretContext {
        name: &s.name,
        namespace: &s.namespace,
        app: &app.name,
        vault_auth: &app.vault_auth,
        mount: s.source.mount(),
        path: s.source.cr_path(),
        refresh_after: s.refresh_after.as_deref(),
        secret_type: s.secret_type.as_deref(),
        labels: &s.labels,
        annotations: &s.annotations,
        rollout: s
            .rollout
            .iter()
            .map(|t| RolloutContext {
                kind: &t.kind,
                name: &t.name,
            })
            .collect(),
        params: BTreeMap::new(),
        kv_type: None,
        pki: None,
        overwrite: s.adopt,
    };
    match &s.source {
        Source::Kv { version, .. } => c.kv_type = Some(format!("kv-v{version}")),
        Source::Dynamic { params, .. } => {
            c.params = params
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
        }
        Source::Pki { role, .. } => {
            c.pki = s.pki.as_ref().map(|pki| PkiContext {
                role,
                common_name: &pki.common_name,
                alt_names: &pki.alt_names,
                ttl: pki.ttl.as_deref(),
                expiry_offset: pki.expiry_offset.as_deref(),
            });
            // A certificate is always a TLS Secret.
            c.secret_type = Some("kubernetes.io/tls");
        }
        Source::Database { .. } => {}
    }
    c
}

/// How soon Flux retries a Kustomization whose apply or health check failed (instead of
/// waiting a whole `interval`), e.g. once Vault is unsealed and configured.
pub const RETRY_INTERVAL: &str = "2m";

/// `kustomize.toolkit.fluxcd.io/prune: disabled`: Flux leaves the object in the cluster when it
/// leaves the tree (a Namespace with the user's workloads, Vault and its raft volumes).
fn keep_on_prune() -> Json {
    json!({"kustomize.toolkit.fluxcd.io/prune": "disabled"})
}

/// `vault/server.hcl.j2`
#[derive(Serialize)]
struct VaultServerContext<'a> {
    ui: bool,
    tls_secret: Option<&'a str>,
    ha: bool,
    peers: Vec<String>,
    seal: Option<SealContext<'a>>,
}

/// An auto-unseal `seal` stanza.
#[derive(Serialize)]
struct SealContext<'a> {
    kind: &'a str,
    attributes: &'a [(String, String)],
}

fn vault_server_context(stack: &Stack) -> VaultServerContext<'_> {
    let v = &stack.vault;
    // A single node has no peer to join; it is still raft, so that scaling up keeps the data.
    let peers: Vec<String> = (0..if v.ha() { v.replicas } else { 0 })
        .map(|i| {
            format!(
                "{}://{}-{i}.{}-internal:8200",
                v.scheme(),
                model::VAULT_RELEASE,
                model::VAULT_RELEASE
            )
        })
        .collect();
    VaultServerContext {
        ui: v.ui,
        tls_secret: v.tls_secret.as_deref(),
        ha: true,
        peers,
        seal: v.seal.as_ref().map(|s| SealContext {
            kind: &s.kind,
            attributes: &s.attributes,
        }),
    }
}

/// Values for the `vault` chart (checked against its values.schema.json).
fn vault_values(stack: &Stack, server_hcl: &str) -> Json {
    let v = &stack.vault;
    let mut server = json!({
        "dataStorage": {"enabled": true, "size": "10Gi"},
    });
    let s = server.as_object_mut().expect("object");
    // Always the chart's HA mode with raft, also for one replica (single-node raft): scaling
    // up later joins the new nodes to the same data, and `vault-active` exists for VSO.
    s.insert("standalone".into(), json!({"enabled": false}));
    let mut ha = json!({
        "enabled": true,
        "replicas": v.replicas,
        "raft": {"enabled": true, "setNodeId": true, "config": server_hcl},
    });
    if !v.ha() {
        // The chart's budget for one replica is maxUnavailable 0: no node could ever drain.
        ha["disruptionBudget"] = json!({"enabled": false});
    }
    s.insert("ha".into(), ha);
    if !v.anti_affinity {
        s.insert("affinity".into(), json!(""));
    }
    if v.audit_storage {
        s.insert("auditStorage".into(), json!({"enabled": true}));
    }
    if let Some(tls) = &v.tls_secret {
        s.insert(
            "extraVolumes".into(),
            json!([{"type": "secret", "name": tls}]),
        );
        s.insert(
            "extraEnvironmentVars".into(),
            json!({"VAULT_CACERT": format!("/vault/userconfig/{tls}/ca.crt")}),
        );
    }
    let mut values = json!({
        "global": {"enabled": true, "tlsDisable": v.tls_secret.is_none()},
        "injector": if v.injector {
            json!({"enabled": true, "authPath": format!("auth/{}", stack.auth_mount)})
        } else {
            json!({"enabled": false})
        },
        "ui": {"enabled": v.ui},
        "server": server,
    });
    if let Some(csi) = consumers::vault_csi_values(stack) {
        values["csi"] = csi;
    }
    if let Some(user) = &v.values {
        deep_merge(&mut values, user);
    }
    values
}

/// Values for the `vault-secrets-operator` chart.
fn operator_values(stack: &Stack) -> Json {
    let o = &stack.operator;
    // One VaultConnection: the tree's own (apps/vault-connection.yaml), not also the chart's.
    let mut values = json!({
        "defaultVaultConnection": {"enabled": false},
    });
    if let Some(cc) = &o.client_cache {
        values.as_object_mut().expect("object").insert(
            "controller".into(),
            json!({"manager": {"clientCache": {
                "persistenceModel": "direct-encrypted",
                "storageEncryption": {
                    "enabled": true,
                    "vaultConnectionRef": model::VAULT_CONNECTION,
                    "keyName": cc.key_name,
                    "transitMount": cc.transit_mount,
                    "method": "kubernetes",
                    "mount": stack.auth_mount,
                    "kubernetes": {
                        "role": cc.role,
                        "serviceAccount": o.service_account,
                        "tokenAudiences": cc.audiences,
                    },
                },
            }}}),
        );
    }
    values
}

/// Maps merge key by key; anything else in `overlay` replaces what is in `base`.
pub fn deep_merge(base: &mut Json, overlay: &Json) {
    match (base, overlay) {
        (Json::Object(b), Json::Object(o)) => {
            for (k, v) in o {
                deep_merge(b.entry(k.clone()).or_insert(Json::Null), v);
            }
        }
        (b, o) => *b = o.clone(),
    }
}

fn script_context<'a>(
    stack: &'a Stack,
    vault: &'a VaultSide,
) -> crate::vault_side::ScriptContext<'a> {
    crate::vault_side::script_context(stack, vault)
}

/// `certmanager/issuer.yaml.j2`
#[derive(Serialize)]
struct IssuerContext<'a> {
    kind: &'a str,
    name: &'a str,
    /// None for a ClusterIssuer.
    namespace: Option<&'a str>,
    server: &'a str,
    path: String,
    ca_bundle_secret: Option<&'a str>,
    role: &'a str,
    mount_path: String,
    service_account: &'a str,
}

/// `certmanager/token-request.yaml.j2`
#[derive(Serialize)]
struct TokenRequestContext<'a> {
    service_account: &'a str,
    namespace: &'a str,
    role: String,
    controller_service_account: &'a str,
    controller_namespace: &'a str,
}

/// cert-manager's Vault issuer (`certManager`), in the apps stage beside the VaultConnection:
/// its ServiceAccount with the Role that lets cert-manager request its tokens, the CA it
/// trusts Vault with, and the Issuer or ClusterIssuer. Returns the files written into `dir`.
fn cert_manager_issuer(r: &mut Renderer, stack: &Stack, dir: &str) -> Result<Vec<String>, String> {
    use crate::spec::types::IssuerKind;
    let Some(cm) = &stack.cert_manager else {
        return Ok(vec![]);
    };
    let ns = cm.service_account_namespace.as_str();
    let mut files = vec![];
    let generated_namespaces: BTreeSet<&str> = [
        stack.vault.namespace.as_str(),
        stack.operator.namespace.as_str(),
    ]
    .into_iter()
    .chain(stack.apps.iter().map(|a| a.namespace.as_str()))
    .collect();
    if !generated_namespaces.contains(ns) {
        // Kept when the issuer goes: cert-manager (or the user's workloads) live there.
        r.object(
            of::<Namespace>("", ns),
            format!("{dir}/cert-manager-namespace.yaml"),
            "core/namespace.yaml.j2",
            NamespaceContext::kept(ns),
        )?;
        files.push("cert-manager-namespace.yaml".to_string());
    }
    r.object(
        of::<ServiceAccount>(ns, &cm.service_account),
        format!("{dir}/cert-manager-token-request.yaml"),
        "certmanager/token-request.yaml.j2",
        Value::from_serialize(TokenRequestContext {
            service_account: &cm.service_account,
            namespace: ns,
            role: cm.token_role(),
            controller_service_account: &cm.controller_service_account,
            controller_namespace: &cm.namespace,
        }),
    )?;
    files.push("cert-manager-token-request.yaml".to_string());
    let operator_carrier = ns == stack.operator.namespace
        && stack.operator.ca_cert_secret.as_deref() == Some(model::CA_CARRIER_SECRET);
    if let (Some(issuer), Some(carrier)) = (&cm.ca_carrier_issuer, &cm.ca_bundle_secret) {
        if !operator_carrier {
            // As for the operator: the same ClusterIssuer's ca.crt is the CA of Vault's certificate.
            r.ca_carrier(
                ns,
                carrier,
                issuer,
                format!("{dir}/cert-manager-vault-ca.yaml"),
            )?;
            files.push("cert-manager-vault-ca.yaml".to_string());
        }
    }
    let (kind, namespace) = match cm.kind {
        IssuerKind::Issuer => (kinds::Kind::Issuer, Some(ns)),
        IssuerKind::ClusterIssuer => (kinds::Kind::ClusterIssuer, None),
    };
    let kind_name = kind.resource().kind;
    r.object(
        ObjectRef::new(&kind_name, namespace.unwrap_or_default(), &cm.name),
        format!("{dir}/cert-manager-issuer.yaml"),
        "certmanager/issuer.yaml.j2",
        Value::from_serialize(IssuerContext {
            kind: &kind_name,
            name: &cm.name,
            namespace,
            server: &cm.server,
            path: cm.sign_path(),
            ca_bundle_secret: cm.ca_bundle_secret.as_deref(),
            role: &cm.role,
            mount_path: format!("/v1/auth/{}", stack.auth_mount),
            service_account: &cm.service_account,
        }),
    )?;
    files.push("cert-manager-issuer.yaml".to_string());
    Ok(files)
}

/// What the kubernetes auth method of a Vault outside the cluster needs to review tokens
/// (`vaultConfig.kubernetesAuth.tokenReviewer`): `infrastructure/vault/token-review.yaml`.
/// Returns the files written into `dir`, for its kustomization.yaml.
fn token_review(
    r: &mut Renderer,
    stack: &Stack,
    vault: &VaultSide,
    dir: &str,
) -> Result<Vec<String>, String> {
    use crate::vault_side::TokenReviewer;
    let (first, ctx) = match &vault.kubernetes_auth.token_reviewer {
        TokenReviewer::Local => return Ok(vec![]),
        TokenReviewer::ServiceAccount {
            namespace, name, ..
        } => (
            of::<ServiceAccount>(namespace, name),
            json!({
                "service_account": {"name": name, "namespace": namespace},
                "binding": format!("{name}-auth-delegator"),
                "subjects": [{"name": name, "namespace": namespace}],
            }),
        ),
        TokenReviewer::Client { .. } => {
            let mut subjects: BTreeSet<(String, String)> = stack
                .apps
                .iter()
                .map(|a| (a.namespace.clone(), a.service_account.clone()))
                .collect();
            if stack.operator.client_cache.is_some() {
                subjects.insert((
                    stack.operator.namespace.clone(),
                    stack.operator.service_account.clone(),
                ));
            }
            if subjects.is_empty() {
                return Ok(vec![]);
            }
            let binding = "kubectl-vault-client-token-review";
            (
                of::<ClusterRoleBinding>("", binding),
                json!({
                    "service_account": null,
                    "binding": binding,
                    "subjects": subjects.iter().map(|(ns, n)| json!({"name": n, "namespace": ns})).collect::<Vec<_>>(),
                }),
            )
        }
    };
    r.object(
        first,
        format!("{dir}/token-review.yaml"),
        "core/token-review.yaml.j2",
        Value::from_serialize(ctx),
    )?;
    Ok(vec!["token-review.yaml".to_string()])
}
