//! `configure` and the script change only the fields the spec names: what an operator set by
//! hand on a PKI role, the kubernetes auth config, a database connection and role, a
//! kubernetes-auth role and a mount's tune survives a change of the spec, on a real OpenBao;
//! the plan lists each field it changes.

use crate::support::common::*;
use crate::support::servers::{Bao, Postgres};
use crate::support::vault_fakes::{login, run_script, sa_jwt, FakeTokenReview, VaultCli};
use crate::support::vault_setup::{assert_no_work, configure, SpecDir};
use serde_json::json;
use std::path::{Path, PathBuf};

const REVIEWER_JWT: &str = "reviewer-jwt-for-field-tests";

fn spec(pg_port: u16, ca: &Path, k8s_host: &str) -> String {
    format!(
        r#"apiVersion: kubectl-vault/v1alpha1
kind: VaultStack
cluster: lab
vault:
  chart: {{version: 0.30.0}}
  tls: vault-tls
operator:
  chart: {{version: 0.10.0}}
apps:
  - name: api
    namespace: shop
    secrets:
      - name: api-db
        database: db/shop-api
      - name: api-tls
        pki: pki/shop
        commonName: api.shop.svc.cluster.local
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
        ca = ca.display()
    )
}

struct Setup {
    bao: Bao,
    pg: Postgres,
    reviews: FakeTokenReview,
    cli: VaultCli,
    dir: tempfile::TempDir,
    spec_path: PathBuf,
    spec: String,
}

fn setup() -> Option<Setup> {
    let (Some(bao), Some(pg), Some(cli)) = (Bao::start(), Postgres::start(), VaultCli::new())
    else {
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
        cli,
        dir,
        spec_path,
        spec,
    })
}

impl Setup {
    fn env(&self) -> Vec<(&str, &str)> {
        vec![
            ("TEST_PG_PASSWORD", self.pg.password.as_str()),
            ("TEST_REVIEWER_JWT", REVIEWER_JWT),
        ]
    }

    fn configure(&self, extra: &[&str]) -> std::process::Output {
        let o = configure(&self.bao, &self.spec_path, extra, &self.env());
        assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
        o
    }

    fn edit(&self, from: &str, to: &str) {
        let text = std::fs::read_to_string(&self.spec_path).unwrap();
        assert!(text.contains(from), "{from}");
        std::fs::write(&self.spec_path, text.replace(from, to)).unwrap();
    }

    fn read(&self, path: &str) -> serde_json::Value {
        let (status, v) = self.bao.api("GET", path, None);
        assert_eq!(status, 200, "{path}: {v}");
        v["data"].clone()
    }

    fn write(&self, method: &str, path: &str, body: serde_json::Value) {
        let (status, v) = self.bao.api(method, path, Some(body));
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {v}"
        );
    }

    /// What an operator sets by hand, on every kind of object `configure` updates: none of
    /// it is a field the spec names.
    fn set_by_hand(&self) {
        self.write(
            "PATCH",
            "pki/roles/shop",
            json!({"require_cn": false, "allow_ip_sans": false, "ou": ["platform"]}),
        );
        // The kubernetes auth config has no PATCH: read, add the issuer, write whole.
        let mut config = self.read("auth/kubernetes/config");
        config["issuer"] = json!("https://issuer.example");
        config["token_reviewer_jwt"] = json!(REVIEWER_JWT);
        self.write("POST", "auth/kubernetes/config", config);
        self.write(
            "POST",
            "db/config/db",
            json!({"max_open_connections": 7, "verify_connection": false}),
        );
        self.write(
            "POST",
            "db/roles/shop-api",
            json!({"renew_statements": ["SELECT 1"]}),
        );
        self.write(
            "POST",
            "auth/kubernetes/role/shop-api",
            json!({"token_explicit_max_ttl": "100h"}),
        );
        self.write(
            "POST",
            "sys/mounts/pki/tune",
            json!({"default_lease_ttl": "1h"}),
        );
    }

    /// Everything set by hand is still there.
    fn assert_kept(&self, after: &str) {
        let role = self.read("pki/roles/shop");
        assert_eq!(role["require_cn"], false, "{after}: {role}");
        assert_eq!(role["allow_ip_sans"], false, "{after}: {role}");
        assert_eq!(role["ou"], json!(["platform"]), "{after}: {role}");
        let config = self.read("auth/kubernetes/config");
        assert_eq!(config["issuer"], "https://issuer.example", "{after}");
        assert_eq!(config["token_reviewer_jwt_set"], true, "{after}");
        let db = self.read("db/config/db");
        assert_eq!(
            db["connection_details"]["max_open_connections"], 7,
            "{after}: {db}"
        );
        let db_role = self.read("db/roles/shop-api");
        assert_eq!(db_role["renew_statements"], json!(["SELECT 1"]), "{after}");
        let k8s_role = self.read("auth/kubernetes/role/shop-api");
        assert_eq!(k8s_role["token_explicit_max_ttl"], 360000, "{after}");
        let tune = self.read("sys/mounts/pki/tune");
        assert_eq!(tune["default_lease_ttl"], 3600, "{after}");
        // And the app still logs in (the reviewer JWT was kept or sent again).
        let (status, _) = login(
            &self.bao,
            "kubernetes",
            "shop-api",
            &sa_jwt("shop", "api", &["vault"]),
        );
        assert_eq!(status, 200, "{after}: the app cannot log in");
    }

    fn stable(&self, text: &str) -> String {
        text.replace(&self.bao.addr, "http://127.0.0.1:VAULT")
            .replace(&self.reviews.url, "http://127.0.0.1:K8S")
    }
}

