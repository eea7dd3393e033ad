//! Field by field: the settings the spec names for one Vault object, compared with what Vault
//! holds. An object is unchanged when every named field agrees; an update sends only what the
//! spec names (see [`Write`]), so every other field keeps its value, and the plan lists the
//! fields it changes (`max_ttl: 72h → 48h`).

use crate::duration::{Duration, Grammar};
use crate::vault::side::Setting;
use serde_json::{Map, Value};
use std::fmt;

/// How an update reaches Vault without resetting what the spec does not name. Each object's
/// endpoint was tried on OpenBao (tests/it/configure.rs proves each keeps a field set by hand).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// `POST` the named fields: the endpoint keeps every field a request does not carry
    /// (kubernetes-auth roles, database connections and roles, mount tunes, PKI URLs and
    /// auto-tidy).
    Merge,
    /// `PATCH` (JSON merge patch) the changed fields: PKI roles, whose `POST` resets every
    /// field it does not carry (Vault 1.12+ and OpenBao have `PATCH` for them).
    Patch,
    /// Read-modify-write: `POST` the fields `keep` as Vault holds them with the named fields
    /// over them: the kubernetes auth config, which has no `PATCH` and whose `POST` resets the
    /// rest.
    Whole(&'static [&'static str]),
}

/// How a field is compared and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Int,
    Text,
    /// A duration: wanted in seconds (Vault answers in seconds); absent is 0.
    Seconds,
    /// A list in order (Vault also answers a comma-separated string).
    List,
    /// A list in any order.
    Set,
    /// A PEM document: compared without surrounding blank space, never shown.
    Pem,
    /// Sent with every write, never compared (e.g. `verify_connection`).
    WriteOnly,
    /// A map of strings (a JWT role's `bound_claims`): absent is empty.
    Map,
    /// PEM documents in any order, each compared without surrounding blank space, never shown
    /// (a JWT auth method's `jwt_validation_pubkeys`).
    Pems,
}

/// One field the spec names: where Vault's answer holds it, the wanted value, its kind.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    /// A JSON pointer into the read's `data`; `None`: `/<name>`.
    read: Option<&'static str>,
    pub want: Value,
    kind: Kind,
}

impl Field {
    pub fn new(name: &'static str, kind: Kind, want: Value) -> Field {
        Field {
            name,
            read: None,
            want,
            kind,
        }
    }

    /// Read from elsewhere in Vault's answer (e.g. `/connection_details/username`).
    pub fn at(mut self, pointer: &'static str) -> Field {
        self.read = Some(pointer);
        self
    }

    /// The field a [`Setting`] of the side makes.
    pub fn setting(name: &'static str, setting: &Setting) -> Field {
        match setting {
            Setting::Bool(b) => Field::new(name, Kind::Bool, Value::Bool(*b)),
            Setting::Int(n) => Field::new(name, Kind::Int, Value::from(*n)),
            Setting::Text(t) => Field::new(name, Kind::Text, Value::String(t.clone())),
            Setting::Duration(d) => Field::new(name, Kind::Seconds, Value::from(seconds(d))),
            Setting::List(l) => Field::new(name, Kind::List, Value::from(l.clone())),
        }
    }

