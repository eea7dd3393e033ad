//! The two fleet topologies against real OpenBao: `fixtures/fleet.yaml` (one Vault, run by
//! production, which staging's pods log in to through staging's own API server) and
//! `fixtures/fleet-per-cluster.yaml` (a Vault in each cluster, each configured with its own
//! cluster only). Each cluster's API server is a fake with its own CA, made at test time,
//! whose TokenReview endpoint knows only the ServiceAccount tokens it issued.

use crate::support::common::*;
use crate::support::fake_apiserver::{FakeApiServer, API_AUDIENCE};
use crate::support::servers::{Bao, Postgres};
use crate::support::vault_fakes::{login, vault_state};
use serde_json::{json, Value};
use std::path::Path;

/// The admin connection of every database connection of a fixture: the test's PostgreSQL.
fn with_postgres(text: &str, pg: &Postgres) -> String {
    let local = format!("@127.0.0.1:{}/postgres?sslmode=disable", pg.port);
    text.replace("@db.staging.example.com:5432/shop?sslmode=require", &local)
        .replace(
            "@postgresql.db.svc.cluster.local:5432/shop?sslmode=disable",
            &local,
        )
        .replace("username: vault", "username: postgres")
}

/// `configure -f spec extra` with `env` (the root token of the test's OpenBao servers).
fn configure(spec: &Path, extra: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = bin();
    c.args(["configure", "-f", spec.to_str().unwrap()])
        .args(extra)
        .env_remove("VAULT_NAMESPACE")
        .env_remove("VAULT_CACERT");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// Reads `path` with `token`: the status.
fn read_as(bao: &Bao, token: &str, path: &str) -> u16 {
    bao.api_as(token, "GET", path, None).0
}

/// A cluster of the shared-Vault fixture: its API server and its kubernetes auth mount.
struct Member {
    name: &'static str,
    api: FakeApiServer,
    /// The audiences its apps' tokens carry (the client-JWT reviewer adds the API server's).
    audiences: Vec<&'static str>,
}

impl Member {
    fn mount(&self) -> String {
        format!("kubernetes-{}", self.name)
    }
    fn config(&self, bao: &Bao) -> Value {
        bao.api("GET", &format!("auth/{}/config", self.mount()), None)
            .1["data"]
            .clone()
    }
    /// A token of this cluster's `shop/<app>` ServiceAccount.
    fn token(&self, app: &str) -> String {
        self.api.issue_token("shop", app, &self.audiences)
    }
}

#[test]
fn one_shared_vault_each_cluster_logs_in_through_its_own_api_server_and_reads_only_its_paths() {
    let Some(bao) = Bao::start() else { return };
    let Some(pg) = Postgres::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    // Staging reviews with its vault-token-reviewer's token (mode serviceAccount, as the
    // fixture says); production, whose mount the fixture leaves in-cluster, is given its API
    // server here (the test's Vault runs in no cluster) with the client-JWT reviewer.
    let staging = Member {
        name: "staging",
        api: FakeApiServer::start_tls(),
        audiences: vec!["vault"],
    };
    let production = Member {
        name: "production",
        api: FakeApiServer::start_tls(),
        audiences: vec!["vault", API_AUDIENCE],
    };
    let reviewer = staging.api.issue_token(
        "vault-secrets-operator",
        "vault-token-reviewer",
        &[API_AUDIENCE],
    );
    staging
        .api
        .allow_token_review("vault-secrets-operator", "vault-token-reviewer");
    for app in ["webapp", "reports"] {
        production.api.allow_token_review("shop", app);
    }
    let ca = |m: &Member| {
        let path = dir.path().join(format!("{}-ca.crt", m.name));
        std::fs::write(&path, &m.api.tls().ca_pem).unwrap();
        path
    };
    let (staging_ca, production_ca) = (ca(&staging), ca(&production));
    let text = with_postgres(
        &std::fs::read_to_string(fixture("fleet.yaml")).unwrap(),
        &pg,
    )
    .replace("https://api.staging.example.com:6443", &staging.api.url())
    .replace(
        "file:staging-ca.crt",
        &format!("file:{}", staging_ca.display()),
    )
    .replace(
        "        host: https://kubernetes.default.svc:443\n",
        &format!(
            "        host: {}\n        caCertFrom: file:{}\n        disableLocalCaJwt: true\n        tokenReviewer: {{mode: client}}\n",
            production.api.url(),
            production_ca.display()
        ),
    );
    let spec = dir.path().join("fleet.yaml");
    std::fs::write(&spec, text).unwrap();
    let env = [
        ("VAULT_ADDR", bao.addr.as_str()),
        ("VAULT_TOKEN", bao.token.as_str()),
        ("STAGING_REVIEWER_JWT", reviewer.as_str()),
        ("SHOP_DB_STAGING_PASSWORD", pg.password.as_str()),
        ("SHOP_DB_PRODUCTION_PASSWORD", pg.password.as_str()),
    ];

    // One plan against the one Vault, each cluster's part under its name.
    let o = configure(&spec, &[], &env);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.matches("Vault at ").count(), 1, "{out}");
    assert!(
        out.contains("cluster staging:") && out.contains("cluster production:"),
        "{out}"
    );
    for secret in [&reviewer, &pg.password] {
        assert!(!out.contains(secret.as_str()) && !stderr(&o).contains(secret.as_str()));
    }
    let o = configure(&spec, &["--dry-run"], &env);
    assert!(stdout(&o).contains("nothing to do"), "{}", stdout(&o));

    // Each mount holds its own cluster's API server, CA and reviewer.
    let config = staging.config(&bao);
    assert_eq!(
        config["kubernetes_host"],
        staging.api.url().as_str(),
        "{config}"
    );
    assert_eq!(
        config["kubernetes_ca_cert"].as_str().map(str::trim),
        Some(staging.api.tls().ca_pem.trim())
    );
    assert_eq!(config["disable_local_ca_jwt"], true);
    assert_eq!(config["token_reviewer_jwt_set"], true);
    let config = production.config(&bao);
    assert_eq!(config["kubernetes_host"], production.api.url().as_str());
    assert_eq!(
        config["kubernetes_ca_cert"].as_str().map(str::trim),
        Some(production.api.tls().ca_pem.trim())
    );
    assert_eq!(config["disable_local_ca_jwt"], true);
    assert_eq!(
        config["token_reviewer_jwt_set"], false,
        "each client reviews itself"
    );

    // Each cluster's apps log in through their own mount and read exactly their paths: their
    // kv paths and their own database role, never the other cluster's.
    let kv = |cluster: &str, app: &str| format!("kvv2/data/{cluster}/{app}/config");
    for (cluster, app) in [
        ("staging", "webapp"),
        ("production", "webapp"),
        ("production", "reports"),
    ] {
        let (status, _) = bao.api(
            "POST",
            &kv(cluster, app),
            Some(json!({"data": {"of": cluster}})),
        );
        assert_eq!(status, 200);
    }
    let paths = [
        ("staging", "webapp", kv("staging", "webapp")),
        (
            "staging",
            "webapp",
            "shop-db/creds/webapp-staging".to_string(),
        ),
        ("production", "webapp", kv("production", "webapp")),
        (
            "production",
            "webapp",
            "shop-db/creds/webapp-production".to_string(),
        ),
        ("production", "reports", kv("production", "reports")),
    ];
    for m in [&staging, &production] {
        for app in ["webapp", "reports"] {
            let (status, token) = login(&bao, &m.mount(), &format!("shop-{app}"), &m.token(app));
            if m.name == "staging" && app == "reports" {
                assert_ne!(status, 200, "staging runs no reports app: no role for it");
                continue;
            }
            assert_eq!(status, 200, "{} {app} cannot log in", m.name);
            let token = token.unwrap();
            for (cluster, owner, path) in &paths {
                let mine = *cluster == m.name && *owner == app;
                let status = read_as(&bao, &token, path);
                assert_eq!(
                    status == 200,
                    mine,
                    "{} {app} reading {path}: {status}",
                    m.name
                );
            }
        }
    }
    // A token of one cluster presented at the other's mount: refused, by the other cluster's
    // API server, which never issued it.
    let reviews = staging.api.token_reviews().len();
    for (from, at) in [(&production, &staging), (&staging, &production)] {
        let (status, token) = login(&bao, &at.mount(), "shop-webapp", &from.token("webapp"));
        assert!(
            status != 200 && token.is_none(),
            "{}'s token logged in at {}: {status}",
            from.name,
            at.mount()
        );
    }
    let last = staging.api.token_reviews();
    assert_eq!(last.len(), reviews + 1);
    assert!(!last[reviews].authenticated && last[reviews].subject.is_empty());
    // The shared database mount holds one connection per cluster, each allowing its own role.
    for (cluster, role) in [
        ("staging", "webapp-staging"),
        ("production", "webapp-production"),
    ] {
        let (_, c) = bao.api("GET", &format!("shop-db/config/shop-db-{cluster}"), None);
        assert_eq!(c["data"]["allowed_roles"], json!([role]), "{c}");
    }
}

