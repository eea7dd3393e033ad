//! `generate` end to end: the real binary on the bundled fixtures.

use crate::support::common::*;
use kubectl_vault::core::header;

/// Generates `fixture` into a fresh folder and returns the tree.
fn generate(fixture_name: &str) -> std::collections::BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "-f",
        fixture(fixture_name).to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        o.status.success(),
        "generate {fixture_name} failed: {}",
        stderr(&o)
    );
    read_tree(&out)
}

#[test]
fn example_tree_snapshot() {
    insta::assert_snapshot!("example", tree_text(&generate("example.yaml")));
}

#[test]
fn minimal_tree_snapshot() {
    insta::assert_snapshot!("minimal", tree_text(&generate("minimal.yaml")));
}

#[test]
fn production_tree_snapshot() {
    insta::assert_snapshot!("production", tree_text(&generate("production.yaml")));
}

#[test]
fn production_1x_tree_snapshot() {
    insta::assert_snapshot!("production_1x", tree_text(&generate("production-1x.yaml")));
}

#[test]
fn long_forms_tree_snapshot() {
    insta::assert_snapshot!("long_forms", tree_text(&generate("long-forms.yaml")));
}

#[test]
fn consumers_tree_snapshot() {
    insta::assert_snapshot!("consumers", tree_text(&generate("consumers.yaml")));
}

/// The injector's Components for a Deployment, a Job and a CronJob (batch/v1, the pod
/// template in the jobTemplate; the Job's and CronJob's with agent-pre-populate-only).
#[test]
fn injector_jobs_tree_snapshot() {
    insta::assert_snapshot!("injector_jobs", tree_text(&generate("injector-jobs.yaml")));
}

#[test]
fn output_is_byte_identical_across_runs() {
    for f in [
        "example.yaml",
        "production.yaml",
        "long-forms.yaml",
        "consumers.yaml",
    ] {
        assert_eq!(generate(f), generate(f), "{f}: trees differ between runs");
        let a = run(&["generate", "-f", fixture(f).to_str().unwrap()]);
        let b = run(&["generate", "-f", fixture(f).to_str().unwrap()]);
        assert_eq!(a.stdout, b.stdout, "{f}: stdout differs between runs");
    }
}

#[test]
fn every_file_has_a_valid_header_and_every_object_is_labelled() {
    for f in [
        "example.yaml",
        "minimal.yaml",
        "production.yaml",
        "long-forms.yaml",
        "consumers.yaml",
    ] {
        for (path, content) in generate(f) {
            let stamp =
                header::read(&content).unwrap_or_else(|| panic!("{f}: {path} has no header"));
            assert!(
                !stamp.is_hand_edited(),
                "{f}: {path}: header hash does not match the body"
            );
            // The owner is the cluster, never the spec's file name (renaming it changes nothing).
            assert!(
                stamp.cluster.is_some() && !content.lines().next().unwrap_or_default().contains(f),
                "{f}: {path}: the header names its cluster, not the spec file"
            );
            assert!(
                content.contains(concat!("kubectl-vault ", env!("CARGO_PKG_VERSION"))),
                "{path}: no version"
            );
            // The injector's patch merges into the user's workload: it adds no label to it.
            let patch = path.ends_with("/vault-agent/patch.yaml");
            if path.ends_with(".yaml") && !path.ends_with("kustomization.yaml") && !patch {
                for doc in content.split("\n---\n") {
                    assert!(
                        doc.contains("app.kubernetes.io/managed-by: kubectl-vault"),
                        "{f}: {path} lacks managed-by"
                    );
                }
            }
        }
    }
}

