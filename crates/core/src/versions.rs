//! The versions the generated tree supports, in one place: which Vault Secrets Operator (VSO)
//! chart versions, what each writes into the status of the kinds the tree creates, and the
//! Flux health checks that read that status.
//!
//! The status contracts come from the operator's own code, not its CRDs alone:
//!
//! - **0.10.x** (`controllers/*_controller.go` at v0.10.0): VaultStaticSecret and
//!   VaultDynamicSecret get a status only after a successful sync (`lastGeneration` =
//!   `metadata.generation`, `secretMAC`, the lease); a failed sync writes nothing, so Flux can
//!   only wait. VaultPKISecret writes `valid: false` and `error` on a failed sync and
//!   `valid: true` on success, with `lastGeneration` both times. No `conditions` on any of them.
//! - **1.x** (v1.0.0 to v1.4.1): every reconcile of the three secret kinds ends in
//!   `updateStatus`, which sets `lastGeneration` and a `Healthy` condition (True on success,
//!   False on any failure), plus `SecretSynced` when a sync was attempted (from 1.1 also `Ready`,
//!   equal to `Healthy`). `SecretSynced` can stay False after a later reconcile that found
//!   nothing to sync, so `Healthy` (rewritten every time) is the signal to read.
//! - VaultAuth and VaultConnection: `valid` true or false, in both lines.
//!
//! None of these kinds writes `status.observedGeneration`, so Flux's own generation check does
//! not apply: the expressions compare `status.lastGeneration` with `metadata.generation`.
//!
//! How kustomize-controller evaluates them (fluxcd/pkg `runtime/cel`, RFC 0009): the object's
//! top-level fields (`metadata`, `spec`, `status`, …) are the CEL variables (no `self`); the
//! expressions are parsed, not type-checked; `inProgress`, then `failed`, then `current`, the
//! first true one wins; none true is InProgress; an evaluation error (e.g. no `status` yet) is
//! Unknown. Only the standard CEL macros and functions are used here (`has`, `exists`).

use std::fmt;

/// A supported release line of the VSO chart; decides the status the health checks read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VsoLine {
    /// 0.10.x: no status conditions on the secret kinds.
    V0_10,
    /// 1.0.0 and later 1.x: `Healthy` / `SecretSynced` (/ `Ready`) conditions.
    V1,
}

/// The supported VSO chart versions, as users read them (diagnostics, README).
pub const SUPPORTED_VSO: &str = "0.10.x or 1.x (tested: 0.10.0 and 1.4.1)";

impl VsoLine {
    /// The line a pinned chart version belongs to; `None` when it is not supported.
    pub fn of(version: &str) -> Option<VsoLine> {
        let core = version.trim().trim_start_matches('v');
        let core = core.split(['-', '+']).next().unwrap_or_default();
        let parts: Vec<u64> = core
            .split('.')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        match parts.as_slice() {
            [0, 10, _] => Some(VsoLine::V0_10),
            [1, _, _] => Some(VsoLine::V1),
            _ => None,
        }
    }

    /// The top-level `status` fields this line writes on `kind` (from its CRD schema).
    pub fn status_fields(self, kind: &str) -> &'static [&'static str] {
        match (self, kind) {
            (VsoLine::V0_10, "VaultStaticSecret") => &["lastGeneration", "secretMAC"],
            (VsoLine::V1, "VaultStaticSecret") => &[
                "conditions",
                "lastGeneration",
                "secretMAC",
                "vaultClientMeta",
            ],
            (VsoLine::V0_10, "VaultDynamicSecret") => &[
                "lastGeneration",
                "lastRenewalTime",
                "lastRuntimePodUID",
                "secretLease",
                "secretMAC",
                "staticCredsMetaData",
                "vaultClientMeta",
            ],
            (VsoLine::V1, "VaultDynamicSecret") => &[
                "conditions",
                "lastGeneration",
                "lastRenewalTime",
                "lastRuntimePodUID",
                "secretLease",
                "secretMAC",
                "staticCredsMetaData",
                "vaultClientMeta",
            ],
            (VsoLine::V0_10, "VaultPKISecret") => &[
                "error",
                "expiration",
                "lastGeneration",
                "lastRotation",
                "secretMAC",
                "serialNumber",
                "valid",
            ],
            (VsoLine::V1, "VaultPKISecret") => &[
                "conditions",
                "error",
                "expiration",
                "lastGeneration",
                "lastRotation",
                "secretMAC",
                "serialNumber",
                "valid",
            ],
            (_, "VaultAuth") => &["conditions", "error", "specHash", "valid"],
            (VsoLine::V0_10, "VaultConnection") => &["valid"],
            (VsoLine::V1, "VaultConnection") => &["conditions", "valid"],
            _ => &[],
        }
    }
}

impl fmt::Display for VsoLine {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            VsoLine::V0_10 => "0.10.x",
            VsoLine::V1 => "1.x",
        })
    }
}

/// One entry of a Flux Kustomization's `healthCheckExprs` (a template context as it is).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HealthCheck {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub in_progress: Option<String>,
    pub failed: Option<String>,
    pub current: String,
}

pub const VSO_API_VERSION: &str = "secrets.hashicorp.com/v1beta1";
/// The kinds of secret CR the tree generates.
pub const SECRET_KINDS: [&str; 3] = ["VaultStaticSecret", "VaultDynamicSecret", "VaultPKISecret"];

/// VSO has not yet reconciled the current spec (or has never reconciled at all).
const STALE: &str = "!has(status.lastGeneration) || status.lastGeneration != metadata.generation";
/// VSO's last recorded reconcile is of the current spec.
const UP_TO_DATE: &str =
    "has(status.lastGeneration) && status.lastGeneration == metadata.generation";

