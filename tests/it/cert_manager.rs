//! `generate` with an intermediate CA and cert-manager's Vault issuer: the tree (snapshot),
//! and every Issuer and ClusterIssuer checked against the upstream CRD's schema (a copy in
//! fixtures/crds/: unknown fields, types, enums and required fields, as the API server does).

use crate::support::common::*;
use crate::support::crd_schema::{crd_schema, schema_problems};
use serde_json::Value;

fn generate_text(spec: &str) -> std::collections::BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pki-intermediate.yaml");
    std::fs::write(&file, spec).unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "-f",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "generate failed: {}", stderr(&o));
    read_tree(&out)
}

fn fixture_text() -> String {
    std::fs::read_to_string(fixture("pki-intermediate.yaml")).unwrap()
}

/// The fixture with a namespaced Issuer in the app's namespace instead of a ClusterIssuer.
fn namespaced_issuer() -> String {
    fixture_text().replace(
        "    kind: ClusterIssuer\n",
        "    kind: Issuer\n    namespace: shop\n",
    )
}

#[test]
fn pki_intermediate_tree_snapshot() {
    insta::assert_snapshot!(
        "pki_intermediate",
        tree_text(&generate_text(&fixture_text()))
    );
}

/// Every cert-manager.io/v1 document of `kind` in the tree, with the problems its CRD finds
/// in it.
fn check_kind(
    tree: &std::collections::BTreeMap<String, String>,
    kind: &str,
) -> Vec<(Value, Vec<String>)> {
    let schema = crd_schema("cert-manager.io", kind, "v1");
    let mut found = vec![];
    for (path, text) in tree {
        if !path.ends_with(".yaml") {
            continue;
        }
        for doc in serde_yaml::Deserializer::from_str(text) {
            let v: Value = serde::Deserialize::deserialize(doc).unwrap();
            if v["kind"] == kind {
                assert_eq!(v["apiVersion"], "cert-manager.io/v1", "{path}");
                let problems = schema_problems(&v, &schema, "");
                found.push((v, problems));
            }
        }
    }
    found
}

#[test]
fn issuers_match_the_upstream_crds() {
    let tree = generate_text(&fixture_text());
    let found = check_kind(&tree, "ClusterIssuer");
    assert_eq!(found.len(), 1);
    let (issuer, problems) = &found[0];
    assert!(problems.is_empty(), "{problems:?}");
    let vault = &issuer["spec"]["vault"];
    assert_eq!(vault["path"], "pki_int/sign/ingress");
    assert_eq!(
        vault["auth"]["kubernetes"]["mountPath"],
        "/v1/auth/kubernetes-lab"
    );
    assert_eq!(vault["caBundleSecretRef"]["name"], "vault-ca");

    let tree = generate_text(&namespaced_issuer());
    let found = check_kind(&tree, "Issuer");
    assert_eq!(found.len(), 1);
    let (issuer, problems) = &found[0];
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(issuer["metadata"]["namespace"], "shop");
    // Its ServiceAccount, token-request Role and CA carrier live in the Issuer's namespace,
    // and the Vault role is bound to it with the audience cert-manager requests. The issuer
    // is a stage of its own; the carrier and the namespace are the namespaces stage's.
    let rbac = &tree["apps/lab/_vault-cert-manager/cert-manager-token-request.yaml"];
    assert!(rbac.contains("namespace: shop"), "{rbac}");
    assert!(tree.contains_key("apps/lab/_vault-namespaces/shop-vault-ca.yaml"));
    assert!(tree.contains_key("apps/lab/_vault-namespaces/namespace-shop.yaml"));
    let stage = &tree["clusters/lab/vault-cert-manager.yaml"];
    assert!(
        stage.contains("dependsOn:\n    - name: vault\n    - name: vault-namespaces\n"),
        "{stage}"
    );
    assert!(stage.contains("kind: Issuer"), "{stage}");
    let script = &tree["vault-config/lab/configure.sh"];
    assert!(
        script.contains("bound_service_account_namespaces=shop \\\n  token_policies=lab-cert-manager-vault-issuer \\\n  audience=vault://shop/vault-issuer"),
        "{script}"
    );

    // The check itself refuses what the CRD does not have.
    let schema = crd_schema("cert-manager.io", "Issuer", "v1");
    let mut bad = issuer.clone();
    bad["spec"]["vault"]["tlsSkipVerify"] = true.into();
    bad["spec"]["vault"]["auth"]["kubernetes"]
        .as_object_mut()
        .unwrap()
        .remove("role");
    assert_eq!(
        schema_problems(&bad, &schema, ""),
        [
            ".spec.vault.auth.kubernetes: required field \"role\" is missing",
            ".spec.vault.tlsSkipVerify: unknown field"
        ]
    );
}

