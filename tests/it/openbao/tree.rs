//! The OpenBao tree: the chart, its names and values (checked against the chart's own values
//! schema, fixtures/charts/openbao/), the consumers' providers, and what the spec refuses.

use super::*;

#[test]
fn openbao_tree_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let tree = generate_spec(&fixture("openbao.yaml"), &dir.path().join("gitops"));
    insta::assert_snapshot!("openbao", tree_text(&tree));
}

fn chart_yaml() -> Json {
    yaml(&std::fs::read_to_string(fixture("charts/openbao/Chart.yaml")).unwrap())
}

fn values_validator() -> jsonschema::Validator {
    let mut schema: Json = serde_json::from_str(
        &std::fs::read_to_string(fixture("charts/openbao/values.schema.json")).unwrap(),
    )
    .unwrap();
    // `"$schema": "http://json-schema.org/schema#"` names no draft (and would be fetched):
    // read as draft 7, as Helm does.
    schema.as_object_mut().unwrap().remove("$schema");
    jsonschema::draft7::new(&schema).unwrap()
}

/// The chart, its repository and image, and values its schema accepts: with TLS, HA and the
/// injector and CSI provider on (the fixture), and with one plain-HTTP replica.
#[test]
fn the_openbao_chart_with_values_its_schema_accepts() {
    let chart = chart_yaml();
    let validator = values_validator();
    let tree = generate_edited(|s| s);
    let release = yaml(&tree["infrastructure/bao/vault/helmrelease.yaml"]);
    assert_eq!(release["metadata"]["name"], "openbao");
    assert_eq!(release["spec"]["releaseName"], "openbao");
    let chart_ref = &release["spec"]["chart"]["spec"];
    assert_eq!(chart_ref["chart"], chart["name"]);
    assert_eq!(chart_ref["version"], chart["version"]);
    assert_eq!(chart_ref["sourceRef"]["name"], "openbao");
    let repo = yaml(&tree["infrastructure/bao/vault/helmrepository.yaml"]);
    assert_eq!(repo["metadata"]["name"], "openbao");
    assert_eq!(
        repo["spec"]["url"],
        "https://openbao.github.io/openbao-helm"
    );
    // The chart's server image (values.yaml: quay.io, openbao/openbao, tag = appVersion
    // without its `v`) runs the reload sidecar too.
    let values_yaml =
        yaml(&std::fs::read_to_string(fixture("charts/openbao/values.yaml")).unwrap());
    let image = &values_yaml["server"]["image"];
    let app_version = chart["appVersion"].as_str().unwrap();
    let expected = format!(
        "{}/{}:{}",
        image["registry"].as_str().unwrap(),
        image["repository"].as_str().unwrap(),
        app_version.trim_start_matches('v')
    );
    let values = &release["spec"]["values"];
    assert_eq!(
        values["server"]["extraContainers"][0]["image"],
        expected.as_str()
    );
    assert_eq!(
        values["server"]["extraEnvironmentVars"]["BAO_CACERT"],
        "/openbao/userconfig/openbao-tls/ca.crt"
    );
    let errors: Vec<String> = validator
        .iter_errors(values)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    // One plain-HTTP replica.
    let small = generate_edited(|s| {
        s.replace("  replicas: 3\n", "  replicas: 1\n")
            .replace("  tls: openbao-tls\n  tlsIssuer: internal-ca\n", "")
    });
    let release = yaml(&small["infrastructure/bao/vault/helmrelease.yaml"]);
    let values = &release["spec"]["values"];
    assert_eq!(values["global"]["tlsDisable"], true);
    assert!(validator.iter_errors(values).next().is_none());
    // The check is not vacuous: the schema knows the chart's keys' types.
    assert!(validator
        .iter_errors(&serde_json::json!({"server": {"ha": {"replicas": "three"}}}))
        .next()
        .is_some());
}

/// The names the chart gives its objects follow its release: services, certificate names,
/// the consumers' address (the ESO store's, without VSO); the raft peers; the folders in
/// its pods.
#[test]
fn names_follow_the_openbao_release() {
    let tree = generate_edited(|s| s);
    let store = &tree["apps/bao/billing/billing/secretstore-billing.yaml"];
    assert!(
        store.contains("https://openbao-active.openbao.svc.cluster.local:8200"),
        "{store}"
    );
    let cert = yaml(&tree["infrastructure/bao/vault/certificate.yaml"]);
    let names = cert["spec"]["dnsNames"].to_string();
    for n in [
        "openbao.openbao.svc",
        "openbao-active.openbao.svc.cluster.local",
        "*.openbao-internal",
    ] {
        assert!(names.contains(n), "{n} in {names}");
    }
    assert!(!names.contains("vault"), "{names}");
    let hcl = server_hcl(&tree);
    assert!(hcl.contains("leader_api_addr = \"https://openbao-2.openbao-internal:8200\""));
    assert!(hcl.contains("path = \"/openbao/data\""));
    assert!(!hcl.contains("/vault/"), "{hcl}");
}

