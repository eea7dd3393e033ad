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

/// Kinds whose pod template the injector's patch can annotate (strategic merge).
pub(crate) const INJECTOR_WORKLOAD_KINDS: [&str; 3] = ["Deployment", "StatefulSet", "DaemonSet"];

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
}
