//! `verify` on a tree without VSO (ESO apps only, no `operator.chart`): it checks the ESO
//! chain and looks for nothing of VSO (no VaultConnection, no VSO release, no VSO list), with
//! a constant number of requests, fewer than the same apps beside an installed VSO.

use super::*;
use base64::Engine;

/// The OpenBao starter with `apps` ESO apps (one secret each), and `operator.chart` when
/// `vso` (VSO installed, no app using it).
fn spec(dir: &std::path::Path, apps: usize, vso: bool) -> std::path::PathBuf {
    spec_on(dir, apps, vso, false)
}

/// [`spec`], on Argo CD when `argocd`.
fn spec_on(dir: &std::path::Path, apps: usize, vso: bool, argocd: bool) -> std::path::PathBuf {
    let mut text = std::fs::read_to_string(fixture("starter-openbao.yaml")).unwrap();
    if argocd {
        let (start, end) = (
            text.find("gitops:").unwrap(),
            text.find("\nvault:\n").unwrap(),
        );
        text = format!(
            "{}gitops:\n  engine: argocd\n  repoURL: https://git.example.com/platform/gitops.git\n{}",
            &text[..start],
            &text[end..]
        );
    }
    let start = text.find("\napps:\n").unwrap();
    let end = text.find("\nvaultConfig:").unwrap();
    let mut list = String::from("\napps:\n");
    for i in 0..apps {
        list.push_str(&format!(
            "  - name: web{i}\n    namespace: app\n    serviceAccount: web{i}\n    consumer: eso\n    secrets:\n      - name: web{i}-config\n        kv: kvv2/web{i}/config\n"
        ));
    }
    let operator = if vso {
        "\noperator:\n  chart:\n    version: 1.4.1\n"
    } else {
        ""
    };
    let path = dir.join(format!("vault-{apps}-{vso}-{argocd}.yaml"));
    std::fs::write(
        &path,
        format!("{}{operator}{list}{}", &text[..start], &text[end..]),
    )
    .unwrap();
    path
}

/// A cluster in which Flux applied the tree of `spec` and ESO synced every ExternalSecret.
fn synced_eso(spec: &std::path::Path, apps: usize) -> FakeApiServer {
    let fake = FakeApiServer::start();
    cluster_state::synced(&fake, spec);
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for i in 0..apps {
        let name = format!("web{i}-config");
        fake.modify("ExternalSecret", "app", &name, |o| {
            o["status"] = json!({"conditions": [{"type": "Ready", "status": "True", "reason": "SecretSynced",
                "message": "secret synced", "lastTransitionTime": "2026-11-01T00:00:00Z"}],
                "refreshTime": "2026-11-01T00:00:00Z"})
        });
        let uid = cluster_state::uid_of(&fake, "ExternalSecret", "app", &name);
        fake.add(json!({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": "app",
                "labels": {"reconcile.external-secrets.io/managed": "true"},
                "ownerReferences": [{"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "name": name, "uid": uid, "controller": true}]},
            "data": {"token": b64("v")},
        }));
    }
    fake
}

/// `verify -o json` of `spec` against `fake`: exit code, report, the requests made.
fn run_verify(
    fake: &FakeApiServer,
    dir: &std::path::Path,
    spec: &std::path::Path,
) -> (Option<i32>, Value, Vec<String>) {
    let kubeconfig = fake.write_kubeconfig(dir, "homelab");
    let (code, v) = verify_json(spec, &kubeconfig, &["--revision", &REVISION[..7]]);
    (code, v, fake.requests())
}

#[test]
fn an_eso_only_tree_verifies_without_any_vso_object_and_lists_nothing_of_vso() {
    let dir = tempfile::tempdir().unwrap();
    let mut counts = vec![];
    for apps in [1, 3] {
        let spec = spec(dir.path(), apps, false);
        let fake = synced_eso(&spec, apps);
        // Nothing of VSO in the cluster: the tree has none to apply.
        assert!(fake.requests().is_empty());
        let (code, v, requests) = run_verify(&fake, dir.path(), &spec);
        assert_eq!(code, Some(0), "{v:#}\n{requests:#?}");
        assert_eq!(v["synced"], apps, "{v:#}");
        assert_eq!(v["total"], apps, "{v:#}");
        for r in v["secrets"].as_array().unwrap() {
            assert_eq!(r["kind"], "ExternalSecret", "{r}");
        }
        let flux = v["flux"].to_string();
        assert!(flux.contains("vault-apps-eso"), "{flux}");
        assert!(flux.contains("external-secrets"), "{flux}");
        assert!(!flux.contains("vault-secrets-operator"), "{flux}");
        assert!(!flux.contains("\"vault-apps\""), "{flux}");
        let all = requests.join("\n");
        assert!(!all.contains("secrets.hashicorp.com"), "{all}");
        assert!(!all.contains("vault-secrets-operator"), "{all}");
        assert!(!all.contains("hashicorp-vso"), "{all}");
        counts.push(requests.len());
    }
    // Constant: as many requests for three apps as for one.
    assert_eq!(counts[0], counts[1], "{counts:?}");
    // Flux's Kustomizations and HelmReleases, the ServiceAccounts, the Warning events, the
    // Vault pods, then ESO's stores and ExternalSecrets: 7 (14 beside an installed VSO).
    assert_eq!(counts, [7, 7]);

    // The same apps beside an installed VSO (`operator.chart`, no app using it) cost more
    // requests: its VaultConnection, VaultAuths, three secret kinds and their Secrets, its CA.
    let spec = spec(dir.path(), 1, true);
    let fake = synced_eso(&spec, 1);
    let (code, v, requests) = run_verify(&fake, dir.path(), &spec);
    assert_eq!(code, Some(0), "{v:#}\n{requests:#?}");
    assert!(requests.join("\n").contains("secrets.hashicorp.com"));
    assert!(
        counts[0] < requests.len(),
        "without VSO {} requests, with it {}",
        counts[0],
        requests.len()
    );
    assert_eq!(requests.len() - counts[0], 7, "{requests:#?}");
}

/// On Argo CD: no VSO Application to find, the ESO ones synced, nothing of VSO listed.
#[test]
fn an_eso_only_tree_on_argocd_verifies_without_a_vso_application() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_on(dir.path(), 2, false, true);
    let fake = synced_eso(&spec, 2);
    let (code, v, requests) = run_verify(&fake, dir.path(), &spec);
    assert_eq!(code, Some(0), "{v:#}\n{requests:#?}");
    assert_eq!(v["synced"], 2, "{v:#}");
    let flux = v["flux"].to_string();
    assert!(flux.contains("Application"), "{flux}");
    assert!(!flux.contains("vault-secrets-operator"), "{flux}");
    let all = requests.join("\n");
    assert!(all.contains("/namespaces/argocd/applications"), "{all}");
    assert!(!all.contains("secrets.hashicorp.com"), "{all}");
    // The Applications instead of Kustomizations and HelmReleases: one fewer.
    assert_eq!(requests.len(), 6, "{requests:#?}");
}
