//! `vaultConfig`: the kubernetes auth method and its token reviewer, token lifetimes, the
//! database secrets engines and the audit device (the PKI mounts are in `pki.rs`), and every
//! mount `configure` enables.

use super::rules::{is_url, is_vault_name, is_vault_path, Checker, DATABASE_PLUGINS};
use crate::model::defaults::DEFAULT_API_AUDIENCE;
use crate::spec::scan::shown;
use crate::spec::types::{
    DatabaseSpec, KubernetesAuthSpec, Spec, TokenReviewerMode, VaultConfigSpec,
};
use std::collections::{BTreeMap, BTreeSet};

/// `deploys`: the cluster runs Vault (else `placement` says what its kubernetes auth lacks).
/// `home`: where the chart puts the server's files (`/vault`; OpenBao's: `/openbao`).
pub(super) fn check(c: &mut Checker, vc: &VaultConfigSpec, deploys: bool, home: &str) {
    if let Some(a) = &vc.address {
        c.not_null("vaultConfig.address");
        if !is_url(a, &["https", "http"]) {
            c.error(
                "vaultConfig.address",
                format!("`{}` is not a Vault address", shown(a)),
                "write the URL `configure` reaches this cluster's Vault at, e.g. https://vault.staging.example.com:8200",
            );
        }
    }
    if let Some(t) = &vc.token_period {
        c.vault_duration("vaultConfig.tokenPeriod", t);
    }
    if let Some(k) = &vc.kubernetes_auth {
        kubernetes_auth(c, k, deploys);
    }
    for (name, db) in &vc.databases {
        database(c, name, db);
    }
    if let Some(a) = &vc.audit {
        super::audit::check(c, a, home);
    }
}

/// Every mount `configure` enables, with the engine it enables there: one engine per
/// mount, and no mount inside another (Vault refuses both: "existing mount at ...").
pub(super) fn mounts(c: &mut Checker, spec: &Spec) {
    let mut mounts: Vec<(String, String, String)> = Vec::new();
    let mut add = |mount: &str, engine: String, path: String| {
        mounts.push((mount.to_string(), engine, path));
    };
    if let Some(vc) = &spec.vault_config {
        for name in vc.databases.keys() {
            add(
                name,
                "database".into(),
                format!("vaultConfig.databases.{name}"),
            );
        }
        for name in vc.pki.keys() {
            add(name, "pki".into(), format!("vaultConfig.pki.{name}"));
        }
        for name in vc.aws.keys() {
            add(name, "aws".into(), format!("vaultConfig.aws.{name}"));
        }
        for name in vc.gcp.keys() {
            add(name, "gcp".into(), format!("vaultConfig.gcp.{name}"));
        }
        for name in vc.azure.keys() {
            add(name, "azure".into(), format!("vaultConfig.azure.{name}"));
        }
    }
    for (ai, app) in spec.apps.iter().enumerate() {
        for (si, s) in app.secrets.iter().enumerate() {
            let sbase = format!("apps[{ai}].secrets[{si}]");
            if let Some(kv) = &s.kv {
                let v = kv.0.version.unwrap_or(2);
                add(
                    &kv.0.mount,
                    format!("kv version {v}"),
                    format!("{sbase}.kv"),
                );
            }
            if let Some(d) = &s.database {
                add(&d.0.mount, "database".into(), format!("{sbase}.database"));
            }
            if let Some(p) = &s.pki {
                add(&p.0.mount, "pki".into(), format!("{sbase}.pki"));
            }
            if let Some(a) = &s.aws {
                add(&a.0.mount, "aws".into(), format!("{sbase}.aws"));
            }
            if let Some(g) = &s.gcp {
                add(&g.0.mount, "gcp".into(), format!("{sbase}.gcp"));
            }
            if let Some(a) = &s.azure {
                add(&a.0.mount, "azure".into(), format!("{sbase}.azure"));
            }
        }
    }
    if let Some(cc) = &spec.operator.client_cache {
        add(
            &cc.transit_mount,
            "transit".into(),
            "operator.clientCache.transitMount".into(),
        );
    }
    let mut first: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    let mut reported: BTreeSet<&str> = BTreeSet::new();
    for (mount, engine, path) in &mounts {
        if !is_vault_path(mount) {
            continue;
        }
        if let Some((other_engine, other_path)) = first.get(mount.as_str()) {
            if other_engine != engine && reported.insert(mount) {
                c.error(
                    path,
                    format!("mount `{mount}` is used as {engine} here and as {other_engine} by {other_path}"),
                    "a mount holds one secrets engine: give each engine its own mount",
                );
            }
            continue;
        }
        for (other, (_, other_path)) in &first {
            let nested =
                mount.starts_with(&format!("{other}/")) || other.starts_with(&format!("{mount}/"));
            if nested && reported.insert(mount) {
                c.error(
                    path,
                    format!("mount `{mount}` and mount `{other}` ({other_path}) are one inside the other"),
                    "Vault refuses a mount inside another (\"existing mount at ...\"): use separate paths",
                );
            }
        }
        first.insert(mount, (engine, path));
    }
}

