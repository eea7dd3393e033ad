//! The Google Cloud and Azure engines: the engine's config (its one secret, the service
//! account key or the client secret, from `env:`/`file:` only when applying; rotated once with
//! `rotateRoot`), GCP rolesets and static accounts, Azure roles. Both engines keep what a
//! config write does not carry (as a database connection does), so they follow the database
//! engine: the secret is sent when the config is created, again on an update without
//! `rotateRoot`, and with `--reset-connection`.
//!
//! What the engines answer is not what they take: bindings come back as a map of roles by
//! resource, Azure role assignments with the role ids they resolved. Those are compared as
//! the same canonical form on both sides.

use super::fields::{self, Change, Field, Kind, Write};
use super::{Action, Planner, SecretRef};
use crate::error::Error;
use crate::vault::side::{AzureRole, GcpAccount};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A mount that does not exist yet needs its engine in the Vault's plugin catalog.
fn available(p: &Planner, mount: &str, engine: &str) -> Result<(), Error> {
    if p.mount_exists(mount)
        || p.read
            .read(&format!("sys/plugins/catalog/secret/{engine}"))
            .is_some()
    {
        return Ok(());
    }
    Err(Error::environment(format!(
        "this Vault has no `{engine}` secrets engine in its plugin catalog, so {mount}/ (vaultConfig.{engine}) cannot be enabled; nothing was changed"
    ))
    .with_hint(format!("OpenBao 2.x ships the {engine} engine as an external plugin: register it (bao plugin register) before configure, or use a Vault that has it")))
}

pub(super) fn gcp(p: &mut Planner) -> Result<(), Error> {
    let side = p.side;
    for e in &side.gcp {
        available(p, &e.mount, "gcp")?;
        let exists = p.mount_exists(&e.mount);
        let owned = p.mount_owned(&e.mount);
        let mut named = vec![];
        for (name, ttl) in [("ttl", &e.ttl), ("max_ttl", &e.max_ttl)] {
            if let Some(t) = ttl {
                named.push(Field::new(name, Kind::Seconds, json!(fields::seconds(t))));
            }
        }
        config(
            p,
            Config {
                what: format!("gcp config {}/config", e.mount),
                path: format!("{}/config", e.mount),
                rotate: format!("{}/config/rotate-root", e.mount),
                rotate_root: e.rotate_root,
                secret: SecretRef {
                    field: "credentials".into(),
                    source: e.credentials_from.clone(),
                    what: format!("vaultConfig.gcp.{}.credentialsFrom", e.mount),
                },
            },
            &named,
            exists,
            owned,
        );
        for a in &e.accounts {
            account(p, &e.mount, a, exists, owned);
        }
    }
    Ok(())
}

pub(super) fn azure(p: &mut Planner) -> Result<(), Error> {
    let side = p.side;
    for e in &side.azure {
        available(p, &e.mount, "azure")?;
        let exists = p.mount_exists(&e.mount);
        let owned = p.mount_owned(&e.mount);
        let mut named = vec![
            Field::new("subscription_id", Kind::Text, json!(e.subscription_id)),
            Field::new("tenant_id", Kind::Text, json!(e.tenant_id)),
            Field::new("client_id", Kind::Text, json!(e.client_id)),
        ];
        if let Some(env) = &e.environment {
            named.push(Field::new("environment", Kind::Text, json!(env)));
        }
        config(
            p,
            Config {
                what: format!("azure config {}/config", e.mount),
                path: format!("{}/config", e.mount),
                rotate: format!("{}/rotate-root", e.mount),
                rotate_root: e.rotate_root,
                secret: SecretRef {
                    field: "client_secret".into(),
                    source: e.client_secret_from.clone(),
                    what: format!("vaultConfig.azure.{}.clientSecretFrom", e.mount),
                },
            },
            &named,
            exists,
            owned,
        );
        for r in &e.roles {
            azure_role(p, &e.mount, r, exists, owned);
        }
    }
    Ok(())
}

struct Config {
    what: String,
    path: String,
    rotate: String,
    rotate_root: bool,
    secret: SecretRef,
}

