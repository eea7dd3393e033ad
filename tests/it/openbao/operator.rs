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
