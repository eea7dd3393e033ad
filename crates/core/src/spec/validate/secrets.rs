//! `apps[].secrets[]`: each secret's name, its one source, the options of its kind, and
//! lifetimes that would make VSO churn or let secrets expire.

use super::consumers;
use super::rules::{is_api_field, is_dns_subdomain, is_label_value, is_qualified_name, Checker};
use crate::duration::{Duration, Grammar};
use crate::spec::diagnostic::did_you_mean;
use crate::spec::scan::shown;
use crate::spec::types::{AppSpec, PkiRoleSpec, SecretSpec, Spec, VaultConfigSpec};
use std::collections::BTreeMap;

/// Kinds VSO can rollout-restart (`rolloutRestartTargets[].kind`).
const ROLLOUT_KINDS: [&str; 4] = ["Deployment", "StatefulSet", "DaemonSet", "argo.Rollout"];

/// The destination Secrets written so far, by namespace and name: where each was first.
pub(super) type Destinations = BTreeMap<(String, String), String>;

/// One secret of `app`, at `sbase`: its own fields, that its destination Secret is its own,
/// what the app's consumer can do with it, then the required values and the syntax of what
/// reaches Kubernetes and Vault.
pub(super) fn check(
    c: &mut Checker,
    sbase: &str,
    app: &AppSpec,
    s: &SecretSpec,
    vc: Option<&VaultConfigSpec>,
    destinations: &mut Destinations,
) {
    fields(c, sbase, s, vc);
    if let Some(first) =
        destinations.insert((app.namespace.clone(), s.name.clone()), sbase.to_string())
    {
        c.error(
            &format!("{sbase}.name"),
            format!(
                "Secret `{}` in namespace `{}` is already written by {first}",
                s.name, app.namespace
            ),
            "two secrets must not write the same destination Secret: rename one",
        );
    }
    consumers::secret(c, sbase, app, s);
    super::cloud::unleased(c, sbase, app, s, vc);
    values(c, sbase, s);
}

/// A secret must have exactly one source.
pub(super) fn not_one_source(c: &mut Checker, base: &str, sources: &[&str]) {
    let msg = if sources.is_empty() {
        "no source: a secret needs exactly one of kv, database, dynamic, pki".to_string()
    } else {
        format!(
            "{} sources ({}): a secret needs exactly one",
            sources.len(),
            sources.join(", ")
        )
    };
    c.error(
        base,
        msg,
        "e.g. `kv: kvv2/webapp/config` or `database: demo-db/dev-postgres`",
    );
}

