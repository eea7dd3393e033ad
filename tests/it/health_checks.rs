//! The generated Flux health checks, evaluated the way kustomize-controller evaluates them,
//! against status objects shaped exactly as each VSO version writes them.
//!
//! The evaluator mirrors fluxcd/pkg `runtime/cel` (`StatusEvaluator.Evaluate`, RFC 0009):
//! 1. `status.observedGeneration`, when it is an integer and differs from
//!    `metadata.generation`, is InProgress before any expression runs;
//! 2. `inProgress`, then `failed`, then `current`: the first that is true decides;
//! 3. none true: InProgress; an evaluation error (e.g. no `status` yet): Unknown (the kstatus
//!    generic status reader turns the error into an Unknown status).
//!
//! The CEL variables are the object's top-level fields (the unstructured content is the
//! activation; there is no `self`), and the expressions are parsed, not type-checked. Integers
//! are int64, as in unstructured objects. The expressions are read from the generated
//! Kustomization YAML, not from the code that wrote them.
//!
//! The status shapes follow the operator's Go types and controllers (`api/v1beta1/*_types.go`,
//! `controllers/*_controller.go`) at v0.10.0, v1.0.0 (no `Ready` condition yet) and v1.4.1.

use crate::support::common::*;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    InProgress,
    Failed,
    Current,
    Unknown,
}
pub(crate) use Status::*;

#[derive(Debug, Clone)]
struct Check {
    kind: String,
    in_progress: Option<String>,
    failed: Option<String>,
    current: String,
}

/// The `healthCheckExprs` of the apps Kustomization generated for `fixture_name`.
fn generated_checks(fixture_name: &str, cluster: &str) -> BTreeMap<String, Check> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "-f",
        fixture(fixture_name).to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let tree = read_tree(&out);
    let body = &tree[&format!("clusters/{cluster}/vault-apps.yaml")];
    let k: Json = serde_yaml::from_str(body).unwrap();
    assert!(
        k["spec"]["retryInterval"].is_string(),
        "a failed apps layer must be retried: {body}"
    );
    k["spec"]["healthCheckExprs"]
        .as_array()
        .expect("healthCheckExprs")
        .iter()
        .map(|h| {
            let s = |f: &str| h[f].as_str().map(str::to_string);
            let kind = s("kind").unwrap();
            assert_eq!(
                h["apiVersion"], "secrets.hashicorp.com/v1beta1",
                "{kind}: apiVersion"
            );
            (
                kind.clone(),
                Check {
                    kind,
                    in_progress: s("inProgress"),
                    failed: s("failed"),
                    current: s("current").expect("current is required"),
                },
            )
        })
        .collect()
}

/// JSON as an unstructured object holds it: every integer is an int64.
fn to_cel(v: &Json) -> cel::Value {
    match v {
        Json::Null => cel::Value::Null,
        Json::Bool(b) => cel::Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => cel::Value::Int(i),
            None => cel::Value::Float(n.as_f64().unwrap()),
        },
        Json::String(s) => cel::Value::String(Arc::new(s.clone())),
        Json::Array(a) => cel::Value::List(Arc::new(a.iter().map(to_cel).collect())),
        Json::Object(m) => {
            let map: std::collections::HashMap<cel::objects::Key, cel::Value> = m
                .iter()
                .map(|(k, v)| (cel::objects::Key::from(k.as_str()), to_cel(v)))
                .collect();
            cel::Value::Map(map.into())
        }
    }
}

fn eval_bool(expr: &str, obj: &Json) -> Result<bool, String> {
    let program = cel::Program::compile(expr).map_err(|e| format!("parse: {e}"))?;
    let mut ctx = cel::Context::default();
    for (k, v) in obj.as_object().unwrap() {
        ctx.add_variable_from_value(k.as_str(), to_cel(v));
    }
    match program.execute(&ctx) {
        Ok(cel::Value::Bool(b)) => Ok(b),
        Ok(other) => Err(format!("not a boolean: {other:?}")),
        Err(e) => Err(format!("{e}")),
    }
}

