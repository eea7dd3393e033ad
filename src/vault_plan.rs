//! `configure`'s planner: compare the derived Vault side with what Vault holds now and list
//! the writes that make them agree. Reads go through [`VaultRead`]; nothing here writes.
//!
//! Ownership: a mount or auth method the tool creates carries [`OWNER_MARK`] in its
//! description, a policy starts with it. What exists without the mark is never changed: a
//! differing foreign policy, role or setting is a conflict, and nothing is applied.

use crate::error::Error;
use crate::vault_api::VaultRead;
use crate::vault_side::{Engine, VaultSide, OWNER_MARK};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Unchanged,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub action: Action,
    /// e.g. `policy app-webapp`.
    pub what: String,
    pub path: String,
    pub body: Value,
    /// `env:NAME` / `file:PATH` to resolve into `body.password` only when applying.
    pub password_from: Option<String>,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub conflicts: Vec<String>,
}

impl Plan {
    pub fn changes(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.action != Action::Unchanged)
    }
}

/// Seconds in a Vault duration (`90`, `1m`, `72h`, `3d`), for comparing with what Vault returns.
pub fn seconds(d: &str) -> i64 {
    d.parse::<i64>()
        .ok()
        .or_else(|| crate::spec::validate::parse_single_duration(d, true).map(|s| s as i64))
        .unwrap_or(0)
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect(),
        Value::String(s) if s.is_empty() => vec![],
        Value::String(s) => s.split(',').map(str::to_string).collect(),
        _ => vec![],
    }
}

struct Planner {
    plan: Plan,
    owned_mounts: Vec<String>,
}

impl Planner {
    fn step(&mut self, action: Action, what: String, path: String, body: Value) {
        self.plan.steps.push(Step {
            action,
            what,
            path,
            body,
            password_from: None,
        });
    }

    /// Create when missing; update when different and ours; conflict when different and not.
    fn converge(
        &mut self,
        what: String,
        path: String,
        body: Value,
        current: Option<Value>,
        same: impl Fn(&Value) -> bool,
        owned: bool,
    ) {
        match current {
            None => self.step(Action::Create, what, path, body),
            Some(c) if same(&c) => self.step(Action::Unchanged, what, path, body),
            Some(_) if owned => self.step(Action::Update, what, path, body),
            Some(_) => self.plan.conflicts.push(format!(
                "{what} exists with other settings and was not created by kubectl-vault: it is left alone"
            )),
        }
    }

    fn mount_owned(&self, mount: &str) -> bool {
        self.owned_mounts.iter().any(|m| m == mount)
    }
}

