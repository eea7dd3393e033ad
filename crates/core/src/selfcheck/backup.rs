//! The backup CronJob and its volume (`backup`): typed as batch/v1 CronJob and v1
//! PersistentVolumeClaim, every field written known to the type (k8s-openapi ignores unknown
//! fields, so the document must equal its typed round trip), and the job's safety settings.

use super::Problem;
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value as Json;

/// Deserializes `v` as `T` and refuses a field `T` does not know (lost in the round trip).
fn strictly<T: DeserializeOwned + Serialize>(v: &Json) -> Result<T, Problem> {
    let typed: T =
        T::deserialize(v).map_err(|e| problem!("does not match its kind's schema: {e}"))?;
    let back = serde_json::to_value(&typed).map_err(|e| problem!("{e}"))?;
    if let Some(path) = lost(v, &back, String::new()) {
        return Err(problem!("`{path}` is not a field of its kind"));
    }
    Ok(typed)
}

/// The first path in `written` that `back` does not hold.
fn lost(written: &Json, back: &Json, at: String) -> Option<String> {
    match (written, back) {
        (Json::Object(w), Json::Object(b)) => w.iter().find_map(|(k, v)| match b.get(k) {
            None => Some(format!("{at}.{k}")),
            Some(bv) => lost(v, bv, format!("{at}.{k}")),
        }),
        (Json::Array(w), Json::Array(b)) => (w.iter().zip(b))
            .enumerate()
            .find_map(|(i, (w, b))| lost(w, b, format!("{at}[{i}]"))),
        _ => None,
    }
}

/// The CronJob: its ServiceAccount and claim (to resolve in the tree) once it is safe.
pub(super) fn cron_job(v: &Json) -> Result<(String, Vec<String>), Problem> {
    let c: CronJob = strictly(v)?;
    let spec = c.spec.as_ref().ok_or("a CronJob without spec")?;
    crate::cron::parse(&spec.schedule)
        .map_err(|e| problem!("spec.schedule is not a cron schedule: {e}"))?;
    if spec.concurrency_policy.as_deref() != Some("Forbid") {
        return Err(
            "a backup CronJob must not run twice at once (concurrencyPolicy: Forbid)".into(),
        );
    }
    let job = spec.job_template.spec.as_ref().ok_or("no job spec")?;
    if job.active_deadline_seconds.is_none() || job.backoff_limit.is_none() {
        return Err("the job needs activeDeadlineSeconds and backoffLimit".into());
    }
    let pod = job.template.spec.as_ref().ok_or("no pod spec")?;
    if pod.automount_service_account_token != Some(false) {
        return Err("the job's pod must not mount the default ServiceAccount token".into());
    }
    let non_root = (pod.security_context.as_ref()).and_then(|s| s.run_as_non_root) == Some(true);
    let every = || {
        pod.containers
            .iter()
            .chain(pod.init_containers.iter().flatten())
    };
    let locked = every().all(|c| {
        c.security_context.as_ref().is_some_and(|s| {
            s.read_only_root_filesystem == Some(true) && s.allow_privilege_escalation == Some(false)
        })
    });
    if !non_root || !locked {
        return Err(
            "the job must run as non-root, read-only root file system, no privilege escalation"
                .into(),
        );
    }
    let literal_key = every()
        .flat_map(|c| c.env.iter().flatten())
        .find(|e| e.name.starts_with("AWS_SECRET") && e.value.is_some());
    if let Some(e) = literal_key {
        return Err(problem!(
            "`{}` is written into the job; it must come from a Secret (secretKeyRef)",
            e.name
        ));
    }
    let claims = (pod.volumes.iter().flatten())
        .filter_map(|v| v.persistent_volume_claim.as_ref())
        .map(|p| p.claim_name.clone())
        .collect();
    let account = pod
        .service_account_name
        .clone()
        .ok_or("the job names no ServiceAccount")?;
    Ok((account, claims))
}

