//! Typed, lenient views of the objects `verify` reads: only the fields its verdicts use,
//! each read as the cluster sent it or, when it is missing or of another type, as absent
//! (`None`, empty) — exactly what reading the JSON by hand gave. Unknown fields are ignored.
//! An item that is not an object at all cannot be read: it becomes a finding of the report
//! ([`Unreadable`]), not a failure of the run.
//!
//! A Secret's view keeps its key names and, per key, the SHA-256 of the value and whether it
//! is blank, plus the expiry of a `tls.crt` certificate: never a value.

use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::collections::BTreeMap;

/// A field read leniently: a value of another type reads as the default. (No field read
/// this way is a list, and serde would read a struct from a list by position: a list is
/// another type.)
pub(super) fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(read_or_default(Value::deserialize(d)?))
}

fn read_or_default<T: DeserializeOwned + Default>(value: Value) -> T {
    match value {
        Value::Array(_) => T::default(),
        v => T::deserialize(v).unwrap_or_default(),
    }
}

/// A list read leniently: not a list reads as empty; an item of another shape reads as the
/// default item (it still counts: "has conditions" is about the list's length).
pub(super) fn lenient_items<'de, D: Deserializer<'de>, T: DeserializeOwned + Default>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items.into_iter().map(read_or_default).collect(),
        _ => vec![],
    })
}

/// A map of strings read leniently (labels, annotations): entries whose value is not a
/// string are left out (they never equal the string a verdict looks for).
fn lenient_strings<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Object(m) => m
            .into_iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k, s)),
                _ => None,
            })
            .collect(),
        _ => BTreeMap::new(),
    })
}

/// An object's `metadata`, as far as verify reads it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Meta {
    #[serde(deserialize_with = "lenient")]
    pub namespace: String,
    #[serde(deserialize_with = "lenient")]
    pub name: String,
    #[serde(deserialize_with = "lenient")]
    pub uid: String,
    #[serde(deserialize_with = "lenient")]
    pub generation: Option<i64>,
    #[serde(deserialize_with = "lenient_strings")]
    pub labels: BTreeMap<String, String>,
    #[serde(deserialize_with = "lenient_strings")]
    pub annotations: BTreeMap<String, String>,
    #[serde(deserialize_with = "lenient_items")]
    pub owner_references: Vec<OwnerReference>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OwnerReference {
    #[serde(deserialize_with = "lenient")]
    pub kind: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub uid: Option<String>,
}

/// One of `status.conditions`: the same shape on every kind verify reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Condition {
    #[serde(rename = "type", deserialize_with = "lenient")]
    pub type_: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub status: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub reason: String,
    #[serde(deserialize_with = "lenient")]
    pub message: String,
}

impl Condition {
    pub fn is_true(&self) -> bool {
        self.status.as_deref() == Some("True")
    }
    /// The status as shown (`Unknown` when there is none).
    pub fn status_text(&self) -> &str {
        self.status.as_deref().unwrap_or("Unknown")
    }
    /// `reason: message`, or whichever of them there is.
    pub fn text(&self) -> String {
        match (self.reason.is_empty(), self.message.is_empty()) {
            (false, false) => format!("{}: {}", self.reason, self.message),
            (false, true) => self.reason.clone(),
            _ => self.message.clone(),
        }
    }
}

/// A `status` verify reads: conditions, and the fields the VSO kinds add.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Status {
    #[serde(deserialize_with = "lenient_items")]
    pub conditions: Vec<Condition>,
    /// VaultConnection, VaultAuth, VaultPKISecret.
    #[serde(deserialize_with = "lenient")]
    pub valid: Option<bool>,
    /// VaultAuth, VaultPKISecret.
    #[serde(deserialize_with = "lenient")]
    pub error: Option<String>,
    /// The VSO secret kinds: the generation VSO last reconciled.
    #[serde(deserialize_with = "lenient")]
    pub last_generation: Option<i64>,
    /// VaultDynamicSecret (unix seconds).
    #[serde(deserialize_with = "lenient")]
    pub last_renewal_time: Option<i64>,
    #[serde(deserialize_with = "lenient")]
    pub secret_lease: Lease,
    /// Flux's Kustomization.
    #[serde(deserialize_with = "lenient")]
    pub last_applied_revision: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Lease {
    #[serde(deserialize_with = "lenient")]
    pub duration: Option<i64>,
}

/// An object verify judges by its metadata, spec (compared with the generated one) and
/// status: the VSO kinds, Flux's, ESO's ExternalSecret, the CSI SecretProviderClass,
/// cert-manager's issuers, ServiceAccounts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Object {
    /// Set on the objects of a list only when the server repeats it (issuers).
    #[serde(deserialize_with = "lenient")]
    pub kind: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub metadata: Meta,
    /// As generated: compared field by field for drift.
    pub spec: Value,
    #[serde(deserialize_with = "lenient")]
    pub status: Status,
}