/// The proof the issue asks for: fields set by hand survive a change of what the spec names;
/// the plan shows only the named fields that change; a second run changes nothing.
#[test]
fn fields_set_by_hand_survive_configure_and_the_plan_names_each_change() {
    let Some(s) = setup() else { return };
    s.configure(&[]);
    s.set_by_hand();
    assert_no_work(
        &configure(&s.bao, &s.spec_path, &["--dry-run"], &s.env()),
        "fields the spec does not name were set by hand",
    );

    s.edit("maxTtl: 72h", "maxTtl: 48h");
    s.edit("maxLeaseTtl: 87600h", "maxLeaseTtl: 43800h");
    s.edit("maxTtl: 1h", "maxTtl: 2h");
    s.edit("tokenPeriod: 2h", "tokenPeriod: 3h");
    let o = s.configure(&["--dry-run"]);
    insta::assert_snapshot!("plan_of_field_changes", s.stable(&stdout(&o)));

    s.configure(&[]);
    s.assert_kept("configure");
    assert_eq!(s.read("pki/roles/shop")["max_ttl"], 172800);
    assert_eq!(s.read("db/roles/shop-api")["max_ttl"], 7200);
    assert_eq!(
        s.read("auth/kubernetes/role/shop-api")["token_period"],
        10800
    );
    assert_eq!(s.read("sys/mounts/pki/tune")["max_lease_ttl"], 157680000);
    assert_no_work(
        &configure(&s.bao, &s.spec_path, &["--dry-run"], &s.env()),
        "configure",
    );

    // The kubernetes auth config written again whole (the JWT is sent again): read, modified,
    // written, so its issuer stays.
    let o = s.configure(&["--reset-connection"]);
    assert!(
        stdout(&o).contains("token_reviewer_jwt: sent again (--reset-connection)"),
        "{}",
        stdout(&o)
    );
    s.assert_kept("configure --reset-connection");
}

/// The script form keeps them too: a PKI role is patched (`vault patch`), the kubernetes auth
/// config is read and written back whole, the other writes merge.
#[test]
fn the_script_keeps_fields_set_by_hand() {
    let Some(s) = setup() else { return };
    s.configure(&[]);
    s.set_by_hand();
    s.edit("maxTtl: 72h", "maxTtl: 24h");
    s.edit("maxTtl: 1h", "maxTtl: 30m");
    let script = s.dir.path().join("configure.sh");
    let o = bin()
        .args(["configure", "--script", "-f", s.spec_path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(&script, stdout(&o)).unwrap();
    let run = run_script(&script, &s.cli, &s.bao, &s.env());
    assert!(run.status.success(), "{}{}", stdout(&run), stderr(&run));
    s.assert_kept("the script");
    assert_eq!(s.read("pki/roles/shop")["max_ttl"], 86400);
    assert_eq!(s.read("db/roles/shop-api")["max_ttl"], 1800);
    assert!(
        s.cli.calls().iter().any(|c| c.iter().any(|a| a == "patch")),
        "the role was not patched"
    );
    assert_no_work(
        &configure(&s.bao, &s.spec_path, &["--dry-run"], &s.env()),
        "the script",
    );
    // The spec is still the same file as written (nothing rewrote it).
    assert!(std::fs::read_to_string(&s.spec_path)
        .unwrap()
        .starts_with(&s.spec[..40]));
}