/// kustomize-controller's verdict on `obj` (see the module doc).
fn flux_status(check: &Check, obj: &Json) -> Status {
    if let (Some(observed), Some(generation)) = (
        obj["status"]["observedGeneration"].as_i64(),
        obj["metadata"]["generation"].as_i64(),
    ) {
        if observed != generation {
            return InProgress;
        }
    }
    for (expr, status) in [
        (&check.in_progress, InProgress),
        (&check.failed, Failed),
        (&Some(check.current.clone()), Current),
    ] {
        let Some(expr) = expr else { continue };
        match eval_bool(expr, obj) {
            Err(_) => return Unknown,
            Ok(true) => return status,
            Ok(false) => {}
        }
    }
    InProgress
}

// ---------- objects as the API server holds them ----------

pub(crate) fn object(kind: &str, generation: i64, status: Option<Json>) -> Json {
    let mut o = json!({
        "apiVersion": "secrets.hashicorp.com/v1beta1",
        "kind": kind,
        "metadata": {
            "name": "s",
            "namespace": "app",
            "generation": generation,
            "uid": "0b5e7d1c-1111-4222-8333-944455556666",
            "resourceVersion": "4711",
            "creationTimestamp": "2026-11-23T10:00:00Z",
        },
        "spec": {"vaultAuthRef": "webapp"},
    });
    if let Some(s) = status {
        o["status"] = s;
    }
    o
}

