//! Clusters that bring their own controllers (`externalSecrets` / `csiDriver` with
//! `install: false`) and their own namespaces (`gitops.createNamespaces: false`), and the Flux
//! stages that keep one consumer's failure from holding back the apps of another.
//!
//! No Flux runs here. What Flux does with the graph is read in kustomize-controller
//! (`fluxcd/kustomize-controller`, internal/controller/kustomization_controller.go at
//! 186fb3b, 2026-08-01): `checkDependencies` refuses to reconcile a Kustomization while any
//! `dependsOn` entry is missing ("dependency '<ns>/<name>' not found"), not Ready, or has not
//! applied the current revision of the same source ("dependency ... is not ready"); the
//! reconciliation is then retried after `retryInterval`. Nothing else orders Kustomizations.
//! So what can hold back a stage is exactly its transitive `dependsOn`: the tests assert that
//! closure. The folders themselves are built with the real kustomize (`kubectl kustomize`).

use crate::support::common::*;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};

/// Generates `fixture_name` into `out` and returns the tree.
fn generate_into(fixture_name: &str, out: &std::path::Path) -> BTreeMap<String, String> {
    let o = run(&[
        "generate",
        "-f",
        fixture(fixture_name).to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "generate failed: {}", stderr(&o));
    read_tree(out)
}

fn generate(fixture_name: &str) -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    generate_into(fixture_name, &dir.path().join("gitops"))
}

fn yaml(body: &str) -> Json {
    serde_yaml::from_str(body).unwrap()
}

/// Every document of a file.
fn documents(body: &str) -> Vec<Json> {
    serde_yaml::Deserializer::from_str(body)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect()
}

/// The Flux graph of a tree: each stage (a Kustomization in `clusters/<cluster>/`) with its
/// path and its `dependsOn`, as `namespace/name`.
fn graph(
    tree: &BTreeMap<String, String>,
    cluster: &str,
) -> BTreeMap<String, (String, Vec<String>)> {
    tree.iter()
        .filter(|(p, _)| p.starts_with(&format!("clusters/{cluster}/")))
        .map(|(_, body)| {
            let k = yaml(body);
            let own = k["metadata"]["namespace"].as_str().unwrap().to_string();
            let deps = k["spec"]["dependsOn"]
                .as_array()
                .map(|d| {
                    d.iter()
                        .map(|d| {
                            let ns = d["namespace"].as_str().unwrap_or(&own);
                            format!("{ns}/{}", d["name"].as_str().unwrap())
                        })
                        .collect()
                })
                .unwrap_or_default();
            let path = k["spec"]["path"].as_str().unwrap().to_string();
            (
                k["metadata"]["name"].as_str().unwrap().to_string(),
                (path, deps),
            )
        })
        .collect()
}

/// Everything that can hold back `stage`: its transitive `dependsOn`.
fn held_back_by(g: &BTreeMap<String, (String, Vec<String>)>, stage: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo = vec![format!("flux-system/{stage}")];
    while let Some(s) = todo.pop() {
        let name = s.strip_prefix("flux-system/").unwrap_or(&s);
        for d in g.get(name).map(|(_, d)| d.clone()).unwrap_or_default() {
            if out.insert(d.clone()) {
                todo.push(d);
            }
        }
    }
    out
}

fn deps(g: &BTreeMap<String, (String, Vec<String>)>, stage: &str) -> Vec<String> {
    g.get(stage)
        .unwrap_or_else(|| panic!("no stage {stage}: {:?}", g.keys()))
        .1
        .clone()
}

#[test]
fn bring_your_own_tree_snapshot() {
    insta::assert_snapshot!(
        "bring_your_own",
        tree_text(&generate("bring-your-own.yaml"))
    );
}

