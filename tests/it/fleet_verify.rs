//! Fleet `verify`: the staging and production clusters of `fixtures/fleet.yaml`, each a fake
//! API server behind its own context of one kubeconfig, checked in one run.

use crate::support::cluster_state::{self, REVISION};
use crate::support::common::*;
use crate::support::fake_apiserver::{FakeApiServer, TOKEN};
use serde_json::Value;
use std::path::{Path, PathBuf};

struct Fleet {
    staging: FakeApiServer,
    production: FakeApiServer,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    spec: PathBuf,
}

/// A kubeconfig `dir/file` with one context per `(context, server)`, the first one current.
pub(crate) fn kubeconfig(dir: &Path, file: &str, contexts: &[(&str, String)]) -> PathBuf {
    let mut clusters = String::new();
    let mut entries = String::new();
    for (name, server) in contexts {
        clusters.push_str(&format!(
            "- name: {name}\n  cluster:\n    server: {server}\n"
        ));
        entries.push_str(&format!(
            "- name: {name}\n  context: {{cluster: {name}, user: u}}\n"
        ));
    }
    let path = dir.join(file);
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n{clusters}contexts:\n{entries}current-context: {}\nusers:\n- name: u\n  user: {{token: {TOKEN}}}\n",
            contexts[0].0
        ),
    )
    .unwrap();
    path
}

/// A port nothing listens on: connection refused.
fn dead_server() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://127.0.0.1:{}", l.local_addr().unwrap().port())
}

/// Both clusters synced, reached through `kind-staging` and `kind-production` (the contexts
/// the fleet spec names), the current context being production's.
fn synced_fleet() -> Fleet {
    let spec = fixture("fleet.yaml");
    let staging = FakeApiServer::start();
    let production = FakeApiServer::start();
    cluster_state::synced_fleet_cluster(&staging, &spec, "staging");
    cluster_state::synced_fleet_cluster(&production, &spec, "production");
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = kubeconfig(
        dir.path(),
        "kubeconfig",
        &[
            ("kind-production", production.url()),
            ("kind-staging", staging.url()),
        ],
    );
    Fleet {
        staging,
        production,
        dir,
        kubeconfig,
        spec,
    }
}

impl Fleet {
    fn verify(&self, extra: &[&str]) -> std::process::Output {
        verify(&self.spec, &self.kubeconfig, extra)
    }
    fn json(&self, extra: &[&str]) -> (Option<i32>, Value) {
        verify_json(&self.spec, &self.kubeconfig, extra)
    }
    fn reset(&self) {
        self.staging.reset_requests();
        self.production.reset_requests();
    }
    fn stable(&self) -> insta::Settings {
        let mut settings = redactions(&[(self.dir.path(), "TMP"), (&fixture(""), "FIXTURES")]);
        settings.add_filter(r"lease valid for \d+s more", "lease valid for [N]s more");
        settings
    }
}

fn rows<'a>(report: &'a Value, cluster: &str) -> Vec<&'a Value> {
    report["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["cluster"] == cluster)
        .collect()
}

#[test]
fn every_cluster_in_its_own_context_one_table_one_summary() {
    let f = synced_fleet();
    let o = f.verify(&["--revision", &REVISION[..7]]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    f.stable()
        .bind(|| insta::assert_snapshot!("fleet_table_all_synced", out));
    // Each cluster was read once, in its own context (the current one is production's);
    // staging runs no Vault, so its Vault pods are not listed: one list fewer.
    let (single_staging, single_production) =
        (f.staging.request_count(), f.production.request_count());
    assert!(single_staging > 0 && single_staging + 1 == single_production);

    f.reset();
    let (code, v) = f.json(&[]);
    assert_eq!(code, Some(0));
    let pretty = serde_json::to_string_pretty(&v).unwrap();
    f.stable()
        .bind(|| insta::assert_snapshot!("fleet_json_all_synced", pretty));
    assert_eq!(rows(&v, "staging").len(), 2);
    assert_eq!(rows(&v, "production").len(), 3);
    assert_eq!(
        (v["synced"].clone(), v["total"].clone()),
        (5.into(), 5.into())
    );

    // The API cost per cluster is that of a single-cluster verify of it, whatever the fleet.
    let fleet_requests: Vec<u64> = v["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["apiRequests"].as_u64().unwrap())
        .collect();
    for (i, cluster) in ["staging", "production"].iter().enumerate() {
        f.reset();
        let (code, single) = f.json(&["--cluster", cluster]);
        assert_eq!(code, Some(0), "{single}");
        // One cluster of a fleet is a single verify: no cluster column, its own context.
        assert!(single.get("clusters").is_none(), "{single}");
        assert_eq!(single["apiRequests"].as_u64(), Some(fleet_requests[i]));
        let (mine, other) = match i {
            0 => (&f.staging, &f.production),
            _ => (&f.production, &f.staging),
        };
        assert_eq!(mine.request_count() as u64, fleet_requests[i]);
        assert_eq!(other.request_count(), 0);
    }
}

#[test]
fn one_unreachable_cluster_is_exit_3_and_the_others_are_still_reported() {
    let f = synced_fleet();
    let kubeconfig = kubeconfig(
        f.dir.path(),
        "kubeconfig-down",
        &[
            ("kind-staging", f.staging.url()),
            ("kind-production", dead_server()),
        ],
    );
    let o = bin()
        .args(["verify", "-f"])
        .arg(&f.spec)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["--request-timeout", "2s"])
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.lines()
            .any(|l| l.starts_with("staging ") && l.contains("webapp-config")),
        "{out}"
    );
    f.stable()
        .bind(|| insta::assert_snapshot!("fleet_table_one_cluster_down", out));

    // Forbidden is the environment too; the JSON names the cluster and the cause.
    f.production.forbid_everywhere("vaultauths");
    let (code, v) = f.json(&[]);
    assert_eq!(code, Some(3), "{v}");
    assert_eq!(rows(&v, "staging").len(), 2);
    let production = &v["clusters"][1];
    assert_eq!(production["cluster"], "production");
    assert_eq!(production["exitCode"], 3);
    assert!(
        production["error"]
            .as_str()
            .unwrap()
            .contains("forbidden: cannot list vaultauths.secrets.hashicorp.com"),
        "{v}"
    );
}