#[test]
fn layout_follows_flux_conventions() {
    let tree = generate("example.yaml");
    let cluster: Vec<&String> = tree
        .keys()
        .filter(|p| p.starts_with("clusters/homelab/"))
        .collect();
    assert_eq!(
        cluster,
        [
            "clusters/homelab/vault-apps.yaml",
            "clusters/homelab/vault-namespaces.yaml",
            "clusters/homelab/vault-secrets-operator.yaml",
            "clusters/homelab/vault.yaml"
        ]
    );
    // Flux's root Kustomization applies clusters/<cluster>/ as a plain folder: no kustomization.yaml
    // there, and never the spec.
    assert!(!tree
        .keys()
        .any(|p| p.starts_with("clusters/") && p.ends_with("kustomization.yaml")));
    assert!(!tree.values().any(|c| c.contains("kind: VaultStack")));
    // The Vault side lives outside every folder Flux applies.
    assert!(tree.contains_key("vault-config/homelab/configure.sh"));
    assert!(tree.contains_key("vault-config/homelab/policies/homelab-app-webapp.hcl"));
    for k in [
        "clusters/homelab/vault.yaml",
        "clusters/homelab/vault-secrets-operator.yaml",
        "clusters/homelab/vault-apps.yaml",
    ] {
        assert!(
            !tree[k].contains("vault-config"),
            "{k} must not point Flux at vault-config/"
        );
    }
    // Dependency order: vault → operator → apps.
    assert!(tree["clusters/homelab/vault-secrets-operator.yaml"]
        .contains("dependsOn:\n    - name: vault\n"));
    assert!(tree["clusters/homelab/vault-apps.yaml"]
        .contains("dependsOn:\n    - name: vault-secrets-operator\n"));
    // Health checks for the VSO the example pins (0.10.0: no conditions on the secret kinds;
    // tests/health_checks.rs evaluates them), not vacuously true, retried after a failure.
    let apps = &tree["clusters/homelab/vault-apps.yaml"];
    assert!(apps.contains("status.lastGeneration == metadata.generation"));
    assert!(!apps.contains("c.type == 'SecretSynced'"));
    assert!(!apps.contains(".all("));
    assert!(apps.contains("retryInterval:"));
}

#[test]
fn policies_grant_exactly_the_declared_paths() {
    let tree = generate("example.yaml");
    let policy = &tree["vault-config/homelab/policies/homelab-app-webapp.hcl"];
    let paths: Vec<&str> = policy.lines().filter(|l| l.starts_with("path ")).collect();
    assert_eq!(
        paths,
        [
            "path \"demo-db/creds/dev-postgres\" {",
            "path \"kvv2/data/webapp/config\" {",
            "path \"pki_int/issue/internal-tls\" {"
        ]
    );
    assert!(!policy.contains('*'), "no wildcards");
    let long = generate("long-forms.yaml");
    let p = &long["vault-config/lab/policies/lab-jobs-worker.hcl"];
    assert!(
        p.contains("path \"teams/jobs/kv/data/worker/config\""),
        "kv-v2 reads MOUNT/data/PATH"
    );
    assert!(
        p.contains("path \"teams/jobs/kv1/worker/legacy\""),
        "kv-v1 reads MOUNT/PATH"
    );
    assert!(p.contains(
        "path \"teams/jobs/pki/issue/worker\" {\n  capabilities = [\"create\", \"update\"]"
    ));
}

