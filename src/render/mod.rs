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

pub mod templates;

use crate::header;
use crate::model::{self, App, DeclaredSecret, SecretKind, Source, Stack};
use crate::tree::Tree;
use crate::vault_side::VaultSide;
use minijinja::Value;
use rayon::prelude::*;
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
}

/// Everything `generate` writes, before headers are added.
#[derive(Debug, Default)]
pub struct Rendered {
    pub files: Vec<RenderedFile>,
}

impl Rendered {
    /// The tree: every file with its header.
    pub fn to_tree(&self, spec_file: &str) -> Tree {
        let mut tree = Tree::default();
        for f in &self.files {
            let shebang = f.path.ends_with(".sh").then_some("#!/usr/bin/env bash");
            tree.insert(f.path.clone(), header::stamp(&f.body, spec_file, shebang));
        }
        tree
    }
}

struct Renderer<'a> {
    templates: &'a Templates,
    out: Rendered,
}

impl Renderer<'_> {
    fn file(&mut self, path: String, template: &str, ctx: Value) -> Result<(), String> {
        let body = self.templates.render(template, ctx)?;
        self.out.files.push(RenderedFile {
            path,
            template: template.to_string(),
            body,
        });
        Ok(())
    }

    fn raw(&mut self, path: String, what: &str, body: String) {
        self.out.files.push(RenderedFile {
            path,
            template: what.to_string(),
            body,
        });
    }

    /// A kustomization.yaml listing exactly `resources` (files and sub-folders of `dir`).
    fn kustomization(&mut self, dir: &str, resources: Vec<String>) -> Result<(), String> {
        self.file(
            format!("{dir}/kustomization.yaml"),
            "kustomize/kustomization.yaml.j2",
            Value::from_serialize(json!({ "resources": resources })),
        )
    }
}