/// The consumers: the CSI class names OpenBao's provider and its mount parameter; ESO keeps
/// its Vault provider, as the pinned ESO's `openBao` provider has no Kubernetes auth (the
/// tree's apps log in with their ServiceAccounts); the injector's annotations stay
/// `vault.hashicorp.com/` (the chart runs HashiCorp's injector, vault-k8s).
#[test]
fn consumers_use_what_the_openbao_chart_and_eso_provide() {
    let tree = generate_edited(|s| s);
    let spc = yaml(&tree["apps/bao/search/search/secretproviderclass-search-api.yaml"]);
    assert_eq!(spc["spec"]["provider"], "openbao");
    assert_eq!(
        spc["spec"]["parameters"]["openbaoKubernetesMountPath"],
        "kubernetes"
    );
    assert!(spc["spec"]["parameters"]["vaultKubernetesMountPath"].is_null());
    let store = yaml(&tree["apps/bao/billing/billing/secretstore-billing.yaml"]);
    assert_eq!(
        store["spec"]["provider"]["vault"]["auth"]["kubernetes"]["role"],
        "billing-billing"
    );
    let crd = yaml(
        &std::fs::read_to_string(fixture("crds/external-secrets.io_secretstores.yaml")).unwrap(),
    );
    let provider = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
        ["properties"]["provider"]["properties"];
    let auth = provider["openBao"]["properties"]["auth"]["properties"]
        .as_object()
        .expect("the pinned ESO has an openBao provider");
    assert!(!auth.contains_key("kubernetes"), "{:?}", auth.keys());
    assert!(provider["vault"]["properties"]["auth"]["properties"]["kubernetes"].is_object());
    let patch = &tree["apps/bao/shop/checkout/vault-agent/patch.yaml"];
    assert!(
        patch.contains("vault.hashicorp.com/agent-inject"),
        "{patch}"
    );
    // The chart's values schema knows the injector's and the CSI provider's keys used.
    let schema = std::fs::read_to_string(fixture("charts/openbao/values.yaml")).unwrap();
    assert!(schema.contains("repository: \"hashicorp/vault-k8s\""));
}

fn generate_refused(edit: impl Fn(String) -> String) -> String {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("openbao.yaml");
    let text = edit(std::fs::read_to_string(fixture("openbao.yaml")).unwrap());
    std::fs::write(&spec, text).unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "-f",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!out.exists(), "nothing is written");
    stderr(&o)
}

/// Self-initialisation without an auto-unseal seal, or on Vault, is refused with a hint.
#[test]
fn self_init_needs_openbao_and_an_auto_unseal_seal() {
    let err = generate_refused(|s| {
        let start = s.find("  autoUnseal:").unwrap();
        let end = s.find("  selfInit:").unwrap();
        format!("{}{}", &s[..start], &s[end..])
    });
    assert!(err.contains("openbao.yaml:"), "{err}");
    assert!(
        err.contains("vault.selfInit: self-initialisation needs an auto-unseal seal"),
        "{err}"
    );
    assert!(err.contains("hint: add `vault.autoUnseal`"), "{err}");
    let err = generate_refused(|s| s.replace("  distribution: openbao\n", ""));
    assert!(err.contains("self-initialisation is OpenBao's"), "{err}");
    let err = generate_refused(|s| s.replace("name: admin-policy", "name: 1admin"));
    assert!(err.contains("is not a self-initialisation name"), "{err}");
    let err = generate_refused(|s| {
        s.replace(
            "operation: update\n        path: sys/auth",
            "operation: write\n        path: sys/auth",
        )
    });
    assert!(err.contains("unknown operation `write`"), "{err}");
    let err =
        generate_refused(|s| s.replace("path \"*\"", "path \"secret/{{identity.entity.id}}/*\""));
    assert!(err.contains("would be read by Helm as a template"), "{err}");
}