/// The secret's name, its one source (declared in `vaultConfig` where it must be), and the
/// options of its kind.
fn fields(c: &mut Checker, base: &str, s: &SecretSpec, vc: Option<&VaultConfigSpec>) {
    c.dns_subdomain(&format!("{base}.name"), &s.name, "Secret name");
    let sources = s.sources_written();
    if sources.len() != 1 {
        not_one_source(c, base, &sources);
        return;
    }
    if let Some(kv) = &s.kv {
        let k = &kv.0;
        c.vault_path(&format!("{base}.kv"), &k.mount, "kv mount");
        c.vault_path(&format!("{base}.kv"), &k.path, "kv path");
        if let Some(v) = k.version {
            if v != 1 && v != 2 {
                c.error(
                    &format!("{base}.kv.version"),
                    format!("kv version {v} does not exist"),
                    "use 1 or 2 (the default)",
                );
            }
        }
    }
    if let Some(db) = &s.database {
        let d = &db.0;
        c.vault_path(&format!("{base}.database"), &d.mount, "database mount");
        c.vault_name(&format!("{base}.database"), &d.role, "database role name");
        if let Some(vc) = vc {
            match vc.databases.get(&d.mount) {
                None => c.error(
                    &format!("{base}.database"),
                    format!(
                        "database mount `{}` is not declared in vaultConfig.databases",
                        d.mount
                    ),
                    format!(
                        "add `{}:` under vaultConfig.databases, or fix the mount name",
                        d.mount
                    ),
                ),
                Some(db) if !db.roles.contains_key(&d.role) => c.error(
                    &format!("{base}.database"),
                    format!(
                        "role `{}` is not declared in vaultConfig.databases.{}.roles",
                        d.role, d.mount
                    ),
                    match did_you_mean(&d.role, db.roles.keys().map(String::as_str)) {
                        Some(best) => format!("did you mean `{}/{best}`?", d.mount),
                        None => "declare the role with its creationStatements".to_string(),
                    },
                ),
                _ => {}
            }
        }
    }
    super::cloud::secret(c, base, s, vc);
    if let Some(dy) = &s.dynamic {
        c.vault_path(&format!("{base}.dynamic"), &dy.0.mount, "mount");
        c.vault_path(&format!("{base}.dynamic"), &dy.0.path, "path");
    }
    if let Some(p) = &s.pki {
        let p = &p.0;
        c.vault_path(&format!("{base}.pki"), &p.mount, "pki mount");
        c.vault_name(&format!("{base}.pki"), &p.role, "pki role name");
        match &s.common_name {
            None => c.error(
                &format!("{base}.pki"),
                "a pki secret needs `commonName`",
                "add e.g. `commonName: webapp.app.svc.cluster.local`",
            ),
            Some(cn) if cn.trim().is_empty() => c.error(
                &format!("{base}.commonName"),
                "commonName is empty",
                "write the certificate's DNS name",
            ),
            _ => {}
        }
        if let Some(vc) = vc {
            match vc.pki.get(&p.mount) {
                None => c.error(
                    &format!("{base}.pki"),
                    format!("pki mount `{}` is not declared in vaultConfig.pki", p.mount),
                    format!("add `{}:` with its roles under vaultConfig.pki", p.mount),
                ),
                Some(m) => match m.roles.get(&p.role) {
                    None => c.error(
                        &format!("{base}.pki"),
                        format!(
                            "role `{}` is not declared in vaultConfig.pki.{}.roles",
                            p.role, p.mount
                        ),
                        "declare the role with its allowedDomains",
                    ),
                    Some(role) => {
                        if let Some(cn) = &s.common_name {
                            if !role.allowed_domains.is_empty() && !domain_allowed(cn, role) {
                                c.warn(
                                    &format!("{base}.commonName"),
                                    format!("`{cn}` is not allowed by pki role `{}` (allowedDomains {:?})", p.role, role.allowed_domains),
                                    "Vault will refuse to issue it: fix the name or the role",
                                );
                            }
                        }
                        let names = (s.common_name.iter().map(|n| ("commonName".to_string(), n)))
                            .chain(
                                s.alt_names
                                    .iter()
                                    .flatten()
                                    .enumerate()
                                    .map(|(k, n)| (format!("altNames[{k}]"), n)),
                            );
                        for (field, n) in names {
                            if let Some(opt_in) = refused_by_default(n, role) {
                                c.warn(
                                    &format!("{base}.{field}"),
                                    format!("pki role `{}` refuses `{}`: {opt_in} is off", p.role, shown(n)),
                                    format!("set `{opt_in}: true` on vaultConfig.pki.{}.roles.{} if the certificate needs it, or drop the name", p.mount, p.role),
                                );
                            }
                        }
                    }
                },
            }
        }
        if let Some(t) = &s.ttl {
            c.vso_duration(&format!("{base}.ttl"), t, true);
        }
        if let Some(t) = &s.expiry_offset {
            c.vso_duration(&format!("{base}.expiryOffset"), t, false);
        }
        if s.refresh_after.is_some() {
            c.error(
                &format!("{base}.refreshAfter"),
                "refreshAfter does not apply to a pki secret",
                "VSO renews certificates before they expire; tune that with `expiryOffset`",
            );
        }
        if let Some(t) = &s.secret_type {
            if t != "kubernetes.io/tls" {
                c.error(
                    &format!("{base}.type"),
                    format!("a pki secret is always kubernetes.io/tls, not `{t}`"),
                    "remove `type`",
                );
            }
        }
    } else {
        for (field, present) in [
            ("commonName", s.common_name.is_some()),
            ("altNames", s.alt_names.is_some()),
            ("ttl", s.ttl.is_some()),
            ("expiryOffset", s.expiry_offset.is_some()),
        ] {
            if present {
                c.error(
                    &format!("{base}.{field}"),
                    format!("{field} applies only to a pki secret"),
                    "remove it, or make this a `pki:` secret",
                );
            }
        }
    }
    if let Some(r) = &s.refresh_after {
        if let Some(secs) = c.vso_duration(&format!("{base}.refreshAfter"), r, false) {
            if secs < 5.0 {
                c.warn(
                    &format!("{base}.refreshAfter"),
                    format!("refreshAfter {r} re-reads Vault more than every 5 seconds"),
                    "every VSO sync is a Vault request; 30s or more is usually enough",
                );
            }
        }
    }
    for (i, target) in s.rollout.iter().enumerate() {
        let path = format!("{base}.rollout[{i}]");
        match target.split_once('/') {
            Some((kind, name)) if ROLLOUT_KINDS.contains(&kind) && is_dns_subdomain(name) => {}
            Some((kind, _)) if !ROLLOUT_KINDS.contains(&kind) => c.error(
                &path,
                format!("`{kind}` cannot be rollout-restarted by VSO"),
                match did_you_mean(kind, ROLLOUT_KINDS) {
                    Some(best) => format!(
                        "did you mean `{best}`? VSO supports {}",
                        ROLLOUT_KINDS.join(", ")
                    ),
                    None => format!("VSO supports {}", ROLLOUT_KINDS.join(", ")),
                },
            ),
            _ => c.error(
                &path,
                format!("`{target}` is not `Kind/name`"),
                "write e.g. `Deployment/webapp`",
            ),
        }
    }
    for (key, _) in s.labels.iter().chain(s.annotations.iter()) {
        if !is_qualified_name(key) {
            c.error(
                &format!("{base}.labels"),
                format!("`{key}` is not a valid label or annotation key"),
                "use `name` or `prefix.example.com/name`",
            );
        }
    }
}