pub fn plan(side: &VaultSide, read: &dyn VaultRead) -> Result<Plan, Error> {
    let mut p = Planner {
        plan: Plan::default(),
        owned_mounts: vec![],
    };
    let mounts = read.read("sys/mounts")?.unwrap_or(Value::Null);
    let auths = read.read("sys/auth")?.unwrap_or(Value::Null);

    // Kubernetes auth method and its config.
    let a = &side.kubernetes_auth;
    let auth_key = format!("{}/", a.mount);
    match auths.get(&auth_key) {
        None => {
            p.step(Action::Create, format!("auth method {}/ (kubernetes)", a.mount), format!("sys/auth/{}", a.mount), json!({"type": "kubernetes", "description": OWNER_MARK}));
        }
        Some(m) if m["type"] != "kubernetes" => {
            return Err(Error::check_failed(format!(
                "auth method {}/ exists with type {}, not kubernetes: choose another vaultConfig.kubernetesAuth.mount",
                a.mount, m["type"]
            )))
        }
        Some(m) => p.step(Action::Unchanged, format!("auth method {}/ (kubernetes{})", a.mount, if m["description"] == OWNER_MARK { "" } else { ", not managed by kubectl-vault" }), format!("sys/auth/{}", a.mount), Value::Null),
    }
    let auth_owned = auths
        .get(&auth_key)
        .is_none_or(|m| m["description"] == OWNER_MARK);
    let mut config =
        json!({"kubernetes_host": a.host, "disable_local_ca_jwt": a.disable_local_ca_jwt});
    if let Some(ca) = a
        .ca_cert_from
        .as_deref()
        .and_then(|c| c.strip_prefix("file:"))
    {
        let pem = std::fs::read_to_string(ca).map_err(|e| {
            Error::usage(format!("vaultConfig.kubernetesAuth.caCertFrom {ca}: {e}"))
        })?;
        config["kubernetes_ca_cert"] = json!(pem);
    }
    let current = if auths.get(&auth_key).is_some() {
        read.read(&format!("auth/{}/config", a.mount))?
    } else {
        None
    };
    let want = config.clone();
    p.converge(
        format!("kubernetes auth config ({})", a.host),
        format!("auth/{}/config", a.mount),
        config,
        current,
        |c| {
            c["kubernetes_host"] == want["kubernetes_host"]
                && c["disable_local_ca_jwt"].as_bool().unwrap_or(false)
                    == want["disable_local_ca_jwt"].as_bool().unwrap_or(false)
                && (want.get("kubernetes_ca_cert").is_none()
                    || c["kubernetes_ca_cert"].as_str().map(str::trim)
                        == want["kubernetes_ca_cert"].as_str().map(str::trim))
        },
        auth_owned,
    );

    // Secrets engines.
    for m in &side.mounts {
        let key = format!("{}/", m.path);
        let mut body = json!({"type": m.engine.mount_type(), "description": OWNER_MARK});
        if let Engine::Kv { version } = m.engine {
            body["options"] = json!({"version": version.to_string()});
        }
        if let Some(ttl) = &m.max_lease_ttl {
            body["config"] = json!({"max_lease_ttl": ttl});
        }
        let label = format!("secrets engine {}/ ({})", m.path, m.engine.cli_type());
        match mounts.get(&key) {
            None => {
                p.owned_mounts.push(m.path.clone());
                p.step(
                    Action::Create,
                    label,
                    format!("sys/mounts/{}", m.path),
                    body,
                );
            }
            Some(cur) => {
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
                if cur["description"] == OWNER_MARK {
                    p.owned_mounts.push(m.path.clone());
                }
                p.step(
                    Action::Unchanged,
                    label,
                    format!("sys/mounts/{}", m.path),
                    Value::Null,
                );
            }
        }
    }

    // Transit keys for the operator's cache.
    for k in &side.transit_keys {
        let path = format!("{}/keys/{}", k.mount, k.name);
        let current = if p.mount_owned(&k.mount) && mounts.get(format!("{}/", k.mount)).is_none() {
            None
        } else {
            read.read(&path)?
        };
        p.converge(
            format!("transit key {}", path),
            path,
            json!({}),
            current,
            |_| true,
            true,
        );
    }

    // Databases.
    for db in &side.databases {
        let path = format!("{}/config/{}", db.mount, db.name);
        let exists = mounts.get(format!("{}/", db.mount)).is_some();
        let current = if exists { read.read(&path)? } else { None };
        let body = json!({
            "plugin_name": db.plugin_name,
            "connection_url": db.connection_url,
            "username": db.username,
            "allowed_roles": db.allowed_roles(),
            "verify_connection": true,
        });
        let want = body.clone();
        let owned = p.mount_owned(&db.mount);
        let before = p.plan.steps.len();
        // The password cannot be read back: a connection that matches otherwise is unchanged.
        p.converge(
            format!("database connection {path}"),
            path,
            body,
            current,
            |c| {
                c["plugin_name"] == want["plugin_name"]
                    && c["connection_details"]["connection_url"] == want["connection_url"]
                    && c["connection_details"]["username"] == want["username"]
                    && {
                        let mut a = strings(&c["allowed_roles"]);
                        a.sort();
                        let mut b = strings(&want["allowed_roles"]);
                        b.sort();
                        a == b
                    }
            },
            owned,
        );
        if let Some(s) = p.plan.steps.get_mut(before) {
            s.password_from = Some(db.password_from.clone());
        }
        for r in &db.roles {
            let path = format!("{}/roles/{}", db.mount, r.name);
            let current = if exists { read.read(&path)? } else { None };
            let mut body = json!({
                "db_name": db.name,
                "creation_statements": r.creation_statements,
                "revocation_statements": r.revocation_statements,
            });
            if let Some(t) = &r.default_ttl {
                body["default_ttl"] = json!(seconds(t));
            }
            if let Some(t) = &r.max_ttl {
                body["max_ttl"] = json!(seconds(t));
            }
            let want = body.clone();
            p.converge(
                format!("database role {path}"),
                path,
                body,
                current,
                |c| {
                    c["db_name"] == want["db_name"]
                        && strings(&c["creation_statements"])
                            == strings(&want["creation_statements"])
                        && strings(&c["revocation_statements"])
                            == strings(&want["revocation_statements"])
                        && c["default_ttl"].as_i64().unwrap_or(0)
                            == want["default_ttl"].as_i64().unwrap_or(0)
                        && c["max_ttl"].as_i64().unwrap_or(0)
                            == want["max_ttl"].as_i64().unwrap_or(0)
                },
                owned,
            );
        }
    }

    // PKI: a root CA only where asked and where the mount has no issuer yet; roles.
    for pki in &side.pki {
        let exists = mounts.get(format!("{}/", pki.mount)).is_some();
        let owned = p.mount_owned(&pki.mount);
        if let Some(ca) = &pki.root_ca {
            let issuers = if exists {
                read.list(&format!("{}/issuers", pki.mount))?
            } else {
                vec![]
            };
            let mut body = json!({"common_name": ca.common_name});
            if let Some(t) = &ca.ttl {
                body["ttl"] = json!(t);
            }
            let path = format!("{}/root/generate/internal", pki.mount);
            if issuers.is_empty() {
                p.step(
                    Action::Create,
                    format!("root CA \"{}\" in {}/", ca.common_name, pki.mount),
                    path,
                    body,
                );
            } else {
                p.step(
                    Action::Unchanged,
                    format!("issuer in {}/ (exists; no new root CA)", pki.mount),
                    path,
                    Value::Null,
                );
            }
        }
        for r in &pki.roles {
            let path = format!("{}/roles/{}", pki.mount, r.name);
            let current = if exists { read.read(&path)? } else { None };
            let mut body = json!({
                "allowed_domains": r.allowed_domains,
                "allow_subdomains": r.allow_subdomains,
                "allow_bare_domains": r.allow_bare_domains,
            });
            if let Some(t) = &r.max_ttl {
                body["max_ttl"] = json!(seconds(t));
            }
            let want = body.clone();
            p.converge(
                format!("pki role {path}"),
                path,
                body,
                current,
                |c| {
                    strings(&c["allowed_domains"]) == strings(&want["allowed_domains"])
                        && c["allow_subdomains"] == want["allow_subdomains"]
                        && c["allow_bare_domains"] == want["allow_bare_domains"]
                        && (want.get("max_ttl").is_none()
                            || c["max_ttl"].as_i64() == want["max_ttl"].as_i64())
                },
                owned,
            );
        }
    }

    // Policies: exactly the generated HCL.
    let mut managed_policies = Vec::new();
    for pol in &side.policies {
        let path = format!("sys/policies/acl/{}", pol.name);
        let hcl = pol.hcl();
        let current = read.read(&path)?;
        let owned = current.as_ref().is_none_or(|c| {
            c["policy"]
                .as_str()
                .unwrap_or_default()
                .starts_with(&format!("# {OWNER_MARK}"))
        });
        if owned {
            managed_policies.push(pol.name.clone());
        }
        let want = hcl.clone();
        p.converge(
            format!("policy {}", pol.name),
            path,
            json!({"policy": hcl}),
            current,
            |c| c["policy"].as_str() == Some(want.as_str()),
            owned,
        );
    }

    // Kubernetes-auth roles: ours when they carry a policy we manage (roles have no description).
    for r in &side.roles {
        let path = format!("auth/{}/role/{}", a.mount, r.name);
        let current = if auths.get(&auth_key).is_some() {
            read.read(&path)?
        } else {
            None
        };
        let owned = current.as_ref().is_none_or(|c| {
            strings(&c["token_policies"])
                .iter()
                .any(|p| managed_policies.contains(p))
        });
        let mut body = json!({
            "bound_service_account_names": r.service_accounts,
            "bound_service_account_namespaces": r.namespaces,
            "token_policies": r.policies,
            "audience": r.audience,
        });
        if let Some(t) = &r.token_ttl {
            body["token_ttl"] = json!(seconds(t));
        }
        if let Some(t) = &r.token_period {
            body["token_period"] = json!(seconds(t));
        }
        let want = body.clone();
        p.converge(
            format!(
                "kubernetes role {} ({}/{})",
                r.name,
                r.namespaces.join(","),
                r.service_accounts.join(",")
            ),
            path,
            body,
            current,
            |c| {
                strings(&c["bound_service_account_names"])
                    == strings(&want["bound_service_account_names"])
                    && strings(&c["bound_service_account_namespaces"])
                        == strings(&want["bound_service_account_namespaces"])
                    && strings(&c["token_policies"]) == strings(&want["token_policies"])
                    && c["audience"] == want["audience"]
                    && c["token_ttl"].as_i64().unwrap_or(0)
                        == want["token_ttl"].as_i64().unwrap_or(0)
                    && c["token_period"].as_i64().unwrap_or(0)
                        == want["token_period"].as_i64().unwrap_or(0)
            },
            owned,
        );
    }

    // Audit device.
    if let Some(audit) = &side.audit {
        let devices = read.read("sys/audit")?.unwrap_or(Value::Null);
        let path = format!("sys/audit/{}", audit.path);
        let what = format!("audit device {}/ ({})", audit.path, audit.device_type);
        match devices.get(format!("{}/", audit.path)) {
            None => p.step(Action::Create, what, path, json!({"type": audit.device_type, "options": audit.options, "description": OWNER_MARK})),
            Some(d) if d["type"] == audit.device_type.as_str() => p.step(Action::Unchanged, what, path, Value::Null),
            Some(_) => p.plan.conflicts.push(format!("{what}: a device of another type is enabled at that path; it is left alone")),
        }
    }
    Ok(p.plan)
}

/// The plan, one line per step.
pub fn describe(plan: &Plan) -> String {
    let mut out = String::new();
    for s in &plan.steps {
        let tag = match s.action {
            Action::Create => "create   ",
            Action::Update => "update   ",
            Action::Unchanged => "unchanged",
        };
        out.push_str(&format!("{tag}  {}\n", s.what));
    }
    for c in &plan.conflicts {
        out.push_str(&format!("CONFLICT   {c}\n"));
    }
    let count = |a: Action| plan.steps.iter().filter(|s| s.action == a).count();
    out.push_str(&format!(
        "plan: {} to create, {} to update, {} already as wanted\n",
        count(Action::Create),
        count(Action::Update),
        count(Action::Unchanged)
    ));
    out
}
