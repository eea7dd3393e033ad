//! `backup`: a schedule the CronJob controller accepts, a volume, and a Vault in this cluster.

use super::rules::{is_qualified_name, is_url, Checker};
use crate::spec::types::{BackupS3Spec, Spec, TokenReviewerMode};

/// Largest `keep`: each snapshot is a copy of the whole raft store.
const MAX_KEEP: u32 = 1000;

pub(super) fn check(c: &mut Checker, spec: &Spec) {
    let Some(b) = &spec.backup else { return };
    if !spec.vault.deploys() {
        c.error(
            "backup",
            "backups are taken where Vault runs, but this cluster runs no Vault (vault.deploy: false)",
            "move `backup` to the spec of the cluster that runs Vault",
        );
    }
    let client_reviewer = (spec.vault_config.as_ref())
        .and_then(|vc| vc.kubernetes_auth.as_ref())
        .and_then(|k| k.token_reviewer.as_ref())
        .is_some_and(|r| r.mode == TokenReviewerMode::Client);
    if client_reviewer {
        c.error(
            "backup",
            "the backup job's token carries one audience (Vault's), but a client-JWT token reviewer (tokenReviewer.mode: client) needs the API server's too",
            "use the default token reviewer (Vault's own pod token) or `mode: serviceAccount`",
        );
    }
    match crate::cron::parse(&b.schedule) {
        Err(e) => c.error(
            "backup.schedule",
            format!("not a cron schedule: {e}"),
            "five fields, e.g. `0 3 * * *` (every day at 03:00) or `@daily`",
        ),
        Ok(s) if s.longest_gap_minutes().is_none() => c.error(
            "backup.schedule",
            "this schedule never fires",
            "check the day of month against the month (e.g. `0 0 30 2 *` names 30 February)",
        ),
        Ok(_) => {}
    }
    if let Some(keep) = b.keep {
        if keep == 0 || keep > MAX_KEEP {
            c.error(
                "backup.keep",
                format!("keep {keep}: from 1 to {MAX_KEEP} snapshots"),
                "how many snapshots stay on the volume, e.g. 7",
            );
        }
    }
    if !is_quantity(&b.storage.pvc.size) {
        c.error(
            "backup.storage.pvc.size",
            format!("`{}` is not a storage size", b.storage.pvc.size),
            "a Kubernetes quantity, e.g. `10Gi`",
        );
    }
    if let Some(class) = &b.storage.pvc.storage_class_name {
        c.dns_subdomain(
            "backup.storage.pvc.storageClassName",
            class,
            "a StorageClass name",
        );
    }
    if let Some(s3) = &b.storage.s3 {
        check_s3(c, s3);
    }
}

