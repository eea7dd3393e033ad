//! The Vault side of an OpenBao spec written into a real OpenBao: `configure` twice, and the
//! generated `configure.sh` twice with only `bao` on PATH (the script picks it first), an app
//! per consumer (ESO, injector with a PKI certificate, CSI) logging in after each; the
//! audit device is the server configuration's, so neither tries the API for it.

use super::*;
use crate::support::servers::Bao;
use crate::support::vault_fakes::{login, run_script, sa_jwt, VaultCli};
use crate::support::vault_setup::{assert_no_work, configure, SpecDir};

const REVIEWER_JWT: &str = "reviewer-jwt-for-openbao-tests";

fn spec(ca: &Path, k8s_host: &str) -> String {
    format!(
        r#"apiVersion: kubectl-vault/v1alpha1
kind: VaultStack
cluster: bao
vault:
  distribution: openbao
  chart: {{version: 0.29.2}}
  tls: openbao-tls
  injector: true
operator:
  chart: {{version: 1.4.1}}
apps:
  - name: billing
    namespace: billing
    consumer: eso
    secrets:
      - name: billing-config
        kv: kvv2/billing/config
  - name: checkout
    namespace: shop
    consumer: injector
    injector: {{workload: Deployment/checkout}}
    secrets:
      - name: checkout-tls
        pki: pki/shop
        commonName: checkout.shop.svc.cluster.local
  - name: search
    namespace: search
    consumer: csi
    secrets:
      - name: search-api
        kv: kvv2/search/api
        keys: [token]
vaultConfig:
  kubernetesAuth:
    host: {k8s_host}
    caCertFrom: file:{ca}
    disableLocalCaJwt: true
    tokenReviewer: {{mode: serviceAccount, jwtFrom: env:TEST_REVIEWER_JWT}}
  pki:
    pki:
      maxLeaseTtl: 87600h
      rootCA: {{commonName: Bao Root CA, ttl: 87600h}}
      roles:
        shop:
          allowedDomains: [shop.svc.cluster.local]
          allowSubdomains: true
          maxTtl: 72h
  audit:
    type: file
    options: {{file_path: stdout}}
"#,
        ca = ca.display()
    )
}

/// Each app, whatever its consumer (ESO, the injector, the CSI provider), logs in through the
/// kubernetes auth mount and may read its own secrets only (a PKI certificate for the
/// injector app); and no audit device was enabled through the API.
fn assert_side_works(bao: &Bao) {
    let token = |ns: &str, name: &str| {
        let (status, token) = login(
            bao,
            "kubernetes-bao",
            &format!("{ns}-{name}"),
            &sa_jwt(ns, name, &["vault"]),
        );
        assert_eq!(status, 200, "{ns}/{name} cannot log in");
        token.unwrap()
    };
    let billing = token("billing", "billing");
    assert_eq!(
        bao.api_as(&billing, "GET", "kvv2/data/billing/config", None)
            .0,
        404
    );
    assert_eq!(
        bao.api_as(&billing, "GET", "kvv2/data/search/api", None).0,
        403
    );
    let search = token("search", "search");
    assert_eq!(
        bao.api_as(&search, "GET", "kvv2/data/search/api", None).0,
        404
    );
    assert_eq!(
        bao.api_as(&search, "GET", "kvv2/data/billing/config", None)
            .0,
        403
    );
    let checkout = token("shop", "checkout");
    let (status, cert) = bao.api_as(
        &checkout,
        "POST",
        "pki/issue/shop",
        Some(serde_json::json!({"common_name": "checkout.shop.svc.cluster.local"})),
    );
    assert_eq!(status, 200, "PKI does not issue: {cert}");
    assert_eq!(
        bao.api_as(&checkout, "GET", "kvv2/data/billing/config", None)
            .0,
        403
    );
    let (_, audit) = bao.api("GET", "sys/audit", None);
    assert_eq!(audit["data"], serde_json::json!({}), "{audit}");
}

#[test]
fn configure_twice_against_openbao_leaves_audit_to_the_configuration() {
    let Some(bao) = Bao::start() else { return };
    let setup = SpecDir::new(REVIEWER_JWT, |_, ca, host| spec(ca, host));
    let env = [("TEST_REVIEWER_JWT", REVIEWER_JWT)];
    let o = configure(&bao, &setup.spec_path, &[], &env);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!out.contains("audit"), "{out}");
    assert_side_works(&bao);
    let o = configure(&bao, &setup.spec_path, &[], &env);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_no_work(
        &configure(&bao, &setup.spec_path, &["--dry-run"], &env),
        "two runs",
    );
}

#[test]
fn the_script_runs_twice_with_bao_alone() {
    let (Some(bao), Some(cli)) = (Bao::start(), VaultCli::new()) else {
        return;
    };
    // The recording CLI named `bao`, and no `vault` on PATH at all.
    let dir = cli.dir.path();
    std::fs::rename(dir.join("vault"), dir.join("bao")).unwrap();
    let setup = SpecDir::new(REVIEWER_JWT, |_, ca, host| spec(ca, host));
    let out = setup.dir.path().join("gitops");
    let tree = generate_spec(&setup.spec_path, &out);
    assert!(tree.contains_key("vault-config/bao/configure.sh"));
    let script = out.join("vault-config/bao/configure.sh");
    let env = [("TEST_REVIEWER_JWT", REVIEWER_JWT)];
    for run in ["first", "second"] {
        let o = run_script(&script, &cli, &bao, &env);
        assert!(o.status.success(), "{run} run: {}", stderr(&o));
    }
    let calls = cli.calls();
    assert!(!calls.is_empty(), "the script ran bao");
    assert!(
        calls
            .iter()
            .all(|c| c.first().map(String::as_str) != Some("audit")),
        "{calls:?}"
    );
    assert_side_works(&bao);
    assert_no_work(
        &configure(&bao, &setup.spec_path, &["--dry-run"], &env),
        "the script, twice",
    );
}
