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
    /// An S3 (or S3-compatible) bucket each verified snapshot is copied to, after it is saved
    /// on the volume; the job fails when the copy fails.
    pub s3: Option<BackupS3Spec>,
}

/// `backup.storage.s3`: where each snapshot is uploaded
/// (`s3://<bucket>/<prefix>/<cluster>/vault-snapshot-<time>.snap`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackupS3Spec {
    /// The bucket (S3's naming rules: 3 to 63 of lowercase letters, digits, dots and hyphens).
    pub bucket: String,
    /// A folder in the bucket, before the cluster's name (default: none).
    pub prefix: Option<String>,
    /// The S3 API's address, for an S3-compatible store (MinIO, Ceph); `https://` (default:
    /// AWS S3 in `region`).
    pub endpoint: Option<String>,
    /// The bucket's region (required unless `endpoint` is given).
    pub region: Option<String>,
    /// Allows an `http://` endpoint (snapshots and credentials then cross the network in
    /// clear; default false).
    pub insecure: Option<bool>,
    /// A Secret in Vault's namespace whose `ca.crt` signs the endpoint's certificate (a
    /// private CA; default: the image's public roots).
    pub ca_secret: Option<String>,
    /// A Secret in Vault's namespace with the keys `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY`; without it the pod's workload identity is used (e.g. EKS IRSA
    /// through `serviceAccountAnnotations`).
    pub credentials_secret: Option<String>,
    /// Annotations on the backup ServiceAccount, e.g.
    /// `eks.amazonaws.com/role-arn: arn:aws:iam::<account>:role/<role>` (IRSA).
    #[serde(default)]
    pub service_account_annotations: std::collections::BTreeMap<String, String>,
    /// How many snapshots to keep under the prefix (default: `backup.keep`); older ones are
    /// deleted after each upload.
    pub keep: Option<u32>,
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
