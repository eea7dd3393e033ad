//! The Argo CD health checks of the generated `argocd-cm` patch, run by a real Lua 5.1
//! interpreter (Debian's `lua5.1`, `LUA_BIN` from scripts/test-deps.sh) the way Argo CD runs
//! them (argo-cd `util/lua/lua.go`, `runLua`/`ExecuteHealthLua`): the object is the global
//! `obj` (JSON numbers as Lua numbers, null as nil), the script is a chunk run with the base
//! and table libraries only (no `string`, `io`, `math`), and its last return value must be a
//! table whose `status` is a health code. Judged over the same status samples the Flux CEL
//! checks are (`health_checks`), with Healthy as Current, Degraded as Failed and Progressing
//! as InProgress: the same verdicts, per VSO line.

use crate::health_checks::{
    connection_and_auth_behave_by, object, secret_kinds_behave_by, Current, Failed, InProgress,
    Status, Vso,
};
use crate::support::common::*;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

fn lua_bin() -> String {
    match std::env::var("LUA_BIN") {
        Ok(p) if !p.is_empty() && std::path::Path::new(&p).exists() => p,
        _ => panic!(
            "LUA_BIN is not set to a Lua 5.1 interpreter: run `source scripts/test-deps.sh` (it installs Debian's lua5.1)"
        ),
    }
}

/// A Lua string literal (Lua 5.1 escapes: `\\`, `\"`, decimal `\ddd` for everything else
/// outside printable ASCII).
fn lua_string(s: &str) -> String {
    let mut out = String::from("\"");
    for b in s.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b}")),
        }
    }
    out.push('"');
    out
}

