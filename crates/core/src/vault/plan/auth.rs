//! Kubernetes auth: the method, its config, the roles apps log in with, and the clean-up of
//! the roles this cluster no longer declares.

use super::fields::{self, strings, Change, Field, Kind, Write};
use super::{marked, ours, Action, Planner, SecretRef};
use crate::error::Error;
use crate::vault::side::TokenReviewer;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What the kubernetes auth config keeps across a write (Vault's `POST` resets every field it
/// does not carry, and there is no `PATCH`): the fields the spec never names, as Vault holds
/// them. The CA is among them for a spec that names none (Vault in the cluster).
const CONFIG_KEPT: &[&str] = &[
    "kubernetes_ca_cert",
    "pem_keys",
    "issuer",
    "disable_iss_validation",
    "use_annotations_as_alias_metadata",
];

pub(super) fn method_and_config(p: &mut Planner) -> Result<(), Error> {
    let a = &p.side.kubernetes_auth;
    let auth_key = format!("{}/", a.mount);
    let method = p.auths.get(&auth_key).cloned();
    match &method {
        None => {
            p.step(Action::Create, format!("auth method {}/ (kubernetes)", a.mount), format!("sys/auth/{}", a.mount), json!({"type": "kubernetes", "description": p.side.owner}));
        }
        Some(m) if m["type"] != "kubernetes" => {
            return Err(Error::check_failed(format!(
                "auth method {}/ exists with type {}, not kubernetes: choose another vaultConfig.kubernetesAuth.mount",
                a.mount, m["type"]
            )))
        }
        Some(m) => {
            p.step(Action::Unchanged, format!("auth method {}/ (kubernetes{})", a.mount, if marked(m["description"].as_str().unwrap_or_default()) { "" } else { ", not managed by kubectl-vault" }), format!("sys/auth/{}", a.mount), Value::Null);
        }
    }
    let owned = method
        .as_ref()
        .is_none_or(|m| ours(m["description"].as_str().unwrap_or_default(), &p.side.owner));
    let mut named = vec![
        Field::new("kubernetes_host", Kind::Text, json!(a.host)),
        Field::new(
            "disable_local_ca_jwt",
            Kind::Bool,
            json!(a.disable_local_ca_jwt),
        ),
    ];
    if let Some(ca) = a
        .ca_cert_from
        .as_deref()
        .and_then(|c| c.strip_prefix("file:"))
    {
        let pem = p.options.kubernetes_ca_cert.as_deref().ok_or_else(|| {
            Error::bug(format!("caCertFrom file:{ca} was not read before planning"))
        })?;
        named.push(Field::new("kubernetes_ca_cert", Kind::Pem, json!(pem)));
    }
    let reviewer_jwt = match &a.token_reviewer {
        TokenReviewer::ServiceAccount { jwt_from, .. } => Some(SecretRef {
            field: "token_reviewer_jwt".into(),
            source: jwt_from.clone(),
            what: "vaultConfig.kubernetesAuth.tokenReviewer.jwtFrom".into(),
        }),
        _ => None,
    };
    let what = format!(
        "kubernetes auth config ({}{})",
        a.host,
        match &a.token_reviewer {
            TokenReviewer::Local => "",
            TokenReviewer::ServiceAccount { .. } => ", token reviewer JWT",
            TokenReviewer::Client { .. } => ", each client's JWT reviews itself",
        }
    );
    let path = format!("auth/{}/config", a.mount);
    let current = if method.is_some() {
        p.read.read(&path)
    } else {
        None
    };
    let wants_jwt = reviewer_jwt.is_some();
    let (action, body, mut changes) = match &current {
        None => (Action::Create, fields::body(&named), vec![]),
        Some(c) => {
            let mut changes = fields::changes(&named, c);
            // The JWT cannot be read back: whether one is set is all Vault shows.
            let has_jwt = c["token_reviewer_jwt_set"].as_bool().unwrap_or(false);
            if has_jwt != wants_jwt {
                changes.push(Change::new(
                    "token_reviewer_jwt",
                    if wants_jwt {
                        "not set → set (tokenReviewer.jwtFrom)"
                    } else {
                        "set → not set (tokenReviewer is not serviceAccount)"
                    },
                ));
            } else if wants_jwt && p.options.reset_connections {
                changes.push(Change::new(
                    "token_reviewer_jwt",
                    "sent again (--reset-connection)",
                ));
            }
            let action = if changes.is_empty() {
                Action::Unchanged
            } else {
                Action::Update
            };
            (
                action,
                fields::update_body(&named, c, Write::Whole(CONFIG_KEPT)),
                changes,
            )
        }
    };
    if action == Action::Update && !owned {
        p.conflict(&what, &changes);
        return Ok(());
    }
    if action == Action::Unchanged {
        p.step(action, what, path, Value::Null);
        return Ok(());
    }
    let step = p.step(action, what, path, body);
    step.changes = std::mem::take(&mut changes);
    // The config is written whole: a reviewer JWT goes with every write of it.
    if let Some(jwt) = reviewer_jwt {
        step.secrets.push(jwt);
    }
    Ok(())
}

/// Kubernetes-auth roles: ours when they carry a policy we manage (roles have no description).
pub(super) fn roles(p: &mut Planner, managed_policies: &[String]) {
    let side = p.side;
    let a = &side.kubernetes_auth;
    let auth_exists = p.auths.get(format!("{}/", a.mount)).is_some();
    for r in &side.roles {
        let path = format!("auth/{}/role/{}", a.mount, r.name);
        let current = if auth_exists {
            p.read.read(&path)
        } else {
            None
        };
        let owned = current.as_ref().is_none_or(|c| {
            strings(c.get("token_policies"))
                .iter()
                .any(|p| managed_policies.contains(p))
        });
        let named = [
            Field::new(
                "bound_service_account_names",
                Kind::List,
                json!(r.service_accounts),
            ),
            Field::new(
                "bound_service_account_namespaces",
                Kind::List,
                json!(r.namespaces),
            ),
            Field::new("token_policies", Kind::List, json!(r.policies)),
            Field::new("audience", Kind::Text, json!(r.audience)),
            Field::new(
                "token_ttl",
                Kind::Seconds,
                json!(r.token_ttl.as_deref().map(fields::seconds).unwrap_or(0)),
            ),
            Field::new(
                "token_period",
                Kind::Seconds,
                json!(r.token_period.as_deref().map(fields::seconds).unwrap_or(0)),
            ),
        ];
        p.converge(
            format!(
                "kubernetes role {} ({}/{})",
                r.name,
                r.namespaces.join(","),
                r.service_accounts.join(",")
            ),
            path,
            &named,
            current,
            owned,
            Write::Merge,
        );
    }
}

/// Deletes the roles no longer declared that this cluster wrote: bound to exactly one policy
/// whose header (in `headers`, by name) says it was written for that role.
pub(super) fn stale_roles(p: &mut Planner, headers: &BTreeMap<String, String>) {
    let side = p.side;
    let a = &side.kubernetes_auth;
    if p.auths.get(format!("{}/", a.mount)).is_none() {
        return;
    }
    let declared: Vec<&str> = side.roles.iter().map(|r| r.name.as_str()).collect();
    for name in p.read.list(&format!("auth/{}/role", a.mount)) {
        if declared.contains(&name.as_str()) {
            continue;
        }
        let path = format!("auth/{}/role/{name}", a.mount);
        let Some(role) = p.read.read(&path) else {
            continue;
        };
        let policies = strings(role.get("token_policies"));
        let written_for_it = match policies.as_slice() {
            [only] => headers
                .get(only)
                .is_some_and(|line| line.ends_with(&format!("(kubernetes-auth role {name})"))),
            _ => false,
        };
        if written_for_it {
            p.step(
                Action::Delete,
                format!("kubernetes role {name} (no longer in the spec)"),
                path,
                Value::Null,
            );
        }
    }
}
