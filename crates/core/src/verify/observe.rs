//! What `verify` reads from the cluster, and how it reads an object: the lists it gets
//! ([`Observed`]), the specs it expects ([`ExpectedSpecs`]), and the accessors the verdicts use
//! (names, conditions, key names; never values).

use serde_json::Value;
use std::collections::HashMap;

/// Everything listed from the cluster, one list per kind.
#[derive(Debug, Default)]
pub struct Observed {
    pub kustomizations: Vec<Value>,
    pub helmreleases: Vec<Value>,
    pub vaultconnections: Vec<Value>,
    pub vaultauths: Vec<Value>,
    pub serviceaccounts: Vec<Value>,
    pub staticsecrets: Vec<Value>,
    pub dynamicsecrets: Vec<Value>,
    pub pkisecrets: Vec<Value>,
    pub secrets: Vec<Value>,
    pub events: Vec<Value>,
    /// The Secret the VaultConnection trusts for Vault's CA (operator namespace), when the
    /// tree names one: listed by name, so a missing CA is named as the cause.
    pub ca_secrets: Vec<Value>,
    /// The Vault server pods (the chart's labels), for the seal link.
    pub vault_pods: Vec<crate::vault_pods::VaultPod>,
    /// cert-manager's Vault Issuer or ClusterIssuer (`certManager`), listed by name only when
    /// the tree has one.
    pub issuers: Vec<Value>,
    /// The other consumers' objects (listed only when an app uses that consumer; see
    /// [`super::consumers`]).
    pub externalsecrets: Vec<Value>,
    /// Secrets ESO manages (by its label).
    pub eso_secrets: Vec<Value>,
    pub secretproviderclasses: Vec<Value>,
    pub spc_pod_statuses: Vec<Value>,
    /// Secrets the CSI driver mirrors (by its label).
    pub csi_secrets: Vec<Value>,
    /// Pods of the injector apps' namespaces.
    pub pods: Vec<Value>,
}

/// Expected CR specs from the rendered tree, keyed by (kind, namespace, name).
pub type ExpectedSpecs = HashMap<(String, String, String), Value>;

/// The generated secret CRs' specs (for drift), keyed by the objects the renderer made.
pub fn expected_specs(rendered: &crate::render::Rendered) -> ExpectedSpecs {
    use crate::model::SecretKind;
    use rayon::prelude::*;
    let secret_kinds = [SecretKind::Static, SecretKind::Dynamic, SecretKind::Pki].map(|k| k.kind());
    rendered
        .files
        .par_iter()
        .filter_map(|f| {
            let o = f.object.as_ref().filter(|o| {
                secret_kinds.contains(&o.kind.as_str())
                    || super::consumers::DRIFT_KINDS.contains(&o.kind.as_str())
            })?;
            let mut v = serde_yaml::from_str::<Value>(&f.body).ok()?;
            let key = (o.kind.clone(), o.namespace.clone(), o.name.clone());
            Some((key, v["spec"].take()))
        })
        .collect()
}

pub(crate) fn name_of(v: &Value) -> (&str, &str) {
    (
        v["metadata"]["namespace"].as_str().unwrap_or_default(),
        v["metadata"]["name"].as_str().unwrap_or_default(),
    )
}

pub(crate) fn index(list: &[Value]) -> HashMap<(&str, &str), &Value> {
    list.iter().map(|v| (name_of(v), v)).collect()
}

/// The condition of `type_` in `status.conditions`.
pub(crate) fn condition<'a>(v: &'a Value, type_: &str) -> Option<&'a Value> {
    v["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

pub(crate) fn condition_text(c: &Value) -> String {
    let reason = c["reason"].as_str().unwrap_or_default();
    let message = c["message"].as_str().unwrap_or_default();
    match (reason.is_empty(), message.is_empty()) {
        (false, false) => format!("{reason}: {message}"),
        (false, true) => reason.to_string(),
        _ => message.to_string(),
    }
}

/// Why an object with a `Ready` condition (a Flux object, an issuer, an ExternalSecret) is not
/// ready: the detail of its check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotReady {
    /// `Ready` is not True: the condition's reason and message.
    #[error("not Ready ({0})")]
    Condition(String),
    #[error("not Ready yet (no Ready condition)")]
    NoCondition,
}

pub(crate) fn ready(v: &Value) -> Result<(), NotReady> {
    match condition(v, "Ready") {
        Some(c) if c["status"] == "True" => Ok(()),
        Some(c) => Err(NotReady::Condition(condition_text(c))),
        None => Err(NotReady::NoCondition),
    }
}

/// The Secret's key names, sorted (never its values).
pub(crate) fn key_names(secret: &Value) -> Vec<String> {
    let mut keys: Vec<String> = secret["data"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}
