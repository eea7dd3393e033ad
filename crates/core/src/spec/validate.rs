//! Semantic checks that serde cannot express: names, durations, references, duplicates.
//!
//! All problems are collected (not just the first), each located at its field. Warnings
//! (legal but risky choices) are returned separately; `--strict` promotes them to errors.

use super::locate::LocationIndex;
use super::types::*;
use super::Diagnostic;
use crate::duration::{Duration, Grammar};
use crate::model::defaults::DEFAULT_API_AUDIENCE;
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
        if !is_vault_name(value) {
            self.error(
                path,
                format!("`{}` is not a valid {what}", super::scan::shown(value)),
                "Vault names are letters, digits and `_`, with `-` and `.` only inside (e.g. `app-readonly`), at most 128 characters",
            );
        }
    }

    fn vault_path(&mut self, path: &str, value: &str, what: &str) {
        if !is_vault_path(value) {
            self.error(
                path,
                format!("`{}` is not a valid {what}", super::scan::shown(value)),
                "write segments of letters, digits, `-`, `_`, `.`, `@` and `:` joined by `/`, without leading or trailing `/`, `//`, `..`, spaces or wildcards (at most 512 characters)",
            );
        }
    }

    /// A duration VSO accepts: `^([0-9]+(\.[0-9]+)?(s|m|h))$` (PKI ttl also allows `d`).
    fn vso_duration(&mut self, path: &str, value: &str, allow_days: bool) -> Option<f64> {
        let grammar = if allow_days {
            Grammar::VsoTtl
        } else {
            Grammar::Vso
        };
        let seconds = Duration::parse(value, grammar).map(Duration::as_secs_f64);
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
        if Duration::parse(value, Grammar::Vault).is_none() {
            self.error(
                path,
                format!("`{value}` is not a duration Vault accepts"),
                "write a number with a unit (s, m, h or d), e.g. `1m`, `72h`",
            );
        }
    }

    fn flux_duration(&mut self, path: &str, value: &str) {
        if Duration::parse(value, Grammar::Flux).is_none() {
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

impl Checker<'_> {
    fn not_one_source(&mut self, base: &str, sources: &[&str]) {
        let msg = if sources.is_empty() {
            "no source: a secret needs exactly one of kv, database, dynamic, pki".to_string()
        } else {
            format!(
                "{} sources ({}): a secret needs exactly one",
                sources.len(),
                sources.join(", ")
            )
        };
        self.error(
            base,
            msg,
            "e.g. `kv: kvv2/webapp/config` or `database: demo-db/dev-postgres`",
        );
    }
}

/// The spec the model reads, each secret typed with its one source (parse, don't validate).
/// Run after [`check`]: a secret without exactly one source gets the same error here.
pub fn typed(spec: Spec, index: &LocationIndex) -> Result<ValidSpec, Findings> {
    spec.try_map_secrets(|ai, si, s| s.into_secret().map_err(|s| (ai, si, s)))
        .map_err(|failed| {
            let mut c = Checker {
                index,
                found: Findings::default(),
            };
            for (ai, si, s) in failed {
                c.not_one_source(&format!("apps[{ai}].secrets[{si}]"), &s.sources_written());
            }
            c.found
        })
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
    check_vso_version(&mut c, &spec.operator);
    check_apps(&mut c, spec);
    check_consumers(&mut c, spec);
    check_trust(&mut c, spec);
    check_scheduling(&mut c, &spec.vault);
    check_audit_storage(&mut c, spec.vault_config.as_ref());
    check_lifetimes(&mut c, spec);
    if let Some(vc) = &spec.vault_config {
        check_vault_config(&mut c, vc);
        check_vault_side_settings(&mut c, vc);
        check_intermediate_cas(&mut c, vc);
    }
    check_cert_manager(&mut c, spec);
    check_input_rules(&mut c, spec);
    c.found
}

fn check_gitops(c: &mut Checker, g: &GitopsSpec) {
    if let Some(s) = &g.source_ref {
        c.dns_subdomain("gitops.sourceRef", s, "GitRepository name");
    }
    if let Some(i) = &g.interval {
        c.flux_duration("gitops.interval", i);
    }
    // Every root, the defaults included: `vaultConfig: clusters` collides with the default
    // `clusters` root as surely as with an explicit one.
    let mut seen: Vec<(&str, String, bool)> = Vec::new();
    for (field, value, default) in [
        ("clusters", &g.paths.clusters, "clusters"),
        ("infrastructure", &g.paths.infrastructure, "infrastructure"),
        ("apps", &g.paths.apps, "apps"),
        ("vaultConfig", &g.paths.vault_config, "vault-config"),
    ] {
        let explicit = value.is_some();
        let v = value.clone().unwrap_or_else(|| default.to_string());
        let path = format!("gitops.paths.{field}");
        if explicit {
            let ok = !v.is_empty()
                && v.len() <= 255
                && !v.starts_with('/')
                && !v.ends_with('/')
                && v.split('/').all(|s| {
                    !s.is_empty() && s != "." && s != ".." && !s.eq_ignore_ascii_case(".git")
                })
                && v.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.' | '/'));
            if !ok {
                c.error(
                    &path,
                    format!("`{}` is not a usable folder", super::scan::shown(&v)),
                    "write a relative path inside the repository, e.g. `infrastructure` or `platform/vault` (not `.git`, `..` or an absolute path)",
                );
                continue;
            }
        }
        for (other_field, other, other_explicit) in &seen {
            if !explicit && !other_explicit {
                continue;
            }
            if v == *other
                || v.starts_with(&format!("{other}/"))
                || other.starts_with(&format!("{v}/"))
            {
                let (at, shown_other) = if explicit {
                    (
                        path.clone(),
                        format!(
                            "gitops.paths.{other_field} (`{other}`{})",
                            if *other_explicit { "" } else { ", the default" }
                        ),
                    )
                } else {
                    (
                        format!("gitops.paths.{other_field}"),
                        format!("gitops.paths.{field} (`{v}`, the default)"),
                    )
                };
                let mine = if explicit { v.clone() } else { other.clone() };
                c.error(
                    &at,
                    format!("`{mine}` overlaps {shown_other}"),
                    "give each generated root its own folder: one inside another would be applied by Flux or pruned by the other",
                );
            }
        }
        seen.push((field, v, explicit));
    }
}

fn check_chart(c: &mut Checker, base: &str, chart: &ChartSpec) {
    if !is_pinned_version(&chart.version) {
        c.error(
            &format!("{base}.chart.version"),
            format!("`{}` is not a pinned chart version", super::scan::shown(&chart.version)),
            "pin an exact SemVer version, e.g. `0.30.0` (not `latest`, `0.30.x` or a range): anything else would let Flux upgrade Vault unreviewed",
        );
    }
    if let Some(r) = &chart.repository {
        if !(is_url(r, &["https", "http", "oci"])) {
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
        if !is_url(a, &["http", "https"]) {
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
                if !is_audience(a) {
                    c.error(
                        &format!("{base}.audiences[{i}]"),
                        format!("`{}` is not a valid audience", super::scan::shown(a)),
                        "an audience is one word or URL of letters, digits and `-._~:/?#@!$&+=%` (no spaces or commas), at most 253 characters, e.g. `vault`",
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

/// Kinds whose pod template the injector's patch can annotate (strategic merge).
pub const INJECTOR_WORKLOAD_KINDS: [&str; 3] = ["Deployment", "StatefulSet", "DaemonSet"];

/// The agent's annotation keys are `vault.hashicorp.com/agent-inject-template-<secret>`: the
/// name part of a key is at most 63 characters.
const INJECTOR_ANNOTATION_NAME: &str = "agent-inject-template-";

/// What each consumer can read and which options apply to it (the Vault side is the same
/// for every consumer, so only the Kubernetes side is checked here).
fn check_consumers(c: &mut Checker, spec: &Spec) {
    for (ai, app) in spec.apps.iter().enumerate() {
        let base = format!("apps[{ai}]");
        let consumer = app.consumer;
        if consumer == Consumer::Injector && !spec.vault.injector.unwrap_or(false) {
            c.error(
                &format!("{base}.consumer"),
                "consumer `injector` needs the Vault Agent injector, but vault.injector is off",
                "set `vault.injector: true` (the Vault chart then runs the injector), or choose another consumer",
            );
        }
        let client_review = spec
            .vault_config
            .as_ref()
            .and_then(|vc| vc.kubernetes_auth.as_ref())
            .and_then(|k| k.token_reviewer.as_ref())
            .is_some_and(|r| r.mode == TokenReviewerMode::Client);
        if client_review && matches!(consumer, Consumer::Injector | Consumer::Csi) {
            c.error(
                &format!("{base}.consumer"),
                format!("consumer `{}` logs in with a token of one audience, but vaultConfig.kubernetesAuth.tokenReviewer mode `client` needs the API server's audience in it too", consumer.as_str()),
                "use tokenReviewer mode `serviceAccount`, or consumer `operator` or `eso` for this app",
            );
        }
        for (field, owner, present) in [
            ("injector", Consumer::Injector, app.injector.is_some()),
            ("csi", Consumer::Csi, app.csi.is_some()),
            ("eso", Consumer::Eso, app.eso.is_some()),
        ] {
            if present && consumer != owner {
                c.error(
                    &format!("{base}.{field}"),
                    format!(
                        "`{field}` options apply to consumer `{}`, but this app's consumer is `{}`",
                        owner.as_str(),
                        consumer.as_str()
                    ),
                    format!("write `consumer: {}`, or remove `{field}`", owner.as_str()),
                );
            }
        }
        if let Some(w) = app.injector.as_ref().and_then(|i| i.workload.as_deref()) {
            match w.split_once('/') {
                Some((kind, name))
                    if INJECTOR_WORKLOAD_KINDS.contains(&kind) && is_dns_subdomain(name) => {}
                _ => c.error(
                    &format!("{base}.injector.workload"),
                    format!(
                        "`{}` is not a workload the injector patch can annotate",
                        super::scan::shown(w)
                    ),
                    format!(
                        "write `Kind/name` with Kind one of {}, e.g. `Deployment/webapp`",
                        INJECTOR_WORKLOAD_KINDS.join(", ")
                    ),
                ),
            }
        }
        let mirrors = app.csi.as_ref().is_some_and(|o| o.secret_objects);
        let mut eso_mounts: Vec<&str> = vec![];
        for (si, s) in app.secrets.iter().enumerate() {
            let sbase = format!("{base}.secrets[{si}]");
            let source = s.sources_written().first().copied().unwrap_or("kv");
            if consumer == Consumer::Eso && source != "kv" {
                c.error(
                    &format!("{sbase}.{source}"),
                    format!("consumer `eso` cannot read a {source} secret: ESO's Vault provider reads kv only, and its VaultDynamicSecret generator is not something kubectl-vault generates or checks"),
                    "use consumer `operator`, `csi` or `injector` for this app, or move the secret to an app that does",
                );
            }
            if consumer == Consumer::Eso {
                if let Some(kv) = &s.kv {
                    eso_mounts.push(&kv.0.mount);
                    if kv.0.path.starts_with(&format!("{}/", kv.0.mount)) {
                        c.error(
                            &format!("{sbase}.kv"),
                            format!("ESO strips a leading `{}/` from a key in a store of mount `{}`: it would read `{}` instead", kv.0.mount, kv.0.mount, &kv.0.path[kv.0.mount.len() + 1..]),
                            "rename the path in Vault, or use consumer `operator`",
                        );
                    }
                }
            }
            if consumer == Consumer::Csi
                && s.keys.is_none()
                && (s.kv.is_some() || s.dynamic.is_some())
            {
                c.error(
                    &format!("{sbase}.name"),
                    "the CSI driver mounts one file per key, and this secret's keys are not known",
                    "list them, e.g. `keys: [username, password]`",
                );
            }
            if let Some(keys) = &s.keys {
                if consumer == Consumer::Operator {
                    c.error(
                        &format!("{sbase}.keys"),
                        "`keys` applies to consumers csi, eso and injector: VSO copies every key",
                        "remove `keys`",
                    );
                }
                if keys.is_empty() {
                    c.error(
                        &format!("{sbase}.keys"),
                        "keys is empty",
                        "omit it, or list at least one key",
                    );
                }
                let mut seen = BTreeSet::new();
                for (ki, k) in keys.iter().enumerate() {
                    if !is_secret_key(k) {
                        c.error(
                            &format!("{sbase}.keys[{ki}]"),
                            format!("`{}` is not a valid key", super::scan::shown(k)),
                            "a key names a file and a Secret key: letters, digits, `-`, `_` and `.`, at most 253 characters, not `.` or `..`",
                        );
                    } else if !seen.insert(k.as_str()) {
                        c.error(
                            &format!("{sbase}.keys[{ki}]"),
                            format!("key `{k}` is listed twice"),
                            "list each key once",
                        );
                    }
                }
            }
            if s.template.is_some() && consumer != Consumer::Injector {
                c.error(
                    &format!("{sbase}.template"),
                    "`template` applies to consumer `injector` only",
                    "remove `template`",
                );
            }
            if let Some(t) = &s.template {
                if t.trim().is_empty() || t.len() > 16 * 1024 {
                    c.error(
                        &format!("{sbase}.template"),
                        "template must be a non-empty agent template of at most 16 KiB",
                        "omit it for the default env-file template",
                    );
                }
            }
            if consumer != Consumer::Operator {
                let word = consumer.as_str();
                if !s.rollout.is_empty() {
                    c.error(
                        &format!("{sbase}.rollout[0]"),
                        format!("rollout restarts are done by VSO; consumer `{word}` has none"),
                        "remove `rollout`, or use consumer `operator`",
                    );
                }
                if s.refresh_after.is_some() && consumer != Consumer::Eso {
                    c.error(
                        &format!("{sbase}.refreshAfter"),
                        format!("refreshAfter does not apply to consumer `{word}`: it renews leases itself"),
                        "remove `refreshAfter`",
                    );
                }
                if s.expiry_offset.is_some() {
                    c.error(
                        &format!("{sbase}.expiryOffset"),
                        format!("expiryOffset is VSO's; consumer `{word}` has none"),
                        "remove `expiryOffset`",
                    );
                }
            }
            // Where no Kubernetes Secret is written, its type, labels and annotations have
            // nothing to land on.
            let writes_secret = match consumer {
                Consumer::Operator | Consumer::Eso => true,
                Consumer::Csi => mirrors,
                Consumer::Injector => false,
            };
            if !writes_secret {
                for (field, present) in [
                    ("type", s.secret_type.is_some()),
                    ("labels", !s.labels.is_empty()),
                    ("annotations", !s.annotations.is_empty()),
                ] {
                    if present {
                        c.error(
                            &format!("{sbase}.{field}"),
                            format!("consumer `{}` writes no Kubernetes Secret here: `{field}` has nothing to apply to", consumer.as_str()),
                            if consumer == Consumer::Csi {
                                "set `csi: {secretObjects: true}` to mirror the files into a Secret, or remove it"
                            } else {
                                "remove it"
                            },
                        );
                    }
                }
            }
            if consumer == Consumer::Injector && s.name.len() + INJECTOR_ANNOTATION_NAME.len() > 63
            {
                c.error(
                    &format!("{sbase}.name"),
                    format!("the agent's annotation `vault.hashicorp.com/{INJECTOR_ANNOTATION_NAME}{}` would be longer than 63 characters", s.name),
                    format!("use a secret name of at most {} characters", 63 - INJECTOR_ANNOTATION_NAME.len()),
                );
            }
        }
        if consumer == Consumer::Eso {
            let names = crate::model::eso_store_names(&app.name, &eso_mounts);
            let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
            for (mount, name) in &names {
                if !is_dns_subdomain(name) || name.len() + app.namespace.len() + 1 > 253 {
                    c.error(
                        &format!("{base}.name"),
                        format!("the SecretStore name `{name}` for kv mount `{mount}` is not a valid object name"),
                        "ESO needs one store per kv mount, named `<app>.<mount>`: use mounts of lower-case letters, digits, `-`, `_` and `/`",
                    );
                } else if let Some(other) = seen.insert(name, mount) {
                    c.error(
                        &format!("{base}.name"),
                        format!("kv mounts `{other}` and `{mount}` would both get the SecretStore `{name}`"),
                        "read these mounts from two apps",
                    );
                }
            }
        }
    }
}

/// A key of a Kubernetes Secret (and a file name in a CSI mount).
pub fn is_secret_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 253
        && k != "."
        && k != ".."
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn check_secret(c: &mut Checker, base: &str, s: &SecretSpec, vc: Option<&VaultConfigSpec>) {
    c.dns_subdomain(&format!("{base}.name"), &s.name, "Secret name");
    let sources = s.sources_written();
    if sources.len() != 1 {
        c.not_one_source(base, &sources);
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
        if !is_url(&k.host, &["https", "http"]) {
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

/// A file audit device gets the chart's audit volume at `/vault/audit`: a log elsewhere lands
/// in the container's own filesystem (lost on restart, or not writable at all).
fn check_audit_storage(c: &mut Checker, vc: Option<&VaultConfigSpec>) {
    let Some(a) = vc.and_then(|vc| vc.audit.as_ref()) else {
        return;
    };
    if a.device_type.as_deref().unwrap_or("file") != "file" {
        return;
    }
    match a.options.get("file_path").map(String::as_str) {
        Some("stdout" | "discard") => {}
        Some(p) if p.starts_with("/vault/audit/") => {}
        Some(p) => c.warn(
            "vaultConfig.audit.options.file_path",
            format!("`{p}` is outside the audit volume the chart mounts at /vault/audit"),
            "write the log under /vault/audit/, e.g. /vault/audit/audit.log",
        ),
        None => c.warn(
            "vaultConfig.audit.options",
            "a file audit device needs options.file_path",
            "e.g. `file_path: /vault/audit/audit.log` (the chart's audit volume)",
        ),
    }
}

/// The operator chart version decides the status the health checks read: only the lines
/// whose status is known are accepted.
fn check_vso_version(c: &mut Checker, o: &OperatorSpec) {
    let v = o.chart.version.trim();
    // An unpinned version is already reported by check_chart.
    if v.is_empty() || v.contains(['>', '<', '~', '^', '|', '*', ' ']) {
        return;
    }
    if crate::versions::VsoLine::of(v).is_none() {
        c.error(
            "operator.chart.version",
            format!("Vault Secrets Operator chart `{v}` is not supported"),
            format!(
                "pin a supported version: {}",
                crate::versions::SUPPORTED_VSO
            ),
        );
    }
}

/// The operator must be able to trust Vault's certificate without an unwritten manual step.
fn check_trust(c: &mut Checker, spec: &Spec) {
    let o = &spec.operator;
    if let Some(ca) = &o.ca_cert_secret {
        c.dns_subdomain("operator.caCertSecret", ca, "Secret name");
        let https = match &o.address {
            Some(a) => a.starts_with("https://"),
            None => spec.vault.tls != TlsSpec::Disabled,
        };
        if !https || o.skip_tls_verify {
            c.warn(
                "operator.caCertSecret",
                "caCertSecret has no effect: the operator does not verify a certificate here",
                if o.skip_tls_verify {
                    "remove skipTLSVerify so that the CA is used"
                } else {
                    "use it with TLS (vault.tls, or an https operator.address)"
                },
            );
        }
    }
    if let Some(issuer) = &spec.vault.tls_issuer {
        c.dns_subdomain("vault.tlsIssuer", issuer, "ClusterIssuer name");
        if spec.vault.tls == TlsSpec::Disabled {
            c.error(
                "vault.tlsIssuer",
                "tlsIssuer issues Vault's certificate, but TLS is off",
                "name the Secret it should issue into, e.g. `tls: vault-tls`",
            );
        }
        // The tree carries the CA into the operator namespace itself.
        return;
    }
    if o.skip_tls_verify || o.ca_cert_secret.is_some() {
        return;
    }
    let vault_ns = spec
        .vault
        .namespace
        .as_deref()
        .unwrap_or(crate::model::defaults::DEFAULT_VAULT_NAMESPACE);
    let operator_ns = o
        .namespace
        .as_deref()
        .unwrap_or(crate::model::defaults::DEFAULT_OPERATOR_NAMESPACE);
    match (&spec.vault.tls, &o.address) {
        (TlsSpec::Secret(tls), None) if vault_ns != operator_ns => c.warn(
            "vault.tls",
            format!(
                "the operator reads Vault's CA from Secret `{tls}` (key ca.crt) in namespace `{operator_ns}`, which this tree does not create (`{tls}` lives in `{vault_ns}`)"
            ),
            format!(
                "copy the CA into `{operator_ns}` (e.g. with trust-manager or your certificate tooling) and name it with operator.caCertSecret"
            ),
        ),
        (_, Some(a)) if a.starts_with("https://") => c.warn(
            "operator.address",
            "the operator will trust this address only through the system CA bundle",
            "for a private CA, put it in a Secret (key ca.crt) in the operator namespace and name it with operator.caCertSecret",
        ),
        _ => {}
    }
}

/// The chart's anti-affinity puts each Vault replica on its own node: on a smaller cluster the
/// extra pods stay Pending. Said once, unless the choice is written down.
fn check_scheduling(c: &mut Checker, v: &VaultSpec) {
    let replicas = v.replicas.unwrap_or(1);
    if replicas > 1 && v.anti_affinity.is_none() {
        c.warn(
            "vault.replicas",
            format!("{replicas} replicas with the chart's anti-affinity need {replicas} schedulable nodes"),
            "write `antiAffinity: true` to keep it, or `antiAffinity: false` for a cluster with fewer nodes",
        );
    }
}

/// Lease and certificate lifetimes that would make VSO churn or let secrets expire.
fn check_lifetimes(c: &mut Checker, spec: &Spec) {
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
            if !is_vault_name(conn) {
                c.error(
                    &format!("vaultConfig.databases.{name}.connectionName"),
                    format!("`{conn}` is not a name Vault accepts for a database connection"),
                    "use letters, digits, `_`, `-` and `.`, starting and ending with a letter, digit or `_`",
                );
            }
        }
    }
}

/// `intermediateCA`: signed by another mount of `vaultConfig.pki` that has a `rootCA` (so
/// chains are one level deep and can have no cycle), for no longer than that root lives.
fn check_intermediate_cas(c: &mut Checker, vc: &VaultConfigSpec) {
    let seconds = |d: &str| Duration::parse(d, Grammar::Vault).map(Duration::as_secs_f64);
    for (name, pki) in &vc.pki {
        let Some(int) = &pki.intermediate_ca else {
            continue;
        };
        let base = format!("vaultConfig.pki.{name}.intermediateCA");
        if pki.root_ca.is_some() {
            c.error(
                &base,
                format!("pki mount `{name}` declares both rootCA and intermediateCA"),
                "a mount has one CA: keep rootCA (self-signed) or intermediateCA (signed by another mount's root)",
            );
            continue;
        }
        c.not_null(&format!("{base}.signedBy"));
        c.not_null(&format!("{base}.commonName"));
        if let Some(t) = &int.ttl {
            c.vault_duration(&format!("{base}.ttl"), t);
        }
        let field = format!("{base}.signedBy");
        let roots: Vec<&str> = vc
            .pki
            .iter()
            .filter(|(_, p)| p.root_ca.is_some())
            .map(|(n, _)| n.as_str())
            .collect();
        let hint = if roots.is_empty() {
            "declare a root mount with `rootCA: {commonName: ...}` under vaultConfig.pki and name it here".to_string()
        } else {
            format!("name a pki mount with a rootCA: {}", roots.join(", "))
        };
        let root = if int.signed_by == *name {
            c.error(
                &field,
                format!("pki mount `{name}` cannot be signed by itself"),
                hint,
            );
            continue;
        } else {
            match vc.pki.get(&int.signed_by) {
                None => {
                    c.error(
                        &field,
                        format!(
                            "pki mount `{}` is not declared in vaultConfig.pki",
                            int.signed_by
                        ),
                        hint,
                    );
                    continue;
                }
                Some(p) => match &p.root_ca {
                    Some(root) => (p, root),
                    None => {
                        c.error(
                            &field,
                            format!(
                                "pki mount `{}` has no rootCA: only a root CA signs an intermediate here",
                                int.signed_by
                            ),
                            hint,
                        );
                        continue;
                    }
                },
            }
        };
        // Vault refuses to sign past the root's own expiry or its mount's maximum lease.
        let (root_mount, root_ca) = root;
        let limit = [root_ca.ttl.as_deref(), root_mount.max_lease_ttl.as_deref()]
            .into_iter()
            .flatten()
            .filter_map(|d| seconds(d).map(|s| (d, s)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let (Some(ttl), Some((shown, max))) = (int.ttl.as_deref().and_then(seconds), limit) {
            if ttl > max {
                c.error(
                    &format!("{base}.ttl"),
                    format!(
                        "the intermediate CA would outlive its root: ttl is longer than the {shown} of pki mount `{}`",
                        int.signed_by
                    ),
                    format!("make ttl at most {shown}, e.g. half of it"),
                );
            }
        }
    }
}

/// `certManager`: the issuer's names are Kubernetes names, its PKI role is declared, and its
/// Vault role and policy are its own.
fn check_cert_manager(c: &mut Checker, spec: &Spec) {
    let Some(cm) = &spec.cert_manager else {
        return;
    };
    let base = "certManager.issuer";
    let i = &cm.issuer;
    c.dns_subdomain(&format!("{base}.name"), &i.name, "issuer name");
    if let Some(ns) = &cm.namespace {
        c.dns_label("certManager.namespace", ns, "namespace name");
    }
    if let Some(sa) = &cm.controller_service_account {
        c.dns_subdomain(
            "certManager.controllerServiceAccount",
            sa,
            "ServiceAccount name",
        );
    }
    if let Some(sa) = &i.service_account {
        c.dns_subdomain(&format!("{base}.serviceAccount"), sa, "ServiceAccount name");
    }
    match (i.kind.unwrap_or(IssuerKind::Issuer), &i.namespace) {
        (IssuerKind::ClusterIssuer, Some(_)) => c.error(
            &format!("{base}.namespace"),
            "a ClusterIssuer has no namespace",
            "remove it: a ClusterIssuer's ServiceAccount lives in cert-manager's namespace (certManager.namespace)",
        ),
        (IssuerKind::Issuer, Some(ns)) => {
            c.dns_label(&format!("{base}.namespace"), ns, "namespace name")
        }
        _ => {}
    }
    let pki = &i.pki.0;
    c.vault_path(&format!("{base}.pki"), &pki.mount, "pki mount");
    c.vault_name(&format!("{base}.pki"), &pki.role, "pki role name");
    match spec
        .vault_config
        .as_ref()
        .and_then(|vc| vc.pki.get(&pki.mount))
    {
        None => c.error(
            &format!("{base}.pki"),
            format!(
                "pki mount `{}` is not declared in vaultConfig.pki",
                pki.mount
            ),
            format!(
                "add `{}:` with the role `{}` under vaultConfig.pki",
                pki.mount, pki.role
            ),
        ),
        Some(m) if !m.roles.contains_key(&pki.role) => c.error(
            &format!("{base}.pki"),
            format!(
                "role `{}` is not declared in vaultConfig.pki.{}.roles",
                pki.role, pki.mount
            ),
            format!(
                "declare it (allowedDomains for the certificates cert-manager will request){}",
                if m.roles.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", or use one of: {}",
                        m.roles.keys().cloned().collect::<Vec<_>>().join(", ")
                    )
                }
            ),
        ),
        Some(_) => {}
    }
    // Its Vault role and policy must not be an app's (or the operator's).
    let role = i
        .role
        .clone()
        .unwrap_or_else(|| format!("cert-manager-{}", i.name));
    if i.role.is_some() {
        c.vault_name(&format!("{base}.role"), &role, "Vault role name");
    }
    let app_roles = spec.apps.iter().enumerate().map(|(ai, a)| {
        (
            a.role
                .clone()
                .unwrap_or_else(|| format!("{}-{}", a.namespace, a.name)),
            format!("apps[{ai}].role"),
        )
    });
    let cache_role = spec
        .operator
        .client_cache
        .iter()
        .map(|cc| (cc.role.clone(), "operator.clientCache.role".to_string()));
    for (other, at) in app_roles.chain(cache_role) {
        if other == role {
            c.error(
                &format!("{base}.role"),
                format!("Vault role `{role}` is already used by {at}"),
                "give cert-manager's issuer its own role (`role:`): its policy may only sign",
            );
        }
    }
    let https = match &spec.operator.address {
        Some(a) => a.starts_with("https://"),
        None => spec.vault.tls != TlsSpec::Disabled,
    };
    let carried = spec.operator.address.is_none() && spec.vault.tls_issuer.is_some();
    if https && i.ca_bundle_secret.is_none() && !carried {
        c.warn(
            &format!("{base}.name"),
            "cert-manager will verify Vault's certificate with its own system CAs only",
            "name a Secret holding Vault's CA (key ca.crt) in the issuer's namespace with `caBundleSecret:`, or let `vault.tlsIssuer` issue Vault's certificate",
        );
    }
    if let Some(secret) = &i.ca_bundle_secret {
        c.dns_subdomain(&format!("{base}.caBundleSecret"), secret, "Secret name");
    }
    // Its ServiceAccount is generated: it must not be an app's (one object, two owners).
    let cm_namespace = cm
        .namespace
        .as_deref()
        .unwrap_or(crate::model::defaults::CERT_MANAGER_NAMESPACE);
    let sa_namespace = match i.kind.unwrap_or(IssuerKind::Issuer) {
        IssuerKind::Issuer => i.namespace.as_deref().unwrap_or(cm_namespace),
        IssuerKind::ClusterIssuer => cm_namespace,
    };
    let sa = i.service_account.as_deref().unwrap_or(&i.name);
    for (ai, a) in spec.apps.iter().enumerate() {
        let app_sa = a.service_account.as_deref().unwrap_or(&a.name);
        if a.namespace == sa_namespace && app_sa == sa {
            let field = if i.service_account.is_some() {
                "serviceAccount"
            } else {
                "name"
            };
            c.error(
                &format!("{base}.{field}"),
                format!("ServiceAccount {sa_namespace}/{sa} is already the one of apps[{ai}]"),
                "give the issuer a ServiceAccount of its own (`serviceAccount:`): cert-manager may request its tokens",
            );
        }
    }
    let policy = format!("{}-cert-manager-{}", spec.cluster, i.name);
    for (ai, a) in spec.apps.iter().enumerate() {
        if format!("{}-{}-{}", spec.cluster, a.namespace, a.name) == policy {
            c.error(
                &format!("{base}.name"),
                format!("the issuer's Vault policy `{policy}` would be the one of apps[{ai}]"),
                "rename the issuer",
            );
        }
    }
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

/// The set of namespaces a spec touches (for Namespace objects), sorted.
pub fn namespaces(spec: &Spec) -> BTreeSet<String> {
    spec.apps.iter().map(|a| a.namespace.clone()).collect()
}

// ---------------------------------------------------------------------------------------
// Input rules: every value that reaches a generated file, the script or Vault obeys the
// rule of the system that reads it (Vault's name and mount rules, Kubernetes' label rules,
// SemVer for charts, HCL-safe seal settings), and a null never passes for a required string.
// ---------------------------------------------------------------------------------------

/// The largest `vault.replicas`: 7, the largest cluster in the deployment table of Vault's
/// integrated storage (raft) documentation (quorum 4, failure tolerance 3). HashiCorp
/// recommends 5 voters; more voters make every write slower and add no useful tolerance.
pub const MAX_REPLICAS: u32 = 7;

/// Mount paths Vault reserves: it refuses to mount a secrets engine at or below them
/// (`protectedMounts` in Vault's mount table code: `audit/`, `auth/`, `sys/`, `cubbyhole/`,
/// `identity/`).
pub const PROTECTED_MOUNTS: [&str; 5] = ["audit", "auth", "sys", "cubbyhole", "identity"];

/// Longest Vault name (role, key, connection) the spec accepts. Vault sets none; every
/// name ends up in URL paths, policy files and argv.
pub const MAX_VAULT_NAME: usize = 128;

impl Checker<'_> {
    /// A required string written as a plain null: serde turned it into `"~"`, `"null"` or `""`.
    fn not_null(&mut self, path: &str) {
        if self.index.is_null(path) {
            self.error(
                path,
                "required, but the value is null",
                "write the value; a literal `~` or `null` must be quoted (`\"~\"`)",
            );
        }
    }

    /// A mount path a secrets engine is enabled at: a valid path outside Vault's reserved ones.
    fn vault_mount(&mut self, path: &str, value: &str, what: &str) {
        let first = value.split('/').next().unwrap_or_default();
        if is_vault_path(value) && PROTECTED_MOUNTS.contains(&first) {
            self.error(
                path,
                format!("`{}` is not a usable {what}: Vault reserves `{first}/`", super::scan::shown(value)),
                format!("Vault refuses to mount a secrets engine at or below {}; choose another mount path, e.g. `kv`", PROTECTED_MOUNTS.map(|m| format!("{m}/")).join(", ")),
            );
        }
    }

    /// A one-line text value (a username, a URL in a driver's own syntax): not empty, and not
    /// longer than `max` bytes. Control characters and line breaks are refused by the scan.
    fn text(&mut self, path: &str, value: &str, max: usize, what: &str) {
        if value.trim().is_empty() {
            self.error(
                path,
                format!("{what} is empty"),
                format!("write the {what}"),
            );
        } else if value.len() > max {
            self.error(
                path,
                format!("{what} is {} bytes long; at most {max}", value.len()),
                format!("a {what} is never that long; check the value"),
            );
        }
    }

    /// A DNS name as X.509 certificates carry it: optionally a leading `*.` wildcard, or
    /// (with `email`) an email address, as Vault's PKI `alt_names` and `common_name` take.
    fn host_name(&mut self, path: &str, value: &str, email: bool, what: &str) {
        let ok = is_host_name(value) || (email && is_email(value));
        if !ok {
            self.error(
                path,
                format!("`{}` is not a valid {what}", super::scan::shown(value)),
                if email {
                    "write a DNS name (e.g. `webapp.app.svc.cluster.local`, `*.example.com`) or an email address; no spaces or commas"
                } else {
                    "write a DNS name, e.g. `svc.cluster.local` or `*.example.com`; no spaces or commas"
                },
            );
        }
    }

    /// A setting written into the HCL of the Vault server (seal stanzas): a plain token.
    fn hcl_token(&mut self, path: &str, value: &str, what: &str) {
        let ok = !value.is_empty()
            && value.len() <= 512
            && value.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/' | '@')
            });
        if !ok {
            self.error(
                path,
                format!("`{}` is not a valid {what}", super::scan::shown(value)),
                "use letters, digits and `-_.:/@` only, as cloud key ids, regions and names are",
            );
        }
    }
}

fn check_input_rules(c: &mut Checker, spec: &Spec) {
    // Required strings written as null.
    for p in ["apiVersion", "kind", "cluster"] {
        c.not_null(p);
    }
    c.not_null("vault.chart.version");
    c.not_null("operator.chart.version");
    let replicas = spec.vault.replicas.unwrap_or(1);
    if replicas > MAX_REPLICAS {
        c.error(
            "vault.replicas",
            format!("{replicas} replicas: at most {MAX_REPLICAS}"),
            "a raft cluster is small: 3 or 5 voters (HashiCorp recommends 5; the deployment table ends at 7)",
        );
    }
    if let Some(au) = &spec.vault.auto_unseal {
        let mut fields: Vec<(&str, &str)> = Vec::new();
        let mut kind = "";
        if let Some(a) = &au.awskms {
            kind = "awskms";
            fields.extend([
                ("region", a.region.as_str()),
                ("kmsKeyId", a.kms_key_id.as_str()),
            ]);
        }
        if let Some(g) = &au.gcpckms {
            kind = "gcpckms";
            fields.extend([
                ("project", g.project.as_str()),
                ("region", g.region.as_str()),
                ("keyRing", g.key_ring.as_str()),
                ("cryptoKey", g.crypto_key.as_str()),
            ]);
        }
        if let Some(a) = &au.azurekeyvault {
            kind = "azurekeyvault";
            fields.extend([
                ("tenantId", a.tenant_id.as_str()),
                ("vaultName", a.vault_name.as_str()),
                ("keyName", a.key_name.as_str()),
            ]);
        }
        if let Some(t) = &au.transit {
            kind = "transit";
            let p = "vault.autoUnseal.transit";
            c.not_null(&format!("{p}.address"));
            if !is_url(&t.address, &["https", "http"]) {
                c.error(
                    &format!("{p}.address"),
                    format!("`{}` is not a Vault address", super::scan::shown(&t.address)),
                    "write the URL of the Vault that holds the transit key, e.g. https://vault.example.com:8200",
                );
            }
            fields.extend([
                ("mountPath", t.mount_path.as_str()),
                ("keyName", t.key_name.as_str()),
            ]);
        }
        for (field, value) in fields {
            let p = format!("vault.autoUnseal.{kind}.{field}");
            c.not_null(&p);
            c.hcl_token(&p, value, "seal setting");
        }
    }
    if let Some(cc) = &spec.operator.client_cache {
        for f in ["transitMount", "keyName", "role"] {
            c.not_null(&format!("operator.clientCache.{f}"));
        }
        c.vault_mount(
            "operator.clientCache.transitMount",
            &cc.transit_mount,
            "transit mount",
        );
    }

    // Apps and their secrets.
    for (ai, app) in spec.apps.iter().enumerate() {
        let base = format!("apps[{ai}]");
        c.not_null(&format!("{base}.name"));
        c.not_null(&format!("{base}.namespace"));
        for (si, s) in app.secrets.iter().enumerate() {
            let sbase = format!("{base}.secrets[{si}]");
            c.not_null(&format!("{sbase}.name"));
            for (field, sub) in [
                ("kv", ["mount", "path"]),
                ("database", ["mount", "role"]),
                ("dynamic", ["mount", "path"]),
                ("pki", ["mount", "role"]),
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
            if let Some(d) = &s.dynamic {
                for k in d.0.params.keys() {
                    if !is_api_field(k) {
                        c.error(
                            &format!("{sbase}.dynamic.params"),
                            format!("`{}` is not a Vault request parameter name", super::scan::shown(k)),
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
                        format!(
                            "`{}` is not a Kubernetes Secret type",
                            super::scan::shown(t)
                        ),
                        "write e.g. `Opaque` or `kubernetes.io/dockerconfigjson`",
                    );
                }
            }
            for (k, v) in &s.labels {
                if !is_label_value(v) {
                    c.error(
                        &format!("{sbase}.labels.{k}"),
                        format!("`{}` is not a valid label value", super::scan::shown(v)),
                        "label values are at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit (or empty: \"\")",
                    );
                }
            }
        }
    }

    // Every mount `configure` enables, with the engine it enables there: one engine per
    // mount, and no mount inside another (Vault refuses both: "existing mount at ...").
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
                {
                    c.error(
                        path,
                        format!("mount `{mount}` and mount `{other}` ({other_path}) are one inside the other"),
                        "Vault refuses a mount inside another (\"existing mount at ...\"): use separate paths",
                    );
                }
            }
        }
        first.insert(mount, (engine, path));
    }

    let Some(vc) = &spec.vault_config else { return };
    if let Some(k) = &vc.kubernetes_auth {
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
    for (name, db) in &vc.databases {
        let base = format!("vaultConfig.databases.{name}");
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
        for (rname, role) in &db.roles {
            let rbase = format!("{base}.roles.{rname}");
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
    }
    for (name, pki) in &vc.pki {
        let base = format!("vaultConfig.pki.{name}");
        c.vault_mount(&base, name, "pki mount");
        if let Some(ca) = &pki.intermediate_ca {
            c.text(
                &format!("{base}.intermediateCA.commonName"),
                &ca.common_name,
                64,
                "intermediate CA commonName",
            );
            c.vault_mount(
                &format!("{base}.intermediateCA.signedBy"),
                &ca.signed_by,
                "pki mount",
            );
        }
        if let Some(ca) = &pki.root_ca {
            c.not_null(&format!("{base}.rootCA.commonName"));
            c.text(
                &format!("{base}.rootCA.commonName"),
                &ca.common_name,
                64,
                "root CA commonName",
            );
        }
        for (rname, role) in &pki.roles {
            for (i, d) in role.allowed_domains.iter().enumerate() {
                c.host_name(
                    &format!("{base}.roles.{rname}.allowedDomains[{i}]"),
                    d,
                    false,
                    "allowed domain",
                );
            }
        }
    }
    if let Some(a) = &vc.audit {
        if let Some(p) = &a.path {
            c.vault_path("vaultConfig.audit.path", p, "audit device path");
        }
        for k in a.options.keys() {
            if !is_api_field(k) {
                c.error(
                    &format!("vaultConfig.audit.options.{k}"),
                    format!(
                        "`{}` is not an audit device option name",
                        super::scan::shown(k)
                    ),
                    "option names are letters, digits and `_`, e.g. `file_path`, `log_raw`",
                );
            }
        }
    }
}

/// Vault's rule for the names in its API paths (`framework.GenericNameRegex`:
/// `\w(([\w-.]+)?\w)?`): roles, transit keys, database connections and roles, PKI roles.
/// Capped at [`MAX_VAULT_NAME`] characters.
pub fn is_vault_name(s: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    !s.is_empty()
        && s.len() <= MAX_VAULT_NAME
        && s.starts_with(word)
        && s.ends_with(word)
        && s.chars().all(|c| word(c) || c == '-' || c == '.')
}

/// A Vault path (a mount, or a path below one) the tool writes into URLs, policy files and
/// the script: segments of `[A-Za-z0-9_.@:-]`, no `.`/`..` segment, no glob (`*`, `+`) or
/// template (`{{`) character that would change a policy's meaning, at most 512 characters.
pub fn is_vault_path(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 512
        && s.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | ':'))
        })
}

/// An exact SemVer 2.0 version (`0.30.0`, `1.2.3-rc.1+build.5`, an optional leading `v`):
/// what Helm and Flux resolve to one chart version, never a range, wildcard or `latest`.
pub fn is_pinned_version(s: &str) -> bool {
    let v = s.strip_prefix('v').unwrap_or(s);
    let (core, build) = match v.split_once('+') {
        Some((c, b)) => (c, Some(b)),
        None => (v, None),
    };
    let (core, pre) = match core.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (core, None),
    };
    let number = |n: &str| {
        !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && (n == "0" || !n.starts_with('0'))
    };
    let ident =
        |i: &str| !i.is_empty() && i.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let parts: Vec<&str> = core.split('.').collect();
    s.len() <= 128
        && parts.len() == 3
        && parts.iter().all(|p| number(p))
        && pre.is_none_or(|p| {
            p.split('.')
                .all(|i| ident(i) && (!i.bytes().all(|b| b.is_ascii_digit()) || number(i)))
        })
        && build.is_none_or(|b| b.split('.').all(ident))
}

/// A URL with one of `schemes`, a host, and no character that would need quoting
/// (whitespace, quotes, backslash, `{}`), at most 2048 characters.
pub fn is_url(s: &str, schemes: &[&str]) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or_default();
    schemes.contains(&scheme)
        && s.len() <= 2048
        && !host.is_empty()
        && !host.starts_with(':')
        && s.chars().all(|c| {
            c.is_ascii_graphic()
                && !matches!(
                    c,
                    '"' | '\'' | '\\' | '{' | '}' | '`' | '<' | '>' | '^' | '|'
                )
        })
}

/// A token audience: one word or URL, no whitespace or comma (Vault's `audience` and VSO's
/// `audiences` list), at most 253 characters.
pub fn is_audience(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~:/?#@!$&+=%".contains(c))
}

/// A DNS name (RFC 1123 labels, letters of either case, `_` allowed for service names),
/// optionally starting with a `*.` wildcard; at most 253 characters.
pub fn is_host_name(s: &str) -> bool {
    let name = s.strip_prefix("*.").unwrap_or(s);
    !name.is_empty()
        && s.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// A plain email address (`local@domain`), as Vault's PKI accepts for `alt_names`.
pub fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && local.len() <= 64
                && local
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._%+-".contains(c))
                && is_host_name(domain)
                && !domain.starts_with('*')
        }
        None => false,
    }
}