/// metav1.Condition as VSO's `newCondition` writes it.
fn condition(typ: &str, status: bool, reason: &str, generation: i64) -> Json {
    json!({
        "type": typ,
        "status": if status { "True" } else { "False" },
        "observedGeneration": generation,
        "lastTransitionTime": "2026-11-23T10:00:05Z",
        "reason": reason,
        "message": format!("{typ} {reason}"),
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Vso {
    V0_10_0,
    V1_0_0,
    V1_4_1,
}

/// What `updateStatus` leaves after a reconcile of generation `generation` (1.x):
/// `sync` = the SecretSynced condition written in this reconcile (None: no sync was needed),
/// `healthy` = its outcome; `earlier` = conditions left from before.
fn conditions_v1(
    vso: Vso,
    generation: i64,
    sync: Option<bool>,
    healthy: bool,
    earlier: &[Json],
) -> Json {
    let mut new = vec![];
    if let Some(ok) = sync {
        new.push(condition("SecretSynced", ok, "Synced", generation));
    }
    new.push(condition(
        "Healthy",
        healthy,
        if healthy { "Healthy" } else { "Unhealthy" },
        generation,
    ));
    if vso == Vso::V1_4_1 {
        // newReadyCondition: reason is always "Ready".
        new.push(condition("Ready", healthy, "Ready", generation));
    }
    // updateConditions: earlier conditions of other types first, then the new ones.
    let mut out: Vec<Json> = earlier
        .iter()
        .filter(|c| !new.iter().any(|n| n["type"] == c["type"]))
        .cloned()
        .collect();
    out.extend(new);
    Json::Array(out)
}

/// The status after a successful sync of `generation`.
fn synced(vso: Vso, kind: &str, generation: i64) -> Json {
    let mut s = match kind {
        "VaultStaticSecret" => json!({
            "lastGeneration": generation,
            "secretMAC": "q0mKc1Yx3cQ1oW0n9pM2c0F6xXo=",
        }),
        "VaultDynamicSecret" => json!({
            "lastRenewalTime": 1795860005,
            "lastGeneration": generation,
            "secretLease": {"id": "demo-db/creds/dev-postgres/abc", "duration": 60, "renewable": true, "requestID": "f00"},
            "staticCredsMetaData": {"lastVaultRotation": 0, "rotationPeriod": 0, "ttl": 0},
            "lastRuntimePodUID": "7d1c0b5e-aaaa-4bbb-8ccc-ddddeeeeffff",
            "secretMAC": "q0mKc1Yx3cQ1oW0n9pM2c0F6xXo=",
            "vaultClientMeta": {"cacheKey": "kubernetes-0123456789abcdef", "id": "9f86d081"},
        }),
        "VaultPKISecret" => json!({
            "serialNumber": "1a:2b:3c",
            "expiration": 1796119205,
            "lastGeneration": generation,
            "lastRotation": 1795860005,
            "secretMAC": "q0mKc1Yx3cQ1oW0n9pM2c0F6xXo=",
            "valid": true,
            "error": "",
        }),
        _ => unreachable!(),
    };
    if vso != Vso::V0_10_0 {
        if kind == "VaultStaticSecret" {
            s["vaultClientMeta"] =
                json!({"cacheKey": "kubernetes-0123456789abcdef", "id": "9f86d081"});
        }
        s["conditions"] = conditions_v1(vso, generation, Some(true), true, &[]);
    }
    s
}

/// The status after a failed sync of `generation`, on an object never synced before; `None`
/// where the version writes no status on failure (0.10 static and dynamic secrets).
fn failed(vso: Vso, kind: &str, generation: i64) -> Option<Json> {
    match (vso, kind) {
        (Vso::V0_10_0, "VaultPKISecret") => Some(json!({
            "lastGeneration": generation,
            "lastRotation": 0,
            "valid": false,
            "error": "K8sClientError",
        })),
        (Vso::V0_10_0, _) => None,
        (_, "VaultStaticSecret") => Some(json!({
            "lastGeneration": generation,
            "vaultClientMeta": {},
            "conditions": conditions_v1(vso, generation, Some(false), false, &[]),
        })),
        (_, "VaultDynamicSecret") => Some(json!({
            "lastRenewalTime": 0,
            "lastGeneration": generation,
            "secretLease": {"id": "", "duration": 0, "renewable": false, "requestID": ""},
            "staticCredsMetaData": {"lastVaultRotation": 0, "rotationPeriod": 0, "ttl": 0},
            "vaultClientMeta": {"cacheKey": "kubernetes-0123456789abcdef", "id": "9f86d081"},
            "conditions": conditions_v1(vso, generation, Some(false), false, &[]),
        })),
        (_, "VaultPKISecret") => Some(json!({
            "lastGeneration": generation,
            "lastRotation": 0,
            "valid": false,
            "error": "SecretSyncError",
            "conditions": conditions_v1(vso, generation, Some(false), false, &[]),
        })),
        _ => unreachable!(),
    }
}

const SECRET_KINDS: [&str; 3] = ["VaultStaticSecret", "VaultDynamicSecret", "VaultPKISecret"];

/// Every secret kind under one VSO version: what Flux makes of each state VSO can leave.
fn secret_kinds_behave(checks: &BTreeMap<String, Check>, vso: Vso) {
    secret_kinds_behave_by(&|kind, obj| flux_status(&checks[kind], obj), vso)
}

/// The same states judged by `judge` (kind, object): Flux's CEL here, Argo CD's Lua in
/// `argocd_health`.
pub(crate) fn secret_kinds_behave_by(judge: &dyn Fn(&str, &Json) -> Status, vso: Vso) {
    let mut wrong = vec![];
    let mut expect =
        |what: &str, kind: &str, obj: &Json, ok: &dyn Fn(Status) -> bool, want: &str| {
            let got = judge(kind, obj);
            if !ok(got) {
                wrong.push(format!("{vso:?} {kind} {what}: got {got:?}, want {want}"));
            }
        };
    for kind in SECRET_KINDS {
        // Just applied: the API server has no status for it yet.
        let fresh = object(kind, 1, None);
        expect(
            "no status",
            kind,
            &fresh,
            &|s| s != Current && s != Failed,
            "not Current",
        );
        // Synced for the current generation.
        expect(
            "synced",
            kind,
            &object(kind, 3, Some(synced(vso, kind, 3))),
            &|s| s == Current,
            "Current",
        );
        // Synced for an older generation: the spec changed and VSO has not caught up.
        let stale = object(kind, 4, Some(synced(vso, kind, 3)));
        expect(
            "synced for an older generation",
            kind,
            &stale,
            &|s| s == InProgress,
            "InProgress",
        );
        // A failed sync.
        match failed(vso, kind, 1) {
            Some(status) => {
                let obj = object(kind, 1, Some(status));
                expect("failed sync", kind, &obj, &|s| s == Failed, "Failed");
            }
            // The version reports nothing: Flux waits (never Current) until the timeout.
            None => expect(
                "failed sync (unreported)",
                kind,
                &fresh,
                &|s| s != Current,
                "not Current",
            ),
        }
    }
    if vso != Vso::V0_10_0 {
        // A failure after a good sync, then a reconcile that found nothing to sync: VSO keeps
        // the stale SecretSynced=False but writes Healthy=True. The secret is fine.
        for kind in SECRET_KINDS {
            let mut s = synced(vso, kind, 2);
            let after_failure = conditions_v1(
                vso,
                2,
                Some(false),
                false,
                s["conditions"].as_array().unwrap(),
            );
            s["conditions"] = conditions_v1(vso, 2, None, true, after_failure.as_array().unwrap());
            let obj = object(kind, 2, Some(s));
            expect(
                "recovered without a new sync",
                kind,
                &obj,
                &|s| s == Current,
                "Current",
            );
            // And a failure on a secret that synced before: Failed at once.
            let mut s = synced(vso, kind, 2);
            s["conditions"] = conditions_v1(
                vso,
                2,
                Some(false),
                false,
                s["conditions"].as_array().unwrap(),
            );
            let obj = object(kind, 2, Some(s));
            expect(
                "failure after a good sync",
                kind,
                &obj,
                &|s| s == Failed,
                "Failed",
            );
        }
    }
    assert!(
        wrong.is_empty(),
        "health checks misjudge VSO status:\n{}",
        wrong.join("\n")
    );
}

fn connection_and_auth_behave(checks: &BTreeMap<String, Check>, vso: Vso) {
    connection_and_auth_behave_by(&|kind, obj| flux_status(&checks[kind], obj), vso)
}

pub(crate) fn connection_and_auth_behave_by(judge: &dyn Fn(&str, &Json) -> Status, vso: Vso) {
    for kind in ["VaultAuth", "VaultConnection"] {
        let c = |obj: &Json| judge(kind, obj);
        let valid = |v: bool| {
            let mut s = json!({"valid": v});
            if kind == "VaultAuth" {
                s["specHash"] = json!("e3b0c442");
                s["error"] = json!(if v { "" } else { "permission denied" });
            }
            if vso != Vso::V0_10_0 || kind == "VaultAuth" {
                s["conditions"] = conditions_v1(vso, 1, None, v, &[]);
            }
            object(kind, 1, Some(s))
        };
        assert_eq!(c(&valid(true)), Current, "{vso:?} {kind} valid");
        assert_eq!(c(&valid(false)), Failed, "{vso:?} {kind} invalid");
        let fresh = c(&object(kind, 1, None));
        assert!(
            fresh != Current && fresh != Failed,
            "{vso:?} {kind} no status: {fresh:?}"
        );
    }
}

/// Flux's CEL environment has the standard macros and functions plus the strings, sets and
/// encoders extensions; the expressions use only macros and functions every CEL has
/// (`has`, `exists`; `startsWith` and the `string` conversion of cel-spec's standard
/// definitions).
fn uses_only_standard_functions(checks: &BTreeMap<String, Check>) {
    for c in checks.values() {
        for e in [&c.in_progress, &c.failed, &Some(c.current.clone())]
            .into_iter()
            .flatten()
        {
            assert!(!e.contains("self"), "{}: Flux binds no `self`: {e}", c.kind);
            let mut rest = e.as_str();
            while let Some(i) = rest.find('(') {
                let name: String = rest[..i]
                    .chars()
                    .rev()
                    .take_while(|ch| ch.is_ascii_alphanumeric() || *ch == '_')
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                assert!(
                    ["has", "exists", "startsWith", "string"].contains(&name.as_str()),
                    "{}: `{name}(` is not one of the macros relied on: {e}",
                    c.kind
                );
                rest = &rest[i + 1..];
            }
        }
    }
}

#[test]
fn example_health_checks_follow_vso_0_10() {
    let checks = generated_checks("example.yaml", "homelab");
    assert_eq!(checks.len(), 5);
    uses_only_standard_functions(&checks);
    secret_kinds_behave(&checks, Vso::V0_10_0);
    connection_and_auth_behave(&checks, Vso::V0_10_0);
    // Nothing in 0.10 writes conditions on the secret kinds: a check on them could never pass.
    for kind in SECRET_KINDS {
        let c = &checks[kind];
        assert!(!c.current.contains("conditions"), "{kind}: {}", c.current);
    }
    // The bundled example's VSO 0.10 reports a failed PKI sync, and only that.
    assert!(checks["VaultPKISecret"].failed.is_some());
    assert!(checks["VaultStaticSecret"].failed.is_none());
}

#[test]
fn production_health_checks_follow_vso_1x() {
    let checks = generated_checks("production-1x.yaml", "prod-eu2");
    assert_eq!(checks.len(), 5);
    uses_only_standard_functions(&checks);
    for vso in [Vso::V1_0_0, Vso::V1_4_1] {
        secret_kinds_behave(&checks, vso);
        connection_and_auth_behave(&checks, vso);
    }
}

#[test]
fn the_harness_applies_fluxs_observed_generation_rule_and_unknown_on_errors() {
    let check = Check {
        kind: "X".into(),
        in_progress: None,
        failed: None,
        current: "status.ready == true".into(),
    };
    let mut obj = object(
        "X",
        2,
        Some(json!({"ready": true, "observedGeneration": 1})),
    );
    assert_eq!(flux_status(&check, &obj), InProgress);
    obj["status"]["observedGeneration"] = json!(2);
    assert_eq!(flux_status(&check, &obj), Current);
    // A missing field is an evaluation error, which Flux reports as Unknown.
    assert_eq!(
        flux_status(&check, &object("X", 1, Some(json!({})))),
        Unknown
    );
    assert_eq!(flux_status(&check, &object("X", 1, None)), Unknown);
    // Nothing true: InProgress.
    assert_eq!(
        flux_status(&check, &object("X", 1, Some(json!({"ready": false})))),
        InProgress
    );
}

#[test]
fn a_health_check_on_status_the_pinned_vso_never_writes_fails_the_self_check() {
    // The pre-issue-9 check: conditions, which VSO 0.10 does not write on the secret kinds.
    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("flux");
    std::fs::create_dir_all(&tpl).unwrap();
    let original = include_str!("../../templates/flux/kustomization.yaml.j2");
    let broken = original.replace(
        "      current: {{ h.current | q }}",
        "      current: \"has(status.conditions) && status.conditions.exists(c, c.type == 'SecretSynced' && c.status == 'True')\"",
    );
    assert_ne!(original, broken);
    std::fs::write(tpl.join("kustomization.yaml.j2"), broken).unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "-f",
        fixture("example.yaml").to_str().unwrap(),
        "--templates",
        dir.path().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(70), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the health check for VaultStaticSecret reads status.conditions, which VSO 0.10.x never writes"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
    // The same template is right for 1.x, where VSO writes conditions.
    let o = run(&[
        "generate",
        "-f",
        fixture("production-1x.yaml").to_str().unwrap(),
        "--templates",
        dir.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

// ---------- ESO and cert-manager (issue: a broken store is a timeout without them) ----------

/// The non-VSO `healthCheckExprs` of the Kustomization `stage` generated for `fixture_name`
/// (each consumer's apps are a stage of their own: `vault-apps-eso`, `vault-cert-manager`).
fn consumer_checks(fixture_name: &str, cluster: &str, stage: &str) -> BTreeMap<String, Check> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "-f",
        fixture(fixture_name).to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let tree = read_tree(&out);
    let k: Json = serde_yaml::from_str(&tree[&format!("clusters/{cluster}/{stage}.yaml")]).unwrap();
    k["spec"]["healthCheckExprs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["apiVersion"] != "secrets.hashicorp.com/v1beta1")
        .map(|h| {
            let s = |f: &str| h[f].as_str().map(str::to_string);
            let kind = s("kind").unwrap();
            (
                kind.clone(),
                Check {
                    kind,
                    in_progress: s("inProgress"),
                    failed: s("failed"),
                    current: s("current").unwrap(),
                },
            )
        })
        .collect()
}

fn ready(status: &str, observed_generation: Option<i64>) -> Json {
    let mut c = json!({"type": "Ready", "status": status, "reason": "R", "message": "m", "lastTransitionTime": "2026-11-01T00:00:00Z"});
    if let Some(g) = observed_generation {
        c["observedGeneration"] = json!(g);
    }
    c
}

#[test]
fn external_secrets_and_stores_fail_fast_and_are_current_only_when_synced() {
    let checks = consumer_checks("consumers.yaml", "shop", "vault-apps-eso");
    for kind in ["ExternalSecret", "SecretStore", "ClusterSecretStore"] {
        assert!(checks.contains_key(kind), "{kind}: {checks:?}");
    }
    uses_only_standard_functions(&checks);
    let es = &checks["ExternalSecret"];
    // Not reconciled yet: no status.
    assert_eq!(flux_status(es, &object("ExternalSecret", 2, None)), Unknown);
    // ESO's failure (SecretSyncedError): Failed at once, not a 10-minute timeout.
    let failed = object(
        "ExternalSecret",
        2,
        Some(json!({"conditions": [ready("False", None)]})),
    );
    assert_eq!(flux_status(es, &failed), Failed);
    // Synced for this generation: Current. Synced for the previous spec only: not yet.
    let synced = |rv: &str| {
        object(
            "ExternalSecret",
            2,
            Some(
                json!({"conditions": [ready("True", None)], "syncedResourceVersion": rv, "refreshTime": "2026-11-01T00:00:00Z"}),
            ),
        )
    };
    assert_eq!(flux_status(es, &synced("2-9c0e…")), Current);
    assert_eq!(flux_status(es, &synced("1-77ab…")), InProgress);
    assert_eq!(
        flux_status(es, &synced("12-77ab…")),
        InProgress,
        "generation 12 is not 1 or 2"
    );
    for kind in ["SecretStore", "ClusterSecretStore"] {
        let c = &checks[kind];
        let with = |s| object(kind, 1, Some(json!({"conditions": [ready(s, None)]})));
        assert_eq!(flux_status(c, &with("False")), Failed, "{kind}");
        assert_eq!(flux_status(c, &with("True")), Current, "{kind}");
    }
}

#[test]
fn cert_manager_issuers_are_judged_on_the_current_generation() {
    let checks = consumer_checks("pki-intermediate.yaml", "lab", "vault-cert-manager");
    let kind = ["Issuer", "ClusterIssuer"]
        .into_iter()
        .find(|k| checks.contains_key(*k))
        .expect("an issuer check");
    uses_only_standard_functions(&checks);
    let c = &checks[kind];
    let with = |s, g| object(kind, 3, Some(json!({"conditions": [ready(s, Some(g))]})));
    assert_eq!(flux_status(c, &with("False", 3)), Failed);
    assert_eq!(flux_status(c, &with("True", 3)), Current);
    // A verdict on an older spec is neither.
    assert_eq!(flux_status(c, &with("True", 2)), InProgress);
    assert_eq!(flux_status(c, &with("False", 2)), InProgress);
}
