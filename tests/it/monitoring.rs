//! `monitoring`: Vault's telemetry in its server configuration, the ServiceMonitors and
//! PrometheusRules in the tree, and the rules run by the real `promtool test rules` over
//! sample series: every alert both firing and not firing.

use crate::support::common::*;
use crate::support::servers::{find_tool, require};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

const MONITORING: &str =
    "monitoring:\n  serviceMonitor: true\n  labels: {release: kube-prometheus-stack}\n";

/// Generates `text` and returns the tree.
fn generate(text: &str) -> BTreeMap<String, String> {
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
}

/// The consumers fixture (cert-manager issues Vault's certificate) with `monitoring`: the
/// files it adds or changes.
fn monitored() -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let text = std::fs::read_to_string(fixture("consumers.yaml")).unwrap();
    let without = generate(&text);
    let with = generate(&format!("{text}{MONITORING}"));
    let changed = with
        .iter()
        .filter(|(k, v)| without.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (with, changed)
}

/// The YAML documents of a generated file (its header comment is YAML too).
fn documents(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .filter(|v: &Value| !v.is_null())
        .collect()
}

#[test]
fn monitoring_adds_telemetry_service_monitors_and_rules() {
    let (_, changed) = monitored();
    insta::assert_snapshot!(
        "monitoring_files",
        changed.keys().cloned().collect::<Vec<_>>().join("\n")
    );
    insta::assert_snapshot!("monitoring_tree", tree_text(&changed));
    // The server configuration: telemetry, and metrics without a token.
    let release = &changed["infrastructure/shop/vault/helmrelease.yaml"];
    let doc = &documents(release)[0];
    let hcl = doc["spec"]["values"]["server"]["ha"]["raft"]["config"]
        .as_str()
        .unwrap();
    assert!(hcl.contains("prometheus_retention_time = \"24h\""), "{hcl}");
    assert!(hcl.contains("disable_hostname          = true"), "{hcl}");
    assert!(
        hcl.contains("unauthenticated_metrics_access = true"),
        "{hcl}"
    );
}

/// `{{ $labels.x }}` in an annotation, as Prometheus expands it for `labels`.
fn expand(text: &str, labels: &Value) -> String {
    let mut out = text.to_string();
    if let Some(map) = labels.as_object() {
        for (k, v) in map {
            out = out.replace(&format!("{{{{ $labels.{k} }}}}"), v.as_str().unwrap());
        }
    }
    out
}

