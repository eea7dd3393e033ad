//! Fleets: several clusters in one GitOps repository and one Vault, without one cluster's run
//! touching another's files or Vault objects. Real git repositories, a real OpenBao.

use crate::support;
use crate::support::common::*;
use crate::support::servers::Bao;
use crate::support::vault_fakes::{login, sa_jwt, vault_state, FakeTokenReview};
use crate::support::vault_setup::assert_no_work;
use git2::Repository;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A single-cluster spec: `replicas` Vault nodes and the named apps (namespace `shop`, each
/// reading one kv path of its own cluster).
fn cluster_spec(cluster: &str, replicas: u32, apps: &[&str]) -> String {
    let mut s = format!(
        "apiVersion: kubectl-vault/v1alpha1\nkind: VaultStack\ncluster: {cluster}\nvault:\n  chart: {{version: 0.30.0}}\n  tls: vault-tls\n  replicas: {replicas}\noperator:\n  chart: {{version: 0.10.0}}\napps:\n"
    );
    for app in apps {
        s.push_str(&format!(
            "  - name: {app}\n    namespace: shop\n    secrets:\n      - name: {app}-config\n        kv: apps-kv/{cluster}/shop/{app}\n"
        ));
    }
    s
}

pub(crate) fn git_env(c: &mut std::process::Command, home: &Path) {
    c.env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1");
}

pub(crate) fn new_repo(dir: &Path) -> (PathBuf, Repository) {
    let path = dir.join("fleet");
    let mut opts = git2::RepositoryInitOptions::new();
    opts.initial_head("main");
    let repo = Repository::init_opts(&path, &opts).unwrap();
    let mut cfg = repo.config().unwrap();
    cfg.set_str("user.name", "Fleet Bot").unwrap();
    cfg.set_str("user.email", "fleet@example.com").unwrap();
    (path, repo)
}

/// Every file of HEAD (bytes), by path.
pub(crate) fn head_files(repo: &Repository) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let Ok(head) = repo.head() else { return out };
    let tree = head.peel_to_tree().unwrap();
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, e| {
        if e.kind() == Some(git2::ObjectType::Blob) {
            let blob = repo.find_blob(e.id()).unwrap();
            out.insert(
                format!("{dir}{}", e.name().unwrap()),
                blob.content().to_vec(),
            );
        }
        git2::TreeWalkResult::Ok
    })
    .unwrap();
    out
}

/// The files of `cluster` (by their header) in HEAD, and their bytes in the work tree too.
fn owned_by(repo: &Repository, workdir: &Path, cluster: &str) -> BTreeMap<String, Vec<u8>> {
    head_files(repo)
        .into_iter()
        .filter(|(_, bytes)| {
            kubectl_vault::core::header::read(&String::from_utf8_lossy(bytes))
                .and_then(|s| s.cluster)
                .as_deref()
                == Some(cluster)
        })
        .inspect(|(path, bytes)| {
            assert_eq!(
                &std::fs::read(workdir.join(path)).unwrap(),
                bytes,
                "{path}: the work tree matches HEAD"
            );
        })
        .collect()
}

pub(crate) fn commit(home: &Path, spec: &Path, repo: &Path) -> std::process::Output {
    let mut c = bin();
    git_env(&mut c, home);
    c.args([
        "commit",
        "-f",
        spec.to_str().unwrap(),
        "--repo",
        repo.to_str().unwrap(),
    ])
    .output()
    .unwrap()
}

