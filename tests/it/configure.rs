//! `configure` against real servers: OpenBao (`bao` in dev mode) and PostgreSQL on 127.0.0.1,
//! with a fake Kubernetes TokenReview endpoint so that apps really log in.

use crate::support;
use crate::support::common::*;
use crate::support::servers::{Bao, Postgres};
use crate::support::vault_fakes::{self, login, sa_jwt, vault_state, FakeTokenReview};
use crate::support::vault_setup::{configure, SpecDir};
use serde_json::json;
use std::path::{Path, PathBuf};

/// The reviewer ServiceAccount's token Vault presents to the (fake) TokenReview endpoint.
const REVIEWER_JWT: &str = "reviewer-jwt-for-tests";

/// A Vault outside the cluster: kubernetes auth at `k8s_host` (the fake TokenReview endpoint),
/// reviewing tokens with the reviewer JWT from `$TEST_REVIEWER_JWT`. Two apps: `api` reads
/// kv-v2, kv-v1, a database role and a PKI role; `web` reads one kv path of its own mount.
fn spec(pg_port: u16, ca_file: &Path, k8s_host: &str) -> String {
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
  - name: web
    namespace: shop
    secrets:
      - name: web-config
        kv: web-kv/shop/web
vaultConfig:
  tokenPeriod: 2h
  kubernetesAuth:
    mount: kubernetes
    host: {k8s_host}
    caCertFrom: file:{ca}
    disableLocalCaJwt: true
    tokenReviewer: {{mode: serviceAccount, jwtFrom: env:TEST_REVIEWER_JWT}}
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

/// The spec without the `web` app.
fn without_web(spec: &str) -> String {
    let start = spec.find("  - name: web\n").unwrap();
    let end = spec.find("vaultConfig:").unwrap();
    format!("{}{}", &spec[..start], &spec[end..])
}

/// A cluster CA for the kubernetes auth config of a Vault that runs outside the cluster.
struct Setup {
    bao: Bao,
    pg: Postgres,
    reviews: FakeTokenReview,
    _dir: tempfile::TempDir,
    spec_path: PathBuf,
    spec: String,
}

fn setup() -> Option<Setup> {
    let (Some(bao), Some(pg)) = (Bao::start(), Postgres::start()) else {
        return None;
    };
    let SpecDir {
        reviews,
        dir,
        spec_path,
        spec,
    } = SpecDir::new(REVIEWER_JWT, |_, ca, k8s_host| spec(pg.port, ca, k8s_host));
    Some(Setup {
        bao,
        pg,
        reviews,
        _dir: dir,
        spec_path,
        spec,
    })
}

impl Setup {
    fn configure(&self, extra: &[&str]) -> std::process::Output {
        self.configure_env(extra, &[])
    }

    /// `configure` with the test's environment; `env` entries override it (an empty value
    /// removes the variable).
    fn configure_env(&self, extra: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        let mut all = vec![
            ("TEST_PG_PASSWORD", self.pg.password.as_str()),
            ("TEST_REVIEWER_JWT", REVIEWER_JWT),
        ];
        all.extend_from_slice(env);
        configure(&self.bao, &self.spec_path, extra, &all)
    }

    fn write_spec(&self, text: &str) {
        std::fs::write(&self.spec_path, text).unwrap();
    }

    fn state(&self) -> serde_json::Value {
        vault_state(&self.bao, "kubernetes")
    }

    /// Output with the servers' random ports made stable, for snapshots.
    fn stable(&self, text: &str) -> String {
        text.replace(&self.bao.addr, "http://127.0.0.1:VAULT")
            .replace(&self.reviews.url, "http://127.0.0.1:K8S")
    }
}

fn ok(o: &std::process::Output) {
    assert!(o.status.success(), "{}{}", stdout(o), stderr(o));
}

#[test]
fn configure_applies_least_privilege_for_real_and_a_second_run_is_a_no_op() {
    let Some(s) = setup() else { return };
    let (bao, pg) = (&s.bao, &s.pg);

    // --dry-run: the plan, and nothing changes.
    let before = s.state();
    let o = s.configure(&["--dry-run"]);
    ok(&o);
    let out = stdout(&o);
    assert!(
        out.contains("create     policy lab-shop-api")
            && out.contains("dry run: nothing was changed"),
        "{out}"
    );
    assert_eq!(s.state(), before, "a dry run changed Vault");
    insta::assert_snapshot!("plan_on_a_fresh_vault", s.stable(&out));

    // Apply.
    let o = s.configure(&[]);
    ok(&o);
    for output in [stdout(&o), stderr(&o)] {
        assert!(
            !output.contains(&pg.password) && !output.contains(REVIEWER_JWT),
            "a secret leaked"
        );
    }
    let mounts = bao.api("GET", "sys/mounts", None).1;
    assert_eq!(mounts["data"]["apps-kv/"]["options"]["version"], "2");
    assert_eq!(mounts["data"]["legacy-kv/"]["options"]["version"], "1");
    assert_eq!(
        mounts["data"]["apps-kv/"]["description"],
        "managed by kubectl-vault for cluster lab"
    );
    let config = bao.api("GET", "auth/kubernetes/config", None).1["data"].clone();
    assert_eq!(config["token_reviewer_jwt_set"], true, "{config}");
    assert_eq!(config["disable_local_ca_jwt"], true, "{config}");

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
    bao.api(
        "POST",
        "web-kv/data/shop/web",
        Some(json!({"data": {"k": "web"}})),
    );
    bao.api("POST", "legacy-kv/shop/legacy", Some(json!({"user": "u"})));

    // The app logs in with its service account token, reviewed with the reviewer JWT.
    let jwt = sa_jwt("shop", "api", &["vault"]);
    let (status, token) = login(bao, "kubernetes", "shop-api", &jwt);
    assert_eq!(
        status,
        200,
        "login failed: {:?}",
        s.reviews.reviews.lock().unwrap()
    );
    let token = token.unwrap();
    assert!(s
        .reviews
        .reviews
        .lock()
        .unwrap()
        .iter()
        .all(|(bearer, _, _)| bearer == REVIEWER_JWT));
    // Another service account, or the right one with another audience, cannot log in as it.
    assert_eq!(
        login(
            bao,
            "kubernetes",
            "shop-api",
            &sa_jwt("shop", "web", &["vault"])
        )
        .0,
        403
    );
    assert_eq!(
        login(
            bao,
            "kubernetes",
            "shop-api",
            &sa_jwt("shop", "api", &["other"])
        )
        .0,
        403
    );
    // A renewable token with the spec's period (no maximum that would force a re-login).
    let me = bao.api_as(&token, "GET", "auth/token/lookup-self", None).1["data"].clone();
    assert_eq!(me["period"], 7200, "{me}");
    assert_eq!(me["renewable"], true, "{me}");
    assert_eq!(me["policies"], json!(["default", "lab-shop-api"]), "{me}");

    // It reads exactly its declared paths.
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
        bao.api_as(&token, "GET", "web-kv/data/shop/web", None).0,
        403,
        "another app's path must be denied"
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

    // The other app reads its path and nothing of the first.
    let (status, web) = login(
        bao,
        "kubernetes",
        "shop-web",
        &sa_jwt("shop", "web", &["vault"]),
    );
    assert_eq!(status, 200);
    let web = web.unwrap();
    assert_eq!(bao.api_as(&web, "GET", "web-kv/data/shop/web", None).0, 200);
    assert_eq!(
        bao.api_as(&web, "GET", "apps-kv/data/shop/api", None).0,
        403
    );
    assert_eq!(bao.api_as(&web, "GET", "db/creds/shop-api", None).0, 403);

    // The roles as written: service account, namespace, policy, audience, period.
    let role = bao.api("GET", "auth/kubernetes/role/shop-api", None).1["data"].clone();
    assert_eq!(role["bound_service_account_names"], json!(["api"]));
    assert_eq!(role["bound_service_account_namespaces"], json!(["shop"]));
    assert_eq!(role["token_policies"], json!(["lab-shop-api"]));
    assert_eq!(role["audience"], "vault");
    assert_eq!(role["token_period"], 7200);
    assert_eq!(role["token_ttl"], 0);
    // The operator's transit key and policy.
    assert_eq!(bao.api("GET", "vso-transit/keys/vso-cache", None).0, 200);
    let op = bao
        .api(
            "GET",
            "sys/policies/acl/lab-vault-secrets-operator-client-cache",
            None,
        )
        .1;
    assert!(op["data"]["policy"]
        .as_str()
        .unwrap()
        .contains("vso-transit/encrypt/vso-cache"));

    // A second run changes nothing and says so; it needs no password to say so.
    let o = s.configure_env(&[], &[("TEST_PG_PASSWORD", ""), ("TEST_REVIEWER_JWT", "")]);
    ok(&o);
    assert!(
        stdout(&o).contains("already configured as the spec says: nothing to do"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("0 to create, 0 to update, 0 to delete"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn script_references_secrets_and_needs_no_vault() {
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("vault.yaml");
    std::fs::write(
        &spec_path,
        spec(
            5432,
            &support::cluster_state::ca_file(dir.path()),
            "https://k8s:6443",
        ),
    )
    .unwrap();
    let o = bin()
        .args(["configure", "--script", "-f", spec_path.to_str().unwrap()])
        .env("TEST_PG_PASSWORD", "hunter2-secret")
        .env("TEST_REVIEWER_JWT", "reviewer-secret")
        .env_remove("VAULT_ADDR")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(s.starts_with("#!/usr/bin/env bash\n"), "{s}");
    assert!(s.contains("require_env TEST_PG_PASSWORD "), "{s}");
    assert!(
        s.contains("printf '%s' \"$TEST_PG_PASSWORD\" | vault write -- db/config/db"),
        "{s}"
    );
    assert!(s.contains("  password=-\n"), "{s}");
    assert!(s.contains("  token_reviewer_jwt=- \\\n"), "{s}");
    assert!(!s.contains("hunter2-secret") && !s.contains("reviewer-secret"));
    assert!(s.contains("vault write -- auth/kubernetes/role/shop-api"));
    assert!(s.contains("enable apps-kv kv-v2\n"));
    // Self-contained: the policies are inline, no file beside the script is read.
    assert!(s.contains("vault policy write -- lab-shop-api - <<'KUBECTL_VAULT_POLICY'\n# managed by kubectl-vault for cluster lab: app api"));
    let code: Vec<&str> = s
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    assert!(
        !code
            .iter()
            .any(|l| l.contains("policies/") || l.contains("$0")),
        "{s}"
    );
    // No pipe into an early-exiting reader (`… | grep -q` under pipefail dies of SIGPIPE).
    assert!(!s.contains("| grep"), "{s}");
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
    assert_eq!(bao.api("GET", "sys/policies/acl/lab-shop-api", None).0, 404);
    bao.api("DELETE", "sys/mounts/apps-kv", None);

    // A policy of the same name that the tool did not write is never overwritten.
    bao.api(
        "PUT",
        "sys/policies/acl/lab-shop-api",
        Some(json!({"policy": "path \"x/*\" { capabilities = [\"read\"] }"})),
    );
    let o = run(&[("VAULT_ADDR", &bao.addr), ("VAULT_TOKEN", &bao.token)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("CONFLICT   policy lab-shop-api"),
        "{}",
        stdout(&o)
    );
    assert!(
        bao.api("GET", "sys/policies/acl/lab-shop-api", None).1["data"]["policy"]
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

#[test]
fn vault_addr_typos_are_usage_errors_that_never_echo_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("vault.yaml");
    std::fs::write(&spec_path, "apiVersion: kubectl-vault/v1alpha1\nkind: VaultStack\ncluster: lab\nvault:\n  chart: {version: 0.30.0}\n  tls: t\noperator:\n  chart: {version: 0.10.0}\n").unwrap();
    for (addr, hint) in [
        ("127.0.0.1:8200", "http://127.0.0.1:8200"),
        ("not a url", "VAULT_ADDR=https://"),
        ("http://", "VAULT_ADDR=https://"),
        (
            "admin:s3cr3t-pw@vault.example.com:8200",
            "https://***@vault.example.com:8200",
        ),
        ("https://admin:s3cr3t-pw@", "VAULT_ADDR=https://"),
        (
            "https://admin:s3cr3t-pw@vault example:8200",
            "VAULT_ADDR=https://",
        ),
    ] {
        let o = bin()
            .args(["configure", "-f", spec_path.to_str().unwrap()])
            .env("VAULT_ADDR", addr)
            .env("VAULT_TOKEN", "t")
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{addr}: {err}");
        assert!(err.contains("hint:") && err.contains(hint), "{addr}: {err}");
        assert!(
            !err.contains("s3cr3t-pw") && !stdout(&o).contains("s3cr3t-pw"),
            "{err}"
        );
        assert!(!err.contains("a bug in kubectl-vault"), "{err}");
    }
    // Credentials in a well-formed address are never shown either (here: nothing listens).
    let o = bin()
        .args(["configure", "-f", spec_path.to_str().unwrap()])
        .env("VAULT_ADDR", "http://admin:s3cr3t-pw@127.0.0.1:9")
        .env("VAULT_TOKEN", "t")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("http://***@127.0.0.1:9"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("s3cr3t-pw"), "{}", stderr(&o));
}

#[test]
fn a_dropped_app_leaves_nothing_behind_and_look_alikes_are_untouched() {
    let Some(s) = setup() else { return };
    let bao = &s.bao;
    ok(&s.configure(&[]));
    assert_eq!(bao.api("GET", "sys/policies/acl/lab-shop-web", None).0, 200);

    // Look-alikes the spec did not create: a policy of the same shape without the mark, one
    // written for another cluster, and roles bound to each; a mount of another cluster.
    let hcl = bao.api("GET", "sys/policies/acl/lab-shop-web", None).1["data"]["policy"]
        .as_str()
        .unwrap()
        .to_string();
    let body = hcl.split_once('\n').unwrap().1.to_string();
    bao.api(
        "PUT",
        "sys/policies/acl/foreign-web",
        Some(json!({"policy": body})),
    );
    bao.api(
        "PUT",
        "sys/policies/acl/other-cluster-web",
        Some(json!({"policy": format!("# managed by kubectl-vault for cluster other: app web in namespace shop (kubernetes-auth role other-web)\n{body}")})),
    );
    // A role of someone else's that also uses the dropped app's policy: not ours to delete.
    for (role, policies) in [
        ("foreign-web", vec!["foreign-web"]),
        ("other-web", vec!["other-cluster-web"]),
        ("mixed-web", vec!["lab-shop-web", "foreign-web"]),
    ] {
        bao.api(
            "POST",
            &format!("auth/kubernetes/role/{role}"),
            Some(json!({"bound_service_account_names": ["web"], "bound_service_account_namespaces": ["shop"], "token_policies": policies, "audience": "vault", "token_period": 7200})),
        );
    }
    bao.api(
        "POST",
        "sys/mounts/other-kv",
        Some(json!({"type": "kv", "options": {"version": "2"}, "description": "managed by kubectl-vault for cluster other"})),
    );
    bao.api(
        "POST",
        "web-kv/data/shop/web",
        Some(json!({"data": {"k": "kept"}})),
    );
    let foreign = |state: &serde_json::Value| {
        json!({
            "policies": [&state["policies"]["foreign-web"], &state["policies"]["other-cluster-web"]],
            "roles": [&state["roles"]["foreign-web"], &state["roles"]["other-web"], &state["roles"]["mixed-web"]],
            "mount": &state["mounts"]["other-kv/"]["uuid"],
        })
    };
    let before = s.state();

    // Drop the app: the plan shows what goes, and the mount is only noted.
    s.write_spec(&without_web(&s.spec));
    let o = s.configure(&["--dry-run"]);
    ok(&o);
    let out = stdout(&o);
    assert!(
        out.contains("delete     kubernetes role shop-web (no longer in the spec)"),
        "{out}"
    );
    assert!(
        out.contains("delete     policy lab-shop-web (no longer in the spec)"),
        "{out}"
    );
    assert!(out.contains("note       secrets engine web-kv/ is no longer in the spec: kept with its data (--prune-mounts deletes it)"), "{out}");
    assert!(
        !out.contains("foreign-web") && !out.contains("other-"),
        "{out}"
    );
    assert!(out.contains("2 to delete"), "{out}");
    assert_eq!(s.state(), before, "a dry run changed Vault");
    insta::assert_snapshot!("plan_after_an_app_was_dropped", s.stable(&out));

    let o = s.configure(&[]);
    ok(&o);
    assert!(
        stdout(&o).contains("deleted  policy lab-shop-web"),
        "{}",
        stdout(&o)
    );
    assert_eq!(bao.api("GET", "sys/policies/acl/lab-shop-web", None).0, 404);
    assert_eq!(bao.api("GET", "auth/kubernetes/role/shop-web", None).0, 404);
    assert_ne!(
        login(
            bao,
            "kubernetes",
            "shop-web",
            &sa_jwt("shop", "web", &["vault"])
        )
        .0,
        200,
        "the dropped app's role is gone"
    );
    let after = s.state();
    assert_eq!(
        foreign(&after),
        foreign(&before),
        "a look-alike was touched"
    );
    assert!(
        after["mounts"]["web-kv/"].is_object(),
        "the mount went without --prune-mounts"
    );
    // The remaining app is untouched and still works.
    assert_eq!(
        after["policies"]["lab-shop-api"],
        before["policies"]["lab-shop-api"]
    );
    assert_eq!(after["roles"]["shop-api"], before["roles"]["shop-api"]);

    // Only --prune-mounts deletes this cluster's mount; another cluster's stays.
    let o = s.configure(&["--prune-mounts"]);
    ok(&o);
    assert!(
        stdout(&o).contains("deleted  secrets engine web-kv/ (kv) and all its data"),
        "{}",
        stdout(&o)
    );
    let after = s.state();
    assert!(after["mounts"].get("web-kv/").is_none());
    assert_eq!(foreign(&after), foreign(&before));
    let o = s.configure(&["--prune-mounts"]);
    ok(&o);
    assert!(stdout(&o).contains("nothing to do"), "{}", stdout(&o));
}

#[test]
fn missing_secrets_stop_the_run_before_anything_changes() {
    let Some(s) = setup() else { return };
    let before = s.state();
    for (env, extra_spec, needle) in [
        (
            vec![("TEST_PG_PASSWORD", "")],
            None,
            "vaultConfig.databases.db.passwordFrom is env:TEST_PG_PASSWORD, but the environment variable TEST_PG_PASSWORD is not set",
        ),
        (
            vec![("TEST_REVIEWER_JWT", "")],
            None,
            "tokenReviewer.jwtFrom is env:TEST_REVIEWER_JWT, but the environment variable TEST_REVIEWER_JWT is not set",
        ),
        (
            vec![],
            Some(("passwordFrom: env:TEST_PG_PASSWORD", "passwordFrom: file:/nonexistent/pg-password")),
            "vaultConfig.databases.db.passwordFrom: cannot read /nonexistent/pg-password",
        ),
        (
            vec![],
            Some(("caCertFrom: file:", "caCertFrom: file:/nonexistent")),
            "vaultConfig.kubernetesAuth.caCertFrom: cannot read /nonexistent",
        ),
    ] {
        let text = match extra_spec {
            Some((from, to)) => s.spec.replace(from, to),
            None => s.spec.clone(),
        };
        s.write_spec(&text);
        for mode in [&["--dry-run"][..], &[]] {
            let o = s.configure_env(mode, &env);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{needle}: {}{err}", stdout(&o));
            assert!(err.contains(needle), "{err}");
            assert!(err.contains("nothing was changed"), "{err}");
            assert_eq!(s.state(), before, "{needle}: Vault changed");
        }
    }
}

#[test]
fn a_failure_after_the_first_write_is_exit_3_with_what_was_applied() {
    let Some(s) = setup() else { return };
    // PostgreSQL refuses the admin password: Vault refuses the connection, after the auth
    // method, its config and the engines were created.
    let o = s.configure_env(&[], &[("TEST_PG_PASSWORD", "wrong-password")]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{}{err}", stdout(&o));
    assert!(
        err.contains("failed at: database connection db/config/db"),
        "{err}"
    );
    let applied = err.split("applied before the failure:").nth(1).unwrap();
    for what in [
        "created auth method kubernetes/ (kubernetes)",
        "created kubernetes auth config",
        "created secrets engine apps-kv/ (kv-v2)",
        "created secrets engine db/ (database)",
        "created transit key vso-transit/keys/vso-cache",
    ] {
        assert!(applied.contains(what), "{what} missing from: {applied}");
    }
    assert!(
        !applied.contains("database connection") && !applied.contains("policy"),
        "{applied}"
    );
    assert!(!err.contains("wrong-password"), "{err}");
    // Exactly what it listed is in Vault, and the next run completes the rest.
    assert!(s.state()["mounts"]["apps-kv/"].is_object());
    assert_eq!(
        s.bao.api("GET", "sys/policies/acl/lab-shop-api", None).0,
        404
    );
    ok(&s.configure(&[]));
    ok(&s.configure(&[]));
}

/// Behind a corporate proxy: HTTPS_PROXY (or HTTP_PROXY, ALL_PROXY) carries every request
/// through a CONNECT tunnel, and the plan is the same; NO_PROXY names hosts reached directly.
#[test]
fn vault_is_reached_through_the_environment_s_proxy() {
    let Some(s) = setup() else { return };
    // None of the machine's own proxy settings (an empty value removes the variable).
    let unset: Vec<(&str, &str)> = [
        "ALL_PROXY",
        "all_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
    ]
    .iter()
    .map(|v| (*v, ""))
    .collect();
    let direct = s.configure_env(&["--dry-run"], &unset);
    ok(&direct);
    let proxy = vault_fakes::ConnectProxy::start();
    for var in ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"] {
        let before = proxy.tunnels();
        let mut env = unset.clone();
        env.push((var, &proxy.url));
        let o = s.configure_env(&["--dry-run"], &env);
        ok(&o);
        assert_eq!(stdout(&o), stdout(&direct), "{var}");
        assert!(proxy.tunnels() > before, "{var}: no tunnel was opened");
    }
    let before = proxy.tunnels();
    let mut env = unset.clone();
    env.extend([
        ("HTTPS_PROXY", proxy.url.as_str()),
        ("NO_PROXY", "localhost,127.0.0.1"),
    ]);
    let o = s.configure_env(&["--dry-run"], &env);
    ok(&o);
    assert_eq!(proxy.tunnels(), before, "NO_PROXY was not honoured");
}

#[test]
fn a_write_that_got_no_answer_may_have_been_applied() {
    let Some(s) = setup() else { return };
    let proxy =
        vault_fakes::SwallowingProxy::start(&s.bao.addr, "POST", "sys/policies/acl/lab-shop-api");
    let o = s.configure_env(&[], &[("VAULT_ADDR", &proxy.addr)]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{}{err}", stdout(&o));
    assert!(*proxy.swallowed.lock().unwrap());
    assert!(
        err.contains("no answer for: policy lab-shop-api: it may have been applied"),
        "{err}"
    );
    assert!(!err.contains("failed at"), "{err}");
    // It was applied: Vault holds it, and the next run agrees.
    assert_eq!(
        s.bao.api("GET", "sys/policies/acl/lab-shop-api", None).0,
        200
    );
    let o = s.configure(&["--dry-run"]);
    ok(&o);
    assert!(
        stdout(&o).contains("unchanged  policy lab-shop-api"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn rotate_root_sends_the_admin_password_once() {
    let Some(s) = setup() else { return };
    let (bao, pg) = (&s.bao, &s.pg);
    let spec = s
        .spec
        .replace("      passwordFrom: env:TEST_PG_PASSWORD\n", "      passwordFrom: env:TEST_PG_PASSWORD\n      rotateRoot: true\n      connectionName: shop-postgres\n");
    s.write_spec(&spec);
    let o = s.configure(&[]);
    ok(&o);
    assert!(
        stdout(&o).contains("updated  rotate the admin password of db/config/shop-postgres"),
        "{}",
        stdout(&o)
    );
    // Only Vault knows the admin password now, and it still issues credentials.
    assert!(
        !pg.login("postgres", &pg.password, "SELECT 1"),
        "not rotated"
    );
    let (status, creds) = bao.api("GET", "db/creds/shop-api", None);
    assert_eq!(status, 200, "{creds}");
    assert!(pg.login(
        creds["data"]["username"].as_str().unwrap(),
        creds["data"]["password"].as_str().unwrap(),
        "SELECT 1"
    ));
    let role = bao.api("GET", "db/roles/shop-api", None).1;
    assert_eq!(role["data"]["db_name"], "shop-postgres");

    // Later runs never need or send the spec's password: a settings change keeps Vault's.
    let o = s.configure_env(&[], &[("TEST_PG_PASSWORD", "")]);
    ok(&o);
    assert!(stdout(&o).contains("nothing to do"), "{}", stdout(&o));
    let spec = spec.replace(
        "        shop-api:\n",
        "        shop-report:\n          creationStatements: [\"CREATE ROLE \\\"{{name}}\\\" WITH LOGIN PASSWORD '{{password}}';\"]\n        shop-api:\n",
    );
    s.write_spec(&spec);
    let o = s.configure_env(&[], &[("TEST_PG_PASSWORD", "stale-password")]);
    ok(&o);
    assert!(
        stdout(&o).contains("update     database connection db/config/shop-postgres (the admin password Vault holds is kept)"),
        "{}",
        stdout(&o)
    );
    assert_eq!(bao.api("GET", "db/creds/shop-report", None).0, 200);

    // --reset-connection sends it again (and rotates again): it needs the password.
    let before = s.state();
    let o = s.configure_env(&["--reset-connection"], &[("TEST_PG_PASSWORD", "")]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(s.state(), before);
    let o = s.configure_env(&["--reset-connection", "--dry-run"], &[]);
    ok(&o);
    let out = stdout(&o);
    assert!(out.contains("update     database connection db/config/shop-postgres (admin password sent again: --reset-connection)"), "{out}");
    assert!(
        out.contains("update     rotate the admin password of db/config/shop-postgres"),
        "{out}"
    );
    assert!(out.contains("update     kubernetes auth config"), "{out}");
}

/// The tests never write outside their own folders: the dev server's `~/.vault-token` lands in
/// its own HOME, and the binary runs with a HOME of its own (so `configure` never picks up a
/// token the developer's HOME holds).
#[test]
fn vault_test_servers_and_runs_keep_out_of_the_developers_home() {
    let Some(bao) = crate::support::servers::Bao::start() else {
        return;
    };
    let token = std::fs::read_to_string(bao.home.path().join(".vault-token"));
    assert_eq!(
        token.ok().as_deref().map(str::trim),
        Some(bao.token.as_str())
    );
    let real = std::env::var_os("HOME").map(std::path::PathBuf::from);
    assert_ne!(real.as_deref(), Some(bao.home.path()));
    assert_ne!(real.as_deref(), Some(crate::support::common::test_home()));
    // configure without VAULT_TOKEN finds no token (the test HOME has none), whatever the
    // developer's HOME holds.
    let o = crate::support::common::bin()
        .args(["configure", "--dry-run", "-f"])
        .arg(crate::support::common::fixture("example.yaml"))
        .env("VAULT_ADDR", &bao.addr)
        .env_remove("VAULT_TOKEN")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        crate::support::common::stderr(&o)
    );
    assert!(crate::support::common::stderr(&o).contains("VAULT_TOKEN is not set"));
}