/// An app that reads its secrets through VSO on OpenBao is warned about (VSO's licence), and
/// refused under --strict; the fixture, with ESO, injector and CSI apps only and no
/// `operator.chart`, is clean (and installs no VSO).
#[test]
fn vso_apps_on_openbao_are_warned_about_naming_the_licence() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("openbao.yaml");
    let text = std::fs::read_to_string(fixture("openbao.yaml"))
        .unwrap()
        .replace("    consumer: eso\n", "")
        .replace(
            "apps:\n",
            "operator:\n  chart:\n    version: 1.4.1\napps:\n",
        );
    std::fs::write(&spec, text).unwrap();
    let o = run(&["generate", "-f", spec.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("warning"), "{err}");
    assert!(
        err.contains("app billing reads its secrets through the Vault Secrets Operator (VSO), which is licensed BUSL-1.1"),
        "{err}"
    );
    assert!(err.contains("consumer: eso"), "{err}");
    let o = run(&["generate", "-f", spec.to_str().unwrap(), "--strict"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&[
        "generate",
        "-f",
        fixture("openbao.yaml").to_str().unwrap(),
        "--strict",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}

/// The script runs `bao` first for OpenBao, and leaves the audit device to the server
/// configuration; for Vault it runs `vault` first and enables the device through the API.
#[test]
fn the_script_prefers_bao_and_leaves_audit_to_the_configuration() {
    let o = run(&[
        "configure",
        "-f",
        fixture("openbao.yaml").to_str().unwrap(),
        "--script",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let script = stdout(&o);
    let bao = script.find("command -v bao").unwrap();
    let vault = script.find("command -v vault").unwrap();
    assert!(bao < vault, "{script}");
    assert!(!script.contains("audit"), "{script}");
    let o = run(&[
        "configure",
        "-f",
        fixture("production.yaml").to_str().unwrap(),
        "--script",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let script = stdout(&o);
    assert!(script.find("command -v vault").unwrap() < script.find("command -v bao").unwrap());
    assert!(script.contains("vault audit enable"), "{script}");
}

/// A cluster that runs no OpenBao writes no server configuration: its audit device would be
/// enabled nowhere (OpenBao refuses it through the API), and it is warned about.
#[test]
fn an_audit_device_without_an_openbao_in_the_cluster_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("edge.yaml");
    std::fs::write(
        &spec,
        "apiVersion: kubectl-vault/v1alpha1\nkind: VaultStack\ncluster: edge\nvault:\n  deploy: false\n  distribution: openbao\noperator:\n  chart: {version: 1.4.1}\n  address: https://openbao.example.com:8200\nvaultConfig:\n  kubernetesAuth:\n    host: https://203.0.113.10:6443\n    caCertFrom: file:/etc/kubernetes/ca.crt\n    disableLocalCaJwt: true\n    tokenReviewer: {mode: client}\n  audit: {type: file, options: {file_path: stdout}}\n",
    )
    .unwrap();
    let o = run(&["generate", "-f", spec.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("vaultConfig.audit: OpenBao takes audit devices in its server configuration only, and this cluster runs no OpenBao"),
        "{}",
        stderr(&o)
    );
}

/// The chart's values schema allows unknown keys (Helm would ignore a misspelt one): every key
/// the tree writes is also one the chart's own values.yaml declares, down to the free-form
/// values (environment, containers, volumes, arguments, the configuration).
#[test]
fn every_value_the_tree_writes_is_a_key_of_the_openbao_chart() {
    fn missing(tree: &Json, chart: &Json, path: &str, out: &mut Vec<String>) {
        const FREE: [&str; 8] = [
            "extraEnvironmentVars",
            "extraContainers",
            "extraVolumes",
            "volumes",
            "volumeMounts",
            "extraArgs",
            "config",
            "affinity",
        ];
        for (k, v) in tree.as_object().into_iter().flatten() {
            let p = format!("{path}.{k}");
            match chart.get(k) {
                None => out.push(p),
                Some(_) if FREE.contains(&k.as_str()) => {}
                Some(c) if v.is_object() => missing(v, c, &p, out),
                Some(_) => {}
            }
        }
    }
    let chart: Json = serde_yaml::from_str(
        &std::fs::read_to_string(fixture("charts/openbao/values.yaml")).unwrap(),
    )
    .unwrap();
    for tree in [
        generate_edited(|s| s),
        generate_edited(|s| {
            s.replace("  replicas: 3\n", "  replicas: 1\n")
                .replace("  antiAffinity: true\n", "  antiAffinity: false\n")
        }),
    ] {
        let release = yaml(&tree["infrastructure/bao/vault/helmrelease.yaml"]);
        let mut out = vec![];
        missing(&release["spec"]["values"], &chart, "", &mut out);
        assert!(out.is_empty(), "not keys of the chart: {out:?}");
    }
}

/// The clusters of a fleet that share one Vault agree on what it is: a fleet where the host
/// runs OpenBao and another cluster's side is written for Vault is refused.
#[test]
fn a_fleet_sharing_one_vault_names_one_distribution() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = dir.path().join("fleet.yaml");
    let text = std::fs::read_to_string(fixture("fleet.yaml")).unwrap();
    let production = "    vault:                     # the fleet's one Vault runs here\n";
    assert!(text.contains(production));
    std::fs::write(
        &fleet,
        text.replace(
            production,
            &format!("{production}      distribution: openbao\n"),
        ),
    )
    .unwrap();
    let o = run(&["generate", "-f", fleet.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "clusters staging and production share one Vault, but name different vault.distribution (`vault`, `openbao`)"
        ),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("defaults.vault.distribution"),
        "{}",
        stderr(&o)
    );
}
