//! How often the Secrets Store CSI driver re-reads what the CSI apps mount, and what that costs.
//!
//! The path of a CSI read (upstream source, read; none of these has a binary here except the
//! agent, which the tests run as `bao agent`):
//! - The driver (secrets-store-csi-driver v1.6.0) with `enableSecretRotation` marks its
//!   CSIDriver `requiresRepublish` (chart `templates/csidriver.yaml`), so the kubelet calls
//!   `NodePublishVolume` again and again; the driver skips the call until
//!   `rotationPollInterval` has passed since the volume's last write
//!   (`pkg/secrets-store/nodeserver.go`, `rotationCacheDuration`), then asks the provider for
//!   every object again. Its default is 2 minutes (`cmd/secrets-store-csi-driver/main.go`,
//!   `rotation-poll-interval`); the interval is one setting for the whole driver.
//! - vault-csi-provider (v1.7.4) keeps one Vault client, and so one token, per pod
//!   (`internal/clientcache`: the key is the SecretProviderClass parameters and the pod, not the
//!   objects), and de-duplicates requests within one mount only (`internal/provider/provider.go`,
//!   `vaultResponseCache`, built per mount request): every poll sends each distinct
//!   (`secretPath`, `method`) of the class to Vault again.
//! - Its Vault address is the chart's `VAULT_ADDR`, the agent's unix socket, unless the class
//!   sets `vaultAddress` (`internal/client/client.go`, `New`: environment, then flags, then the
//!   class). Through the Vault chart's CSI agent (`csi.agent`, a `cache {}` listener), an
//!   answer with a lease (database credentials) is cached for the token that asked and its
//!   lease renewed until it can be no longer; an answer without one (a certificate: PKI issues
//!   no lease; kv) is passed through, never cached.
//!
//! So a certificate through CSI is issued anew at every poll, for every pod; database
//! credentials once per pod and lease lifetime. The poll is set from what the apps read.

use super::{Consumer, Source, Stack};
use crate::duration::{Duration, Grammar};
use crate::spec::types::VaultConfigSpec;

/// The driver's own poll (`--rotation-poll-interval`, 2 minutes): the shortest the tree sets.
pub(crate) const DRIVER_DEFAULT_POLL: u64 = 120;

/// One secret a CSI app reads, as far as the rotation poll and its cost are concerned.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CsiRead<'a> {
    Kv,
    Database {
        mount: &'a str,
        role: &'a str,
    },
    Dynamic,
    Pki {
        mount: &'a str,
        role: &'a str,
        ttl: Option<&'a str>,
    },
}

fn seconds(d: Option<&str>) -> Option<u64> {
    Duration::parse(d?, Grammar::Vault).map(|d| d.whole_seconds().max(0) as u64)
}

impl CsiRead<'_> {
    /// How long what it reads lives, in seconds, where the spec says: a certificate its `ttl`,
    /// capped by its role's `maxTtl` and its mount's `maxLeaseTtl`; database credentials the
    /// role's `maxTtl` (the agent renews their lease up to it). kv and other dynamic paths:
    /// nothing to say.
    pub(crate) fn lifetime(&self, vc: Option<&VaultConfigSpec>) -> Option<u64> {
        match *self {
            CsiRead::Pki { mount, role, ttl } => {
                let m = vc.and_then(|vc| vc.pki.get(mount));
                let role_max = seconds(
                    m.and_then(|m| m.roles.get(role))
                        .and_then(|r| r.max_ttl.as_deref()),
                );
                let mount_max = seconds(m.and_then(|m| m.max_lease_ttl.as_deref()));
                [seconds(ttl), role_max, mount_max]
                    .into_iter()
                    .flatten()
                    .filter(|s| *s > 0)
                    .min()
            }
            CsiRead::Database { mount, role } => seconds(
                vc.and_then(|vc| vc.databases.get(mount))
                    .and_then(|d| d.roles.get(role))
                    .and_then(|r| r.max_ttl.as_deref()),
            )
            .filter(|s| *s > 0),
            CsiRead::Kv | CsiRead::Dynamic => None,
        }
    }
}

/// The driver's rotation poll, in seconds: a third of the shortest lifetime the CSI apps read
/// (so a certificate is replaced with two thirds of its life left, as VSO's default
/// `expiryOffset` does, and new database credentials reach the pods within a third of their
/// lease's lifetime), never under the driver's own 2 minutes; those 2 minutes when no lifetime
/// is known (kv only: each poll is one read, no credential).
pub(crate) fn rotation_poll(lifetimes: impl IntoIterator<Item = u64>) -> u64 {
    lifetimes
        .into_iter()
        .min()
        .map(|l| (l / 3).max(DRIVER_DEFAULT_POLL))
        .unwrap_or(DRIVER_DEFAULT_POLL)
}

/// What each secret of the stack's CSI apps reads.
pub(crate) fn reads(stack: &Stack) -> Vec<CsiRead<'_>> {
    stack
        .apps
        .iter()
        .filter(|a| matches!(a.consumer, Consumer::Csi(_)))
        .flat_map(|a| &a.secrets)
        .map(|s| match &s.source {
            Source::Kv { .. } => CsiRead::Kv,
            Source::Database { mount, role } => CsiRead::Database { mount, role },
            Source::Dynamic { .. } | Source::Cloud { .. } => CsiRead::Dynamic,
            Source::Pki { mount, role } => CsiRead::Pki {
                mount,
                role,
                ttl: s.pki.as_ref().and_then(|p| p.ttl.as_deref()),
            },
        })
        .collect()
}

/// The stack's rotation poll, in seconds; `None` without a CSI app.
pub fn rotation_poll_of(stack: &Stack) -> Option<u64> {
    let reads = reads(stack);
    if reads.is_empty() {
        return None;
    }
    Some(rotation_poll(
        reads
            .iter()
            .filter_map(|r| r.lifetime(Some(&stack.vault_config))),
    ))
}

/// Seconds as Go's `time.ParseDuration` reads them (the driver's flag), in one unit: `24h`,
/// `20m`, `90s`.
pub(crate) fn go_duration(secs: u64) -> String {
    if secs > 0 && secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs > 0 && secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// How many times a day something that happens every `secs` seconds happens: whole from 10
/// up, one decimal below (`720`, `3`, `0.3`).
pub(crate) fn per_day(secs: u64) -> String {
    let n = 86_400.0 / secs.max(1) as f64;
    if n >= 10.0 {
        format!("{n:.0}")
    } else {
        let s = format!("{n:.1}");
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poll_is_a_third_of_the_shortest_lifetime_and_never_under_two_minutes() {
        assert_eq!(rotation_poll([]), 120);
        assert_eq!(rotation_poll([72 * 3600]), 24 * 3600);
        assert_eq!(rotation_poll([72 * 3600, 3600]), 1200);
        assert_eq!(rotation_poll([60]), 120);
    }

    #[test]
    fn durations_and_rates_as_written() {
        assert_eq!(go_duration(86_400), "24h");
        assert_eq!(go_duration(1200), "20m");
        assert_eq!(go_duration(90), "90s");
        assert_eq!(per_day(120), "720");
        assert_eq!(per_day(86_400), "1");
        assert_eq!(per_day(28_800), "3");
        assert_eq!(per_day(3 * 86_400), "0.3");
    }
}
