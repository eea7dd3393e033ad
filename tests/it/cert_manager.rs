//! `generate` with an intermediate CA and cert-manager's Vault issuer: the tree (snapshot),
//! and every Issuer and ClusterIssuer checked against the upstream CRD's schema (a copy in
//! fixtures/crds/: unknown fields, types, enums and required fields, as the API server does).

use crate::support::common::*;
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

/// The `openAPIV3Schema` of the served version of a CRD in fixtures/crds/.
fn crd_schema(file: &str) -> (String, String, Value) {
    let text = std::fs::read_to_string(fixture(&format!("crds/{file}"))).unwrap();
    let crd: Value = serde_yaml::from_str(&text).unwrap();
    let version = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["served"] == true && v["storage"] == true)
        .unwrap();
    (
        format!(
            "{}/{}",
            crd["spec"]["group"].as_str().unwrap(),
            version["name"].as_str().unwrap()
        ),
        crd["spec"]["names"]["kind"].as_str().unwrap().to_string(),
        version["schema"]["openAPIV3Schema"].clone(),
    )
}

/// What a structural schema refuses in `v` (the API server's pruning would drop unknown
/// fields silently; here they are errors). `metadata` is the API server's own.
fn schema_problems(v: &Value, schema: &Value, at: &str, out: &mut Vec<String>) {
    if at == ".metadata" {
        return;
    }
    let ty = schema["type"].as_str().unwrap_or_default();
    let ok = match (ty, v) {
        ("object", Value::Object(_))
        | ("array", Value::Array(_))
        | ("string", Value::String(_))
        | ("boolean", Value::Bool(_)) => true,
        ("integer", Value::Number(n)) => n.is_i64(),
        ("number", Value::Number(_)) => true,
        ("", _) => true,
        _ => false,
    };
    if !ok {
        out.push(format!("{at}: {v} is not of type {ty}"));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(v) {
            out.push(format!("{at}: {v} is not one of {allowed:?}"));
        }
    }
    match v {
        Value::Object(map) => {
            for r in schema["required"].as_array().into_iter().flatten() {
                let r = r.as_str().unwrap();
                if !map.contains_key(r) {
                    out.push(format!("{at}: the required field `{r}` is missing"));
                }
            }
            let open = schema["x-kubernetes-preserve-unknown-fields"] == true;
            for (k, child) in map {
                let path = format!("{at}.{k}");
                match schema["properties"].get(k) {
                    Some(s) => schema_problems(child, s, &path, out),
                    None if schema["additionalProperties"].is_object() => {
                        schema_problems(child, &schema["additionalProperties"], &path, out)
                    }
                    None if open => {}
                    None => out.push(format!("{path}: unknown field")),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                schema_problems(item, &schema["items"], &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Every document of `kind` in the tree, with the problems the CRD finds in it.
fn check_kind(
    tree: &std::collections::BTreeMap<String, String>,
    crd: &str,
) -> Vec<(Value, Vec<String>)> {
    let (api_version, kind, schema) = crd_schema(crd);
    let mut found = vec![];
    for (path, text) in tree {
        if !path.ends_with(".yaml") {
            continue;
        }
        for doc in serde_yaml::Deserializer::from_str(text) {
            let v: Value = serde::Deserialize::deserialize(doc).unwrap();
            if v["kind"] == kind.as_str() {
                assert_eq!(v["apiVersion"], api_version.as_str(), "{path}");
                let mut problems = vec![];
                schema_problems(&v, &schema, "", &mut problems);
                found.push((v, problems));
            }
        }
    }
    found
}

#[test]
fn issuers_match_the_upstream_crds() {
    let tree = generate_text(&fixture_text());
    let found = check_kind(&tree, "cert-manager/cert-manager.io_clusterissuers.yaml");
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
    let found = check_kind(&tree, "cert-manager/cert-manager.io_issuers.yaml");
    assert_eq!(found.len(), 1);
    let (issuer, problems) = &found[0];
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(issuer["metadata"]["namespace"], "shop");
    // Its ServiceAccount, token-request Role and CA carrier live in the Issuer's namespace,
    // and the Vault role is bound to it with the audience cert-manager requests.
    let rbac = &tree["apps/lab/cert-manager-token-request.yaml"];
    assert!(rbac.contains("namespace: shop"), "{rbac}");
    assert!(tree.contains_key("apps/lab/cert-manager-vault-ca.yaml"));
    assert!(!tree.contains_key("apps/lab/cert-manager-namespace.yaml"));
    let script = &tree["vault-config/lab/configure.sh"];
    assert!(
        script.contains("bound_service_account_namespaces=shop \\\n  token_policies=lab-cert-manager-vault-issuer \\\n  audience=vault://shop/vault-issuer"),
        "{script}"
    );

    // The check itself refuses what the CRD does not have.
    let (_, _, schema) = crd_schema("cert-manager/cert-manager.io_issuers.yaml");
    let mut bad = issuer.clone();
    bad["spec"]["vault"]["tlsSkipVerify"] = true.into();
    bad["spec"]["vault"]["auth"]["kubernetes"]
        .as_object_mut()
        .unwrap()
        .remove("role");
    let mut problems = vec![];
    schema_problems(&bad, &schema, "", &mut problems);
    assert_eq!(
        problems,
        [
            ".spec.vault.auth.kubernetes: the required field `role` is missing",
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
