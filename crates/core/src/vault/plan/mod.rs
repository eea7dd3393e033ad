//! `configure`'s planner: compare the derived Vault side with what Vault holds now and list
//! the changes that make them agree: `plan = diff(desired, snapshot)`, pure; the edge reads the
//! snapshot and applies the plan.
//!
//! Field by field ([`fields`]): an object is compared only on the fields the spec names, an
//! update sends only those (PATCH or read-modify-write where the endpoint would reset the
//! rest), and the plan lists each field it changes.
//!
//! Ownership: a mount or auth method the tool creates carries [`OWNER_MARK`] and the cluster
//! (the side's `owner` tag) in its description, a policy starts with it. What exists without the
//! mark is never changed: a differing foreign policy, role or setting is a conflict, and nothing
//! is applied (a foreign mount's own settings, its tune, URLs and auto-tidy, are left alone
//! with a note). Clean-up removes only what carries this cluster's tag: policies, the
//! kubernetes-auth roles bound to exactly one such policy written for that role (JWT roles
//! alike, and identity groups tagged for this cluster), and (with
//! `--prune-mounts`) secrets engines.

mod auth;
mod cloud;
mod cloud_gcp_azure;
#[cfg(test)]
mod cloud_tests;
mod engines;
pub mod fields;
mod jwt;
#[cfg(test)]
mod jwt_tests;
mod pki;
mod policies;
#[cfg(test)]
mod tests;

use crate::error::Error;
use crate::vault::side::{VaultSide, OWNER_MARK};
use fields::{changes, Field};
pub use fields::{seconds, Change, Write};
pub use policies::failure_hint;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
    Unchanged,
}

/// How a step's body is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Post,
    /// A JSON merge patch: only the fields in the body change.
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
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
    pub method: Method,
    pub body: Value,
    /// An update's field-level changes, for the plan (`max_ttl: 72h → 48h`).
    pub changes: Vec<Change>,
    /// Resolved into `body` only when applying (all of them before the first change).
    pub secrets: Vec<SecretRef>,
    /// An intermediate CA: the step's write returns a CSR, which these writes carry on.
    pub intermediate: Option<Intermediate>,
    /// Body fields only known once earlier steps ran (an accessor, an id): read just before
    /// the write.
    pub fills: Vec<Fill>,
}

/// A body field read just before its step's write: `field` is the value at `pointer` (a JSON
/// pointer) in the `data` of `GET path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fill {
    pub field: String,
    pub path: String,
    pub pointer: String,
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
            // A write to a collection (a group alias, whose id Vault assigns) is told apart
            // by the name it creates.
            let key = match step.fills.is_empty() {
                true => step.path.clone(),
                false => format!("{} {}", step.path, step.body["name"]),
            };
            match writes.get(&key) {
                None => {
                    writes.insert(key, (i, without_owner(&step.body)));
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

/// What the parts of the planner share: the plan so far, the side, the reads.
struct Planner<'a> {
    plan: Plan,
    side: &'a VaultSide,
    read: &'a Lookup<'a>,
    options: &'a Options,
    /// `sys/mounts` and `sys/auth` as read.
    mounts: Value,
    auths: Value,
    /// Mounts this cluster's spec created (or creates in this plan).
    owned_mounts: Vec<String>,
}

impl Planner<'_> {
    fn step(&mut self, action: Action, what: String, path: String, body: Value) -> &mut Step {
        self.plan.steps.push(Step {
            method: if action == Action::Delete {
                Method::Delete
            } else {
                Method::Post
            },
            action,
            what,
            path,
            body,
            changes: vec![],
            secrets: vec![],
            intermediate: None,
            fills: vec![],
        });
        self.plan.steps.last_mut().expect("just pushed")
    }

    fn conflict(&mut self, what: &str, changes: &[Change]) {
        self.plan.conflicts.push(format!(
            "{what} exists with other settings ({}) and was not created by kubectl-vault for this cluster: it is left alone",
            joined(changes)
        ));
    }

    /// Create when missing; unchanged when every named field agrees; update (as `write` says,
    /// so that what the spec does not name keeps its value) when ours; a conflict when not.
    /// Returns the action taken (None for a conflict).
    fn converge(
        &mut self,
        what: String,
        path: String,
        fields: &[Field],
        current: Option<Value>,
        owned: bool,
        write: Write,
    ) -> Option<Action> {
        let Some(current) = current else {
            self.step(Action::Create, what, path, fields::body(fields));
            return Some(Action::Create);
        };
        let changes = changes(fields, &current);
        if changes.is_empty() {
            self.step(Action::Unchanged, what, path, Value::Null);
            return Some(Action::Unchanged);
        }
        if !owned {
            self.conflict(&what, &changes);
            return None;
        }
        let body = fields::update_body(fields, &current, write);
        let step = self.step(Action::Update, what, path, body);
        step.changes = changes;
        if write == Write::Patch {
            step.method = Method::Patch;
        }
        Some(Action::Update)
    }

    /// A setting of a whole mount (its tune, URLs, auto-tidy): converged on a mount of ours;
    /// on a foreign mount a difference is only noted, never changed (nor a conflict: the
    /// mount's own owner decides them).
    fn mount_setting(
        &mut self,
        mount: &str,
        exists: bool,
        what: String,
        path: String,
        fields: &[Field],
        current: impl FnOnce(&Lookup) -> Option<Value>,
    ) {
        let current = if exists { current(self.read) } else { None };
        if self.mount_owned(mount) || current.is_none() {
            self.converge(what, path, fields, current, true, Write::Merge);
            return;
        }
        let differs = current.map(|c| changes(fields, &c)).unwrap_or_default();
        if differs.is_empty() {
            self.step(Action::Unchanged, what, path, Value::Null);
        } else {
            self.plan.notes.push(format!(
                "{what} differs from the spec ({}), but {mount}/ was not created by kubectl-vault for this cluster: left alone",
                joined(&differs)
            ));
        }
    }

    fn mount_owned(&self, mount: &str) -> bool {
        self.owned_mounts.iter().any(|m| m == mount)
    }

    fn mount_exists(&self, mount: &str) -> bool {
        self.mounts.get(format!("{mount}/")).is_some()
    }
}

fn joined(changes: &[Change]) -> String {
    changes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
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
        side,
        read,
        options,
        mounts: read.read("sys/mounts").unwrap_or(Value::Null),
        auths: read.read("sys/auth").unwrap_or(Value::Null),
        owned_mounts: vec![],
    };
    auth::method_and_config(&mut p)?;
    engines::mounts(&mut p)?;
    engines::transit_keys(&mut p);
    engines::databases(&mut p);
    cloud::aws(&mut p)?;
    cloud_gcp_azure::gcp(&mut p)?;
    cloud_gcp_azure::azure(&mut p)?;
    pki::mounts(&mut p);
    let ours_here = policies::policies(&mut p);
    auth::roles(&mut p, &ours_here.managed);
    jwt::methods(&mut p, &ours_here.managed)?;
    policies::audit(&mut p);
    // Clean-up of what this cluster's spec created and no longer declares: roles first (a role
    // is ours when bound to exactly one policy of ours written for that role), then policies,
    // then (only with --prune-mounts) secrets engines.
    auth::stale_roles(&mut p, &ours_here.headers);
    jwt::stale(&mut p, &ours_here.headers);
    policies::stale(&mut p, ours_here.stale);
    engines::stale_mounts(&mut p);
    Ok(p.plan)
}

/// The plan, one line per step, and under an update each field it changes.
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
        for c in &s.changes {
            out.push_str(&format!("             {c}\n"));
        }
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
