//! Semantic checks that serde cannot express: names, durations, references, duplicates.
//!
//! All problems are collected (not just the first), each located at its field. Warnings
//! (legal but risky choices) are returned separately; `--strict` promotes them to errors.

use super::locate::LocationIndex;
use super::types::*;
use super::Diagnostic;
use std::collections::{BTreeMap, BTreeSet};

pub const API_VERSION: &str = "kubectl-vault/v1alpha1";
pub const KIND: &str = "VaultStack";

/// Kinds VSO can rollout-restart (`rolloutRestartTargets[].kind`).
pub const ROLLOUT_KINDS: [&str; 4] = ["Deployment", "StatefulSet", "DaemonSet", "argo.Rollout"];

/// Database plugins the spec accepts and the Vault plugin each one is.
pub const DATABASE_PLUGINS: [(&str, &str); 6] = [
    ("postgresql", "postgresql-database-plugin"),
    ("mysql", "mysql-database-plugin"),
    ("mariadb", "mysql-database-plugin"),
    ("mssql", "mssql-database-plugin"),
    ("mongodb", "mongodb-database-plugin"),
    ("redis", "redis-database-plugin"),
];

#[derive(Debug, Default)]
pub struct Findings {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

struct Checker<'a> {
    index: &'a LocationIndex,
    found: Findings,
}

impl Checker<'_> {
    fn error(&mut self, path: &str, message: impl Into<String>, hint: impl Into<String>) {
        let mut d = Diagnostic::error(path, message).with_hint(hint);
        d.location = self.index.value(path);
        self.found.errors.push(d);
    }

    fn warn(&mut self, path: &str, message: impl Into<String>, hint: impl Into<String>) {
        let mut d = Diagnostic::warning(path, message).with_hint(hint);
        d.location = self.index.value(path);
        self.found.warnings.push(d);
    }

    fn dns_label(&mut self, path: &str, value: &str, what: &str) {
        if !is_dns_label(value) {
            self.error(
                path,
                format!("`{value}` is not a valid {what}"),
                "use at most 63 lower-case letters, digits and `-`, starting and ending with a letter or digit (RFC 1123 label)",
            );
        }
    }

    fn dns_subdomain(&mut self, path: &str, value: &str, what: &str) {
        if !is_dns_subdomain(value) {
            self.error(
                path,
                format!("`{value}` is not a valid {what}"),
                "use at most 253 lower-case letters, digits, `-` and `.`, starting and ending with a letter or digit (RFC 1123 subdomain)",
            );
        }
    }

    fn vault_name(&mut self, path: &str, value: &str, what: &str) {
        if value.is_empty()
            || !value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            self.error(
                path,
                format!("`{value}` is not a valid {what}"),
                "use letters, digits, `-`, `_` and `.` only",
            );
        }
    }

    fn vault_path(&mut self, path: &str, value: &str, what: &str) {
        let ok = !value.is_empty()
            && !value.starts_with('/')
            && !value.ends_with('/')
            && !value.contains("//")
            && !value.contains(['*', '+', ' ', '"', '\\'])
            && value.split('/').all(|seg| seg != ".." && seg != ".");
        if !ok {
            self.error(
                path,
                format!("`{value}` is not a valid {what}"),
                "write it without leading or trailing `/`, without `//`, `..`, spaces or wildcards",
            );
        }
    }

    /// A duration VSO accepts: `^([0-9]+(\.[0-9]+)?(s|m|h))$` (PKI ttl also allows `d`).
    fn vso_duration(&mut self, path: &str, value: &str, allow_days: bool) -> Option<f64> {
        let seconds = parse_single_duration(value, allow_days);
        if seconds.is_none() {
            let units = if allow_days {
                "s, m, h or d"
            } else {
                "s, m or h"
            };
            self.error(
                path,
                format!("`{value}` is not a duration the Vault Secrets Operator accepts"),
                format!("write one number and one unit ({units}), e.g. `30s`, `10m`, `1.5h`"),
            );
        }
        seconds
    }

    /// A duration Vault accepts: an integer of seconds or a number with a unit (s, m, h, d).
    fn vault_duration(&mut self, path: &str, value: &str) {
        if parse_single_duration(value, true).is_none() && value.parse::<u64>().is_err() {
            self.error(
                path,
                format!("`{value}` is not a duration Vault accepts"),
                "write a number with a unit (s, m, h or d), e.g. `1m`, `72h`",
            );
        }
    }

    fn flux_duration(&mut self, path: &str, value: &str) {
        if !is_flux_duration(value) {
            self.error(
                path,
                format!("`{value}` is not a Flux interval"),
                "write Go duration units (ms, s, m, h), e.g. `10m` or `1h30m`",
            );
        }
    }

    fn value_source(&mut self, path: &str, value: &str, what: &str) {
        let ok = match value.split_once(':') {
            Some(("env", name)) => {
                !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !name.starts_with(|c: char| c.is_ascii_digit())
            }
            Some(("file", p)) => !p.is_empty(),
            _ => false,
        };
        if !ok {
            self.error(
                path,
                format!("{what} must be `env:NAME` or `file:PATH`"),
                "never write a secret value in the spec: it would land in Git; `configure` reads it at apply time",
            );
        }
    }
}

