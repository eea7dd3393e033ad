//! JWT/OIDC auth methods (`vaultConfig.admin`, `pipelines`): the method, its config, its
//! roles, and the external identity groups (with their aliases on the method's accessor) that
//! map values of the groups claim to policies.
//!
//! A group alias needs the method's accessor and the group's id, which a run that creates
//! them only learns as it goes: the alias step names them as [`Fill`]s, read just before its
//! write.

use super::fields::{self, strings, Change, Field, Kind, Write};
use super::{ours, Action, Fill, Planner, SecretRef};
use crate::error::Error;
use crate::vault::side::jwt::GROUP_OWNER_KEY;
use crate::vault::side::{ExternalGroup, JwtMethod, JwtRole};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What the JWT config keeps across a write (Vault's `POST` resets every field it does not
/// carry, and there is no `PATCH`): the fields the spec never names, as Vault holds them.
const CONFIG_KEPT: &[&str] = &[
    "oidc_discovery_ca_pem",
    "jwks_ca_pem",
    "jwt_supported_algs",
    "default_role",
    "oidc_response_mode",
    "oidc_response_types",
    "namespace_in_state",
];

pub(super) fn methods(p: &mut Planner, managed_policies: &[String]) -> Result<(), Error> {
    let side = p.side;
    for m in &side.jwt {
        let current = p.auths.get(format!("{}/", m.mount)).cloned();
        let label = format!("auth method {}/ ({})", m.mount, m.method_type);
        let path = format!("sys/auth/{}", m.mount);
        let owned = match &current {
            None => {
                p.step(
                    Action::Create,
                    label,
                    path,
                    json!({"type": m.method_type, "description": side.owner}),
                );
                true
            }
            Some(c) if c["type"] != m.method_type => {
                return Err(Error::check_failed(format!(
                    "auth method {}/ exists with type {}, not {}: choose another mount for vaultConfig.admin or pipelines",
                    m.mount, c["type"], m.method_type
                )))
            }
            Some(c) => {
                let owned = ours(c["description"].as_str().unwrap_or_default(), &side.owner);
                let note = if owned { "" } else { ", not managed by kubectl-vault" };
                p.step(
                    Action::Unchanged,
                    format!("auth method {}/ ({}{note})", m.mount, m.method_type),
                    path,
                    Value::Null,
                );
                owned
            }
        };
        config(p, m, current.is_some(), owned);
        for r in &m.roles {
            role(p, m, r, current.is_some(), owned, managed_policies);
        }
        let accessor = current
            .as_ref()
            .and_then(|c| c["accessor"].as_str())
            .map(str::to_string);
        for g in &m.groups {
            group(p, m, g, accessor.as_deref());
        }
    }
    Ok(())
}

fn text(v: &Option<String>) -> Value {
    json!(v.clone().unwrap_or_default())
}

fn config(p: &mut Planner, m: &JwtMethod, exists: bool, owned: bool) {
    let c = &m.config;
    let mut named = vec![
        Field::new("oidc_discovery_url", Kind::Text, text(&c.discovery_url)),
        Field::new("jwks_url", Kind::Text, text(&c.jwks_url)),
        Field::new("jwt_validation_pubkeys", Kind::Pems, json!(c.pubkeys)),
        Field::new("bound_issuer", Kind::Text, text(&c.bound_issuer)),
    ];
    if m.method_type == "oidc" {
        named.push(Field::new("oidc_client_id", Kind::Text, text(&c.client_id)));
    }
    let secret = c.client_secret_from.as_ref().map(|source| SecretRef {
        field: "oidc_client_secret".into(),
        source: source.clone(),
        what: "vaultConfig.admin.clientSecretFrom".into(),
    });
    let source = if let Some(u) = &c.discovery_url {
        format!("discovery {u}")
    } else if let Some(u) = &c.jwks_url {
        format!("JWKS {u}")
    } else {
        format!("{} static public key(s)", c.pubkeys.len())
    };
    let what = format!("{} auth config {}/ ({source})", m.method_type, m.mount);
    let path = format!("auth/{}/config", m.mount);
    let current = if exists { p.read.read(&path) } else { None };
    let (action, body, changes) = match &current {
        None => (Action::Create, fields::body(&named), vec![]),
        Some(cur) => {
            let mut changes = fields::changes(&named, cur);
            if secret.is_some() && p.options.reset_connections {
                changes.push(Change::new(
                    "oidc_client_secret",
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
                fields::update_body(&named, cur, Write::Whole(CONFIG_KEPT)),
                changes,
            )
        }
    };
    match action {
        Action::Unchanged => {
            p.step(action, what, path, Value::Null);
        }
        Action::Update if !owned => p.conflict(&what, &changes),
        _ => {
            let step = p.step(action, what, path, body);
            step.changes = changes;
            // The config is written whole: the client secret goes with every write of it.
            step.secrets.extend(secret);
        }
    }
}

fn role(
    p: &mut Planner,
    m: &JwtMethod,
    r: &JwtRole,
    exists: bool,
    method_owned: bool,
    managed_policies: &[String],
) {
    let path = format!("auth/{}/role/{}", m.mount, r.name);
    let current = if exists { p.read.read(&path) } else { None };
    let owned = method_owned
        || current.as_ref().is_none_or(|c| {
            strings(c.get("token_policies"))
                .iter()
                .any(|p| managed_policies.contains(p))
        });
    let mut named = vec![
        Field::new("role_type", Kind::Text, json!(r.role_type)),
        Field::new("bound_audiences", Kind::Set, json!(r.bound_audiences)),
        Field::new("user_claim", Kind::Text, json!(r.user_claim)),
    ];
    if let Some(g) = &r.groups_claim {
        named.push(Field::new("groups_claim", Kind::Text, json!(g)));
    }
    named.extend([
        Field::new("bound_claims", Kind::Map, json!(r.bound_claims)),
        Field::new("bound_claims_type", Kind::Text, json!(r.bound_claims_type)),
        Field::new("token_policies", Kind::Set, json!(r.token_policies)),
        Field::new(
            "token_ttl",
            Kind::Seconds,
            json!(fields::seconds(&r.token_ttl)),
        ),
    ]);
    if r.role_type == "oidc" {
        named.push(Field::new(
            "allowed_redirect_uris",
            Kind::Set,
            json!(r.allowed_redirect_uris),
        ));
    }
    p.converge(
        format!(
            "{} role {} on {}/ ({})",
            r.role_type, r.name, m.mount, r.purpose
        ),
        path,
        &named,
        current,
        owned,
        Write::Merge,
    );
}

fn group(p: &mut Planner, m: &JwtMethod, g: &ExternalGroup, accessor: Option<&str>) {
    let side = p.side;
    let path = JwtMethod::group_path(g);
    let current = p.read.read(&path);
    let owned = current.as_ref().is_none_or(|c| {
        ours(
            c["metadata"][GROUP_OWNER_KEY].as_str().unwrap_or_default(),
            &side.owner,
        )
    });
    let named = [
        Field::new("type", Kind::Text, json!("external")),
        Field::new("policies", Kind::Set, json!(g.policies)),
        Field::new(
            "metadata",
            Kind::Map,
            json!({ GROUP_OWNER_KEY: side.owner }),
        ),
    ];
    let action = p.converge(
        format!(
            "identity group {} (external: groups claim {} → {})",
            g.name,
            g.alias,
            g.policies.join(", ")
        ),
        path.clone(),
        &named,
        current.clone(),
        owned,
        Write::Merge,
    );
    if action.is_none() {
        return;
    }
    let alias = current
        .as_ref()
        .map(|c| c["alias"].clone())
        .unwrap_or(Value::Null);
    let what = format!("group alias {} on {}/ → group {}", g.alias, m.mount, g.name);
    let same_name = alias["name"].as_str() == Some(g.alias.as_str());
    let same_accessor = accessor.is_some() && alias["mount_accessor"].as_str() == accessor;
    let fills = vec![
        Fill {
            field: "mount_accessor".into(),
            path: "sys/auth".into(),
            pointer: format!(
                "/{}~1/accessor",
                m.mount.replace('~', "~0").replace('/', "~1")
            ),
        },
        Fill {
            field: "canonical_id".into(),
            path: path.clone(),
            pointer: "/id".into(),
        },
    ];
    match alias["id"].as_str() {
        Some(_) if same_name && same_accessor => {
            p.step(
                Action::Unchanged,
                what,
                "identity/group-alias".into(),
                Value::Null,
            );
        }
        Some(id) => {
            let mut changes = vec![];
            if !same_name {
                changes.push(Change::new(
                    "name",
                    format!(
                        "{} → {}",
                        crate::outside::shown(alias["name"].as_str().unwrap_or_default()),
                        crate::outside::shown(&g.alias)
                    ),
                ));
            }
            if !same_accessor {
                changes.push(Change::new(
                    "mount_accessor",
                    format!("another → {}/'s", m.mount),
                ));
            }
            let step = p.step(
                Action::Update,
                what,
                format!("identity/group-alias/id/{id}"),
                json!({"name": g.alias}),
            );
            step.changes = changes;
            step.fills = fills;
        }
        None => {
            let step = p.step(
                Action::Create,
                what,
                "identity/group-alias".into(),
                json!({"name": g.alias}),
            );
            step.fills = fills;
        }
    }
}

/// Deletes what this cluster wrote for JWT/OIDC methods and the spec no longer declares: on a
/// declared method, the roles bound to exactly one policy of ours written for that role (a
/// dropped pipeline); anywhere, the identity groups whose metadata carries this cluster's tag
/// (their aliases go with them). Only looked for while the spec declares a method at all.
pub(super) fn stale(p: &mut Planner, headers: &BTreeMap<String, String>) {
    let side = p.side;
    if side.jwt.is_empty() {
        return;
    }
    for m in &side.jwt {
        if p.auths.get(format!("{}/", m.mount)).is_none() {
            continue;
        }
        let declared: Vec<&str> = m.roles.iter().map(|r| r.name.as_str()).collect();
        for name in p.read.list(&format!("auth/{}/role", m.mount)) {
            if declared.contains(&name.as_str()) {
                continue;
            }
            let path = format!("auth/{}/role/{name}", m.mount);
            let Some(role) = p.read.read(&path) else {
                continue;
            };
            let written_for_it = match strings(role.get("token_policies")).as_slice() {
                [only] => headers.get(only).is_some_and(|line| {
                    line.ends_with(&format!("(jwt role {name} on {}/)", m.mount))
                }),
                _ => false,
            };
            if written_for_it {
                p.step(
                    Action::Delete,
                    format!("jwt role {name} on {}/ (no longer in the spec)", m.mount),
                    path,
                    Value::Null,
                );
            }
        }
    }
    let declared: Vec<&str> = (side.jwt.iter())
        .flat_map(|m| m.groups.iter().map(|g| g.name.as_str()))
        .collect();
    for name in p.read.list("identity/group/name") {
        if declared.contains(&name.as_str()) {
            continue;
        }
        let path = format!("identity/group/name/{name}");
        let Some(group) = p.read.read(&path) else {
            continue;
        };
        let tag = group["metadata"][GROUP_OWNER_KEY]
            .as_str()
            .unwrap_or_default();
        if ours(tag, &side.owner) {
            p.step(
                Action::Delete,
                format!("identity group {name} (no longer in the spec)"),
                path,
                Value::Null,
            );
        }
    }
}
