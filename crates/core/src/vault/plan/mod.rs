//! `configure`'s planner: compare the derived Vault side with what Vault holds now and list
//! the changes that make them agree: `plan = diff(desired, snapshot)`, pure; the edge reads the
//! snapshot and applies the plan.
//!
//! Ownership: a mount or auth method the tool creates carries [`OWNER_MARK`] and the cluster
//! (the side's `owner` tag) in its description, a policy starts with it. What exists without the
//! mark is never changed: a differing foreign policy, role or setting is a conflict, and nothing
//! is applied. Clean-up removes only what carries this cluster's tag: policies, the
//! kubernetes-auth roles bound to exactly one such policy written for that role, and (with
//! `--prune-mounts`) secrets engines.

use crate::duration::{Duration, Grammar};
use crate::error::Error;
use crate::vault::side::{Ca, Engine, TokenReviewer, VaultSide, OWNER_MARK};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
    Unchanged,
}

/// A secret that goes into a step's body only when applying: `field` from `source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    /// The body field, e.g. `password`.
    pub field: String,
    /// `env:NAME` or `file:PATH`.
    pub source: String,
    /// What it is, for messages (`passwordFrom of database db`).
    pub what: String,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub action: Action,
    /// e.g. `policy app-webapp`.
    pub what: String,
    pub path: String,
    pub body: Value,
    /// Resolved into `body` only when applying (all of them before the first change).
    pub secrets: Vec<SecretRef>,
    /// An intermediate CA: the step's write returns a CSR, which these writes carry on.
    pub intermediate: Option<Intermediate>,
}

/// The writes that follow an intermediate CA's CSR (`MOUNT/intermediate/generate/internal`,
/// the step's own write), each from the previous answer: the root signs the CSR, then the
/// signed certificate is set in the mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intermediate {
    /// `ROOT/root/sign-intermediate`; its body gets `csr` from the step's answer.
    pub sign_path: String,
    pub sign_body: Value,
    /// `MOUNT/intermediate/set-signed`; its body is `certificate` from the signature.
    pub set_signed_path: String,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub conflicts: Vec<String>,
    /// Things left alone on purpose, worth saying (e.g. a mount kept without --prune-mounts).
    pub notes: Vec<String>,
}

impl Plan {
    pub fn changes(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.action != Action::Unchanged)
    }
}

/// Makes the plans of a fleet's clusters one plan against one Vault. They were all made
/// against the Vault as it is, so two clusters may both create what they share (a secrets
/// engine, a database connection): the first cluster's write stays, an identical later one
/// (but for its owner tag) is dropped, and a different one is a conflict: nothing is
/// silently overwritten by the cluster applied last.
pub fn one_plan(plans: &mut [Plan], clusters: &[String]) {
    let mut writes: BTreeMap<String, (usize, Value)> = BTreeMap::new();
    let without_owner = |body: &Value| {
        let mut b = body.clone();
        if let Some(m) = b.as_object_mut() {
            m.remove("description");
        }
        b
    };
    for (i, plan) in plans.iter_mut().enumerate() {
        let mut conflicts = Vec::new();
        plan.steps.retain(|step| {
            if matches!(step.action, Action::Unchanged | Action::Delete) {
                return true;
            }
            match writes.get(&step.path) {
                None => {
                    writes.insert(step.path.clone(), (i, without_owner(&step.body)));
                    true
                }
                Some((_, body)) if *body == without_owner(&step.body) => false,
                Some((first, _)) => {
                    conflicts.push(format!(
                        "{} is declared differently by clusters {} and {}: they share it in one Vault, so it must be the same",
                        step.what, clusters[*first], clusters[i]
                    ));
                    false
                }
            }
        });
        plan.conflicts.extend(conflicts);
    }
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The PEM named by `kubernetesAuth.caCertFrom: file:…`, read by the command beforehand.
    pub kubernetes_ca_cert: Option<String>,
    /// Delete this cluster's secrets engines that the spec no longer declares (with their data).
    pub prune_mounts: bool,
    /// Send again what Vault cannot show back: database admin passwords (and rotate them again
    /// where `rotateRoot`) and the token reviewer JWT.
    pub reset_connections: bool,
}