/// Renders the whole tree for `stack`. An error here is a template bug (or a bad override).
pub fn render(stack: &Stack, vault: &VaultSide, templates: &Templates) -> Result<Rendered, String> {
    let mut r = Renderer {
        templates,
        out: Rendered::default(),
    };
    let p = &stack.flux.paths;
    let flux = &stack.flux;
    let ctx = |v: Json| Value::from_serialize(v);

    // clusters/<cluster>/: the three Flux Kustomizations, in dependency order.
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
        r.file(
            format!("{}/{name}.yaml", p.cluster),
            "flux/kustomization.yaml.j2",
            ctx(json!({
                "name": name,
                "namespace": model::FLUX_NAMESPACE,
                "interval": flux.interval,
                "path": path,
                "source_ref": flux.source_ref,
                "depends_on": depends_on.map(|d| vec![d]).unwrap_or_default(),
                "health_check_exprs": if health { health_check_exprs() } else { vec![] },
            })),
        )?;
    }

    // infrastructure/vault/
    let vault_repo = "hashicorp";
    let mut files = vec![];
    r.file(
        format!("{}/namespace.yaml", p.vault),
        "core/namespace.yaml.j2",
        ctx(json!({"name": stack.vault.namespace})),
    )?;
    files.push("namespace.yaml".to_string());
    r.file(
        format!("{}/helmrepository.yaml", p.vault),
        "flux/helmrepository.yaml.j2",
        ctx(json!({"name": vault_repo, "namespace": model::FLUX_NAMESPACE, "interval": "24h", "url": stack.vault.chart_repository})),
    )?;
    files.push("helmrepository.yaml".to_string());
    let server_hcl = templates.render("vault/server.hcl.j2", ctx(vault_server_context(stack)))?;
    r.file(
        format!("{}/helmrelease.yaml", p.vault),
        "flux/helmrelease.yaml.j2",
        ctx(json!({
            "name": model::VAULT_RELEASE,
            "namespace": stack.vault.namespace,
            "release_name": model::VAULT_RELEASE,
            "interval": flux.interval,
            "chart": "vault",
            "version": stack.vault.chart_version,
            "repository": {"name": vault_repo, "namespace": model::FLUX_NAMESPACE},
            "values": vault_values(stack, &server_hcl),
        })),
    )?;
    files.push("helmrelease.yaml".to_string());
    files.extend(token_review(&mut r, stack, vault, &p.vault)?);
    r.kustomization(&p.vault, files)?;

    // infrastructure/vault-secrets-operator/
    let mut files = vec![];
    if stack.operator.namespace != stack.vault.namespace {
        r.file(
            format!("{}/namespace.yaml", p.operator),
            "core/namespace.yaml.j2",
            ctx(json!({"name": stack.operator.namespace})),
        )?;
        files.push("namespace.yaml".to_string());
    }
    let operator_repo = if stack.operator.chart_repository == stack.vault.chart_repository {
        vault_repo.to_string()
    } else {
        r.file(
            format!("{}/helmrepository.yaml", p.operator),
            "flux/helmrepository.yaml.j2",
            ctx(json!({"name": model::OPERATOR_RELEASE, "namespace": model::FLUX_NAMESPACE, "interval": "24h", "url": stack.operator.chart_repository})),
        )?;
        files.push("helmrepository.yaml".to_string());
        model::OPERATOR_RELEASE.to_string()
    };
    r.file(
        format!("{}/helmrelease.yaml", p.operator),
        "flux/helmrelease.yaml.j2",
        ctx(json!({
            "name": model::OPERATOR_RELEASE,
            "namespace": stack.operator.namespace,
            "release_name": model::OPERATOR_RELEASE,
            "interval": flux.interval,
            "chart": "vault-secrets-operator",
            "version": stack.operator.chart_version,
            "repository": {"name": operator_repo, "namespace": model::FLUX_NAMESPACE},
            "values": operator_values(stack),
        })),
    )?;
    files.push("helmrelease.yaml".to_string());
    r.kustomization(&p.operator, files)?;

    // apps/: the VaultConnection, then one folder per namespace, one per app.
    let mut top = vec!["vault-connection.yaml".to_string()];
    r.file(
        format!("{}/vault-connection.yaml", p.apps),
        "vso/vaultconnection.yaml.j2",
        ctx(json!({
            "name": model::VAULT_CONNECTION,
            "namespace": stack.operator.namespace,
            "address": stack.operator.address,
            "skip_tls_verify": stack.operator.skip_tls_verify,
            "ca_cert_secret": stack.operator.ca_cert_secret,
        })),
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
    for (ns, apps) in &by_namespace {
        let ns_dir = format!("{}/{ns}", p.apps);
        let mut ns_files = vec![];
        if !infra_namespaces.contains(ns) {
            r.file(
                format!("{ns_dir}/namespace.yaml"),
                "core/namespace.yaml.j2",
                ctx(json!({"name": ns})),
            )?;
            ns_files.push("namespace.yaml".to_string());
        }
        let mut sorted = apps.clone();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        for app in sorted {
            ns_files.push(app.name.clone());
        }
        r.kustomization(&ns_dir, ns_files)?;
        top.push(ns.to_string());
    }
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
        ctx(script_context(stack, vault)),
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
    let ctx = |v: Json| Value::from_serialize(v);
    let mut files = vec![];
    if app.create_service_account {
        r.file(
            format!("{dir}/serviceaccount.yaml"),
            "core/serviceaccount.yaml.j2",
            ctx(json!({"name": app.service_account, "namespace": app.namespace, "app": app.name})),
        )?;
        files.push("serviceaccount.yaml".to_string());
    }
    r.file(
        format!("{dir}/vaultauth.yaml"),
        "vso/vaultauth.yaml.j2",
        ctx(json!({
            "name": app.vault_auth,
            "namespace": app.namespace,
            "app": app.name,
            "vault_connection_ref": format!("{}/{}", stack.operator.namespace, model::VAULT_CONNECTION),
            "mount": stack.auth_mount,
            "role": app.role,
            "service_account": app.service_account,
            "audiences": app.audiences,
        })),
    )?;
    files.push("vaultauth.yaml".to_string());
    for s in &app.secrets {
        let kind = s.source.kind();
        let file = format!("{}-{}.yaml", kind.kind().to_lowercase(), s.name);
        let template = format!("vso/{}.yaml.j2", kind.kind().to_lowercase());
        r.file(
            format!("{dir}/{file}"),
            &template,
            ctx(json!({"secret": secret_context(app, s)})),
        )?;
        files.push(file);
    }
    r.kustomization(dir, files)
}

fn secret_context(app: &App, s: &DeclaredSecret) -> Json {
    let mut m = json!({
        "name": s.name,
        "namespace": s.namespace,
        "app": app.name,
        "vault_auth": app.vault_auth,
        "mount": s.source.mount(),
        "path": s.source.cr_path(),
        "refresh_after": s.refresh_after,
        "type": s.secret_type,
        "labels": s.labels,
        "annotations": s.annotations,
        "rollout": s.rollout.iter().map(|t| json!({"kind": t.kind, "name": t.name})).collect::<Vec<_>>(),
        "params": {},
    });
    let obj = m.as_object_mut().expect("object");
    match &s.source {
        Source::Kv { version, .. } => {
            obj.insert("kv_type".into(), json!(format!("kv-v{version}")));
        }
        Source::Dynamic { params, .. } => {
            obj.insert("params".into(), json!(params));
        }
        Source::Pki { role, .. } => {
            let pki = s.pki.clone().unwrap_or_default();
            obj.insert("role".into(), json!(role));
            obj.insert("common_name".into(), json!(pki.common_name));
            obj.insert("alt_names".into(), json!(pki.alt_names));
            obj.insert("ttl".into(), json!(pki.ttl));
            obj.insert("expiry_offset".into(), json!(pki.expiry_offset));
            obj.insert("type".into(), json!("kubernetes.io/tls"));
        }
        Source::Database { .. } => {}
    }
    m
}

