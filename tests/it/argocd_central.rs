//! One central Argo CD for several clusters (`gitops.argocd`): the Applications of every
//! cluster in one namespace, named after their cluster (within 63 characters), each deploying
//! to its cluster as Argo CD registered it, one root per cluster, one `argocd-cm` patch; and
//! `verify` reading each cluster's own Applications among the others'.

use crate::support::cluster_state::{self, REVISION};
use crate::support::common::*;
use crate::support::crd_schema::{crd_schema, schema_problems};
use crate::support::fake_apiserver::FakeApiServer;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::path::Path;

/// `argocd.yaml` (cluster `shop`) with `gitops.argocd` as given (YAML lines under it).
fn central_spec(dir: &Path, argocd: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(fixture("argocd.yaml")).unwrap();
    let anchor = "  targetRevision: main\n";
    assert!(text.contains(anchor));
    let text = text.replace(anchor, &format!("{anchor}  argocd:\n{argocd}"));
    let spec = dir.join("central.yaml");
    std::fs::write(&spec, text).unwrap();
    spec
}

fn generate_spec(spec: &Path, out: &Path) -> BTreeMap<String, String> {
    let o = run(&[
        "generate",
        "-f",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    read_tree(out)
}

/// Every Application of a tree, by path.
fn applications(tree: &BTreeMap<String, String>) -> BTreeMap<String, Json> {
    tree.iter()
        .filter(|(p, b)| p.starts_with("clusters/") && b.contains("\nkind: Application\n"))
        .map(|(p, b)| (p.clone(), serde_yaml::from_str(b).unwrap()))
        .collect()
}

/// The argocd fleet (`fleet.yaml` on Argo CD) with one central Argo CD, running in
/// production: staging's Applications deploy to `staging` as registered in it.
fn central_fleet() -> String {
    let fleet = crate::argocd::argocd_fleet();
    let anchor = "  - name: staging\n    context: kind-staging      # the kubeconfig context `verify` checks it in\n";
    assert!(fleet.contains(anchor));
    fleet.replace(
        anchor,
        &format!("{anchor}    gitops:\n      argocd:\n        destination: staging\n"),
    )
}

#[test]
fn a_named_destination_prefixes_every_name_and_deploys_there() {
    let dir = tempfile::tempdir().unwrap();
    let spec = central_spec(
        dir.path(),
        "    destination: shop-eu\n    namespace: gitops\n    project: platform\n",
    );
    let tree = generate_spec(&spec, &dir.path().join("out"));
    let apps = applications(&tree);
    assert!(apps.len() >= 8, "{apps:#?}");
    let schema = crd_schema("argoproj.io", "Application", "v1alpha1");
    for (path, a) in &apps {
        let problems = schema_problems(a, &schema, path);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        let name = a["metadata"]["name"].as_str().unwrap();
        assert!(name.starts_with("shop-vault"), "{path}: {name}");
        assert!(name.len() <= 63, "{name}");
        assert_eq!(a["metadata"]["namespace"], "gitops", "{path}");
        assert_eq!(a["spec"]["project"], "platform", "{path}");
        let destination = &a["spec"]["destination"];
        if path == "clusters/shop/argocd/root.yaml" {
            // The root applies Applications: into Argo CD's own cluster and namespace.
            assert_eq!(name, "shop-vault-root");
            assert_eq!(destination["server"], "https://kubernetes.default.svc");
            assert_eq!(destination["namespace"], "gitops");
            assert!(destination.get("name").is_none());
        } else {
            assert_eq!(destination["name"], "shop-eu", "{path}");
            assert!(destination.get("server").is_none(), "{path}");
            // The file keeps the unprefixed name.
            let file = path.rsplit('/').next().unwrap().trim_end_matches(".yaml");
            assert_eq!(name, format!("shop-{file}"), "{path}");
        }
    }
    // The one patch of the central Argo CD, beside the clusters' folders, for its namespace.
    assert!(!tree.contains_key("clusters/shop/argocd/argocd-cm-patch.yaml"));
    let patch = &tree["clusters/argocd-cm-patch.yaml"];
    assert!(
        patch.contains(
            "kubectl -n gitops patch configmap argocd-cm --type merge --patch-file clusters/argocd-cm-patch.yaml"
        ),
        "{patch}"
    );
}

#[test]
fn a_destination_by_url_is_the_server_and_in_cluster_is_todays_tree() {
    let dir = tempfile::tempdir().unwrap();
    let spec = central_spec(
        dir.path(),
        "    destination: https://api.shop.example.com:6443\n",
    );
    let tree = generate_spec(&spec, &dir.path().join("url"));
    let vso = &applications(&tree)["clusters/shop/vault-secrets-operator.yaml"];
    assert_eq!(vso["metadata"]["name"], "shop-vault-secrets-operator");
    assert_eq!(
        vso["spec"]["destination"]["server"],
        "https://api.shop.example.com:6443"
    );
    assert!(tree["clusters/shop/vault-secrets-operator.yaml"]
        .contains("    server: \"https://api.shop.example.com:6443\"\n"));
    // `in-cluster` and the defaults written out: byte for byte the tree without them.
    let spec = central_spec(
        dir.path(),
        "    destination: in-cluster\n    namespace: argocd\n    project: default\n",
    );
    let explicit = generate_spec(&spec, &dir.path().join("explicit"));
    let o = run(&[
        "generate",
        "-f",
        fixture("argocd.yaml").to_str().unwrap(),
        "--out",
        dir.path().join("default").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(explicit, read_tree(&dir.path().join("default")));
}

#[test]
fn names_longer_than_a_label_value_are_shortened_with_a_hash() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = "a-cluster-name-that-is-long-enough-to-overflow-label-values";
    assert!(cluster.len() <= 63);
    let text = std::fs::read_to_string(central_spec(dir.path(), "    destination: remote\n"))
        .unwrap()
        .replace("cluster: shop\n", &format!("cluster: {cluster}\n"));
    let spec = dir.path().join("long.yaml");
    std::fs::write(&spec, text).unwrap();
    let first = generate_spec(&spec, &dir.path().join("first"));
    let again = generate_spec(&spec, &dir.path().join("again"));
    assert_eq!(first, again, "deterministic");
    let names: Vec<String> = applications(&first)
        .values()
        .map(|a| a["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.len() >= 8);
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "{names:#?}");
    for n in &names {
        assert!(n.len() <= 63, "{n}");
        assert!(n.starts_with("a-cluster-name-that-is-long"), "{n}");
        // Cut, then `-` and 8 hex digits.
        let (_, hash) = n.rsplit_once('-').unwrap();
        assert!(
            hash.len() == 8 && hash.chars().all(|c| c.is_ascii_hexdigit()),
            "{n}"
        );
    }
    // The root too, and verify looks for the same name.
    let root: Json =
        serde_yaml::from_str(&first[&format!("clusters/{cluster}/argocd/root.yaml")]).unwrap();
    assert!(root["metadata"]["name"].as_str().unwrap().len() <= 63);
}

#[test]
fn bad_argocd_fields_are_spec_errors_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    for (name, argocd, field) in [
        (
            "blank",
            "    destination: \"a b\"\n",
            "gitops.argocd.destination",
        ),
        (
            "scheme",
            "    destination: ssh://host/x\n",
            "gitops.argocd.destination",
        ),
        (
            "namespace",
            "    namespace: Argo_CD\n",
            "gitops.argocd.namespace",
        ),
        ("project", "    project: \"-x\"\n", "gitops.argocd.project"),
        ("unknown", "    server: x\n", "server"),
    ] {
        let spec = central_spec(dir.path(), argocd);
        let out = dir.path().join(name);
        let o = run(&[
            "generate",
            "-f",
            spec.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains(field), "{name}: {}", stderr(&o));
        assert!(!out.exists(), "{name}");
    }
    // On Flux, `gitops.argocd` means nothing.
    let text = std::fs::read_to_string(fixture("example.yaml")).unwrap();
    let anchor = "  interval: 10m\n";
    assert!(text.contains(anchor));
    let spec = dir.path().join("flux.yaml");
    std::fs::write(
        &spec,
        text.replace(anchor, &format!("{anchor}  argocd:\n    destination: x\n")),
    )
    .unwrap();
    let o = run(&["generate", "-f", spec.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("`gitops.argocd` is for Argo CD"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_central_fleet_writes_one_root_per_cluster_and_one_patch() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fleet.yaml");
    std::fs::write(&spec, central_fleet()).unwrap();
    let tree = generate_spec(&spec, &dir.path().join("out"));
    let apps = applications(&tree);
    let mut names: Vec<&str> = apps
        .values()
        .map(|a| a["metadata"]["name"].as_str().unwrap())
        .collect();
    names.sort();
    let before = names.len();
    names.dedup();
    assert_eq!(
        names.len(),
        before,
        "two clusters share an Application name"
    );
    for (path, a) in &apps {
        let cluster = path.split('/').nth(1).unwrap();
        let name = a["metadata"]["name"].as_str().unwrap();
        assert!(name.starts_with(&format!("{cluster}-")), "{path}: {name}");
        let destination = &a["spec"]["destination"];
        match (cluster, path.ends_with("/argocd/root.yaml")) {
            (_, true) | ("production", _) => {
                assert_eq!(
                    destination["server"], "https://kubernetes.default.svc",
                    "{path}"
                )
            }
            _ => assert_eq!(destination["name"], "staging", "{path}"),
        }
    }
    for cluster in ["staging", "production"] {
        assert!(tree.contains_key(&format!("clusters/{cluster}/argocd/root.yaml")));
    }
    let patches: Vec<&String> = tree
        .keys()
        .filter(|p| p.ends_with("argocd-cm-patch.yaml"))
        .collect();
    assert_eq!(patches, ["clusters/argocd-cm-patch.yaml"]);
}

/// The staging cluster runs a VSO of the 0.10 line, production 1.x: one Argo CD cannot hold
/// both lines' health checks, and says so before writing anything.
#[test]
fn clusters_of_one_argo_cd_with_different_vso_lines_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = central_fleet();
    let anchor = "    operator:\n      address:";
    assert!(fleet.contains(anchor));
    let fleet = fleet.replace(
        anchor,
        "    operator:\n      chart:\n        version: 0.10.0\n      address:",
    );
    let spec = dir.path().join("fleet.yaml");
    std::fs::write(&spec, fleet).unwrap();
    let out = dir.path().join("out");
    let o = run(&[
        "generate",
        "-f",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("clusters/argocd-cm-patch.yaml") && stderr(&o).contains("staging"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

/// Both clusters' Applications in one `argocd` namespace (as the central Argo CD holds
/// them), staging's VSO Application Degraded: verify names staging and its Application, and
/// production's check ignores staging's Applications.
#[test]
fn verify_reads_each_clusters_own_applications_among_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fleet.yaml");
    std::fs::write(&spec, central_fleet()).unwrap();
    let staging = FakeApiServer::start();
    let production = FakeApiServer::start();
    cluster_state::synced_fleet_cluster(&staging, &spec, "staging");
    cluster_state::synced_fleet_cluster(&production, &spec, "production");
    // Each API server also holds the other cluster's Applications: one Argo CD namespace.
    let applications_of = |cluster: &str| -> Vec<Json> {
        cluster_state::rendered_fleet_objects(&spec, cluster)
            .into_iter()
            .filter(|o| o["kind"] == "Application")
            .collect()
    };
    cluster_state::synced_objects(&staging, applications_of("production"));
    cluster_state::synced_objects(&production, applications_of("staging"));
    let kubeconfig = crate::fleet_verify::kubeconfig(
        dir.path(),
        "kubeconfig",
        &[
            ("kind-production", production.url()),
            ("kind-staging", staging.url()),
        ],
    );
    let (code, _) = verify_json(&spec, &kubeconfig, &["--revision", &REVISION[..7]]);
    assert_eq!(code, Some(0));
    let degrade = |a: &mut Json| {
        a["status"]["health"] =
            json!({"status": "Degraded", "message": "VaultConnection vault: invalid"});
    };
    for fake in [&staging, &production] {
        fake.modify(
            "Application",
            "argocd",
            "staging-vault-secrets-operator",
            degrade,
        );
    }
    let (code, v) = verify_json(&spec, &kubeconfig, &["--revision", &REVISION[..7]]);
    assert_eq!(code, Some(1), "{v:#}");
    let failing: Vec<(String, String)> = v["flux"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| {
            (
                c["cluster"].as_str().unwrap_or_default().to_string(),
                c["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        failing,
        [(
            "staging".to_string(),
            "staging-vault-secrets-operator".to_string()
        )],
        "{v:#}"
    );
    // Each cluster lists its own Applications only.
    for c in v["flux"].as_array().unwrap() {
        if c["kind"] == "Application" {
            let cluster = c["cluster"].as_str().unwrap();
            assert!(
                c["name"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{cluster}-")),
                "{c}"
            );
        }
    }
    let out = stdout(&verify(&spec, &kubeconfig, &["--revision", &REVISION[..7]]));
    assert!(
        out.contains(
            "FAIL staging     Application argocd/staging-vault-secrets-operator: Synced, Degraded: VaultConnection vault: invalid"
        ),
        "{out}"
    );
    // Staging's context does not see the central Argo CD: the missing root says where to look.
    staging.remove("Application", "argocd", "staging-vault-root");
    let out = stdout(&verify(&spec, &kubeconfig, &["--revision", &REVISION[..7]]));
    assert!(
        out.contains(
            "FAIL staging     Application argocd/staging-vault-root: not found: apply clusters/staging/argocd/root.yaml once (see docs/src/argocd.md); with a central Argo CD (gitops.argocd.destination) the Applications are in Argo CD's cluster, which this context may not reach: name its context with `--argocd-context`"
        ),
        "{out}"
    );
}

/// An ESO or CSI object not yet in the cluster while Argo CD has not synced: the row names
/// Argo CD, not Flux.
#[test]
fn a_consumer_object_not_yet_applied_names_argo_cd() {
    let dir = tempfile::tempdir().unwrap();
    let spec = fixture("argocd.yaml");
    let fake = FakeApiServer::start();
    cluster_state::synced(&fake, &spec);
    let objects = cluster_state::rendered_objects(&spec);
    let first = |kind: &str| -> (String, String) {
        let o = objects.iter().find(|o| o["kind"] == kind).unwrap();
        (
            o["metadata"]["namespace"].as_str().unwrap().to_string(),
            o["metadata"]["name"].as_str().unwrap().to_string(),
        )
    };
    let es = first("ExternalSecret");
    let spc = first("SecretProviderClass");
    fake.remove("ExternalSecret", &es.0, &es.1);
    fake.remove("SecretProviderClass", &spc.0, &spc.1);
    fake.modify("Application", "argocd", "vault-apps", |a| {
        a["status"]["sync"]["status"] = json!("OutOfSync");
    });
    let kubeconfig = fake.write_kubeconfig(dir.path(), "shop");
    let (code, v) = verify_json(&spec, &kubeconfig, &[]);
    assert_eq!(code, Some(1), "{v:#}");
    let rows = v["secrets"].as_array().unwrap();
    for kind in ["ExternalSecret", "SecretProviderClass"] {
        let row = rows
            .iter()
            .find(|r| {
                r["detail"]
                    .as_str()
                    .is_some_and(|d| d.starts_with(&format!("{kind} not found")))
            })
            .unwrap_or_else(|| panic!("no {kind} row: {v:#}"));
        assert_eq!(row["status"], "NotApplied", "{row}");
        assert_eq!(
            row["detail"],
            format!(
                "{kind} not found, and Argo CD has not applied the commit (see the Argo CD checks)"
            )
        );
    }
    assert!(!v.to_string().contains("Flux has not applied"), "{v:#}");
}

/// The self-check refuses an Application name a label value cannot hold (a template override
/// that lengthens the names), before anything is written.
#[test]
fn an_application_name_over_63_characters_fails_the_self_check() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("argocd");
    std::fs::create_dir_all(&tpl).unwrap();
    let original = include_str!("../../templates/argocd/application.yaml.j2");
    let long = original.replace(
        "  name: {{ name | q }}",
        "  name: {{ (name ~ \"-with-a-suffix-long-enough-to-overflow-a-label-value\") | q }}",
    );
    assert_ne!(original, long);
    std::fs::write(tpl.join("application.yaml.j2"), long).unwrap();
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
        stderr(&o).contains("is longer than 63 characters"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

/// `--argocd-context`: the Applications of every cluster read in the central Argo CD's
/// cluster (production's), where staging's live and staging's own API server has none.
#[test]
fn verify_reads_the_applications_in_the_argocd_context() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fleet.yaml");
    std::fs::write(&spec, central_fleet()).unwrap();
    let staging = FakeApiServer::start();
    let production = FakeApiServer::start();
    cluster_state::synced_fleet_cluster(&staging, &spec, "staging");
    cluster_state::synced_fleet_cluster(&production, &spec, "production");
    let staging_apps: Vec<Json> = cluster_state::rendered_fleet_objects(&spec, "staging")
        .into_iter()
        .filter(|o| o["kind"] == "Application")
        .collect();
    for a in &staging_apps {
        staging.remove(
            "Application",
            "argocd",
            a["metadata"]["name"].as_str().unwrap(),
        );
    }
    cluster_state::synced_objects(&production, staging_apps);
    let kubeconfig = crate::fleet_verify::kubeconfig(
        dir.path(),
        "kubeconfig",
        &[
            ("kind-production", production.url()),
            ("kind-staging", staging.url()),
        ],
    );
    // Without the flag, staging's context has no Applications.
    let (code, _) = verify_json(&spec, &kubeconfig, &["--revision", &REVISION[..7]]);
    assert_eq!(code, Some(1));
    let central = [
        "--revision",
        &REVISION[..7],
        "--argocd-context",
        "kind-production",
    ];
    let (code, v) = verify_json(&spec, &kubeconfig, &central);
    assert_eq!(code, Some(0), "{v:#}");
    production.modify(
        "Application",
        "argocd",
        "staging-vault-secrets-operator",
        |a| {
            a["status"]["health"] =
                json!({"status": "Degraded", "message": "VaultConnection vault: invalid"});
        },
    );
    let out = stdout(&verify(&spec, &kubeconfig, &central));
    assert!(
        out.contains(
            "FAIL staging     Application argocd/staging-vault-secrets-operator: Synced, Degraded: VaultConnection vault: invalid"
        ),
        "{out}"
    );
    assert!(!out.contains("FAIL production"), "{out}");
}
