//! The generated `configure.sh`: shell quoting for the `vault` CLI, and the context of
//! `vault/configure.sh.j2` built from the same [`VaultSide`] `configure` plans from.

use super::{Ca, TokenReviewer, VaultSide};
use crate::model::Stack;
use serde::Serialize;
use std::collections::BTreeMap;
/// One shell word holding exactly `s`.
pub fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | ',' | '=' | '@')
        })
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// A `key=value` argument of `vault write` that delivers exactly `value`. The vault CLI reads a
/// value starting with `@` from a file and a value of `-` from stdin: a leading `@` is escaped
/// (`\@`), and the values the CLI cannot take literally (`-`, a leading `\@`) are handed over as a
/// file (`@<(printf …)`, bash process substitution; nothing secret goes this way).
pub fn vault_arg(key: &str, value: &str) -> String {
    if value == "-" || value.starts_with("\\@") {
        format!(
            "{}@<(printf '%s' {})",
            shell_word(&format!("{key}=")),
            shell_word(value)
        )
    } else if let Some(rest) = value.strip_prefix('@') {
        shell_word(&format!("{key}=\\@{rest}"))
    } else {
        shell_word(&format!("{key}={value}"))
    }
}

/// Text for a `#` comment: control characters (a newline would end the comment) are escaped.
pub fn shell_comment(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn is_shell_identifier(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// How the script obtains a secret: a line that checks (or reads) it before anything is
/// changed, and the shell expression of its value (piped into `vault write … key=-`).
/// A secret the script reads at run time: the line that checks it and the word that uses it.
#[derive(Serialize)]
pub struct ScriptSecret {
    pub(super) check: String,
    value: String,
}

pub(super) fn script_secret(source: &str, var: &str, what: &str) -> ScriptSecret {
    let (check, value) = match source.split_once(':') {
        Some(("env", name)) if is_shell_identifier(name) => (
            format!("require_env {name} {}", shell_word(what)),
            format!("\"${name}\""),
        ),
        Some(("env", name)) => (
            format!("{var}=$(printenv -- {})", shell_word(name)),
            format!("\"${var}\""),
        ),
        Some((_, path)) => (
            format!(
                "{var}=$(from_file {} {})",
                shell_word(path),
                shell_word(what)
            ),
            format!("\"${var}\""),
        ),
        None => (
            format!(
                "echo {} >&2; exit 2",
                shell_word(&format!("error: {what}: no source"))
            ),
            "''".into(),
        ),
    };
    ScriptSecret { check, value }
}

/// A heredoc delimiter that no line of `text` equals.
pub(super) fn heredoc_delimiter(text: &str) -> String {
    let mut d = "KUBECTL_VAULT_POLICY".to_string();
    while text.lines().any(|l| l == d) {
        d.push('_');
    }
    d
}

/// The context of `vault/configure.sh.j2` (also what `configure --script` prints).
#[derive(Serialize)]
pub struct ScriptContext<'a> {
    cluster: &'a str,
    description: &'a str,
    /// Which Vault the script is for, in words (a fleet's, or one outside the cluster).
    vault_note: Option<String>,
    /// `vaultConfig.address`: the script sets VAULT_ADDR to it.
    vault_addr: Option<&'a str>,
    /// `vaultNamespace`: the script exports VAULT_NAMESPACE (and BAO_NAMESPACE) to it.
    vault_namespace: Option<&'a str>,
    checks: Vec<String>,
    auth: ScriptAuth<'a>,
    mounts: Vec<ScriptMount<'a>>,
    transit_keys: Vec<ScriptPath>,
    databases: Vec<ScriptDatabase<'a>>,
    aws: Vec<super::cloud::ScriptAws<'a>>,
    cloud_configs: Vec<super::cloud::ScriptCloudConfig<'a>>,
    pki: Vec<ScriptPki<'a>>,
    policies: Vec<ScriptPolicy<'a>>,
    roles: Vec<ScriptRole<'a>>,
    /// The CLIs tried in order when VAULT_CLI is unset: the distribution's own first.
    clis: [&'static str; 2],
    /// JWT/OIDC auth methods (`vaultConfig.admin`, `pipelines`).
    jwt: Vec<super::jwt_script::ScriptJwt>,
    audit: Vec<ScriptAudit<'a>>,
}

#[derive(Serialize)]
struct ScriptAuth<'a> {
    mount: &'a str,
    auth_path: String,
    config_path: String,
    host: &'a str,
    ca_cert_file: Option<&'a str>,
    disable_local_ca_jwt: bool,
    reviewer_jwt: Option<ScriptSecret>,
}

#[derive(Serialize)]
struct ScriptMount<'a> {
    path: &'a str,
    cli_type: &'a str,
    max_lease_ttl: Option<&'a str>,
}

#[derive(Serialize)]
struct ScriptPath {
    path: String,
}