#[test]
fn two_clusters_committed_in_any_order_leave_each_others_files_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (path, repo) = new_repo(home);
    let staging = home.join("staging.yaml");
    let production = home.join("production.yaml");
    // Each step: which cluster is committed, and its spec at that point. Both clusters run the
    // same apps in the same namespace (the worst case for collisions), with other settings;
    // apps come and go, so that both clusters' prunes run too.
    let steps: &[(&str, u32, &[&str])] = &[
        ("staging", 1, &["api", "web"]),
        ("production", 3, &["api", "web", "worker"]),
        ("staging", 1, &["api", "web"]),
        ("production", 3, &["api"]),
        ("staging", 1, &["api", "web", "worker"]),
        ("production", 5, &["api", "web"]),
        ("staging", 1, &["web"]),
        ("production", 5, &["api", "web"]),
        ("staging", 3, &["web"]),
    ];
    let mut commits = 0;
    let mut last: BTreeMap<&str, String> = BTreeMap::new();
    for (i, (cluster, replicas, apps)) in steps.iter().enumerate() {
        let other = if *cluster == "staging" {
            "production"
        } else {
            "staging"
        };
        let spec = if *cluster == "staging" {
            &staging
        } else {
            &production
        };
        let text = cluster_spec(cluster, *replicas, apps);
        let changed = last.insert(*cluster, text.clone()).as_ref() != Some(&text);
        std::fs::write(spec, &text).unwrap();
        let before = owned_by(&repo, &path, other);
        let o = commit(home, spec, &path);
        assert!(o.status.success(), "step {i}: {}", stderr(&o));
        assert_eq!(
            stdout(&o).contains("up to date"),
            !changed,
            "step {i}: {}",
            stdout(&o)
        );
        assert_eq!(
            owned_by(&repo, &path, other),
            before,
            "step {i}: committing {cluster} changed a file of {other}"
        );
        // What the cluster owns is exactly what its spec generates.
        let out = home.join(format!("out-{i}"));
        let g = bin()
            .args(["generate", "-f", spec.to_str().unwrap(), "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(g.status.success(), "{}", stderr(&g));
        let generated: BTreeMap<String, Vec<u8>> = read_tree(&out)
            .into_iter()
            .map(|(p, t)| (p, t.into_bytes()))
            .collect();
        assert_eq!(owned_by(&repo, &path, cluster), generated, "step {i}");
        // Every path belongs to exactly one cluster: none lies in the other's folders.
        for p in generated.keys() {
            assert!(p.split('/').any(|s| s == *cluster), "{p}");
            assert!(!p.split('/').any(|s| s == other), "{p}");
        }
        commits += usize::from(changed);
        // A re-run of the same spec commits nothing.
        let o = commit(home, spec, &path);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).contains("up to date"), "{}", stdout(&o));
    }
    let log = std::process::Command::new("git")
        .args(["-C", path.to_str().unwrap(), "rev-list", "--count", "HEAD"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&log.stdout).trim(),
        commits.to_string()
    );
    // Both clusters' entry points are there, each pointing at its own folders only.
    let vault = std::fs::read_to_string(path.join("clusters/staging/vault.yaml")).unwrap();
    assert!(
        vault.contains("path: ./infrastructure/staging/vault"),
        "{vault}"
    );
    let apps = std::fs::read_to_string(path.join("clusters/production/vault-apps.yaml")).unwrap();
    assert!(
        apps.contains("path: ./apps/production/_vault-apps"),
        "{apps}"
    );
}