impl Object {
    /// The condition of `type_`.
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        self.status
            .conditions
            .iter()
            .find(|c| c.type_.as_deref() == Some(type_))
    }
}

/// A Warning event.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Event {
    #[serde(rename = "type", deserialize_with = "lenient")]
    pub type_: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub involved_object: InvolvedObject,
    #[serde(deserialize_with = "lenient")]
    pub reason: String,
    #[serde(deserialize_with = "lenient")]
    pub message: String,
    #[serde(deserialize_with = "lenient")]
    pub last_timestamp: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub event_time: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub first_timestamp: Option<String>,
}

impl Event {
    /// When it last happened, as the API server wrote it (RFC 3339 sorts as text).
    pub fn time(&self) -> &str {
        [
            &self.last_timestamp,
            &self.event_time,
            &self.first_timestamp,
        ]
        .into_iter()
        .find_map(|t| t.as_deref())
        .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct InvolvedObject {
    #[serde(deserialize_with = "lenient")]
    pub kind: String,
    #[serde(deserialize_with = "lenient")]
    pub namespace: String,
    #[serde(deserialize_with = "lenient")]
    pub name: String,
}

/// A Secret: its metadata, type and keys; per key a digest, never the value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Secret {
    #[serde(deserialize_with = "lenient")]
    pub metadata: Meta,
    #[serde(rename = "type", deserialize_with = "lenient")]
    pub type_: Option<String>,
    #[serde(deserialize_with = "data")]
    pub data: BTreeMap<String, Datum>,
}

/// What verify knows of one value of a Secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Datum {
    /// SHA-256 (hex) of the decoded value (of nothing, when it is not base64).
    pub sha256: String,
    /// Not a string, or an empty one.
    pub blank: bool,
    /// For `tls.crt`: the certificate's end of validity.
    pub certificate: Option<Certificate>,
}

/// A `tls.crt` as read: its `notAfter` (unix seconds), or why it cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Certificate {
    NotAfter(i64),
    NotPem(String),
    Invalid(String),
}

fn data<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Datum>, D::Error> {
    use sha2::{Digest, Sha256};
    let Value::Object(m) = Value::deserialize(d)? else {
        return Ok(BTreeMap::new());
    };
    Ok(m.into_iter()
        .map(|(k, v)| {
            let text = v.as_str().unwrap_or_default();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .unwrap_or_default();
            let certificate = (k == "tls.crt").then(|| certificate(&bytes));
            let datum = Datum {
                sha256: hex::encode(Sha256::digest(&bytes)),
                blank: text.is_empty(),
                certificate,
            };
            (k, datum)
        })
        .collect())
}

pub(crate) fn certificate(pem: &[u8]) -> Certificate {
    match x509_parser::pem::parse_x509_pem(pem) {
        Ok((_, pem)) => match pem.parse_x509() {
            Ok(cert) => Certificate::NotAfter(cert.validity().not_after.timestamp()),
            Err(e) => Certificate::Invalid(e.to_string()),
        },
        Err(e) => Certificate::NotPem(e.to_string()),
    }
}

impl Secret {
    /// The key names, sorted.
    pub fn keys(&self) -> Vec<String> {
        self.data.keys().cloned().collect()
    }
    /// The type as a report shows it (JSON: quoted, or `null`).
    pub fn type_shown(&self) -> String {
        self.type_.as_ref().map_or_else(
            || "null".to_string(),
            |t| Value::from(t.as_str()).to_string(),
        )
    }
}

/// A SecretProviderClassPodStatus: which pod mounts which class, and whether it is mounted.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SpcPodStatus {
    #[serde(deserialize_with = "lenient")]
    pub metadata: Meta,
    #[serde(deserialize_with = "lenient")]
    pub status: SpcMount,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SpcMount {
    #[serde(deserialize_with = "lenient")]
    pub secret_provider_class_name: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub mounted: Option<bool>,
    #[serde(deserialize_with = "lenient")]
    pub pod_name: String,
}