pub(super) fn persistent_volume_claim(v: &Json) -> Result<(), Problem> {
    let c: PersistentVolumeClaim = strictly(v)?;
    let asked = (c.spec.as_ref())
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"));
    if asked.is_none() {
        return Err("a PersistentVolumeClaim without a storage request".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    /// The CronJob the backup fixture renders to, as JSON.
    fn rendered() -> Value {
        rendered_with("{pvc: {size: 1Gi}}")
    }

    /// The CronJob rendered with `storage` (YAML flow).
    fn rendered_with(storage: &str) -> Value {
        let text = format!("apiVersion: kubectl-vault/v1alpha1\nkind: VaultStack\ncluster: dev\nvault:\n  chart: {{version: 0.30.0}}\noperator:\n  chart: {{version: 0.10.0}}\nbackup:\n  schedule: \"@daily\"\n  storage: {storage}\n");
        let sourced = crate::spec::parse("vault.yaml", text).unwrap();
        let spec = crate::spec::validate::typed(sourced.spec, &sourced.index).unwrap();
        let stack = crate::model::build(&spec, "vault.yaml");
        let side = crate::vault::side::derive(&stack);
        let out =
            crate::render::render(&stack, &side, &crate::render::Templates::default()).unwrap();
        let file = out
            .files
            .iter()
            .find(|f| f.path.ends_with("/backup-cronjob.yaml"))
            .unwrap();
        crate::yaml::from_str(&file.body).unwrap()
    }

    #[test]
    fn the_rendered_cron_job_passes_and_each_safety_setting_is_required() {
        let good = rendered();
        let (account, claims) = super::cron_job(&good).unwrap();
        assert_eq!(
            (account.as_str(), claims),
            ("vault-backup", vec!["vault-backup".to_string()])
        );
        let pod = "/spec/jobTemplate/spec/template/spec";
        let at = |p: &str| format!("{pod}{p}");
        let cases = [
            (
                "/spec/concurrencyPolicy".to_string(),
                json!("Allow"),
                "concurrencyPolicy: Forbid",
            ),
            (
                "/spec/schedule".to_string(),
                json!("every night"),
                "not a cron schedule",
            ),
            (
                at("/automountServiceAccountToken"),
                json!(true),
                "default ServiceAccount token",
            ),
            (
                at("/securityContext/runAsNonRoot"),
                json!(false),
                "non-root",
            ),
            (
                at("/containers/0/securityContext/readOnlyRootFilesystem"),
                json!(false),
                "read-only",
            ),
        ];
        for (at, value, says) in cases {
            let mut bad = good.clone();
            *bad.pointer_mut(&at).unwrap() = value;
            let e = super::cron_job(&bad).unwrap_err();
            assert!(e.0.contains(says), "{at}: {}", e.0);
        }
        let mut typo = good.clone();
        typo["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
            ["imagePullPolcy"] = json!("Always");
        assert_eq!(
            super::cron_job(&typo).unwrap_err().0,
            "`.spec.jobTemplate.spec.template.spec.containers[0].imagePullPolcy` is not a field of its kind"
        );
    }

    #[test]
    fn with_s3_both_steps_are_held_to_the_safety_settings() {
        let good = rendered_with(
            "{pvc: {size: 1Gi}, s3: {bucket: backups, region: eu-west-1, credentialsSecret: s3-keys}}",
        );
        super::cron_job(&good).unwrap();
        let pod = "/spec/jobTemplate/spec/template/spec";
        assert_eq!(
            good.pointer(&format!("{pod}/initContainers/0/name"))
                .unwrap(),
            "snapshot"
        );
        assert_eq!(
            good.pointer(&format!("{pod}/containers/0/name")).unwrap(),
            "upload"
        );
        for step in ["initContainers", "containers"] {
            let mut bad = good.clone();
            *bad.pointer_mut(&format!(
                "{pod}/{step}/0/securityContext/readOnlyRootFilesystem"
            ))
            .unwrap() = json!(false);
            assert!(
                super::cron_job(&bad).unwrap_err().0.contains("read-only"),
                "{step}"
            );
        }
        let mut literal = good.clone();
        let env = literal
            .pointer_mut(&format!("{pod}/containers/0/env"))
            .unwrap()
            .as_array_mut()
            .unwrap();
        let at = env
            .iter()
            .position(|e| e["name"] == "AWS_SECRET_ACCESS_KEY")
            .unwrap();
        env[at] = json!({"name": "AWS_SECRET_ACCESS_KEY", "value": "x"});
        assert!(super::cron_job(&literal)
            .unwrap_err()
            .0
            .contains("secretKeyRef"));
    }

    #[test]
    fn an_unknown_field_is_named() {
        let v = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "x"},
            "spec": {"resources": {"requests": {"storage": "1Gi"}}, "acessModes": ["ReadWriteOnce"]}});
        let e = super::persistent_volume_claim(&v).unwrap_err();
        assert_eq!(e.0, "`.spec.acessModes` is not a field of its kind");
    }
}
