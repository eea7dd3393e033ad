//! The Vault side derived from the stack: engines, kubernetes auth, policies, roles.
//!
//! Pure data. `generate` renders it for review (one HCL file per policy and a script of
//! `vault` commands); `configure` plans and applies exactly the same data through the API,
//! so what is reviewed in Git is what gets applied.

use crate::model::{Grant, Source, Stack};
use crate::spec::types as spec;
use crate::spec::validate::rules::DATABASE_PLUGINS;
use serde::Serialize;
use std::collections::BTreeMap;

/// Marks what the tool owns in Vault (mount descriptions, policy headers).
pub const OWNER_MARK: &str = "managed by kubectl-vault";

/// The ServiceAccount whose JWT a Vault outside the cluster reviews tokens with
/// (`tokenReviewer: {mode: serviceAccount}`), in the Vault namespace (the operator's in a
/// cluster that runs no Vault).
pub const REVIEWER_SERVICE_ACCOUNT: &str = "vault-token-reviewer";

/// The lifetime of cert-manager's token: it logs in again for each certificate it signs.
pub const CERT_MANAGER_TOKEN_TTL: &str = "10m";

/// The lifetime of an app's token when the spec names none (`vaultConfig.tokenPeriod`).
pub const DEFAULT_TOKEN_PERIOD: &str = "1h";

