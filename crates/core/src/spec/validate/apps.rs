//! `apps`: each app's names, Vault role and audiences, then its secrets and what its
//! consumer can read.

use super::rules::{is_audience, Checker};
use super::{consumers, secrets};
use crate::model::defaults::default_app_role;
use crate::spec::scan::shown;
use crate::spec::types::Spec;
use std::collections::BTreeMap;

/// App by app: the app's own fields, its consumer's options, each secret (see
/// [`secrets::check`]), then what the app's name must also be for its consumer; the
/// required-value checks last, so that the errors on one line keep their order.
pub(super) fn check(c: &mut Checker, spec: &Spec) {
    let mut apps_seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut destinations = secrets::Destinations::default();
    let mut roles: BTreeMap<String, String> = BTreeMap::new();
    if let Some(cc) = &spec.operator.client_cache {
        roles.insert(cc.role.clone(), "operator.clientCache.role".into());
    }
    let vc = spec.vault_config.as_ref();
    for (ai, app) in spec.apps.iter().enumerate() {
        let base = format!("apps[{ai}]");
        c.dns_label(&format!("{base}.name"), &app.name, "app name");
        c.dns_label(
            &format!("{base}.namespace"),
            &app.namespace,
            "namespace name",
        );
        if let Some(first) = apps_seen.insert((app.namespace.clone(), app.name.clone()), ai) {
            c.error(
                &format!("{base}.name"),
                format!(
                    "app `{}` in namespace `{}` is declared twice (first as apps[{first}])",
                    app.name, app.namespace
                ),
                "give each app a unique name within its namespace",
            );
        }
        if let Some(sa) = &app.service_account {
            c.dns_subdomain(&format!("{base}.serviceAccount"), sa, "ServiceAccount name");
        }
        let role = app
            .role
            .clone()
            .unwrap_or_else(|| default_app_role(&app.namespace, &app.name));
        if app.role.is_some() {
            c.vault_name(&format!("{base}.role"), &role, "Vault role name");
        }
        if let Some(other) = roles.insert(role.clone(), format!("{base}.role")) {
            c.error(
                &format!("{base}.role"),
                format!("Vault role `{role}` is already used by {other}"),
                "each app (and the operator) needs its own kubernetes-auth role: its policy grants exactly that app's paths",
            );
        }
        if let Some(auds) = &app.audiences {
            if auds.is_empty() {
                c.error(
                    &format!("{base}.audiences"),
                    "audiences is empty",
                    "omit it for the default `[vault]`, or list at least one audience",
                );
            }
            for (i, a) in auds.iter().enumerate() {
                if !is_audience(a) {
                    c.error(
                        &format!("{base}.audiences[{i}]"),
                        format!("`{}` is not a valid audience", shown(a)),
                        "an audience is one word or URL of letters, digits and `-._~:/?#@!$&+=%` (no spaces or commas), at most 253 characters, e.g. `vault`",
                    );
                }
            }
        }
        consumers::app(c, spec, &base, app);
        for (si, s) in app.secrets.iter().enumerate() {
            secrets::check(
                c,
                &format!("{base}.secrets[{si}]"),
                app,
                s,
                vc,
                &mut destinations,
            );
        }
        consumers::eso_stores(c, &base, app);
        c.not_null(&format!("{base}.name"));
        c.not_null(&format!("{base}.namespace"));
    }
}