#[test]
fn a_vault_per_cluster_holds_only_its_own_cluster_and_is_never_given_the_others() {
    let Some(staging_vault) = Bao::start() else {
        return;
    };
    let Some(production_vault) = Bao::start() else {
        return;
    };
    let Some(pg) = Postgres::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    // Each Vault reviews the tokens of its own cluster; the test's Vaults run in no cluster,
    // so each cluster's mount is given its (stand-in) API server, CA and client reviewer.
    let apis: Vec<(&str, FakeApiServer)> = ["staging", "production"]
        .into_iter()
        .map(|c| (c, FakeApiServer::start_tls()))
        .collect();
    let mut fixture_text = with_postgres(
        &std::fs::read_to_string(fixture("fleet-per-cluster.yaml")).unwrap(),
        &pg,
    );
    for (cluster, api) in &apis {
        api.allow_token_review("shop", "webapp");
        let ca = dir.path().join(format!("{cluster}-ca.crt"));
        std::fs::write(&ca, &api.tls().ca_pem).unwrap();
        let line = format!("      address: https://vault.{cluster}.example.com:8200");
        let at = fixture_text.find(&line).unwrap();
        let end = at + fixture_text[at..].find('\n').unwrap() + 1;
        fixture_text.insert_str(
            end,
            &format!(
                "      kubernetesAuth: {{host: {}, caCertFrom: file:{}, disableLocalCaJwt: true, tokenReviewer: {{mode: client}}}}\n",
                api.url(),
                ca.display()
            ),
        );
    }
    let with_addresses = fixture_text
        .replace(
            "https://vault.staging.example.com:8200",
            &staging_vault.addr,
        )
        .replace(
            "https://vault.production.example.com:8200",
            &production_vault.addr,
        );
    let spec = dir.path().join("fleet-per-cluster.yaml");
    std::fs::write(&spec, &with_addresses).unwrap();
    // VAULT_ADDR names neither Vault: each cluster's own address is used.
    let env = [
        ("VAULT_ADDR", "http://127.0.0.1:9"),
        ("VAULT_TOKEN", staging_vault.token.as_str()),
        ("SHOP_DB_STAGING_PASSWORD", pg.password.as_str()),
        ("SHOP_DB_PRODUCTION_PASSWORD", pg.password.as_str()),
    ];
    let o = configure(&spec, &[], &env);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    for v in [&staging_vault, &production_vault] {
        assert!(
            out.contains(&format!("Vault at {} (vaultConfig.address):", v.addr)),
            "{out}"
        );
    }
    let holds = |bao: &Bao, cluster: &str| {
        let state = vault_state(bao, &format!("kubernetes-{cluster}"));
        let auth = state["auth"]
            .get(format!("kubernetes-{cluster}/"))
            .is_some();
        let policy = state["policies"]
            .get(format!("{cluster}-shop-webapp"))
            .is_some();
        assert_eq!(auth, policy, "{state}");
        auth
    };
    assert!(holds(&staging_vault, "staging") && !holds(&staging_vault, "production"));
    assert!(holds(&production_vault, "production") && !holds(&production_vault, "staging"));
    // The same paths in each Vault, each its own cluster's: an app logs in to its cluster's
    // Vault only (the other Vault has no mount for its cluster, and its own cluster's mount
    // asks the other API server, which never issued the token).
    let vaults = [&staging_vault, &production_vault];
    for (i, (cluster, api)) in apis.iter().enumerate() {
        let token = api.issue_token("shop", "webapp", &["vault", API_AUDIENCE]);
        let (status, client) = login(
            vaults[i],
            &format!("kubernetes-{cluster}"),
            "shop-webapp",
            &token,
        );
        assert_eq!(status, 200, "{cluster}");
        let (status, _) = vaults[i].api_as(&client.unwrap(), "GET", "shop-db/creds/webapp", None);
        assert_eq!(status, 200, "{cluster} reads its own database role");
        let other = vaults[1 - i];
        let other_cluster = apis[1 - i].0;
        for mount in [
            format!("kubernetes-{cluster}"),
            format!("kubernetes-{other_cluster}"),
        ] {
            let (status, _) = login(other, &mount, "shop-webapp", &token);
            assert_ne!(
                status, 200,
                "{cluster}'s token at the other Vault's {mount}"
            );
        }
    }
    let o = configure(&spec, &["--dry-run"], &env);
    assert!(stdout(&o).contains("nothing to do"), "{}", stdout(&o));

    // Without the addresses, one VAULT_ADDR cannot name both Vaults: refused before anything
    // is read or written, and each cluster can still be configured on its own.
    let without_addresses: String = fixture_text
        .lines()
        .filter(|l| !l.starts_with("      address: "))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&spec, without_addresses).unwrap();
    let before = vault_state(&staging_vault, "kubernetes-staging");
    let env = [
        ("VAULT_ADDR", staging_vault.addr.as_str()),
        ("VAULT_TOKEN", staging_vault.token.as_str()),
        ("SHOP_DB_STAGING_PASSWORD", pg.password.as_str()),
        ("SHOP_DB_PRODUCTION_PASSWORD", pg.password.as_str()),
    ];
    let o = configure(&spec, &[], &env);
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("runs its own Vault, and staging, production have no vaultConfig.address")
            && err.contains("--cluster staging"),
        "{err}"
    );
    assert!(stdout(&o).is_empty());
    assert_eq!(vault_state(&staging_vault, "kubernetes-staging"), before);
    let o = configure(&spec, &["--cluster", "staging", "--dry-run"], &env);
    assert!(
        o.status.success() && stdout(&o).contains("nothing to do"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    assert!(!stdout(&o).contains("production"), "{}", stdout(&o));
}