/// One `promtool test rules` case: series, and per alert the times it must and must not fire.
struct Case {
    series: Vec<(&'static str, &'static str)>,
    /// (alert, eval time, the labels of each alert firing then; empty: none fires).
    checks: Vec<(&'static str, &'static str, Vec<Value>)>,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            series: vec![
                (
                    r#"vault_core_unsealed{namespace="vault", pod="vault-0"}"#,
                    "1 1 0 0 0 0 0",
                ),
                (
                    r#"vault_core_unsealed{namespace="vault", pod="vault-1"}"#,
                    "1x6",
                ),
                (
                    r#"vault_core_unsealed{namespace="other", pod="vault-0"}"#,
                    "0x6",
                ),
            ],
            checks: vec![
                ("VaultSealed", "2m", vec![]),
                (
                    "VaultSealed",
                    "5m",
                    vec![json!({"namespace": "vault", "pod": "vault-0"})],
                ),
            ],
        },
        Case {
            series: vec![
                (
                    r#"vault_core_active{namespace="vault", pod="vault-0"}"#,
                    "1 1 1 0 0 0 0 0 0 0 0",
                ),
                (
                    r#"vault_core_active{namespace="vault", pod="vault-1"}"#,
                    "0x10",
                ),
            ],
            checks: vec![
                ("VaultNoActiveNode", "2m", vec![]),
                ("VaultNoActiveNode", "4m", vec![]),
                ("VaultNoActiveNode", "10m", vec![json!({})]),
            ],
        },
        // No Vault scraped at all: no active node either.
        Case {
            series: vec![(r#"up{job="other"}"#, "1x10")],
            checks: vec![("VaultNoActiveNode", "5m", vec![json!({})])],
        },
        Case {
            series: vec![(
                r#"vault_autopilot_healthy{namespace="vault", pod="vault-0"}"#,
                "1 1 1 1 0 0 0 0 0 0 0 0 0",
            )],
            checks: vec![
                ("VaultRaftUnhealthy", "6m", vec![]),
                (
                    "VaultRaftUnhealthy",
                    "12m",
                    vec![json!({"namespace": "vault", "pod": "vault-0"})],
                ),
            ],
        },
        // Expiry timestamps in seconds from the test's start: 10 days (fires), 20 days (not),
        // and another certificate expiring (not Vault's: not this alert).
        Case {
            series: vec![
                (
                    r#"certmanager_certificate_expiration_timestamp_seconds{name="vault-tls", namespace="vault"}"#,
                    "864000x150",
                ),
                (
                    r#"certmanager_certificate_expiration_timestamp_seconds{name="web-tls", namespace="web"}"#,
                    "3600x150",
                ),
            ],
            checks: vec![
                ("VaultCertificateExpiring", "30m", vec![]),
                (
                    "VaultCertificateExpiring",
                    "2h",
                    vec![json!({"name": "vault-tls", "namespace": "vault"})],
                ),
            ],
        },
        Case {
            series: vec![(
                r#"certmanager_certificate_expiration_timestamp_seconds{name="vault-tls", namespace="vault"}"#,
                "1728000x150",
            )],
            checks: vec![("VaultCertificateExpiring", "2h", vec![])],
        },
        Case {
            series: vec![
                (
                    r#"controller_runtime_reconcile_errors_total{namespace="vault-secrets-operator", controller="vaultstaticsecret", pod="vso-0"}"#,
                    "0+1x60",
                ),
                (
                    r#"controller_runtime_reconcile_errors_total{namespace="vault-secrets-operator", controller="vaultauth", pod="vso-0"}"#,
                    "3x60",
                ),
                (
                    r#"controller_runtime_reconcile_errors_total{namespace="elsewhere", controller="vaultauth", pod="x"}"#,
                    "0+1x60",
                ),
            ],
            checks: vec![
                ("VaultSecretsOperatorSyncErrors", "10m", vec![]),
                (
                    "VaultSecretsOperatorSyncErrors",
                    "30m",
                    vec![json!({"controller": "vaultstaticsecret"})],
                ),
            ],
        },
        Case {
            series: vec![
                (
                    r#"controller_resource_status{namespace="vault-secrets-operator", controller="vaultauth", exported_namespace="shop", name="catalog"}"#,
                    "0x20",
                ),
                (
                    r#"controller_resource_status{namespace="vault-secrets-operator", controller="vaultauth", exported_namespace="shop", name="web"}"#,
                    "1x20",
                ),
            ],
            checks: vec![
                ("VaultSecretsOperatorInvalidResource", "5m", vec![]),
                (
                    "VaultSecretsOperatorInvalidResource",
                    "15m",
                    vec![
                        json!({"namespace": "vault-secrets-operator", "controller": "vaultauth", "exported_namespace": "shop", "name": "catalog"}),
                    ],
                ),
            ],
        },
    ]
}

#[test]
fn every_alert_fires_and_stays_quiet_under_promtool() {
    let Some(promtool) = require(find_tool("PROMTOOL", "promtool"), "promtool (prometheus)") else {
        return;
    };
    let (tree, _) = monitored();
    // Every PrometheusRule of the tree, its groups as one rules file.
    let mut groups = vec![];
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    for (path, text) in &tree {
        if !path.ends_with(".yaml") {
            continue;
        }
        for doc in documents(text) {
            if doc["kind"] == "PrometheusRule" {
                for g in doc["spec"]["groups"].as_array().unwrap() {
                    for r in g["rules"].as_array().unwrap() {
                        rules.insert(r["alert"].as_str().unwrap().into(), r.clone());
                    }
                    groups.push(g.clone());
                }
            }
        }
    }
    assert_eq!(
        rules.keys().cloned().collect::<Vec<_>>(),
        [
            "VaultCertificateExpiring",
            "VaultNoActiveNode",
            "VaultRaftUnhealthy",
            "VaultSealed",
            "VaultSecretsOperatorInvalidResource",
            "VaultSecretsOperatorSyncErrors",
        ]
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.yaml"),
        json!({"groups": groups}).to_string(),
    )
    .unwrap();
    let (mut fired, mut quiet) = (BTreeSet::new(), BTreeSet::new());
    let tests: Vec<Value> = cases()
        .into_iter()
        .map(|case| {
            let checks: Vec<Value> = case
                .checks
                .iter()
                .map(|(alert, at, firing)| {
                    let rule = &rules[*alert];
                    if firing.is_empty() {
                        quiet.insert(*alert);
                    } else {
                        fired.insert(*alert);
                    }
                    let exp: Vec<Value> = firing
                        .iter()
                        .map(|labels| {
                            let mut l = labels.clone();
                            l["severity"] = rule["labels"]["severity"].clone();
                            let annotations: BTreeMap<String, String> = rule["annotations"]
                                .as_object()
                                .unwrap()
                                .iter()
                                .map(|(k, v)| (k.clone(), expand(v.as_str().unwrap(), &l)))
                                .collect();
                            json!({"exp_labels": l, "exp_annotations": annotations})
                        })
                        .collect();
                    json!({"eval_time": at, "alertname": alert, "exp_alerts": exp})
                })
                .collect();
            json!({
                "interval": "1m",
                "input_series": case.series.iter().map(|(s, v)| json!({"series": s, "values": v})).collect::<Vec<_>>(),
                "alert_rule_test": checks,
            })
        })
        .collect();
    for alert in rules.keys() {
        assert!(
            fired.contains(alert.as_str()) && quiet.contains(alert.as_str()),
            "{alert} needs a case where it fires and one where it does not"
        );
    }
    let test_file = dir.path().join("tests.yaml");
    std::fs::write(
        &test_file,
        json!({"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": tests})
            .to_string(),
    )
    .unwrap();
    let o = std::process::Command::new(promtool)
        .args(["test", "rules", test_file.to_str().unwrap()])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    // And the rules file itself, as Prometheus loads it.
    let o = std::process::Command::new(find_tool("PROMTOOL", "promtool").unwrap())
        .args([
            "check",
            "rules",
            dir.path().join("rules.yaml").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
}

/// The block `name {` … its closing `}` in `hcl` (the first one, at any indent).
fn block<'a>(hcl: &'a str, name: &str) -> &'a str {
    let start = hcl.find(&format!("{name} {{")).unwrap();
    let end = start + hcl[start..].find('}').unwrap() + 1;
    &hcl[start..end]
}

