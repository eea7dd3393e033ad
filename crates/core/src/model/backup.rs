//! `backup`: the CronJob that saves raft snapshots, and every name it shares with the Vault
//! side (its ServiceAccount, kubernetes-auth role and policy).

use super::defaults::DEFAULT_AUDIENCE;
use crate::spec::types::BackupSpec;

/// The CronJob, its ServiceAccount, its volume claim and its kubernetes-auth role.
pub const BACKUP_NAME: &str = "vault-backup";
/// How many snapshots stay on the volume when the spec does not say.
pub const DEFAULT_KEEP: u32 = 7;
/// The image the upload step runs (the AWS CLI; the Vault image has no S3 client). Pinned by
/// version: the tool knows no digest for it.
pub const S3_UPLOAD_IMAGE: &str = "amazon/aws-cli:2.32.8";
/// The one path the backup policy grants (`read`): a raft snapshot.
pub const SNAPSHOT_PATH: &str = "sys/storage/raft/snapshot";

#[derive(Debug, Clone)]
pub struct Backup {
    pub schedule: String,
    pub keep: u32,
    pub size: String,
    pub storage_class_name: Option<String>,
    /// The CronJob, ServiceAccount, PersistentVolumeClaim and kubernetes-auth role.
    pub name: String,
    /// `<cluster>-vault-backup`: exactly `read` on [`SNAPSHOT_PATH`].
    pub policy: String,
    /// The audience its token is projected with and the role is bound to.
    pub audience: String,
    /// The image the Vault pods run (the snapshot step's).
    pub image: String,
    /// Where each snapshot is uploaded once it is saved and checked (`backup.storage.s3`).
    pub s3: Option<BackupS3>,
}

/// `backup.storage.s3`, resolved.
#[derive(Debug, Clone)]
pub struct BackupS3 {
    pub bucket: String,
    /// The key prefix the snapshots go under: `<prefix>/<cluster>` (or `<cluster>`).
    pub prefix: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// The Secret whose `ca.crt` verifies the endpoint.
    pub ca_secret: Option<String>,
    /// The Secret whose `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` the upload reads.
    pub credentials_secret: Option<String>,
    /// Annotations on the job's ServiceAccount (workload identity).
    pub service_account_annotations: std::collections::BTreeMap<String, String>,
    pub keep: u32,
    /// The upload step's image ([`S3_UPLOAD_IMAGE`]).
    pub image: String,
}

pub(super) fn backup(b: &BackupSpec, cluster: &str, image: &str) -> Backup {
    Backup {
        schedule: b.schedule.trim().to_string(),
        keep: b.keep.unwrap_or(DEFAULT_KEEP),
        size: b.storage.pvc.size.clone(),
        storage_class_name: b.storage.pvc.storage_class_name.clone(),
        name: BACKUP_NAME.into(),
        policy: format!("{cluster}-{BACKUP_NAME}"),
        audience: DEFAULT_AUDIENCE.into(),
        image: image.to_string(),
        s3: b.storage.s3.as_ref().map(|s3| BackupS3 {
            bucket: s3.bucket.clone(),
            prefix: match &s3.prefix {
                Some(p) => format!("{p}/{cluster}"),
                None => cluster.to_string(),
            },
            endpoint: s3.endpoint.clone(),
            region: s3.region.clone(),
            ca_secret: s3.ca_secret.clone(),
            credentials_secret: s3.credentials_secret.clone(),
            service_account_annotations: s3.service_account_annotations.clone(),
            keep: s3.keep.or(b.keep).unwrap_or(DEFAULT_KEEP),
            image: S3_UPLOAD_IMAGE.into(),
        }),
    }
}