/// `v` as Argo CD's `decodeValue` hands it to Lua: maps as tables with string keys, arrays as
/// sequences, numbers as numbers, null as nil.
fn lua_value(v: &Json) -> String {
    match v {
        Json::Null => "nil".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => lua_string(s),
        Json::Array(a) => format!(
            "{{{}}}",
            a.iter().map(lua_value).collect::<Vec<_>>().join(", ")
        ),
        Json::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("[{}] = {}", lua_string(k), lua_value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Runs `script` over `obj` as Argo CD does; returns (status, message).
fn run_health(script: &str, obj: &Json) -> (String, String) {
    let program = format!(
        r#"local write = io.write
local load = loadstring
local tostring, type = tostring, type
obj = {obj}
string, io, math, os, debug, coroutine = nil, nil, nil, nil, nil, nil
local chunk = assert(load({script}))
local hs = chunk()
if type(hs) ~= "table" then
  write("ERROR\nnot a table: " .. tostring(hs))
else
  write(tostring(hs.status), "\n", tostring(hs.message))
end
"#,
        obj = lua_value(obj),
        script = lua_string(script),
    );
    let mut child = Command::new(lua_bin())
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lua5.1 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(program.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "lua failed: {}\n{script}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8(o.stdout).unwrap();
    let (status, message) = text.split_once('\n').unwrap_or((&text, ""));
    (status.to_string(), message.to_string())
}

/// Argo CD's verdict as the Flux harness names it.
fn as_flux(status: &str) -> Status {
    match status {
        "Healthy" => Current,
        "Degraded" => Failed,
        "Progressing" => InProgress,
        other => panic!("unexpected health status {other}"),
    }
}

/// The `data` of the argocd-cm patch generated for `fixture_name`.
fn generated_scripts(fixture_name: &str, cluster: &str) -> BTreeMap<String, String> {
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
    let body = tree
        .iter()
        .find(|(p, _)| p.ends_with(&format!("clusters/{cluster}/argocd/argocd-cm-patch.yaml")))
        .map(|(_, b)| b)
        .expect("the argocd-cm patch");
    assert!(body.contains("kubectl -n argocd patch configmap argocd-cm --type merge --patch-file"));
    let v: Json = serde_yaml::from_str(body).unwrap();
    assert_eq!(v.as_object().unwrap().len(), 1, "data only: {body}");
    v["data"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, s)| (k.clone(), s.as_str().unwrap().to_string()))
        .collect()
}

fn judge(scripts: &BTreeMap<String, String>) -> impl Fn(&str, &Json) -> Status + '_ {
    move |kind, obj| {
        let key = format!("resource.customizations.health.secrets.hashicorp.com_{kind}");
        let script = scripts.get(&key).unwrap_or_else(|| panic!("no {key}"));
        let (status, message) = run_health(script, obj);
        let s = as_flux(&status);
        if s == Failed {
            assert!(
                !message.is_empty() && message != "nil",
                "{kind}: Degraded without a message"
            );
        }
        s
    }
}

#[test]
fn vso_0_10_health_checks_judge_as_the_flux_checks_do() {
    let scripts = generated_scripts("argocd.yaml", "shop");
    assert_eq!(scripts.len(), 6, "{:?}", scripts.keys());
    secret_kinds_behave_by(&judge(&scripts), Vso::V0_10_0);
    connection_and_auth_behave_by(&judge(&scripts), Vso::V0_10_0);
}

#[test]
fn vso_1x_health_checks_judge_as_the_flux_checks_do() {
    let scripts = generated_scripts("argocd-1x.yaml", "prod-eu2");
    for vso in [Vso::V1_0_0, Vso::V1_4_1] {
        secret_kinds_behave_by(&judge(&scripts), vso);
        connection_and_auth_behave_by(&judge(&scripts), vso);
    }
    // argo-cd#27916's check calls a VaultStaticSecret Healthy once secretMAC is set; a failure
    // after a good sync (secretMAC stays) is Degraded here, with the operator's message.
    let obj = object(
        "VaultStaticSecret",
        2,
        Some(json!({
            "lastGeneration": 2,
            "secretMAC": "q0mKc1Yx3cQ1oW0n9pM2c0F6xXo=",
            "conditions": [{"type": "Healthy", "status": "False", "reason": "Unhealthy",
                            "message": "permission denied", "observedGeneration": 2,
                            "lastTransitionTime": "2026-11-23T10:00:05Z"}],
        })),
    );
    let script = &scripts["resource.customizations.health.secrets.hashicorp.com_VaultStaticSecret"];
    assert_eq!(
        run_health(script, &obj),
        ("Degraded".to_string(), "permission denied".to_string())
    );
}

/// The app-of-apps waits on each wave's Applications only with a health check for them.
#[test]
fn the_application_check_reads_the_applications_health() {
    let scripts = generated_scripts("argocd.yaml", "shop");
    let script = &scripts["resource.customizations.health.argoproj.io_Application"];
    let app = |health: Option<&str>| {
        let mut a = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                           "metadata": {"name": "vault", "namespace": "argocd", "generation": 1}});
        if let Some(h) = health {
            a["status"] = json!({"health": {"status": h}, "sync": {"status": "Synced"}});
        }
        a
    };
    assert_eq!(run_health(script, &app(None)).0, "Progressing");
    for h in ["Healthy", "Degraded", "Progressing"] {
        assert_eq!(run_health(script, &app(Some(h))).0, h);
    }
}

/// The harness runs Argo CD's own scripts (ESO's, from its resource_customizations) to the
/// verdicts Argo CD documents for them: it calls a script as Argo CD does.
#[test]
fn the_harness_runs_argo_cds_own_scripts() {
    let read = |f: &str| std::fs::read_to_string(fixture(&format!("argocd-health/{f}"))).unwrap();
    let store = read("external-secrets.io_SecretStore.health.lua");
    let with = |s: &str| {
        json!({"kind": "SecretStore", "metadata": {"generation": 1},
               "status": {"conditions": [{"type": "Ready", "status": s, "message": "m"}]}})
    };
    assert_eq!(run_health(&store, &with("True")).0, "Healthy");
    assert_eq!(run_health(&store, &with("False")).0, "Degraded");
    assert_eq!(
        run_health(&store, &json!({"kind": "SecretStore"})).0,
        "Progressing"
    );
    let es = read("external-secrets.io_ExternalSecret.health.lua");
    let (status, _) = run_health(&es, &json!({"kind": "ExternalSecret"}));
    assert!(
        ["Progressing", "Healthy", "Degraded", "Unknown"].contains(&status.as_str()),
        "{status}"
    );
}
