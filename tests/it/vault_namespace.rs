//! `vaultNamespace` end to end: the generated objects that log in to Vault carry it, and
//! `configure` (and configure.sh) write the Vault side inside that namespace of a real OpenBao
//! (2.x has namespaces), where a kubernetes-auth login works with the namespace header only.

use crate::support::common::*;
use crate::support::servers::Bao;
use crate::support::vault_fakes::{run_script, sa_jwt, VaultCli};
use crate::support::vault_setup::{configure, SpecDir};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

const REVIEWER_JWT: &str = "reviewer-jwt-for-namespace-tests";
const NAMESPACE: &str = "admin/team-a";

/// Generates `spec` (a file's text) and returns the tree.
fn generate(spec: &str) -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.yaml");
    std::fs::write(&path, spec).unwrap();
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

/// The files of `fixture`'s tree that `vaultNamespace` changes, with it.
fn changed_by_namespace(fixture_name: &str, extra: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(fixture(fixture_name)).unwrap() + extra;
    let without = generate(&text);
    let with = generate(&format!("{text}vaultNamespace: {NAMESPACE}\n"));
    assert_eq!(
        with.keys().collect::<Vec<_>>(),
        without.keys().collect::<Vec<_>>(),
        "the namespace adds or removes no file"
    );
    with.into_iter().filter(|(k, v)| without[k] != *v).collect()
}

/// Every kind that logs in to Vault carries the namespace, in its own field: VaultAuth
/// `spec.namespace` (VSO 0.10 and 1.x alike), the injector's `vault.hashicorp.com/namespace`,
/// the SecretProviderClass parameter `vaultNamespace`, ESO's `provider.vault.namespace`,
/// cert-manager's `spec.vault.namespace`, VSO's client-cache `storageEncryption.namespace`,
/// and configure.sh's VAULT_NAMESPACE. Nothing else changes.
#[test]
fn every_login_carries_the_vault_namespace() {
    let consumers = changed_by_namespace("consumers.yaml", "");
    let issuer = changed_by_namespace("pki-intermediate.yaml", "");
    let vso_1x = changed_by_namespace("production-1x.yaml", "");
    let names = |t: &BTreeMap<String, String>| t.keys().cloned().collect::<Vec<_>>();
    insta::assert_snapshot!(
        "vault_namespace_files",
        [names(&consumers), names(&issuer), names(&vso_1x)]
            .concat()
            .join("\n")
    );
    for (path, text) in consumers.iter().chain(&issuer).chain(&vso_1x) {
        assert!(text.contains(NAMESPACE), "{path} lacks the namespace");
    }
    insta::assert_snapshot!("vault_namespace_consumers", tree_text(&consumers));
    insta::assert_snapshot!("vault_namespace_issuer_and_vso_1x", {
        let mut both = issuer.clone();
        both.extend(vso_1x.clone());
        tree_text(&both)
    });
}

