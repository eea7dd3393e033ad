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
    /// `backup.storage.s3`: the upload step (none: the snapshot step alone).
    s3: Option<S3Context<'a>>,
    upload_script: Option<String>,
}

#[derive(Serialize)]
struct S3Context<'a> {
    bucket: &'a str,
    prefix: &'a str,
    keep: u32,
    endpoint: Option<&'a str>,
    region: Option<&'a str>,
    credentials_secret: Option<&'a str>,
    ca_secret: Option<&'a str>,
    image: &'a str,
}

/// `core/serviceaccount.yaml.j2`
#[derive(Serialize)]
struct ServiceAccountContext<'a> {
    name: &'a str,
    namespace: &'a str,
    app: &'a str,
    annotations: Option<&'a std::collections::BTreeMap<String, String>>,
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
    let upload_script = match &backup.s3 {
        Some(_) => Some(
            r.templates
                .render("vault/backup-upload.sh.j2", Value::UNDEFINED)?
                .trim_end()
                .to_string(),
        ),
        None => None,
    };
    let s3 = backup.s3.as_ref().map(|s| S3Context {
        bucket: &s.bucket,
        prefix: &s.prefix,
        keep: s.keep,
        endpoint: s.endpoint.as_deref(),
        region: s.region.as_deref(),
        credentials_secret: s.credentials_secret.as_deref(),
        ca_secret: s.ca_secret.as_deref(),
        image: &s.image,
    });
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
        s3,
        upload_script,
    });
    r.object(
        of::<ServiceAccount>(ns, &backup.name),
        format!("{dir}/backup-serviceaccount.yaml"),
        "core/serviceaccount.yaml.j2",
        Value::from_serialize(ServiceAccountContext {
            name: &backup.name,
            namespace: ns,
            app: &backup.name,
            annotations: (backup.s3.as_ref())
                .map(|s| &s.service_account_annotations)
                .filter(|a| !a.is_empty()),
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
