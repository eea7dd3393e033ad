//! The script run as a user runs it against a real OpenBao (and PostgreSQL): twice on a fresh
//! Vault, after `configure` and before it, through a pipe, and with the spec's long forms.

use crate::support;
use crate::support::common::*;
use crate::support::servers::{Bao, Postgres};
use crate::support::vault_fakes::{
    login, run_script, sa_jwt, FakeTokenReview, VaultCli, API_AUDIENCE,
};
use crate::support::vault_setup::{assert_no_work, configure, SpecDir};
use serde_json::json;
use std::path::{Path, PathBuf};

const REVIEWER_JWT: &str = "reviewer-jwt-for-script-tests";
/// The admin of the `rotated` database mount: its password is rotated away by Vault.
const ROTATED_ADMIN: &str = "vault_admin";
const ROTATED_PASSWORD: &str = "rotated-admin-initial-password";

/// Every kind of Vault-side object: kv v1/v2, two database mounts on one PostgreSQL (one with
/// `rotateRoot`, its password from a file), a PKI mount with a root CA, the operator's transit
/// key, kubernetes auth for a Vault outside the cluster with a token reviewer JWT.
fn spec(pg_port: u16, ca: &Path, pw_file: &Path, k8s_host: &str) -> String {
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
      - name: api-report
        database: {{mount: teams/reports/db, role: report}}
      - name: api-tls
        pki: pki/shop
        commonName: api.shop.svc.cluster.local
vaultConfig:
  kubernetesAuth:
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
    teams/reports/db:
      plugin: postgresql
      connectionUrl: postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{pg_port}/postgres?sslmode=disable
      username: {ROTATED_ADMIN}
      passwordFrom: file:{pw}
      rotateRoot: true
      roles:
        report:
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
        ca = ca.display(),
        pw = pw_file.display(),
    )
}

struct Setup {
    bao: Bao,
    pg: Postgres,
    _reviews: FakeTokenReview,
    cli: VaultCli,
    _dir: tempfile::TempDir,
    spec_path: PathBuf,
    /// `vault-config/lab/configure.sh` as `generate` wrote it.
    script: PathBuf,
}

