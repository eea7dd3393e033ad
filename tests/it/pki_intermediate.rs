//! An intermediate CA signed by a root mount, and cert-manager's Vault issuer, against a real
//! OpenBao: `configure` and the generated `configure.sh` each make the chain once (a second
//! run changes nothing), a leaf issued from the intermediate verifies with `openssl verify`
//! up to the root, and cert-manager's role signs with exactly its own PKI role.

use crate::support::common::*;
use crate::support::servers::{find_tool, require, Bao};
use crate::support::vault_fakes::{login, run_script, sa_jwt, FakeTokenReview, VaultCli};
use crate::support::vault_setup::{assert_no_work, configure, SpecDir};
use serde_json::json;
use std::path::{Path, PathBuf};

const REVIEWER_JWT: &str = "reviewer-jwt-for-pki-tests";

/// A root (`pki`), an intermediate (`pki_int`) signed by it, an app issuing from the
/// intermediate and cert-manager's ClusterIssuer signing with `pki_int/sign/ingress`.
fn spec(ca: &Path, k8s_host: &str) -> String {
    format!(
        r#"apiVersion: kubectl-vault/v1alpha1
kind: VaultStack
cluster: lab
vault:
  chart: {{version: 0.30.0}}
operator:
  chart: {{version: 0.10.0}}
apps:
  - name: api
    namespace: shop
    secrets:
      - name: api-tls
        pki: pki_int/shop
        commonName: api.shop.svc.cluster.local
certManager:
  issuer:
    name: vault-issuer
    kind: ClusterIssuer
    pki: pki_int/ingress
vaultConfig:
  kubernetesAuth:
    host: {k8s_host}
    caCertFrom: file:{ca}
    disableLocalCaJwt: true
    tokenReviewer: {{mode: serviceAccount, jwtFrom: env:TEST_REVIEWER_JWT}}
  pki:
    pki:
      maxLeaseTtl: 87600h
      rootCA: {{commonName: Lab Root CA, ttl: 87600h}}
      urls: {{base: "https://vault.example.test:8200/"}}
    pki_int:
      maxLeaseTtl: 43800h
      intermediateCA: {{signedBy: pki, commonName: Lab Intermediate CA, ttl: 43800h}}
      roles:
        shop:
          allowedDomains: [shop.svc.cluster.local]
          allowSubdomains: true
          maxTtl: 72h
        ingress:
          allowedDomains: [example.com]
          allowSubdomains: true
          maxTtl: 720h
"#,
        ca = ca.display()
    )
}

struct Setup {
    openssl: PathBuf,
    bao: Bao,
    reviews: FakeTokenReview,
    dir: tempfile::TempDir,
    spec_path: PathBuf,
}

fn setup() -> Option<Setup> {
    let openssl = require(find_tool("OPENSSL", "openssl"), "openssl")?;
    let bao = Bao::start()?;
    let SpecDir {
        reviews,
        dir,
        spec_path,
        ..
    } = SpecDir::new(REVIEWER_JWT, |_, ca, k8s_host| spec(ca, k8s_host));
    Some(Setup {
        openssl,
        bao,
        reviews,
        dir,
        spec_path,
    })
}

impl Setup {
    fn configure(&self, extra: &[&str]) -> std::process::Output {
        configure(
            &self.bao,
            &self.spec_path,
            extra,
            &[("TEST_REVIEWER_JWT", REVIEWER_JWT)],
        )
    }

    /// `configure` finds everything as the spec says.
    fn assert_nothing_to_do(&self, after: &str) {
        assert_no_work(&self.configure(&["--dry-run"]), after);
    }

    /// The intermediate's issuers (its own and the root it was signed by, from the bundle)
    /// and its default issuer: what a second run must leave as it is.
    fn issuers(&self) -> serde_json::Value {
        let list = self.bao.api("GET", "pki_int/issuers?list=true", None).1;
        let default = self.bao.api("GET", "pki_int/config/issuers", None).1;
        json!({"keys": list["data"]["keys"], "default": default["data"]["default"]})
    }