#[test]
fn a_cluster_not_synced_is_exit_1_naming_the_cluster() {
    let f = synced_fleet();
    f.production.remove("Secret", "shop", "reports-config");
    let o = f.verify(&[]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    f.stable()
        .bind(|| insta::assert_snapshot!("fleet_table_not_synced", out));
    let (code, v) = f.json(&[]);
    assert_eq!(code, Some(1));
    let bad: Vec<&Value> = v["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] != "Synced")
        .collect();
    assert_eq!(bad.len(), 1, "{v}");
    assert_eq!(bad[0]["cluster"], "production");
    assert_eq!(bad[0]["status"], "SecretMissing");
    assert_eq!(v["clusters"][0]["ok"], true);
    assert_eq!(v["clusters"][1]["ok"], false);
}

#[test]
fn wait_lasts_until_every_cluster_is_synced() {
    let f = synced_fleet();
    let mut secret = Value::Null;
    f.production
        .modify("Secret", "shop", "reports-config", |s| secret = s.clone());
    f.production.remove("Secret", "shop", "reports-config");
    std::thread::scope(|scope| {
        scope.spawn(|| {
            // VSO writes the Secret a little later.
            std::thread::sleep(std::time::Duration::from_secs(3));
            f.production.add(secret.clone());
        });
        let o = f.verify(&["--wait", "--timeout", "60s"]);
        assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
        assert!(
            stderr(&o).contains("waiting: staging 2/2, production 2/3 (1 SecretMissing)"),
            "{}",
            stderr(&o)
        );
        assert!(stdout(&o).contains("total 5/5 secrets synced; all good"));
    });
}

#[test]
fn contexts_from_the_command_line_and_bad_choices() {
    let f = synced_fleet();
    // Other context names: --context CLUSTER=NAME for each.
    let kubeconfig = kubeconfig(
        f.dir.path(),
        "kubeconfig-ab",
        &[("a", f.staging.url()), ("b", f.production.url())],
    );
    let run = |extra: &[&str]| {
        bin()
            .args(["verify", "-f"])
            .arg(&f.spec)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(extra)
            .env_remove("KUBECONFIG")
            .output()
            .unwrap()
    };
    let o = run(&["--context", "staging=a", "--context", "production=b"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // Chosen clusters, repeated.
    let o = run(&[
        "--cluster",
        "production",
        "--cluster",
        "staging",
        "--context",
        "staging=a",
        "--context",
        "production=b",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The spec's contexts are not in this kubeconfig: a usage error per cluster, exit 2,
    // both named.
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stdout(&o).contains("FAIL staging"), "{}", stdout(&o));
    assert!(stdout(&o).contains("FAIL production"), "{}", stdout(&o));
    for (extra, message) in [
        (
            &["--context", "a"][..],
            "--context a: 2 clusters are checked (staging, production): name the cluster of each context",
        ),
        (
            &["--context", "production=kind-staging"],
            "clusters staging and production would both be checked in the context kind-staging",
        ),
        (
            &["--cluster", "qa"],
            "--cluster qa: fleet.yaml has no such cluster (its clusters: staging, production)",
        ),
    ] {
        let o = run(extra);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(message), "{extra:?}: {}", stderr(&o));
        assert!(stdout(&o).is_empty());
    }
    assert_eq!(
        f.staging.request_count() + f.production.request_count(),
        2 * (11 + 12)
    );
}

#[test]
fn a_cluster_without_vault_says_so_and_names_the_shared_vault_it_cannot_reach() {
    let f = synced_fleet();
    // Both VaultConnections invalid: staging's names the shared Vault (production's) as out of
    // its reach; production's is its own Vault's.
    for cluster in [&f.staging, &f.production] {
        // The CA Secret is there: the connection itself is what fails.
        cluster.add(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "vault-ca", "namespace": "vault-secrets-operator"},
            "data": {"ca.crt": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "a CA")},
        }));
        cluster.modify("VaultConnection", "vault-secrets-operator", "vault", |o| {
            o["status"] = serde_json::json!({
                "valid": false,
                "conditions": [{"type": "Ready", "status": "False", "reason": "ConnectionFailed", "message": "dial tcp: i/o timeout"}],
            });
        });
    }
    let o = f.verify(&[]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    f.stable()
        .bind(|| insta::assert_snapshot!("fleet_table_shared_vault_unreachable", out));
    let line = |cluster: &str, secret: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("{cluster} ")) && l.contains(secret))
            .unwrap()
            .to_string()
    };
    assert!(line("staging", "webapp-config").contains(
        "the shared Vault run by cluster production at https://vault.production.example.com:8200 is unreachable or not trusted from this cluster"
    ));
    assert!(!line("production", "webapp-config").contains("shared Vault"));
}
