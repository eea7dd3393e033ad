//! `backup`: a schedule the CronJob controller accepts, a volume, and a Vault in this cluster.

use super::rules::Checker;
use crate::spec::types::{Spec, TokenReviewerMode};

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
    if b.storage.s3.is_some() {
        c.error(
            "backup.storage.s3",
            "copying snapshots to an S3 bucket is not supported yet",
            "remove `s3`; the snapshots stay on the volume (copy them off it with your own job, see docs: backups.md)",
        );
    }
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
    fn quantities() {
        for ok in ["10Gi", "500Mi", "1.5Gi", "1000000", "2T"] {
            assert!(super::is_quantity(ok), "{ok}");
        }
        for bad in ["", "Gi", "10GB", "-1Gi", "0", "ten"] {
            assert!(!super::is_quantity(bad), "{bad}");
        }
    }
}
