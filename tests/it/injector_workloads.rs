//! The injector's Component on every kind of workload it can patch, built by the real
//! kustomize (`kubectl kustomize`): a Deployment, a Job and a CronJob of the user's, each
//! including its generated Component, get the agent's annotations on their pod template —
//! a CronJob's at `spec.jobTemplate.spec.template` — and only the Job and the CronJob get
//! `vault.hashicorp.com/agent-pre-populate-only: "true"`.
//!
//! Why pre-populate-only for pods that run to completion (upstream, read, not run: the
//! injector is a webhook of vault-k8s, which has no binary here):
//! - vault-k8s `agent-inject/agent/agent.go` (v1.7.x, `Patch`, around line 716): the sidecar
//!   container is added `if !a.PrePopulateOnly`; the init container (`vault-agent-init`)
//!   renders the secrets once and exits. Without the annotation the pod also gets the
//!   `vault-agent` sidecar, which runs (re-rendering, renewing) until the pod is deleted, so
//!   a Job's pod never completes: hashicorp/vault-k8s#120 ("Injector never complete", the
//!   maintainers' answer: set `vault.hashicorp.com/agent-pre-populate-only: true`), and
//!   hashicorp/vault-helm#527 (a pod NotReady after its command ended).
//! - `agent-inject/agent/annotations.go` (`AnnotationAgentPrePopulateOnly`, line 129): "If
//!   true, no sidecar container will be injected at runtime of the application".
//!
//! The cost: a Job's secrets are rendered once, at its start, and never renewed — fine for a
//! pod that lives less than its secrets' lease.

use crate::support::common::*;
use crate::support::servers::{find_tool, require};
use serde_json::Value as Json;

/// The user's own workloads, elsewhere in the repository: each kind with a volume and an
/// annotation of its own that the patch must keep.
const WORKLOADS: [(&str, &str, &str); 3] = [
    (
        "api",
        "deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: reports-api\n  namespace: reports\nspec:\n  selector:\n    matchLabels: {app: api}\n  template:\n    metadata:\n      labels: {app: api}\n      annotations: {prometheus.io/scrape: \"true\"}\n    spec:\n      containers:\n        - name: api\n          image: reports/api:1\n      volumes:\n        - name: cache\n          emptyDir: {}\n",
    ),
    (
        "migrate",
        "job.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: reports-migrate\n  namespace: reports\nspec:\n  backoffLimit: 2\n  template:\n    metadata:\n      annotations: {prometheus.io/scrape: \"true\"}\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: migrate\n          image: reports/migrate:1\n      volumes:\n        - name: cache\n          emptyDir: {}\n",
    ),
    (
        "nightly",
        "cronjob.yaml",
        "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: reports-nightly\n  namespace: reports\nspec:\n  schedule: \"0 3 * * *\"\n  jobTemplate:\n    spec:\n      template:\n        metadata:\n          annotations: {prometheus.io/scrape: \"true\"}\n        spec:\n          restartPolicy: OnFailure\n          containers:\n            - name: nightly\n              image: reports/nightly:1\n          volumes:\n            - name: cache\n              emptyDir: {}\n",
    ),
];