#[test]
fn the_policy_grants_exactly_sign_on_the_issuer_role() {
    let tree = generate_text(&fixture_text());
    let policy = &tree["vault-config/lab/policies/lab-cert-manager-vault-issuer.hcl"];
    let body: String = policy
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        body,
        "path \"pki_int/sign/ingress\" {\n  capabilities = [\"update\"]\n}"
    );
}

/// `verify` on a cluster where VSO synced everything: the issuer is one more row, listed by
/// name in one more request, and the report fails until cert-manager marks it Ready.
#[test]
fn verify_follows_the_issuer_to_ready() {
    use crate::support::cluster_state;
    use crate::support::fake_apiserver::FakeApiServer;
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("pki-intermediate.yaml");
    // Plain HTTP: the VaultConnection then names no CA Secret to look up.
    let text = fixture_text()
        .replace("  tls: vault-tls\n", "  tls: false\n")
        .lines()
        .filter(|l| !l.trim_start().starts_with("tlsIssuer:"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&spec, text).unwrap();
    let fake = FakeApiServer::start();
    cluster_state::synced(&fake, &spec);
    let kubeconfig = fake.write_kubeconfig(dir.path(), "lab");
    let verify = || {
        let o = bin()
            .args(["verify", "-f", spec.to_str().unwrap(), "--kubeconfig"])
            .arg(&kubeconfig)
            .args(["-o", "json"])
            .env_remove("KUBECONFIG")
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&o), stderr(&o)));
        (o.status.code(), v)
    };
    let issuer_row = |v: &Value| {
        v["flux"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["kind"] == "ClusterIssuer")
            .cloned()
            .unwrap()
    };
    fake.reset_requests();
    let (code, v) = verify();
    assert_eq!(code, Some(1), "{v:#}");
    let row = issuer_row(&v);
    assert_eq!(row["name"], "vault-issuer");
    assert_eq!(row["ok"], false);
    assert_eq!(row["detail"], "not Ready yet (no Ready condition)");
    // The secrets themselves are synced: the issuer is on none of their chains.
    assert_eq!(v["synced"], v["total"]);
    // The usual eleven lists (with the Vault pods), and one for the issuer, by name.
    let requests = fake.requests();
    assert_eq!(requests.len(), 12, "{requests:#?}");
    assert!(
        requests.iter().any(|r| r.contains("clusterissuers")
            && r.contains("fieldSelector=metadata.name%3Dvault-issuer")),
        "{requests:#?}"
    );

    fake.modify("ClusterIssuer", "", "vault-issuer", |o| {
        o["status"] = serde_json::json!({"conditions": [{
            "type": "Ready", "status": "True", "reason": "VaultVerified", "message": "Vault verified",
        }]});
    });
    let (code, v) = verify();
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(issuer_row(&v)["detail"], "Ready");

    fake.remove("ClusterIssuer", "", "vault-issuer");
    let (code, v) = verify();
    assert_eq!(code, Some(1));
    assert!(issuer_row(&v)["detail"]
        .as_str()
        .unwrap()
        .starts_with("not found"));
}
