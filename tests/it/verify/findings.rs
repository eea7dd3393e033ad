//! What `verify` finds in a cluster: everything synced (table and JSON), Flux behind the
//! commit, missing or invalid CRs, missing keys, expired leases and certificates, drift and
//! sync failures with their events, and `--wait` until synced.

use super::*;

#[test]
fn all_synced_exits_0_with_a_constant_number_of_requests() {
    let s = synced_cluster();
    let o = s.verify(&["--revision", &REVISION[..7]]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    s.stable()
        .bind(|| insta::assert_snapshot!("table_all_synced", out));
    // One list per kind: 11 kinds (the Vault pods too), whatever the number of secrets.
    assert_eq!(s.fake.request_count(), 11, "{:#?}", s.fake.requests());
    // Never a value: the fixtures' secret data must not appear, not even base64-encoded.
    for needle in [
        "s3cret-api-key",
        "A1a-generated-password",
        "czNjcmV0",
        "BEGIN",
    ] {
        assert!(
            !out.contains(needle) && !stderr(&o).contains(needle),
            "leaked {needle}"
        );
    }
}

#[test]
fn json_output_has_the_same_content_and_key_names_only() {
    let s = synced_cluster();
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(0));
    assert_eq!(v["synced"], 3);
    assert_eq!(v["total"], 3);
    assert_eq!(v["ok"], true);
    assert_eq!(
        row(&v, "app-db-creds")["keys"],
        json!(["_raw", "password", "username"])
    );
    assert_eq!(row(&v, "webapp-tls")["status"], "Synced");
    assert!(v["apiRequests"].as_u64().unwrap() <= 11);
    let text = v.to_string();
    assert!(!text.contains("A1a-generated-password") && !text.contains("QTFh"));
    s.stable().bind(|| {
        insta::assert_snapshot!("json_all_synced", serde_json::to_string_pretty(&v).unwrap())
    });
}

#[test]
fn flux_not_yet_at_the_commit() {
    let s = synced_cluster();
    let (code, v) = s.json(&["--revision", "0123456789abcdef"]);
    assert_eq!(code, Some(1));
    let ks = v["flux"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "vault-apps")
        .unwrap();
    assert_eq!(ks["ok"], false);
    assert!(
        ks["detail"]
            .as_str()
            .unwrap()
            .contains("expected 0123456789abcdef"),
        "{ks}"
    );
    assert_eq!(row(&v, "app-kvv2-secret")["status"], "NotApplied");
}

#[test]
fn a_missing_cr_is_reported() {
    let s = synced_cluster();
    s.fake.remove("VaultStaticSecret", "app", "app-kvv2-secret");
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(1));
    let r = row(&v, "app-kvv2-secret");
    assert_eq!(r["status"], "Missing");
    assert!(r["detail"]
        .as_str()
        .unwrap()
        .contains("VaultStaticSecret app/app-kvv2-secret not found"));
    assert_eq!(row(&v, "app-db-creds")["status"], "Synced");
}

#[test]
fn an_invalid_vault_auth_is_reported_with_its_error() {
    let s = synced_cluster();
    s.fake.modify("VaultAuth", "app", "webapp", |o| {
        o["status"] = json!({"valid": false, "error": "Error making API request. URL: PUT http://vault.vault.svc.cluster.local:8200/v1/auth/kubernetes/login Code: 403. Errors: * permission denied"});
    });
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(1));
    for name in ["app-kvv2-secret", "app-db-creds", "webapp-tls"] {
        let r = row(&v, name);
        assert_eq!(r["status"], "AuthInvalid");
        assert!(
            r["detail"]
                .as_str()
                .unwrap()
                .contains("VaultAuth app/webapp is not valid")
                && r["detail"].as_str().unwrap().contains("permission denied"),
            "{r}"
        );
    }
}

#[test]
fn a_secret_missing_a_key() {
    let s = synced_cluster();
    s.fake.modify("Secret", "app", "app-db-creds", |o| {
        o["data"].as_object_mut().unwrap().remove("password");
    });
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(1));
    let r = row(&v, "app-db-creds");
    assert_eq!(r["status"], "MissingKeys");
    assert!(
        r["detail"].as_str().unwrap().contains("lacks password"),
        "{r}"
    );
    assert_eq!(r["keys"], json!(["_raw", "username"]));
}

#[test]
fn an_expired_dynamic_lease() {
    let s = synced_cluster();
    let t = cluster_state::now();
    s.fake
        .modify("VaultDynamicSecret", "app", "app-db-creds", |o| {
            o["status"]["lastRenewalTime"] = json!(t - 7200);
            o["status"]["secretLease"]["duration"] = json!(60);
        });
    cluster_state::warning_event(
        &s.fake,
        "VaultDynamicSecret",
        "app",
        "app-db-creds",
        "VaultClientError",
        "failed to renew the lease",
    );
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(1));
    let r = row(&v, "app-db-creds");
    assert_eq!(r["status"], "Expired");
    assert!(
        r["detail"].as_str().unwrap().contains("the lease ran out"),
        "{r}"
    );
}

