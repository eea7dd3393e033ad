//! One app's folder for the Vault Secrets Operator: its ServiceAccount, VaultAuth and one CR
//! per secret (`apps/<namespace>/<app>/`); other consumers' apps are [`super::consumers`]'.

use super::{consumers, of, RenderError, Renderer};
use crate::kinds;
use crate::model::{self, App, DeclaredSecret, Source, Stack};
use crate::tree::ObjectRef;
use k8s_openapi::api::core::v1::ServiceAccount;
use minijinja::Value;
use serde::Serialize;
use std::collections::BTreeMap;

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
    /// `vaultNamespace`.
    vault_namespace: Option<&'a str>,
}

pub(super) fn render_app(
    r: &mut Renderer,
    stack: &Stack,
    app: &App,
    dir: &str,
) -> Result<(), RenderError> {
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
            vault_namespace: stack.vault_namespace.as_deref(),
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
        Source::Database { .. } | Source::Cloud { .. } => {}
    }
    c
}
