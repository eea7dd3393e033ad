//! Where a fleet's Vault runs: one shared Vault (`fixtures/fleet.yaml`, run by production)
//! or one in each cluster (`fixtures/fleet-per-cluster.yaml`), and everything in between
//! refused with exit 2 naming the line, the field and the cluster; what a cluster without
//! Vault generates, and what `operator` and `configure --script` say about it.

use crate::support::common::*;

fn shared() -> String {
    std::fs::read_to_string(fixture("fleet.yaml")).unwrap()
}

fn per_cluster() -> String {
    std::fs::read_to_string(fixture("fleet-per-cluster.yaml")).unwrap()
}

/// `generate` of `text` (as `fleet.yaml`, with `extra`): exit 2, each of `expect` in stderr,
/// nothing written.
fn refused(text: &str, extra: &[&str], expect: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fleet.yaml");
    std::fs::write(&spec, text).unwrap();
    let out = dir.path().join("out");
    let o = bin()
        .args(["generate", "-f", spec.to_str().unwrap(), "--out"])
        .arg(&out)
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    for e in expect {
        assert!(stderr(&o).contains(e), "missing {e:?} in:\n{}", stderr(&o));
    }
    assert!(!out.exists(), "nothing written");
    stderr(&o)
}

#[test]
fn a_cluster_without_vault_needs_each_piece_of_a_login_from_elsewhere() {
    let fleet = shared();
    // Each piece staging's mount needs in production's Vault, named with the cluster, at the
    // line it is missing from (or wrong at).
    for (from, to, line, field) in [
        (
            "        host: https://api.staging.example.com:6443\n",
            "        host: https://kubernetes.default.svc:443\n",
            "fleet.yaml:55:",
            "`https://kubernetes.default.svc:443` is the API server of the cluster Vault runs in, not cluster staging's",
        ),
        (
            "        caCertFrom: file:staging-ca.crt\n",
            "",
            "fleet.yaml:54:",
            "caCertFrom is missing",
        ),
        (
            "        disableLocalCaJwt: true\n",
            "        disableLocalCaJwt: false\n",
            "fleet.yaml:57:",
            "without disableLocalCaJwt the Vault reviews logins with the token and CA of the pod it runs in",
        ),
        (
            "        tokenReviewer:         # vault-token-reviewer in vault-secrets-operator, generated\n          mode: serviceAccount\n          jwtFrom: env:STAGING_REVIEWER_JWT\n",
            "",
            "fleet.yaml:54:",
            "tokenReviewer is missing",
        ),
        (
            "    operator:\n      address: https://vault.production.example.com:8200   # production's Vault, as staging reaches it\n",
            "",
            "fleet.yaml:18:",
            "operator.address is required",
        ),
        (
            "      address: https://vault.production.example.com:8200   # production's Vault, as staging reaches it\n",
            "      address: https://vault-active.vault.svc.cluster.local:8200\n",
            "fleet.yaml:52:",
            "is the in-cluster address of a Vault this cluster does not run",
        ),
    ] {
        assert!(fleet.contains(from), "{from}");
        refused(
            &fleet.replace(from, to),
            &[],
            &[line, "cluster staging runs no Vault (vault.deploy: false)", field],
        );
    }
    // The reviewer JWT a serviceAccount reviewer needs is named too.
    refused(
        &fleet.replace("          jwtFrom: env:STAGING_REVIEWER_JWT\n", ""),
        &[],
        &["fleet.yaml:59:", "mode serviceAccount needs `jwtFrom`"],
    );
    // What only a Vault in the cluster serves.
    refused(
        &fleet.replace(
            "    - name: webapp\n      namespace: shop\n      secrets:\n",
            "    - name: webapp\n      namespace: shop\n      consumer: csi\n      secrets:\n",
        ),
        &[],
        &[
            "defaults.apps[0].consumer: cluster staging runs no Vault (vault.deploy: false): consumer csi needs the CSI provider of the Vault chart",
        ],
    );
}