#[test]
fn a_namespace_with_a_slash_at_either_end_is_refused() {
    let text = std::fs::read_to_string(fixture("minimal.yaml")).unwrap();
    for bad in ["/admin", "admin/", "admin/sys"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.yaml");
        std::fs::write(&path, format!("{text}vaultNamespace: {bad}\n")).unwrap();
        let out = dir.path().join("gitops");
        let o = run(&[
            "generate",
            "-f",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", stderr(&o));
        assert!(stderr(&o).contains("vaultNamespace"), "{}", stderr(&o));
        assert!(!out.exists(), "nothing written");
    }
}

/// A Vault outside the cluster, one VSO app reading kv, in namespace `admin/team-a`.
fn spec(ca: &Path, k8s_host: &str) -> String {
    format!(
        r#"apiVersion: kubectl-vault/v1alpha1
kind: VaultStack
cluster: lab
vaultNamespace: {NAMESPACE}
vault:
  chart: {{version: 0.30.0}}
  tls: vault-tls
operator:
  chart: {{version: 1.4.1}}
apps:
  - name: api
    namespace: shop
    secrets:
      - name: api-config
        kv: apps-kv/shop/api
vaultConfig:
  kubernetesAuth:
    mount: kubernetes
    host: {k8s_host}
    caCertFrom: file:{ca}
    disableLocalCaJwt: true
    tokenReviewer: {{mode: serviceAccount, jwtFrom: env:TEST_REVIEWER_JWT}}
"#,
        ca = ca.display()
    )
}

/// A raw API call to `bao` with the root token, in `namespace` (none: the root namespace).
fn api(bao: &Bao, namespace: Option<&str>, method: &str, path: &str, body: Value) -> (u16, Value) {
    api_as(bao, &bao.token, namespace, method, path, body)
}

fn api_as(
    bao: &Bao,
    token: &str,
    namespace: Option<&str>,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let mut headers = vec![("Content-Type", "application/json")];
    if !token.is_empty() {
        headers.push(("X-Vault-Token", token));
    }
    if let Some(ns) = namespace {
        headers.push(("X-Vault-Namespace", ns));
    }
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let (status, bytes) = crate::support::http::request(
        &bao.addr,
        method,
        &format!("/v1/{path}"),
        &headers,
        body.as_bytes(),
    )
    .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// `admin`, and `team-a` inside it.
fn create_namespaces(bao: &Bao) {
    assert!(api(bao, None, "POST", "sys/namespaces/admin", json!({})).0 < 300);
    assert!(
        api(
            bao,
            Some("admin"),
            "POST",
            "sys/namespaces/team-a",
            json!({})
        )
        .0 < 300
    );
}

/// What `configure` wrote in `namespace`: auth mounts, policies, the app's role (if any).
fn side_in(bao: &Bao, namespace: Option<&str>) -> (bool, bool, bool) {
    let auth = api(bao, namespace, "GET", "sys/auth", Value::Null).1;
    let policies = api(
        bao,
        namespace,
        "GET",
        "sys/policies/acl?list=true",
        Value::Null,
    )
    .1;
    let role = api(
        bao,
        namespace,
        "GET",
        "auth/kubernetes/role/shop-api",
        Value::Null,
    )
    .0;
    (
        auth["data"].get("kubernetes/").is_some(),
        policies["data"]["keys"]
            .as_array()
            .is_some_and(|k| k.iter().any(|p| p == "lab-shop-api")),
        role == 200,
    )
}

#[test]
fn configure_writes_the_vault_side_inside_the_namespace_and_logins_need_it() {
    let Some(bao) = Bao::start() else { return };
    create_namespaces(&bao);
    let s = SpecDir::new(REVIEWER_JWT, |_, ca, k8s_host| spec(ca, k8s_host));
    // The environment names another namespace: the spec's wins, with a warning.
    let o = configure(
        &bao,
        &s.spec_path,
        &[],
        &[
            ("TEST_REVIEWER_JWT", REVIEWER_JWT),
            ("VAULT_NAMESPACE", "elsewhere"),
        ],
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains(&format!(", namespace {NAMESPACE}:")),
        "{}",
        stdout(&o)
    );
    assert!(
        stderr(&o).contains(
            "VAULT_NAMESPACE is `elsewhere` but the spec's vaultNamespace is `admin/team-a`"
        ),
        "{}",
        stderr(&o)
    );
    assert_eq!(side_in(&bao, Some(NAMESPACE)), (true, true, true));
    assert_eq!(
        side_in(&bao, None),
        (false, false, false),
        "nothing in root"
    );
    assert_eq!(side_in(&bao, Some("admin")), (false, false, false));

    // A second run (no VAULT_NAMESPACE) finds everything as wanted.
    let o = configure(
        &bao,
        &s.spec_path,
        &["--dry-run"],
        &[("TEST_REVIEWER_JWT", REVIEWER_JWT)],
    );
    crate::support::vault_setup::assert_no_work(&o, "configure in the namespace");

    // The app logs in with the namespace header (as its VaultAuth's spec.namespace makes
    // VSO do), and not without it.
    let jwt = sa_jwt("shop", "api", &["vault"]);
    let login = json!({"role": "shop-api", "jwt": jwt});
    let (status, body) = api_as(
        &bao,
        "",
        Some(NAMESPACE),
        "POST",
        "auth/kubernetes/login",
        login.clone(),
    );
    assert_eq!(status, 200, "{body}");
    let token = body["auth"]["client_token"].as_str().unwrap().to_string();
    assert!(
        api(
            &bao,
            Some(NAMESPACE),
            "POST",
            "apps-kv/data/shop/api",
            json!({"data": {"k": "v"}})
        )
        .0 < 300
    );
    let (status, body) = api_as(
        &bao,
        &token,
        Some(NAMESPACE),
        "GET",
        "apps-kv/data/shop/api",
        Value::Null,
    );
    assert_eq!(
        (status, &body["data"]["data"]["k"]),
        (200, &json!("v")),
        "{body}"
    );
    let (status, body) = api_as(&bao, "", None, "POST", "auth/kubernetes/login", login);
    assert_ne!(
        status, 200,
        "a login without the namespace must fail: {body}"
    );
}

#[test]
fn configure_sh_exports_the_namespace_and_lands_there() {
    let (Some(bao), Some(cli)) = (Bao::start(), VaultCli::new()) else {
        return;
    };
    create_namespaces(&bao);
    let s = SpecDir::new(REVIEWER_JWT, |_, ca, k8s_host| spec(ca, k8s_host));
    let o = bin()
        .args(["configure", "--script", "-f", s.spec_path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let script = stdout(&o);
    assert!(
        script.contains("export VAULT_NAMESPACE=admin/team-a BAO_NAMESPACE=admin/team-a"),
        "{script}"
    );
    let path = s.dir.path().join("configure.sh");
    std::fs::write(&path, &script).unwrap();
    let o = run_script(
        &path,
        &cli,
        &bao,
        &[
            ("TEST_REVIEWER_JWT", REVIEWER_JWT),
            ("VAULT_NAMESPACE", "elsewhere"),
        ],
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(side_in(&bao, Some(NAMESPACE)), (true, true, true));
    assert_eq!(
        side_in(&bao, None),
        (false, false, false),
        "nothing in root"
    );
    // configure agrees with what the script wrote.
    let o = configure(
        &bao,
        &s.spec_path,
        &["--dry-run"],
        &[("TEST_REVIEWER_JWT", REVIEWER_JWT)],
    );
    crate::support::vault_setup::assert_no_work(&o, "configure.sh in the namespace");
}

/// `verify --vault` reads the Vault side in the spec's namespace: the kv data and policy
/// there, not root's.
#[test]
fn verify_reads_vault_in_the_namespace() {
    use crate::support::cluster_state;
    use crate::support::fake_apiserver::FakeApiServer;
    let Some(bao) = Bao::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("vault.yaml");
    let text = std::fs::read_to_string(fixture("example.yaml")).unwrap();
    std::fs::write(&spec, format!("{text}vaultNamespace: team\n")).unwrap();
    let fake = FakeApiServer::start();
    cluster_state::synced(&fake, &spec);
    let kubeconfig = fake.write_kubeconfig(dir.path(), "homelab");
    assert!(api(&bao, None, "POST", "sys/namespaces/team", json!({})).0 < 300);
    let g = kubectl_vault::pipeline::generate(&spec, &Default::default()).unwrap();
    let policy = g
        .vault
        .policies
        .iter()
        .find(|p| p.name == "homelab-app-webapp")
        .unwrap()
        .hcl();
    // Root holds other data; the namespace holds what the Secret has.
    for (ns, value) in [(None, "root-value"), (Some("team"), "s3cret-api-key")] {
        let mount = json!({"type": "kv", "options": {"version": "2"}});
        assert!(api(&bao, ns, "POST", "sys/mounts/kvv2", mount).0 < 300);
        let data = json!({"data": {"api_key": value, "username": "app"}});
        assert!(api(&bao, ns, "POST", "kvv2/data/webapp/config", data).0 < 300);
        let p = json!({"policy": policy});
        assert!(api(&bao, ns, "PUT", "sys/policies/acl/homelab-app-webapp", p).0 < 300);
    }
    let o = bin()
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
        .env_remove("VAULT_NAMESPACE")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let row = v["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["secret"] == "app-kvv2-secret")
        .unwrap()
        .clone();
    assert_eq!(
        row["detail"], "synced; data matches Vault (SHA-256)",
        "{row}"
    );
}
