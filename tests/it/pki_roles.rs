//! PKI roles safe by default, against a real OpenBao: a role refuses IP SANs, `localhost` and
//! wildcards unless the spec opts in; the spec's key, usage and storage fields reach the
//! role; the role cert-manager signs with takes CSRs without a common name; every PKI mount
//! gets auto-tidy; a role an older release wrote with Vault's defaults is planned field by
//! field.

use crate::support::common::*;
use crate::support::servers::{find_tool, require, Bao};
use crate::support::vault_fakes::FakeTokenReview;
use crate::support::vault_setup::{assert_no_work, configure, SpecDir};
use serde_json::json;
use std::path::{Path, PathBuf};

const REVIEWER_JWT: &str = "reviewer-jwt-for-pki-role-tests";

fn spec(ca: &Path, k8s_host: &str) -> String {
    format!(
        r#"apiVersion: kubectl-vault/v1alpha1
kind: VaultStack
cluster: lab
vault:
  chart: {{version: 0.30.0}}
operator:
  chart: {{version: 0.10.0}}
certManager:
  issuer:
    name: vault-issuer
    kind: ClusterIssuer
    pki: pki/ingress
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
      autoTidy: {{interval: 6h}}
      roles:
        strict:
          allowedDomains: [example.test]
          allowSubdomains: true
          maxTtl: 72h
        open:
          allowedDomains: [example.test]
          allowSubdomains: true
          allowIpSans: true
          allowLocalhost: true
          allowWildcardCertificates: true
          keyType: ec
          keyBits: 256
          serverFlag: true
          clientFlag: false
          noStore: true
        ingress:
          allowedDomains: [example.test]
          allowSubdomains: true
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
        let o = configure(
            &self.bao,
            &self.spec_path,
            extra,
            &[("TEST_REVIEWER_JWT", REVIEWER_JWT)],
        );
        assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
        o
    }

    fn issue(&self, role: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.bao
            .api("POST", &format!("pki/issue/{role}"), Some(body))
    }

    /// An RSA CSR for `DNS:<san>` with an empty subject (as cert-manager's ingress-shim
    /// sends), for the roles' default key type.
    fn csr_without_cn(&self, san: &str) -> String {
        let key = self.dir.path().join("csr.key");
        let csr = self.dir.path().join("csr.pem");
        let o = std::process::Command::new(&self.openssl)
            .args(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/"])
            .args(["-addext", &format!("subjectAltName=DNS:{san}")])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&csr)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read_to_string(&csr).unwrap()
    }
}

#[test]
fn roles_refuse_ip_sans_localhost_and_wildcards_unless_the_spec_opts_in() {
    let Some(s) = setup() else { return };
    let o = s.configure(&["--dry-run"]);
    insta::assert_snapshot!(
        "pki_roles_plan_on_a_fresh_vault",
        stdout(&o)
            .replace(&s.bao.addr, "http://127.0.0.1:VAULT")
            .replace(&s.reviews.url, "http://127.0.0.1:K8S")
    );
    s.configure(&[]);

    let name = |cn: &str| json!({"common_name": cn});
    assert_eq!(s.issue("strict", name("a.example.test")).0, 200);
    for (what, body) in [
        (
            "an IP SAN",
            json!({"common_name": "a.example.test", "ip_sans": "8.8.8.8"}),
        ),
        (
            "localhost",
            json!({"common_name": "a.example.test", "alt_names": "localhost"}),
        ),
        ("a wildcard", name("*.example.test")),
    ] {
        let (status, answer) = s.issue("strict", body.clone());
        assert_eq!(status, 400, "the strict role issued {what}: {answer}");
        let (status, answer) = s.issue("open", body);
        assert_eq!(status, 200, "the open role refused {what}: {answer}");
        assert_eq!(answer["data"]["private_key_type"], "ec", "{answer}");
    }

    // The spec's fields, as Vault holds them; Vault's own where the spec names none.
    let open = s.bao.api("GET", "pki/roles/open", None).1["data"].clone();
    assert_eq!(open["key_type"], "ec");
    assert_eq!(open["key_bits"], 256);
    assert_eq!(open["no_store"], true);
    assert_eq!(open["client_flag"], false);
    assert_eq!(open["server_flag"], true);
    let strict = s.bao.api("GET", "pki/roles/strict", None).1["data"].clone();
    assert_eq!(strict["allow_ip_sans"], false);
    assert_eq!(strict["allow_localhost"], false);
    assert_eq!(strict["allow_wildcard_certificates"], false);
    assert_eq!(strict["require_cn"], true);

    // cert-manager's role signs a CSR without a common name; another role does not.
    let csr = s.csr_without_cn("web.example.test");
    let (status, answer) = s
        .bao
        .api("POST", "pki/sign/ingress", Some(json!({"csr": csr})));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        s.bao.api("GET", "pki/roles/ingress", None).1["data"]["require_cn"],
        false
    );
    let (status, _) = s
        .bao
        .api("POST", "pki/sign/strict", Some(json!({"csr": csr})));
    assert_eq!(status, 400);

    // Auto-tidy, as the spec says (interval) and by default (the rest).
    let tidy = s.bao.api("GET", "pki/config/auto-tidy", None).1["data"].clone();
    assert_eq!(tidy["enabled"], true, "{tidy}");
    assert_eq!(tidy["tidy_cert_store"], true, "{tidy}");
    assert_eq!(tidy["tidy_revoked_certs"], true, "{tidy}");
    assert_eq!(tidy["interval_duration"], 21600, "{tidy}");
    assert_eq!(tidy["safety_buffer"], 259200, "{tidy}");

    assert_no_work(
        &configure(
            &s.bao,
            &s.spec_path,
            &["--dry-run"],
            &[("TEST_REVIEWER_JWT", REVIEWER_JWT)],
        ),
        "configure",
    );
}

/// A role written whole with Vault's defaults (as releases before safe defaults wrote it) is
/// planned field by field: the three opt-ins turned off, nothing else touched.
#[test]
fn a_role_with_vaults_defaults_is_made_safe_field_by_field() {
    let Some(s) = setup() else { return };
    s.configure(&[]);
    let (status, v) = s.bao.api(
        "POST",
        "pki/roles/strict",
        Some(json!({"allowed_domains": ["example.test"], "allow_subdomains": true, "max_ttl": "72h", "ou": ["platform"]})),
    );
    assert!(status < 300, "{v}");
    let o = s.configure(&["--dry-run"]);
    let plan = stdout(&o);
    insta::assert_snapshot!(
        "pki_role_with_vaults_defaults",
        plan.replace(&s.bao.addr, "http://127.0.0.1:VAULT")
            .lines()
            .filter(|l| !l.starts_with("unchanged"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    s.configure(&[]);
    let strict = s.bao.api("GET", "pki/roles/strict", None).1["data"].clone();
    assert_eq!(strict["allow_ip_sans"], false);
    assert_eq!(
        strict["ou"],
        json!(["platform"]),
        "a field set by hand was reset"
    );
}