fn setup() -> Option<Setup> {
    let (Some(bao), Some(pg), Some(cli)) = (Bao::start(), Postgres::start(), VaultCli::new())
    else {
        return None;
    };
    assert!(pg.login(
        "postgres",
        &pg.password,
        &format!("CREATE ROLE {ROTATED_ADMIN} WITH LOGIN SUPERUSER PASSWORD '{ROTATED_PASSWORD}'")
    ));
    let SpecDir {
        reviews,
        dir,
        spec_path,
        ..
    } = SpecDir::new(REVIEWER_JWT, |dir, ca, k8s_host| {
        let pw_file = dir.join("reports-admin-password");
        std::fs::write(&pw_file, format!("{ROTATED_PASSWORD}\n")).unwrap();
        spec(pg.port, ca, &pw_file, k8s_host)
    });
    let out = dir.path().join("gitops");
    let o = bin()
        .args([
            "generate",
            "-f",
            spec_path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let script = out.join("vault-config/lab/configure.sh");
    Some(Setup {
        bao,
        pg,
        _reviews: reviews,
        cli,
        _dir: dir,
        spec_path,
        script,
    })
}

impl Setup {
    fn env(&self) -> Vec<(&str, &str)> {
        vec![
            ("TEST_PG_PASSWORD", self.pg.password.as_str()),
            ("TEST_REVIEWER_JWT", REVIEWER_JWT),
        ]
    }

    fn run_script(&self) -> std::process::Output {
        run_script(&self.script, &self.cli, &self.bao, &self.env())
    }

    /// `kubectl vault configure --script | bash`.
    fn run_piped(&self) -> std::process::Output {
        let cmd = format!(
            "'{}' configure --script -f '{}' | bash",
            env!("CARGO_BIN_EXE_kubectl-vault"),
            self.spec_path.display()
        );
        let mut c = std::process::Command::new("bash");
        c.args(["-o", "pipefail", "-c", &cmd])
            .env("HOME", crate::support::common::test_home())
            .env("PATH", self.cli.path_env())
            .env("VAULT_ADDR", &self.bao.addr)
            .env("VAULT_TOKEN", &self.bao.token)
            .env_remove("VAULT_NAMESPACE");
        for (k, v) in self.env() {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    fn configure(&self, extra: &[&str]) -> std::process::Output {
        configure(&self.bao, &self.spec_path, extra, &self.env())
    }

    /// `configure` finds everything as the spec says.
    fn assert_nothing_to_do(&self, after: &str) {
        assert_no_work(&self.configure(&["--dry-run"]), after);
    }

    /// The app logs in and uses every kind of secret it declares (and only those).
    fn assert_app_works(&self) {
        let bao = &self.bao;
        let (status, token) = login(
            bao,
            "kubernetes-lab",
            "shop-api",
            &sa_jwt("shop", "api", &["vault"]),
        );
        assert_eq!(status, 200, "the app cannot log in");
        let token = token.unwrap();
        let (status, cert) = bao.api_as(
            &token,
            "POST",
            "pki/issue/shop",
            Some(json!({"common_name": "api.shop.svc.cluster.local"})),
        );
        assert_eq!(status, 200, "PKI does not issue: {cert}");
        for path in ["db/creds/shop-api", "teams/reports/db/creds/report"] {
            let (status, creds) = bao.api_as(&token, "GET", path, None);
            assert_eq!(status, 200, "{path}: {creds}");
            assert!(self.pg.login(
                creds["data"]["username"].as_str().unwrap(),
                creds["data"]["password"].as_str().unwrap(),
                "SELECT 1"
            ));
        }
        assert_eq!(
            bao.api_as(&token, "GET", "apps-kv/data/shop/other", None).0,
            403
        );
        assert_eq!(bao.api_as(&token, "GET", "sys/mounts", None).0, 403);
    }

    /// No secret was ever on a `vault` command line.
    fn assert_no_secret_in_argv(&self) {
        let calls = self.cli.calls();
        assert!(!calls.is_empty());
        for call in calls {
            for arg in call {
                for secret in [self.pg.password.as_str(), REVIEWER_JWT, ROTATED_PASSWORD] {
                    assert!(!arg.contains(secret), "a secret on the command line: {arg}");
                }
            }
        }
    }
}

#[test]
fn the_script_runs_twice_on_a_fresh_vault_and_agrees_with_configure() {
    let Some(s) = setup() else { return };
    let first = s.run_script();
    ok("first run", &first);
    assert!(
        stdout(&first).contains("created a root CA in pki/"),
        "{}",
        stdout(&first)
    );
    // The rotated admin password works no more: only Vault knows it.
    assert!(!s.pg.login(ROTATED_ADMIN, ROTATED_PASSWORD, "SELECT 1"));
    let second = s.run_script();
    ok("second run", &second);
    assert!(
        !stdout(&second).contains("created a root CA"),
        "{}",
        stdout(&second)
    );
    assert!(
        stdout(&second).contains("secrets engine apps-kv/ already enabled")
            && stdout(&second).contains("secrets engine legacy-kv/ already enabled"),
        "{}",
        stdout(&second)
    );
    s.assert_app_works();
    s.assert_no_secret_in_argv();
    // Exactly one issuer: the second run did not make another root CA.
    let issuers = s.bao.api("GET", "pki/issuers?list=true", None).1;
    assert_eq!(
        issuers["data"]["keys"].as_array().unwrap().len(),
        1,
        "{issuers}"
    );

    // configure sees everything as its own and as wanted.
    s.assert_nothing_to_do("the script");
    // And `configure --script | bash` runs clean on top, self-contained.
    ok("configure --script | bash", &s.run_piped());
    s.assert_nothing_to_do("configure --script | bash");
    s.assert_app_works();
    s.assert_no_secret_in_argv();
}

#[test]
fn configure_first_then_the_script_runs_clean() {
    let Some(s) = setup() else { return };
    ok("configure", &s.configure(&[]));
    s.assert_nothing_to_do("configure");
    let o = s.run_script();
    ok("the script after configure", &o);
    assert!(!stdout(&o).contains("created a root CA"), "{}", stdout(&o));
    s.assert_nothing_to_do("configure, then the script");
    ok("configure --script | bash", &s.run_piped());
    s.assert_nothing_to_do("configure --script | bash");
    s.assert_app_works();
    s.assert_no_secret_in_argv();
    // The script checks what it needs before changing anything.
    let before = support::vault_fakes::vault_state(&s.bao, "kubernetes-lab");
    let o = run_script(
        &s.script,
        &s.cli,
        &s.bao,
        &[
            ("TEST_PG_PASSWORD", ""),
            ("TEST_REVIEWER_JWT", REVIEWER_JWT),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("set TEST_PG_PASSWORD"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        support::vault_fakes::vault_state(&s.bao, "kubernetes-lab"),
        before
    );
    // A mount of the spec's path with another kv version stops both routes alike.
    s.bao.api("DELETE", "sys/mounts/legacy-kv", None);
    s.bao.api(
        "POST",
        "sys/mounts/legacy-kv",
        Some(json!({"type": "kv", "options": {"version": "2"}})),
    );
    let o = s.run_script();
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("legacy-kv/ exists as a kv-v2 engine, not kv"),
        "{}",
        stderr(&o)
    );
    let o = s.configure(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("legacy-kv/ exists as kv"),
        "{}",
        stderr(&o)
    );
}

/// fixtures/long-forms.yaml, pointed at the test's servers (and PostgreSQL for its database).
fn long_forms(pg_port: u16, ca: &Path, k8s_host: &str) -> String {
    let text = std::fs::read_to_string(fixture("long-forms.yaml")).unwrap();
    let mut spec: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let vc = &mut spec["vaultConfig"];
    vc["kubernetesAuth"]["host"] = k8s_host.into();
    vc["kubernetesAuth"]["caCertFrom"] = format!("file:{}", ca.display()).into();
    vc["kubernetesAuth"]["tokenReviewer"]["jwtFrom"] = "env:TEST_REVIEWER_JWT".into();
    let db = &mut vc["databases"]["teams/jobs/db"];
    db["plugin"] = "postgresql".into();
    db["connectionUrl"] = format!(
        "postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{pg_port}/postgres?sslmode=disable"
    )
    .into();
    db["username"] = "postgres".into();
    db["passwordFrom"] = "env:TEST_PG_PASSWORD".into();
    db["roles"]["worker"]["creationStatements"] = serde_yaml::to_value(vec![
        "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';",
    ])
    .unwrap();
    serde_yaml::to_string(&spec).unwrap()
}

#[test]
fn a_database_mount_with_slashes_configures_through_both_routes() {
    let Some(pg) = Postgres::start() else { return };
    let SpecDir {
        reviews: _reviews,
        dir,
        spec_path,
        ..
    } = SpecDir::new(REVIEWER_JWT, |_, ca, k8s_host| {
        long_forms(pg.port, ca, k8s_host)
    });
    let env = [
        ("TEST_PG_PASSWORD", pg.password.as_str()),
        ("TEST_REVIEWER_JWT", REVIEWER_JWT),
    ];
    let configure = |bao: &Bao, extra: &[&str]| configure(bao, &spec_path, extra, &env);
    let check = |bao: &Bao| {
        let config = bao.api("GET", "teams/jobs/db/config/teams-jobs-db", None);
        assert_eq!(config.0, 200, "{}", config.1);
        let role = bao.api("GET", "teams/jobs/db/roles/worker", None).1;
        assert_eq!(role["data"]["db_name"], "teams-jobs-db");
        let (status, token) = login(
            bao,
            "kubernetes",
            "jobs-worker",
            &sa_jwt("jobs", "worker", &["vault"]),
        );
        assert_eq!(status, 200);
        let token = token.unwrap();
        let (status, creds) = bao.api_as(&token, "GET", "teams/jobs/db/creds/worker", None);
        assert_eq!(status, 200, "{creds}");
        bao.api(
            "POST",
            "teams/jobs/kv/data/worker/config",
            Some(json!({"data": {"a": "b"}})),
        );
        assert_eq!(
            bao.api_as(&token, "GET", "teams/jobs/kv/data/worker/config", None)
                .0,
            200
        );
    };

    // Through the API, twice.
    let Some(bao) = Bao::start() else { return };
    let o = configure(&bao, &[]);
    ok("configure", &o);
    check(&bao);
    let o = configure(&bao, &["--dry-run"]);
    assert!(stdout(&o).contains("nothing to do"), "{}", stdout(&o));

    // Through the script, twice, on a fresh Vault; then configure agrees.
    let Some(bao) = Bao::start() else { return };
    let Some(cli) = VaultCli::new() else { return };
    let o = bin()
        .args(["configure", "--script", "-f", spec_path.to_str().unwrap()])
        .output()
        .unwrap();
    ok("configure --script", &o);
    let script = dir.path().join("configure.sh");
    std::fs::write(&script, &o.stdout).unwrap();
    ok("first run", &run_script(&script, &cli, &bao, &env));
    ok("second run", &run_script(&script, &cli, &bao, &env));
    check(&bao);
    let o = configure(&bao, &["--dry-run"]);
    assert!(stdout(&o).contains("nothing to do"), "{}", stdout(&o));
}

#[test]
fn client_jwt_token_review_logs_apps_in_with_their_own_tokens() {
    let Some(bao) = Bao::start() else { return };
    // The fake API server accepts a caller's own token only when it carries its audience.
    let reviews = FakeTokenReview::start(None);
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("vault.yaml");
    std::fs::write(
        &spec_path,
        format!(
            "apiVersion: kubectl-vault/v1alpha1\nkind: VaultStack\ncluster: lab\nvault:\n  chart: {{version: 0.30.0}}\n  tls: vault-tls\noperator:\n  chart: {{version: 0.10.0}}\n  address: https://vault.example.com:8200\napps:\n  - name: api\n    namespace: shop\n    secrets:\n      - name: api-config\n        kv: apps-kv/shop/api\nvaultConfig:\n  kubernetesAuth:\n    host: {}\n    caCertFrom: file:{}\n    disableLocalCaJwt: true\n    tokenReviewer: {{mode: client}}\n",
            reviews.url,
            support::cluster_state::ca_file(dir.path()).display()
        ),
    )
    .unwrap();

    // The tree binds the app's ServiceAccount to system:auth-delegator, and its tokens carry
    // the API server's audience besides Vault's.
    let out = dir.path().join("gitops");
    let o = bin()
        .args([
            "generate",
            "-f",
            spec_path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    ok("generate", &o);
    let binding =
        std::fs::read_to_string(out.join("infrastructure/lab/vault/token-review.yaml")).unwrap();
    assert!(
        binding.contains("kind: ClusterRoleBinding")
            && binding.contains("name: \"system:auth-delegator\""),
        "{binding}"
    );
    assert!(
        binding.contains("    name: api\n    namespace: shop\n"),
        "{binding}"
    );
    assert!(
        !binding.contains("kind: ServiceAccount\nmetadata"),
        "{binding}"
    );
    let auth = std::fs::read_to_string(out.join("apps/lab/shop/api/vaultauth.yaml")).unwrap();
    assert!(
        auth.contains("- vault") && auth.contains(API_AUDIENCE),
        "{auth}"
    );
    let kustomization =
        std::fs::read_to_string(out.join("infrastructure/lab/vault/kustomization.yaml")).unwrap();
    assert!(
        kustomization.contains("- token-review.yaml"),
        "{kustomization}"
    );

    let o = bin()
        .args(["configure", "-f", spec_path.to_str().unwrap()])
        .env("VAULT_ADDR", &bao.addr)
        .env("VAULT_TOKEN", &bao.token)
        .output()
        .unwrap();
    ok("configure", &o);
    let config = bao.api("GET", "auth/kubernetes-lab/config", None).1["data"].clone();
    assert_eq!(config["token_reviewer_jwt_set"], false, "{config}");
    let jwt = sa_jwt("shop", "api", &["vault", API_AUDIENCE]);
    let (status, token) = login(&bao, "kubernetes-lab", "shop-api", &jwt);
    assert_eq!(status, 200, "{:?}", reviews.reviews.lock().unwrap());
    assert!(reviews
        .reviews
        .lock()
        .unwrap()
        .iter()
        .all(|(bearer, _, _)| bearer == &jwt));
    bao.api(
        "POST",
        "apps-kv/data/shop/api",
        Some(json!({"data": {"a": "b"}})),
    );
    assert_eq!(
        bao.api_as(&token.unwrap(), "GET", "apps-kv/data/shop/api", None)
            .0,
        200
    );
    // A token for Vault only (what broke logins, hashicorp/vault-secrets-operator#379).
    assert_eq!(
        login(
            &bao,
            "kubernetes-lab",
            "shop-api",
            &sa_jwt("shop", "api", &["vault"])
        )
        .0,
        403
    );
}

/// OpenBao's users have `bao`, not `vault`: the script runs the first of `vault` and `bao` on
/// PATH (or `$VAULT_CLI`), and says so before any change when it finds neither.
#[test]
fn the_script_runs_with_bao_when_no_vault_is_on_path() {
    let Some(s) = setup() else { return };
    let dir = s.cli.dir.path();
    std::fs::rename(dir.join("vault"), dir.join("bao")).unwrap();
    let first = s.run_script();
    ok("first run with bao", &first);
    ok("second run with bao", &s.run_script());
    s.assert_nothing_to_do("the script run with bao");
    s.assert_app_works();
    // Every command went through the `bao` wrapper (its argv log).
    assert!(!s.cli.calls().is_empty());

    // Neither CLI: exit 3 before any change (an empty Vault stays empty).
    let fresh = setup().unwrap();
    std::fs::remove_file(fresh.cli.dir.path().join("vault")).unwrap();
    let before = support::vault_fakes::vault_state(&fresh.bao, "kubernetes-lab");
    let mut c = std::process::Command::new("bash");
    c.arg(&fresh.script)
        .env("HOME", crate::support::common::test_home())
        .env("PATH", "/usr/bin:/bin")
        .env("VAULT_ADDR", &fresh.bao.addr)
        .env("VAULT_TOKEN", &fresh.bao.token)
        .env_remove("VAULT_CLI");
    for (k, v) in fresh.env() {
        c.env(k, v);
    }
    let none = c.output().unwrap();
    assert_eq!(none.status.code(), Some(3), "{}", stderr(&none));
    assert_eq!(
        stderr(&none).trim(),
        "error: neither vault nor bao is on PATH (or set VAULT_CLI to the CLI); nothing was changed"
    );
    assert_eq!(
        support::vault_fakes::vault_state(&fresh.bao, "kubernetes-lab"),
        before
    );
}
