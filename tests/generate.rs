//! `generate` end to end: the real binary on the bundled fixtures.

mod common;
use common::*;
use kubectl_vault::header;

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
fn long_forms_tree_snapshot() {
    insta::assert_snapshot!("long_forms", tree_text(&generate("long-forms.yaml")));
}

#[test]
fn output_is_byte_identical_across_runs() {
    for f in ["example.yaml", "production.yaml", "long-forms.yaml"] {
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
    ] {
        for (path, content) in generate(f) {
            let stamp =
                header::read(&content).unwrap_or_else(|| panic!("{f}: {path} has no header"));
            assert!(
                !stamp.is_hand_edited(),
                "{f}: {path}: header hash does not match the body"
            );
            assert!(
                content.contains(&format!("from {f}.")),
                "{f}: {path}: header does not name the spec"
            );
            assert!(
                content.contains(concat!("kubectl-vault ", env!("CARGO_PKG_VERSION"))),
                "{path}: no version"
            );
            if path.ends_with(".yaml") && !path.ends_with("kustomization.yaml") {
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
    assert!(tree.contains_key("vault-config/homelab/policies/app-webapp.hcl"));
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
    // Health checks that are not vacuously true before VSO writes conditions.
    let apps = &tree["clusters/homelab/vault-apps.yaml"];
    assert!(apps
        .contains("status.conditions.exists(c, c.type == 'SecretSynced' && c.status == 'True')"));
    assert!(!apps.contains(".all("));
}

#[test]
fn policies_grant_exactly_the_declared_paths() {
    let tree = generate("example.yaml");
    let policy = &tree["vault-config/homelab/policies/app-webapp.hcl"];
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
    let p = &long["vault-config/lab/policies/jobs-worker.hcl"];
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
fn init_prints_the_example_and_it_generates() {
    let o = run(&["init"]);
    assert!(o.status.success());
    assert_eq!(
        stdout(&o),
        std::fs::read_to_string(fixture("example.yaml")).unwrap()
    );
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("vault.yaml");
    std::fs::write(&spec, &o.stdout).unwrap();
    let g = bin()
        .current_dir(dir.path())
        .args(["generate", "--out", "gitops"])
        .output()
        .unwrap();
    assert!(g.status.success(), "{}", stderr(&g));
    assert!(dir
        .path()
        .join("gitops/apps/app/webapp/vaultauth.yaml")
        .exists());
}

#[test]
fn template_overrides_apply_and_are_self_checked() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("templates/core");
    std::fs::create_dir_all(&tpl).unwrap();
    std::fs::write(
        tpl.join("namespace.yaml.j2"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ name | q }}\n  labels:\n    app.kubernetes.io/managed-by: kubectl-vault\n    team: platform\n",
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
        std::fs::read_to_string(out.join("apps/shop/namespace.yaml"))
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
    assert!(
        stderr(&o).contains("vaultauth.yaml (from template vso/vaultauth.yaml.j2)"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("tlsSecretRef"), "{}", stderr(&o));
    assert!(!out2.exists());

    // An override that replaces no template is a usage error.
    std::fs::write(dir.path().join("templates/vso/vaultsecret.yaml.j2"), "x").unwrap();
    let o = bin().args(args(&out2)).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("vso/vaultsecret.yaml.j2"));
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
    std::fs::write(&spec, kubectl_vault::bench_support::big_spec(1000, 3)).unwrap();
    let o = run(&["generate", "-f", spec.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).matches("\nkind: VaultStaticSecret\n").count(),
        1000
    );
    assert_eq!(stdout(&o).matches("\nkind: VaultAuth\n").count(), 1000);
}
