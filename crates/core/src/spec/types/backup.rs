//! `backup`: scheduled raft snapshots, taken in the cluster by a CronJob the tree writes.

use schemars::JsonSchema;
use serde::Deserialize;

/// `backup`: a CronJob in Vault's namespace saves a raft snapshot through the active node on
/// `schedule`, checks it is a whole archive, and keeps the newest `keep` on a volume.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackupSpec {
    /// When to take a snapshot: a five-field cron schedule (`minute hour day-of-month month
    /// day-of-week`, in the controller's time zone, UTC on most clusters) or a macro
    /// (`@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`).
    pub schedule: String,
    /// How many snapshots to keep on the volume (default 7); older ones are removed after each
    /// successful snapshot.
    pub keep: Option<u32>,
    /// Where snapshots are written.
    pub storage: BackupStorageSpec,
}

/// `backup.storage`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackupStorageSpec {
    /// A PersistentVolumeClaim the tree creates (`vault-backup`, in Vault's namespace).
    pub pvc: BackupPvcSpec,
    /// Not yet supported (refused): an S3-compatible bucket to copy each snapshot to.
    #[schemars(with = "Option<serde_json::Value>")]
    pub s3: Option<crate::yaml::Value>,
}

/// `backup.storage.pvc`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackupPvcSpec {
    /// The volume's size, a Kubernetes quantity (e.g. `10Gi`): room for `keep` snapshots.
    pub size: String,
    /// The StorageClass (default: the cluster's default class).
    pub storage_class_name: Option<String>,
}
