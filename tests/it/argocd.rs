//! `gitops.engine: argocd`: the same objects as the Flux tree, wrapped in Argo CD
//! Applications that the upstream CRD accepts, in sync waves that follow the Flux tree's
//! `dependsOn`.

use crate::support::common::*;
use crate::support::crd_schema::{crd_schema, schema_problems};
use serde_json::Value as Json;
use std::collections::BTreeMap;

fn generate(fixture_name: &str) -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "-f",
        fixture(fixture_name).to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{fixture_name}: {}", stderr(&o));
    read_tree(&out)
}

fn yaml(body: &str) -> Json {
    serde_yaml::from_str(body).unwrap()
}

/// The Applications of a tree, by name.
fn applications(tree: &BTreeMap<String, String>) -> BTreeMap<String, Json> {
    tree.iter()
        .filter(|(p, _)| p.starts_with("clusters/") && p.ends_with(".yaml"))
        .map(|(_, b)| yaml(b))
        .filter(|v| v["kind"] == "Application")
        .map(|v| (v["metadata"]["name"].as_str().unwrap().to_string(), v))
        .collect()
}

/// A file only Flux reads: the Kustomizations, HelmRepositories, HelmReleases and the
/// folders' kustomization.yaml (not the injector's Components, which the user includes).
fn flux_only(path: &str, body: &str) -> bool {
    path.starts_with("clusters/")
        || path.ends_with("/helmrelease.yaml")
        || path.ends_with("/helmrepository.yaml")
        || (path.ends_with("/kustomization.yaml") && body.contains("kind: Kustomization\n"))
}

#[test]
fn argocd_tree() {
    let tree = generate("argocd.yaml");
    insta::assert_snapshot!(tree_text(&tree));
}

#[test]
fn the_argocd_tree_holds_the_flux_trees_objects_and_the_helm_releases_values() {
    let flux = generate("consumers.yaml");
    let argo = generate("argocd.yaml");
    // Every object the Flux tree applies is in the Argo CD tree, byte for byte.
    for (path, body) in flux.iter().filter(|(p, b)| !flux_only(p, b)) {
        assert_eq!(argo.get(path), Some(body), "{path}");
    }
    // And nothing else, but the Applications and the argocd-cm patch.
    for path in argo.keys().filter(|p| !flux.contains_key(*p)) {
        assert!(path.starts_with("clusters/shop/"), "{path}");
    }
    for (path, body) in argo
        .iter()
        .filter(|(p, _)| p.starts_with("apps/") || p.starts_with("infrastructure/"))
    {
        assert!(!flux_only(path, body), "{path} is Flux's");
    }
    // Each HelmRelease is a Helm source with its chart, version, release name and values.
    let apps = applications(&argo);
    let releases: Vec<Json> = flux
        .iter()
        .filter(|(p, _)| p.ends_with("/helmrelease.yaml"))
        .map(|(_, b)| yaml(b))
        .collect();
    assert_eq!(releases.len(), 4);
    for h in releases {
        let chart = &h["spec"]["chart"]["spec"];
        let source = apps
            .values()
            .flat_map(|a| a["spec"]["sources"].as_array().unwrap())
            .find(|s| s["chart"] == chart["chart"])
            .unwrap_or_else(|| panic!("no source for {}", chart["chart"]));
        assert_eq!(source["targetRevision"], chart["version"]);
        assert_eq!(source["helm"]["releaseName"], h["spec"]["releaseName"]);
        assert_eq!(source["helm"]["valuesObject"], h["spec"]["values"]);
    }
}

#[test]
fn applications_match_the_upstream_crd() {
    let schema = crd_schema("argoproj.io", "Application", "v1alpha1");
    for fixture_name in ["argocd.yaml", "argocd-1x.yaml"] {
        let tree = generate(fixture_name);
        let mut checked = 0;
        for (path, body) in &tree {
            if !body.contains("\nkind: Application\n") {
                continue;
            }
            let v = yaml(body);
            assert_eq!(v["apiVersion"], "argoproj.io/v1alpha1", "{path}");
            let problems = schema_problems(&v, &schema, path);
            assert!(problems.is_empty(), "{}", problems.join("\n"));
            checked += 1;
        }
        assert!(checked >= 8, "{fixture_name}: {checked} Applications");
    }
}

