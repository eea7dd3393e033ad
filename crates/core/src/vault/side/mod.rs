//! The Vault side derived from the stack: engines, kubernetes auth, policies, roles.
//!
//! Pure data. `generate` renders it for review (one HCL file per policy and a script of
//! `vault` commands); `configure` plans and applies exactly the same data through the API,
//! so what is reviewed in Git is what gets applied.

use crate::model::{CloudEngine, Grant, Source, Stack};
use crate::spec::types as spec;
use crate::spec::validate::rules::DATABASE_PLUGINS;
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
    /// The audit devices, in the spec's order ([`crate::model::audit::audit_devices`]).
    pub audit: Vec<AuditDevice>,
    /// AWS secrets engines (`vaultConfig.aws`).
    pub aws: Vec<AwsEngine>,
    pub gcp: Vec<GcpEngine>,
    pub azure: Vec<AzureEngine>,
    /// JWT/OIDC auth methods (`vaultConfig.admin`, `pipelines`), sorted by mount.
    pub jwt: Vec<JwtMethod>,
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
    Aws,
    Gcp,
    Azure,
}

impl Engine {
    /// The `type` Vault reports for the mount.
    pub fn mount_type(&self) -> &'static str {
        match self {
            Engine::Kv { .. } => "kv",
            Engine::Database => "database",
            Engine::Pki => "pki",
            Engine::Transit => "transit",
            Engine::Aws => "aws",
            Engine::Gcp => "gcp",
            Engine::Azure => "azure",
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
    pub urls: PkiUrls,
    pub auto_tidy: AutoTidy,
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
    /// `max_path_length` of its certificate (0: it signs leaves only).
    pub max_path_length: u32,
}

/// `config/urls` of a PKI mount: where clients fetch the CA and its CRL, named in the
/// certificates it issues (`urls.base`, else the operator's address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkiUrls {
    pub issuing_certificates: String,
    pub crl_distribution_points: String,
}

impl PkiUrls {
    pub fn settings(&self) -> Vec<(&'static str, Setting)> {
        vec![
            (
                "issuing_certificates",
                Setting::List(vec![self.issuing_certificates.clone()]),
            ),
            (
                "crl_distribution_points",
                Setting::List(vec![self.crl_distribution_points.clone()]),
            ),
        ]
    }
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
    /// Safe by default: no IP SANs, no `localhost`, no wildcards unless the spec asks.
    pub allow_ip_sans: bool,
    pub allow_localhost: bool,
    pub allow_wildcard_certificates: bool,
    /// Only where the spec names them (the role cert-manager signs with: `require_cn` false
    /// unless named); otherwise Vault's value, or one set by hand, stays.
    pub key_type: Option<String>,
    pub key_bits: Option<u32>,
    pub server_flag: Option<bool>,
    pub client_flag: Option<bool>,
    pub no_store: Option<bool>,
    pub require_cn: Option<bool>,
}

impl PkiRole {
    /// The role's settings the spec manages, in the order they are written: the fields it
    /// names (and the defaults the tool decides). Every other field of the role is Vault's or
    /// the operator's: `configure` and the script never send it, so it keeps its value.
    pub fn settings(&self) -> Vec<(&'static str, Setting)> {
        let mut out = vec![
            (
                "allowed_domains",
                Setting::List(self.allowed_domains.clone()),
            ),
            ("allow_subdomains", Setting::Bool(self.allow_subdomains)),
            ("allow_bare_domains", Setting::Bool(self.allow_bare_domains)),
        ];
        if let Some(t) = &self.max_ttl {
            out.push(("max_ttl", Setting::Duration(t.clone())));
        }
        out.extend([
            ("allow_ip_sans", Setting::Bool(self.allow_ip_sans)),
            ("allow_localhost", Setting::Bool(self.allow_localhost)),
            (
                "allow_wildcard_certificates",
                Setting::Bool(self.allow_wildcard_certificates),
            ),
        ]);
        if let Some(t) = &self.key_type {
            out.push(("key_type", Setting::Text(t.clone())));
        }
        if let Some(b) = self.key_bits {
            out.push(("key_bits", Setting::Int(b.into())));
        }
        for (name, flag) in [
            ("server_flag", self.server_flag),
            ("client_flag", self.client_flag),
            ("no_store", self.no_store),
            ("require_cn", self.require_cn),
        ] {
            if let Some(b) = flag {
                out.push((name, Setting::Bool(b)));
            }
        }
        out
    }
}

/// `config/auto-tidy` of a PKI mount: what is removed from storage, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoTidy {
    pub enabled: bool,
    pub interval: String,
    pub safety_buffer: String,
}

/// How often auto-tidy runs, and how long after expiry it removes a certificate.
pub const AUTO_TIDY_INTERVAL: &str = "12h";
pub const AUTO_TIDY_SAFETY_BUFFER: &str = "72h";

impl AutoTidy {
    /// On: expired certificates and revoked ones are removed after the safety buffer. Off:
    /// only `enabled: false` (the rest stays as Vault holds it).
    pub fn settings(&self) -> Vec<(&'static str, Setting)> {
        if !self.enabled {
            return vec![("enabled", Setting::Bool(false))];
        }
        vec![
            ("enabled", Setting::Bool(true)),
            ("tidy_cert_store", Setting::Bool(true)),
            ("tidy_revoked_certs", Setting::Bool(true)),
            (
                "interval_duration",
                Setting::Duration(self.interval.clone()),
            ),
            (
                "safety_buffer",
                Setting::Duration(self.safety_buffer.clone()),
            ),
        ]
    }
}

