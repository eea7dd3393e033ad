//! The audit devices of `vaultConfig.audit`, each with its path, type and options decided:
//! what `configure` enables through the API and configure.sh through the CLI (and what a
//! server configuration can declare, for a Vault that takes audit devices only there).

use crate::spec::types::{AuditConfig, AuditSpec, VaultConfigSpec};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditDevice {
    /// Its path in Vault (`sys/audit/<path>`), its name.
    pub path: String,
    /// `file`, `socket` or `syslog`.
    pub device_type: String,
    pub options: BTreeMap<String, String>,
}

impl AuditDevice {
    /// A file device writing to a file (not `stdout` or `discard`): one a full disk stops.
    pub fn writes_a_file(&self) -> bool {
        self.device_type == "file"
            && !matches!(
                self.options.get("file_path").map(String::as_str),
                Some("stdout" | "discard")
            )
    }
}

/// The devices of `vc.audit`, in the spec's order. The one-device form keeps its defaults
/// (path `file`); in a list each device's path defaults to its type. A file device without
/// `file_path` writes to `stdout`.
pub fn audit_devices(vc: &VaultConfigSpec) -> Vec<AuditDevice> {
    let Some(audit) = &vc.audit else {
        return vec![];
    };
    let device = |a: &AuditSpec, default_path: &str| {
        let device_type = a.device_type.clone().unwrap_or_else(|| "file".into());
        AuditDevice {
            path: a.path.clone().unwrap_or_else(|| default_path.into()),
            options: if a.options.is_empty() && device_type == "file" {
                BTreeMap::from([("file_path".to_string(), "stdout".to_string())])
            } else {
                a.options.clone()
            },
            device_type,
        }
    };
    match audit {
        AuditConfig::One(a) => vec![device(a, "file")],
        AuditConfig::Many(list) => list
            .iter()
            .map(|a| device(a, a.device_type.as_deref().unwrap_or("file")))
            .collect(),
    }
}

/// The pod label that marks Vault pods whose `stdout` audit device a log shipper reads
/// (`monitoring` with a `file_path: stdout` device).
pub const AUDIT_STDOUT_LABEL: &str = "kubectl-vault/audit";

/// Whether a device writes the audit log to the container's stdout.
pub fn writes_stdout(vc: &VaultConfigSpec) -> bool {
    audit_devices(vc).iter().any(|d| {
        d.device_type == "file" && d.options.get("file_path").map(String::as_str) == Some("stdout")
    })
}

/// Whether the Vault chart needs its audit volume (`server.auditStorage`): the one-device
/// form asks for it with any file device (as it always did); a list, when one of its devices
/// writes a file.
pub(crate) fn needs_volume(vc: &VaultConfigSpec) -> bool {
    match &vc.audit {
        None => false,
        Some(AuditConfig::One(a)) => a.device_type.as_deref().unwrap_or("file") == "file",
        Some(AuditConfig::Many(_)) => audit_devices(vc).iter().any(AuditDevice::writes_a_file),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vc(yaml: &str) -> VaultConfigSpec {
        crate::yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn one_device_keeps_its_defaults_and_a_list_names_each_by_type() {
        let one = vc("audit: {options: {file_path: /vault/audit/audit.log}}");
        assert_eq!(
            audit_devices(&one),
            [AuditDevice {
                path: "file".into(),
                device_type: "file".into(),
                options: BTreeMap::from([("file_path".into(), "/vault/audit/audit.log".into())]),
            }]
        );
        assert!(needs_volume(&one));
        // The one-device form asks for the volume even for stdout (as before).
        assert!(needs_volume(&vc("audit: {}")));
        let list = vc("audit:\n  - {options: {file_path: /vault/audit/audit.log}}\n  - {path: stdout, options: {file_path: stdout}}\n  - {type: socket, options: {address: 'collector:9090', socket_type: tcp}}\n");
        let devices = audit_devices(&list);
        let paths: Vec<&str> = devices.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, ["file", "stdout", "socket"]);
        assert_eq!(
            devices
                .iter()
                .map(AuditDevice::writes_a_file)
                .collect::<Vec<_>>(),
            [true, false, false]
        );
        assert!(needs_volume(&list));
        assert!(!needs_volume(&vc(
            "audit:\n  - {path: stdout}\n  - {type: syslog}\n"
        )));
    }
}