#[test]
fn sync_waves_follow_the_flux_trees_depends_on() {
    let flux = generate("consumers.yaml");
    let argo = applications(&generate("argocd.yaml"));
    let wave = |name: &str| -> i64 {
        argo[name]["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let mut pairs = 0;
    for (path, body) in flux.iter().filter(|(p, _)| p.starts_with("clusters/shop/")) {
        let k = yaml(body);
        let name = k["metadata"]["name"].as_str().unwrap();
        // The stage's own Application, and those of the app folders its folder lists.
        let folder = k["spec"]["path"].as_str().unwrap().trim_start_matches("./");
        let listed = flux
            .get(&format!("{folder}/kustomization.yaml"))
            .map(|b| yaml(b)["resources"].clone())
            .unwrap_or(Json::Null);
        let mut mine: Vec<String> = listed
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str().unwrap().strip_prefix("../"))
            .map(|r| format!("vault-app-{}", r.replace('/', "-")))
            .collect();
        if argo.contains_key(name) {
            mine.push(name.to_string());
        }
        assert!(!mine.is_empty(), "{path}");
        for d in k["spec"]["dependsOn"].as_array().into_iter().flatten() {
            let dep = d["name"].as_str().unwrap();
            for m in &mine {
                assert!(
                    wave(m) > wave(dep),
                    "{m} (wave {}) after {dep} (wave {})",
                    wave(m),
                    wave(dep)
                );
                pairs += 1;
            }
        }
    }
    assert!(pairs >= 10, "{pairs}");
    // The apps are in their consumer's wave: the ESO apps after ESO, the operator's after VSO.
    assert!(wave("vault-app-billing-billing") > wave("vault-external-secrets"));
    assert!(wave("vault-app-shop-catalog") > wave("vault-secrets-operator"));
    assert_eq!(wave("vault"), 0);
}

#[test]
fn prune_create_namespace_and_server_side_apply() {
    let argo = applications(&generate("argocd.yaml"));
    let policy = |name: &str| argo[name]["spec"]["syncPolicy"].clone();
    let options = |name: &str| -> Vec<String> {
        policy(name)["syncOptions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|o| o.as_str().unwrap().to_string())
            .collect()
    };
    // What the Flux tree keeps on a prune (Vault, the namespaces) is never pruned here.
    for name in [
        "vault",
        "vault-secrets-operator",
        "vault-namespaces",
        "vault-external-secrets",
    ] {
        assert_eq!(policy(name)["automated"]["prune"], false, "{name}");
    }
    assert_eq!(policy("vault-app-shop-catalog")["automated"]["prune"], true);
    // The CRD charts apply server-side; Vault's has no CRDs.
    for name in [
        "vault-secrets-operator",
        "vault-external-secrets",
        "vault-csi-driver",
    ] {
        assert!(
            options(name).contains(&"ServerSideApply=true".to_string()),
            "{name}"
        );
    }
    assert!(!options("vault").contains(&"ServerSideApply=true".to_string()));
    // The namespaces the spec creates.
    for name in [
        "vault",
        "vault-secrets-operator",
        "vault-app-billing-billing",
    ] {
        assert!(
            options(name).contains(&"CreateNamespace=true".to_string()),
            "{name}"
        );
    }
}

#[test]
fn a_flux_spec_names_no_argo_field_and_an_argo_spec_needs_its_repository() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(fixture("minimal.yaml")).unwrap();
    for (name, gitops, field) in [
        ("no-repo", "gitops:\n  engine: argocd\n", "repoURL"),
        ("flux-with-repo", "gitops:\n  repoURL: https://git.example.com/a.git\n", "gitops.repoURL"),
        (
            "argo-with-interval",
            "gitops:\n  engine: argocd\n  repoURL: https://git.example.com/a.git\n  interval: 5m\n",
            "gitops.interval",
        ),
        (
            "bad-revision",
            "gitops:\n  engine: argocd\n  repoURL: https://git.example.com/a.git\n  targetRevision: a..b\n",
            "gitops.targetRevision",
        ),
        (
            "bad-path",
            "gitops:\n  engine: argocd\n  repoURL: https://git.example.com/a.git\n  path: ../up\n",
            "gitops.path",
        ),
    ] {
        let spec = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&spec, format!("{base}{gitops}")).unwrap();
        let out = dir.path().join(name);
        let o = run(&["generate", "-f", spec.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains(field), "{name}: {}", stderr(&o));
        assert!(!out.exists(), "{name}");
    }
}

/// `fleet.yaml` with Argo CD as every cluster's engine.
pub(crate) fn argocd_fleet() -> String {
    let fleet = std::fs::read_to_string(fixture("fleet.yaml")).unwrap();
    let argo = fleet.replace(
        "  gitops:\n    sourceRef: flux-system\n    interval: 10m\n",
        "  gitops:\n    engine: argocd\n    repoURL: https://git.example.com/platform/gitops.git\n",
    );
    assert_ne!(fleet, argo);
    argo
}

#[test]
fn a_fleet_on_argocd_commits_one_root_per_cluster_and_replaces_the_flux_tree() {
    use crate::fleet::{commit, head_files, new_repo};
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (path, _repo) = new_repo(home);
    let spec = home.join("fleet.yaml");
    // First the Flux fleet, then the same fleet on Argo CD: the commit replaces the wrappers
    // and leaves the objects.
    std::fs::copy(fixture("fleet.yaml"), &spec).unwrap();
    let o = commit(home, &spec, &path);
    assert!(o.status.success(), "{}", stderr(&o));
    let (_, repo) = (0, git2::Repository::open(&path).unwrap());
    let flux = head_files(&repo);
    std::fs::write(&spec, argocd_fleet()).unwrap();
    let o = commit(home, &spec, &path);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let argo = head_files(&repo);
    for cluster in ["staging", "production"] {
        let root: Json =
            serde_yaml::from_slice(&argo[&format!("clusters/{cluster}/argocd/root.yaml")]).unwrap();
        assert_eq!(
            root["spec"]["sources"][0]["path"],
            format!("clusters/{cluster}")
        );
        assert_eq!(root["metadata"]["name"], format!("{cluster}-vault-root"));
        assert!(argo.contains_key(&format!("clusters/{cluster}/vault-secrets-operator.yaml")));
        // One argocd-cm patch for the clusters' one Argo CD, not one per cluster.
        assert!(!argo.contains_key(&format!("clusters/{cluster}/argocd/argocd-cm-patch.yaml")));
    }
    let patch = String::from_utf8_lossy(&argo["clusters/argocd-cm-patch.yaml"]).to_string();
    assert!(
        patch.contains(" for every cluster of one Argo CD. Do not edit"),
        "{patch}"
    );
    // Only production runs Vault.
    assert!(argo.contains_key("clusters/production/vault.yaml"));
    assert!(!argo.contains_key("clusters/staging/vault.yaml"));
    // No Flux object is left; every object the Flux fleet applied is there unchanged.
    for (p, body) in &argo {
        let text = String::from_utf8_lossy(body);
        assert!(!flux_only(p, &text) || p.starts_with("clusters/"), "{p}");
        assert!(!text.contains("toolkit.fluxcd.io/v"), "{p}");
    }
    for (p, body) in flux
        .iter()
        .filter(|(p, b)| !flux_only(p, &String::from_utf8_lossy(b)))
    {
        assert_eq!(argo.get(p), Some(body), "{p}");
    }
    let o = commit(home, &spec, &path);
    assert!(stdout(&o).contains("up to date"), "{}", stdout(&o));
}

#[test]
fn init_prints_a_starter_for_each_engine_clean_under_strict() {
    let dir = tempfile::tempdir().unwrap();
    for (engine, fixture_name) in [("argocd", "starter-argocd.yaml"), ("flux", "starter.yaml")] {
        let o = run(&["init", "--engine", engine]);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = stdout(&o);
        let starter = std::fs::read_to_string(fixture(fixture_name)).unwrap();
        assert!(text.ends_with(&starter), "{engine}: {text}");
        let spec = dir.path().join(format!("{engine}.yaml"));
        std::fs::write(&spec, &text).unwrap();
        let out = dir.path().join(engine);
        let o = run(&[
            "generate",
            "-f",
            spec.to_str().unwrap(),
            "--strict",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        assert_eq!(
            out.join("clusters/homelab/argocd/root.yaml").exists(),
            engine == "argocd"
        );
    }
    let o = run(&["init"]);
    assert!(stdout(&o).ends_with(&std::fs::read_to_string(fixture("starter.yaml")).unwrap()));
}

#[test]
fn every_object_is_applied_by_exactly_one_application_and_stdout_holds_objects_only() {
    for (fixture_name, prefix) in [("argocd.yaml", ""), ("argocd-1x.yaml", "gitops/")] {
        let tree = generate(fixture_name);
        let apps = applications(&tree);
        let folders: Vec<String> = apps
            .values()
            .filter(|a| a["metadata"]["name"] != "vault-root")
            .flat_map(|a| a["spec"]["sources"].as_array().unwrap().clone())
            .filter_map(|s| s["path"].as_str().map(str::to_string))
            .map(|p| {
                p.strip_prefix(prefix)
                    .unwrap_or_else(|| panic!("{p}"))
                    .to_string()
            })
            .collect();
        for path in tree.keys() {
            let objects = path.ends_with(".yaml")
                && !path.starts_with("clusters/")
                && !path.contains("/vault-agent/");
            if !objects {
                continue;
            }
            let dir = path.rsplit_once('/').unwrap().0;
            let n = folders.iter().filter(|f| *f == dir).count();
            assert_eq!(
                n, 1,
                "{fixture_name}: {path} is applied by {n} Applications"
            );
        }
    }
    let o = run(&["generate", "-f", fixture("argocd.yaml").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    for doc in serde_yaml::Deserializer::from_str(&stdout(&o)) {
        let v: Json = serde::Deserialize::deserialize(doc).unwrap();
        if v.is_null() {
            continue;
        }
        assert!(v["kind"].is_string(), "not an object: {v}");
    }
}

/// The self-check guards the Argo CD tree as it guards the Flux one: an override of the
/// Application template that leaves a folder unapplied fails before anything is written.
#[test]
fn an_application_that_leaves_a_folder_unapplied_fails_the_self_check() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("argocd");
    std::fs::create_dir_all(&tpl).unwrap();
    let original = include_str!("../../templates/argocd/application.yaml.j2");
    let broken = original.replace(
        "      path: {{ s.path | q }}",
        "      path: {{ (s.path ~ \"-elsewhere\") | q }}",
    );
    assert_ne!(original, broken);
    std::fs::write(tpl.join("application.yaml.j2"), broken).unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "-f",
        fixture("argocd.yaml").to_str().unwrap(),
        "--templates",
        dir.path().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(70), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("apps/shop/shop/catalog/vaultauth.yaml: no Application applies its folder"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

/// A fleet on Argo CD verifies as a fleet on Flux: each cluster's Applications in its own
/// context, one table; a Degraded Application fails its cluster only.
#[test]
fn a_fleet_on_argocd_verifies_each_clusters_applications() {
    use crate::support::cluster_state::{self, REVISION};
    use crate::support::fake_apiserver::FakeApiServer;
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fleet.yaml");
    std::fs::write(&spec, argocd_fleet()).unwrap();
    let staging = FakeApiServer::start();
    let production = FakeApiServer::start();
    cluster_state::synced_fleet_cluster(&staging, &spec, "staging");
    cluster_state::synced_fleet_cluster(&production, &spec, "production");
    let kubeconfig = crate::fleet_verify::kubeconfig(
        dir.path(),
        "kubeconfig",
        &[
            ("kind-production", production.url()),
            ("kind-staging", staging.url()),
        ],
    );
    let o = verify(&spec, &kubeconfig, &["--revision", &REVISION[..7]]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    for line in [
        "ok   production  Application argocd/production-vault: Synced and Healthy",
        "ok   staging     Application argocd/staging-vault-root: Synced and Healthy",
    ] {
        assert!(out.contains(line), "{line}\n{out}");
    }
    // Staging runs no Vault: no Vault Application.
    assert!(
        !out.contains("staging     Application argocd/staging-vault: "),
        "{out}"
    );
    production.modify("Application", "argocd", "production-vault-secrets-operator", |a| {
        a["status"]["health"] = serde_json::json!({"status": "Degraded", "message": "VaultConnection vault: invalid"});
    });
    let o = verify(&spec, &kubeconfig, &["--revision", &REVISION[..7]]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("FAIL production  Application argocd/production-vault-secrets-operator: Synced, Degraded: VaultConnection vault: invalid"),
        "{out}"
    );
    assert!(out.contains("Argo CD check(s) failing"), "{out}");
}