#[test]
fn a_fleet_runs_one_shared_vault_or_one_in_each_cluster_and_nothing_in_between() {
    // Three clusters, two of them with a Vault of their own.
    let three = format!(
        "{}\n  - name: qa\n    context: kind-qa\n    vault: {{deploy: false}}\n    operator: {{address: https://vault.staging.example.com:8200}}\n    vaultConfig:\n      kubernetesAuth: {{host: https://api.qa.example.com:6443, caCertFrom: file:qa-ca.crt, disableLocalCaJwt: true, tokenReviewer: {{mode: client}}}}\n      databases: {{shop-db: {{passwordFrom: env:QA_DB_PASSWORD}}}}\n",
        per_cluster()
    );
    let err = refused(
        &three,
        &[],
        &[
            "fleet.yaml:62:",
            "clusters staging, production run a Vault of their own and qa does not: a fleet runs one Vault for every cluster, or one in each",
            "write `vault.deploy: false` in every cluster but the one that runs it",
        ],
    );
    assert!(
        err.contains("(1 error)"),
        "only the topology is said: {err}"
    );
    // One shared Vault, two addresses for it.
    refused(
        &shared().replace(
            "    vaultConfig:\n      kubernetesAuth:          # staging's",
            "    vaultConfig:\n      address: https://vault.a.example.com:8200\n      kubernetesAuth:          # staging's",
        )
        .replace(
            "    vaultConfig:\n      kubernetesAuth:          # Vault runs here",
            "    vaultConfig:\n      address: https://vault.b.example.com:8200\n      kubernetesAuth:          # Vault runs here",
        ),
        &[],
        &["clusters[1].vaultConfig.address: clusters staging and production share one Vault, but name different vaultConfig.address"],
    );
    // A Vault in each cluster, one address for both.
    refused(
        &per_cluster().replace(
            "https://vault.production.example.com:8200",
            "https://vault.staging.example.com:8200",
        ),
        &[],
        &[
            "fleet.yaml:66:",
            "clusters staging and production each run their own Vault, but name one vaultConfig.address",
        ],
    );
    // In one shared Vault a path granted to both clusters' apps is a warning (an error under
    // --strict), naming the path and the clusters; in a Vault per cluster it is not shared.
    let shared_role = shared()
        .replace(
            "database: shop-db/webapp-production",
            "database: shop-db/webapp-staging",
        )
        .replace(
            "          roles:\n            webapp-production:",
            "          roles:\n            webapp-staging:",
        )
        .replace(
            "kv: kvv2/production/webapp/config",
            "kv: kvv2/staging/webapp/config",
        );
    let err = refused(
        &shared_role,
        &["--strict"],
        &[
            "fleet.yaml:91:",
            "`shop-db/creds/webapp-staging` is granted to apps of clusters staging (shop/webapp) and production (shop/webapp) in the one Vault they share",
            "`kvv2/data/staging/webapp/config` is granted to apps of clusters staging (shop/webapp) and production (shop/webapp)",
            "(an error under --strict)",
        ],
    );
    assert!(
        err.contains("e.g. `database: shop-db/webapp-staging-production`"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fleet.yaml");
    std::fs::write(&spec, &shared_role).unwrap();
    let o = bin()
        .args(["generate", "-f", spec.to_str().unwrap(), "--out"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning"), "{}", stderr(&o));
    let o = bin()
        .args(["generate", "--strict", "-f"])
        .arg(fixture("fleet-per-cluster.yaml"))
        .arg("--out")
        .arg(dir.path().join("per-cluster"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn operator_commands_refuse_a_cluster_without_vault_naming_where_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n",
    )
    .unwrap();
    let operator = |spec: &std::path::Path, args: &[&str]| {
        bin()
            .arg("operator")
            .args(args)
            .arg("-f")
            .arg(spec)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .env_remove("KUBECONFIG")
            .output()
            .unwrap()
    };
    let snapshot = dir.path().join("backup.snap");
    for args in [
        &["status", "--cluster", "staging"][..],
        &["init", "--cluster", "staging"],
        &["unseal", "--cluster", "staging"],
        &[
            "snapshot",
            "save",
            snapshot.to_str().unwrap(),
            "--cluster",
            "staging",
        ],
    ] {
        let o = operator(&fixture("fleet.yaml"), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("cluster staging runs no Vault (vault.deploy: false): its operator and apps use the Vault run by cluster production, at https://vault.production.example.com:8200")
                && err.contains("--cluster production"),
            "{args:?}: {err}"
        );
        assert!(!snapshot.exists());
    }
    // Without --cluster, the cluster that runs the shared Vault (its context is then the
    // spec's, which this kubeconfig lacks).
    let o = operator(&fixture("fleet.yaml"), &["status"]);
    assert!(stderr(&o).contains("kind-production"), "{}", stderr(&o));
    // A Vault in each cluster: one of them must be named.
    let o = operator(&fixture("fleet-per-cluster.yaml"), &["status"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("pass --cluster NAME"), "{}", stderr(&o));
    // A single cluster that runs no Vault.
    let spec = dir.path().join("vault.yaml");
    std::fs::write(
        &spec,
        "apiVersion: kubectl-vault/v1alpha1\nkind: VaultStack\ncluster: edge\nvault: {deploy: false}\noperator:\n  chart: {version: 1.4.1}\n  address: https://vault.example.com:8200\nvaultConfig:\n  kubernetesAuth:\n    host: https://203.0.113.10:6443\n    caCertFrom: file:ca.crt\n    disableLocalCaJwt: true\n    tokenReviewer: {mode: client}\n",
    )
    .unwrap();
    let o = operator(&spec, &["status"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    insta::assert_snapshot!("operator_without_vault", stderr(&o));
}

#[test]
fn the_script_names_the_vault_it_configures_in_each_topology() {
    let script = |spec: &str, cluster: &str| {
        let o = bin()
            .args(["configure", "--script", "--cluster", cluster, "-f"])
            .arg(fixture(spec))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    let header = |text: &str| {
        text.lines()
            .filter(|l| l.starts_with("# The Vault it configures") || l.contains("VAULT_ADDR="))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let all = [
        ("fleet.yaml", "staging"),
        ("fleet.yaml", "production"),
        ("fleet-per-cluster.yaml", "staging"),
        ("fleet-per-cluster.yaml", "production"),
    ]
    .iter()
    .map(|(spec, cluster)| {
        format!(
            "{spec} --cluster {cluster}:\n{}",
            header(&script(spec, cluster))
        )
    })
    .collect::<Vec<_>>()
    .join("\n\n");
    insta::assert_snapshot!("fleet_script_headers", all);
    // Staging's mount in production's Vault: staging's API server, CA and reviewer.
    let staging = script("fleet.yaml", "staging");
    for line in [
        "kubernetes_host=https://api.staging.example.com:6443",
        "kubernetes_ca_cert=@staging-ca.crt",
        "token_reviewer_jwt=-",
        "disable_local_ca_jwt=true",
    ] {
        assert!(staging.contains(line), "{line}:\n{staging}");
    }
}

#[test]
fn the_fleet_with_a_vault_per_cluster_generates_a_vault_in_each() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = bin()
        .args(["generate", "--strict", "-f"])
        .arg(fixture("fleet-per-cluster.yaml"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let tree = read_tree(&out);
    insta::assert_snapshot!("fleet_per_cluster_example", tree_text(&tree));
    for c in ["staging", "production"] {
        assert!(tree.contains_key(&format!("infrastructure/{c}/vault/helmrelease.yaml")));
        assert!(tree[&format!("apps/{c}/_vault-apps/vault-connection.yaml")]
            .contains("address: \"https://vault-active.vault.svc.cluster.local:8200\""));
    }
}

#[test]
fn both_topologies_commit_and_a_cluster_that_stops_running_vault_loses_its_vault_folder() {
    use crate::fleet::{commit, head_files, new_repo};
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (path, repo) = new_repo(home);
    let spec = home.join("fleet.yaml");
    // A Vault in each cluster, committed.
    std::fs::write(&spec, per_cluster()).unwrap();
    let o = commit(home, &spec, &path);
    assert!(o.status.success(), "{}", stderr(&o));
    let files = head_files(&repo);
    for c in ["staging", "production"] {
        assert!(files.contains_key(&format!("infrastructure/{c}/vault/helmrelease.yaml")));
        assert!(files.contains_key(&format!("clusters/{c}/vault.yaml")));
    }
    // Then one shared Vault, run by production: staging's Vault stage and folder go, its token
    // reviewer comes beside its operator; production keeps its Vault.
    std::fs::write(&spec, shared()).unwrap();
    let o = commit(home, &spec, &path);
    assert!(o.status.success(), "{}", stderr(&o));
    let files = head_files(&repo);
    assert!(
        !files
            .keys()
            .any(|p| p.starts_with("infrastructure/staging/vault/")),
        "{:?}",
        files.keys().collect::<Vec<_>>()
    );
    assert!(!files.contains_key("clusters/staging/vault.yaml"));
    assert!(files.contains_key("infrastructure/staging/vault-secrets-operator/token-review.yaml"));
    assert!(files.contains_key("infrastructure/production/vault/helmrelease.yaml"));
    let o = commit(home, &spec, &path);
    assert!(stdout(&o).contains("up to date"), "{}", stdout(&o));
}

#[test]
fn a_single_cluster_without_vault_generates_no_vault_stage_and_reaches_the_vault_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("vault.yaml");
    std::fs::write(
        &spec,
        r#"apiVersion: kubectl-vault/v1alpha1
kind: VaultStack
cluster: edge
vault: {deploy: false}
operator:
  chart: {version: 1.4.1}
  address: https://vault.example.com:8200
  caCertSecret: vault-ca
apps:
  - name: api
    namespace: shop
    secrets:
      - {name: api-config, kv: kv/shop/api}
  - name: worker
    namespace: shop
    consumer: eso
    secrets:
      - {name: worker-config, kv: kv/shop/worker}
vaultConfig:
  kubernetesAuth:
    host: https://203.0.113.10:6443
    caCertFrom: file:ca.crt
    disableLocalCaJwt: true
    tokenReviewer: {mode: serviceAccount, jwtFrom: env:EDGE_REVIEWER_JWT}
"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = bin()
        .args([
            "generate",
            "--strict",
            "-f",
            spec.to_str().unwrap(),
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let tree = read_tree(&out);
    assert!(!tree
        .keys()
        .any(|p| p.starts_with("infrastructure/edge/vault/")));
    assert!(!tree.contains_key("clusters/edge/vault.yaml"));
    // No stage waits for a Vault stage (the ESO apps, cert-manager's issuer included).
    for (path, k) in tree.iter().filter(|(p, _)| p.starts_with("clusters/edge/")) {
        assert!(!k.contains("- name: vault\n"), "{path}: {k}");
    }
    let operator = "infrastructure/edge/vault-secrets-operator";
    for file in ["namespace.yaml", "helmrepository.yaml", "token-review.yaml"] {
        assert!(tree.contains_key(&format!("{operator}/{file}")), "{file}");
    }
    assert!(tree[&format!("{operator}/token-review.yaml")]
        .contains("namespace: vault-secrets-operator"));
    let store = &tree["apps/edge/shop/worker/secretstore-worker.yaml"];
    assert!(
        store.contains("server: \"https://vault.example.com:8200\"") && store.contains("vault-ca"),
        "{store}"
    );
    // Its script says which Vault it configures, and the reviewer's namespace.
    let script = &tree["vault-config/edge/configure.sh"];
    assert!(script.contains(
        "# The Vault it configures: the Vault outside this cluster that its operator uses (https://vault.example.com:8200)."
    ));
    assert!(script.contains("ServiceAccount vault-secrets-operator/vault-token-reviewer"));
}

#[test]
fn verify_against_vault_takes_each_clusters_own_vault_or_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fleet.yaml");
    let without: String = per_cluster()
        .lines()
        .filter(|l| !l.starts_with("      address: "))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&spec, without).unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n",
    )
    .unwrap();
    let o = bin()
        .args(["verify", "--vault", "-f"])
        .arg(&spec)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .env("VAULT_ADDR", "http://127.0.0.1:9")
        .env("VAULT_TOKEN", "t")
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o)
            .contains("runs its own Vault, and staging, production have no vaultConfig.address"),
        "{}",
        stderr(&o)
    );
}
