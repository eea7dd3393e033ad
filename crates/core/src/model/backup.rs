//! `backup`: the CronJob that saves raft snapshots, and every name it shares with the Vault
//! side (its ServiceAccount, kubernetes-auth role and policy).

use super::defaults::DEFAULT_AUDIENCE;
use crate::spec::types::BackupSpec;

/// The CronJob, its ServiceAccount, its volume claim and its kubernetes-auth role.
pub const BACKUP_NAME: &str = "vault-backup";
/// How many snapshots stay on the volume when the spec does not say.
pub const DEFAULT_KEEP: u32 = 7;
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
    /// The image the Vault pods run (no other image to trust).
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
    }
}
