//! Secrets engines: the mounts and their tune, the operator's transit key, the database
//! connections and roles, and the clean-up of mounts no longer declared.

use super::fields::{self, Change, Field, Kind, Write};
use super::{ours, Action, Planner, SecretRef};
use crate::error::Error;
use crate::vault::side::Engine;
use serde_json::{json, Value};

pub(super) fn mounts(p: &mut Planner) -> Result<(), Error> {
    let side = p.side;
    for m in &side.mounts {
        let mut body = json!({"type": m.engine.mount_type(), "description": side.owner});
        if let Engine::Kv { version } = m.engine {
            body["options"] = json!({"version": version.to_string()});
        }
        if let Some(ttl) = &m.max_lease_ttl {
            body["config"] = json!({"max_lease_ttl": ttl});
        }
        let label = format!("secrets engine {}/ ({})", m.path, m.engine.cli_type());
        let path = format!("sys/mounts/{}", m.path);
        let Some(cur) = p.mounts.get(format!("{}/", m.path)).cloned() else {
            p.owned_mounts.push(m.path.clone());
            p.step(Action::Create, label, path, body);
            continue;
        };
        let version_ok = match m.engine {
            Engine::Kv { version } => {
                cur["options"]["version"].as_str().unwrap_or("1") == version.to_string()
            }
            _ => true,
        };
        if cur["type"] != m.engine.mount_type() || !version_ok {
            return Err(Error::check_failed(format!(
                "{}/ exists as {} {}, not {}: kubectl-vault never changes a mount's type; rename the mount in the spec",
                m.path,
                cur["type"].as_str().unwrap_or("?"),
                cur["options"]["version"].as_str().map(|v| format!("(version {v})")).unwrap_or_default(),
                m.engine.cli_type()
            )));
        }
        if ours(cur["description"].as_str().unwrap_or_default(), &side.owner) {
            p.owned_mounts.push(m.path.clone());
        }
        p.step(Action::Unchanged, label, path, Value::Null);
        // The tune: only the lease maximum the spec names (`sys/mounts` shows it).
        if let Some(ttl) = &m.max_lease_ttl {
            let named = [
                Field::new("max_lease_ttl", Kind::Seconds, json!(fields::seconds(ttl)))
                    .at("/config/max_lease_ttl"),
            ];
            p.mount_setting(
                &m.path,
                true,
                format!("tune of secrets engine {}/", m.path),
                format!("sys/mounts/{}/tune", m.path),
                &named,
                |_| Some(cur),
            );
        }
    }
    Ok(())
}

/// Transit keys for the operator's cache.
pub(super) fn transit_keys(p: &mut Planner) {
    for k in &p.side.transit_keys {
        let path = format!("{}/keys/{}", k.mount, k.name);
        let current = if p.mount_exists(&k.mount) {
            p.read.read(&path)
        } else {
            None
        };
        p.converge(
            format!("transit key {path}"),
            path,
            &[],
            current,
            true,
            Write::Merge,
        );
    }
}