/// An engine's config with one secret that cannot be read back: as a database connection.
fn config(p: &mut Planner, c: Config, named: &[Field], exists: bool, owned: bool) {
    let options = p.options;
    let current = if exists { p.read.read(&c.path) } else { None };
    let mut changes = (current.as_ref())
        .map(|cur| fields::changes(named, cur))
        .unwrap_or_default();
    let (action, send) = match &current {
        None => (Action::Create, true),
        Some(_) if !changes.is_empty() && !owned => {
            p.conflict(&c.what, &changes);
            return;
        }
        Some(_) if options.reset_connections && owned => {
            changes.push(Change::new(
                c.secret.field.clone(),
                "sent again (--reset-connection)",
            ));
            (Action::Update, true)
        }
        Some(_) if changes.is_empty() => (Action::Unchanged, false),
        Some(_) => (Action::Update, !c.rotate_root),
    };
    let body = if action == Action::Unchanged {
        Value::Null
    } else {
        fields::body(named)
    };
    let label = match (action, send) {
        (Action::Update, false) => format!("{} (the secret Vault holds is kept)", c.what),
        _ => c.what.clone(),
    };
    let step = p.step(action, label, c.path.clone(), body);
    step.changes = changes;
    if send {
        step.secrets.push(c.secret);
        if c.rotate_root {
            p.step(
                Action::Update,
                format!(
                    "rotate the credentials of {} (rotateRoot: then only Vault knows them)",
                    c.path
                ),
                c.rotate,
                json!({}),
            );
        }
    }
}

/// `current` with `field` replaced: by `want` when both have the same canonical form, else
/// by the current one's canonical form (what the plan shows).
fn canonical_field(
    current: Option<Value>,
    field: &str,
    want: &str,
    want_canon: &Value,
    canon: impl Fn(&Value) -> Value,
) -> Option<Value> {
    let mut cur = current?;
    let got = canon(&cur[field]);
    cur[field] = if got == *want_canon {
        json!(want)
    } else {
        json!(got.to_string())
    };
    Some(cur)
}

/// GCP bindings as the engine answers them (`{resource: [roles]}`), roles sorted.
fn bindings_canon(v: &Value) -> Value {
    let map: BTreeMap<String, Vec<String>> = (v.as_object().into_iter().flatten())
        .map(|(r, roles)| {
            let mut roles = fields::strings(Some(roles));
            roles.sort();
            (r.clone(), roles)
        })
        .collect();
    json!(map)
}

fn account(p: &mut Planner, mount: &str, a: &GcpAccount, exists: bool, owned: bool) {
    let path = a.path(mount);
    let bindings = a.bindings_json();
    let current = if exists { p.read.read(&path) } else { None };
    let current = canonical_field(
        current,
        "bindings",
        &bindings,
        &json!(a.bindings),
        bindings_canon,
    );
    let mut named = vec![
        Field::new("secret_type", Kind::Text, json!(a.secret_type)),
        Field::new("bindings", Kind::Text, json!(bindings)),
    ];
    if let Some(project) = &a.project {
        named
            .push(Field::new("project", Kind::Text, json!(project)).at("/service_account_project"));
    }
    if let Some(email) = &a.service_account_email {
        named.push(Field::new(
            "service_account_email",
            Kind::Text,
            json!(email),
        ));
    }
    if !a.token_scopes.is_empty() {
        named.push(Field::new("token_scopes", Kind::Set, json!(a.token_scopes)));
    }
    p.converge(
        format!("gcp {} {path}", a.kind.replace('-', " ")),
        path,
        &named,
        current,
        owned,
        Write::Merge,
    );
}

/// Azure role assignments as (role name, scope), sorted: the engine adds the role ids.
fn azure_roles_canon(v: &Value) -> Value {
    let list: Value = match v {
        Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
        other => other.clone(),
    };
    let mut pairs: Vec<(String, String)> = (list.as_array().into_iter().flatten())
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (text("role_name"), text("scope"))
        })
        .collect();
    pairs.sort();
    json!(pairs)
}

fn azure_role(p: &mut Planner, mount: &str, r: &AzureRole, exists: bool, owned: bool) {
    let path = format!("{mount}/roles/{}", r.name);
    let roles = r.azure_roles_json();
    let mut want: Vec<(String, String)> = r.azure_roles.clone();
    want.sort();
    let current = if exists { p.read.read(&path) } else { None };
    let current = canonical_field(
        current,
        "azure_roles",
        &roles,
        &json!(want),
        azure_roles_canon,
    );
    let mut named = vec![Field::new("azure_roles", Kind::Text, json!(roles))];
    for (name, ttl) in [("ttl", &r.ttl), ("max_ttl", &r.max_ttl)] {
        if let Some(t) = ttl {
            named.push(Field::new(name, Kind::Seconds, json!(fields::seconds(t))));
        }
    }
    p.converge(
        format!("azure role {path}"),
        path,
        &named,
        current,
        owned,
        Write::Merge,
    );
}