/// Flux CEL health checks: the apps stage is Ready only once VSO reports every secret synced.
/// `exists` (not `filter(...).all(...)`, which is vacuously true before VSO writes any condition).
fn health_check_exprs() -> Vec<Json> {
    let synced = "has(status.conditions) && status.conditions.exists(c, c.type == 'SecretSynced' && c.status == 'True')";
    let mut out: Vec<Json> = [SecretKind::Static, SecretKind::Dynamic, SecretKind::Pki]
        .iter()
        .map(|k| json!({"api_version": "secrets.hashicorp.com/v1beta1", "kind": k.kind(), "current": synced}))
        .collect();
    for kind in ["VaultAuth", "VaultConnection"] {
        out.push(json!({
            "api_version": "secrets.hashicorp.com/v1beta1",
            "kind": kind,
            "current": "has(status.valid) && status.valid == true",
        }));
    }
    out
}

fn vault_server_context(stack: &Stack) -> Json {
    let v = &stack.vault;
    let peers: Vec<String> = (0..v.replicas)
        .map(|i| {
            format!(
                "{}://{}-{i}.{}-internal:8200",
                v.scheme(),
                model::VAULT_RELEASE,
                model::VAULT_RELEASE
            )
        })
        .collect();
    json!({
        "ui": v.ui,
        "tls_secret": v.tls_secret,
        "ha": v.ha(),
        "peers": peers,
        "seal": v.seal.as_ref().map(|s| json!({"kind": s.kind, "attributes": s.attributes})),
    })
}

/// Values for the `vault` chart (checked against its values.schema.json).
fn vault_values(stack: &Stack, server_hcl: &str) -> Json {
    let v = &stack.vault;
    let mut server = json!({
        "dataStorage": {"enabled": true, "size": "10Gi"},
    });
    let s = server.as_object_mut().expect("object");
    if v.ha() {
        s.insert("standalone".into(), json!({"enabled": false}));
        s.insert(
            "ha".into(),
            json!({
                "enabled": true,
                "replicas": v.replicas,
                "raft": {"enabled": true, "setNodeId": true, "config": server_hcl},
            }),
        );
    } else {
        s.insert(
            "standalone".into(),
            json!({"enabled": true, "config": server_hcl}),
        );
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
        "injector": {"enabled": v.injector},
        "ui": {"enabled": v.ui},
        "server": server,
    });
    if let Some(user) = &v.values {
        deep_merge(&mut values, user);
    }
    values
}

/// Values for the `vault-secrets-operator` chart.
fn operator_values(stack: &Stack) -> Json {
    let o = &stack.operator;
    let mut values = json!({
        "defaultVaultConnection": {
            "enabled": true,
            "address": o.address,
            "skipTLSVerify": o.skip_tls_verify,
        },
    });
    if let Some(ca) = &o.ca_cert_secret {
        values["defaultVaultConnection"]["caCertSecret"] = json!(ca);
    }
    if let Some(cc) = &o.client_cache {
        values.as_object_mut().expect("object").insert(
            "controller".into(),
            json!({"manager": {"clientCache": {
                "persistenceModel": "direct-encrypted",
                "storageEncryption": {
                    "enabled": true,
                    "vaultConnectionRef": "default",
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

fn script_context(stack: &Stack, vault: &VaultSide) -> Json {
    crate::vault_side::script_context(stack, vault)
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
    let ctx = match &vault.kubernetes_auth.token_reviewer {
        TokenReviewer::Local => return Ok(vec![]),
        TokenReviewer::ServiceAccount {
            namespace, name, ..
        } => json!({
            "service_account": {"name": name, "namespace": namespace},
            "binding": format!("{name}-auth-delegator"),
            "subjects": [{"name": name, "namespace": namespace}],
        }),
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
            json!({
                "service_account": null,
                "binding": "kubectl-vault-client-token-review",
                "subjects": subjects.iter().map(|(ns, n)| json!({"name": n, "namespace": ns})).collect::<Vec<_>>(),
            })
        }
    };
    r.file(
        format!("{dir}/token-review.yaml"),
        "core/token-review.yaml.j2",
        Value::from_serialize(ctx),
    )?;
    Ok(vec!["token-review.yaml".to_string()])
}