    /// A leaf issued from the intermediate (by the app, logged in through kubernetes auth)
    /// verifies up to the root with `openssl verify`.
    fn assert_chain_verifies(&self) {
        let (status, token) = login(
            &self.bao,
            "kubernetes-lab",
            "shop-api",
            &sa_jwt("shop", "api", &["vault"]),
        );
        assert_eq!(status, 200, "the app cannot log in");
        let (status, leaf) = self.bao.api_as(
            &token.unwrap(),
            "POST",
            "pki_int/issue/shop",
            Some(json!({"common_name": "api.shop.svc.cluster.local"})),
        );
        assert_eq!(status, 200, "the intermediate does not issue: {leaf}");
        let root = self.bao.api("GET", "pki/cert/ca", None).1;
        let files = [
            ("root.pem", root["data"]["certificate"].as_str().unwrap()),
            ("int.pem", leaf["data"]["issuing_ca"].as_str().unwrap()),
            ("leaf.pem", leaf["data"]["certificate"].as_str().unwrap()),
        ];
        for (name, pem) in files {
            std::fs::write(self.dir.path().join(name), format!("{pem}\n")).unwrap();
        }
        let verify = std::process::Command::new(&self.openssl)
            .current_dir(self.dir.path())
            .args([
                "verify",
                "-CAfile",
                "root.pem",
                "-untrusted",
                "int.pem",
                "leaf.pem",
            ])
            .output()
            .unwrap();
        assert!(
            verify.status.success() && stdout(&verify).contains("leaf.pem: OK"),
            "{}{}",
            stdout(&verify),
            stderr(&verify)
        );
        // The leaf is not signed by the root itself: without the intermediate it fails.
        let alone = std::process::Command::new(&self.openssl)
            .current_dir(self.dir.path())
            .args(["verify", "-CAfile", "root.pem", "leaf.pem"])
            .output()
            .unwrap();
        assert!(!alone.status.success(), "{}", stdout(&alone));
        let subject = std::process::Command::new(&self.openssl)
            .current_dir(self.dir.path())
            .args(["x509", "-noout", "-subject", "-issuer", "-in", "int.pem"])
            .output()
            .unwrap();
        let text = stdout(&subject);
        assert!(
            text.contains("subject=CN = Lab Intermediate CA")
                && text.contains("issuer=CN = Lab Root CA"),
            "{text}"
        );
        // A proper chain: the intermediate signs leaves only (pathlen:0) and names where the
        // root's certificate and CRL are (the root mount's `urls.base`); the leaf names the
        // intermediate's (the in-cluster address by default).
        let text = |file: &str| {
            let o = std::process::Command::new(&self.openssl)
                .current_dir(self.dir.path())
                .args(["x509", "-noout", "-text", "-in", file])
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", stderr(&o));
            stdout(&o)
        };
        let int = text("int.pem");
        assert!(int.contains("CA:TRUE, pathlen:0"), "{int}");
        assert!(
            int.contains("CA Issuers - URI:https://vault.example.test:8200/v1/pki/ca")
                && int.contains("URI:https://vault.example.test:8200/v1/pki/crl"),
            "{int}"
        );
        let leaf = text("leaf.pem");
        assert!(
            leaf.contains(
                "CA Issuers - URI:http://vault-active.vault.svc.cluster.local:8200/v1/pki_int/ca"
            ) && leaf
                .contains("URI:http://vault-active.vault.svc.cluster.local:8200/v1/pki_int/crl"),
            "{leaf}"
        );
    }

