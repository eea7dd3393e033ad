//! The Vault side derived from the stack: engines, kubernetes auth, policies, roles.
//!
//! Pure data. `generate` renders it for review (one HCL file per policy and a script of
//! `vault` commands); `configure` plans and applies exactly the same data through the API,
//! so what is reviewed in Git is what gets applied.

use crate::model::{Grant, Source, Stack};
use crate::spec::types as spec;
use crate::spec::validate::DATABASE_PLUGINS;
use std::collections::BTreeMap;

/// Marks what the tool owns in Vault (mount descriptions, policy headers).
pub const OWNER_MARK: &str = "managed by kubectl-vault";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultSide {
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
    /// Who the policy is for, for the header comment.
    pub purpose: String,
    pub grants: Vec<Grant>,
}

impl Policy {
    /// The policy as HCL, with an ownership header. Byte-stable: `configure` compares it.
    pub fn hcl(&self) -> String {
        let mut out = format!("# {OWNER_MARK}: {}\n", self.purpose);
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
    /// `token_ttl` for apps, `token_period` for the operator (its cache must outlive restarts).
    pub token_ttl: Option<String>,
    pub token_period: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseConnection {
    pub mount: String,
    /// The connection's name under `MOUNT/config/` (the spec's key).
    pub name: String,
    pub plugin_name: String,
    pub connection_url: String,
    pub username: String,
    /// `env:NAME` or `file:PATH`: resolved only when applying.
    pub password_from: String,
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
    pub root_ca: Option<RootCa>,
    pub roles: Vec<PkiRole>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootCa {
    pub common_name: String,
    pub ttl: Option<String>,
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
    let kubernetes_auth = match &vc.kubernetes_auth {
        Some(k) => KubernetesAuth {
            mount: stack.auth_mount.clone(),
            host: k.host.clone(),
            ca_cert_from: k.ca_cert_from.clone(),
            disable_local_ca_jwt: k.disable_local_ca_jwt,
        },
        None => KubernetesAuth {
            mount: stack.auth_mount.clone(),
            host: "https://kubernetes.default.svc:443".into(),
            ca_cert_from: None,
            disable_local_ca_jwt: false,
        },
    };

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
            pki.max_lease_ttl
                .clone()
                .or_else(|| pki.root_ca.as_ref().and_then(|c| c.ttl.clone())),
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
            purpose: format!(
                "the Vault Secrets Operator's client cache, encrypted with transit key {}/{}",
                cc.transit_mount, cc.key_name
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
    for app in &stack.apps {
        let mut grants: Vec<Grant> = app.secrets.iter().map(|s| s.source.grant()).collect();
        grants.sort();
        grants.dedup();
        policies.push(Policy {
            name: app.policy.clone(),
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
            token_ttl: Some("1h".into()),
            token_period: None,
        });
    }
    policies.sort_by(|a, b| a.name.cmp(&b.name));
    roles.sort_by(|a, b| a.name.cmp(&b.name));

    let databases = vc
        .databases
        .iter()
        .map(|(mount, db)| database(mount, db))
        .collect();
    let pki = vc
        .pki
        .iter()
        .map(|(mount, p)| PkiMount {
            mount: mount.clone(),
            root_ca: p.root_ca.as_ref().map(|c| RootCa {
                common_name: c.common_name.clone(),
                ttl: c.ttl.clone(),
            }),
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
        name: mount.to_string(),
        plugin_name,
        connection_url: db.connection_url.clone(),
        username: db.username.clone(),
        password_from: db.password_from.clone(),
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

    /// The shell expression that yields the password in the generated script.
    pub fn password_shell(&self) -> String {
        match self.password_from.split_once(':') {
            Some(("env", name)) => {
                format!("\"${{{name}:?set {name} to the database admin password}}\"")
            }
            Some(("file", path)) => format!("\"$(cat '{}')\"", path.replace('\'', "'\\''")),
            _ => "\"${DB_PASSWORD:?}\"".into(),
        }
    }
}
