//! `monitoring`'s Grafana dashboard: valid JSON in a ConfigMap Grafana's sidecar loads,
//! checked against the dashboard JSON model of the `schemaVersion` it declares, its
//! Prometheus queries parsed by the real promtool.

use crate::support::common::*;
use crate::support::servers::{find_tool, require};
use serde_json::{json, Value};
use std::collections::BTreeSet;

const MONITORING: &str =
    "monitoring:\n  serviceMonitor: true\n  labels: {release: kube-prometheus-stack}\n";

/// The dashboard ConfigMap of the consumers fixture with `monitoring`.
fn dashboard_config_map() -> Value {
    let text = std::fs::read_to_string(fixture("consumers.yaml")).unwrap() + MONITORING;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.yaml");
    std::fs::write(&path, text).unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "-f",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let tree = read_tree(&out);
    let file = &tree["infrastructure/shop/vault/grafana-dashboard.yaml"];
    assert!(
        tree["infrastructure/shop/vault/kustomization.yaml"].contains("- grafana-dashboard.yaml"),
        "the Vault stage applies it"
    );
    serde_yaml::from_str(file).unwrap()
}

/// What the dashboard JSON model requires at the schema versions this checker knows (Grafana
/// 10.x–11.x: 36 made a panel's `datasource` an object `{type, uid}`).
fn model_problems(d: &Value) -> Vec<String> {
    let mut problems = vec![];
    let version = d["schemaVersion"].as_u64().unwrap_or(0);
    if !(36..=41).contains(&version) {
        problems.push(format!(
            "schemaVersion {version} is not one this checker knows"
        ));
    }
    for key in [
        "uid",
        "title",
        "schemaVersion",
        "version",
        "panels",
        "templating",
        "time",
    ] {
        if d.get(key).is_none() {
            problems.push(format!("no top-level `{key}`"));
        }
    }
    // Datasource variables: `${name}` resolves to one of them, of the panel's type.
    let variables: Vec<(String, String)> = d["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["type"] == "datasource")
        .map(|v| {
            (
                format!("${{{}}}", v["name"].as_str().unwrap_or_default()),
                v["query"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let mut ids = BTreeSet::new();
    for p in d["panels"].as_array().into_iter().flatten() {
        let id = p["id"].as_u64();
        let at = format!("panel {id:?}");
        if id.is_none() || !ids.insert(id) {
            problems.push(format!("{at}: no id, or one another panel has"));
        }
        for key in ["type", "title", "gridPos", "targets"] {
            if p.get(key).is_none() {
                problems.push(format!("{at}: no `{key}`"));
            }
        }
        for g in ["x", "y", "w", "h"] {
            if !p["gridPos"][g].is_u64() {
                problems.push(format!("{at}: gridPos.{g} is not a number"));
            }
        }
        let ds = &p["datasource"];
        let known = variables
            .iter()
            .any(|(uid, ty)| ds["uid"] == uid.as_str() && ds["type"] == ty.as_str());
        if !known {
            problems.push(format!(
                "{at}: datasource {ds} is not a datasource variable of its type"
            ));
        }
        let targets = p["targets"].as_array().cloned().unwrap_or_default();
        if targets.is_empty() {
            problems.push(format!("{at}: no targets"));
        }
        let mut refs = BTreeSet::new();
        for t in &targets {
            if !refs.insert(t["refId"].as_str().unwrap_or_default().to_string()) {
                problems.push(format!("{at}: refId repeated or missing"));
            }
            if t["expr"].as_str().is_none_or(str::is_empty) {
                problems.push(format!("{at}: a target without expr"));
            }
            if t.get("datasource").is_some_and(|t| t != ds) {
                problems.push(format!("{at}: a target with another datasource"));
            }
        }
    }
    problems
}

#[test]
fn the_dashboard_is_a_valid_model_of_its_schema_version() {
    let cm = dashboard_config_map();
    assert_eq!(cm["kind"], "ConfigMap");
    assert_eq!(cm["metadata"]["labels"]["grafana_dashboard"], "1");
    let text = cm["data"]["vault.json"].as_str().unwrap();
    let d: Value = serde_json::from_str(text).expect("the dashboard is JSON");
    assert_eq!(d["schemaVersion"], 39);
    assert_eq!(model_problems(&d), Vec::<String>::new());
    // Both sources the issue asks for: metrics, and the audit log (failed logins).
    let types: BTreeSet<&str> = d["panels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["datasource"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, BTreeSet::from(["loki", "prometheus"]));
    assert!(text.contains("Failed logins"));

    // The checker refuses what Grafana would not load.
    let mut broken = d.clone();
    broken["panels"][1]["id"] = broken["panels"][0]["id"].clone();
    broken["panels"][2]["datasource"] = json!("Prometheus");
    broken["panels"][3]["targets"] = json!([]);
    broken.as_object_mut().unwrap().remove("time");
    // (the string datasource also differs from its targets' own: five problems)
    assert_eq!(
        model_problems(&broken).len(),
        5,
        "{:?}",
        model_problems(&broken)
    );
}

/// Every Prometheus query of the dashboard parses (as a recording rule, `promtool check
/// rules`); the Loki queries have no checker here.
#[test]
fn the_dashboard_prometheus_queries_parse() {
    let Some(promtool) = require(find_tool("PROMTOOL", "promtool"), "promtool (prometheus)") else {
        return;
    };
    let cm = dashboard_config_map();
    let d: Value = serde_json::from_str(cm["data"]["vault.json"].as_str().unwrap()).unwrap();
    let rules: Vec<Value> = d["panels"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["datasource"]["type"] == "prometheus")
        .flat_map(|p| p["targets"].as_array().unwrap().clone())
        .enumerate()
        .map(|(i, t)| json!({"record": format!("dashboard:query{i}"), "expr": t["expr"]}))
        .collect();
    assert!(rules.len() >= 4);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("queries.yaml");
    std::fs::write(
        &file,
        json!({"groups": [{"name": "dashboard", "rules": rules}]}).to_string(),
    )
    .unwrap();
    let o = std::process::Command::new(promtool)
        .args(["check", "rules", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
}

/// With `monitoring` and a `stdout` audit device, the Vault pods carry the label a log shipper
/// selects them by, and the reviewed folder has the Promtail job that ships the audit events
/// with the labels the dashboard's audit panels query; without a stdout device, neither.
#[test]
fn a_stdout_audit_device_is_labelled_and_shipped() {
    let base = std::fs::read_to_string(fixture("consumers.yaml")).unwrap() + MONITORING;
    let with_stdout = base.replace(
        "vaultConfig:\n",
        "vaultConfig:\n  audit:\n    - {options: {file_path: /vault/audit/audit.log}}\n    - {path: stdout, options: {file_path: stdout}}\n",
    );
    let generate = |text: &str| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.yaml");
        std::fs::write(&path, text).unwrap();
        let out = dir.path().join("gitops");
        let o = run(&[
            "generate",
            "-f",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        read_tree(&out)
    };
    let labels = |tree: &std::collections::BTreeMap<String, String>| {
        let release: Value =
            serde_yaml::from_str(&tree["infrastructure/shop/vault/helmrelease.yaml"]).unwrap();
        release["spec"]["values"]["server"]["extraLabels"].clone()
    };
    let tree = generate(&with_stdout);
    assert_eq!(labels(&tree), json!({"kubectl-vault/audit": "stdout"}));
    let snippet = &tree["vault-config/shop/audit-shipping.yaml"];
    let jobs: Value = serde_yaml::from_str(snippet).unwrap();
    let job = &jobs[0];
    assert_eq!(job["job_name"], "vault-audit");
    assert_eq!(
        job["relabel_configs"][0],
        json!({"source_labels": ["__meta_kubernetes_pod_label_kubectl_vault_audit"], "regex": "stdout", "action": "keep"})
    );
    let targets: Vec<&str> = job["relabel_configs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["target_label"].as_str())
        .collect();
    for label in ["namespace", "pod", "container"] {
        assert!(targets.contains(&label), "{label}: {snippet}");
    }
    insta::assert_snapshot!("audit_shipping", snippet);

    let tree = generate(&base);
    assert_eq!(labels(&tree), Value::Null);
    assert!(!tree.contains_key("vault-config/shop/audit-shipping.yaml"));
}