fn condition(kind: &str, status: &str) -> String {
    format!(
        "has(status.conditions) && status.conditions.exists(c, c.type == '{kind}' && c.status == '{status}')"
    )
}

/// The health checks for the objects of the apps stage, right for `line`.
pub fn health_checks(line: VsoLine) -> Vec<HealthCheck> {
    let mut out: Vec<HealthCheck> = SECRET_KINDS
        .iter()
        .map(|kind| {
            let (failed, current) = match (line, *kind) {
                // A failed reconcile writes Healthy=False (with SecretSynced=False) at once.
                (VsoLine::V1, _) => (
                    Some(condition("Healthy", "False")),
                    format!("{UP_TO_DATE} && {}", condition("Healthy", "True")),
                ),
                (VsoLine::V0_10, "VaultPKISecret") => (
                    Some("has(status.valid) && status.valid == false".to_string()),
                    format!("{UP_TO_DATE} && has(status.valid) && status.valid == true"),
                ),
                // 0.10 writes status only after a successful sync: nothing reports a failure.
                (VsoLine::V0_10, _) => (None, UP_TO_DATE.to_string()),
            };
            HealthCheck {
                api_version: VSO_API_VERSION,
                kind,
                in_progress: Some(STALE.to_string()),
                failed,
                current,
            }
        })
        .collect();
    for kind in ["VaultAuth", "VaultConnection"] {
        out.push(HealthCheck {
            api_version: VSO_API_VERSION,
            kind,
            in_progress: None,
            failed: Some("has(status.valid) && status.valid == false".into()),
            current: "has(status.valid) && status.valid == true".into(),
        });
    }
    out
}

/// Health checks for the other kinds the apps stage may hold, which kstatus cannot judge (it
/// reads `Ready=False` as InProgress, so a broken store shows only as a timeout after 10
/// minutes). As for VSO: a failure fails the Kustomization at once, and only a verdict on the
/// current spec is Current.
/// - ESO (`external-secrets.io/v1`): `Ready` is the verdict. An ExternalSecret records the
///   generation it synced in `status.syncedResourceVersion` (`<generation>-<hash>`, written on
///   a successful sync only); stores record none.
/// - cert-manager (`cert-manager.io/v1`): an Issuer's `Ready` condition carries the generation
///   it judged (`observedGeneration`).
pub fn consumer_health_checks(eso: bool, cert_manager: bool) -> Vec<HealthCheck> {
    let ready = |status: &str| condition("Ready", status);
    let mut out = Vec::new();
    if eso {
        out.push(HealthCheck {
            api_version: "external-secrets.io/v1",
            kind: "ExternalSecret",
            in_progress: None,
            failed: Some(ready("False")),
            current: format!(
                "has(status.syncedResourceVersion) && status.syncedResourceVersion.startsWith(string(metadata.generation) + '-') && {}",
                ready("True")
            ),
        });
        for kind in ["SecretStore", "ClusterSecretStore"] {
            out.push(HealthCheck {
                api_version: "external-secrets.io/v1",
                kind,
                in_progress: None,
                failed: Some(ready("False")),
                current: ready("True"),
            });
        }
    }
    if cert_manager {
        let judged = |status: &str| {
            format!(
                "has(status.conditions) && status.conditions.exists(c, c.type == 'Ready' && c.status == '{status}' && has(c.observedGeneration) && c.observedGeneration == metadata.generation)"
            )
        };
        for kind in ["Issuer", "ClusterIssuer"] {
            out.push(HealthCheck {
                api_version: "cert-manager.io/v1",
                kind,
                in_progress: None,
                failed: Some(judged("False")),
                current: judged("True"),
            });
        }
    }
    out
}

/// The status fields the pinned ESO and cert-manager CRDs define for the kinds
/// [`consumer_health_checks`] judges (`None`: not one of them).
pub fn consumer_status_fields(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "ExternalSecret" => &[
            "binding",
            "conditions",
            "refreshTime",
            "syncedResourceVersion",
        ],
        "SecretStore" | "ClusterSecretStore" => &["capabilities", "conditions"],
        "Issuer" | "ClusterIssuer" => &["acme", "conditions"],
        _ => return None,
    })
}

/// The `status.<field>` names an expression reads (for the self-check).
pub fn status_fields_read(expr: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(i) = rest.find("status.") {
        // Only the variable `status`, not e.g. `c.status`.
        let before = rest[..i].chars().last();
        let after = &rest[i + "status.".len()..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if !matches!(before, Some(c) if c.is_ascii_alphanumeric() || c == '.' || c == '_') {
            out.push(&after[..end]);
        }
        rest = &after[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(VsoLine::of("0.10.0"), Some(VsoLine::V0_10));
        assert_eq!(VsoLine::of("1.4.1"), Some(VsoLine::V1));
        assert_eq!(VsoLine::of("1.0.0-rc.1"), Some(VsoLine::V1));
        assert_eq!(VsoLine::of("0.9.1"), None);
        assert_eq!(VsoLine::of("2.0.0"), None);
        assert_eq!(VsoLine::of("1.4"), None);
    }

    #[test]
    fn every_status_field_read_is_written_by_that_line() {
        for line in [VsoLine::V0_10, VsoLine::V1] {
            for h in health_checks(line) {
                for e in [&h.in_progress, &h.failed, &Some(h.current.clone())]
                    .into_iter()
                    .flatten()
                {
                    for f in status_fields_read(e) {
                        assert!(
                            line.status_fields(h.kind).contains(&f),
                            "{line} {} {f}",
                            h.kind
                        );
                    }
                }
            }
        }
        assert_eq!(
            status_fields_read(
                "has(status.conditions) && status.conditions.exists(c, c.status == 'x')"
            ),
            ["conditions", "conditions"]
        );
    }
}