/// One field of a Vault object as the spec sets it: how `configure` compares it with what
/// Vault holds and how the script writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    Bool(bool),
    Int(u64),
    Text(String),
    /// A Vault duration (`72h`): Vault answers in seconds.
    Duration(String),
    /// Written as one comma-separated value.
    List(Vec<String>),
}

impl Setting {
    /// The value as one `key=value` argument of the vault CLI takes it.
    pub fn cli_value(&self) -> String {
        match self {
            Setting::Bool(b) => b.to_string(),
            Setting::Int(n) => n.to_string(),
            Setting::Text(t) | Setting::Duration(t) => t.clone(),
            Setting::List(l) => l.join(","),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitKey {
    pub mount: String,
    pub name: String,
}

pub use crate::model::audit::AuditDevice;

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
    for name in vc.aws.keys() {
        add_mount(name, Engine::Aws, None);
    }
    for name in vc.gcp.keys() {
        add_mount(name, Engine::Gcp, None);
    }
    for name in vc.azure.keys() {
        add_mount(name, Engine::Azure, None);
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
                Source::Cloud { engine, mount, .. } => add_mount(
                    mount,
                    match engine {
                        CloudEngine::Aws => Engine::Aws,
                        CloudEngine::Gcp => Engine::Gcp,
                        CloudEngine::Azure => Engine::Azure,
                    },
                    None,
                ),
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
    if let Some(b) = &stack.backup {
        let (policy, role) = backup_access(b, &owner, &stack.vault.namespace);
        policies.push(policy);
        roles.push(role);
    }
    let jwt = jwt::methods(stack, &owner, &mut policies);
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
            urls: {
                let base = (p.urls.as_ref().map(|u| u.base.trim_end_matches('/')))
                    .unwrap_or(&stack.operator.address);
                PkiUrls {
                    issuing_certificates: format!("{base}/v1/{mount}/ca"),
                    crl_distribution_points: format!("{base}/v1/{mount}/crl"),
                }
            },
            auto_tidy: AutoTidy {
                enabled: p.auto_tidy.as_ref().and_then(|t| t.enabled).unwrap_or(true),
                interval: (p.auto_tidy.as_ref().and_then(|t| t.interval.clone()))
                    .unwrap_or_else(|| AUTO_TIDY_INTERVAL.into()),
                safety_buffer: (p.auto_tidy.as_ref().and_then(|t| t.safety_buffer.clone()))
                    .unwrap_or_else(|| AUTO_TIDY_SAFETY_BUFFER.into()),
            },
            ca: match (&p.root_ca, &p.intermediate_ca) {
                (Some(c), _) => Some(Ca::Root(RootCa {
                    common_name: c.common_name.clone(),
                    ttl: c.ttl.clone(),
                })),
                (None, Some(c)) => Some(Ca::Intermediate(IntermediateCa {
                    common_name: c.common_name.clone(),
                    ttl: c.ttl.clone(),
                    signed_by: c.signed_by.clone(),
                    max_path_length: c.max_path_length.unwrap_or(0),
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
                    allow_ip_sans: r.allow_ip_sans.unwrap_or(false),
                    allow_localhost: r.allow_localhost.unwrap_or(false),
                    allow_wildcard_certificates: r.allow_wildcard_certificates.unwrap_or(false),
                    key_type: r.key_type.clone(),
                    key_bits: r.key_bits,
                    server_flag: r.server_flag,
                    client_flag: r.client_flag,
                    no_store: r.no_store,
                    // cert-manager sends CSRs without a common name (ingress-shim).
                    require_cn: r.require_cn.or_else(|| {
                        stack
                            .cert_manager
                            .as_ref()
                            .filter(|cm| cm.mount == *mount && cm.pki_role == *name)
                            .map(|_| false)
                    }),
                })
                .collect(),
        })
        .collect();
    pki.sort_by_key(PkiMount::order);
    // OpenBao takes its audit devices in the server configuration only (the tree writes them
    // there): neither `configure` nor the script asks its API for one.
    let audit = if stack.vault.distribution.audit_in_config() {
        vec![]
    } else {
        crate::model::audit::audit_devices(vc)
    };
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
        aws: cloud::aws(&vc.aws),
        gcp: cloud::gcp(&vc.gcp),
        azure: cloud::azure(&vc.azure),
        jwt,
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

mod cloud;
pub mod jwt;
mod jwt_script;
mod script;
pub use cloud::{AwsEngine, AwsRole, AzureEngine, AzureRole, GcpAccount, GcpEngine, ROOT_FIELDS};
pub use jwt::{ExternalGroup, JwtConfig, JwtMethod, JwtRole};
pub use script::{script_context, shell_comment, shell_word, vault_arg, ScriptContext};

/// The backup CronJob's policy (exactly `read` on the snapshot) and its kubernetes-auth role,
/// bound to its own ServiceAccount in Vault's namespace; a short token, one per run.
fn backup_access(b: &crate::model::Backup, owner: &str, namespace: &str) -> (Policy, AuthRole) {
    (
        Policy {
            name: b.policy.clone(),
            owner: owner.to_string(),
            purpose: format!(
                "the backup CronJob {namespace}/{} (kubernetes-auth role {})",
                b.name, b.name
            ),
            grants: vec![Grant {
                path: crate::model::SNAPSHOT_PATH.into(),
                capabilities: vec!["read"],
            }],
        },
        AuthRole {
            name: b.name.clone(),
            service_accounts: vec![b.name.clone()],
            namespaces: vec![namespace.to_string()],
            policies: vec![b.policy.clone()],
            audience: b.audience.clone(),
            token_ttl: Some(BACKUP_TOKEN_TTL.into()),
            token_period: None,
        },
    )
}

/// The lifetime of the backup job's token: one snapshot, then it expires.
pub const BACKUP_TOKEN_TTL: &str = "15m";