/// What this stack's mounts, auth methods and policies carry: [`OWNER_MARK`] and the cluster,
/// so that clean-up only ever removes what this spec created.
pub fn owner_tag(cluster: &str) -> String {
    format!("{OWNER_MARK} for cluster {cluster}")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultSide {
    /// [`owner_tag`] of the stack's cluster.
    pub owner: String,
    pub kubernetes_auth: KubernetesAuth,
    /// Secrets engines, keyed and sorted by mount path.
    pub mounts: Vec<Mount>,
    pub policies: Vec<Policy>,
    pub roles: Vec<AuthRole>,
    pub databases: Vec<DatabaseConnection>,
    pub pki: Vec<PkiMount>,
    pub transit_keys: Vec<TransitKey>,
    pub audit: Option<AuditDevice>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubernetesAuth {
    pub mount: String,
    /// `None` when the spec has no `vaultConfig.kubernetesAuth` (Vault in the cluster, default host).
    pub host: String,
    pub ca_cert_from: Option<String>,
    pub disable_local_ca_jwt: bool,
    pub token_reviewer: TokenReviewer,
}

/// Which JWT Vault presents to the API server's TokenReview endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenReviewer {
    /// Vault's own pod token (Vault in the cluster; the chart binds it to system:auth-delegator).
    Local,
    /// The generated reviewer ServiceAccount's JWT, from `env:NAME` or `file:PATH`.
    ServiceAccount {
        namespace: String,
        name: String,
        jwt_from: String,
    },
    /// Each client's own JWT (every app's ServiceAccount is bound to system:auth-delegator).
    Client { api_audience: String },
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Engine {
    Kv { version: u8 },
    Database,
    Pki,
    Transit,
}

impl Engine {
    /// The `type` Vault reports for the mount.
    pub fn mount_type(&self) -> &'static str {
        match self {
            Engine::Kv { .. } => "kv",
            Engine::Database => "database",
            Engine::Pki => "pki",
            Engine::Transit => "transit",
        }
    }
    /// The argument of `vault secrets enable`.
    pub fn cli_type(&self) -> &'static str {
        match self {
            Engine::Kv { version: 1 } => "kv",
            Engine::Kv { .. } => "kv-v2",
            other => other.mount_type(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub path: String,
    pub engine: Engine,
    /// e.g. PKI `max_lease_ttl`.
    pub max_lease_ttl: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub name: String,
    /// [`owner_tag`]: the header's first words.
    pub owner: String,
    /// Who the policy is for, for the header comment.
    pub purpose: String,
    pub grants: Vec<Grant>,
}

impl Policy {
    /// The policy as HCL, with an ownership header. Byte-stable: `configure` compares it.
    pub fn hcl(&self) -> String {
        let mut out = format!("# {}: {}\n", self.owner, self.purpose);
        for g in &self.grants {
            let caps: Vec<String> = g.capabilities.iter().map(|c| format!("\"{c}\"")).collect();
            out.push_str(&format!(
                "\npath \"{}\" {{\n  capabilities = [{}]\n}}\n",
                g.path,
                caps.join(", ")
            ));
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRole {
    pub name: String,
    pub service_accounts: Vec<String>,
    pub namespaces: Vec<String>,
    pub policies: Vec<String>,
    pub audience: String,
    /// Both renewable without a maximum: `token_period` (apps: `vaultConfig.tokenPeriod`; the
    /// operator: 24h, its cache must outlive restarts). `token_ttl` is written as 0.
    pub token_ttl: Option<String>,
    pub token_period: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseConnection {
    pub mount: String,
    /// The connection's name under `MOUNT/config/` (`connectionName`, or the mount made into
    /// a name Vault accepts).
    pub name: String,
    pub plugin_name: String,
    pub connection_url: String,
    pub username: String,
    /// `env:NAME` or `file:PATH`: resolved only when applying.
    pub password_from: String,
    /// Rotate the admin password once after creating the connection; never send it again.
    pub rotate_root: bool,
    pub roles: Vec<DatabaseRole>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseRole {
    pub name: String,
    pub default_ttl: Option<String>,
    pub max_ttl: Option<String>,
    pub creation_statements: Vec<String>,
    pub revocation_statements: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkiMount {
    pub mount: String,
    /// The CA the tool makes while the mount has no issuer (none: the user brings one).
    pub ca: Option<Ca>,
    pub roles: Vec<PkiRole>,
}

/// How a PKI mount gets its CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ca {
    /// Self-signed, generated inside the mount (`rootCA`).
    Root(RootCa),
    /// A CSR generated inside the mount, signed by another mount's root (`intermediateCA`).
    Intermediate(IntermediateCa),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootCa {
    pub common_name: String,
    pub ttl: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntermediateCa {
    pub common_name: String,
    pub ttl: Option<String>,
    /// The mount whose root CA signs it.
    pub signed_by: String,
    /// `config/urls`: where clients fetch the CA and its CRL (the Vault address apps use).
    pub issuing_certificates: String,
    pub crl_distribution_points: String,
}

impl PkiMount {
    /// Intermediates after the roots they need: the root exists before it signs.
    fn order(&self) -> u8 {
        match self.ca {
            Some(Ca::Intermediate(_)) => 1,
            _ => 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkiRole {
    pub name: String,
    pub allowed_domains: Vec<String>,
    pub allow_subdomains: bool,
    pub allow_bare_domains: bool,
    pub max_ttl: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitKey {
    pub mount: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditDevice {
    pub path: String,
    pub device_type: String,
    pub options: BTreeMap<String, String>,
}

/// Derives the Vault side of `stack`.
pub fn derive(stack: &Stack) -> VaultSide {
    let vc = &stack.vault_config;
    let owner = owner_tag(&stack.cluster);
    let kubernetes_auth = match &vc.kubernetes_auth {
        Some(k) => KubernetesAuth {
            mount: stack.auth_mount.clone(),
            host: k.host.clone(),
            ca_cert_from: k.ca_cert_from.clone(),
            disable_local_ca_jwt: k.disable_local_ca_jwt,
            token_reviewer: token_reviewer(stack, k.token_reviewer.as_ref()),
        },
        None => KubernetesAuth {
            mount: stack.auth_mount.clone(),
            host: "https://kubernetes.default.svc:443".into(),
            ca_cert_from: None,
            disable_local_ca_jwt: false,
            token_reviewer: TokenReviewer::Local,
        },
    };
    let token_period = vc
        .token_period
        .clone()
        .unwrap_or_else(|| DEFAULT_TOKEN_PERIOD.into());

    let mut mounts: BTreeMap<String, Mount> = BTreeMap::new();
    let mut add_mount = |path: &str, engine: Engine, max_lease_ttl: Option<String>| {
        mounts.entry(path.to_string()).or_insert(Mount {
            path: path.to_string(),
            engine,
            max_lease_ttl,
        });
    };
    for (name, db) in &vc.databases {
        let _ = db;
        add_mount(name, Engine::Database, None);
    }
    for (name, pki) in &vc.pki {
        add_mount(
            name,
            Engine::Pki,
            pki.max_lease_ttl.clone().or_else(|| {
                (pki.root_ca.as_ref().and_then(|c| c.ttl.clone()))
                    .or_else(|| pki.intermediate_ca.as_ref().and_then(|c| c.ttl.clone()))
            }),
        );
    }
    for app in &stack.apps {
        for s in &app.secrets {
            match &s.source {
                Source::Kv { mount, version, .. } => {
                    add_mount(mount, Engine::Kv { version: *version }, None)
                }
                Source::Database { mount, .. } => add_mount(mount, Engine::Database, None),
                Source::Pki { mount, .. } => add_mount(mount, Engine::Pki, None),
                // A generic dynamic path names no engine type: its mount must already exist.
                Source::Dynamic { .. } => {}
            }
        }
    }
    let mut transit_keys = Vec::new();
    let mut policies = Vec::new();
    let mut roles = Vec::new();
    if let Some(cc) = &stack.operator.client_cache {
        add_mount(&cc.transit_mount, Engine::Transit, None);
        transit_keys.push(TransitKey {
            mount: cc.transit_mount.clone(),
            name: cc.key_name.clone(),
        });
        policies.push(Policy {
            name: cc.policy.clone(),
            owner: owner.clone(),
            purpose: format!(
                "the Vault Secrets Operator's client cache, encrypted with transit key {}/{} (kubernetes-auth role {})",
                cc.transit_mount, cc.key_name, cc.role
            ),
            grants: vec![
                Grant {
                    path: format!("{}/encrypt/{}", cc.transit_mount, cc.key_name),
                    capabilities: vec!["create", "update"],
                },
                Grant {
                    path: format!("{}/decrypt/{}", cc.transit_mount, cc.key_name),
                    capabilities: vec!["create", "update"],
                },
            ],
        });
        roles.push(AuthRole {
            name: cc.role.clone(),
            service_accounts: vec![stack.operator.service_account.clone()],
            namespaces: vec![stack.operator.namespace.clone()],
            policies: vec![cc.policy.clone()],
            audience: cc.audiences[0].clone(),
            token_ttl: None,
            token_period: Some("24h".into()),
        });
    }
    if let Some(cm) = &stack.cert_manager {
        add_mount(&cm.mount, Engine::Pki, None);
        policies.push(Policy {
            name: cm.policy.clone(),
            owner: owner.clone(),
            purpose: format!(
                "cert-manager {} {} signing with {} (kubernetes-auth role {})",
                match cm.kind {
                    spec::IssuerKind::Issuer => "Issuer",
                    spec::IssuerKind::ClusterIssuer => "ClusterIssuer",
                },
                match cm.kind {
                    spec::IssuerKind::Issuer =>
                        format!("{}/{}", cm.service_account_namespace, cm.name),
                    spec::IssuerKind::ClusterIssuer => cm.name.clone(),
                },
                cm.sign_path(),
                cm.role
            ),
            grants: vec![Grant {
                path: cm.sign_path(),
                capabilities: vec!["update"],
            }],
        });
        roles.push(AuthRole {
            name: cm.role.clone(),
            service_accounts: vec![cm.service_account.clone()],
            namespaces: vec![cm.service_account_namespace.clone()],
            policies: vec![cm.policy.clone()],
            audience: cm.audience.clone(),
            // cert-manager logs in for each signing: a short token, never renewed.
            token_ttl: Some(CERT_MANAGER_TOKEN_TTL.into()),
            token_period: None,
        });
    }
    for app in &stack.apps {
        let mut grants: Vec<Grant> = app.secrets.iter().map(|s| s.source.grant()).collect();
        grants.sort();
        grants.dedup();
        policies.push(Policy {
            name: app.policy.clone(),
            owner: owner.clone(),
            purpose: format!(
                "app {} in namespace {} (kubernetes-auth role {})",
                app.name, app.namespace, app.role
            ),
            grants,
        });
        roles.push(AuthRole {
            name: app.role.clone(),
            service_accounts: vec![app.service_account.clone()],
            namespaces: vec![app.namespace.clone()],
            policies: vec![app.policy.clone()],
            audience: app.audiences[0].clone(),
            token_ttl: None,
            token_period: Some(token_period.clone()),
        });
    }
    policies.sort_by(|a, b| a.name.cmp(&b.name));
    roles.sort_by(|a, b| a.name.cmp(&b.name));

    let databases = vc
        .databases
        .iter()
        .map(|(mount, db)| database(mount, db))
        .collect();
    let mut pki: Vec<PkiMount> = vc
        .pki
        .iter()
        .map(|(mount, p)| PkiMount {
            mount: mount.clone(),
            ca: match (&p.root_ca, &p.intermediate_ca) {
                (Some(c), _) => Some(Ca::Root(RootCa {
                    common_name: c.common_name.clone(),
                    ttl: c.ttl.clone(),
                })),
                (None, Some(c)) => Some(Ca::Intermediate(IntermediateCa {
                    common_name: c.common_name.clone(),
                    ttl: c.ttl.clone(),
                    signed_by: c.signed_by.clone(),
                    issuing_certificates: format!("{}/v1/{mount}/ca", stack.operator.address),
                    crl_distribution_points: format!("{}/v1/{mount}/crl", stack.operator.address),
                })),
                (None, None) => None,
            },
            roles: p
                .roles
                .iter()
                .map(|(name, r)| PkiRole {
                    name: name.clone(),
                    allowed_domains: r.allowed_domains.clone(),
                    allow_subdomains: r.allow_subdomains,
                    allow_bare_domains: r.allow_bare_domains,
                    max_ttl: r.max_ttl.clone(),
                })
                .collect(),
        })
        .collect();
    pki.sort_by_key(PkiMount::order);
    let audit = vc.audit.as_ref().map(|a| AuditDevice {
        path: a.path.clone().unwrap_or_else(|| "file".into()),
        device_type: a.device_type.clone().unwrap_or_else(|| "file".into()),
        options: if a.options.is_empty() && a.device_type.as_deref().unwrap_or("file") == "file" {
            BTreeMap::from([("file_path".to_string(), "stdout".to_string())])
        } else {
            a.options.clone()
        },
    });
    VaultSide {
        owner,
        kubernetes_auth,
        mounts: mounts.into_values().collect(),
        policies,
        roles,
        databases,
        pki,
        transit_keys,
        audit,
    }
}

fn database(mount: &str, db: &spec::DatabaseSpec) -> DatabaseConnection {
    let plugin_name = DATABASE_PLUGINS
        .iter()
        .find(|(p, _)| *p == db.plugin)
        .map(|(_, v)| v.to_string())
        .unwrap_or_else(|| format!("{}-database-plugin", db.plugin));
    DatabaseConnection {
        mount: mount.to_string(),
        name: db
            .connection_name
            .clone()
            .unwrap_or_else(|| connection_name(mount)),
        plugin_name,
        connection_url: db.connection_url.clone(),
        username: db.username.clone(),
        password_from: db.password_from.clone(),
        rotate_root: db.rotate_root,
        roles: db
            .roles
            .iter()
            .map(|(name, r)| DatabaseRole {
                name: name.clone(),
                default_ttl: r.default_ttl.clone(),
                max_ttl: r.max_ttl.clone(),
                creation_statements: r.creation_statements.clone(),
                revocation_statements: r.revocation_statements.clone(),
            })
            .collect(),
    }
}

impl DatabaseConnection {
    /// The roles allowed to use this connection (all of the spec's roles for it).
    pub fn allowed_roles(&self) -> Vec<String> {
        self.roles.iter().map(|r| r.name.clone()).collect()
    }
}

fn token_reviewer(stack: &Stack, spec: Option<&spec::TokenReviewerSpec>) -> TokenReviewer {
    match spec {
        None => TokenReviewer::Local,
        Some(r) => match r.mode {
            spec::TokenReviewerMode::ServiceAccount => TokenReviewer::ServiceAccount {
                // Where the tree creates it: beside Vault, or (no Vault here) the operator.
                namespace: if stack.vault.deploy {
                    stack.vault.namespace.clone()
                } else {
                    stack.operator.namespace.clone()
                },
                name: REVIEWER_SERVICE_ACCOUNT.into(),
                jwt_from: r.jwt_from.clone().unwrap_or_default(),
            },
            spec::TokenReviewerMode::Client => TokenReviewer::Client {
                api_audience: r
                    .api_audience
                    .clone()
                    .unwrap_or_else(|| crate::model::defaults::DEFAULT_API_AUDIENCE.into()),
            },
        },
    }
}

/// The default connection name for a database mount: Vault names connections with
/// `\w(([\w-.]+)?\w)?`, so `teams/jobs/db` becomes `teams-jobs-db`.
pub fn connection_name(mount: &str) -> String {
    let replaced: String = mount
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = replaced.trim_matches(|c| c == '-' || c == '.');
    if trimmed.is_empty() {
        "database".into()
    } else {
        trimmed.to_string()
    }
}

// ---------- the generated script ----------

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
    check: String,
    value: String,
}

fn script_secret(source: &str, var: &str, what: &str) -> ScriptSecret {
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
fn heredoc_delimiter(text: &str) -> String {
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
    checks: Vec<String>,
    auth: ScriptAuth<'a>,
    mounts: Vec<ScriptMount<'a>>,
    transit_keys: Vec<ScriptPath>,
    databases: Vec<ScriptDatabase<'a>>,
    pki: Vec<ScriptPki<'a>>,
    policies: Vec<ScriptPolicy<'a>>,
    roles: Vec<ScriptRole<'a>>,
    audit: Option<ScriptAudit<'a>>,
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
    default_ttl: &'a str,
    max_ttl: &'a str,
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
    roles: Vec<ScriptPkiRole<'a>>,
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
    urls_path: String,
    issuing_certificates: &'a str,
    crl_distribution_points: &'a str,
}

#[derive(Serialize)]
struct ScriptRootCa<'a> {
    common_name: &'a str,
    ttl: Option<&'a str>,
}

#[derive(Serialize)]
struct ScriptPkiRole<'a> {
    path: String,
    allowed_domains: String,
    allow_subdomains: bool,
    allow_bare_domains: bool,
    max_ttl: Option<&'a str>,
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
                        default_ttl: or_zero(&r.default_ttl),
                        max_ttl: or_zero(&r.max_ttl),
                        creation_statements: &r.creation_statements,
                        revocation_statements: &r.revocation_statements,
                    })
                    .collect(),
            }
        })
        .collect();
    ScriptContext {
        cluster: &stack.cluster,
        description: &side.owner,
        vault_note: stack.vault.which(&stack.cluster, &stack.operator.address),
        vault_addr: stack.vault_config.address.as_deref(),
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
                        urls_path: format!("{}/config/urls", p.mount),
                        issuing_certificates: &c.issuing_certificates,
                        crl_distribution_points: &c.crl_distribution_points,
                    }),
                    _ => None,
                },
                roles: p
                    .roles
                    .iter()
                    .map(|r| ScriptPkiRole {
                        path: format!("{}/roles/{}", p.mount, r.name),
                        allowed_domains: r.allowed_domains.join(","),
                        allow_subdomains: r.allow_subdomains,
                        allow_bare_domains: r.allow_bare_domains,
                        max_ttl: r.max_ttl.as_deref(),
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
        audit: side.audit.as_ref().map(|a| ScriptAudit {
            path: &a.path,
            device_type: &a.device_type,
            options: &a.options,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