#[test]
fn no_secret_value_reaches_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gitops");
    let secret = "pa55-w0rd-that-must-not-leak";
    let o = bin()
        .args([
            "generate",
            "-f",
            fixture("example.yaml").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .env("DEMO_DB_PASSWORD", secret)
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(!stdout(&o).contains(secret) && !stderr(&o).contains(secret));
    for (path, content) in read_tree(&out) {
        assert!(!content.contains(secret), "{path} contains the password");
        assert!(!content.contains("kind: Secret\n"), "{path} is a Secret");
    }
    // The script references the variable instead, and hands the value to Vault on stdin.
    let script = std::fs::read_to_string(out.join("vault-config/homelab/configure.sh")).unwrap();
    assert!(script.contains("require_env DEMO_DB_PASSWORD "), "{script}");
    assert!(
        script.contains("printf '%s' \"$DEMO_DB_PASSWORD\" | vault write -- "),
        "{script}"
    );
}

#[test]
fn stdout_stream_holds_every_object_once() {
    let o = run(&["generate", "-f", fixture("example.yaml").to_str().unwrap()]);
    assert!(o.status.success());
    let s = stdout(&o);
    for kind in [
        "Namespace",
        "HelmRepository",
        "HelmRelease",
        "VaultConnection",
        "VaultAuth",
        "ServiceAccount",
        "VaultStaticSecret",
        "VaultDynamicSecret",
        "VaultPKISecret",
        "Kustomization",
    ] {
        assert!(
            s.contains(&format!("\nkind: {kind}\n")),
            "no {kind} in the stream"
        );
    }
    assert_eq!(s.matches("\nkind: VaultStaticSecret\n").count(), 1);
    assert!(!s.contains("kind: VaultStack"));
    assert!(
        !s.contains("kustomize.config.k8s.io"),
        "kustomization.yaml files are not objects"
    );
    // Warnings go to stderr and do not fail.
    assert!(stderr(&o).contains("warning: vault.tls: TLS is off"));
}

#[test]
fn strict_turns_warnings_into_errors_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "--strict",
        "-f",
        fixture("example.yaml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("example.yaml:17:8: vault.tls: TLS is off"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

#[test]
fn init_prints_a_starter_that_generates_clean_under_strict() {
    let o = run(&["init"]);
    assert!(o.status.success());
    // The yaml-language-server modeline (the schema of this version), then the starter.
    assert_eq!(
        stdout(&o),
        format!(
            "# yaml-language-server: $schema=https://raw.githubusercontent.com/kubectl-vault/kubectl-vault/v{}/schema/vault-spec.schema.json\n{}",
            env!("CARGO_PKG_VERSION"),
            std::fs::read_to_string(fixture("starter.yaml")).unwrap()
        )
    );
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("vault.yaml");
    std::fs::write(&spec, &o.stdout).unwrap();
    let g = bin()
        .current_dir(dir.path())
        .args(["generate", "--strict", "--out", "gitops"])
        .output()
        .unwrap();
    assert!(g.status.success(), "{}", stderr(&g));
    assert!(
        !stderr(&g).contains("warning"),
        "not one warning: {}",
        stderr(&g)
    );
    // The newest versions the tool supports (what the references hold).
    let text = stdout(&o);
    assert!(
        text.contains("version: 0.34.1") && text.contains("version: 1.4.1"),
        "{text}"
    );
    // Its comments say what is true: one replica is a single raft node, not "standalone".
    assert!(!text.contains("standalone"), "{text}");
    assert!(dir
        .path()
        .join("gitops/apps/homelab/app/webapp/vaultauth.yaml")
        .exists());
}

#[test]
fn template_overrides_apply_and_are_self_checked() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("templates/core");
    std::fs::create_dir_all(&tpl).unwrap();
    std::fs::write(
        tpl.join("namespace.yaml.j2"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ name | q }}\n  labels:\n    app.kubernetes.io/managed-by: kubectl-vault\n    team: platform\n  annotations:\n    kustomize.toolkit.fluxcd.io/prune: disabled\n",
    )
    .unwrap();
    let out = dir.path().join("gitops");
    let spec = fixture("minimal.yaml");
    let args = |out: &std::path::Path| {
        vec![
            "generate".to_string(),
            "-f".into(),
            spec.to_str().unwrap().into(),
            "--templates".into(),
            dir.path().join("templates").to_str().unwrap().into(),
            "--out".into(),
            out.to_str().unwrap().into(),
        ]
    };
    let o = bin().args(args(&out)).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::read_to_string(out.join("apps/dev/_vault-namespaces/namespace-shop.yaml"))
            .unwrap()
            .contains("team: platform")
    );

    // A broken override (a field no CRD has) fails the self-check: exit 70, nothing written.
    std::fs::create_dir_all(dir.path().join("templates/vso")).unwrap();
    std::fs::write(
        dir.path().join("templates/vso/vaultauth.yaml.j2"),
        "apiVersion: secrets.hashicorp.com/v1beta1\nkind: VaultAuth\nmetadata:\n  name: {{ name }}\n  namespace: {{ namespace }}\n  labels:\n    app.kubernetes.io/managed-by: kubectl-vault\nspec:\n  method: kubernetes\n  mount: kubernetes\n  tlsSecretRef: oops\n  kubernetes:\n    role: {{ role }}\n    serviceAccount: {{ service_account }}\n    audiences: [vault]\n",
    )
    .unwrap();
    let out2 = dir.path().join("gitops2");
    let o = bin().args(args(&out2)).output().unwrap();
    assert_eq!(o.status.code(), Some(70), "{}", stderr(&o));
    redactions(&[(dir.path(), "TMP")])
        .bind(|| insta::assert_snapshot!("self_check_unknown_field", stderr(&o)));
    assert!(!out2.exists());

    // An override that replaces no template is a usage error.
    std::fs::write(dir.path().join("templates/vso/vaultsecret.yaml.j2"), "x").unwrap();
    let o = bin().args(args(&out2)).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    redactions(&[(dir.path(), "TMP")])
        .bind(|| insta::assert_snapshot!("template_override_replaces_nothing", stderr(&o)));
}

