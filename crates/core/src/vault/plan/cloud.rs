//! The cloud secrets engines: an AWS engine's root config (`MOUNT/config/root`, its keys from
//! `env:`/`file:` only when applying, rotated once with `rotateRoot`) and its roles.
//!
//! The engine writes its root config whole: a write without `access_key`/`secret_key` empties
//! them, and resets `max_retries` and `username_template`. So an update carries the keys again
//! and the fields the spec does not name as Vault holds them (read-modify-write); with
//! `rotateRoot` only Vault knows the key, and a differing root config is a conflict that
//! `--reset-connection` resolves (the keys sent again, then rotated again).

use super::fields::{self, Change, Field, Kind, Write};
use super::{Action, Planner, SecretRef};
use crate::error::Error;
use crate::vault::side::{AwsEngine, ROOT_FIELDS};
use serde_json::{json, Value};

/// The AWS engines. An engine the Vault cannot enable (OpenBao 2.x has no `aws` built in: it
/// is an external plugin there) stops the plan before anything is written.
pub(super) fn aws(p: &mut Planner) -> Result<(), Error> {
    let side = p.side;
    for e in &side.aws {
        let exists = p.mount_exists(&e.mount);
        if !exists && p.read.read("sys/plugins/catalog/secret/aws").is_none() {
            return Err(Error::environment(format!(
                "this Vault has no `aws` secrets engine in its plugin catalog, so {}/ (vaultConfig.aws) cannot be enabled; nothing was changed",
                e.mount
            ))
            .with_hint("OpenBao 2.x ships the AWS engine as an external plugin: register it (bao plugin register) before configure, or use a Vault that has it built in"));
        }
        let owned = p.mount_owned(&e.mount);
        root(p, e, exists, owned);
        for r in &e.roles {
            let path = format!("{}/roles/{}", e.mount, r.name);
            let current = if exists { p.read.read(&path) } else { None };
            let mut named = vec![
                Field::new("credential_type", Kind::Text, json!(r.credential_type)),
                Field::new("policy_arns", Kind::Set, json!(r.policy_arns)),
                Field::new("role_arns", Kind::Set, json!(r.role_arns)),
            ];
            if let Some(doc) = &r.policy_document {
                named.push(Field::new("policy_document", Kind::Text, json!(doc)));
            }
            for (name, ttl) in [
                ("default_sts_ttl", &r.default_sts_ttl),
                ("max_sts_ttl", &r.max_sts_ttl),
            ] {
                if let Some(t) = ttl {
                    named.push(Field::new(name, Kind::Seconds, json!(fields::seconds(t))));
                }
            }
            // A role's write changes only the fields it carries.
            p.converge(
                format!("aws role {path}"),
                path,
                &named,
                current,
                owned,
                Write::Merge,
            );
        }
    }
    Ok(())
}

fn root(p: &mut Planner, e: &AwsEngine, exists: bool, owned: bool) {
    let options = p.options;
    let path = e.config_path();
    let current = if exists { p.read.read(&path) } else { None };
    let named: Vec<Field> = e
        .root_settings()
        .into_iter()
        .map(|(k, v)| Field::new(k, Kind::Text, json!(v)))
        .collect();
    let what = format!("aws root config {path}");
    let mut changes = current
        .as_ref()
        .map(|c| fields::changes(&named, c))
        .unwrap_or_default();
    // Neither key can be read back: a config that matches otherwise is unchanged.
    let action = match &current {
        None => Action::Create,
        Some(_) if !changes.is_empty() && !owned => {
            p.conflict(&what, &changes);
            return;
        }
        Some(_) if options.reset_connections && owned => {
            changes.push(Change::new("keys", "sent again (--reset-connection)"));
            Action::Update
        }
        Some(_) if changes.is_empty() => Action::Unchanged,
        Some(_) if e.rotate_root => {
            p.plan.conflicts.push(format!(
                "{what} differs from the spec ({}), and with rotateRoot only Vault knows its key: the engine writes its root config whole, so changing it needs the keys again (configure --reset-connection sends them and rotates again)",
                super::joined(&changes)
            ));
            return;
        }
        Some(_) => Action::Update,
    };
    let body = match (&current, action) {
        (_, Action::Unchanged) => Value::Null,
        (Some(c), _) => fields::update_body(&named, c, Write::Whole(ROOT_FIELDS)),
        (None, _) => fields::body(&named),
    };
    let label = match action {
        Action::Update if options.reset_connections => {
            format!("{what} (keys sent again: --reset-connection)")
        }
        _ => what.clone(),
    };
    let step = p.step(action, label, path.clone(), body);
    step.changes = changes;
    if action == Action::Unchanged {
        return;
    }
    step.secrets = vec![
        SecretRef {
            field: "access_key".into(),
            source: e.access_key_from.clone(),
            what: format!("vaultConfig.aws.{}.accessKeyFrom", e.mount),
        },
        SecretRef {
            field: "secret_key".into(),
            source: e.secret_key_from.clone(),
            what: format!("vaultConfig.aws.{}.secretKeyFrom", e.mount),
        },
    ];
    if e.rotate_root {
        p.step(
            Action::Update,
            format!("rotate the root key of {path} (rotateRoot: then only Vault knows it)"),
            e.rotate_path(),
            json!({}),
        );
    }
}