/// A real OpenBao with the generated telemetry stanzas serves the metrics the
/// ServiceMonitor scrapes (its path and `format` parameter) without a token, sealed too:
/// `vault_core_unsealed 0` is what `VaultSealed` fires on.
#[test]
fn a_sealed_openbao_serves_the_metrics_the_service_monitor_scrapes() {
    use crate::support::servers::{free_port, wait_for_port};
    let Some(bao) = require(find_tool("BAO_BIN", "bao"), "OpenBao (bao)") else {
        return;
    };
    let (_, changed) = monitored();
    let release = &documents(&changed["infrastructure/shop/vault/helmrelease.yaml"])[0];
    let hcl = release["spec"]["values"]["server"]["ha"]["raft"]["config"]
        .as_str()
        .unwrap()
        .to_string();
    let listener_telemetry = block(&hcl, "telemetry");
    let top_telemetry = block(&hcl[hcl.find("\ntelemetry {").unwrap()..], "telemetry");
    let monitor = &documents(&changed["infrastructure/shop/vault/servicemonitor.yaml"])[0];
    let endpoint = &monitor["spec"]["endpoints"][0];
    let path = format!(
        "{}?format={}",
        endpoint["path"].as_str().unwrap(),
        endpoint["params"]["format"][0].as_str().unwrap()
    );
    let dir = tempfile::tempdir().unwrap();
    let (port, cluster) = (free_port(), free_port());
    let config = format!(
        "storage \"raft\" {{\n  path = \"{data}\"\n  node_id = \"n1\"\n}}\nlistener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  tls_disable = 1\n  {listener_telemetry}\n}}\n{top_telemetry}\napi_addr = \"http://127.0.0.1:{port}\"\ncluster_addr = \"http://127.0.0.1:{cluster}\"\n",
        data = dir.path().display()
    );
    let file = dir.path().join("server.hcl");
    std::fs::write(&file, config).unwrap();
    let mut child = std::process::Command::new(bao)
        .args(["server", &format!("-config={}", file.display())])
        .env("HOME", dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port, "bao");
    let (status, body) =
        crate::support::http::request(&format!("http://127.0.0.1:{port}"), "GET", &path, &[], b"")
            .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.lines()
            .any(|l| l.starts_with("vault_core_unsealed") && l.ends_with(" 0")),
        "{body}"
    );
}

/// The generated ServiceMonitors and PrometheusRules against the prometheus-operator CRDs
/// (v0.93.0, fixtures/crds/prometheus-operator), unknown fields refused.
#[test]
fn monitoring_objects_match_the_upstream_crds() {
    use crate::support::crd_schema::{crd_schema, schema_problems};
    let (_, changed) = monitored();
    let mut problems = vec![];
    let mut checked = BTreeMap::<String, usize>::new();
    for (path, text) in &changed {
        for doc in documents(text) {
            let kind = doc["kind"].as_str().unwrap_or_default().to_string();
            if kind != "ServiceMonitor" && kind != "PrometheusRule" {
                continue;
            }
            problems.extend(schema_problems(
                &doc,
                &crd_schema("monitoring.coreos.com", &kind, "v1"),
                &format!("{path}: "),
            ));
            *checked.entry(kind).or_default() += 1;
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(
        checked.into_iter().collect::<Vec<_>>(),
        [
            ("PrometheusRule".to_string(), 2),
            ("ServiceMonitor".to_string(), 2)
        ]
    );
}