pub(super) fn databases(p: &mut Planner) {
    let (side, options) = (p.side, p.options);
    for db in &side.databases {
        let path = format!("{}/config/{}", db.mount, db.name);
        let exists = p.mount_exists(&db.mount);
        let current = if exists { p.read.read(&path) } else { None };
        let named = [
            Field::new("plugin_name", Kind::Text, json!(db.plugin_name)),
            Field::new("connection_url", Kind::Text, json!(db.connection_url))
                .at("/connection_details/connection_url"),
            Field::new("username", Kind::Text, json!(db.username))
                .at("/connection_details/username"),
            Field::new("allowed_roles", Kind::Set, json!(db.allowed_roles())),
            Field::new("verify_connection", Kind::WriteOnly, json!(true)),
        ];
        let owned = p.mount_owned(&db.mount);
        let password = SecretRef {
            field: "password".into(),
            source: db.password_from.clone(),
            what: format!("vaultConfig.databases.{}.passwordFrom", db.mount),
        };
        let what = format!("database connection {path}");
        let mut changes = current
            .as_ref()
            .map(|c| fields::changes(&named, c))
            .unwrap_or_default();
        // The password cannot be read back: a connection that matches otherwise is unchanged.
        // Vault merges a connection's write into what it holds: the fields the spec does not
        // name (pool sizes, rotation statements, password policy) and, when none is sent,
        // the password (the rotated one) keep their values.
        let (action, send_password) = match &current {
            None => (Some(Action::Create), true),
            Some(_) if !changes.is_empty() && !owned => {
                p.conflict(&what, &changes);
                (None, false)
            }
            Some(_) if options.reset_connections && owned => {
                changes.push(Change::new("password", "sent again (--reset-connection)"));
                (Some(Action::Update), true)
            }
            Some(_) if changes.is_empty() => (Some(Action::Unchanged), false),
            Some(_) => (Some(Action::Update), !db.rotate_root),
        };
        if let Some(action) = action {
            let label = match (action, send_password) {
                (Action::Update, true) if options.reset_connections => {
                    format!("{what} (admin password sent again: --reset-connection)")
                }
                (Action::Update, false) => {
                    format!("{what} (the admin password Vault holds is kept)")
                }
                _ => what.clone(),
            };
            let body = if action == Action::Unchanged {
                Value::Null
            } else {
                fields::body(&named)
            };
            let step = p.step(action, label, path.clone(), body);
            step.changes = changes;
            if send_password {
                step.secrets.push(password);
                if db.rotate_root {
                    p.step(
                        Action::Update,
                        format!("rotate the admin password of {path} (rotateRoot: then only Vault knows it)"),
                        format!("{}/rotate-root/{}", db.mount, db.name),
                        json!({}),
                    );
                }
            }
        }
        for r in &db.roles {
            let path = format!("{}/roles/{}", db.mount, r.name);
            let current = if exists { p.read.read(&path) } else { None };
            let mut named = vec![
                Field::new("db_name", Kind::Text, json!(db.name)),
                Field::new(
                    "creation_statements",
                    Kind::List,
                    json!(r.creation_statements),
                ),
                Field::new(
                    "revocation_statements",
                    Kind::List,
                    json!(r.revocation_statements),
                ),
            ];
            // Lifetimes only where the spec names them: otherwise Vault's (or a hand-set) stay.
            for (name, ttl) in [("default_ttl", &r.default_ttl), ("max_ttl", &r.max_ttl)] {
                if let Some(t) = ttl {
                    named.push(Field::new(name, Kind::Seconds, json!(fields::seconds(t))));
                }
            }
            p.converge(
                format!("database role {path}"),
                path,
                &named,
                current,
                owned,
                Write::Merge,
            );
        }
    }
}

/// This cluster's secrets engines that the spec no longer declares: deleted with
/// `--prune-mounts`, else noted.
pub(super) fn stale_mounts(p: &mut Planner) {
    let side = p.side;
    let declared: Vec<&str> = side.mounts.iter().map(|m| m.path.as_str()).collect();
    let Some(all) = p.mounts.as_object().cloned() else {
        return;
    };
    for (key, m) in &all {
        let path = key.trim_end_matches('/');
        if declared.contains(&path) || m["description"].as_str() != Some(side.owner.as_str()) {
            continue;
        }
        let label = format!(
            "secrets engine {path}/ ({}) and all its data (no longer in the spec)",
            m["type"].as_str().unwrap_or("?")
        );
        if p.options.prune_mounts {
            p.step(
                Action::Delete,
                label,
                format!("sys/mounts/{path}"),
                Value::Null,
            );
        } else {
            p.plan.notes.push(format!(
                "secrets engine {path}/ is no longer in the spec: kept with its data (--prune-mounts deletes it)"
            ));
        }
    }
}