/// Checks the whole spec. Errors make the spec unusable; warnings do not (unless `--strict`).
pub fn check(spec: &Spec, index: &LocationIndex) -> Findings {
    let mut c = Checker {
        index,
        found: Findings::default(),
    };
    if spec.api_version != API_VERSION {
        c.error(
            "apiVersion",
            format!("unsupported apiVersion `{}`", spec.api_version),
            format!("write `apiVersion: {API_VERSION}`"),
        );
    }
    if spec.kind != KIND {
        c.error(
            "kind",
            format!("unsupported kind `{}`", spec.kind),
            format!("write `kind: {KIND}`"),
        );
    }
    c.dns_label("cluster", &spec.cluster, "cluster name");
    check_gitops(&mut c, &spec.gitops);
    check_vault(&mut c, &spec.vault);
    check_operator(&mut c, &spec.operator);
    check_apps(&mut c, spec);
    if let Some(vc) = &spec.vault_config {
        check_vault_config(&mut c, vc);
        check_vault_side_settings(&mut c, vc);
    }
    c.found
}

fn check_gitops(c: &mut Checker, g: &GitopsSpec) {
    if let Some(s) = &g.source_ref {
        c.dns_subdomain("gitops.sourceRef", s, "GitRepository name");
    }
    if let Some(i) = &g.interval {
        c.flux_duration("gitops.interval", i);
    }
    let mut seen: Vec<(String, String)> = Vec::new();
    for (field, value) in [
        ("clusters", &g.paths.clusters),
        ("infrastructure", &g.paths.infrastructure),
        ("apps", &g.paths.apps),
        ("vaultConfig", &g.paths.vault_config),
    ] {
        let Some(v) = value else { continue };
        let path = format!("gitops.paths.{field}");
        let ok = !v.is_empty()
            && !v.starts_with('/')
            && !v.ends_with('/')
            && v.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
            && v.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.' | '/'));
        if !ok {
            c.error(
                &path,
                format!("`{v}` is not a usable folder"),
                "write a relative path inside the repository, e.g. `infrastructure` or `platform/vault`",
            );
            continue;
        }
        for (other_field, other) in &seen {
            if v == other
                || v.starts_with(&format!("{other}/"))
                || other.starts_with(&format!("{v}/"))
            {
                c.error(
                    &path,
                    format!("`{v}` overlaps gitops.paths.{other_field} (`{other}`)"),
                    "give each generated root its own folder",
                );
            }
        }
        seen.push((field.to_string(), v.clone()));
    }
}