/// Required values written as null, and the syntax of what reaches Kubernetes and Vault:
/// reserved mounts, request parameter names, certificate names, the Secret's type and
/// label values.
fn values(c: &mut Checker, sbase: &str, s: &SecretSpec) {
    c.not_null(&format!("{sbase}.name"));
    for (field, sub) in [
        ("kv", ["mount", "path"]),
        ("database", ["mount", "role"]),
        ("dynamic", ["mount", "path"]),
        ("pki", ["mount", "role"]),
        ("aws", ["mount", "role"]),
        ("gcp", ["mount", "role"]),
        ("azure", ["mount", "role"]),
    ] {
        for f in sub {
            c.not_null(&format!("{sbase}.{field}.{f}"));
        }
    }
    if let Some(kv) = &s.kv {
        c.vault_mount(&format!("{sbase}.kv"), &kv.0.mount, "kv mount");
    }
    if let Some(db) = &s.database {
        c.vault_mount(&format!("{sbase}.database"), &db.0.mount, "database mount");
    }
    if let Some(p) = &s.pki {
        c.vault_mount(&format!("{sbase}.pki"), &p.0.mount, "pki mount");
    }
    if let Some(a) = &s.aws {
        c.vault_mount(&format!("{sbase}.aws"), &a.0.mount, "aws mount");
    }
    if let Some(g) = &s.gcp {
        c.vault_mount(&format!("{sbase}.gcp"), &g.0.mount, "gcp mount");
    }
    if let Some(a) = &s.azure {
        c.vault_mount(&format!("{sbase}.azure"), &a.0.mount, "azure mount");
    }
    if let Some(d) = &s.dynamic {
        for k in d.0.params.keys() {
            if !is_api_field(k) {
                c.error(
                    &format!("{sbase}.dynamic.params"),
                    format!("`{}` is not a Vault request parameter name", shown(k)),
                    "parameter names are letters, digits and `_`, e.g. `ttl`, `common_name`",
                );
            }
        }
    }
    if s.pki.is_some() {
        if let Some(cn) = &s.common_name {
            if !cn.trim().is_empty() {
                c.host_name(
                    &format!("{sbase}.commonName"),
                    cn,
                    true,
                    "certificate common name",
                );
            }
        }
        for (i, n) in s.alt_names.iter().flatten().enumerate() {
            c.host_name(
                &format!("{sbase}.altNames[{i}]"),
                n,
                true,
                "alternative name",
            );
        }
    }
    if let Some(t) = &s.secret_type {
        if !is_qualified_name(t) {
            c.error(
                &format!("{sbase}.type"),
                format!("`{}` is not a Kubernetes Secret type", shown(t)),
                "write e.g. `Opaque` or `kubernetes.io/dockerconfigjson`",
            );
        }
    }
    for (k, v) in &s.labels {
        if !is_label_value(v) {
            c.error(
                &format!("{sbase}.labels.{k}"),
                format!("`{}` is not a valid label value", shown(v)),
                "label values are at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit (or empty: \"\")",
            );
        }
    }
}

