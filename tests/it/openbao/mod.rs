//! `vault.distribution: openbao`: the OpenBao chart's tree (`tree`), its server configuration
//! parsed and run by the real `bao` (`server`), and the Vault side written into a real OpenBao
//! by `configure` and `configure.sh` (`configure`), and `operator` on its pods (`operator`).

mod configure;
mod init;
mod no_vso;
mod operator;
mod server;
mod tree;

use crate::support::common::*;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::Path;

/// Generates `spec` (a file) into `out` and returns the tree.
fn generate_spec(spec: &Path, out: &Path) -> BTreeMap<String, String> {
    let o = run(&[
        "generate",
        "-f",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "generate failed: {}", stderr(&o));
    read_tree(out)
}

/// The tree of `fixtures/openbao.yaml` with `edit` applied to its text.
fn generate_edited(edit: impl Fn(String) -> String) -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("openbao.yaml");
    std::fs::write(
        &spec,
        edit(std::fs::read_to_string(fixture("openbao.yaml")).unwrap()),
    )
    .unwrap();
    generate_spec(&spec, &dir.path().join("gitops"))
}

fn yaml(body: &str) -> Json {
    serde_yaml::from_str(body).unwrap()
}

/// The server configuration (HCL) the OpenBao HelmRelease of `tree` carries.
fn server_hcl(tree: &BTreeMap<String, String>) -> String {
    let release = yaml(&tree["infrastructure/bao/vault/helmrelease.yaml"]);
    release["spec"]["values"]["server"]["ha"]["raft"]["config"]
        .as_str()
        .unwrap()
        .to_string()
}