/// A Kubernetes label value: empty, or at most 63 of `[A-Za-z0-9._-]`, starting and ending
/// with a letter or digit.
pub fn is_label_value(s: &str) -> bool {
    s.is_empty()
        || (s.len() <= 63
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.ends_with(|c: char| c.is_ascii_alphanumeric())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
}

/// A Vault API field or option name (`ttl`, `file_path`): letters, digits and `_`.
pub fn is_api_field(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn vault_names_paths_and_versions() {
        for ok in ["a", "app-readonly", "a.b_c", "A1", "_x_"] {
            assert!(is_vault_name(ok), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            ".a",
            "a;b",
            "a/b",
            "a b",
            "a${IFS}b",
            &"x".repeat(129),
        ] {
            assert!(!is_vault_name(bad), "{bad}");
        }
        for ok in ["kv", "team/kv", "kv/app@x/v1.2", "a:b"] {
            assert!(is_vault_path(ok), "{ok}");
        }
        for bad in [
            "",
            "/kv",
            "kv/",
            "a//b",
            "a/../b",
            "a/./b",
            "k*",
            "k+",
            "a{{x}}",
            "a\"b",
            "k8s;touch${IFS}PWNED;x",
            "a b",
        ] {
            assert!(!is_vault_path(bad), "{bad}");
        }
        for ok in [
            "0.30.0",
            "v1.2.3",
            "1.0.0-rc.1",
            "1.0.0+build.5",
            "10.20.30",
        ] {
            assert!(is_pinned_version(ok), "{ok}");
        }
        for bad in [
            "latest",
            "0.30.x",
            "0.30",
            "*",
            ">=0.30.0",
            "~0.30.0",
            "^1.0.0",
            "01.2.3",
            "1.2.3-01",
            "1.2.3 ",
            "1.2.3-",
            "1.2.3||2.0.0",
            "0.30.0-rc.1 || 1.0",
        ] {
            assert!(!is_pinned_version(bad), "{bad}");
        }
    }

    #[test]
    fn urls_hosts_labels_audiences() {
        assert!(is_url("https://kubernetes.default.svc:443", &["https"]));
        assert!(is_url("oci://ghcr.io/x", &["oci"]));
        for bad in [
            "https://",
            "ftp://x",
            "https://x y",
            "https://x\"",
            "https://:80",
            "https://a/{{b}}",
            "x",
        ] {
            assert!(!is_url(bad, &["https", "http"]), "{bad}");
        }
        assert!(is_host_name("webapp.app.svc.cluster.local") && is_host_name("*.example.com"));
        for bad in ["", "a,b", "a b", "-a.com", "a..b", "*", "*.*.x"] {
            assert!(!is_host_name(bad), "{bad}");
        }
        assert!(is_email("ops@example.com") && !is_email("a b@example.com"));
        assert!(
            is_label_value("")
                && is_label_value("v1.2_x")
                && !is_label_value("~")
                && !is_label_value("-a")
        );
        assert!(!is_label_value(&"a".repeat(64)));
        assert!(is_audience("vault") && is_audience("https://kubernetes.default.svc"));
        assert!(!is_audience("a,b") && !is_audience("a b") && !is_audience(""));
    }

    #[test]
    fn literal_passwords_are_found() {
        assert!(has_literal_password("postgresql://admin:hunter2@db:5432/x"));
        assert!(!has_literal_password(
            "postgresql://{{username}}:{{password}}@db:5432/x"
        ));
    }
}