/// Seconds in a Vault duration (`90`, `1m`, `72h`, `3d`), for comparing with what Vault returns.
pub fn seconds(d: &str) -> i64 {
    Duration::parse(d, Grammar::Vault).map_or(0, Duration::whole_seconds)
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

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// True when a description or policy header carries the tool's mark (any cluster's).
fn marked(text: &str) -> bool {
    text.starts_with(OWNER_MARK) || text.starts_with(&format!("# {OWNER_MARK}"))
}

/// True when a description or policy header carries this cluster's tag (`owner`): only then
/// may a run change or delete it. Another cluster's objects on the same Vault are foreign.
fn ours(text: &str, owner: &str) -> bool {
    let text = text.strip_prefix("# ").unwrap_or(text);
    text.strip_prefix(owner)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(':'))
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
            secrets: vec![],
            intermediate: None,
        });
    }

    /// Create when missing; update when different and ours; conflict when different and not.
    /// Returns the action taken (None for a conflict).
    fn converge(
        &mut self,
        what: String,
        path: String,
        body: Value,
        current: Option<Value>,
        same: impl Fn(&Value) -> bool,
        owned: bool,
    ) -> Option<Action> {
        let action = match current {
            None => Action::Create,
            Some(c) if same(&c) => Action::Unchanged,
            Some(_) if owned => Action::Update,
            Some(_) => {
                self.plan.conflicts.push(format!(
                    "{what} exists with other settings and was not created by kubectl-vault for this cluster: it is left alone"
                ));
                return None;
            }
        };
        self.step(action, what, path, body);
        Some(action)
    }

    fn mount_owned(&self, mount: &str) -> bool {
        self.owned_mounts.iter().any(|m| m == mount)
    }
}

/// What Vault holds, as far as the planner asked: each read's `data` (`None`: 404) and each
/// list's keys (empty: 404), by path. The edge fills it ([`crate::edge::vault::Vault::fill`]).
#[derive(Debug, Default)]
pub struct Snapshot {
    reads: BTreeMap<String, Option<Value>>,
    lists: BTreeMap<String, Vec<String>>,
}

impl Snapshot {
    pub fn insert_read(&mut self, path: String, data: Option<Value>) {
        self.reads.insert(path, data);
    }
    pub fn insert_list(&mut self, path: String, keys: Vec<String>) {
        self.lists.insert(path, keys);
    }
}

/// A read the planner needs before it can plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// `GET /v1/<path>`
    Read(String),
    /// `LIST /v1/<path>`
    List(String),
}

/// The planner's answer: the plan, or the reads it lacks (in the order it would make them).
#[derive(Debug)]
pub enum Planned {
    Plan(Plan),
    Needs(Vec<Query>),
}

/// The snapshot as the planner sees it: a path not in it reads as absent, and is noted.
/// What to read depends on what exists (a mount's config only when the mount does), so the
/// edge fills the snapshot in a few rounds; a plan is made only from a complete one.
struct Lookup<'a> {
    snapshot: &'a Snapshot,
    missing: RefCell<Vec<Query>>,
}

impl Lookup<'_> {
    fn read(&self, path: &str) -> Option<Value> {
        match self.snapshot.reads.get(path) {
            Some(data) => data.clone(),
            None => {
                self.missing.borrow_mut().push(Query::Read(path.into()));
                None
            }
        }
    }

    fn list(&self, path: &str) -> Vec<String> {
        match self.snapshot.lists.get(path) {
            Some(keys) => keys.clone(),
            None => {
                self.missing.borrow_mut().push(Query::List(path.into()));
                vec![]
            }
        }
    }
}