/// The role field that must be on for a certificate to carry `name` (an IP address,
/// `localhost`, a wildcard), when it is off (the roles' safe default).
fn refused_by_default(name: &str, role: &PkiRoleSpec) -> Option<&'static str> {
    if is_ip_address(name) && !role.allow_ip_sans.unwrap_or(false) {
        Some("allowIpSans")
    } else if (name == "localhost" || name == "localhost.localdomain")
        && !role.allow_localhost.unwrap_or(false)
    {
        Some("allowLocalhost")
    } else if name.starts_with("*.") && !role.allow_wildcard_certificates.unwrap_or(false) {
        Some("allowWildcardCertificates")
    } else {
        None
    }
}

/// An IPv4 address (four numbers of 0-255) or an IPv6 one (hex groups and colons, at least
/// two; an embedded IPv4 tail allowed): what Vault reads as an IP SAN rather than a name.
fn is_ip_address(s: &str) -> bool {
    let v4 = |t: &str| {
        let parts: Vec<&str> = t.split('.').collect();
        parts.len() == 4
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.len() <= 3
                    && p.chars().all(|c| c.is_ascii_digit())
                    && p.parse::<u16>().is_ok_and(|n| n <= 255)
            })
    };
    let v6 = || {
        s.matches(':').count() >= 2
            && s.split(':')
                .all(|g| g.len() <= 4 && g.chars().all(|c| c.is_ascii_hexdigit()) || v4(g))
    };
    v4(s) || v6()
}

/// Whether a pki role would issue a certificate for `cn`.
fn domain_allowed(cn: &str, role: &PkiRoleSpec) -> bool {
    role.allowed_domains.iter().any(|d| {
        (role.allow_bare_domains && cn == d)
            || (role.allow_subdomains && cn.ends_with(&format!(".{d}")))
            || d.contains('*')
    })
}