#[test]
fn an_expired_certificate() {
    let s = synced_cluster();
    let t = cluster_state::now();
    let (cert, _) =
        cluster_state::certificate("webapp.app.svc.cluster.local", t - 96 * 3600, t - 3600);
    use base64::Engine;
    let b = base64::engine::general_purpose::STANDARD.encode(cert);
    s.fake.modify("Secret", "app", "webapp-tls", |o| {
        o["data"]["tls.crt"] = json!(b)
    });
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(1));
    let r = row(&v, "webapp-tls");
    assert_eq!(r["status"], "Expired");
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .contains("the certificate expired"),
        "{r}"
    );
}

#[test]
fn a_drifted_cr_spec_and_a_sync_failure_with_its_event() {
    let s = synced_cluster();
    s.fake
        .modify("VaultStaticSecret", "app", "app-kvv2-secret", |o| {
            o["spec"]["path"] = json!("webapp/other")
        });
    s.fake.modify("VaultPKISecret", "app", "webapp-tls", |o| {
        o["status"]["conditions"][1] = json!({"type": "SecretSynced", "status": "False", "reason": "VaultClientError", "message": "failed to issue the certificate", "lastTransitionTime": "2026-11-22T00:00:00Z"});
    });
    cluster_state::warning_event(
        &s.fake,
        "VaultPKISecret",
        "app",
        "webapp-tls",
        "VaultClientError",
        "Code: 400. Errors: * common name not allowed by this role",
    );
    let o = s.verify(&[]);
    assert_eq!(o.status.code(), Some(1));
    s.stable().bind(|| {
        insta::assert_snapshot!("table_drifted_and_not_synced", stdout(&o));
        insta::assert_snapshot!("table_drifted_and_not_synced_stderr", stderr(&o));
    });
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(1));
    s.stable().bind(|| {
        insta::assert_snapshot!(
            "json_drifted_and_not_synced",
            serde_json::to_string_pretty(&v).unwrap()
        )
    });
    let r = row(&v, "app-kvv2-secret");
    assert_eq!(r["status"], "Drifted");
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .contains("spec.path: want \"webapp/config\", have \"webapp/other\""),
        "{r}"
    );
    let r = row(&v, "webapp-tls");
    assert_eq!(r["status"], "NotSynced");
    let d = r["detail"].as_str().unwrap();
    assert!(
        d.contains("SecretSynced=False") && d.contains("common name not allowed"),
        "{r}"
    );
}

/// A drifted value with multi-byte characters around the cut of a long detail does not
/// panic (the detail is cut at a character boundary).
#[test]
fn a_drifted_non_ascii_value_is_cut_safely() {
    let s = synced_cluster();
    let long = format!("{}{}", "x".repeat(70), "é".repeat(40));
    s.fake
        .modify("VaultStaticSecret", "app", "app-kvv2-secret", |o| {
            o["spec"]["path"] = json!(long)
        });
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(1));
    let r = row(&v, "app-kvv2-secret");
    assert_eq!(r["status"], "Drifted");
    assert!(r["detail"].as_str().unwrap().contains('…'), "{r}");
}

#[test]
fn a_missing_ca_secret_is_named_as_the_cause_of_an_invalid_connection() {
    // The example with TLS on and the CA named explicitly: VSO reads `ca.crt` of
    // vault-secrets-operator/vault-ca, which nobody has created.
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("vault.yaml");
    let text = std::fs::read_to_string(fixture("example.yaml"))
        .unwrap()
        .replace("  tls: false ", "  tls: vault-tls ")
        .replace(
            "  namespace: vault-secrets-operator\n",
            "  namespace: vault-secrets-operator\n  caCertSecret: vault-ca\n",
        );
    assert!(text.contains("caCertSecret: vault-ca") && text.contains("tls: vault-tls"));
    std::fs::write(&spec, text).unwrap();
    let s = synced_with(FakeApiServer::start(), dir, spec);
    s.fake
        .modify("VaultConnection", "vault-secrets-operator", "vault", |o| {
            o["status"] = json!({"valid": false});
        });
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(1));
    let detail = row(&v, "app-kvv2-secret")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains("VaultConnection vault-secrets-operator/vault is not valid")
            && detail.contains(
                "cause: the CA Secret vault-secrets-operator/vault-ca it trusts does not exist"
            ),
        "{detail}"
    );

    // With the CA in place the cause is no longer claimed (VSO's own state is what is left).
    s.fake.add(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "vault-ca", "namespace": "vault-secrets-operator", "uid": "ca-1"},
        "data": {"ca.crt": "LS0tLS1CRUdJTi0tLS0t"}
    }));
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(1));
    let detail = row(&v, "app-kvv2-secret")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains("is not valid") && !detail.contains("cause:"),
        "{detail}"
    );
}

#[test]
fn wait_polls_until_synced() {
    let s = synced_cluster();
    s.fake
        .modify("VaultStaticSecret", "app", "app-kvv2-secret", |o| {
            o["status"]["lastGeneration"] = json!(0)
        });
    let fake_state = std::sync::Arc::new(s);
    let flip = {
        let s = fake_state.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(3));
            s.fake
                .modify("VaultStaticSecret", "app", "app-kvv2-secret", |o| {
                    o["status"]["lastGeneration"] = json!(1)
                });
        })
    };
    let o = fake_state.verify(&["--wait", "--timeout", "60s"]);
    flip.join().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("waiting: 2/3 synced, pending: 1 NotReconciled"),
        "{}",
        stderr(&o)
    );
}