fn check_chart(c: &mut Checker, base: &str, chart: &ChartSpec) {
    let v = chart.version.trim();
    if v.is_empty()
        || v.contains(char::is_whitespace)
        || v == "*"
        || v.contains(['>', '<', '~', '^', '|'])
    {
        c.error(
            &format!("{base}.chart.version"),
            format!("`{}` is not a pinned chart version", chart.version),
            "pin an exact version, e.g. `0.30.0`: a range would let Flux upgrade Vault unreviewed",
        );
    }
    if let Some(r) = &chart.repository {
        if !(r.starts_with("https://") || r.starts_with("http://") || r.starts_with("oci://")) {
            c.error(
                &format!("{base}.chart.repository"),
                format!("`{r}` is not a Helm repository URL"),
                "use an http(s):// or oci:// URL, e.g. https://helm.releases.hashicorp.com",
            );
        }
    }
}

fn check_vault(c: &mut Checker, v: &VaultSpec) {
    if let Some(ns) = &v.namespace {
        c.dns_label("vault.namespace", ns, "namespace name");
    }
    check_chart(c, "vault", &v.chart);
    let replicas = v.replicas.unwrap_or(1);
    if replicas == 0 {
        c.error(
            "vault.replicas",
            "replicas must be at least 1",
            "1 = standalone, 3 or 5 = HA with integrated raft",
        );
    } else if replicas > 1 && replicas.is_multiple_of(2) {
        c.warn(
            "vault.replicas",
            format!(
                "{replicas} raft replicas: an even number adds no fault tolerance over {}",
                replicas - 1
            ),
            "use an odd number (3 or 5) for the raft quorum",
        );
    }
    match &v.tls {
        TlsSpec::Disabled => c.warn(
            "vault.tls",
            "TLS is off: Vault tokens and secrets cross the cluster network in clear text",
            "name a kubernetes.io/tls Secret, e.g. `tls: vault-tls`",
        ),
        TlsSpec::Secret(name) => c.dns_subdomain("vault.tls", name, "TLS Secret name"),
    }
    if let Some(au) = &v.auto_unseal {
        let n = [
            au.awskms.is_some(),
            au.gcpckms.is_some(),
            au.azurekeyvault.is_some(),
            au.transit.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if n != 1 {
            c.error(
                "vault.autoUnseal",
                format!("autoUnseal needs exactly one seal, found {n}"),
                "write one of awskms, gcpckms, azurekeyvault, transit",
            );
        }
    }
    if let Some(values) = &v.values {
        if !values.is_mapping() {
            c.error(
                "vault.values",
                "values must be a map of chart values",
                "e.g. `values: {server: {resources: {...}}}`",
            );
        }
    }
}

fn check_operator(c: &mut Checker, o: &OperatorSpec) {
    if let Some(ns) = &o.namespace {
        c.dns_label("operator.namespace", ns, "namespace name");
    }
    check_chart(c, "operator", &o.chart);
    if let Some(a) = &o.address {
        if !(a.starts_with("http://") || a.starts_with("https://")) {
            c.error(
                "operator.address",
                format!("`{a}` is not a Vault address"),
                "write a URL, e.g. https://vault.vault.svc:8200",
            );
        }
    }
    if o.skip_tls_verify {
        c.warn(
            "operator.skipTLSVerify",
            "the operator will not verify Vault's certificate",
            "trust the CA instead (VaultConnection caCertSecretRef) and remove skipTLSVerify",
        );
    }
    if let Some(cc) = &o.client_cache {
        c.vault_path(
            "operator.clientCache.transitMount",
            &cc.transit_mount,
            "mount path",
        );
        c.vault_name(
            "operator.clientCache.keyName",
            &cc.key_name,
            "transit key name",
        );
        c.vault_name("operator.clientCache.role", &cc.role, "Vault role name");
    }
}

fn check_apps(c: &mut Checker, spec: &Spec) {
    let mut apps_seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut destinations: BTreeMap<(String, String), String> = BTreeMap::new();
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
            .unwrap_or_else(|| format!("{}-{}", app.namespace, app.name));
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
                if a.trim().is_empty() || a.contains(char::is_whitespace) {
                    c.error(
                        &format!("{base}.audiences[{i}]"),
                        format!("`{a}` is not a valid audience"),
                        "an audience is a non-empty word without spaces, e.g. `vault`",
                    );
                }
            }
        }
        for (si, s) in app.secrets.iter().enumerate() {
            let sbase = format!("{base}.secrets[{si}]");
            check_secret(c, &sbase, s, vc);
            if let Some(first) =
                destinations.insert((app.namespace.clone(), s.name.clone()), sbase.clone())
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
        }
    }
}