/// `plan = diff(desired, snapshot)`: the changes that make Vault hold `side`, or the reads
/// the snapshot still lacks. Until it is complete a planning error waits (it may come from
/// a missing read taken as absent).
pub fn plan(side: &VaultSide, snapshot: &Snapshot, options: &Options) -> Result<Planned, Error> {
    let read = Lookup {
        snapshot,
        missing: RefCell::new(vec![]),
    };
    let planned = diff(side, &read, options);
    let missing = read.missing.into_inner();
    if !missing.is_empty() {
        return Ok(Planned::Needs(missing));
    }
    planned.map(Planned::Plan)
}

fn diff(side: &VaultSide, read: &Lookup, options: &Options) -> Result<Plan, Error> {
    let mut p = Planner {
        plan: Plan::default(),
        owned_mounts: vec![],
    };
    let mounts = read.read("sys/mounts").unwrap_or(Value::Null);
    let auths = read.read("sys/auth").unwrap_or(Value::Null);

    // Kubernetes auth method and its config.
    let a = &side.kubernetes_auth;
    let auth_key = format!("{}/", a.mount);
    match auths.get(&auth_key) {
        None => {
            p.step(Action::Create, format!("auth method {}/ (kubernetes)", a.mount), format!("sys/auth/{}", a.mount), json!({"type": "kubernetes", "description": side.owner}));
        }
        Some(m) if m["type"] != "kubernetes" => {
            return Err(Error::check_failed(format!(
                "auth method {}/ exists with type {}, not kubernetes: choose another vaultConfig.kubernetesAuth.mount",
                a.mount, m["type"]
            )))
        }
        Some(m) => p.step(Action::Unchanged, format!("auth method {}/ (kubernetes{})", a.mount, if marked(m["description"].as_str().unwrap_or_default()) { "" } else { ", not managed by kubectl-vault" }), format!("sys/auth/{}", a.mount), Value::Null),
    }
    let auth_exists = auths.get(&auth_key).is_some();
    let auth_owned = auths
        .get(&auth_key)
        .is_none_or(|m| ours(m["description"].as_str().unwrap_or_default(), &side.owner));
    let mut config =
        json!({"kubernetes_host": a.host, "disable_local_ca_jwt": a.disable_local_ca_jwt});
    if let Some(ca) = a
        .ca_cert_from
        .as_deref()
        .and_then(|c| c.strip_prefix("file:"))
    {
        let pem = options.kubernetes_ca_cert.as_deref().ok_or_else(|| {
            Error::bug(format!("caCertFrom file:{ca} was not read before planning"))
        })?;
        config["kubernetes_ca_cert"] = json!(pem);
    }
    let reviewer_jwt = match &a.token_reviewer {
        TokenReviewer::ServiceAccount { jwt_from, .. } => Some(SecretRef {
            field: "token_reviewer_jwt".into(),
            source: jwt_from.clone(),
            what: "vaultConfig.kubernetesAuth.tokenReviewer.jwtFrom".into(),
        }),
        _ => None,
    };
    let current = if auth_exists {
        read.read(&format!("auth/{}/config", a.mount))
    } else {
        None
    };
    let want = config.clone();
    let wants_jwt = reviewer_jwt.is_some();
    let reset_jwt = wants_jwt && options.reset_connections;
    let before = p.plan.steps.len();
    p.converge(
        format!(
            "kubernetes auth config ({}{})",
            a.host,
            match &a.token_reviewer {
                TokenReviewer::Local => "",
                TokenReviewer::ServiceAccount { .. } => ", token reviewer JWT",
                TokenReviewer::Client { .. } => ", each client's JWT reviews itself",
            }
        ),
        format!("auth/{}/config", a.mount),
        config,
        current,
        |c| {
            !reset_jwt
                && c["kubernetes_host"] == want["kubernetes_host"]
                && c["disable_local_ca_jwt"].as_bool().unwrap_or(false)
                    == want["disable_local_ca_jwt"].as_bool().unwrap_or(false)
                && c["token_reviewer_jwt_set"].as_bool().unwrap_or(false) == wants_jwt
                && (want.get("kubernetes_ca_cert").is_none()
                    || c["kubernetes_ca_cert"].as_str().map(str::trim)
                        == want["kubernetes_ca_cert"].as_str().map(str::trim))
        },
        auth_owned,
    );
    // The config is written whole: a reviewer JWT goes with every write of it.
    if let (Some(s), Some(jwt)) = (p.plan.steps.get_mut(before), reviewer_jwt) {
        s.secrets.push(jwt);
    }

    // Secrets engines.
    let declared: Vec<&str> = side.mounts.iter().map(|m| m.path.as_str()).collect();
    for m in &side.mounts {
        let key = format!("{}/", m.path);
        let mut body = json!({"type": m.engine.mount_type(), "description": side.owner});
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
                if ours(cur["description"].as_str().unwrap_or_default(), &side.owner) {
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
        let current = if mounts.get(format!("{}/", k.mount)).is_none() {
            None
        } else {
            read.read(&path)
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
        let current = if exists { read.read(&path) } else { None };
        let body = json!({
            "plugin_name": db.plugin_name,
            "connection_url": db.connection_url,
            "username": db.username,
            "allowed_roles": db.allowed_roles(),
            "verify_connection": true,
        });
        let same = |c: &Value| {
            c["plugin_name"] == body["plugin_name"]
                && c["connection_details"]["connection_url"] == body["connection_url"]
                && c["connection_details"]["username"] == body["username"]
                && sorted(strings(&c["allowed_roles"])) == sorted(strings(&body["allowed_roles"]))
        };
        let owned = p.mount_owned(&db.mount);
        let password = SecretRef {
            field: "password".into(),
            source: db.password_from.clone(),
            what: format!("vaultConfig.databases.{}.passwordFrom", db.mount),
        };
        let what = format!("database connection {path}");
        // The password cannot be read back: a connection that matches otherwise is unchanged.
        let (action, send_password) = match &current {
            None => (Some(Action::Create), true),
            Some(c) if !same(c) && !owned => {
                p.plan.conflicts.push(format!(
                    "{what} exists with other settings and was not created by kubectl-vault for this cluster: it is left alone"
                ));
                (None, false)
            }
            Some(_) if options.reset_connections && owned => (Some(Action::Update), true),
            Some(c) if same(c) => (Some(Action::Unchanged), false),
            // Vault keeps the password it has (the rotated one) when none is sent.
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
            p.step(action, label, path.clone(), body.clone());
            if send_password {
                if let Some(s) = p.plan.steps.last_mut() {
                    s.secrets.push(password);
                }
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
            let current = if exists { read.read(&path) } else { None };
            let body = json!({
                "db_name": db.name,
                "creation_statements": r.creation_statements,
                "revocation_statements": r.revocation_statements,
                "default_ttl": r.default_ttl.as_deref().map(seconds).unwrap_or(0),
                "max_ttl": r.max_ttl.as_deref().map(seconds).unwrap_or(0),
            });
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
        // The mount's default issuer, as the script checks it (`config/issuers`).
        let has_issuer = pki.ca.is_some()
            && exists
            && read
                .read(&format!("{}/config/issuers", pki.mount))
                .is_some_and(|c| c["default"].as_str().is_some_and(|d| !d.is_empty()));
        match &pki.ca {
            None => {}
            Some(_) if has_issuer => {
                let (path, which) = match &pki.ca {
                    Some(Ca::Intermediate(_)) => ("intermediate/generate/internal", "intermediate"),
                    _ => ("root/generate/internal", "root"),
                };
                p.step(
                    Action::Unchanged,
                    format!("issuer in {}/ (exists; no new {which} CA)", pki.mount),
                    format!("{}/{path}", pki.mount),
                    Value::Null,
                );
            }
            Some(Ca::Root(ca)) => {
                let mut body = json!({"common_name": ca.common_name});
                if let Some(t) = &ca.ttl {
                    body["ttl"] = json!(t);
                }
                p.step(
                    Action::Create,
                    format!("root CA \"{}\" in {}/", ca.common_name, pki.mount),
                    format!("{}/root/generate/internal", pki.mount),
                    body,
                );
            }
            Some(Ca::Intermediate(ca)) => {
                let mut sign_body = json!({"common_name": ca.common_name, "format": "pem_bundle"});
                if let Some(t) = &ca.ttl {
                    sign_body["ttl"] = json!(t);
                }
                p.step(
                    Action::Create,
                    format!(
                        "intermediate CA \"{}\" in {}/, signed by the root CA of {}/",
                        ca.common_name, pki.mount, ca.signed_by
                    ),
                    format!("{}/intermediate/generate/internal", pki.mount),
                    json!({"common_name": ca.common_name}),
                );
                if let Some(step) = p.plan.steps.last_mut() {
                    step.intermediate = Some(Intermediate {
                        sign_path: format!("{}/root/sign-intermediate", ca.signed_by),
                        sign_body,
                        set_signed_path: format!("{}/intermediate/set-signed", pki.mount),
                    });
                }
            }
        }
        if let Some(Ca::Intermediate(ca)) = &pki.ca {
            // Where clients find the CA and its CRL (in the certificates it issues).
            let path = format!("{}/config/urls", pki.mount);
            let current = if exists { read.read(&path) } else { None };
            let body = json!({
                "issuing_certificates": [ca.issuing_certificates],
                "crl_distribution_points": [ca.crl_distribution_points],
            });
            let want = body.clone();
            p.converge(
                format!("CA URLs of {}/", pki.mount),
                path,
                body,
                current,
                |c| {
                    strings(&c["issuing_certificates"]) == strings(&want["issuing_certificates"])
                        && strings(&c["crl_distribution_points"])
                            == strings(&want["crl_distribution_points"])
                },
                owned,
            );
        }
        for r in &pki.roles {
            let path = format!("{}/roles/{}", pki.mount, r.name);
            let current = if exists { read.read(&path) } else { None };
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
    // This cluster's policies in Vault, by name: the first line of each.
    let mut ours_here: BTreeMap<String, String> = BTreeMap::new();
    let here = format!("# {}: ", side.owner);
    for pol in &side.policies {
        let path = format!("sys/policies/acl/{}", pol.name);
        let hcl = pol.hcl();
        let current = read.read(&path);
        let text = current
            .as_ref()
            .and_then(|c| c["policy"].as_str())
            .unwrap_or_default()
            .to_string();
        if text.starts_with(&here) {
            ours_here.insert(pol.name.clone(), first_line(&text));
        }
        let owned = current.is_none() || ours(&text, &side.owner);
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
    let declared_policies: Vec<&str> = side.policies.iter().map(|p| p.name.as_str()).collect();
    let mut stale_policies = Vec::new();
    for name in read.list("sys/policies/acl") {
        if declared_policies.contains(&name.as_str()) || name == "root" || name == "default" {
            continue;
        }
        let text = read
            .read(&format!("sys/policies/acl/{name}"))
            .and_then(|c| c["policy"].as_str().map(str::to_string))
            .unwrap_or_default();
        if text.starts_with(&here) {
            ours_here.insert(name.clone(), first_line(&text));
            stale_policies.push(name);
        }
    }

    // Kubernetes-auth roles: ours when they carry a policy we manage (roles have no description).
    for r in &side.roles {
        let path = format!("auth/{}/role/{}", a.mount, r.name);
        let current = if auth_exists { read.read(&path) } else { None };
        let owned = current.as_ref().is_none_or(|c| {
            strings(&c["token_policies"])
                .iter()
                .any(|p| managed_policies.contains(p))
        });
        let body = json!({
            "bound_service_account_names": r.service_accounts,
            "bound_service_account_namespaces": r.namespaces,
            "token_policies": r.policies,
            "audience": r.audience,
            "token_ttl": r.token_ttl.as_deref().map(seconds).unwrap_or(0),
            "token_period": r.token_period.as_deref().map(seconds).unwrap_or(0),
        });
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
        let devices = read.read("sys/audit").unwrap_or(Value::Null);
        let path = format!("sys/audit/{}", audit.path);
        let what = format!("audit device {}/ ({})", audit.path, audit.device_type);
        match devices.get(format!("{}/", audit.path)) {
            None => p.step(Action::Create, what, path, json!({"type": audit.device_type, "options": audit.options, "description": side.owner})),
            Some(d) if d["type"] == audit.device_type.as_str() => p.step(Action::Unchanged, what, path, Value::Null),
            Some(_) => p.plan.conflicts.push(format!("{what}: a device of another type is enabled at that path; it is left alone")),
        }
    }

    // Clean-up of what this cluster's spec created and no longer declares: roles first (a role
    // is ours when bound to exactly one policy of ours written for that role), then policies,
    // then (only with --prune-mounts) secrets engines.
    let declared_roles: Vec<&str> = side.roles.iter().map(|r| r.name.as_str()).collect();
    if auth_exists {
        for name in read.list(&format!("auth/{}/role", a.mount)) {
            if declared_roles.contains(&name.as_str()) {
                continue;
            }
            let path = format!("auth/{}/role/{name}", a.mount);
            let Some(role) = read.read(&path) else {
                continue;
            };
            let policies = strings(&role["token_policies"]);
            let written_for_it = match policies.as_slice() {
                [only] => ours_here
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
    for name in stale_policies {
        p.step(
            Action::Delete,
            format!("policy {name} (no longer in the spec)"),
            format!("sys/policies/acl/{name}"),
            Value::Null,
        );
    }
    if let Some(all) = mounts.as_object() {
        for (key, m) in all {
            let path = key.trim_end_matches('/');
            if declared.contains(&path) || m["description"].as_str() != Some(side.owner.as_str()) {
                continue;
            }
            let label = format!(
                "secrets engine {path}/ ({}) and all its data (no longer in the spec)",
                m["type"].as_str().unwrap_or("?")
            );
            if options.prune_mounts {
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
    Ok(p.plan)
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_string()
}

/// The plan, one line per step.
pub fn describe(plan: &Plan) -> String {
    let mut out = String::new();
    for s in &plan.steps {
        let tag = match s.action {
            Action::Create => "create   ",
            Action::Update => "update   ",
            Action::Delete => "delete   ",
            Action::Unchanged => "unchanged",
        };
        out.push_str(&format!("{tag}  {}\n", s.what));
    }
    for c in &plan.conflicts {
        out.push_str(&format!("CONFLICT   {c}\n"));
    }
    for n in &plan.notes {
        out.push_str(&format!("note       {n}\n"));
    }
    let count = |a: Action| plan.steps.iter().filter(|s| s.action == a).count();
    out.push_str(&format!(
        "plan: {} to create, {} to update, {} to delete, {} already as wanted\n",
        count(Action::Create),
        count(Action::Update),
        count(Action::Delete),
        count(Action::Unchanged)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model;
    use crate::spec::{self, validate};
    use crate::vault::side as vault_side;

    fn side() -> VaultSide {
        let text = include_str!("../../../../fixtures/example.yaml").to_string();
        let sourced = spec::parse("example.yaml", text).unwrap();
        assert!(validate::check(&sourced.spec, &sourced.index)
            .errors
            .is_empty());
        let spec = validate::typed(sourced.spec, &sourced.index).unwrap();
        vault_side::derive(&model::build(&spec, "example.yaml"))
    }

    /// An intermediate whose mount sorts before its root's is still planned after the root
    /// (the root must exist to sign it), carries the sign and set-signed writes, and is left
    /// alone once its mount has a default issuer.
    #[test]
    fn an_intermediate_is_planned_after_its_root_and_only_without_an_issuer() {
        let text = include_str!("../../../../fixtures/pki-intermediate.yaml")
            .replace("pki_int", "a_int")
            .replace(
                "    pki:\n      maxLeaseTtl: 87600h",
                "    z_root:\n      maxLeaseTtl: 87600h",
            )
            .replace("signedBy: pki", "signedBy: z_root");
        let sourced = spec::parse("pki.yaml", text).unwrap();
        let findings = validate::check(&sourced.spec, &sourced.index);
        assert!(findings.errors.is_empty(), "{:?}", findings.errors);
        let spec = validate::typed(sourced.spec, &sourced.index).unwrap();
        let side = vault_side::derive(&model::build(&spec, "pki.yaml"));
        let mounts: Vec<&str> = side.pki.iter().map(|p| p.mount.as_str()).collect();
        assert_eq!(mounts, ["z_root", "a_int"]);

        let planned = |issuer: Option<&str>| {
            let mut snapshot = Snapshot::default();
            loop {
                match plan(&side, &snapshot, &Options::default()).unwrap() {
                    Planned::Plan(p) => break p,
                    Planned::Needs(queries) => {
                        for q in queries {
                            match q {
                                Query::Read(p) if p == "sys/mounts" && issuer.is_some() => {
                                    snapshot.insert_read(p, Some(json!({"a_int/": {"type": "pki"}, "z_root/": {"type": "pki"}})))
                                }
                                Query::Read(p) if p == "a_int/config/issuers" => snapshot
                                    .insert_read(p, issuer.map(|d| json!({"default": d}))),
                                Query::Read(p) => snapshot.insert_read(p, None),
                                Query::List(p) => snapshot.insert_list(p, vec![]),
                            }
                        }
                    }
                }
            }
        };
        let fresh = planned(None);
        let at = |plan: &Plan, path: &str| {
            plan.steps
                .iter()
                .position(|s| s.path == path)
                .unwrap_or_else(|| panic!("no step {path}"))
        };
        assert!(
            at(&fresh, "z_root/root/generate/internal")
                < at(&fresh, "a_int/intermediate/generate/internal")
        );
        let step = &fresh.steps[at(&fresh, "a_int/intermediate/generate/internal")];
        assert_eq!(step.action, Action::Create);
        assert_eq!(
            step.intermediate,
            Some(Intermediate {
                sign_path: "z_root/root/sign-intermediate".into(),
                sign_body: json!({"common_name": "Lab Intermediate CA", "format": "pem_bundle", "ttl": "43800h"}),
                set_signed_path: "a_int/intermediate/set-signed".into(),
            })
        );
        let signed = planned(Some("0b5e6d7a"));
        let step = &signed.steps[at(&signed, "a_int/intermediate/generate/internal")];
        assert_eq!(step.action, Action::Unchanged);
        assert!(step.intermediate.is_none());
    }

    /// The planner asks for what it lacks, rounds end, and an empty Vault means create all.
    #[test]
    fn an_empty_vault_is_planned_from_a_snapshot_filled_in_rounds() {
        let side = side();
        let options = Options::default();
        let mut snapshot = Snapshot::default();
        let mut rounds = vec![];
        let planned = loop {
            match plan(&side, &snapshot, &options).unwrap() {
                Planned::Plan(p) => break p,
                Planned::Needs(queries) => {
                    assert!(rounds.len() < 5, "the rounds end");
                    for q in &queries {
                        match q {
                            Query::Read(p) => snapshot.insert_read(p.clone(), None),
                            Query::List(p) => snapshot.insert_list(p.clone(), vec![]),
                        }
                    }
                    rounds.push(queries);
                }
            }
        };
        assert_eq!(
            rounds[0][..2],
            [
                Query::Read("sys/mounts".into()),
                Query::Read("sys/auth".into())
            ]
        );
        assert!(planned.conflicts.is_empty());
        assert!(
            planned.steps.iter().all(|s| s.action == Action::Create),
            "{:?}",
            planned.steps
        );
        // Planning again from the same snapshot reads nothing and plans the same.
        let Planned::Plan(again) = plan(&side, &snapshot, &options).unwrap() else {
            panic!("a complete snapshot needs no reads")
        };
        assert_eq!(again.steps.len(), planned.steps.len());
    }
}