/// `vaultConfig.kubernetesAuth`: its mount, the API server, its CA, and the token reviewer.
fn kubernetes_auth(c: &mut Checker, k: &KubernetesAuthSpec, deploys: bool) {
    if let Some(m) = &k.mount {
        c.vault_path("vaultConfig.kubernetesAuth.mount", m, "auth mount");
    }
    if !super::rules::is_url(&k.host, &["https", "http"]) {
        c.error(
            "vaultConfig.kubernetesAuth.host",
            format!("`{}` is not a Kubernetes API URL", k.host),
            "e.g. https://kubernetes.default.svc:443",
        );
    }
    if let Some(ca) = &k.ca_cert_from {
        if !ca.starts_with("file:") || ca.len() <= 5 {
            c.error(
                "vaultConfig.kubernetesAuth.caCertFrom",
                "caCertFrom must be `file:PATH`",
                "point it at the cluster CA in PEM form",
            );
        }
    }
    let base = "vaultConfig.kubernetesAuth.tokenReviewer";
    match &k.token_reviewer {
        None if k.disable_local_ca_jwt && deploys => c.error(
            "vaultConfig.kubernetesAuth.disableLocalCaJwt",
            "disableLocalCaJwt without a tokenReviewer: Vault would review each token with the token itself, which the API server refuses, so every login would fail with 403",
            "add `tokenReviewer: {mode: serviceAccount, jwtFrom: env:NAME}` (a generated reviewer ServiceAccount bound to system:auth-delegator) or `tokenReviewer: {mode: client}` (every app's ServiceAccount bound to system:auth-delegator)",
        ),
        None => {}
        Some(r) => match r.mode {
            TokenReviewerMode::ServiceAccount => {
                match &r.jwt_from {
                    Some(j) => c.value_source(&format!("{base}.jwtFrom"), j, "jwtFrom"),
                    None => c.error(
                        &format!("{base}.mode"),
                        "mode serviceAccount needs `jwtFrom`",
                        "add `jwtFrom: env:NAME` or `jwtFrom: file:PATH` holding the vault-token-reviewer ServiceAccount's token (e.g. from `kubectl create token vault-token-reviewer -n vault --duration 8760h`)",
                    ),
                }
                if r.api_audience.is_some() {
                    c.error(
                        &format!("{base}.apiAudience"),
                        "apiAudience applies only to mode client",
                        "remove it",
                    );
                }
            }
            TokenReviewerMode::Client => {
                if r.jwt_from.is_some() {
                    c.error(
                        &format!("{base}.jwtFrom"),
                        "jwtFrom applies only to mode serviceAccount: in mode client each app's own token reviews itself",
                        "remove it, or use `mode: serviceAccount`",
                    );
                }
                if let Some(a) = &r.api_audience {
                    if a.trim().is_empty() || a.contains(char::is_whitespace) {
                        c.error(
                            &format!("{base}.apiAudience"),
                            format!("`{a}` is not a valid audience"),
                            format!("the API server's audience, usually `{DEFAULT_API_AUDIENCE}`"),
                        );
                    }
                }
            }
        },
    }
    c.not_null("vaultConfig.kubernetesAuth.host");
    if let Some(m) = &k.mount {
        if m.split('/').next() == Some("token") {
            c.error(
                "vaultConfig.kubernetesAuth.mount",
                "`token` is Vault's own token auth method",
                "choose another mount path, or leave it out for `kubernetes-<cluster>` (the default)",
            );
        }
    }
    if let Some(ca) = &k.ca_cert_from {
        c.text(
            "vaultConfig.kubernetesAuth.caCertFrom",
            ca,
            4096,
            "caCertFrom",
        );
    }
}