#[test]
fn the_component_patches_a_deployment_a_job_and_a_cronjob_with_real_kustomize() {
    let Some(kubectl) = require(find_tool("KUBECTL", "kubectl"), "kubectl") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gitops");
    ok(
        "generate",
        &run(&[
            "generate",
            "-f",
            fixture("injector-jobs.yaml").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]),
    );
    for (app, file, body) in WORKLOADS {
        let workload = out.join("workloads").join(app);
        std::fs::create_dir_all(&workload).unwrap();
        std::fs::write(workload.join(file), body).unwrap();
        std::fs::write(
            workload.join("kustomization.yaml"),
            format!("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - {file}\ncomponents:\n  - ../../apps/batch/reports/{app}/vault-agent\n"),
        )
        .unwrap();
        let o = std::process::Command::new(&kubectl)
            .args(["kustomize", workload.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{app}: {}", stderr(&o));
        let built: Json = serde_yaml::from_slice(&o.stdout).unwrap();
        let kind = built["kind"].as_str().unwrap();
        // Where each kind keeps its pod template.
        let t = if kind == "CronJob" {
            &built["spec"]["jobTemplate"]["spec"]["template"]
        } else {
            &built["spec"]["template"]
        };
        let a = &t["metadata"]["annotations"];
        assert_eq!(
            a["vault.hashicorp.com/agent-inject"], "true",
            "{app}: {built}"
        );
        assert_eq!(
            a["vault.hashicorp.com/role"],
            format!("reports-{app}"),
            "{app}"
        );
        assert_eq!(
            a["prometheus.io/scrape"], "true",
            "{app}: the user's annotation stays"
        );
        let only = &a["vault.hashicorp.com/agent-pre-populate-only"];
        match kind {
            "Job" | "CronJob" => assert_eq!(only, "true", "{app}: {built}"),
            _ => assert!(
                only.is_null(),
                "{app}: a Deployment keeps its sidecar: {built}"
            ),
        }
        assert_eq!(t["spec"]["serviceAccountName"], app, "{app}");
        let mut volumes: Vec<&str> = t["spec"]["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        volumes.sort();
        assert_eq!(volumes, ["cache", "vault-token"], "{app}: merged by name");
        assert!(t["spec"]["containers"][0]["image"].is_string(), "{app}");
        // Nothing lands beside the pod template: a CronJob has no spec.template, and a Job's
        // and a Deployment's spec keep only what they had and the template.
        if kind == "CronJob" {
            assert!(built["spec"]["template"].is_null(), "{built}");
            assert_eq!(built["spec"]["schedule"], "0 3 * * *");
        }
    }
}

/// A kind the patch cannot target is a spec error at `injector.workload` naming the kinds.
#[test]
fn an_injector_workload_of_another_kind_names_the_kinds_it_can_patch() {
    let dir = tempfile::tempdir().unwrap();
    let spec = std::fs::read_to_string(fixture("injector-jobs.yaml"))
        .unwrap()
        .replace(
            "workload: Job/reports-migrate",
            "workload: Pod/reports-migrate",
        );
    let path = dir.path().join("vault.yaml");
    std::fs::write(&path, &spec).unwrap();
    let line = spec.lines().position(|l| l.contains("Pod/")).unwrap() + 1;
    let o = run(&["generate", "-f", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!("vault.yaml:{line}:"))
            && err.contains("apps[1].injector.workload")
            && err.contains("Deployment, StatefulSet, DaemonSet, Job, CronJob"),
        "{err}"
    );
}

/// `verify` of the injector's apps by kind: a Deployment's pod has the agent sidecar; a Job's
/// completed pod has the init container only (pre-populate-only), which is what it should
/// have; a CronJob between two runs has no pod at all, which is no fault.
#[test]
fn verify_accepts_a_job_s_init_only_pod_and_a_cronjob_without_pods() {
    use crate::support::cluster_state::{self, REVISION};
    use crate::support::fake_apiserver::FakeApiServer;
    use serde_json::json;
    let fake = FakeApiServer::start();
    let spec = fixture("injector-jobs.yaml");
    cluster_state::synced(&fake, &spec);
    let annotated = |secret: &str| {
        json!({
            "vault.hashicorp.com/agent-inject": "true",
            format!("vault.hashicorp.com/agent-inject-secret-{secret}"): "x",
        })
    };
    fake.add(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "reports-api-5d8-abcde", "namespace": "reports", "annotations": annotated("api-config")},
        "spec": {"serviceAccountName": "api",
                 "initContainers": [{"name": "vault-agent-init", "image": "hashicorp/vault:1.19"}],
                 "containers": [{"name": "api", "image": "reports/api:1"}, {"name": "vault-agent", "image": "hashicorp/vault:1.19"}]},
        "status": {"phase": "Running", "containerStatuses": [
            {"name": "api", "ready": true, "state": {"running": {}}},
            {"name": "vault-agent", "ready": true, "state": {"running": {}}}]},
    }));
    fake.add(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "reports-migrate-x7k2p", "namespace": "reports", "annotations": annotated("migrate-db")},
        "spec": {"serviceAccountName": "migrate", "restartPolicy": "Never",
                 "initContainers": [{"name": "vault-agent-init", "image": "hashicorp/vault:1.19"}],
                 "containers": [{"name": "migrate", "image": "reports/migrate:1"}]},
        "status": {"phase": "Succeeded",
            "initContainerStatuses": [{"name": "vault-agent-init", "ready": false, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}],
            "containerStatuses": [{"name": "migrate", "ready": false, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]},
    }));
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = fake.write_kubeconfig(dir.path(), "batch");
    let o = verify(
        &spec,
        &kubeconfig,
        &["--revision", &REVISION[..7], "-o", "json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&o), stderr(&o)));
    let rows: Vec<(String, String, String)> = v["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["secret"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
                r["detail"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(o.status.code(), Some(0), "{rows:#?}");
    let row = |s: &str| rows.iter().find(|r| r.0 == s).unwrap().clone();
    assert_eq!(row("api-config").1, "Synced");
    assert_eq!(row("migrate-db").1, "Synced");
    assert_eq!(
        row("nightly-config"),
        (
            "nightly-config".to_string(),
            "Synced".to_string(),
            "no pod runs now (a Job or CronJob): nothing to check".to_string()
        )
    );
}

/// The self-check knows where each kind keeps its pod template and which kinds must run the
/// agent as an init container only: a `--templates` override that puts a CronJob's
/// annotations at `spec.template` (where kustomize would add a field the CronJob does not
/// have, and the injector would never see them) is refused, exit 70, nothing written.
#[test]
fn the_self_check_refuses_a_cronjob_patch_without_its_job_template() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("templates/injector");
    std::fs::create_dir_all(&tpl).unwrap();
    std::fs::write(
        tpl.join("patch.yaml.j2"),
        "apiVersion: {{ group }}/v1\nkind: {{ kind }}\nmetadata:\n  name: {{ name | q }}\nspec:\n  template:\n    metadata:\n      annotations:\n{%- for k, v in annotations | items %}\n        {{ k | q }}: {{ v | q }}\n{%- endfor %}\n    spec:\n      serviceAccountName: {{ service_account | q }}\n      volumes: []\n",
    )
    .unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "-f",
        fixture("injector-jobs.yaml").to_str().unwrap(),
        "--templates",
        dir.path().join("templates").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(70), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("apps/batch/reports/nightly/vault-agent/patch.yaml (from template injector/patch.yaml.j2): the pod template of a CronJob is not where the patch puts it"),
        "{err}"
    );
    assert!(!out.exists());
}