#[test]
fn a_prune_never_deletes_another_clusters_files_inside_its_folders() {
    // Cluster `a` puts its apps inside cluster `b`'s apps folder (custom roots): `b`'s prune
    // walks those files and must leave them alone, since their header names `a`.
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (path, repo) = new_repo(home);
    let a = home.join("a.yaml");
    let b = home.join("b.yaml");
    std::fs::write(
        &a,
        cluster_spec("a", 1, &["api"])
            .replace("vault:\n", "gitops:\n  paths: {apps: apps/b}\nvault:\n"),
    )
    .unwrap();
    std::fs::write(&b, cluster_spec("b", 1, &["api", "web"])).unwrap();
    assert!(commit(home, &a, &path).status.success());
    assert!(commit(home, &b, &path).status.success());
    let a_files = owned_by(&repo, &path, "a");
    assert!(a_files.keys().any(|p| p.starts_with("apps/b/a/")));
    // b drops an app: its own stale files go, a's stay.
    std::fs::write(&b, cluster_spec("b", 1, &["api"])).unwrap();
    let o = commit(home, &b, &path);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!path.join("apps/b/shop/web").exists());
    assert_eq!(owned_by(&repo, &path, "a"), a_files);

    // A file another cluster generated at a path this run wants is refused, never taken over:
    // b's injector app `api` (namespace shop) has its Component in
    // `apps/b/shop/api/vault-agent/`; cluster `shop`, with its apps under `apps/b`, has an app
    // `vault-agent` in namespace `api`, whose folder is that same path.
    std::fs::write(
        &b,
        cluster_spec("b", 1, &["api"])
            .replace("  replicas: 1\n", "  replicas: 1\n  injector: true\n")
            .replace(
                "    namespace: shop\n",
                "    namespace: shop\n    consumer: injector\n",
            ),
    )
    .unwrap();
    let o = commit(home, &b, &path);
    assert!(o.status.success(), "{}", stderr(&o));
    let head = repo.head().unwrap().target();
    let clash = home.join("shop.yaml");
    std::fs::write(
        &clash,
        cluster_spec("shop", 1, &["vault-agent"])
            .replace("vault:\n", "gitops:\n  paths: {apps: apps/b}\nvault:\n")
            .replace("    namespace: shop\n", "    namespace: api\n"),
    )
    .unwrap();
    let o = commit(home, &clash, &path);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains(
            "apps/b/shop/api/vault-agent/kustomization.yaml: was generated for cluster b"
        ),
        "{}",
        stderr(&o)
    );
    assert_eq!(repo.head().unwrap().target(), head, "nothing committed");
    assert!(!path.join("clusters/shop").exists(), "nothing written");
}

