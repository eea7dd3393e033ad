//! The rules every section shares: how a problem is recorded ([`Checker`]), the syntax of
//! each kind of value (Kubernetes and Vault names, Vault paths, URLs, durations, chart
//! versions, host names) and the vocabularies and limits the spec accepts.
//!
//! Every value that reaches a generated file, the script or Vault obeys the rule of the system
//! that reads it (Vault's name and mount rules, Kubernetes' label rules, SemVer for charts,
//! HCL-safe seal settings), and a null never passes for a required string.

use super::Findings;
use crate::duration::{Duration, Grammar};
use crate::spec::locate::LocationIndex;
use crate::spec::scan::shown;
use crate::spec::types::ChartSpec;
use crate::spec::Diagnostic;

pub(crate) const API_VERSION: &str = "kubectl-vault/v1alpha1";
pub(super) const KIND: &str = "VaultStack";

/// Database plugins the spec accepts and the Vault plugin each one is.
pub(crate) const DATABASE_PLUGINS: [(&str, &str); 6] = [
    ("postgresql", "postgresql-database-plugin"),
    ("mysql", "mysql-database-plugin"),
    ("mariadb", "mysql-database-plugin"),
    ("mssql", "mssql-database-plugin"),
    ("mongodb", "mongodb-database-plugin"),
    ("redis", "redis-database-plugin"),
];

/// Kinds whose pod template the injector's patch can annotate (strategic merge): apps/v1's
/// workloads, and batch/v1's Job and CronJob (whose pods get the agent's init container only).
pub(crate) const INJECTOR_WORKLOAD_KINDS: [&str; 5] =
    ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];

/// Mount paths Vault reserves: it refuses to mount a secrets engine at or below them
/// (`protectedMounts` in Vault's mount table code: `audit/`, `auth/`, `sys/`, `cubbyhole/`,
/// `identity/`).
pub(super) const PROTECTED_MOUNTS: [&str; 5] = ["audit", "auth", "sys", "cubbyhole", "identity"];

/// Longest Vault name (role, key, connection) the spec accepts. Vault sets none; every
/// name ends up in URL paths, policy files and argv.
pub(super) const MAX_VAULT_NAME: usize = 128;

/// Collects the problems of one spec, each located at its field.
pub(super) struct Checker<'a> {
    index: &'a LocationIndex,
    found: Findings,
}

impl<'a> Checker<'a> {
    pub(super) fn new(index: &'a LocationIndex) -> Self {
        Checker {
            index,
            found: Findings::default(),
        }
    }

    pub(super) fn finish(self) -> Findings {
        self.found
    }

    pub(super) fn error(
        &mut self,
        path: &str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let mut d = Diagnostic::error(path, message).with_hint(hint);
        d.location = self.index.value(path);
        self.found.errors.push(d);
    }

    pub(super) fn warn(&mut self, path: &str, message: impl Into<String>, hint: impl Into<String>) {
        let mut d = Diagnostic::warning(path, message).with_hint(hint);
        d.location = self.index.value(path);
        self.found.warnings.push(d);
    }

    /// A required string written as a plain null: serde turned it into `"~"`, `"null"` or `""`.
    pub(super) fn not_null(&mut self, path: &str) {
        if self.index.is_null(path) {
            self.error(
                path,
                "required, but the value is null",
                "write the value; a literal `~` or `null` must be quoted (`\"~\"`)",
            );
        }
    }

    pub(super) fn dns_label(&mut self, path: &str, value: &str, what: &str) {
        if !is_dns_label(value) {
            self.error(
                path,
                format!("`{value}` is not a valid {what}"),
                "use at most 63 lower-case letters, digits and `-`, starting and ending with a letter or digit (RFC 1123 label)",
            );
        }
    }

    pub(super) fn dns_subdomain(&mut self, path: &str, value: &str, what: &str) {
        if !is_dns_subdomain(value) {
            self.error(
                path,
                format!("`{value}` is not a valid {what}"),
                "use at most 253 lower-case letters, digits, `-` and `.`, starting and ending with a letter or digit (RFC 1123 subdomain)",
            );
        }
    }

    pub(super) fn vault_name(&mut self, path: &str, value: &str, what: &str) {
        if !is_vault_name(value) {
            self.error(
                path,
                format!("`{}` is not a valid {what}", shown(value)),
                "Vault names are letters, digits and `_`, with `-` and `.` only inside (e.g. `app-readonly`), at most 128 characters",
            );
        }
    }