/// A pod of an injector app: its containers, service account and container statuses.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Pod {
    #[serde(deserialize_with = "lenient")]
    pub metadata: Meta,
    #[serde(deserialize_with = "lenient")]
    pub spec: PodSpec,
    #[serde(deserialize_with = "lenient")]
    pub status: PodStatus,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodSpec {
    #[serde(deserialize_with = "lenient_items")]
    pub init_containers: Vec<Container>,
    #[serde(deserialize_with = "lenient_items")]
    pub containers: Vec<Container>,
    #[serde(deserialize_with = "lenient")]
    pub service_account_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Container {
    #[serde(deserialize_with = "lenient")]
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodStatus {
    #[serde(deserialize_with = "lenient_items")]
    pub init_container_statuses: Vec<ContainerStatus>,
    #[serde(deserialize_with = "lenient_items")]
    pub container_statuses: Vec<ContainerStatus>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ContainerStatus {
    #[serde(deserialize_with = "lenient")]
    pub name: String,
    #[serde(deserialize_with = "lenient")]
    pub ready: Option<bool>,
    #[serde(deserialize_with = "lenient")]
    pub state: ContainerState,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ContainerState {
    #[serde(deserialize_with = "lenient")]
    pub waiting: Reason,
    #[serde(deserialize_with = "lenient")]
    pub terminated: Reason,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Reason {
    #[serde(deserialize_with = "lenient")]
    pub reason: Option<String>,
}

/// The views that have a `metadata`.
pub trait Named {
    fn meta(&self) -> &Meta;
    /// (namespace, name).
    fn name_of(&self) -> (&str, &str) {
        let m = self.meta();
        (m.namespace.as_str(), m.name.as_str())
    }
}

macro_rules! named {
    ($($t:ty),*) => {$(impl Named for $t {
        fn meta(&self) -> &Meta {
            &self.metadata
        }
    })*};
}
named!(Object, Secret, SpcPodStatus, Pod);

/// An item of a list that is not an object: reported, not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// The list it came in (e.g. `Secrets`).
    pub list: String,
    /// Its place in that list.
    pub index: usize,
    pub error: String,
}

/// Reads each item of `list` as a `T`; one that cannot be read is added to `unreadable`.
pub fn read_all<T: DeserializeOwned>(
    list: &str,
    objects: Vec<Value>,
    unreadable: &mut Vec<Unreadable>,
) -> Vec<T> {
    objects
        .into_iter()
        .enumerate()
        .filter_map(|(index, v)| {
            // Serde reads a struct from a list too: only an object is an object.
            let read = match &v {
                Value::Object(_) => serde_json::from_value(v).map_err(|e| e.to_string()),
                other => Err(format!("{}, not an object", json_type(other))),
            };
            read.map_err(|error| {
                unreadable.push(Unreadable {
                    list: list.to_string(),
                    index,
                    error,
                })
            })
            .ok()
        })
        .collect()
}

/// What kind of JSON value `v` is, in words.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_of_another_type_read_as_absent_and_unknown_fields_are_ignored() {
        let o: Object = serde_json::from_value(json!({
            "metadata": {"name": "a", "namespace": 7, "generation": "2", "labels": {"x": "1", "y": 2}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}, 42, {"type": 1}],
                       "lastGeneration": 3, "valid": "yes", "surprise": {"deep": true}},
            "spec": {"anything": [1, 2]},
        }))
        .unwrap();
        assert_eq!(o.metadata.name, "a");
        assert_eq!(o.metadata.namespace, "");
        assert_eq!(o.metadata.generation, None);
        assert_eq!(o.metadata.labels.len(), 1);
        assert_eq!(o.status.conditions.len(), 3);
        assert!(o.condition("Ready").is_some_and(Condition::is_true));
        assert_eq!(o.status.last_generation, Some(3));
        assert_eq!(o.status.valid, None);
        assert_eq!(o.spec["anything"][1], 2);
        let bare: Object = serde_json::from_value(json!({"status": "broken"})).unwrap();
        assert!(bare.status.conditions.is_empty());
        // A list is not read as a struct by position.
        let listed: Object =
            serde_json::from_value(json!({"status": [[{"type": "Ready"}], true]})).unwrap();
        assert!(listed.status.conditions.is_empty() && listed.status.valid.is_none());
    }

    #[test]
    fn a_secret_keeps_digests_and_never_values() {
        let value = base64::engine::general_purpose::STANDARD.encode("s3cret-value");
        let s: Secret = serde_json::from_value(json!({
            "metadata": {"name": "db"},
            "type": "Opaque",
            "data": {"password": value, "empty": "", "odd": 5},
        }))
        .unwrap();
        assert_eq!(s.keys(), ["empty", "odd", "password"]);
        assert!(s.data["empty"].blank && s.data["odd"].blank && !s.data["password"].blank);
        assert_eq!(s.type_shown(), "\"Opaque\"");
        let debug = format!("{s:?}");
        assert!(
            !debug.contains("s3cret") && !debug.contains(&value),
            "{debug}"
        );
        let mut unreadable = vec![];
        let read: Vec<Secret> = read_all(
            "Secrets",
            vec![json!("not an object"), json!({})],
            &mut unreadable,
        );
        assert_eq!(read.len(), 1);
        assert_eq!(unreadable.len(), 1);
        assert_eq!(
            (unreadable[0].list.as_str(), unreadable[0].index),
            ("Secrets", 0)
        );
    }
}