/// `vaultConfig.databases.<name>`: the mount, plugin, connection, root credentials and roles.
fn database(c: &mut Checker, name: &str, db: &DatabaseSpec) {
    let base = format!("vaultConfig.databases.{name}");
    c.vault_path(&base, name, "database mount");
    if !DATABASE_PLUGINS.iter().any(|(p, _)| *p == db.plugin) {
        let names: Vec<&str> = DATABASE_PLUGINS.iter().map(|(p, _)| *p).collect();
        c.error(
            &format!("{base}.plugin"),
            format!("unknown database plugin `{}`", db.plugin),
            format!("use one of {}", names.join(", ")),
        );
    }
    c.value_source(
        &format!("{base}.passwordFrom"),
        &db.password_from,
        "passwordFrom",
    );
    if has_literal_password(&db.connection_url) {
        c.error(
            &format!("{base}.connectionUrl"),
            "connectionUrl contains a literal password",
            "write `{{username}}:{{password}}@` and give the password with passwordFrom",
        );
    }
    for (rname, role) in &db.roles {
        let rbase = format!("{base}.roles.{rname}");
        c.vault_name(&rbase, rname, "database role name");
        if let Some(t) = &role.default_ttl {
            c.vault_duration(&format!("{rbase}.defaultTtl"), t);
        }
        if let Some(t) = &role.max_ttl {
            c.vault_duration(&format!("{rbase}.maxTtl"), t);
        }
        if role.creation_statements.is_empty() {
            c.error(
                &format!("{rbase}.creationStatements"),
                "creationStatements is empty",
                "Vault needs at least one statement to create the user",
            );
        }
        for (field, list) in [
            ("creationStatements", &role.creation_statements),
            ("revocationStatements", &role.revocation_statements),
        ] {
            for (i, st) in list.iter().enumerate() {
                if st.trim().is_empty() {
                    c.error(
                        &format!("{rbase}.{field}[{i}]"),
                        "the statement is empty",
                        "write the SQL statement, or remove the item",
                    );
                }
            }
        }
    }
    if let Some(conn) = &db.connection_name {
        if !is_vault_name(conn) {
            c.error(
                &format!("{base}.connectionName"),
                format!("`{conn}` is not a name Vault accepts for a database connection"),
                "use letters, digits, `_`, `-` and `.`, starting and ending with a letter, digit or `_`",
            );
        }
    }
    for f in ["plugin", "connectionUrl", "username", "passwordFrom"] {
        c.not_null(&format!("{base}.{f}"));
    }
    c.vault_mount(&base, name, "database mount");
    c.text(
        &format!("{base}.connectionUrl"),
        &db.connection_url,
        4096,
        "connectionUrl",
    );
    c.text(&format!("{base}.username"), &db.username, 256, "username");
}

/// A connection URL with a password of its own in the userinfo (not `{{password}}`).
fn has_literal_password(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let Some((userinfo, _)) = rest.split_once('@') else {
        return false;
    };
    match userinfo.split_once(':') {
        Some((_, pw)) => pw != "{{password}}",
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_passwords_are_found() {
        for (url, literal) in [
            ("postgresql://admin:hunter2@db:5432/x", true),
            ("postgresql://{{username}}:{{password}}@db:5432/x", false),
            ("postgresql://admin@db:5432/x", false),
            ("postgresql://db:5432/x", false),
            ("db:5432", false),
        ] {
            assert_eq!(has_literal_password(url), literal, "{url}");
        }
    }
}
