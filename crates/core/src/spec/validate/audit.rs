//! `vaultConfig.audit`: each device's type, path and options; a file device's log on the
//! audit volume the chart mounts at `/vault/audit` (elsewhere it lands in the container's
//! own filesystem: lost on restart, or not writable at all); each device at its own path;
//! and a warning when the only device is a file on a volume: Vault refuses every request it
//! cannot audit, so a full disk stops it serving.

use super::rules::{is_api_field, Checker};
use crate::model::audit::audit_devices;
use crate::spec::scan::shown;
use crate::spec::types::{AuditConfig, AuditSpec, VaultConfigSpec};
use std::collections::BTreeMap;

const TYPES: [&str; 3] = ["file", "socket", "syslog"];
const SOCKET_TYPES: [&str; 3] = ["tcp", "udp", "unix"];

pub(super) fn check(c: &mut Checker, audit: &AuditConfig, home: &str) {
    if let AuditConfig::Many(list) = audit {
        if list.is_empty() {
            c.error(
                "vaultConfig.audit",
                "an empty list of audit devices",
                "list at least one device, e.g. `- {path: stdout, options: {file_path: stdout}}`, or leave `audit` out",
            );
            return;
        }
    }
    let devices = audit.devices();
    for (base, a) in &devices {
        device(c, base, a, home);
    }
    // Each device at its own path (the defaults included: two `socket` devices need names).
    let vc = VaultConfigSpec {
        audit: Some(audit.clone()),
        ..Default::default()
    };
    let derived = audit_devices(&vc);
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for ((base, _), d) in devices.iter().zip(&derived) {
        if let Some(first) = seen.insert(&d.path, base) {
            c.error(
                &format!("{base}.path"),
                format!("`{}` is also the path of {first}", shown(&d.path)),
                "give each audit device its own `path` (its name in Vault), e.g. `path: stdout`",
            );
        }
    }
    if let [only] = derived.as_slice() {
        if only.writes_a_file() {
            let (base, _) = &devices[0];
            c.warn(
                base,
                "the only audit device writes a file: when its volume is full, Vault refuses every request (it serves none it cannot audit)",
                "add a second device (`audit: [{…your file device…}, {path: stdout, options: {file_path: stdout}}]`, or a socket to a collector) and rotate the file (see the configure docs: audit devices)",
            );
        }
    }
}

fn device(c: &mut Checker, base: &str, a: &AuditSpec, home: &str) {
    let volume = format!("{home}/audit/");
    let device_type = a.device_type.as_deref().unwrap_or("file");
    if !TYPES.contains(&device_type) {
        c.error(
            &format!("{base}.type"),
            format!("unknown audit device type `{}`", shown(device_type)),
            "use file, socket or syslog",
        );
    }
    let option = |k: &str| a.options.get(k).map(String::as_str);
    match device_type {
        "file" => match option("file_path") {
            Some("stdout" | "discard") => {}
            Some(p) if p.starts_with(&volume) => {}
            Some(p) => c.warn(
                &format!("{base}.options.file_path"),
                format!("`{p}` is outside the audit volume the chart mounts at {home}/audit"),
                format!("write the log under {home}/audit/, e.g. {home}/audit/audit.log"),
            ),
            None => c.warn(
                &format!("{base}.options"),
                "a file audit device needs options.file_path",
                format!("e.g. `file_path: {home}/audit/audit.log` (the chart's audit volume), or `file_path: stdout`"),
            ),
        },
        "socket" => {
            if option("address").is_none_or(str::is_empty) {
                c.error(
                    &format!("{base}.options"),
                    "a socket audit device needs options.address",
                    "e.g. `address: fluent-bit.logging.svc:5170` (and `socket_type: tcp`, the default)",
                );
            }
            if let Some(t) = option("socket_type") {
                if !SOCKET_TYPES.contains(&t) {
                    c.error(
                        &format!("{base}.options.socket_type"),
                        format!("unknown socket type `{}`", shown(t)),
                        "use tcp, udp or unix",
                    );
                }
            }
        }
        _ => {}
    }
    if let Some(p) = &a.path {
        c.vault_path(&format!("{base}.path"), p, "audit device path");
    }
    for k in a.options.keys() {
        if !is_api_field(k) {
            c.error(
                &format!("{base}.options.{k}"),
                format!("`{}` is not an audit device option name", shown(k)),
                "option names are letters, digits and `_`, e.g. `file_path`, `log_raw`",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::locate::LocationIndex;

    /// (errors, warnings) as "path: message" lines.
    fn findings(yaml: &str) -> (Vec<String>, Vec<String>) {
        let vc: VaultConfigSpec = crate::yaml::from_str(yaml).unwrap();
        let index = LocationIndex::build("");
        let mut c = Checker::new(&index);
        check(&mut c, vc.audit.as_ref().unwrap(), "/vault");
        let f = c.finish();
        let lines = |d: &[crate::spec::Diagnostic]| {
            d.iter()
                .map(|d| format!("{}: {}", d.path, d.message))
                .collect::<Vec<_>>()
        };
        (lines(&f.errors), lines(&f.warnings))
    }

    #[test]
    fn a_single_file_device_on_a_volume_is_warned_about() {
        let (errors, warnings) =
            findings("audit: {type: file, options: {file_path: /vault/audit/audit.log}}");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].starts_with("vaultConfig.audit: the only audit device writes a file"));
        // A second device (or stdout alone) keeps Vault serving: no warning.
        for ok in [
            "audit:\n  - {options: {file_path: /vault/audit/audit.log}}\n  - {path: stdout, options: {file_path: stdout}}\n",
            "audit: {options: {file_path: stdout}}",
            "audit:\n  - {type: socket, options: {address: 'collector:5170'}}\n",
        ] {
            assert_eq!(findings(ok), (vec![], vec![]), "{ok}");
        }
    }

    #[test]
    fn each_device_has_its_own_path_and_its_type_s_options() {
        let (errors, _) = findings(
            "audit:\n  - {options: {file_path: stdout}}\n  - {options: {file_path: /vault/audit/a.log}}\n  - {type: socket, options: {socket_type: sctp}}\n  - {type: pipe}\n",
        );
        let mut errors = errors;
        errors.sort();
        assert_eq!(
            errors,
            [
                "vaultConfig.audit[1].path: `file` is also the path of vaultConfig.audit[0]",
                "vaultConfig.audit[2].options.socket_type: unknown socket type `sctp`",
                "vaultConfig.audit[2].options: a socket audit device needs options.address",
                "vaultConfig.audit[3].type: unknown audit device type `pipe`",
            ]
        );
        assert_eq!(findings("audit: []").0.len(), 1);
    }
}