/// `backup.storage.s3`: a bucket S3 accepts, an endpoint over TLS (or `insecure`), a region
/// unless the endpoint implies one, and names Kubernetes accepts.
fn check_s3(c: &mut Checker, s3: &BackupS3Spec) {
    if !is_bucket(&s3.bucket) {
        c.error(
            "backup.storage.s3.bucket",
            format!("`{}` is not an S3 bucket name", s3.bucket),
            "3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit",
        );
    }
    if let Some(prefix) = &s3.prefix {
        let ok = !prefix.is_empty()
            && prefix.len() <= 512
            && !prefix.starts_with('/')
            && !prefix.ends_with('/')
            && !prefix.contains("//")
            && prefix
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '/' | '-' | '_' | '.'));
        if !ok {
            c.error(
                "backup.storage.s3.prefix",
                format!("`{prefix}` is not a key prefix"),
                "letters, digits, `-`, `_`, `.` and `/` between folders, no leading or trailing `/`, e.g. `vault/prod`",
            );
        }
    }
    if let Some(endpoint) = &s3.endpoint {
        let insecure = s3.insecure == Some(true);
        if endpoint.starts_with("http://") && !insecure {
            c.error(
                "backup.storage.s3.endpoint",
                format!("`{endpoint}` sends the snapshots and the credentials in clear"),
                "serve the store over https, or say `insecure: true` (a store inside the cluster, on a trusted network)",
            );
        } else if !is_url(endpoint, &["https", "http"]) {
            c.error(
                "backup.storage.s3.endpoint",
                format!("`{endpoint}` is not an https URL"),
                "the S3 API's address, e.g. `https://minio.storage.svc:9000`",
            );
        } else if insecure && endpoint.starts_with("https://") {
            c.warn(
                "backup.storage.s3.insecure",
                "`insecure: true` has no effect on an https endpoint (its certificate is still verified)",
                "remove `insecure`",
            );
        }
    } else if s3.insecure.is_some() || s3.ca_secret.is_some() {
        c.error(
            "backup.storage.s3",
            "`insecure` and `caSecret` only apply to an `endpoint`",
            "remove them (AWS S3 is reached over https with public certificates)",
        );
    }
    match &s3.region {
        None if s3.endpoint.is_none() => c.error(
            "backup.storage.s3",
            "no `region`: AWS S3 needs the bucket's region",
            "add `region`, e.g. `region: eu-west-1` (or an `endpoint` for an S3-compatible store)",
        ),
        Some(r) if !is_region(r) => c.error(
            "backup.storage.s3.region",
            format!("`{r}` is not a region"),
            "lower-case letters, digits and hyphens, e.g. `eu-west-1`",
        ),
        _ => {}
    }
    if let Some(secret) = &s3.ca_secret {
        c.dns_subdomain("backup.storage.s3.caSecret", secret, "Secret name");
    }
    if let Some(secret) = &s3.credentials_secret {
        c.dns_subdomain("backup.storage.s3.credentialsSecret", secret, "Secret name");
    }
    for key in s3.service_account_annotations.keys() {
        if !is_qualified_name(key) {
            c.error(
                "backup.storage.s3.serviceAccountAnnotations",
                format!("`{key}` is not an annotation key"),
                "`name` or `prefix.example.com/name`, e.g. `eks.amazonaws.com/role-arn`",
            );
        }
    }
    if let Some(keep) = s3.keep {
        if keep == 0 || keep > MAX_KEEP {
            c.error(
                "backup.storage.s3.keep",
                format!("keep {keep}: from 1 to {MAX_KEEP} snapshots"),
                "how many snapshots stay in the bucket, e.g. 30",
            );
        }
    }
}

/// An S3 bucket name: 3 to 63 of `[a-z0-9.-]`, starting and ending with a letter or digit,
/// no `..`, and not an IP address.
fn is_bucket(s: &str) -> bool {
    (3..=63).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
        && !s.contains("..")
        && !(s.split('.').count() == 4
            && s.split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit())))
}

/// A region name: lower-case letters, digits and hyphens (`eu-west-1`, `us-gov-west-1`).
fn is_region(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A storage size: digits (a decimal point allowed) and a binary or decimal suffix.
fn is_quantity(s: &str) -> bool {
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &s[digits.len()..];
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.parse::<f64>().is_ok_and(|n| n > 0.0)
        && ["", "Ki", "Mi", "Gi", "Ti", "Pi", "k", "M", "G", "T", "P"].contains(&suffix)
}

#[cfg(test)]
mod tests {
    #[test]
    fn buckets() {
        for ok in [
            "abc",
            "my-backups",
            "vault.backups.example",
            &"a".repeat(63),
        ] {
            assert!(super::is_bucket(ok), "{ok}");
        }
        for bad in [
            "ab",
            "My-Backups",
            "-abc",
            "abc-",
            "a..b",
            "a_b",
            "192.168.1.1",
            &"a".repeat(64),
        ] {
            assert!(!super::is_bucket(bad), "{bad}");
        }
    }

    #[test]
    fn quantities() {
        for ok in ["10Gi", "500Mi", "1.5Gi", "1000000", "2T"] {
            assert!(super::is_quantity(ok), "{ok}");
        }
        for bad in ["", "Gi", "10GB", "-1Gi", "0", "ten"] {
            assert!(!super::is_quantity(bad), "{bad}");
        }
    }
}
