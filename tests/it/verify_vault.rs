//! `verify --vault`: the real binary against the fake cluster and a real OpenBao.

use crate::support::cluster_state;
use crate::support::common::*;
use crate::support::fake_apiserver::FakeApiServer;
use crate::support::servers::Bao;
use serde_json::json;

#[test]
fn verify_compares_kv_data_by_hash_and_checks_policies() {
    let Some(bao) = Bao::start() else { return };
    let fake = FakeApiServer::start();
    let spec = fixture("example.yaml");
    cluster_state::synced(&fake, &spec);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = fake.write_kubeconfig(dir.path(), "homelab");
    // Vault holds the same kv data as the Secret in the fixture, and the reviewed policy.
    bao.api(
        "POST",
        "sys/mounts/kvv2",
        Some(json!({"type": "kv", "options": {"version": "2"}})),
    );
    bao.api(
        "POST",
        "kvv2/data/webapp/config",
        Some(json!({"data": {"api_key": "s3cret-api-key", "username": "app"}})),
    );
    let g = kubectl_vault::pipeline::generate(&spec, &Default::default()).unwrap();
    let policy = g
        .vault
        .policies
        .iter()
        .find(|p| p.name == "homelab-app-webapp")
        .unwrap()
        .hcl();
    bao.api(
        "PUT",
        "sys/policies/acl/homelab-app-webapp",
        Some(json!({"policy": policy})),
    );
    let verify = || {
        bin()
            .args([
                "verify",
                "--vault",
                "-o",
                "json",
                "-f",
                spec.to_str().unwrap(),
                "--kubeconfig",
                kubeconfig.to_str().unwrap(),
            ])
            .env("VAULT_ADDR", &bao.addr)
            .env("VAULT_TOKEN", &bao.token)
            .output()
            .unwrap()
    };
    let row = |o: &std::process::Output, name: &str| -> serde_json::Value {
        let v: serde_json::Value =
            serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(o)));
        v["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["secret"] == name)
            .unwrap()
            .clone()
    };

    let o = verify();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        row(&o, "app-kvv2-secret")["detail"],
        "synced; data matches Vault (SHA-256)"
    );

    // Vault moved on; the Secret did not.
    bao.api(
        "POST",
        "kvv2/data/webapp/config",
        Some(json!({"data": {"api_key": "rotated-key", "username": "app"}})),
    );
    let o = verify();
    assert_eq!(o.status.code(), Some(1));
    let r = row(&o, "app-kvv2-secret");
    assert_eq!(r["status"], "OutOfDate");
    assert!(r["detail"].as_str().unwrap().contains("api_key"), "{r}");
    assert!(
        !stdout(&o).contains("rotated-key") && !stdout(&o).contains("s3cret-api-key"),
        "values never shown"
    );

    // A policy missing the database path.
    bao.api(
        "PUT",
        "sys/policies/acl/homelab-app-webapp",
        Some(json!({"policy": "path \"kvv2/data/webapp/config\" { capabilities = [\"read\"] }"})),
    );
    let o = verify();
    assert_eq!(o.status.code(), Some(1));
    let r = row(&o, "app-db-creds");
    assert_eq!(r["status"], "PolicyDenied");
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .contains("does not grant read on demo-db/creds/dev-postgres"),
        "{r}"
    );
}