/// Lease and certificate lifetimes that would make VSO churn or let secrets expire.
pub(super) fn lifetimes(c: &mut Checker, spec: &Spec) {
    // Below this, rotating credentials restart the workload about every lease.
    const MIN_ROLLOUT_LEASE: f64 = 600.0;
    let seconds = |d: &str| Duration::parse(d, Grammar::Vault).map(Duration::as_secs_f64);
    let vc = spec.vault_config.as_ref();
    for (i, app) in spec.apps.iter().enumerate() {
        for (j, s) in app.secrets.iter().enumerate() {
            let base = format!("apps[{i}].secrets[{j}]");
            if let Some(db) = &s.database {
                let role = vc
                    .and_then(|vc| vc.databases.get(&db.0.mount))
                    .and_then(|d| d.roles.get(&db.0.role));
                let Some(role) = role else { continue };
                let max = role.max_ttl.as_deref().and_then(seconds);
                let default = role.default_ttl.as_deref().and_then(seconds);
                if let (Some(d), Some(m)) = (default, max) {
                    if d > m {
                        c.warn(
                            &format!(
                                "vaultConfig.databases.{}.roles.{}.defaultTtl",
                                db.0.mount, db.0.role
                            ),
                            "defaultTtl is longer than maxTtl: Vault caps every lease at maxTtl",
                            "make defaultTtl at most maxTtl",
                        );
                    }
                }
                let lease = match (default, max) {
                    (Some(d), Some(m)) => Some(d.min(m)),
                    (d, m) => d.or(m),
                };
                if let Some(l) = lease.filter(|l| *l < MIN_ROLLOUT_LEASE) {
                    if !s.rollout.is_empty() {
                        c.warn(
                            &format!("{base}.rollout"),
                            format!(
                                "the credentials of role `{}` live {}s: VSO will rotate them and restart the workload about every {}s",
                                db.0.role, l, l
                            ),
                            "give the database role a lease of an hour or more (defaultTtl/maxTtl), or drop rollout",
                        );
                    }
                }
                if let (Some(r), Some(m)) = (s.refresh_after.as_deref().and_then(seconds), max) {
                    if r > m {
                        c.warn(
                            &format!("{base}.refreshAfter"),
                            "refreshAfter is longer than the role's maxTtl: the credentials expire before they are refreshed",
                            "make refreshAfter shorter than maxTtl, or drop it (VSO follows the lease)",
                        );
                    }
                }
            }
            if let Some(pki) = &s.pki {
                let ttl = s.ttl.as_deref().and_then(seconds);
                let role_max = vc
                    .and_then(|vc| vc.pki.get(&pki.0.mount))
                    .and_then(|m| m.roles.get(&pki.0.role))
                    .and_then(|r| r.max_ttl.as_deref())
                    .and_then(seconds);
                if let (Some(t), Some(m)) = (ttl, role_max) {
                    if t > m {
                        c.warn(
                            &format!("{base}.ttl"),
                            "ttl is longer than the PKI role's maxTtl: Vault issues the certificate for maxTtl only",
                            "make ttl at most the role's maxTtl",
                        );
                    }
                }
                let offset = s.expiry_offset.as_deref().and_then(seconds);
                if let (Some(o), Some(t)) = (offset, ttl.or(role_max)) {
                    if o >= t {
                        c.warn(
                            &format!("{base}.expiryOffset"),
                            "expiryOffset is not shorter than the certificate's lifetime: VSO would renew it on every reconcile",
                            "use a share of the ttl, e.g. a third",
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_a_pki_role_allows() {
        let role = |domains: &[&str], bare: bool, sub: bool| PkiRoleSpec {
            allowed_domains: domains.iter().map(|d| d.to_string()).collect(),
            allow_subdomains: sub,
            allow_bare_domains: bare,
            max_ttl: None,
            allow_ip_sans: None,
            allow_localhost: None,
            allow_wildcard_certificates: None,
            key_type: None,
            key_bits: None,
            server_flag: None,
            client_flag: None,
            no_store: None,
            require_cn: None,
        };
        let svc = role(&["svc.cluster.local"], false, true);
        assert_eq!(refused_by_default("8.8.8.8", &svc), Some("allowIpSans"));
        assert_eq!(
            refused_by_default("localhost", &svc),
            Some("allowLocalhost")
        );
        assert_eq!(
            refused_by_default("*.svc.cluster.local", &svc),
            Some("allowWildcardCertificates")
        );
        assert_eq!(refused_by_default("a.svc.cluster.local", &svc), None);
        let open = PkiRoleSpec {
            allow_ip_sans: Some(true),
            ..svc.clone()
        };
        assert_eq!(refused_by_default("::1", &open), None);
        for ip in [
            "10.0.0.7",
            "::1",
            "fe80::1",
            "2001:db8::",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_ip_address(ip), "{ip}");
        }
        for name in ["10.0.0", "300.1.1.1", "a.b.c.d", "web", "x:y", "1.2.3.4.5"] {
            assert!(!is_ip_address(name), "{name}");
        }
        assert!(domain_allowed("web.app.svc.cluster.local", &svc));
        assert!(!domain_allowed("svc.cluster.local", &svc));
        assert!(!domain_allowed("example.com", &svc));
        let bare = role(&["example.com"], true, false);
        assert!(domain_allowed("example.com", &bare));
        assert!(!domain_allowed("www.example.com", &bare));
        assert!(domain_allowed(
            "anything",
            &role(&["*.example.com"], false, false)
        ));
    }
}