#[test]
fn a_tree_from_before_fleets_is_taken_over_in_its_cluster_folders_and_left_alone_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (path, repo) = new_repo(home);
    // Files as the tool wrote them before headers named a cluster: the shared folders of the
    // old layout, and the cluster's entry point.
    let legacy = |body: &str| {
        format!(
            "# Generated by kubectl-vault 0.1.0 from vault.yaml. Do not edit: change the spec and run kubectl vault generate.\n# kubectl-vault-sha256: {}\n{body}",
            kubectl_vault::core::header::sha256_hex(body.as_bytes())
        )
    };
    let old = [
        ("infrastructure/vault/kustomization.yaml", "resources: []\n"),
        ("apps/shop/api/vaultauth.yaml", "kind: VaultAuth\n"),
        ("clusters/dev/vault.yaml", "kind: Kustomization\n"),
        ("clusters/dev/retired.yaml", "kind: Kustomization\n"),
    ];
    for (p, body) in old {
        std::fs::create_dir_all(path.join(p).parent().unwrap()).unwrap();
        std::fs::write(path.join(p), legacy(body)).unwrap();
    }
    let mut c = std::process::Command::new("git");
    git_env(&mut c, home);
    let o = c
        .args(["-C", path.to_str().unwrap(), "add", "."])
        .output()
        .unwrap();
    assert!(o.status.success());
    let mut c = std::process::Command::new("git");
    git_env(&mut c, home);
    let o = c
        .args(["-C", path.to_str().unwrap(), "commit", "-qm", "old tree"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let spec = home.join("vault.yaml");
    std::fs::write(&spec, cluster_spec("dev", 1, &["api"])).unwrap();
    let o = commit(home, &spec, &path);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let files = head_files(&repo);
    // The shared folders may still serve another cluster's old entry point: kept as they were.
    for (p, body) in &old[..2] {
        assert_eq!(files[*p], legacy(body).into_bytes(), "{p}");
    }
    // The cluster's own folder: replaced and pruned as its own.
    let entry = String::from_utf8_lossy(&files["clusters/dev/vault.yaml"]).into_owned();
    assert!(entry.contains("for cluster dev. Do not edit"), "{entry}");
    assert!(
        entry.contains("path: ./infrastructure/dev/vault"),
        "{entry}"
    );
    assert!(!files.contains_key("clusters/dev/retired.yaml"));
}

// ---------------------------------------------------------------------------------------------
// One Vault, two clusters.

struct Cluster {
    name: &'static str,
    reviews: FakeTokenReview,
    reviewer_jwt: String,
    spec: PathBuf,
}

fn vault_spec(cluster: &str, k8s_host: &str, ca: &Path, extra_auth: &str) -> String {
    format!(
        r#"apiVersion: kubectl-vault/v1alpha1
kind: VaultStack
cluster: {cluster}
vault:
  chart: {{version: 0.30.0}}
  tls: vault-tls
operator:
  chart: {{version: 0.10.0}}
apps:
  - name: api
    namespace: shop
    secrets:
      - name: api-config
        kv: apps-kv/{cluster}/shop/api
vaultConfig:
  kubernetesAuth:{extra_auth}
    host: {k8s_host}
    caCertFrom: file:{ca}
    disableLocalCaJwt: true
    tokenReviewer: {{mode: serviceAccount, jwtFrom: env:TEST_REVIEWER_JWT}}
"#,
        ca = ca.display()
    )
}

fn configure(bao: &Bao, c: &Cluster, extra: &[&str]) -> std::process::Output {
    bin()
        .args(["configure", "-f", c.spec.to_str().unwrap()])
        .args(extra)
        .env("VAULT_ADDR", &bao.addr)
        .env("VAULT_TOKEN", &bao.token)
        .env("TEST_REVIEWER_JWT", &c.reviewer_jwt)
        .env_remove("VAULT_NAMESPACE")
        .env_remove("VAULT_CACERT")
        .output()
        .unwrap()
}

/// What belongs to `cluster` in Vault: its auth method (with its config), its roles, and the
/// policies named for it.
fn cluster_state(bao: &Bao, cluster: &str) -> serde_json::Value {
    let mount = format!("kubernetes-{cluster}");
    let all = vault_state(bao, &mount);
    let policies: serde_json::Map<String, serde_json::Value> = all["policies"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with(&format!("{cluster}-")))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    json!({
        "auth": all["auth"][format!("{mount}/")],
        "config": bao.api("GET", &format!("auth/{mount}/config"), None).1["data"],
        "roles": all["roles"],
        "policies": policies,
    })
}

#[test]
fn configuring_production_leaves_staging_unchanged_and_each_app_reads_only_its_own_paths() {
    let Some(bao) = Bao::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let t = support::cluster_state::now();
    let (cert, _) = support::cluster_state::certificate("kubernetes", t - 60, t + 86400);
    let ca = dir.path().join("cluster-ca.crt");
    std::fs::write(&ca, cert).unwrap();
    let clusters: Vec<Cluster> = ["staging", "production"]
        .into_iter()
        .map(|name| {
            let reviewer_jwt = format!("reviewer-of-{name}");
            let reviews = FakeTokenReview::start(Some(reviewer_jwt.clone()));
            let spec = dir.path().join(format!("{name}.yaml"));
            std::fs::write(&spec, vault_spec(name, &reviews.url, &ca, "")).unwrap();
            Cluster {
                name,
                reviews,
                reviewer_jwt,
                spec,
            }
        })
        .collect();
    let (staging, production) = (&clusters[0], &clusters[1]);

    let o = configure(&bao, staging, &[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let staging_before = cluster_state(&bao, "staging");
    assert_eq!(
        staging_before["config"]["kubernetes_host"],
        staging.reviews.url.as_str()
    );
    assert!(staging_before["policies"]["staging-shop-api"].is_string());

    let o = configure(&bao, production, &[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    // Production's own objects; the shared kv engine is found as it is.
    assert!(out.contains("auth method kubernetes-production/"), "{out}");
    assert!(out.contains("policy production-shop-api"), "{out}");
    assert!(
        !out.contains("staging"),
        "production's run names nothing of staging's: {out}"
    );
    assert_eq!(cluster_state(&bao, "staging"), staging_before);
    assert_eq!(
        cluster_state(&bao, "production")["config"]["kubernetes_host"],
        production.reviews.url.as_str()
    );

    // Both runs again: nothing to do for either, and staging still as it was.
    for c in &clusters {
        assert_no_work(
            &configure(&bao, c, &["--dry-run"]),
            &format!("configuring {}", c.name),
        );
    }
    assert_eq!(cluster_state(&bao, "staging"), staging_before);

    // Each cluster's app logs in at its own mount and reads exactly its own paths.
    for c in &clusters {
        bao.api(
            "POST",
            &format!("apps-kv/data/{}/shop/api", c.name),
            Some(json!({"data": {"k": c.name}})),
        );
    }
    each_app_reads_exactly_its_own(&bao, &clusters);

    // Production naming staging's auth mount: a conflict, nothing applied, staging untouched.
    std::fs::write(
        &production.spec,
        vault_spec(
            "production",
            &production.reviews.url,
            &ca,
            "\n    mount: kubernetes-staging",
        ),
    )
    .unwrap();
    let everything = vault_state(&bao, "kubernetes-staging");
    let o = configure(&bao, production, &[]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("CONFLICT   kubernetes auth config"),
        "{}",
        stdout(&o)
    );
    assert_eq!(vault_state(&bao, "kubernetes-staging"), everything);
    assert_eq!(cluster_state(&bao, "staging"), staging_before);
}

// ---------------------------------------------------------------------------------------------
// The fleet form of the spec.

fn generate_out(spec: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    bin()
        .args(["generate", "-f", spec.to_str().unwrap(), "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn the_fleet_example_generates_both_clusters_each_in_its_own_folders() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = generate_out(&fixture("fleet.yaml"), &out, &["--strict"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("for clusters staging, production"),
        "{}",
        stderr(&o)
    );
    let tree = read_tree(&out);
    insta::assert_snapshot!("fleet_example", tree_text(&tree));
    // Each cluster's files name it in their header, and lie in its folders.
    for (path, text) in &tree {
        let owner = kubectl_vault::core::header::read(text)
            .unwrap()
            .cluster
            .unwrap();
        assert!(path.split('/').any(|s| s == owner), "{path} of {owner}");
    }
    // The overlay: production runs the one Vault (3 replicas) and reports; staging neither:
    // no Vault stage, folder or release, and its operator reaches production's Vault.
    let hr = &tree["infrastructure/production/vault/helmrelease.yaml"];
    assert!(hr.contains("replicas: 3"), "{hr}");
    assert!(!tree
        .keys()
        .any(|p| p.starts_with("infrastructure/staging/vault/")));
    assert!(!tree.contains_key("clusters/staging/vault.yaml"));
    assert!(!tree["clusters/staging/vault-secrets-operator.yaml"].contains("dependsOn"));
    assert!(tree["apps/staging/_vault-apps/vault-connection.yaml"]
        .contains("address: \"https://vault.production.example.com:8200\""));
    // Staging's token reviewer, beside its operator: the one Vault reviews staging's logins.
    let reviewer = &tree["infrastructure/staging/vault-secrets-operator/token-review.yaml"];
    assert!(
        reviewer.contains("namespace: vault-secrets-operator"),
        "{reviewer}"
    );
    assert!(tree.contains_key("apps/production/shop/reports/vaultauth.yaml"));
    assert!(!tree.contains_key("apps/staging/shop/reports/vaultauth.yaml"));
    let auth = &tree["apps/staging/shop/webapp/vaultauth.yaml"];
    assert!(auth.contains("mount: kubernetes-staging"), "{auth}");

    // --cluster: one cluster only, exactly its part of the fleet's tree.
    let one = dir.path().join("one");
    let o = generate_out(&fixture("fleet.yaml"), &one, &["--cluster", "staging"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let staging: BTreeMap<String, String> = tree
        .iter()
        .filter(|(p, _)| p.split('/').nth(1) == Some("staging"))
        .map(|(p, t)| (p.clone(), t.clone()))
        .collect();
    assert_eq!(read_tree(&one), staging);
}

#[test]
fn a_fleet_commits_as_one_commit_and_one_cluster_of_it_touches_only_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (path, repo) = new_repo(home);
    let spec = home.join("fleet.yaml");
    std::fs::copy(fixture("fleet.yaml"), &spec).unwrap();
    let o = commit(home, &spec, &path);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = repo
        .head()
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .message()
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(
        summary.starts_with("vault(staging,production): "),
        "{summary}"
    );
    let staging = owned_by(&repo, &path, "staging");
    let production = owned_by(&repo, &path, "production");
    assert!(!staging.is_empty() && !production.is_empty());
    let o = commit(home, &spec, &path);
    assert!(stdout(&o).contains("up to date"), "{}", stdout(&o));

    // Production's overlay changes; committing only staging changes nothing; committing
    // production changes only production's files.
    let text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("      replicas: 3 ", "      replicas: 5 ");
    std::fs::write(&spec, text).unwrap();
    let mut c = bin();
    git_env(&mut c, home);
    let o = c
        .args([
            "commit",
            "-f",
            spec.to_str().unwrap(),
            "--repo",
            path.to_str().unwrap(),
            "--cluster",
            "staging",
        ])
        .output()
        .unwrap();
    assert!(
        stdout(&o).contains("up to date"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    let o = commit(home, &spec, &path);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(owned_by(&repo, &path, "staging"), staging);
    assert_ne!(owned_by(&repo, &path, "production"), production);
}

/// A fleet spec with one problem: exit 2, the file's line and the field, nothing written.
fn assert_bad_fleet(text: &str, expect: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fleet.yaml");
    std::fs::write(&spec, text).unwrap();
    let out = dir.path().join("out");
    let o = generate_out(&spec, &out, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    for e in expect {
        assert!(stderr(&o).contains(e), "missing {e:?} in:\n{}", stderr(&o));
    }
    assert!(!out.exists(), "nothing written");
}

#[test]
fn bad_fleet_specs_name_the_line_and_the_field_and_write_nothing() {
    let fleet = std::fs::read_to_string(fixture("fleet.yaml")).unwrap();
    // Two clusters with one name.
    assert_bad_fleet(
        &fleet.replace("  - name: production\n", "  - name: staging\n"),
        &[
            "fleet.yaml:73:",
            "clusters[1].name: duplicate cluster `staging` (also clusters[0])",
        ],
    );
    // A per-cluster override of a field that cannot vary.
    assert_bad_fleet(
        &fleet.replace(
            "    withoutApps: [shop/reports]    # reports runs in production only\n",
            "    withoutApps: [shop/reports]\n    gitops:\n      paths: {apps: workloads}\n",
        ),
        &[
            "fleet.yaml:50:",
            "clusters[0].gitops.paths: cannot vary per cluster",
        ],
    );
    // Two clusters with one auth mount in their one Vault.
    assert_bad_fleet(
        &fleet.replace(
            "      kubernetesAuth:          # Vault runs here: the in-cluster API server reviews the tokens\n",
            "      kubernetesAuth:\n        mount: kubernetes-staging\n",
        ),
        &["fleet.yaml:96:", "clusters[1].vaultConfig.kubernetesAuth.mount: clusters staging and production share the kubernetes auth mount `kubernetes-staging` in one Vault"],
    );
    // An app the defaults do not have, dropped from a cluster.
    assert_bad_fleet(
        &fleet.replace("withoutApps: [shop/reports]", "withoutApps: [shop/report]"),
        &[
            "fleet.yaml:48:",
            "clusters[0].withoutApps[0]: `shop/report` is not an app of the defaults",
        ],
    );
    // A typo in an overlay, and an invalid value in it: the overlay's own lines.
    assert_bad_fleet(
        &fleet.replace("      antiAffinity: true", "      antiAfinity: true"),
        &[
            "fleet.yaml:82:",
            "clusters[1].vault.antiAfinity: unknown field, did you mean antiAffinity?",
        ],
    );
    assert_bad_fleet(
        &fleet.replace(
            "            refreshAfter: 1m",
            "            refreshAfter: soon",
        ),
        &[
            "fleet.yaml:89:",
            "clusters[1].apps[0].secrets[0].refreshAfter",
            "(cluster production)",
        ],
    );
    // A cluster name that cannot name folders and Vault objects: at the entry's `name`.
    assert_bad_fleet(
        &fleet.replace("  - name: staging\n", "  - name: Staging_1\n"),
        &["fleet.yaml:46:", "clusters[0].name:"],
    );
    // Kube contexts: one per cluster, a real name, never in the defaults.
    for (context, error) in [
        (
            "kind-staging",
            "clusters staging and production share the kubeconfig context `kind-staging`",
        ),
        ("\"\"", "the kubeconfig context name is empty"),
        ("[kind]", "must be the name of a kubeconfig context"),
    ] {
        assert_bad_fleet(
            &fleet.replace("context: kind-production", &format!("context: {context}")),
            &["fleet.yaml:74:", &format!("clusters[1].context: {error}")],
        );
    }
    // The defaults can name neither a kube context nor a cluster.
    for (field, value) in [("context", "kind"), ("cluster", "homelab")] {
        assert_bad_fleet(
            &fleet.replace("defaults:\n", &format!("defaults:\n  {field}: {value}\n")),
            &[
                "fleet.yaml:15:",
                &format!("defaults.{field}: cannot be set in the defaults"),
            ],
        );
    }
}

#[test]
fn the_script_takes_one_cluster_of_a_fleet() {
    let o = bin()
        .args(["configure", "--script", "-f"])
        .arg(fixture("fleet.yaml"))
        .env("VAULT_ADDR", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("is a fleet of 2 clusters (staging, production)")
            && stderr(&o).contains("pass --cluster NAME"),
        "{}",
        stderr(&o)
    );
    let o = bin()
        .args(["configure", "--script", "--cluster", "production", "-f"])
        .arg(fixture("fleet.yaml"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("auth/kubernetes-production/role/shop-webapp"));
    let o = bin()
        .args(["configure", "--script", "--cluster", "qa", "-f"])
        .arg(fixture("fleet.yaml"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("has no such cluster (its clusters: staging, production)"),
        "{}",
        stderr(&o)
    );
}

/// A fleet of staging and production on one Vault outside both: each cluster's API server (a
/// fake TokenReview endpoint with its own reviewer JWT), one shared kv engine and PKI mount.
fn vault_fleet(staging: &Cluster, production: &Cluster, ca: &Path, prod_domains: &str) -> String {
    format!(
        r#"apiVersion: kubectl-vault/v1alpha1
kind: VaultFleet
defaults:
  vault:
    deploy: false
  operator:
    chart: {{version: 0.10.0}}
    address: https://vault.example.com:8200
  apps:
    - name: api
      namespace: shop
      secrets:
        - name: api-config
          kv: apps-kv/staging/shop/api
  vaultConfig:
    kubernetesAuth:
      host: {staging_host}
      caCertFrom: file:{ca}
      disableLocalCaJwt: true
      tokenReviewer: {{mode: serviceAccount, jwtFrom: env:STAGING_JWT}}
    pki:
      pki:
        roles:
          shop: {{allowedDomains: [shop.svc.cluster.local], maxTtl: 72h}}
clusters:
  - name: staging
  - name: production
    apps:
      - name: api
        namespace: shop
        secrets:
          - name: api-config
            kv: apps-kv/production/shop/api
    vaultConfig:
      kubernetesAuth:
        host: {production_host}
        tokenReviewer: {{jwtFrom: env:PRODUCTION_JWT}}
      pki:
        pki:
          roles:
            shop: {{allowedDomains: [{prod_domains}]}}
"#,
        staging_host = staging.reviews.url,
        production_host = production.reviews.url,
        ca = ca.display()
    )
}

#[test]
fn configuring_a_fleet_is_one_plan_and_a_shared_object_declared_twice_differently_stops_it() {
    let Some(bao) = Bao::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let t = support::cluster_state::now();
    let (cert, _) = support::cluster_state::certificate("kubernetes", t - 60, t + 86400);
    let ca = dir.path().join("cluster-ca.crt");
    std::fs::write(&ca, cert).unwrap();
    let clusters: Vec<Cluster> = ["staging", "production"]
        .into_iter()
        .map(|name| {
            let reviewer_jwt = format!("reviewer-of-{name}");
            Cluster {
                name,
                reviews: FakeTokenReview::start(Some(reviewer_jwt.clone())),
                reviewer_jwt,
                spec: dir.path().join("fleet.yaml"),
            }
        })
        .collect();
    let (staging, production) = (&clusters[0], &clusters[1]);
    let run = |extra: &[&str]| {
        bin()
            .args(["configure", "-f", staging.spec.to_str().unwrap()])
            .args(extra)
            .env("VAULT_ADDR", &bao.addr)
            .env("VAULT_TOKEN", &bao.token)
            .env("STAGING_JWT", &staging.reviewer_jwt)
            .env("PRODUCTION_JWT", &production.reviewer_jwt)
            .env_remove("VAULT_NAMESPACE")
            .env_remove("VAULT_CACERT")
            .output()
            .unwrap()
    };

    // Production's PKI role differs from staging's on the shared mount: a conflict, and
    // nothing of either cluster is applied.
    std::fs::write(
        &staging.spec,
        vault_fleet(staging, production, &ca, "example.com"),
    )
    .unwrap();
    let before = vault_state(&bao, "kubernetes-staging");
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains(
            "pki role pki/roles/shop is declared differently by clusters staging and production"
        ),
        "{}",
        stdout(&o)
    );
    assert_eq!(vault_state(&bao, "kubernetes-staging"), before);

    // The same role: one plan, applied once; the shared engines are created once.
    std::fs::write(
        &staging.spec,
        vault_fleet(staging, production, &ca, "shop.svc.cluster.local"),
    )
    .unwrap();
    let o = run(&[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("cluster staging:") && out.contains("cluster production:"),
        "{out}"
    );
    assert_eq!(
        out.matches("created  secrets engine apps-kv/").count(),
        1,
        "{out}"
    );
    let o = run(&["--dry-run"]);
    assert!(
        stdout(&o).contains("nothing to do"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    for c in &clusters {
        let config = bao
            .api("GET", &format!("auth/kubernetes-{}/config", c.name), None)
            .1;
        assert_eq!(config["data"]["kubernetes_host"], c.reviews.url.as_str());
        bao.api(
            "POST",
            &format!("apps-kv/data/{}/shop/api", c.name),
            Some(json!({"data": {"k": c.name}})),
        );
    }
    each_app_reads_exactly_its_own(&bao, &clusters);
    // One cluster of the fleet: only its own plan.
    let o = run(&["--cluster", "production", "--dry-run"]);
    assert!(
        o.status.success() && !stdout(&o).contains("cluster staging"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn the_benchmark_fleet_generates_every_cluster_with_all_its_apps() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fleet.yaml");
    std::fs::write(&spec, crate::support::big_spec::big_fleet(3, 4, 3)).unwrap();
    let out = dir.path().join("out");
    let o = generate_out(&spec, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let tree = read_tree(&out);
    for c in ["cluster0", "cluster1", "cluster2"] {
        let apps = tree
            .keys()
            .filter(|p| p.starts_with(&format!("apps/{c}/")) && p.ends_with("/vaultauth.yaml"))
            .count();
        assert_eq!(apps, 4, "{c}");
    }
}

/// Each cluster's app (`shop/api`, kv data `{"k": <cluster>}` written by the caller) logs in
/// at its own mount `kubernetes-<cluster>` and reads exactly its own path, none of the others'.
fn each_app_reads_exactly_its_own(bao: &Bao, clusters: &[Cluster]) {
    for c in clusters {
        let (status, token) = login(
            bao,
            &format!("kubernetes-{}", c.name),
            "shop-api",
            &sa_jwt("shop", "api", &["vault"]),
        );
        assert_eq!(status, 200, "{} cannot log in", c.name);
        let token = token.unwrap();
        for other in clusters {
            let (status, body) = bao.api_as(
                &token,
                "GET",
                &format!("apps-kv/data/{}/shop/api", other.name),
                None,
            );
            if other.name == c.name {
                assert_eq!(status, 200, "{}", body);
                assert_eq!(body["data"]["data"]["k"], c.name);
            } else {
                assert_eq!(status, 403, "{} reads {}'s secret", c.name, other.name);
            }
        }
    }
}
