//! `infrastructure/<cluster>/vault/backup-*.yaml`: the backup CronJob, its ServiceAccount and
//! the volume its snapshots go to (`backup`).

use super::{of, RenderError, Renderer};
use crate::model::{Backup, Stack};
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, ServiceAccount};
use minijinja::Value;
use serde::Serialize;

/// `vault/backup-cronjob.yaml.j2` and `vault/backup-pvc.yaml.j2`
#[derive(Serialize)]
struct BackupContext<'a> {
    name: &'a str,
    namespace: &'a str,
    schedule: &'a str,
    keep: u32,
    size: &'a str,
    storage_class_name: Option<&'a str>,
    image: &'a str,
    address: String,
    auth_mount: &'a str,
    audience: &'a str,
    /// Vault's TLS Secret, whose `ca.crt` the job verifies Vault with.
    ca_secret: Option<&'a str>,
    script: String,
}

/// `core/serviceaccount.yaml.j2`
#[derive(Serialize)]
struct ServiceAccountContext<'a> {
    name: &'a str,
    namespace: &'a str,
    app: &'a str,
}

/// The job's files in Vault's folder (`dir`), by name.
pub(super) fn render_backup(
    r: &mut Renderer,
    stack: &Stack,
    backup: &Backup,
    dir: &str,
) -> Result<Vec<String>, RenderError> {
    let ns = &stack.vault.namespace;
    let script = r
        .templates
        .render("vault/backup.sh.j2", Value::UNDEFINED)?
        .trim_end()
        .to_string();
    let ctx = Value::from_serialize(BackupContext {
        name: &backup.name,
        namespace: ns,
        schedule: &backup.schedule,
        keep: backup.keep,
        size: &backup.size,
        storage_class_name: backup.storage_class_name.as_deref(),
        image: &backup.image,
        address: stack.vault.active_address(),
        auth_mount: &stack.auth_mount,
        audience: &backup.audience,
        ca_secret: stack.vault.tls_secret.as_deref(),
        script,
    });
    r.object(
        of::<ServiceAccount>(ns, &backup.name),
        format!("{dir}/backup-serviceaccount.yaml"),
        "core/serviceaccount.yaml.j2",
        Value::from_serialize(ServiceAccountContext {
            name: &backup.name,
            namespace: ns,
            app: &backup.name,
        }),
    )?;
    r.object(
        of::<PersistentVolumeClaim>(ns, &backup.name),
        format!("{dir}/backup-pvc.yaml"),
        "vault/backup-pvc.yaml.j2",
        ctx.clone(),
    )?;
    r.object(
        of::<CronJob>(ns, &backup.name),
        format!("{dir}/backup-cronjob.yaml"),
        "vault/backup-cronjob.yaml.j2",
        ctx,
    )?;
    Ok(vec![
        "backup-cronjob.yaml".into(),
        "backup-pvc.yaml".into(),
        "backup-serviceaccount.yaml".into(),
    ])
}