#[derive(Serialize)]
struct ScriptDatabase<'a> {
    n: usize,
    mount: &'a str,
    name: &'a str,
    config_path: String,
    rotate_path: String,
    plugin_name: &'a str,
    connection_url: &'a str,
    username: &'a str,
    allowed_roles: String,
    password: ScriptSecret,
    rotate_root: bool,
    roles: Vec<ScriptDatabaseRole<'a>>,
}

#[derive(Serialize)]
struct ScriptDatabaseRole<'a> {
    path: String,
    /// Only where the spec names them: a write without them keeps what Vault holds.
    default_ttl: Option<&'a str>,
    max_ttl: Option<&'a str>,
    creation_statements: &'a [String],
    revocation_statements: &'a [String],
}

#[derive(Serialize)]
struct ScriptPki<'a> {
    mount: &'a str,
    issuers_path: String,
    generate_path: String,
    root_ca: Option<ScriptRootCa<'a>>,
    intermediate: Option<ScriptIntermediate<'a>>,
    roles: Vec<ScriptPkiRole>,
    /// `MOUNT/config/urls` and its `key=value` arguments.
    urls_path: String,
    urls: Vec<String>,
    /// `MOUNT/config/auto-tidy` and its `key=value` arguments.
    auto_tidy_path: String,
    auto_tidy: Vec<String>,
}

/// An intermediate CA: CSR in its mount, signed by the root's, set signed, its URLs.
#[derive(Serialize)]
struct ScriptIntermediate<'a> {
    common_name: &'a str,
    ttl: Option<&'a str>,
    signed_by: &'a str,
    csr_path: String,
    sign_path: String,
    set_signed_path: String,
    max_path_length: u32,
}

#[derive(Serialize)]
struct ScriptRootCa<'a> {
    common_name: &'a str,
    ttl: Option<&'a str>,
}

#[derive(Serialize)]
struct ScriptPkiRole {
    path: String,
    /// `key=value` arguments: the settings the spec manages ([`super::PkiRole::settings`]).
    args: Vec<String>,
}

#[derive(Serialize)]
struct ScriptPolicy<'a> {
    name: &'a str,
    delimiter: String,
    hcl: String,
}

#[derive(Serialize)]
struct ScriptRole<'a> {
    name: &'a str,
    path: String,
    service_accounts: String,
    namespaces: String,
    policies: String,
    audience: &'a str,
    token_ttl: &'a str,
    token_period: &'a str,
}

#[derive(Serialize)]
struct ScriptAudit<'a> {
    path: &'a str,
    device_type: &'a str,
    options: &'a BTreeMap<String, String>,
}