#[test]
fn usage_errors_exit_2() {
    let o = run(&["generate", "-f", "/nonexistent/vault.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read the spec"));
    let o = run(&["generate", "--no-such-flag"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn thousand_apps_generate_and_self_check() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("big.yaml");
    std::fs::write(&spec, crate::support::big_spec::big_spec(1000, 3)).unwrap();
    let o = run(&["generate", "-f", spec.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).matches("\nkind: VaultStaticSecret\n").count(),
        1000
    );
    assert_eq!(stdout(&o).matches("\nkind: VaultAuth\n").count(), 1000);
}

// ---------- what a real cluster needs (issue 9) ----------

/// Every object of a tree: (file, object).
fn objects(tree: &std::collections::BTreeMap<String, String>) -> Vec<(String, serde_json::Value)> {
    let mut out = vec![];
    for (path, body) in tree {
        if !path.ends_with(".yaml") || path.ends_with("/kustomization.yaml") {
            continue;
        }
        for doc in serde_yaml::Deserializer::from_str(body) {
            let v: serde_json::Value = serde::Deserialize::deserialize(doc).unwrap();
            out.push((path.clone(), v));
        }
    }
    out
}

fn find<'a>(
    objs: &'a [(String, serde_json::Value)],
    kind: &str,
    name: &str,
) -> &'a serde_json::Value {
    &objs
        .iter()
        .find(|(_, o)| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
        .1
}

fn generate_text(
    spec: &str,
) -> (
    std::process::Output,
    std::collections::BTreeMap<String, String>,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.yaml");
    std::fs::write(&path, spec).unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "-f",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let tree = if out.exists() {
        read_tree(&out)
    } else {
        Default::default()
    };
    (o, tree)
}

const PRUNE: &str = "kustomize.toolkit.fluxcd.io/prune";

#[test]
fn a_prune_never_deletes_a_namespace_or_vault() {
    let example = std::fs::read_to_string(fixture("example.yaml")).unwrap();
    let (o, before) = generate_text(&example);
    assert!(o.status.success(), "{}", stderr(&o));
    // The last app of its namespace removed, and vault.namespace renamed.
    let apps_at = example.find("\napps:\n").unwrap();
    let config_at = example.find("\nvaultConfig:").unwrap();
    let changed = format!(
        "{}\napps: []\n{}",
        &example[..apps_at],
        &example[config_at..]
    )
    .replace("  namespace: vault\n", "  namespace: vault-prod\n");
    let (o, after) = generate_text(&changed);
    assert!(o.status.success(), "{}", stderr(&o));
    let key = |o: &serde_json::Value| {
        format!(
            "{}/{}/{}",
            o["kind"].as_str().unwrap(),
            o["metadata"]["namespace"].as_str().unwrap_or(""),
            o["metadata"]["name"].as_str().unwrap()
        )
    };
    let kept: std::collections::BTreeSet<String> =
        objects(&after).iter().map(|(_, o)| key(o)).collect();
    let removed: Vec<serde_json::Value> = objects(&before)
        .into_iter()
        .map(|(_, o)| o)
        .filter(|o| !kept.contains(&key(o)))
        .collect();
    let removed_keys: Vec<String> = removed.iter().map(key).collect();
    assert!(
        removed_keys.contains(&"Namespace//app".to_string()),
        "{removed_keys:?}"
    );
    assert!(
        removed_keys.contains(&"Namespace//vault".to_string()),
        "{removed_keys:?}"
    );
    assert!(
        removed_keys.contains(&"HelmRelease/vault/vault".to_string()),
        "{removed_keys:?}"
    );
    // Flux reads the annotation from the object in the cluster, i.e. as the old tree applied it.
    for o in &removed {
        let holds_data = o["kind"] == "Namespace"
            || (o["kind"] == "HelmRelease" && o["spec"]["chart"]["spec"]["chart"] == "vault");
        if holds_data {
            assert_eq!(
                o["metadata"]["annotations"][PRUNE],
                "disabled",
                "{} would be deleted by the prune",
                key(o)
            );
        }
    }
    // And in every tree: every Namespace and the Vault HelmRelease carry it.
    for f in [
        "example.yaml",
        "minimal.yaml",
        "production.yaml",
        "production-1x.yaml",
    ] {
        for (path, o) in objects(&generate(f)) {
            if o["kind"] == "Namespace" {
                assert_eq!(
                    o["metadata"]["annotations"][PRUNE], "disabled",
                    "{f}: {path}"
                );
            }
        }
    }
}

#[test]
fn the_operator_reaches_the_active_vault_through_one_trusted_connection() {
    let tree = generate("production-1x.yaml");
    let objs = objects(&tree);
    let connections: Vec<_> = objs
        .iter()
        .filter(|(_, o)| o["kind"] == "VaultConnection")
        .collect();
    assert_eq!(connections.len(), 1, "one VaultConnection");
    let c = &connections[0].1;
    // HA: only the unsealed leader, never a service that includes sealed standbys.
    assert_eq!(
        c["spec"]["address"],
        "https://vault-active.vault-system.svc.cluster.local:8200"
    );
    assert_eq!(c["spec"]["caCertSecretRef"], "vault-ca");
    assert_eq!(c["metadata"]["namespace"], "vso");
    let operator = find(&objs, "HelmRelease", "vault-secrets-operator");
    let values = &operator["spec"]["values"];
    // The chart's own default connection would be a second, identical one.
    assert_eq!(values["defaultVaultConnection"]["enabled"], false);
    assert_eq!(
        values["controller"]["manager"]["clientCache"]["storageEncryption"]["vaultConnectionRef"],
        "vault"
    );
    // Every VaultAuth uses it.
    for (path, o) in &objs {
        if o["kind"] == "VaultAuth" {
            assert_eq!(o["spec"]["vaultConnectionRef"], "vso/vault", "{path}");
        }
    }

    // With the CA left where the TLS secret is (another namespace), generate says what is missing.
    let o = run(&[
        "generate",
        "-f",
        fixture("production.yaml").to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("the operator reads Vault's CA from Secret `vault-server-tls` (key ca.crt) in namespace `vso`"),
        "{err}"
    );
    assert!(err.contains("operator.caCertSecret"), "{err}");
    // An external https address gets a way to name its CA.
    let spec = std::fs::read_to_string(fixture("minimal.yaml"))
        .unwrap()
        .replace(
            "operator:\n",
            "operator:\n  address: https://vault.example.com:8200\n  caCertSecret: corp-ca\n",
        );
    let (o, tree) = generate_text(&spec);
    assert!(o.status.success(), "{}", stderr(&o));
    let objs = objects(&tree);
    let c = find(&objs, "VaultConnection", "vault");
    assert_eq!(c["spec"]["address"], "https://vault.example.com:8200");
    assert_eq!(c["spec"]["caCertSecretRef"], "corp-ca");
}

#[test]
fn a_cluster_issuer_provides_the_certificate_and_carries_its_ca_to_the_operator() {
    let spec = std::fs::read_to_string(fixture("production-1x.yaml"))
        .unwrap()
        .replace("  caCertSecret: vault-ca\n", "")
        .replace(
            "  tls: vault-server-tls\n",
            "  tls: vault-server-tls\n  tlsIssuer: internal-ca\n",
        );
    let (o, tree) = generate_text(&spec);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !stderr(&o).contains("ca.crt"),
        "nothing is missing: {}",
        stderr(&o)
    );
    let objs = objects(&tree);
    let vault_cert = &objs
        .iter()
        .find(|(p, o)| o["kind"] == "Certificate" && p.starts_with("platform/prod-eu2/vault/"))
        .expect("Vault's Certificate beside its HelmRelease")
        .1;
    assert_eq!(vault_cert["metadata"]["namespace"], "vault-system");
    assert_eq!(vault_cert["spec"]["secretName"], "vault-server-tls");
    assert_eq!(vault_cert["spec"]["issuerRef"]["kind"], "ClusterIssuer");
    assert_eq!(vault_cert["spec"]["issuerRef"]["name"], "internal-ca");
    let names: Vec<&str> = vault_cert["spec"]["dnsNames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    // Every name a generated address or raft peer uses, and the pod's own 127.0.0.1.
    for needed in [
        "vault.vault-system.svc",
        "vault-active.vault-system.svc.cluster.local",
        "*.vault-internal",
    ] {
        assert!(names.contains(&needed), "{needed} missing from {names:?}");
    }
    assert_eq!(
        vault_cert["spec"]["ipAddresses"],
        serde_json::json!(["127.0.0.1"])
    );
    let hcl = find(&objs, "HelmRelease", "vault")["spec"]["values"]["server"]["ha"]["raft"]
        ["config"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(hcl.contains("leader_api_addr = \"https://vault-0.vault-internal:8200\""));
    // The same issuer puts its CA into the operator namespace, where VSO reads it.
    let carrier = find(&objs, "Certificate", "vault-ca");
    assert_eq!(carrier["metadata"]["namespace"], "vso");
    assert_eq!(carrier["spec"]["issuerRef"]["name"], "internal-ca");
    let c = find(&objs, "VaultConnection", "vault");
    assert_eq!(c["spec"]["caCertSecretRef"], "vault-ca");
    assert_eq!(c["metadata"]["namespace"], "vso");
}

#[test]
fn vault_chart_settings_an_expert_would_choose() {
    // replicas: 1 is single-node raft: scaling up later joins the same data.
    let objs = objects(&generate("minimal.yaml"));
    let vault = find(&objs, "HelmRelease", "vault");
    let server = &vault["spec"]["values"]["server"];
    assert_eq!(server["standalone"]["enabled"], false);
    assert_eq!(server["ha"]["enabled"], true);
    assert_eq!(server["ha"]["replicas"], 1);
    assert_eq!(server["ha"]["raft"]["enabled"], true);
    assert!(server["ha"]["raft"]["config"]
        .as_str()
        .unwrap()
        .contains("storage \"raft\""));
    // No CRD policy: the Vault chart ships no CRDs.
    assert!(vault["spec"]["install"].get("crds").is_none());
    assert!(vault["spec"]["upgrade"].get("crds").is_none());
    // Its pods are Ready only after `vault operator init`/unseal: Helm must not wait for them.
    assert_eq!(vault["spec"]["install"]["disableWait"], true);
    assert_eq!(vault["spec"]["upgrade"]["disableWait"], true);
    assert_eq!(vault["metadata"]["annotations"][PRUNE], "disabled");

    // The injector logs in where kubernetes auth is mounted; the audit device has a volume.
    let objs = objects(&generate("production.yaml"));
    let values = &find(&objs, "HelmRelease", "vault")["spec"]["values"];
    assert_eq!(values["injector"]["authPath"], "auth/k8s-prod");
    assert_eq!(values["server"]["auditStorage"]["enabled"], true);
    let spec = std::fs::read_to_string(fixture("production.yaml"))
        .unwrap()
        .replace("/vault/audit/audit.log", "/var/log/vault-audit.log");
    let (o, _) = generate_text(&spec);
    assert!(
        stderr(&o).contains("`/var/log/vault-audit.log` is outside the audit volume"),
        "{}",
        stderr(&o)
    );
    // Anti-affinity is the chart's default unless turned off.
    assert!(values["server"].get("affinity").is_none());
    // Left implicit with several replicas, generate says how many nodes it takes.
    let o = run(&["generate", "-f", fixture("example.yaml").to_str().unwrap()]);
    assert!(stderr(&o).contains(
        "vault.replicas: 5 replicas with the chart's anti-affinity need 5 schedulable nodes"
    ));
    let spec = std::fs::read_to_string(fixture("minimal.yaml"))
        .unwrap()
        .replace("vault:\n", "vault:\n  antiAffinity: false\n");
    let (o, tree) = generate_text(&spec);
    assert!(o.status.success(), "{}", stderr(&o));
    let objs = objects(&tree);
    assert_eq!(
        find(&objs, "HelmRelease", "vault")["spec"]["values"]["server"]["affinity"],
        ""
    );
}

#[test]
fn certificates_renew_before_they_expire_and_short_leases_are_flagged() {
    // The example's certificate (ttl 72h) renews a third of its life before expiry.
    let objs = objects(&generate("example.yaml"));
    assert_eq!(
        find(&objs, "VaultPKISecret", "webapp-tls")["spec"]["expiryOffset"],
        "24h"
    );
    // An explicit expiryOffset is kept.
    let objs = objects(&generate("production.yaml"));
    assert_eq!(
        find(&objs, "VaultPKISecret", "checkout-tls")["spec"]["expiryOffset"],
        "1h"
    );

    // The example's database role lives 1m and restarts its Deployment on rotation.
    let o = run(&["generate", "-f", fixture("example.yaml").to_str().unwrap()]);
    assert!(o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("apps[0].secrets[1].rollout: the credentials of role `dev-postgres` live 60s"),
        "{err}"
    );

    // TTLs that make no sense together.
    let example = std::fs::read_to_string(fixture("example.yaml")).unwrap();
    let spec = example
        .replace(
            "        ttl: 72h\n",
            "        ttl: 96h\n        expiryOffset: 100h\n",
        )
        .replace("          defaultTtl: 1m\n", "          defaultTtl: 2h\n");
    let (o, _) = generate_text(&spec);
    let err = stderr(&o);
    // The ttl longer than the PKI role's maxTtl, an expiryOffset not shorter than the
    // certificate's lifetime, a defaultTtl longer than maxTtl: each located and explained.
    let mut settings = redactions(&[]);
    settings.add_filter(r"/\S*/\.tmp\w+/", "[TMP]/");
    settings.bind(|| insta::assert_snapshot!("ttl_problems", err));
}

#[test]
fn an_unsupported_operator_version_names_the_supported_range() {
    let o = run(&[
        "generate",
        "-f",
        fixture("bad/unsupported-vso-version.yaml")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.starts_with("unsupported-vso-version.yaml:11:14: operator.chart.version: Vault Secrets Operator chart `0.9.1` is not supported"),
        "{err}"
    );
    assert!(err.contains("0.10.x or 1.x"), "{err}");
}

/// Re-running `generate --out` on an unchanged tree writes nothing and says so; a partial
/// change says how many files were written and how many were left as they were.
#[test]
fn generate_says_what_it_wrote_and_what_was_unchanged() {
    let out = tempfile::tempdir().unwrap();
    let spec = fixture("production.yaml");
    let generate = || {
        let o = run(&[
            "generate",
            "-f",
            spec.to_str().unwrap(),
            "--out",
            out.path().to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        stderr(&o).lines().last().unwrap_or_default().to_string()
    };
    let first = generate();
    assert!(
        first.starts_with("wrote ") && !first.contains("unchanged"),
        "{first}"
    );
    let total: usize = first["wrote ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let second = generate();
    assert!(
        second.starts_with(&format!("{total} files unchanged for cluster "))
            && second.ends_with("nothing to write"),
        "{second}"
    );
    // One generated file edited by hand: it alone is written again.
    let edited = read_tree(out.path())
        .into_keys()
        .find(|p| p.ends_with(".yaml"))
        .unwrap();
    std::fs::write(out.path().join(&edited), "edited\n").unwrap();
    let third = generate();
    assert!(
        third.starts_with(&format!(
            "wrote 1 file ({} unchanged) for cluster ",
            total - 1
        )),
        "{third}"
    );
}

/// Ownership does not depend on the spec's file name: the same spec under another name (or in
/// another folder) generates a byte-identical tree, so renaming it rewrites nothing.
#[test]
fn renaming_the_spec_changes_nothing_in_the_tree() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("example.yaml")).unwrap();
    let first = dir.path().join("vault.yaml");
    std::fs::create_dir_all(dir.path().join("specs")).unwrap();
    let second = dir.path().join("specs/homelab-vault2.yaml");
    std::fs::write(&first, &text).unwrap();
    std::fs::write(&second, &text).unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "-f",
        first.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&[
        "generate",
        "-f",
        second.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unchanged") && stderr(&o).contains("nothing to write"),
        "{}",
        stderr(&o)
    );
    let header = read_tree(&out).into_values().next().unwrap();
    assert!(
        header.lines().next().unwrap().ends_with(
            "for cluster homelab. Do not edit: change the spec and regenerate (kubectl vault generate or commit)."
        ),
        "{header}"
    );
}
