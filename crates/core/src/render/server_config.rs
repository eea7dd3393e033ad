//! The stanzas OpenBao takes in its server configuration where Vault takes API calls: audit
//! devices (`audit "<type>" "<path>" { ... }`, OpenBao 2.2+) and self-initialisation
//! (`initialize "<name>" { request "<name>" { ... } }`, OpenBao 2.4+). Written in HCL (the
//! configuration's other stanzas are HCL); the real `bao` parses them in the tests.

use crate::model::Stack;
use crate::spec::types::SelfInitRequestSpec;
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// One audit device, as the server configuration declares it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AuditDevice<'a> {
    /// `file`, `socket` or `syslog`.
    pub kind: &'a str,
    /// Where it is mounted (`sys/audit/<path>`), the stanza's name.
    pub path: &'a str,
    pub options: &'a BTreeMap<String, String>,
}

/// The stanzas the server configuration ends with (none for Vault: its audit devices go
/// through the API and it has no self-initialisation).
pub(crate) fn extra_stanzas(stack: &Stack) -> Vec<String> {
    let v = &stack.vault;
    let mut stanzas = vec![];
    if v.distribution.audit_in_config() {
        // The spec's devices (`vaultConfig.audit`), as `configure` would enable them on Vault.
        let devices = crate::model::audit::audit_devices(&stack.vault_config);
        let devices: Vec<AuditDevice> = (devices.iter())
            .map(|d| AuditDevice {
                kind: &d.device_type,
                path: &d.path,
                options: &d.options,
            })
            .collect();
        stanzas.extend(audit_stanzas(&devices));
    }
    if v.distribution.self_init() {
        if let Some(si) = &v.self_init {
            stanzas.extend(initialize_stanzas(&si.requests));
        }
    }
    stanzas
}

/// `audit "<type>" "<path>" { options { ... } }`, one per device, in order.
pub(crate) fn audit_stanzas(devices: &[AuditDevice]) -> Vec<String> {
    devices
        .iter()
        .map(|d| {
            let mut s = format!("audit {} {} {{\n", quoted(d.kind), quoted(d.path));
            s.push_str("  options {\n");
            for (k, v) in d.options {
                s.push_str(&format!("    {} = {}\n", quoted(k), quoted(v)));
            }
            s.push_str("  }\n}");
            s
        })
        .collect()
}

/// `initialize "<name>" { request "<name>" { operation, path, data, allow_failure } }`: one
/// stanza per request, so that they run in the spec's order.
pub(crate) fn initialize_stanzas(requests: &[SelfInitRequestSpec]) -> Vec<String> {
    requests
        .iter()
        .map(|r| {
            let mut s = format!(
                "initialize {} {{\n  request {} {{\n",
                quoted(&r.name),
                quoted(&r.name)
            );
            s.push_str(&format!("    operation = {}\n", quoted(&r.operation)));
            s.push_str(&format!("    path      = {}\n", quoted(&r.path)));
            if let Some(data) = r.data.as_ref().and_then(|d| serde_json::to_value(d).ok()) {
                s.push_str(&format!("    data = {}\n", value(&data, 4)));
            }
            if r.allow_failure {
                s.push_str("    allow_failure = true\n");
            }
            s.push_str("  }\n}");
            s
        })
        .collect()
}

/// A JSON value as an HCL expression (objects with quoted keys, one per line).
fn value(v: &Json, indent: usize) -> String {
    match v {
        Json::Null => "\"\"".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => quoted(s),
        Json::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|i| value(i, indent))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Json::Object(map) if map.is_empty() => "{}".into(),
        Json::Object(map) => {
            let pad = " ".repeat(indent + 2);
            let mut s = "{\n".to_string();
            for (k, v) in map {
                s.push_str(&format!("{pad}{} = {}\n", quoted(k), value(v, indent + 2)));
            }
            s.push_str(&" ".repeat(indent));
            s.push('}');
            s
        }
    }
}

/// An HCL string literal.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_stanzas_name_type_path_and_options() {
        let options = BTreeMap::from([("file_path".to_string(), "/openbao/audit/a.log".into())]);
        let devices = [AuditDevice {
            kind: "file",
            path: "file",
            options: &options,
        }];
        assert_eq!(
            audit_stanzas(&devices),
            ["audit \"file\" \"file\" {\n  options {\n    \"file_path\" = \"/openbao/audit/a.log\"\n  }\n}"]
        );
        assert!(audit_stanzas(&[]).is_empty());
    }

    #[test]
    fn values_are_hcl() {
        let v = serde_json::json!({"type": "kubernetes", "n": 1, "l": ["a\"b"], "o": {}});
        assert_eq!(
            value(&v, 4),
            "{\n      \"l\" = [\"a\\\"b\"]\n      \"n\" = 1\n      \"o\" = {}\n      \"type\" = \"kubernetes\"\n    }"
        );
    }
}
