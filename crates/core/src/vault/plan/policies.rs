//! Policies (whole by nature: exactly the generated HCL), their clean-up, the audit device.

use super::fields::Change;
use super::{ours, Action, Planner};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What the policies tell the roles' planning and the clean-up.
pub(super) struct Policies {
    /// The spec's policies this cluster may change (its own, or new).
    pub(super) managed: Vec<String>,
    /// This cluster's policies in Vault, by name: the first line of each.
    pub(super) headers: BTreeMap<String, String>,
    /// This cluster's policies the spec no longer declares.
    pub(super) stale: Vec<String>,
}

pub(super) fn policies(p: &mut Planner) -> Policies {
    let side = p.side;
    let mut out = Policies {
        managed: vec![],
        headers: BTreeMap::new(),
        stale: vec![],
    };
    let here = format!("# {}: ", side.owner);
    for pol in &side.policies {
        let path = format!("sys/policies/acl/{}", pol.name);
        let hcl = pol.hcl();
        let current = p.read.read(&path);
        let text = current
            .as_ref()
            .and_then(|c| c["policy"].as_str())
            .unwrap_or_default()
            .to_string();
        if text.starts_with(&here) {
            out.headers.insert(pol.name.clone(), first_line(&text));
        }
        let owned = current.is_none() || ours(&text, &side.owner);
        if owned {
            out.managed.push(pol.name.clone());
        }
        let what = format!("policy {}", pol.name);
        match current {
            None => {
                p.step(Action::Create, what, path, json!({"policy": hcl}));
            }
            Some(_) if text == hcl => {
                p.step(Action::Unchanged, what, path, Value::Null);
            }
            Some(_) if !owned => p.conflict(&what, &policy_changes(&text, &hcl)),
            Some(_) => {
                p.step(Action::Update, what, path, json!({"policy": hcl}))
                    .changes = policy_changes(&text, &hcl);
            }
        }
    }
    let declared: Vec<&str> = side.policies.iter().map(|p| p.name.as_str()).collect();
    for name in p.read.list("sys/policies/acl") {
        if declared.contains(&name.as_str()) || name == "root" || name == "default" {
            continue;
        }
        let text = p
            .read
            .read(&format!("sys/policies/acl/{name}"))
            .and_then(|c| c["policy"].as_str().map(str::to_string))
            .unwrap_or_default();
        if text.starts_with(&here) {
            out.headers.insert(name.clone(), first_line(&text));
            out.stale.push(name);
        }
    }
    out
}

/// A policy is replaced whole: the plan names the paths it grants that change, or says the
/// text differs otherwise (capabilities, comments).
fn policy_changes(current: &str, want: &str) -> Vec<Change> {
    let paths = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.trim().strip_prefix("path "))
            .map(|rest| rest.trim_end_matches('{').trim().to_string())
            .collect()
    };
    let (had, wants) = (paths(current), paths(want));
    let mut out = Vec::new();
    let added: Vec<&String> = wants.iter().filter(|p| !had.contains(p)).collect();
    let removed: Vec<&String> = had.iter().filter(|p| !wants.contains(p)).collect();
    for (sign, list) in [("granted", added), ("no longer granted", removed)] {
        if !list.is_empty() {
            let shown: Vec<String> = list.iter().map(|p| crate::outside::shown(p)).collect();
            out.push(Change::new("path", format!("{} {sign}", shown.join(", "))));
        }
    }
    if out.is_empty() {
        out.push(Change::new(
            "policy",
            "the text differs from the generated HCL (capabilities or comments)",
        ));
    }
    out
}

pub(super) fn stale(p: &mut Planner, stale: Vec<String>) {
    for name in stale {
        p.step(
            Action::Delete,
            format!("policy {name} (no longer in the spec)"),
            format!("sys/policies/acl/{name}"),
            Value::Null,
        );
    }
}

/// The audit devices, each at its own path: enabled once (Vault cannot change a device's
/// options in place); a device of another type at its path is a conflict.
pub(super) fn audit(p: &mut Planner) {
    let side = p.side;
    if side.audit.is_empty() {
        return;
    }
    let devices = p.read.read("sys/audit").unwrap_or(Value::Null);
    for audit in &side.audit {
        let path = format!("sys/audit/{}", audit.path);
        let what = format!("audit device {}/ ({})", audit.path, audit.device_type);
        match devices.get(format!("{}/", audit.path)) {
            None => {
                p.step(Action::Create, what, path, json!({"type": audit.device_type, "options": audit.options, "description": side.owner}));
            }
            Some(d) if d["type"] == audit.device_type.as_str() => {
                p.step(Action::Unchanged, what, path, Value::Null);
            }
            Some(_) => p.plan.conflicts.push(format!(
                "{what}: a device of another type is enabled at that path; it is left alone"
            )),
        }
    }
}

/// What to do when Vault refused a step at `path` with `message`, where the general advice
/// ("fix the cause and run again") is not enough: OpenBao (2.3.2 and later) takes audit
/// devices only from its server configuration unless told otherwise.
pub fn failure_hint(path: &str, message: &str) -> Option<&'static str> {
    (path.starts_with("sys/audit/") && message.contains("cannot enable audit device via API"))
        .then_some("OpenBao takes audit devices from its server configuration only: declare them there (`audit \"file\" \"<path>\" { options { … } }`), or allow the API with `unsafe_allow_api_audit_creation = true` in it; then run again (see the configure docs: audit devices)")
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_string()
}