    /// cert-manager's role signs with `pki_int/sign/ingress` and nothing else.
    fn assert_cert_manager_signs_exactly_its_role(&self) {
        let bao = &self.bao;
        // cert-manager requests the token with the ClusterIssuer's audience; any other fails.
        let jwt = sa_jwt("cert-manager", "vault-issuer", &["vault://vault-issuer"]);
        let (status, _) = login(
            bao,
            "kubernetes-lab",
            "cert-manager-vault-issuer",
            &sa_jwt("cert-manager", "vault-issuer", &["vault"]),
        );
        assert_ne!(status, 200, "a token for another audience logs in");
        let (status, _) = login(
            bao,
            "kubernetes-lab",
            "cert-manager-vault-issuer",
            &sa_jwt("cert-manager", "cert-manager", &["vault://vault-issuer"]),
        );
        assert_ne!(status, 200, "another ServiceAccount logs in");
        let (status, token) = login(bao, "kubernetes-lab", "cert-manager-vault-issuer", &jwt);
        assert_eq!(status, 200, "cert-manager cannot log in");
        let token = token.unwrap();
        // An RSA key, as cert-manager makes by default (and the role's default key type).
        let made = std::process::Command::new(&self.openssl)
            .current_dir(self.dir.path())
            .args([
                "req",
                "-new",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "cm.key",
                "-subj",
                "/CN=www.example.com",
                "-out",
                "cm.csr",
            ])
            .output()
            .unwrap();
        assert!(made.status.success(), "{}", stderr(&made));
        let csr = std::fs::read_to_string(self.dir.path().join("cm.csr")).unwrap();
        let body = json!({"csr": csr, "common_name": "www.example.com"});
        let (status, signed) =
            bao.api_as(&token, "POST", "pki_int/sign/ingress", Some(body.clone()));
        assert_eq!(status, 200, "cert-manager cannot sign: {signed}");
        assert!(signed["data"]["certificate"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----"));
        for (path, b) in [
            ("pki_int/sign/shop", body.clone()),
            (
                "pki_int/issue/ingress",
                json!({"common_name": "www.example.com"}),
            ),
            ("pki/root/sign-intermediate", body.clone()),
            ("pki/sign-verbatim", body.clone()),
            (
                "pki_int/roles/ingress",
                json!({"allowed_domains": ["evil.com"]}),
            ),
        ] {
            let (status, answer) = bao.api_as(&token, "POST", path, Some(b));
            assert_eq!(status, 403, "{path} is allowed: {answer}");
        }
        assert_eq!(
            bao.api_as(&token, "GET", "pki_int/roles/ingress", None).0,
            403
        );
    }
}

#[test]
fn configure_signs_the_intermediate_once_and_the_chain_verifies() {
    let Some(s) = setup() else { return };
    let plan = s.configure(&["--dry-run"]);
    ok("dry run", &plan);
    insta::assert_snapshot!(
        "pki_intermediate_plan_on_a_fresh_vault",
        stdout(&plan)
            .replace(&s.bao.addr, "http://127.0.0.1:VAULT")
            .replace(&s.reviews.url, "http://127.0.0.1:K8S")
    );
    assert!(
        stdout(&plan).contains(
            "create     intermediate CA \"Lab Intermediate CA\" in pki_int/, signed by the root CA of pki/"
        ) && stdout(&plan).contains("create     CA URLs of pki_int/"),
        "{}",
        stdout(&plan)
    );
    let first = s.configure(&[]);
    ok("first configure", &first);
    assert!(
        stdout(&first).contains("created  intermediate CA \"Lab Intermediate CA\""),
        "{}",
        stdout(&first)
    );
    let issuers = s.issuers();
    assert!(issuers["default"].as_str().is_some_and(|d| !d.is_empty()));
    s.assert_nothing_to_do("configure");
    let second = s.configure(&[]);
    ok("second configure", &second);
    assert!(
        stdout(&second).contains("unchanged  issuer in pki_int/ (exists; no new intermediate CA)")
            && stdout(&second).contains("nothing to do"),
        "{}",
        stdout(&second)
    );
    assert_eq!(s.issuers(), issuers, "the second run made another CA");
    s.assert_chain_verifies();
    s.assert_cert_manager_signs_exactly_its_role();
    // The intermediate's certificates name where clients find its CA and CRL.
    let urls = s.bao.api("GET", "pki_int/config/urls", None).1;
    assert_eq!(
        urls["data"]["issuing_certificates"],
        json!(["http://vault-active.vault.svc.cluster.local:8200/v1/pki_int/ca"])
    );
}

#[test]
fn the_script_signs_the_intermediate_once_and_agrees_with_configure() {
    let Some(s) = setup() else { return };
    let Some(cli) = VaultCli::new() else { return };
    let out = s.dir.path().join("gitops");
    let o = bin()
        .args(["generate", "-f", s.spec_path.to_str().unwrap(), "--out"])
        .arg(&out)
        .output()
        .unwrap();
    ok("generate", &o);
    let script = out.join("vault-config/lab/configure.sh");
    let env = [("TEST_REVIEWER_JWT", REVIEWER_JWT)];
    let first = run_script(&script, &cli, &s.bao, &env);
    ok("first run", &first);
    assert!(
        stdout(&first).contains("created a root CA in pki/")
            && stdout(&first).contains("created an intermediate CA in pki_int/, signed by pki/"),
        "{}",
        stdout(&first)
    );
    let issuers = s.issuers();
    let second = run_script(&script, &cli, &s.bao, &env);
    ok("second run", &second);
    assert!(
        !stdout(&second).contains("created"),
        "the second run changed the CAs: {}",
        stdout(&second)
    );
    assert_eq!(s.issuers(), issuers, "the second run made another CA");
    s.assert_nothing_to_do("the script");
    s.assert_chain_verifies();
    s.assert_cert_manager_signs_exactly_its_role();
    // The CSR and the signed certificate went through stdin, never a command line.
    for call in cli.calls() {
        for arg in call {
            assert!(
                !arg.contains("-----BEGIN"),
                "a PEM on the command line: {arg}"
            );
        }
    }
}
