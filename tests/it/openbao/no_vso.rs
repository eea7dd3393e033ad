//! VSO only where it is used: the OpenBao starter and fixture (ESO, CSI and injector apps, no
//! `operator.chart`) install no Vault Secrets Operator, on Flux and on Argo CD; a VSO app
//! without `operator.chart` is refused.

use super::*;

/// Every object of `tree` (path, apiVersion, kind, name) that belongs to VSO.
fn vso_objects(tree: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = vec![];
    for (path, body) in tree.iter().filter(|(p, _)| p.ends_with(".yaml")) {
        for doc in serde_yaml::Deserializer::from_str(body) {
            let Ok(v) = <Json as serde::Deserialize>::deserialize(doc) else {
                continue;
            };
            let api = v["apiVersion"].as_str().unwrap_or_default();
            let kind = v["kind"].as_str().unwrap_or_default();
            let name = v["metadata"]["name"].as_str().unwrap_or_default();
            let chart = v["spec"]["chart"]["spec"]["chart"]
                .as_str()
                .unwrap_or_default();
            let argo_chart = v["spec"]["source"]["chart"].as_str().unwrap_or_default();
            if api.starts_with("secrets.hashicorp.com/")
                || name.contains("vault-secrets-operator")
                || chart == "vault-secrets-operator"
                || argo_chart == "vault-secrets-operator"
            {
                out.push(format!("{path}: {api} {kind} {name}"));
            }
        }
    }
    out
}

fn starter_with(edit: impl Fn(String) -> String) -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("vault.yaml");
    let text = std::fs::read_to_string(fixture("starter-openbao.yaml")).unwrap();
    std::fs::write(&spec, edit(text)).unwrap();
    let o = run(&[
        "generate",
        "-f",
        spec.to_str().unwrap(),
        "--strict",
        "--out",
        dir.path().join("gitops").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    read_tree(&dir.path().join("gitops"))
}

const ARGOCD: &str =
    "gitops:\n  engine: argocd\n  repoURL: https://git.example.com/platform/gitops.git\n\nvault:\n";

#[test]
fn the_openbao_starter_installs_no_vso_on_flux_or_argocd() {
    let flux = starter_with(|s| s);
    assert_eq!(vso_objects(&flux), Vec::<String>::new());
    assert!(flux.keys().all(|p| !p.contains("vault-secrets-operator")));
    assert!(!flux.contains_key("clusters/homelab/vault-apps.yaml"));
    // The ESO chain is whole: its install, its apps' stage, the store and the CA carrier.
    assert!(flux.contains_key("clusters/homelab/vault-apps-eso.yaml"));
    assert!(flux.contains_key("apps/homelab/app/webapp/secretstore-webapp.yaml"));

    let argocd = starter_with(|s| {
        let start = s.find("gitops:").unwrap();
        let end = s.find("vault:\n").unwrap();
        format!("{}{ARGOCD}{}", &s[..start], &s[end + "vault:\n".len()..])
    });
    assert_eq!(vso_objects(&argocd), Vec::<String>::new());
    assert!(argocd.keys().all(|p| !p.contains("vault-secrets-operator")));
    assert!(
        argocd.keys().any(|p| p.contains("/argocd/")),
        "{:?}",
        argocd.keys().collect::<Vec<_>>()
    );
    // Argo CD's health customisations read no VSO kind.
    let patch = argocd
        .iter()
        .find(|(p, _)| p.ends_with("argocd-cm-patch.yaml"))
        .map(|(_, b)| b.clone())
        .unwrap();
    assert!(!patch.contains("secrets.hashicorp.com"), "{patch}");
}

#[test]
fn the_openbao_fixture_installs_no_vso() {
    let dir = tempfile::tempdir().unwrap();
    let tree = generate_spec(&fixture("openbao.yaml"), &dir.path().join("gitops"));
    assert_eq!(vso_objects(&tree), Vec::<String>::new());
}

/// An `operator` section with an address and no chart still reaches the consumers.
#[test]
fn the_operator_address_without_a_chart_reaches_the_consumers() {
    let tree = starter_with(|s| {
        s.replace(
            "\napps:\n",
            "\noperator:\n  address: https://bao.example.com:8200\n  caCertSecret: bao-ca\n\napps:\n",
        )
    });
    assert_eq!(vso_objects(&tree), Vec::<String>::new());
    let store = &tree["apps/homelab/app/webapp/secretstore-webapp.yaml"];
    assert!(store.contains("https://bao.example.com:8200"), "{store}");
}

/// A VSO app needs `operator.chart`: refused (exit 2) at the app, naming the field.
#[test]
fn a_vso_app_without_the_operator_chart_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("vault.yaml");
    let text = std::fs::read_to_string(fixture("starter-openbao.yaml"))
        .unwrap()
        .replace("    consumer: eso ", "    consumer: operator ");
    std::fs::write(&spec, text).unwrap();
    let o = run(&["generate", "-f", spec.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("apps[0].consumer"), "{err}");
    assert!(err.contains("`operator.chart` is missing"), "{err}");
    assert!(err.contains("hint: add `operator: {chart:"), "{err}");
}
