//! `vault.distribution: openbao` and what only OpenBao takes: self-initialisation
//! (`vault.selfInit`, which needs an auto-unseal seal), and the consumers' licences.

use super::rules::Checker;
use crate::model::Distribution;
use crate::spec::scan::shown;
use crate::spec::types::{Consumer, Spec};
use std::collections::BTreeSet;

/// The operations a self-initialisation request may name (OpenBao's ACL capabilities that
/// are request operations).
const OPERATIONS: [&str; 6] = ["create", "read", "update", "patch", "delete", "list"];

pub(super) fn check(c: &mut Checker, spec: &Spec) {
    let d = spec.vault.distribution();
    self_init(c, spec, d);
    if d == Distribution::Openbao {
        licences(c, spec);
        let audit = spec
            .vault_config
            .as_ref()
            .is_some_and(|vc| vc.audit.is_some());
        if audit && !spec.vault.deploys() {
            c.warn(
                "vaultConfig.audit",
                "OpenBao takes audit devices in its server configuration only, and this cluster runs no OpenBao (vault.deploy: false): this device is enabled nowhere",
                "declare it in the spec of the cluster that runs OpenBao",
            );
        }
    }
}

fn self_init(c: &mut Checker, spec: &Spec, d: Distribution) {
    let Some(si) = &spec.vault.self_init else {
        return;
    };
    if !d.self_init() {
        c.error(
            "vault.selfInit",
            format!(
                "self-initialisation is OpenBao's (2.4+): {} has no `initialize` stanza",
                d.product()
            ),
            "write `distribution: openbao`, or remove selfInit and initialise with `kubectl vault operator init`",
        );
        return;
    }
    if spec.vault.auto_unseal.is_none() {
        c.error(
            "vault.selfInit",
            "self-initialisation needs an auto-unseal seal: OpenBao initialises itself only when it can also unseal itself, and hands out no Shamir shares",
            "add `vault.autoUnseal` (transit, awskms, gcpckms or azurekeyvault), or remove selfInit and initialise with `kubectl vault operator init`",
        );
    }
    if si.requests.is_empty() {
        c.error(
            "vault.selfInit.requests",
            "no request: the server would initialise itself and revoke its root token with no way in",
            "list at least the requests that enable an auth method and a policy for your administrators (see the OpenBao page of the docs)",
        );
    }
    let mut names = BTreeSet::new();
    for (i, r) in si.requests.iter().enumerate() {
        let base = format!("vault.selfInit.requests[{i}]");
        if !is_stanza_name(&r.name) {
            c.error(
                &format!("{base}.name"),
                format!("`{}` is not a self-initialisation name", shown(&r.name)),
                "a letter or `_`, then letters, digits, `_` and `-` (OpenBao's rule)",
            );
        } else if !names.insert(r.name.as_str()) {
            c.error(
                &format!("{base}.name"),
                format!("two requests are named `{}`", r.name),
                "give each request its own name: OpenBao refuses a name used twice",
            );
        }
        if !OPERATIONS.contains(&r.operation.as_str()) {
            c.error(
                &format!("{base}.operation"),
                format!("unknown operation `{}`", shown(&r.operation)),
                format!("use one of {}", OPERATIONS.join(", ")),
            );
        }
        c.vault_path(&format!("{base}.path"), &r.path, "API path");
        if let Some(data) = &r.data {
            if !data.is_mapping() {
                c.error(
                    &format!("{base}.data"),
                    "data must be a map (the request's body)",
                    "e.g. `data: {type: kubernetes}`",
                );
            } else if serde_json::to_string(data).is_ok_and(|t| t.contains("{{")) {
                // The chart renders its server configuration with Helm's `tpl`.
                c.error(
                    &format!("{base}.data"),
                    "`{{` in the data would be read by Helm as a template: the chart renders the server configuration with `tpl`",
                    "write templated policies (e.g. `{{identity.entity.id}}`) with `kubectl vault configure` or after the first login, not in selfInit",
                );
            }
        }
    }
}

/// OpenBao users often leave Vault for its licence: say which consumers are not open source.
fn licences(c: &mut Checker, spec: &Spec) {
    let vso: Vec<&str> = (spec.apps.iter())
        .filter(|a| a.consumer == Consumer::Operator)
        .map(|a| a.name.as_str())
        .collect();
    if let Some(first) = vso.first() {
        let i = spec.apps.iter().position(|a| a.name == *first).unwrap_or(0);
        c.warn(
            &format!("apps[{i}]"),
            format!(
                "{} through the Vault Secrets Operator (VSO), which is licensed BUSL-1.1 (not open source)",
                match vso.as_slice() {
                    [one] => format!("app {one} reads its secrets"),
                    many => format!("apps {} read their secrets", many.join(", ")),
                }
            ),
            "write `consumer: eso` (the External Secrets Operator, Apache-2.0, which speaks OpenBao's API) for each app",
        );
    }
}

/// OpenBao's names for `initialize` and `request` blocks: `^[A-Za-z_][A-Za-z0-9_-]*$`.
fn is_stanza_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    #[test]
    fn stanza_names_follow_openbao_s_rule() {
        assert!(super::is_stanza_name("enable-kubernetes_1"));
        assert!(super::is_stanza_name("_x"));
        assert!(!super::is_stanza_name("1x"));
        assert!(!super::is_stanza_name(""));
        assert!(!super::is_stanza_name("a b"));
    }
}
