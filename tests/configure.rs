//! `configure` against real servers: OpenBao (`bao` in dev mode) and PostgreSQL on 127.0.0.1.

mod common;
mod support;
use common::*;
use serde_json::json;
use support::servers::{Bao, Postgres};

fn spec(pg_port: u16, ca_file: &std::path::Path) -> String {
    format!(
        r#"apiVersion: kubectl-vault/v1alpha1
kind: VaultStack
cluster: lab
vault:
  chart: {{version: 0.30.0}}
  tls: vault-tls
operator:
  chart: {{version: 0.10.0}}
  clientCache: {{transitMount: vso-transit, keyName: vso-cache, role: vso-operator}}
apps:
  - name: api
    namespace: shop
    secrets:
      - name: api-config
        kv: apps-kv/shop/api
      - name: api-legacy
        kv: {{mount: legacy-kv, path: shop/legacy, version: 1}}
      - name: api-db
        database: db/shop-api
      - name: api-tls
        pki: pki/shop
        commonName: api.shop.svc.cluster.local
vaultConfig:
  kubernetesAuth:
    host: https://203.0.113.10:6443
    caCertFrom: file:{ca}
    disableLocalCaJwt: true
  databases:
    db:
      plugin: postgresql
      connectionUrl: postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{pg_port}/postgres?sslmode=disable
      username: postgres
      passwordFrom: env:TEST_PG_PASSWORD
      roles:
        shop-api:
          defaultTtl: 5m
          maxTtl: 1h
          creationStatements:
            - CREATE ROLE "{{{{name}}}}" WITH LOGIN PASSWORD '{{{{password}}}}' VALID UNTIL '{{{{expiration}}}}';
  pki:
    pki:
      maxLeaseTtl: 87600h
      rootCA: {{commonName: Lab Root CA, ttl: 87600h}}
      roles:
        shop:
          allowedDomains: [shop.svc.cluster.local]
          allowSubdomains: true
          maxTtl: 72h
"#,
        ca = ca_file.display()
    )
}

/// A cluster CA for the kubernetes auth config of a Vault that runs outside the cluster.
fn ca_file(dir: &std::path::Path) -> std::path::PathBuf {
    let t = support::cluster_state::now();
    let (cert, _) = support::cluster_state::certificate("kubernetes", t - 60, t + 86400);
    let path = dir.join("cluster-ca.crt");
    std::fs::write(&path, cert).unwrap();
    path
}

fn configure(
    bao: &Bao,
    pg: &Postgres,
    spec_path: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec!["configure", "-f", spec_path.to_str().unwrap()];
    args.extend_from_slice(extra);
    bin()
        .args(&args)
        .env("VAULT_ADDR", &bao.addr)
        .env("VAULT_TOKEN", &bao.token)
        .env("TEST_PG_PASSWORD", &pg.password)
        .env_remove("VAULT_NAMESPACE")
        .env_remove("VAULT_CACERT")
        .output()
        .unwrap()
}

