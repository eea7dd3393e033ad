//! `operator status|init|unseal` for an OpenBao spec, on the stand-in API server: the pods
//! are found by the OpenBao chart's labels and StatefulSet (`openbao`, `openbao-N`), and reached
//! through the pod proxy at a real `bao server`; a pod with Vault's labels beside them is not
//! the spec's.

use super::*;
use crate::support::fake_apiserver::FakeApiServer;
use crate::support::servers::BaoCluster;
use std::process::Stdio;

const NS: &str = "openbao";

const SPEC: &str = r#"apiVersion: kubectl-vault/v1alpha1
kind: VaultStack
cluster: bao
vault:
  distribution: openbao
  namespace: openbao
  chart: {version: 0.29.2}
  tls: openbao-tls
operator:
  chart: {version: 1.4.1}
apps:
  - name: billing
    namespace: billing
    consumer: eso
    secrets:
      - name: billing-config
        kv: kvv2/billing/config
"#;

fn op(spec: &Path, kubeconfig: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = bin()
        .arg("operator")
        .args(args)
        .args(["-f", spec.to_str().unwrap()])
        .args(["--kubeconfig", kubeconfig.to_str().unwrap()])
        .env_remove("VAULT_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        let _ = input.write_all(stdin.as_bytes());
    }
    child.wait_with_output().unwrap()
}

#[test]
fn operator_finds_openbao_pods_by_the_openbao_chart_s_labels() {
    let Some(bao) = BaoCluster::start(1) else {
        return;
    };
    let api = FakeApiServer::start();
    api.add_server_pod("openbao", NS, "openbao-0", &bao.backend(0));
    // A Vault chart's pod in the same namespace: not selected.
    api.add_vault_pod(NS, "vault-0", "127.0.0.1:9");
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = api.write_kubeconfig(dir.path(), "bao");
    let spec = dir.path().join("openbao.yaml");
    std::fs::write(&spec, SPEC).unwrap();

    let status = op(&spec, &kubeconfig, &["status", "-o", "json"], "");
    let v: Json = serde_json::from_slice(&status.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", stderr(&status)));
    let text = v.to_string();
    assert!(text.contains("openbao-0"), "{text}");
    assert!(!text.contains("vault-0"), "{text}");
    assert!(!stderr(&status).contains("vault-0"), "{}", stderr(&status));

    let init = op(&spec, &kubeconfig, &["init", "-o", "json"], "");
    assert_eq!(init.status.code(), Some(0), "{}", stderr(&init));
    let v: Json = serde_json::from_slice(&init.stdout).unwrap();
    let shares: Vec<&str> = (v["shares"].as_array().unwrap().iter())
        .map(|s| s.as_str().unwrap())
        .collect();
    let input = format!("{}\n{}\n{}\n", shares[0], shares[1], shares[2]);
    let unseal = op(&spec, &kubeconfig, &["unseal", "-o", "json"], &input);
    assert_eq!(unseal.status.code(), Some(0), "{}", stderr(&unseal));
    let status: Json = serde_json::from_slice(&unseal.stdout).unwrap();
    assert_eq!(status["unsealed"], 1, "{status}");
    assert_eq!(status["leader"], "openbao-0", "{status}");
}

/// `verify` on an OpenBao cluster: the `openbao` HelmRelease, and the seal link read from the
/// pods the OpenBao chart labels (`openbao-sealed`), found by its selector.
#[test]
fn verify_reads_the_openbao_release_and_its_pods_labels() {
    use serde_json::json;
    let fake = FakeApiServer::start();
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("openbao.yaml");
    std::fs::write(&spec, SPEC).unwrap();
    crate::support::cluster_state::synced(&fake, &spec);
    for (i, sealed) in ["false", "true"].iter().enumerate() {
        let name = format!("openbao-{i}");
        fake.add_server_pod("openbao", NS, &name, "127.0.0.1:9");
        fake.modify("Pod", NS, &name, |o| {
            let labels = &mut o["metadata"]["labels"];
            labels["openbao-sealed"] = json!(sealed);
            labels["openbao-initialized"] = json!("true");
            labels["openbao-active"] = json!(if i == 0 { "true" } else { "false" });
        });
    }
    let kubeconfig = fake.write_kubeconfig(dir.path(), "bao");
    let verify = || verify(&spec, &kubeconfig, &[]);
    let line = |o: &std::process::Output, what: &str| {
        (stdout(o).lines())
            .find(|l| l.contains(what))
            .unwrap_or_default()
            .to_string()
    };
    let o = verify();
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(
        line(&o, "HelmRelease").contains("openbao/openbao"),
        "{}",
        stdout(&o)
    );
    let pods = line(&o, "VaultPods");
    assert!(
        pods.starts_with("FAIL") && pods.contains("openbao-1"),
        "{}",
        stdout(&o)
    );
    fake.modify("Pod", NS, "openbao-1", |o| {
        o["metadata"]["labels"]["openbao-sealed"] = json!("false")
    });
    // (The ExternalSecret stays unreported: the stand-in runs no ESO.)
    let o = verify();
    assert_eq!(
        line(&o, "VaultPods"),
        "ok   VaultPods openbao/openbao: 2/2 unsealed, leader openbao-0"
    );
}
