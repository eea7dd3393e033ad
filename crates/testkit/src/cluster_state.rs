//! Cluster states for verify tests: the objects of a generated tree as the API server, Flux
//! and the Vault Secrets Operator leave them (uids, generations, finalizers, status fields,
//! condition types, owner labels and ownerReferences, Secret data keys, events).
//!
//! The tree comes rendered ([`objects_of`] a core `Rendered`): rendering a spec file is the
//! kubectl-vault package's (tests/it/support/cluster_state.rs wraps these with its pipeline).

use crate::fake_apiserver::FakeApiServer;
use base64::Engine;
use kubectl_vault_core::render::Rendered;
use serde_json::{json, Value};

pub const REVISION: &str = "3f9c2a7d1e5b4c6a8f0e2d4c6b8a0f1e3d5c7b9a";

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

pub fn ts(unix: i64) -> String {
    // RFC 3339 in UTC without pulling in a date crate: good enough for fixtures.
    let days = unix.div_euclid(86400);
    let secs = unix.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn cond(type_: &str, status: &str, reason: &str, message: &str) -> Value {
    json!({"type": type_, "status": status, "reason": reason, "message": message,
           "lastTransitionTime": ts(now() - 60), "observedGeneration": 1})
}

/// A kubernetes API server CA, valid for a day, written to `dir/cluster-ca.crt` (what a
/// spec's `caCertFrom: file:` names).
pub fn ca_file(dir: &std::path::Path) -> std::path::PathBuf {
    let t = now();
    let (cert, _) = certificate("kubernetes", t - 60, t + 86400);
    let path = dir.join("cluster-ca.crt");
    std::fs::write(&path, cert).unwrap();
    path
}

/// A self-signed certificate (made now; never committed) valid from `from` to `to` (unix).
pub fn certificate(cn: &str, from: i64, to: i64) -> (String, String) {
    let mut params = rcgen::CertificateParams::new(vec![cn.to_string()]).unwrap();
    params.not_before =
        rcgen::date_time_ymd(1970, 1, 1) + std::time::Duration::from_secs(from as u64);
    params.not_after = rcgen::date_time_ymd(1970, 1, 1) + std::time::Duration::from_secs(to as u64);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// The objects of a rendered tree, as Flux applies them: every YAML file but the
/// kustomizations and the injector's Component, each document an object.
pub fn objects_of(rendered: &Rendered) -> Vec<Value> {
    let mut out = Vec::new();
    for f in &rendered.files {
        // The injector's Component patches the user's workload: it is not an object; nor is
        // the argocd-cm patch (the user merges it into Argo CD's ConfigMap).
        let component = f.path.contains("/vault-agent/");
        let patch = f.path.ends_with("/argocd-cm-patch.yaml");
        if f.path.ends_with(".yaml")
            && !f.path.ends_with("kustomization.yaml")
            && !component
            && !patch
        {
            // A file may hold several objects (token-review.yaml, cert-manager-token-request.yaml).
            for doc in serde_yaml::Deserializer::from_str(&f.body) {
                out.push(serde::Deserialize::deserialize(doc).expect("yaml"));
            }
        }
    }
    out
}

/// Everything synced: Flux at REVISION, Vault and VSO released, every CR of `objects` (what
/// [`objects_of`] gives) reconciled and every destination Secret written by VSO.
pub fn synced_objects(fake: &FakeApiServer, objects: Vec<Value>) {
    let t = now();
    for mut obj in objects {
        let kind = obj["kind"].as_str().unwrap().to_string();
        let meta = obj["metadata"].as_object_mut().unwrap();
        meta.insert("generation".into(), json!(1));
        match kind.as_str() {
            "Kustomization" => {
                obj["status"] = json!({
                    "observedGeneration": 1,
                    "lastAppliedRevision": format!("main@sha1:{REVISION}"),
                    "lastAttemptedRevision": format!("main@sha1:{REVISION}"),
                    "conditions": [cond("Ready", "True", "ReconciliationSucceeded", &format!("Applied revision: main@sha1:{REVISION}"))],
                });
                fake.add(obj);
            }
            "HelmRelease" => {
                obj["status"] = json!({
                    "observedGeneration": 1,
                    "conditions": [
                        cond("Ready", "True", "InstallSucceeded", "Helm install succeeded"),
                        cond("Released", "True", "InstallSucceeded", "Helm install succeeded"),
                    ],
                });
                fake.add(obj);
            }
            "Application" => {
                obj["status"] = synced_application(&obj, t);
                fake.add(obj);
            }
            "VaultConnection" => {
                obj["status"] = json!({"valid": true});
                fake.add(obj);
            }
            "VaultAuth" => {
                obj["status"] = json!({"valid": true, "error": "", "specHash": "9f86d081884c7d659a2feaa0c55ad015"});
                fake.add(obj);
            }
            "VaultStaticSecret" | "VaultDynamicSecret" | "VaultPKISecret" => {
                add_synced_secret(fake, obj, &kind, t)
            }
            // The backup CronJob (`backup`): a month old, its last run an hour ago succeeded.
            "CronJob" => {
                obj["metadata"]["creationTimestamp"] = json!(ts(t - 30 * 86400));
                obj["status"] = json!({
                    "lastScheduleTime": ts(t - 3600),
                    "lastSuccessfulTime": ts(t - 3600 + 40),
                });
                fake.add(obj);
            }
            _ => fake.add(obj),
        }
    }
}

/// An Application's status as Argo CD writes it once synced at REVISION and healthy: for
/// `spec.sources`, one revision per source (the commit for a Git source, the chart version
/// for a Helm one), the last sync's operation state.
pub fn synced_application(app: &Value, t: i64) -> Value {
    let sources = app["spec"]["sources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let revisions: Vec<Value> = sources
        .iter()
        .map(|s| match s["chart"].as_str() {
            Some(_) => s["targetRevision"].clone(),
            None => json!(REVISION),
        })
        .collect();
    let types: Vec<&str> = sources
        .iter()
        .map(|s| {
            if s["chart"].is_string() {
                "Helm"
            } else {
                "Directory"
            }
        })
        .collect();
    json!({
        "sync": {
            "status": "Synced",
            "comparedTo": {"sources": sources, "destination": app["spec"]["destination"]},
            "revisions": revisions,
        },
        "health": {"status": "Healthy", "lastTransitionTime": ts(t - 30)},
        "operationState": {
            "operation": {"sync": {"revisions": revisions}, "initiatedBy": {"automated": true}},
            "phase": "Succeeded",
            "message": "successfully synced (all tasks run)",
            "startedAt": ts(t - 90),
            "finishedAt": ts(t - 60),
            "syncResult": {"revisions": revisions, "sources": sources},
        },
        "reconciledAt": ts(t - 20),
        "sourceTypes": types,
        "controllerNamespace": "argocd",
    })
}

fn add_synced_secret(fake: &FakeApiServer, mut cr: Value, kind: &str, t: i64) {
    let finalizer = format!("{}.secrets.hashicorp.com/finalizer", kind.to_lowercase());
    cr["metadata"]["finalizers"] = json!([finalizer]);
    // API-server defaults VSO's CRDs add.
    if cr["spec"]["destination"].get("overwrite").is_none() {
        cr["spec"]["destination"]["overwrite"] = json!(false);
    }
    let synced = [
        cond("Ready", "True", "Ready", "Reconciled"),
        cond("SecretSynced", "True", "SecretSynced", "Secret synced"),
        cond("Healthy", "True", "Healthy", "Healthy"),
    ];
    let name = cr["metadata"]["name"].as_str().unwrap().to_string();
    let ns = cr["metadata"]["namespace"].as_str().unwrap().to_string();
    let (secret_type, data) = match kind {
        "VaultStaticSecret" => {
            cr["spec"]["hmacSecretData"] = json!(true);
            cr["status"] = json!({"lastGeneration": 1, "secretMAC": "bWFjLW9mLXRoZS1kYXRh", "conditions": synced});
            (
                "Opaque",
                json!({"_raw": b64("{\"data\":{}}"), "api_key": b64("s3cret-api-key"), "username": b64("app")}),
            )
        }
        "VaultDynamicSecret" => {
            cr["spec"]["renewalPercent"] = json!(67);
            cr["status"] = json!({
                "lastGeneration": 1, "lastRenewalTime": t - 30, "lastRuntimePodUID": "6b2c3f8e-0000-4000-8000-000000000001",
                "secretMAC": "bWFjLW9mLWNyZWRz",
                "secretLease": {"id": format!("database/creds/{name}/Zx8yQ"), "duration": 3600, "renewable": true, "requestID": "0f7e3b2c-1111-4000-8000-000000000002"},
                "conditions": synced,
            });
            (
                "Opaque",
                json!({"_raw": b64("{}"), "username": b64("v-kubernetes-app-xyz"), "password": b64("A1a-generated-password")}),
            )
        }
        _ => {
            let cn = cr["spec"]["commonName"].as_str().unwrap().to_string();
            let (cert, key) = certificate(&cn, t - 3600, t + 72 * 3600);
            cr["status"] = json!({
                "valid": true, "error": "", "lastGeneration": 1, "lastRotation": t - 3600,
                "serialNumber": "3a:5f:11:09", "expiration": t + 72 * 3600, "secretMAC": "bWFjLW9mLWNlcnQ=", "conditions": synced,
            });
            (
                "kubernetes.io/tls",
                json!({"tls.crt": b64(&cert), "tls.key": b64(&key), "certificate": b64(&cert), "private_key": b64(&key), "serial_number": b64("3a:5f:11:09")}),
            )
        }
    };
    fake.add(cr);
    let uid = uid_of(fake, kind, &ns, &name);
    let labels = json!({
        "app.kubernetes.io/component": "secret-sync",
        "app.kubernetes.io/managed-by": "hashicorp-vso",
        "app.kubernetes.io/name": "vault-secrets-operator",
        "secrets.hashicorp.com/vso-ownerRefUID": uid,
    });
    fake.add(json!({
        "apiVersion": "v1", "kind": "Secret", "type": secret_type,
        "metadata": {
            "name": name, "namespace": ns, "labels": labels,
            "ownerReferences": [{"apiVersion": "secrets.hashicorp.com/v1beta1", "kind": kind, "name": name, "uid": uid}],
        },
        "data": data,
    }));
}

/// The uid the fake gave an object.
pub fn uid_of(fake: &FakeApiServer, kind: &str, ns: &str, name: &str) -> String {
    let mut uid = String::new();
    fake.modify(kind, ns, name, |o| {
        uid = o["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    });
    uid
}

/// A Warning event on an object, as VSO records it.
pub fn warning_event(
    fake: &FakeApiServer,
    kind: &str,
    ns: &str,
    name: &str,
    reason: &str,
    message: &str,
) {
    let uid = uid_of(fake, kind, ns, name);
    fake.add(json!({
        "apiVersion": "v1", "kind": "Event", "type": "Warning", "reason": reason, "message": message,
        "metadata": {"name": format!("{name}.17a9c2b3d4e5f6a7"), "namespace": ns},
        "involvedObject": {"apiVersion": "secrets.hashicorp.com/v1beta1", "kind": kind, "name": name, "namespace": ns, "uid": uid},
        "source": {"component": kind},
        "firstTimestamp": ts(now() - 120), "lastTimestamp": ts(now() - 5), "count": 3,
    }));
}