/// The tree installs ESO and the CSI driver (consumers.yaml): each consumer's apps are a
/// stage of their own and wait only for their own controller.
#[test]
fn each_consumer_s_apps_wait_only_for_what_that_consumer_needs() {
    let g = graph(&generate("consumers.yaml"), "shop");
    let stages: Vec<&str> = g.keys().map(String::as_str).collect();
    assert_eq!(
        stages,
        [
            "vault",
            "vault-apps",
            "vault-apps-csi",
            "vault-apps-eso",
            "vault-apps-injector",
            "vault-csi-driver",
            "vault-external-secrets",
            "vault-namespaces",
            "vault-secrets-operator",
        ]
    );
    assert_eq!(
        deps(&g, "vault-apps"),
        [
            "flux-system/vault-secrets-operator",
            "flux-system/vault-namespaces"
        ]
    );
    assert_eq!(
        deps(&g, "vault-apps-injector"),
        ["flux-system/vault", "flux-system/vault-namespaces"]
    );
    assert_eq!(
        deps(&g, "vault-apps-csi"),
        [
            "flux-system/vault",
            "flux-system/vault-csi-driver",
            "flux-system/vault-namespaces"
        ]
    );
    assert_eq!(
        deps(&g, "vault-apps-eso"),
        [
            "flux-system/vault",
            "flux-system/vault-external-secrets",
            "flux-system/vault-namespaces"
        ]
    );
    // ESO needs nothing of Vault to install; the driver runs in Vault's namespace.
    assert!(deps(&g, "vault-external-secrets").is_empty());
    assert_eq!(deps(&g, "vault-csi-driver"), ["flux-system/vault"]);
    assert!(deps(&g, "vault-namespaces").is_empty());

    // A failing ESO install (e.g. the CRD ownership conflict on a cluster with a managed ESO)
    // holds back the eso apps only; a failing driver, the csi apps only.
    let eso = [
        "flux-system/vault-external-secrets",
        "flux-system/vault-apps-eso",
    ];
    let csi = ["flux-system/vault-csi-driver", "flux-system/vault-apps-csi"];
    for (stage, not) in [
        ("vault-apps", [&eso[..], &csi[..]].concat()),
        ("vault-apps-injector", [&eso[..], &csi[..]].concat()),
        (
            "vault-apps-eso",
            [&csi[..], &["flux-system/vault-secrets-operator"][..]].concat(),
        ),
        (
            "vault-apps-csi",
            [&eso[..], &["flux-system/vault-secrets-operator"][..]].concat(),
        ),
    ] {
        let by = held_back_by(&g, stage);
        for n in not {
            assert!(!by.contains(n), "{stage} waits for {n}: {by:?}");
        }
    }
    // The namespaces stage is Ready once applied (a CA carrier's health is its consumer's);
    // every other stage waits for what it applied to be healthy.
    let tree = generate("consumers.yaml");
    for (name, (_, _)) in &g {
        let k = yaml(&tree[&format!("clusters/shop/{name}.yaml")]);
        assert_eq!(k["spec"]["wait"], *name != "vault-namespaces", "{name}");
    }
}

