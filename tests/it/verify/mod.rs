//! `verify` end to end: the real binary against the in-process fake API server, through a
//! generated kubeconfig, on cluster states shaped as Flux and VSO write them.
//!
//! One module per topic; they share the synced cluster ([`Setup`]) below.

use crate::support::cluster_state::{self, REVISION};
use crate::support::common::*;
use crate::support::fake_apiserver::FakeApiServer;
use serde_json::{json, Value};

mod api_server;
mod argocd;
mod backup;
mod eso_only;
mod findings;
mod kubeconfig;

struct Setup {
    fake: FakeApiServer,
    dir: tempfile::TempDir,
    kubeconfig: std::path::PathBuf,
    /// The spec the cluster state was made from and `verify` reads.
    spec: std::path::PathBuf,
}

fn synced_cluster() -> Setup {
    synced_on(FakeApiServer::start())
}

fn synced_on(fake: FakeApiServer) -> Setup {
    synced_with(fake, tempfile::tempdir().unwrap(), fixture("example.yaml"))
}

/// A cluster in which VSO synced everything `spec` declares.
fn synced_with(fake: FakeApiServer, dir: tempfile::TempDir, spec: std::path::PathBuf) -> Setup {
    cluster_state::synced(&fake, &spec);
    let kubeconfig = fake.write_kubeconfig(dir.path(), "homelab");
    Setup {
        fake,
        dir,
        kubeconfig,
        spec,
    }
}

impl Setup {
    /// A kubeconfig whose user runs `script` (written to `dir/name`) as an exec credential
    /// plugin, as cloud providers' kubeconfigs do.
    fn exec_plugin_kubeconfig(&self, name: &str, script: String) -> std::path::PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let plugin = self.dir.path().join(name);
        std::fs::write(&plugin, script).unwrap();
        std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
        let kc = self.dir.path().join(format!("kubeconfig-{name}"));
        std::fs::write(
            &kc,
            format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {}\ncontexts:\n- name: exec\n  context: {{cluster: fake, user: plugin}}\ncurrent-context: exec\nusers:\n- name: plugin\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never\n",
                self.fake.url(),
                plugin.display()
            ),
        )
        .unwrap();
        kc
    }
    /// Snapshot settings that hide this run's temp dir, ports and times.
    fn stable(&self) -> insta::Settings {
        let mut settings = redactions(&[(self.dir.path(), "TMP"), (&fixture(""), "FIXTURES")]);
        // The fixture's lease was renewed and its certificate issued just before the run.
        settings.add_filter(r"lease valid for \d+s more", "lease valid for [N]s more");
        settings.add_filter(
            r"certificate valid for \d+h more",
            "certificate valid for [N]h more",
        );
        settings
    }
    fn verify(&self, extra: &[&str]) -> std::process::Output {
        verify(&self.spec, &self.kubeconfig, extra)
    }
    fn json(&self, extra: &[&str]) -> (Option<i32>, Value) {
        let mut args = vec!["-o", "json"];
        args.extend_from_slice(extra);
        let o = self.verify(&args);
        let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
            panic!(
                "{e}: {}{}\nrequests: {:#?}",
                stdout(&o),
                stderr(&o),
                self.fake.requests()
            )
        });
        (o.status.code(), v)
    }
}

fn row<'a>(report: &'a Value, secret: &str) -> &'a Value {
    report["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["secret"] == secret)
        .unwrap_or_else(|| panic!("no row {secret}"))
}