    pub(super) fn vault_path(&mut self, path: &str, value: &str, what: &str) {
        if !is_vault_path(value) {
            self.error(
                path,
                format!("`{}` is not a valid {what}", shown(value)),
                "write segments of letters, digits, `-`, `_`, `.`, `@` and `:` joined by `/`, without leading or trailing `/`, `//`, `..`, spaces or wildcards (at most 512 characters)",
            );
        }
    }

    /// A mount path a secrets engine is enabled at: a valid path outside Vault's reserved ones.
    pub(super) fn vault_mount(&mut self, path: &str, value: &str, what: &str) {
        let first = value.split('/').next().unwrap_or_default();
        if is_vault_path(value) && PROTECTED_MOUNTS.contains(&first) {
            self.error(
                path,
                format!("`{}` is not a usable {what}: Vault reserves `{first}/`", shown(value)),
                format!("Vault refuses to mount a secrets engine at or below {}; choose another mount path, e.g. `kv`", PROTECTED_MOUNTS.map(|m| format!("{m}/")).join(", ")),
            );
        }
    }

    /// A duration VSO accepts: `^([0-9]+(\.[0-9]+)?(s|m|h))$` (PKI ttl also allows `d`).
    pub(super) fn vso_duration(
        &mut self,
        path: &str,
        value: &str,
        allow_days: bool,
    ) -> Option<f64> {
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
    pub(super) fn vault_duration(&mut self, path: &str, value: &str) {
        if Duration::parse(value, Grammar::Vault).is_none() {
            self.error(
                path,
                format!("`{value}` is not a duration Vault accepts"),
                "write a number with a unit (s, m, h or d), e.g. `1m`, `72h`",
            );
        }
    }

    pub(super) fn flux_duration(&mut self, path: &str, value: &str) {
        if Duration::parse(value, Grammar::Flux).is_none() {
            self.error(
                path,
                format!("`{value}` is not a Flux interval"),
                "write Go duration units (ms, s, m, h), e.g. `10m` or `1h30m`",
            );
        }
    }

    /// Where `configure` reads a secret value at apply time: `env:NAME` or `file:PATH`.
    pub(super) fn value_source(&mut self, path: &str, value: &str, what: &str) {
        if !is_value_source(value) {
            self.error(
                path,
                format!("{what} must be `env:NAME` or `file:PATH`"),
                "never write a secret value in the spec: it would land in Git; `configure` reads it at apply time",
            );
        }
    }

    /// A one-line text value (a username, a URL in a driver's own syntax): not empty, and not
    /// longer than `max` bytes. Control characters and line breaks are refused by the scan.
    pub(super) fn text(&mut self, path: &str, value: &str, max: usize, what: &str) {
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
    pub(super) fn host_name(&mut self, path: &str, value: &str, email: bool, what: &str) {
        let ok = is_host_name(value) || (email && is_email(value));
        if !ok {
            self.error(
                path,
                format!("`{}` is not a valid {what}", shown(value)),
                if email {
                    "write a DNS name (e.g. `webapp.app.svc.cluster.local`, `*.example.com`) or an email address; no spaces or commas"
                } else {
                    "write a DNS name, e.g. `svc.cluster.local` or `*.example.com`; no spaces or commas"
                },
            );
        }
    }

    /// A setting written into the HCL of the Vault server (seal stanzas): a plain token.
    pub(super) fn hcl_token(&mut self, path: &str, value: &str, what: &str) {
        if !is_hcl_token(value) {
            self.error(
                path,
                format!("`{}` is not a valid {what}", shown(value)),
                "use letters, digits and `-_.:/@` only, as cloud key ids, regions and names are",
            );
        }
    }

    /// A Helm chart (`vault.chart`, `operator.chart`): a pinned version, and a repository URL.
    pub(super) fn chart(&mut self, base: &str, chart: &ChartSpec) {
        if !is_pinned_version(&chart.version) {
            self.error(
                &format!("{base}.chart.version"),
                format!("`{}` is not a pinned chart version", shown(&chart.version)),
                "pin an exact SemVer version, e.g. `0.30.0` (not `latest`, `0.30.x` or a range): anything else would let Flux upgrade Vault unreviewed",
            );
        }
        if let Some(r) = &chart.repository {
            if !(is_url(r, &["https", "http", "oci"])) {
                self.error(
                    &format!("{base}.chart.repository"),
                    format!("`{r}` is not a Helm repository URL"),
                    "use an http(s):// or oci:// URL, e.g. https://helm.releases.hashicorp.com",
                );
            }
        }
    }
}

/// A Kubernetes name of one DNS label (RFC 1123): a namespace, an app, a cluster.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A Kubernetes object name (RFC 1123 subdomain): labels joined by `.`, at most 253 characters.
pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// A Kubernetes label or annotation key (`name` or `prefix.example.com/name`), and the
/// syntax of a Secret type.
pub(super) fn is_qualified_name(key: &str) -> bool {
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

/// A Kubernetes label value: empty, or at most 63 of `[A-Za-z0-9._-]`, starting and ending
/// with a letter or digit.
pub(super) fn is_label_value(s: &str) -> bool {
    s.is_empty()
        || (s.len() <= 63
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.ends_with(|c: char| c.is_ascii_alphanumeric())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
}

/// A key of a Kubernetes Secret (and a file name in a CSI mount).
pub(super) fn is_secret_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 253
        && k != "."
        && k != ".."
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Vault's rule for the names in its API paths (`framework.GenericNameRegex`:
/// `\w(([\w-.]+)?\w)?`): roles, transit keys, database connections and roles, PKI roles.
/// Capped at [`MAX_VAULT_NAME`] characters.
pub(crate) fn is_vault_name(s: &str) -> bool {
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
pub(super) fn is_vault_path(s: &str) -> bool {
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

/// A Vault API field or option name (`ttl`, `file_path`): letters, digits and `_`.
pub(super) fn is_api_field(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// An exact SemVer 2.0 version (`0.30.0`, `1.2.3-rc.1+build.5`, an optional leading `v`):
/// what Helm and Flux resolve to one chart version, never a range, wildcard or `latest`.
pub(super) fn is_pinned_version(s: &str) -> bool {
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
pub(super) fn is_url(s: &str, schemes: &[&str]) -> bool {
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

/// The host of a URL (no user info, port or path; an IPv6 literal without its brackets).
pub(crate) fn url_host(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => host_port.split(':').next()?,
    };
    (!host.is_empty()).then_some(host)
}

/// A token audience: one word or URL, no whitespace or comma (Vault's `audience` and VSO's
/// `audiences` list), at most 253 characters.
pub(super) fn is_audience(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~:/?#@!$&+=%".contains(c))
}

/// A DNS name (RFC 1123 labels, letters of either case, `_` allowed for service names),
/// optionally starting with a `*.` wildcard; at most 253 characters.
pub(super) fn is_host_name(s: &str) -> bool {
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
pub(super) fn is_email(s: &str) -> bool {
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

/// `env:NAME` (a shell variable name) or `file:PATH` (any non-empty path).
fn is_value_source(s: &str) -> bool {
    match s.split_once(':') {
        Some(("env", name)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        Some(("file", p)) => !p.is_empty(),
        _ => false,
    }
}

/// A plain HCL token: letters, digits and `-_.:/@`, at most 512 characters.
fn is_hcl_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 512
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/' | '@'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `rule` on each input: `true` where it must accept, `false` where it must refuse.
    fn table(rule: impl Fn(&str) -> bool, cases: &[(&str, bool)]) {
        for (input, want) in cases {
            assert_eq!(rule(input), *want, "{input:?}");
        }
    }

    /// How many errors a Checker method records for `value`, on an empty document.
    fn errors(check: impl Fn(&mut Checker, &str), value: &str) -> usize {
        let index = LocationIndex::build("");
        let mut c = Checker::new(&index);
        check(&mut c, value);
        let found = c.finish();
        assert!(found.warnings.is_empty());
        found.errors.len()
    }

    #[test]
    fn dns_labels() {
        table(
            is_dns_label,
            &[
                ("app-1", true),
                ("a", true),
                ("0", true),
                (&"a".repeat(63), true),
                ("", false),
                ("App", false),
                ("-a", false),
                ("a-", false),
                ("a.b", false),
                ("a_b", false),
                (&"a".repeat(64), false),
            ],
        );
    }

    #[test]
    fn dns_subdomains() {
        table(
            is_dns_subdomain,
            &[
                ("webapp.tls", true),
                ("vault-tls", true),
                ("a.b.c", true),
                ("", false),
                ("a..b", false),
                (".a", false),
                ("a.", false),
                ("Vault", false),
                (&format!("{}.b", "a".repeat(252)), false),
            ],
        );
    }

    #[test]
    fn qualified_names() {
        table(
            is_qualified_name,
            &[
                ("team", true),
                ("example.com/team", true),
                ("kubernetes.io/tls", true),
                ("Opaque", true),
                ("a.b_c-d", true),
                ("", false),
                ("bad key", false),
                ("/team", false),
                ("Example.com/team", false),
                ("example.com/", false),
                ("-team", false),
                (&"a".repeat(64), false),
            ],
        );
    }

    #[test]
    fn label_values() {
        table(
            is_label_value,
            &[
                ("", true),
                ("v1.2_x", true),
                ("A", true),
                (&"a".repeat(63), true),
                ("~", false),
                ("-a", false),
                ("a.", false),
                ("a b", false),
                (&"a".repeat(64), false),
            ],
        );
    }

    #[test]
    fn secret_keys() {
        table(
            is_secret_key,
            &[
                ("username", true),
                ("tls.crt", true),
                ("a-b_c", true),
                (".env", true),
                ("", false),
                (".", false),
                ("..", false),
                ("a/b", false),
                ("a b", false),
                (&"k".repeat(254), false),
            ],
        );
    }

    #[test]
    fn vault_names() {
        table(
            is_vault_name,
            &[
                ("a", true),
                ("app-readonly", true),
                ("a.b_c", true),
                ("A1", true),
                ("_x_", true),
                (&"x".repeat(128), true),
                ("", false),
                ("-a", false),
                ("a-", false),
                (".a", false),
                ("a;b", false),
                ("a/b", false),
                ("a b", false),
                ("a${IFS}b", false),
                (&"x".repeat(129), false),
            ],
        );
    }

    #[test]
    fn vault_paths() {
        table(
            is_vault_path,
            &[
                ("kv", true),
                ("team/kv", true),
                ("kv/app@x/v1.2", true),
                ("a:b", true),
                ("", false),
                ("/kv", false),
                ("kv/", false),
                ("a//b", false),
                ("a/../b", false),
                ("a/./b", false),
                ("k*", false),
                ("k+", false),
                ("a{{x}}", false),
                ("a\"b", false),
                ("k8s;touch${IFS}PWNED;x", false),
                ("a b", false),
                (&"a".repeat(513), false),
            ],
        );
    }

    #[test]
    fn api_fields() {
        table(
            is_api_field,
            &[
                ("ttl", true),
                ("file_path", true),
                ("A1", true),
                ("", false),
                ("file-path", false),
                ("a.b", false),
                ("a b", false),
                (&"f".repeat(129), false),
            ],
        );
    }

    #[test]
    fn pinned_versions() {
        table(
            is_pinned_version,
            &[
                ("0.30.0", true),
                ("v1.2.3", true),
                ("1.0.0-rc.1", true),
                ("1.0.0+build.5", true),
                ("10.20.30", true),
                ("latest", false),
                ("0.30.x", false),
                ("0.30", false),
                ("*", false),
                (">=0.30.0", false),
                ("~0.30.0", false),
                ("^1.0.0", false),
                ("01.2.3", false),
                ("1.2.3-01", false),
                ("1.2.3 ", false),
                ("1.2.3-", false),
                ("1.2.3||2.0.0", false),
                ("0.30.0-rc.1 || 1.0", false),
            ],
        );
    }

    #[test]
    fn urls() {
        let web = |s: &str| is_url(s, &["https", "http"]);
        table(
            web,
            &[
                ("https://kubernetes.default.svc:443", true),
                ("http://vault.vault.svc:8200/v1", true),
                ("https://user@host", true),
                ("https://", false),
                ("ftp://x", false),
                ("oci://ghcr.io/x", false),
                ("https://x y", false),
                ("https://x\"", false),
                ("https://:80", false),
                ("https://a/{{b}}", false),
                ("x", false),
            ],
        );
        assert!(is_url("oci://ghcr.io/x", &["oci"]));
        assert!(!is_url(
            &format!("https://{}", "a".repeat(2041)),
            &["https"]
        ));
    }

    #[test]
    fn audiences() {
        table(
            is_audience,
            &[
                ("vault", true),
                ("https://kubernetes.default.svc", true),
                ("vault://ns/issuer", true),
                ("", false),
                ("a,b", false),
                ("a b", false),
                ("a\"b", false),
                (&"a".repeat(254), false),
            ],
        );
    }

    #[test]
    fn host_names_and_emails() {
        table(
            is_host_name,
            &[
                ("webapp.app.svc.cluster.local", true),
                ("*.example.com", true),
                ("Example.COM", true),
                ("_sip.example.com", true),
                ("", false),
                ("a,b", false),
                ("a b", false),
                ("-a.com", false),
                ("a..b", false),
                ("*", false),
                ("*.*.x", false),
            ],
        );
        table(
            is_email,
            &[
                ("ops@example.com", true),
                ("a.b+c@x.io", true),
                ("a b@example.com", false),
                ("@example.com", false),
                ("ops@*.example.com", false),
                ("ops", false),
            ],
        );
    }

    #[test]
    fn value_sources() {
        table(
            is_value_source,
            &[
                ("env:DB_PASSWORD", true),
                ("env:_X1", true),
                ("file:/run/secrets/pw", true),
                ("file:pw", true),
                ("env:", false),
                ("env:1X", false),
                ("env:A-B", false),
                ("file:", false),
                ("hunter2", false),
                ("vault:x", false),
            ],
        );
    }

    #[test]
    fn hcl_tokens() {
        table(
            is_hcl_token,
            &[
                ("us-east-1", true),
                ("arn:aws:kms:eu-west-1:1:key/abc", true),
                ("a@b.c_d", true),
                ("", false),
                ("a\"b", false),
                ("a b", false),
                ("${x}", false),
                (&"a".repeat(513), false),
            ],
        );
    }

    #[test]
    fn durations() {
        let vso = |c: &mut Checker, v: &str| {
            c.vso_duration("d", v, false);
        };
        let vso_ttl = |c: &mut Checker, v: &str| {
            c.vso_duration("d", v, true);
        };
        let vault = |c: &mut Checker, v: &str| c.vault_duration("d", v);
        let flux = |c: &mut Checker, v: &str| c.flux_duration("d", v);
        // (value, VSO, VSO ttl, Vault, Flux): whether each grammar accepts it.
        let cases = [
            ("30s", true, true, true, true),
            ("1.5h", true, true, true, true),
            ("72h", true, true, true, true),
            ("3d", false, true, true, false),
            ("600", false, false, true, false),
            ("1h30m", false, false, false, true),
            ("500ms", false, false, false, true),
            ("", false, false, false, false),
            ("10", false, false, true, false),
            ("-1s", false, false, false, false),
            ("1w", false, false, false, false),
        ];
        for (v, in_vso, in_vso_ttl, in_vault, in_flux) in cases {
            assert_eq!(errors(vso, v) == 0, in_vso, "vso {v:?}");
            assert_eq!(errors(vso_ttl, v) == 0, in_vso_ttl, "vso ttl {v:?}");
            assert_eq!(errors(vault, v) == 0, in_vault, "vault {v:?}");
            assert_eq!(errors(flux, v) == 0, in_flux, "flux {v:?}");
        }
    }

    #[test]
    fn texts_mounts_and_host_names_in_the_checker() {
        let text = |c: &mut Checker, v: &str| c.text("t", v, 8, "username");
        for (v, n) in [
            ("admin", 0),
            ("12345678", 0),
            ("", 1),
            ("  ", 1),
            ("123456789", 1),
        ] {
            assert_eq!(errors(text, v), n, "text {v:?}");
        }
        let mount = |c: &mut Checker, v: &str| c.vault_mount("m", v, "kv mount");
        for (v, n) in [
            ("kv", 0),
            ("team/sys", 0),
            ("system", 0),
            ("sys", 1),
            ("sys/x", 1),
            ("cubbyhole", 1),
            ("identity/x", 1),
            ("auth", 1),
            ("audit/file", 1),
            // Not a path at all: reported by vault_path, not here.
            ("sys//x", 0),
        ] {
            assert_eq!(errors(mount, v), n, "mount {v:?}");
        }
        let host = |c: &mut Checker, v: &str| c.host_name("h", v, false, "domain");
        let host_or_email = |c: &mut Checker, v: &str| c.host_name("h", v, true, "name");
        for (v, as_host, as_either) in [
            ("svc.cluster.local", 0, 0),
            ("ops@example.com", 1, 0),
            ("a b", 1, 1),
        ] {
            assert_eq!(errors(host, v), as_host, "host {v:?}");
            assert_eq!(errors(host_or_email, v), as_either, "host or email {v:?}");
        }
    }
}