/// ESO and the CSI driver brought by the cluster (bring-your-own.yaml): no release of
/// either, the eso apps wait for the platform's Kustomization, the csi apps (a managed
/// add-on: nothing to wait for) only for Vault.
#[test]
fn controllers_the_cluster_brings_are_not_installed_and_their_apps_wait_for_the_user_s_kustomizations(
) {
    let tree = generate("bring-your-own.yaml");
    let g = graph(&tree, "edge");
    assert!(!g.contains_key("vault-external-secrets") && !g.contains_key("vault-csi-driver"));
    assert_eq!(
        deps(&g, "vault-apps-eso"),
        [
            "flux-system/vault",
            "platform/external-secrets",
            "flux-system/vault-namespaces"
        ]
    );
    assert_eq!(
        deps(&g, "vault-apps-csi"),
        ["flux-system/vault", "flux-system/vault-namespaces"]
    );
    assert!(!held_back_by(&g, "vault-apps").contains("platform/external-secrets"));
    // Neither chart is anywhere in the tree; Vault's own CSI provider still runs (the
    // cluster's driver talks to it through the node's provider socket).
    for (path, body) in tree.iter().filter(|(p, _)| p.ends_with(".yaml")) {
        for d in documents(body) {
            if matches!(d["kind"].as_str(), Some("HelmRepository" | "HelmRelease")) {
                let name = d["metadata"]["name"].as_str().unwrap();
                assert!(
                    !name.contains("external-secrets") && !name.contains("csi"),
                    "{path}: {name}"
                );
            }
        }
    }
    let vault = yaml(&tree["infrastructure/edge/vault/helmrelease.yaml"]);
    assert_eq!(vault["spec"]["values"]["csi"]["enabled"], true);
    // createNamespaces: false: no Namespace object but the infrastructure's own.
    let mut namespaces: Vec<String> = tree
        .iter()
        .filter(|(p, _)| p.ends_with(".yaml"))
        .flat_map(|(_, b)| documents(b))
        .filter(|d| d["kind"] == "Namespace")
        .map(|d| d["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    namespaces.sort();
    assert_eq!(namespaces, ["vault", "vault-secrets-operator"]);
    // The CA carrier of the eso app's namespace is still the tree's.
    assert!(tree.contains_key("apps/edge/_vault-namespaces/billing-vault-ca.yaml"));
}

/// Every stage's folder builds with the real kustomize, and no object is in two stages: two
/// Kustomizations applying one object fight over it, and one's garbage collection can delete
/// it under the other (fluxcd/kustomize-controller#1724 for a Namespace).
#[test]
fn every_stage_builds_with_real_kustomize_and_no_object_is_in_two_stages() {
    use crate::support::servers::{find_tool, require};
    let Some(kubectl) = require(find_tool("KUBECTL", "kubectl"), "kubectl") else {
        return;
    };
    for (fixture_name, cluster) in [
        ("consumers.yaml", "shop"),
        ("bring-your-own.yaml", "edge"),
        ("example.yaml", "homelab"),
        ("pki-intermediate.yaml", "lab"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("gitops");
        let tree = generate_into(fixture_name, &out);
        let mut owner: BTreeMap<(String, String, String), String> = BTreeMap::new();
        let mut stage_of_namespace = BTreeMap::new();
        for (stage, (path, _)) in graph(&tree, cluster) {
            let o = std::process::Command::new(&kubectl)
                .args(["kustomize"])
                .arg(out.join(path.trim_start_matches("./")))
                .output()
                .unwrap();
            assert!(o.status.success(), "{fixture_name} {stage}: {}", stderr(&o));
            for doc in serde_yaml::Deserializer::from_slice(&o.stdout) {
                let v: Json = serde::Deserialize::deserialize(doc).unwrap();
                let id = (
                    v["kind"].as_str().unwrap().to_string(),
                    v["metadata"]["namespace"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    v["metadata"]["name"].as_str().unwrap().to_string(),
                );
                if id.0 == "Namespace" {
                    stage_of_namespace.insert(id.2.clone(), stage.clone());
                }
                if let Some(first) = owner.insert(id.clone(), stage.clone()) {
                    panic!("{fixture_name}: {id:?} is in {first} and in {stage}");
                }
            }
        }
        // The app namespaces are the namespaces stage's alone (none at all without
        // createNamespaces); Vault's and the operator's are their stages'.
        for (ns, stage) in &stage_of_namespace {
            let want = match ns.as_str() {
                "vault" => "vault",
                "vault-secrets-operator" => "vault-secrets-operator",
                "external-secrets" => "vault-external-secrets",
                _ => "vault-namespaces",
            };
            assert_eq!(stage, want, "{fixture_name}: Namespace {ns}");
        }
        if fixture_name == "bring-your-own.yaml" {
            assert_eq!(
                stage_of_namespace.keys().collect::<Vec<_>>(),
                ["vault", "vault-secrets-operator"]
            );
        }
    }
}

/// The ESO chart's values the tree writes, with the spec's merged over them, are what the
/// chart's own values schema accepts (fixtures/charts/, external-secrets v2.9.0); the CRDs
/// keep Helm's resource policy, so uninstalling the release (the tree stops installing ESO, or
/// a release moves between stages) cannot delete every ExternalSecret and the Secrets they own.
#[test]
fn eso_values_are_merged_over_the_tree_s_and_pass_the_chart_s_schema() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("vault.yaml");
    let text = std::fs::read_to_string(fixture("consumers.yaml"))
        .unwrap()
        .replace(
            "apps:\n",
            "externalSecrets:\n  chart: {version: 2.9.0, repository: https://charts.example.com/eso}\n  installCRDs: false\n  dependsOn: [platform/eso-crds]\n  values:\n    replicaCount: 2\n    crds:\n      annotations: {team: platform}\ncsiDriver:\n  values:\n    linux:\n      providersDir: /var/run/secrets-store-csi-providers\napps:\n",
        );
    std::fs::write(&spec, text).unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "-f",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let tree = read_tree(&out);
    let release = yaml(&tree["infrastructure/shop/vault-external-secrets/helmrelease.yaml"]);
    let values = &release["spec"]["values"];
    assert_eq!(values["installCRDs"], false);
    assert_eq!(values["replicaCount"], 2);
    assert_eq!(values["crds"]["annotations"]["team"], "platform");
    let repo = yaml(&tree["infrastructure/shop/vault-external-secrets/helmrepository.yaml"]);
    assert_eq!(repo["spec"]["url"], "https://charts.example.com/eso");
    // The CRDs' Kustomization comes before the install (and so before the eso apps).
    let g = graph(&tree, "shop");
    assert_eq!(deps(&g, "vault-external-secrets"), ["platform/eso-crds"]);
    assert!(held_back_by(&g, "vault-apps-eso").contains("platform/eso-crds"));
    let schema: Json = serde_json::from_str(
        &std::fs::read_to_string(fixture("charts/external-secrets-2.9.0.values.schema.json"))
            .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(values)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    // The default install: CRDs by the chart, kept by Helm.
    let default = yaml(
        &generate("consumers.yaml")["infrastructure/shop/vault-external-secrets/helmrelease.yaml"],
    );
    let values = &default["spec"]["values"];
    assert_eq!(values["installCRDs"], true);
    assert_eq!(
        values["crds"]["annotations"]["helm.sh/resource-policy"],
        "keep"
    );
    assert!(validator.iter_errors(values).next().is_none());
    // The schema check is not vacuous.
    assert!(validator
        .iter_errors(&serde_json::json!({"replicaCount": "two"}))
        .next()
        .is_some());
    // The driver's values: the spec's beside the tree's.
    let csi = yaml(&tree["infrastructure/shop/vault-csi-driver/helmrelease.yaml"]);
    assert_eq!(
        csi["spec"]["values"]["linux"]["providersDir"],
        "/var/run/secrets-store-csi-providers"
    );
    assert_eq!(csi["spec"]["values"]["syncSecret"]["enabled"], true);
}

// ---------- verify names what the cluster must bring (the fake API server) ----------

mod verify {
    use crate::support::cluster_state::{self, uid_of, REVISION};
    use crate::support::common::*;
    use crate::support::fake_apiserver::FakeApiServer;
    use base64::Engine;
    use serde_json::{json, Value};

    struct Setup {
        fake: FakeApiServer,
        _dir: tempfile::TempDir,
        kubeconfig: std::path::PathBuf,
    }

    fn ready(status: &str) -> Value {
        json!({"type": "Ready", "status": status, "reason": "R", "message": "m",
               "lastTransitionTime": "2026-11-01T00:00:00Z"})
    }

    /// bring-your-own.yaml with everything in place: the tree applied and synced, the
    /// platform's ESO Kustomization Ready, ESO synced its ExternalSecret, the add-on driver
    /// mounted the CSI volume, and the apps' own Kustomizations created their namespaces.
    fn synced() -> Setup {
        let fake = FakeApiServer::start();
        cluster_state::synced(&fake, &fixture("bring-your-own.yaml"));
        fake.add(json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "external-secrets", "namespace": "platform", "generation": 1},
            "spec": {"interval": "10m", "path": "./platform/eso", "prune": true,
                     "sourceRef": {"kind": "GitRepository", "name": "platform"}},
            "status": {"observedGeneration": 1, "conditions": [ready("True")]},
        }));
        fake.modify("ExternalSecret", "billing", "billing-config", |o| {
            o["status"] =
                json!({"conditions": [ready("True")], "refreshTime": "2026-11-01T00:00:00Z"})
        });
        let uid = uid_of(&fake, "ExternalSecret", "billing", "billing-config");
        fake.add(json!({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "billing-config", "namespace": "billing",
                "labels": {"reconcile.external-secrets.io/managed": "true"},
                "ownerReferences": [{"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "name": "billing-config", "uid": uid, "controller": true}]},
            "data": {"url": base64::engine::general_purpose::STANDARD.encode("https://billing")},
        }));
        fake.add(json!({
            "apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClassPodStatus",
            "metadata": {"name": "search-0-search-search-api", "namespace": "search"},
            "status": {"mounted": true, "podName": "search-0", "secretProviderClassName": "search-api",
                       "targetPath": "/var/lib/kubelet/pods/x/volumes/kubernetes.io~csi/secrets/mount"},
        }));
        for ns in ["shop", "billing", "search"] {
            fake.add(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
        }
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = fake.write_kubeconfig(dir.path(), "edge");
        Setup {
            fake,
            _dir: dir,
            kubeconfig,
        }
    }

    impl Setup {
        fn run(&self, extra: &[&str]) -> std::process::Output {
            let revision = ["--revision", &REVISION[..7]];
            verify(
                &fixture("bring-your-own.yaml"),
                &self.kubeconfig,
                &[&revision[..], extra].concat(),
            )
        }

        fn json(&self) -> (Option<i32>, Value) {
            let o = self.run(&["-o", "json"]);
            let v: Value = serde_json::from_slice(&o.stdout)
                .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&o), stderr(&o)));
            (o.status.code(), v)
        }

        fn table(&self) -> String {
            stdout(&self.run(&[]))
        }
    }

    fn check<'a>(report: &'a Value, kind: &str, name: &str) -> Option<&'a Value> {
        report["flux"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["kind"] == kind && f["name"] == name)
    }

    fn secret_status<'a>(report: &'a Value, secret: &str) -> &'a str {
        report["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["secret"] == secret)
            .unwrap()["status"]
            .as_str()
            .unwrap()
    }

    #[test]
    fn everything_the_cluster_brings_is_there_exit_0() {
        let s = synced();
        let (code, v) = s.json();
        assert_eq!(code, Some(0), "{v:#}");
        // The platform's Kustomization is checked where it lives.
        let platform = check(&v, "Kustomization", "external-secrets").expect("checked");
        assert_eq!(platform["namespace"], "platform");
        assert_eq!(platform["ok"], true);
        // ESO's and the driver's kinds were asked of discovery once per API group, before
        // any of them was listed; no namespace is reported when all are there.
        let requests = s.fake.requests();
        for group in ["external-secrets.io/v1", "secrets-store.csi.x-k8s.io/v1"] {
            let n = requests
                .iter()
                .filter(|r| *r == &format!("GET /apis/{group}"))
                .count();
            assert_eq!(n, 1, "{group}: {requests:#?}");
        }
        assert!(check(&v, "Namespace", "billing").is_none());
        // The cost: the 11 lists of every run and the operator's CA Secret, one discovery
        // request per API group of a brought controller (2), the platform's Kustomizations
        // and the namespaces (1 each), and the eso and csi apps' 4 lists.
        assert_eq!(v["apiRequests"], 20, "{requests:#?}");
        insta::assert_snapshot!("verify_table_brought_all_present", s.table());
    }

    /// Without ESO's CRDs the run names them (a finding, exit 1), where it used to stop on
    /// the failed list with an environment error; the csi and VSO apps are still reported.
    #[test]
    fn a_brought_controller_s_missing_crds_are_named() {
        let s = synced();
        s.fake.not_installed("external-secrets.io");
        let (code, v) = s.json();
        assert_eq!(code, Some(1), "{v:#}");
        let crd = check(
            &v,
            "CustomResourceDefinition",
            "externalsecrets.external-secrets.io",
        )
        .expect("the missing CRD is named");
        assert_eq!(crd["ok"], false);
        let detail = crd["detail"].as_str().unwrap();
        assert!(detail.contains("platform/external-secrets"), "{detail}");
        assert!(check(
            &v,
            "CustomResourceDefinition",
            "secretstores.external-secrets.io"
        )
        .is_some());
        assert_ne!(secret_status(&v, "billing-config"), "Synced");
        assert_eq!(secret_status(&v, "search-api"), "Synced");
        assert_eq!(secret_status(&v, "catalog-config"), "Synced");
        assert!(!s
            .fake
            .requests()
            .iter()
            .any(|r| r.contains("/apis/external-secrets.io/v1/")));
        insta::assert_snapshot!("verify_table_brought_crds_missing", s.table());
    }

    #[test]
    fn the_platform_s_kustomization_missing_or_not_ready_is_named() {
        let s = synced();
        s.fake
            .modify("Kustomization", "platform", "external-secrets", |o| {
                o["status"]["conditions"] = json!([{"type": "Ready", "status": "False",
                    "reason": "HealthCheckFailed", "message": "HelmRelease external-secrets/external-secrets: CRD ownership conflict",
                    "lastTransitionTime": "2026-11-01T00:00:00Z"}])
            });
        let (code, v) = s.json();
        assert_eq!(code, Some(1));
        let k = check(&v, "Kustomization", "external-secrets").unwrap();
        assert_eq!(k["ok"], false);
        assert!(
            k["detail"]
                .as_str()
                .unwrap()
                .contains("CRD ownership conflict"),
            "{k}"
        );
        s.fake
            .remove("Kustomization", "platform", "external-secrets");
        let (code, v) = s.json();
        assert_eq!(code, Some(1));
        let k = check(&v, "Kustomization", "external-secrets").unwrap();
        assert!(
            k["detail"].as_str().unwrap().starts_with("not found"),
            "{k}"
        );

        // Listed where it lives, as a diagnosis: without the right to list Kustomizations in
        // `platform` the line says so, and the run still stands.
        s.fake.forbid_in("kustomizations", "platform");
        let (code, v) = s.json();
        assert_eq!(code, Some(0), "{v:#}");
        let k = check(&v, "Kustomization", "external-secrets").unwrap();
        assert!(
            k["detail"].as_str().unwrap().starts_with("not checked"),
            "{k}"
        );
    }

    /// With createNamespaces: false a missing namespace is named (exit 1), instead of showing
    /// only as its apps' objects that are not there.
    #[test]
    fn a_namespace_the_tree_does_not_create_is_named_when_missing() {
        let s = synced();
        s.fake.remove("Namespace", "", "billing");
        let (code, v) = s.json();
        assert_eq!(code, Some(1), "{v:#}");
        let ns = check(&v, "Namespace", "billing").expect("named");
        assert_eq!(ns["ok"], false);
        assert!(
            ns["detail"].as_str().unwrap().contains("app(s) billing"),
            "{ns}"
        );
        assert!(check(&v, "Namespace", "shop").is_none());
        insta::assert_snapshot!("verify_table_brought_namespace_missing", s.table());

        // Without the right to list namespaces, the check says so and fails nothing.
        s.fake
            .add(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "billing"}}));
        s.fake.forbid_everywhere("namespaces");
        let (code, v) = s.json();
        assert_eq!(code, Some(0), "{v:#}");
        let ns = check(&v, "Namespace", "billing,search,shop").expect("said");
        assert!(
            ns["detail"].as_str().unwrap().starts_with("not checked"),
            "{ns}"
        );
    }
}
