//! `init --distribution openbao`: the OpenBao starter, clean under --strict, with ESO as the
//! apps' consumer.

use super::*;

#[test]
fn init_for_openbao_prints_a_starter_that_generates_clean_under_strict() {
    let o = run(&["init", "--distribution", "openbao"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.starts_with("# yaml-language-server: $schema="),
        "{text}"
    );
    assert!(
        text.ends_with(&std::fs::read_to_string(fixture("starter-openbao.yaml")).unwrap()),
        "{text}"
    );
    assert!(text.contains("distribution: openbao"), "{text}");
    assert!(text.contains("consumer: eso"), "{text}");
    assert!(text.contains("BUSL-1.1"), "{text}");
    // The chart version is the reference chart's.
    let chart = yaml(&std::fs::read_to_string(fixture("charts/openbao/Chart.yaml")).unwrap());
    assert!(
        text.contains(&format!("version: {}", chart["version"].as_str().unwrap())),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("vault.yaml"), &o.stdout).unwrap();
    let g = bin()
        .current_dir(dir.path())
        .args(["generate", "--strict", "--out", "gitops"])
        .output()
        .unwrap();
    assert!(g.status.success(), "{}", stderr(&g));
    assert!(!stderr(&g).contains("warning"), "{}", stderr(&g));
    let tree = read_tree(&dir.path().join("gitops"));
    assert!(tree.contains_key("apps/homelab/app/webapp/externalsecret-webapp-config.yaml"));
    let release = yaml(&tree["infrastructure/homelab/vault/helmrelease.yaml"]);
    assert_eq!(release["spec"]["chart"]["spec"]["chart"], "openbao");
    // The default is still Vault's starter.
    let vault = run(&["init", "--distribution", "vault"]);
    assert_eq!(stdout(&vault), stdout(&run(&["init"])));
}