/// Builds [`ScriptContext`].
pub fn script_context<'a>(stack: &'a Stack, side: &'a VaultSide) -> ScriptContext<'a> {
    let a = &side.kubernetes_auth;
    let mut checks: Vec<String> = Vec::new();
    if let Some(ca) = a
        .ca_cert_from
        .as_deref()
        .and_then(|c| c.strip_prefix("file:"))
    {
        checks.push(format!(
            "require_file {} {}",
            shell_word(ca),
            shell_word("the cluster CA (vaultConfig.kubernetesAuth.caCertFrom)")
        ));
    }
    let reviewer_jwt = match &a.token_reviewer {
        TokenReviewer::ServiceAccount {
            jwt_from,
            name,
            namespace,
        } => {
            let s = script_secret(
                jwt_from,
                "token_reviewer_jwt",
                &format!("the token of ServiceAccount {namespace}/{name} (tokenReviewer.jwtFrom)"),
            );
            checks.push(s.check.clone());
            Some(s)
        }
        _ => None,
    };
    let or_zero = |d: &'a Option<String>| d.as_deref().unwrap_or("0");
    let jwt = super::jwt_script::methods(&side.jwt, &side.owner, &mut checks);
    let databases: Vec<ScriptDatabase> = side
        .databases
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let password = script_secret(
                &d.password_from,
                &format!("db_password_{}", i + 1),
                &format!("the admin password of database {} (passwordFrom)", d.mount),
            );
            if !d.rotate_root {
                checks.push(password.check.clone());
            }
            ScriptDatabase {
                n: i + 1,
                mount: &d.mount,
                name: &d.name,
                config_path: format!("{}/config/{}", d.mount, d.name),
                rotate_path: format!("{}/rotate-root/{}", d.mount, d.name),
                plugin_name: &d.plugin_name,
                connection_url: &d.connection_url,
                username: &d.username,
                allowed_roles: d.allowed_roles().join(","),
                password,
                rotate_root: d.rotate_root,
                roles: d
                    .roles
                    .iter()
                    .map(|r| ScriptDatabaseRole {
                        path: format!("{}/roles/{}", d.mount, r.name),
                        default_ttl: r.default_ttl.as_deref(),
                        max_ttl: r.max_ttl.as_deref(),
                        creation_statements: &r.creation_statements,
                        revocation_statements: &r.revocation_statements,
                    })
                    .collect(),
            }
        })
        .collect();
    let aws = super::cloud::script(&side.aws, &mut checks);
    let cloud_configs = super::cloud::script_configs(&side.gcp, &side.azure, &mut checks);
    ScriptContext {
        aws,
        cloud_configs,
        cluster: &stack.cluster,
        description: &side.owner,
        vault_note: stack.vault.which(&stack.cluster, &stack.operator.address),
        vault_addr: stack.vault_config.address.as_deref(),
        vault_namespace: stack.vault_namespace.as_deref(),
        checks,
        auth: ScriptAuth {
            mount: &a.mount,
            auth_path: format!("sys/auth/{}", a.mount),
            config_path: format!("auth/{}/config", a.mount),
            host: &a.host,
            ca_cert_file: a
                .ca_cert_from
                .as_deref()
                .and_then(|c| c.strip_prefix("file:")),
            disable_local_ca_jwt: a.disable_local_ca_jwt,
            reviewer_jwt,
        },
        mounts: side
            .mounts
            .iter()
            .map(|m| ScriptMount {
                path: &m.path,
                cli_type: m.engine.cli_type(),
                max_lease_ttl: m.max_lease_ttl.as_deref(),
            })
            .collect(),
        transit_keys: side
            .transit_keys
            .iter()
            .map(|k| ScriptPath {
                path: format!("{}/keys/{}", k.mount, k.name),
            })
            .collect(),
        databases,
        pki: side
            .pki
            .iter()
            .map(|p| ScriptPki {
                mount: &p.mount,
                issuers_path: format!("{}/config/issuers", p.mount),
                urls_path: format!("{}/config/urls", p.mount),
                urls: (p.urls.settings().iter())
                    .map(|(k, v)| vault_arg(k, &v.cli_value()))
                    .collect(),
                auto_tidy_path: format!("{}/config/auto-tidy", p.mount),
                auto_tidy: (p.auto_tidy.settings().iter())
                    .map(|(k, v)| vault_arg(k, &v.cli_value()))
                    .collect(),
                generate_path: format!("{}/root/generate/internal", p.mount),
                root_ca: match &p.ca {
                    Some(Ca::Root(c)) => Some(ScriptRootCa {
                        common_name: &c.common_name,
                        ttl: c.ttl.as_deref(),
                    }),
                    _ => None,
                },
                intermediate: match &p.ca {
                    Some(Ca::Intermediate(c)) => Some(ScriptIntermediate {
                        common_name: &c.common_name,
                        ttl: c.ttl.as_deref(),
                        signed_by: &c.signed_by,
                        csr_path: format!("{}/intermediate/generate/internal", p.mount),
                        sign_path: format!("{}/root/sign-intermediate", c.signed_by),
                        set_signed_path: format!("{}/intermediate/set-signed", p.mount),
                        max_path_length: c.max_path_length,
                    }),
                    _ => None,
                },
                roles: p
                    .roles
                    .iter()
                    .map(|r| ScriptPkiRole {
                        path: format!("{}/roles/{}", p.mount, r.name),
                        args: r
                            .settings()
                            .iter()
                            .map(|(k, v)| vault_arg(k, &v.cli_value()))
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
        policies: side
            .policies
            .iter()
            .map(|p| {
                let hcl = p.hcl();
                ScriptPolicy {
                    name: &p.name,
                    delimiter: heredoc_delimiter(&hcl),
                    hcl,
                }
            })
            .collect(),
        roles: side
            .roles
            .iter()
            .map(|r| ScriptRole {
                name: &r.name,
                path: format!("auth/{}/role/{}", a.mount, r.name),
                service_accounts: r.service_accounts.join(","),
                namespaces: r.namespaces.join(","),
                policies: r.policies.join(","),
                audience: &r.audience,
                token_ttl: or_zero(&r.token_ttl),
                token_period: or_zero(&r.token_period),
            })
            .collect(),
        clis: stack.vault.distribution.clis(),
        jwt,
        audit: (side.audit.iter())
            .map(|a| ScriptAudit {
                path: &a.path,
                device_type: &a.device_type,
                options: &a.options,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::side::connection_name;

    #[test]
    fn connection_names_are_names_vault_accepts() {
        assert_eq!(connection_name("db"), "db");
        assert_eq!(connection_name("teams/jobs/db"), "teams-jobs-db");
        assert_eq!(connection_name("/x/"), "x");
        assert_eq!(connection_name("//"), "database");
        assert!(crate::spec::validate::rules::is_vault_name(
            &connection_name("a b/c.")
        ));
    }

    #[test]
    fn vault_args_deliver_the_value_literally() {
        assert_eq!(vault_arg("k", "v"), "k=v");
        assert_eq!(vault_arg("k", "a b"), "'k=a b'");
        assert_eq!(vault_arg("k", "@/etc/passwd"), "'k=\\@/etc/passwd'");
        assert_eq!(vault_arg("k", "-"), "k=@<(printf '%s' -)");
        assert_eq!(vault_arg("k", "it's"), "'k=it'\\''s'");
        assert_eq!(shell_comment("a\nb"), "a\\nb");
    }
}