    fn current<'a>(&self, c: &'a Value) -> Option<&'a Value> {
        match self.read {
            Some(p) => c.pointer(p),
            None => c.get(self.name),
        }
        .filter(|v| !v.is_null())
    }

    fn same(&self, c: &Value) -> bool {
        let cur = self.current(c);
        match self.kind {
            Kind::Bool => as_bool(cur) == as_bool(Some(&self.want)),
            Kind::Int | Kind::Seconds => as_seconds(cur) == as_seconds(Some(&self.want)),
            Kind::Text => as_text(cur) == as_text(Some(&self.want)),
            Kind::List => strings(cur) == strings(Some(&self.want)),
            Kind::Set => sorted(strings(cur)) == sorted(strings(Some(&self.want))),
            Kind::Pem => as_text(cur).trim() == as_text(Some(&self.want)).trim(),
            Kind::WriteOnly => true,
            Kind::Map => as_map(cur) == as_map(Some(&self.want)),
            Kind::Pems => pems(cur) == pems(Some(&self.want)),
        }
    }

    /// The value as the plan shows it (Vault's values are outside text: escaped, bounded).
    fn shown(&self, v: Option<&Value>) -> String {
        match self.kind {
            Kind::Bool => as_bool(v).to_string(),
            Kind::Int => as_seconds(v).to_string(),
            Kind::Seconds => duration_text(as_seconds(v)),
            Kind::Text => match as_text(v) {
                t if t.is_empty() => "\"\"".into(),
                t => crate::outside::shown(&t),
            },
            Kind::List | Kind::Set => format!(
                "[{}]",
                strings(v)
                    .iter()
                    .map(|s| crate::outside::shown(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Kind::Pem | Kind::WriteOnly => match as_text(v) {
                t if t.trim().is_empty() => "none".into(),
                _ => "a certificate".into(),
            },
            Kind::Map => format!(
                "{{{}}}",
                as_map(v)
                    .iter()
                    .map(|(k, v)| format!(
                        "{}: {}",
                        crate::outside::shown(k),
                        crate::outside::shown(v)
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Kind::Pems => format!("{} key(s)", pems(v).len()),
        }
    }
}

/// One field an update changes, as the plan shows it: `max_ttl: 72h → 48h`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub field: String,
    pub detail: String,
}

impl Change {
    pub fn new(field: impl Into<String>, detail: impl Into<String>) -> Change {
        Change {
            field: field.into(),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.detail)
    }
}

/// The named fields whose value in `current` differs from the wanted one.
pub fn changes(fields: &[Field], current: &Value) -> Vec<Change> {
    fields
        .iter()
        .filter(|f| !f.same(current))
        .map(|f| {
            let detail = match f.kind {
                Kind::Pem | Kind::Pems => {
                    format!("{} → the spec's", f.shown(f.current(current)))
                }
                _ => format!(
                    "{} → {}",
                    f.shown(f.current(current)),
                    f.shown(Some(&f.want))
                ),
            };
            Change::new(f.name, detail)
        })
        .collect()
}

/// Every named field, as a create sends it.
pub fn body(fields: &[Field]) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|f| (f.name.to_string(), f.want.clone()))
            .collect::<Map<_, _>>(),
    )
}

/// What an update sends: see [`Write`].
pub fn update_body(fields: &[Field], current: &Value, write: Write) -> Value {
    match write {
        Write::Merge => body(fields),
        Write::Patch => {
            let changed: Vec<Field> = fields
                .iter()
                .filter(|f| !f.same(current) || f.kind == Kind::WriteOnly)
                .cloned()
                .collect();
            body(&changed)
        }
        Write::Whole(keep) => {
            let mut out = Map::new();
            for name in keep {
                if let Some(v) = current.get(*name).filter(|v| !v.is_null()) {
                    out.insert(name.to_string(), v.clone());
                }
            }
            for f in fields {
                out.insert(f.name.to_string(), f.want.clone());
            }
            Value::Object(out)
        }
    }
}

/// Seconds in a Vault duration (`90`, `1m`, `72h`, `3d`), for comparing with what Vault returns.
pub fn seconds(d: &str) -> i64 {
    Duration::parse(d, Grammar::Vault).map_or(0, Duration::whole_seconds)
}

/// Seconds as the plan shows them: `72h`, `90m`, `45s`.
pub fn duration_text(s: i64) -> String {
    match s {
        0 => "0s".into(),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn as_bool(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    }
}

fn as_seconds(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => seconds(s),
        _ => 0,
    }
}

fn as_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// A list as Vault answers it: an array, or a comma-separated string.
pub fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) if s.is_empty() => vec![],
        Some(Value::String(s)) => s.split(',').map(str::to_string).collect(),
        _ => vec![],
    }
}

/// A map of strings as Vault answers it (other values as their JSON text).
fn as_map(v: Option<&Value>) -> std::collections::BTreeMap<String, String> {
    match v {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_string),
                )
            })
            .collect(),
        _ => Default::default(),
    }
}

/// PEM documents, trimmed and sorted.
fn pems(v: Option<&Value>) -> Vec<String> {
    sorted(
        strings_whole(v)
            .iter()
            .map(|p| p.trim().to_string())
            .collect(),
    )
}

/// A list whose items may hold commas (PEM documents): only an array is split.
fn strings_whole(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        _ => vec![],
    }
}

pub fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_fields_that_differ_are_changes_and_a_patch_carries_only_them() {
        let fields = [
            Field::setting("max_ttl", &Setting::Duration("48h".into())),
            Field::setting("allowed_domains", &Setting::List(vec!["a.b".into()])),
            Field::new("username", Kind::Text, json!("admin")).at("/details/username"),
        ];
        let current = json!({"max_ttl": 259200, "allowed_domains": "a.b", "require_cn": false,
            "details": {"username": "admin"}});
        let c = changes(&fields, &current);
        assert_eq!(
            c.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["max_ttl: 72h → 48h"]
        );
        assert_eq!(
            update_body(&fields, &current, Write::Patch),
            json!({"max_ttl": 172800})
        );
        let whole = update_body(&fields, &current, Write::Whole(&["require_cn", "absent"]));
        assert_eq!(whole["require_cn"], false);
        assert_eq!(whole["max_ttl"], 172800);
        assert!(whole.get("absent").is_none());
    }

    #[test]
    fn values_from_vault_are_shown_escaped() {
        let f = Field::new("issuer", Kind::Text, json!("a"));
        let c = changes(&[f], &json!({"issuer": "x\u{1b}[2J"}));
        assert_eq!(c[0].to_string(), "issuer: x\\u{1b}[2J → a");
        assert_eq!(duration_text(5400), "90m");
        assert_eq!(duration_text(0), "0s");
    }
}