fn check_secret(c: &mut Checker, base: &str, s: &SecretSpec, vc: Option<&VaultConfigSpec>) {
    c.dns_subdomain(&format!("{base}.name"), &s.name, "Secret name");
    let sources: Vec<&str> = [
        s.kv.as_ref().map(|_| "kv"),
        s.database.as_ref().map(|_| "database"),
        s.dynamic.as_ref().map(|_| "dynamic"),
        s.pki.as_ref().map(|_| "pki"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if sources.len() != 1 {
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
                    match super::diagnostic::did_you_mean(
                        &d.role,
                        db.roles.keys().map(String::as_str),
                    ) {
                        Some(best) => format!("did you mean `{}/{best}`?", d.mount),
                        None => "declare the role with its creationStatements".to_string(),
                    },
                ),
                _ => {}
            }
        }
    }
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
                match super::diagnostic::did_you_mean(kind, ROLLOUT_KINDS) {
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

fn check_vault_config(c: &mut Checker, vc: &VaultConfigSpec) {
    if let Some(k) = &vc.kubernetes_auth {
        if let Some(m) = &k.mount {
            c.vault_path("vaultConfig.kubernetesAuth.mount", m, "auth mount");
        }
        if !(k.host.starts_with("https://") || k.host.starts_with("http://")) {
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
    }
    for (name, db) in &vc.databases {
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
        }
    }
    for (name, pki) in &vc.pki {
        let base = format!("vaultConfig.pki.{name}");
        c.vault_path(&base, name, "pki mount");
        if let Some(t) = &pki.max_lease_ttl {
            c.vault_duration(&format!("{base}.maxLeaseTtl"), t);
        }
        if let Some(ca) = &pki.root_ca {
            if let Some(t) = &ca.ttl {
                c.vault_duration(&format!("{base}.rootCA.ttl"), t);
            }
        }
        for (rname, role) in &pki.roles {
            let rbase = format!("{base}.roles.{rname}");
            c.vault_name(&rbase, rname, "pki role name");
            if let Some(t) = &role.max_ttl {
                c.vault_duration(&format!("{rbase}.maxTtl"), t);
            }
            if role.allowed_domains.is_empty() {
                c.error(
                    &format!("{rbase}.allowedDomains"),
                    "allowedDomains is empty",
                    "list the domains certificates may be issued for, e.g. [svc.cluster.local]",
                );
            }
        }
    }
    if let Some(a) = &vc.audit {
        if let Some(t) = &a.device_type {
            if !["file", "socket", "syslog"].contains(&t.as_str()) {
                c.error(
                    "vaultConfig.audit.type",
                    format!("unknown audit device type `{t}`"),
                    "use file, socket or syslog",
                );
            }
        }
    }
}

/// The default API server audience a client-JWT token reviewer adds to every app's tokens.
pub const DEFAULT_API_AUDIENCE: &str = "https://kubernetes.default.svc.cluster.local";

/// The token reviewer, token lifetimes and database connection settings of the Vault side.
fn check_vault_side_settings(c: &mut Checker, vc: &VaultConfigSpec) {
    if let Some(t) = &vc.token_period {
        c.vault_duration("vaultConfig.tokenPeriod", t);
    }
    if let Some(k) = &vc.kubernetes_auth {
        let base = "vaultConfig.kubernetesAuth.tokenReviewer";
        match &k.token_reviewer {
            None if k.disable_local_ca_jwt => c.error(
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
    }
    for (name, db) in &vc.databases {
        if let Some(conn) = &db.connection_name {
            if !is_vault_object_name(conn) {
                c.error(
                    &format!("vaultConfig.databases.{name}.connectionName"),
                    format!("`{conn}` is not a name Vault accepts for a database connection"),
                    "use letters, digits, `_`, `-` and `.`, starting and ending with a letter, digit or `_`",
                );
            }
        }
    }
}

/// Vault's `framework.GenericNameRegex`: `\w(([\w-.]+)?\w)?` (connection and role names).
pub fn is_vault_object_name(s: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    !s.is_empty()
        && s.len() <= 512
        && s.starts_with(word)
        && s.ends_with(word)
        && s.chars().all(|c| word(c) || c == '-' || c == '.')
}

fn domain_allowed(cn: &str, role: &PkiRoleSpec) -> bool {
    role.allowed_domains.iter().any(|d| {
        (role.allow_bare_domains && cn == d)
            || (role.allow_subdomains && cn.ends_with(&format!(".{d}")))
            || d.contains('*')
    })
}

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

pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

fn is_qualified_name(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    name_ok && prefix.is_none_or(is_dns_subdomain)
}

/// Seconds in a single-unit duration such as `10s`, `1.5h`, `3d`.
pub fn parse_single_duration(s: &str, allow_days: bool) -> Option<f64> {
    let unit_at = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = s.split_at(unit_at);
    let valid_number = !num.is_empty()
        && num.split('.').count() <= 2
        && num
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if !valid_number {
        return None;
    }
    let n: f64 = num.parse().ok()?;
    let factor = match unit {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" if allow_days => 86400.0,
        _ => return None,
    };
    Some(n * factor)
}

/// Flux's `^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`.
pub fn is_flux_duration(s: &str) -> bool {
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..digits];
        let valid_number = !num.is_empty()
            && num.split('.').count() <= 2
            && num
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if !valid_number {
            return false;
        }
        rest = &rest[digits..];
        let unit = if rest.starts_with("ms") {
            2
        } else if rest.starts_with(['s', 'm', 'h']) {
            1
        } else {
            return false;
        };
        rest = &rest[unit..];
    }
    true
}

/// The set of namespaces a spec touches (for Namespace objects), sorted.
pub fn namespaces(spec: &Spec) -> BTreeSet<String> {
    spec.apps.iter().map(|a| a.namespace.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_single_duration("10s", false), Some(10.0));
        assert_eq!(parse_single_duration("1.5h", false), Some(5400.0));
        assert_eq!(parse_single_duration("3d", false), None);
        assert_eq!(parse_single_duration("3d", true), Some(259200.0));
        assert_eq!(parse_single_duration("1m30s", false), None);
        assert!(is_flux_duration("1h30m"));
        assert!(is_flux_duration("500ms"));
        assert!(!is_flux_duration("10"));
        assert!(!is_flux_duration("10d"));
    }

    #[test]
    fn names() {
        assert!(is_dns_label("app-1"));
        assert!(!is_dns_label("App"));
        assert!(!is_dns_label("-a"));
        assert!(is_dns_subdomain("webapp.tls"));
        assert!(is_qualified_name("example.com/team"));
        assert!(!is_qualified_name("bad key"));
    }

    #[test]
    fn literal_passwords_are_found() {
        assert!(has_literal_password("postgresql://admin:hunter2@db:5432/x"));
        assert!(!has_literal_password(
            "postgresql://{{username}}:{{password}}@db:5432/x"
        ));
    }
}