#[test]
fn configure_applies_least_privilege_for_real_and_a_second_run_is_a_no_op() {
    let (Some(bao), Some(pg)) = (Bao::start(), Postgres::start()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("vault.yaml");
    std::fs::write(&spec_path, spec(pg.port, &ca_file(dir.path()))).unwrap();

    // --dry-run: the plan, and nothing changes.
    let o = configure(&bao, &pg, &spec_path, &["--dry-run"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("create     policy shop-api") && out.contains("dry run: nothing was changed"),
        "{out}"
    );
    assert_eq!(
        bao.api("GET", "sys/policies/acl/shop-api", None).0,
        404,
        "dry run wrote a policy"
    );
    assert!(bao.api("GET", "sys/mounts", None).1["data"]
        .get("apps-kv/")
        .is_none());

    // Apply.
    let o = configure(&bao, &pg, &spec_path, &[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    for output in [stdout(&o), stderr(&o)] {
        assert!(
            !output.contains(&pg.password),
            "the database password leaked"
        );
    }
    let mounts = bao.api("GET", "sys/mounts", None).1;
    assert_eq!(mounts["data"]["apps-kv/"]["options"]["version"], "2");
    assert_eq!(mounts["data"]["legacy-kv/"]["options"]["version"], "1");
    assert_eq!(
        mounts["data"]["apps-kv/"]["description"],
        "managed by kubectl-vault"
    );

    // A token holding the app's policy reads exactly its declared kv path.
    bao.api(
        "POST",
        "apps-kv/data/shop/api",
        Some(json!({"data": {"api_key": "k"}})),
    );
    bao.api(
        "POST",
        "apps-kv/data/shop/other",
        Some(json!({"data": {"api_key": "x"}})),
    );
    bao.api("POST", "legacy-kv/shop/legacy", Some(json!({"user": "u"})));
    let token = bao
        .api(
            "POST",
            "auth/token/create",
            Some(json!({"policies": ["shop-api"], "no_default_policy": true})),
        )
        .1["auth"]["client_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        bao.api_as(&token, "GET", "apps-kv/data/shop/api", None).0,
        200
    );
    assert_eq!(
        bao.api_as(&token, "GET", "apps-kv/data/shop/other", None).0,
        403,
        "a sibling path must be denied"
    );
    assert_eq!(
        bao.api_as(&token, "GET", "legacy-kv/shop/legacy", None).0,
        200,
        "kv-v1 reads MOUNT/PATH"
    );
    assert_eq!(
        bao.api_as(
            &token,
            "POST",
            "apps-kv/data/shop/api",
            Some(json!({"data": {}}))
        )
        .0,
        403,
        "read only"
    );

    // Database credentials for the declared role, and they log in to PostgreSQL.
    let (status, creds) = bao.api_as(&token, "GET", "db/creds/shop-api", None);
    assert_eq!(status, 200, "{creds}");
    let (user, password) = (
        creds["data"]["username"].as_str().unwrap(),
        creds["data"]["password"].as_str().unwrap(),
    );
    assert!(
        pg.login(user, password, "SELECT 1"),
        "the issued credentials do not log in"
    );

    // PKI issues a certificate for the declared name, and only for allowed names.
    let (status, cert) = bao.api_as(
        &token,
        "POST",
        "pki/issue/shop",
        Some(json!({"common_name": "api.shop.svc.cluster.local"})),
    );
    assert_eq!(status, 200, "{cert}");
    assert!(cert["data"]["certificate"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(
        bao.api_as(
            &token,
            "POST",
            "pki/issue/shop",
            Some(json!({"common_name": "evil.example.com"}))
        )
        .0,
        400
    );

    // The kubernetes-auth role binds the app's service account, namespace, policy and audience.
    let role = bao.api("GET", "auth/kubernetes/role/shop-api", None).1["data"].clone();
    assert_eq!(role["bound_service_account_names"], json!(["api"]));
    assert_eq!(role["bound_service_account_namespaces"], json!(["shop"]));
    assert_eq!(role["token_policies"], json!(["shop-api"]));
    assert_eq!(role["audience"], "vault");
    // The operator's transit key and policy.
    assert_eq!(bao.api("GET", "vso-transit/keys/vso-cache", None).0, 200);
    let op = bao
        .api(
            "GET",
            "sys/policies/acl/vault-secrets-operator-client-cache",
            None,
        )
        .1;
    assert!(op["data"]["policy"]
        .as_str()
        .unwrap()
        .contains("vso-transit/encrypt/vso-cache"));

    // A second run changes nothing and says so.
    let o = configure(&bao, &pg, &spec_path, &[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("already configured as the spec says: nothing to do"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("0 to create, 0 to update"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn script_references_passwords_and_needs_no_vault() {
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("vault.yaml");
    std::fs::write(&spec_path, spec(5432, &ca_file(dir.path()))).unwrap();
    let o = bin()
        .args(["configure", "--script", "-f", spec_path.to_str().unwrap()])
        .env("TEST_PG_PASSWORD", "hunter2-secret")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(s.contains("password=\"${TEST_PG_PASSWORD:?"), "{s}");
    assert!(!s.contains("hunter2-secret"));
    assert!(s.contains("vault write auth/kubernetes/role/shop-api"));
    assert!(s.contains("vault secrets enable") || s.contains("enable apps-kv kv-v2"));
}

#[test]
fn foreign_settings_and_bad_environments_are_refused() {
    let Some(bao) = Bao::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("vault.yaml");
    let spec_text = "apiVersion: kubectl-vault/v1alpha1\nkind: VaultStack\ncluster: lab\nvault:\n  chart: {version: 0.30.0}\n  tls: t\noperator:\n  chart: {version: 0.10.0}\napps:\n  - name: api\n    namespace: shop\n    secrets:\n      - name: api-config\n        kv: apps-kv/shop/api\n";
    std::fs::write(&spec_path, spec_text).unwrap();
    let run = |env: &[(&str, &str)]| {
        let mut c = bin();
        c.args(["configure", "-f", spec_path.to_str().unwrap()])
            .env_remove("VAULT_TOKEN")
            .env("HOME", dir.path());
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    // A mount of another type at the same path: an error, nothing applied.
    bao.api(
        "POST",
        "sys/mounts/apps-kv",
        Some(json!({"type": "transit"})),
    );
    let o = run(&[("VAULT_ADDR", &bao.addr), ("VAULT_TOKEN", &bao.token)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("apps-kv/ exists as transit"),
        "{}",
        stderr(&o)
    );
    assert_eq!(bao.api("GET", "sys/policies/acl/shop-api", None).0, 404);
    bao.api("DELETE", "sys/mounts/apps-kv", None);

    // A policy of the same name that the tool did not write is never overwritten.
    bao.api(
        "PUT",
        "sys/policies/acl/shop-api",
        Some(json!({"policy": "path \"x/*\" { capabilities = [\"read\"] }"})),
    );
    let o = run(&[("VAULT_ADDR", &bao.addr), ("VAULT_TOKEN", &bao.token)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("CONFLICT   policy shop-api"),
        "{}",
        stdout(&o)
    );
    assert!(
        bao.api("GET", "sys/policies/acl/shop-api", None).1["data"]["policy"]
            .as_str()
            .unwrap()
            .contains("x/*")
    );

    // Permission denied names the path and capability; unreachable and missing settings.
    let weak = bao
        .api(
            "POST",
            "auth/token/create",
            Some(json!({"policies": ["default"]})),
        )
        .1["auth"]["client_token"]
        .as_str()
        .unwrap()
        .to_string();
    let o = run(&[("VAULT_ADDR", &bao.addr), ("VAULT_TOKEN", &weak)]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("permission denied") && stderr(&o).contains("capability"),
        "{}",
        stderr(&o)
    );
    let o = run(&[("VAULT_ADDR", "http://127.0.0.1:9"), ("VAULT_TOKEN", "x")]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("unreachable"), "{}", stderr(&o));
    let o = bin()
        .args(["configure", "-f", spec_path.to_str().unwrap()])
        .env_remove("VAULT_ADDR")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("VAULT_ADDR is not set"));
}
