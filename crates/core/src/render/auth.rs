//! The Kubernetes identities that log in to Vault or review its logins: cert-manager's Vault
//! issuer (`certManager`) and the token reviewer of a Vault outside the cluster.

use super::{of, RenderError, Renderer};
use crate::kinds;
use crate::model::Stack;
use crate::tree::ObjectRef;
use crate::vault::side::VaultSide;
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use minijinja::Value;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeSet;

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
    /// `vaultNamespace`.
    vault_namespace: Option<&'a str>,
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

/// cert-manager's Vault issuer (`certManager`), in its own stage (`dir`): its ServiceAccount
/// with the Role that lets cert-manager request its tokens, and the Issuer or ClusterIssuer
/// (the CA it trusts Vault with is carried by the namespaces stage). Returns the files
/// written into `dir`.
pub(super) fn cert_manager_issuer(
    r: &mut Renderer,
    stack: &Stack,
    dir: &str,
) -> Result<Vec<String>, RenderError> {
    use crate::spec::types::IssuerKind;
    let Some(cm) = &stack.cert_manager else {
        return Ok(vec![]);
    };
    let ns = cm.service_account_namespace.as_str();
    let mut files = vec![];
    // Its namespace and the CA carrier in it are the namespaces stage's (`stages::namespaces`).
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
            vault_namespace: stack.vault_namespace.as_deref(),
        }),
    )?;
    files.push("cert-manager-issuer.yaml".to_string());
    Ok(files)
}

/// What the kubernetes auth method of a Vault outside the cluster needs to review tokens
/// (`vaultConfig.kubernetesAuth.tokenReviewer`): `token-review.yaml` in the Vault folder (the
/// operator's, in a cluster that runs no Vault).
/// Returns the files written into `dir`, for its kustomization.yaml.
pub(super) fn token_review(
    r: &mut Renderer,
    stack: &Stack,
    vault: &VaultSide,
    dir: &str,
) -> Result<Vec<String>, RenderError> {
    use crate::vault::side::TokenReviewer;
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
