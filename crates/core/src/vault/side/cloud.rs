//! The cloud secrets engines of the side: AWS (`vaultConfig.aws`).

use crate::spec::types as spec;
use std::collections::BTreeMap;

/// An AWS secrets engine: its root config and its roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsEngine {
    pub mount: String,
    /// `env:NAME` or `file:PATH`: resolved only when applying.
    pub access_key_from: String,
    pub secret_key_from: String,
    pub region: Option<String>,
    pub iam_endpoint: Option<String>,
    pub sts_endpoint: Option<String>,
    /// Rotate the root key once after writing the root config; never send the keys again.
    pub rotate_root: bool,
    pub roles: Vec<AwsRole>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsRole {
    pub name: String,
    pub credential_type: &'static str,
    /// Compact JSON, as the engine stores it.
    pub policy_document: Option<String>,
    pub policy_arns: Vec<String>,
    pub role_arns: Vec<String>,
    pub default_sts_ttl: Option<String>,
    pub max_sts_ttl: Option<String>,
}

impl AwsEngine {
    pub fn config_path(&self) -> String {
        format!("{}/config/root", self.mount)
    }
    pub fn rotate_path(&self) -> String {
        format!("{}/config/rotate-root", self.mount)
    }
    /// The root config's settings the spec names (never the keys: those are secrets).
    pub fn root_settings(&self) -> Vec<(&'static str, &str)> {
        [
            ("region", &self.region),
            ("iam_endpoint", &self.iam_endpoint),
            ("sts_endpoint", &self.sts_endpoint),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
    }
}

pub(super) fn aws(engines: &BTreeMap<String, spec::AwsSpec>) -> Vec<AwsEngine> {
    engines
        .iter()
        .map(|(mount, a)| AwsEngine {
            mount: mount.clone(),
            access_key_from: a.access_key_from.clone(),
            secret_key_from: a.secret_key_from.clone(),
            region: a.region.clone(),
            iam_endpoint: a.iam_endpoint.clone(),
            sts_endpoint: a.sts_endpoint.clone(),
            rotate_root: a.rotate_root,
            roles: a
                .roles
                .iter()
                .map(|(name, r)| AwsRole {
                    name: name.clone(),
                    credential_type: r.credential_type.as_str(),
                    policy_document: r.policy_json(),
                    policy_arns: r.policy_arns.clone(),
                    role_arns: r.role_arns.clone(),
                    default_sts_ttl: r.default_ttl.clone(),
                    max_sts_ttl: r.max_ttl.clone(),
                })
                .collect(),
        })
        .collect()
}

/// An AWS engine in `configure.sh`: its keys checked (or, with rotateRoot, only while the
/// root config does not exist) and sent on stdin as JSON, the root config written whole.
#[derive(serde::Serialize)]
pub struct ScriptAws<'a> {
    n: usize,
    mount: &'a str,
    config_path: String,
    rotate_path: String,
    rotate_root: bool,
    access_key: super::script::ScriptSecret,
    secret_key: super::script::ScriptSecret,
    /// `key=value` arguments of the settings the spec names.
    args: Vec<String>,
    /// The fields the engine would reset and the spec does not name, written back as held.
    keep: Vec<&'static str>,
    roles: Vec<ScriptAwsRole>,
}

#[derive(serde::Serialize)]
struct ScriptAwsRole {
    path: String,
    args: Vec<String>,
}

/// The script's AWS engines; adds the checks of keys it always sends to `checks`.
pub(super) fn script<'a>(engines: &'a [AwsEngine], checks: &mut Vec<String>) -> Vec<ScriptAws<'a>> {
    use super::script::{script_secret, vault_arg};
    engines
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let secret = |source: &str, var: &str, what: &str| {
                script_secret(
                    source,
                    &format!("aws_{var}_{}", i + 1),
                    &format!("the {what} of AWS engine {} ({var}From)", e.mount),
                )
            };
            let access_key = secret(&e.access_key_from, "accessKey", "access key id");
            let secret_key = secret(&e.secret_key_from, "secretKey", "secret access key");
            if !e.rotate_root {
                checks.push(access_key.check.clone());
                checks.push(secret_key.check.clone());
            }
            let named = e.root_settings();
            ScriptAws {
                n: i + 1,
                mount: &e.mount,
                config_path: e.config_path(),
                rotate_path: e.rotate_path(),
                rotate_root: e.rotate_root,
                access_key,
                secret_key,
                args: named.iter().map(|(k, v)| vault_arg(k, v)).collect(),
                keep: ROOT_FIELDS
                    .iter()
                    .copied()
                    .filter(|f| named.iter().all(|(k, _)| k != f))
                    .collect(),
                roles: e
                    .roles
                    .iter()
                    .map(|r| {
                        let mut args = vec![vault_arg("credential_type", r.credential_type)];
                        if let Some(d) = &r.policy_document {
                            args.push(vault_arg("policy_document", d));
                        }
                        args.push(vault_arg("policy_arns", &r.policy_arns.join(",")));
                        args.push(vault_arg("role_arns", &r.role_arns.join(",")));
                        for (k, v) in [
                            ("default_sts_ttl", &r.default_sts_ttl),
                            ("max_sts_ttl", &r.max_sts_ttl),
                        ] {
                            if let Some(v) = v {
                                args.push(vault_arg(k, v));
                            }
                        }
                        ScriptAwsRole {
                            path: format!("{}/roles/{}", e.mount, r.name),
                            args,
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

/// What an AWS root config holds besides its keys: the engine resets each one a write does not
/// carry, so `configure` and the script write back the ones the spec does not name.
pub const ROOT_FIELDS: &[&str] = &[
    "region",
    "iam_endpoint",
    "sts_endpoint",
    "max_retries",
    "username_template",
];

/// A Google Cloud secrets engine: its config and its rolesets and static accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcpEngine {
    pub mount: String,
    /// `env:NAME` or `file:PATH`: the service account key JSON, resolved only when applying.
    pub credentials_from: String,
    pub ttl: Option<String>,
    pub max_ttl: Option<String>,
    pub rotate_root: bool,
    pub accounts: Vec<GcpAccount>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcpAccount {
    /// `roleset` or `static-account`: the object's path under the mount.
    pub kind: &'static str,
    pub name: String,
    pub secret_type: &'static str,
    pub project: Option<String>,
    pub service_account_email: Option<String>,
    /// Resource name → IAM roles (sorted).
    pub bindings: BTreeMap<String, Vec<String>>,
    pub token_scopes: Vec<String>,
}

impl GcpAccount {
    pub fn path(&self, mount: &str) -> String {
        format!("{mount}/{}/{}", self.kind, self.name)
    }
    /// `bindings` as the engine takes it: its HCL's JSON form,
    /// `{"resource":{"NAME":{"roles":[...]}}}`.
    pub fn bindings_json(&self) -> String {
        let resources: serde_json::Map<String, serde_json::Value> = (self.bindings.iter())
            .map(|(r, roles)| (r.clone(), serde_json::json!({ "roles": roles })))
            .collect();
        serde_json::json!({ "resource": resources }).to_string()
    }
}

/// An Azure secrets engine: its service principal config and its roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureEngine {
    pub mount: String,
    pub subscription_id: String,
    pub tenant_id: String,
    pub client_id: String,
    /// `env:NAME` or `file:PATH`: resolved only when applying.
    pub client_secret_from: String,
    pub environment: Option<String>,
    pub rotate_root: bool,
    pub roles: Vec<AzureRole>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureRole {
    pub name: String,
    /// (role name, scope), in the spec's order.
    pub azure_roles: Vec<(String, String)>,
    pub ttl: Option<String>,
    pub max_ttl: Option<String>,
}

impl AzureRole {
    /// `azure_roles` as the engine takes it: a JSON list of `{role_name, scope}`.
    pub fn azure_roles_json(&self) -> String {
        serde_json::Value::from(
            (self.azure_roles.iter())
                .map(|(n, s)| serde_json::json!({"role_name": n, "scope": s}))
                .collect::<Vec<_>>(),
        )
        .to_string()
    }
}

pub(super) fn gcp(engines: &BTreeMap<String, spec::GcpSpec>) -> Vec<GcpEngine> {
    let account = |kind: &'static str, name: &String, a: &spec::GcpAccountSpec| GcpAccount {
        kind,
        name: name.clone(),
        secret_type: a.secret_type.as_str(),
        project: a.project.clone(),
        service_account_email: a.service_account_email.clone(),
        bindings: (a.bindings.iter())
            .map(|(r, roles)| {
                let mut roles = roles.clone();
                roles.sort();
                (r.clone(), roles)
            })
            .collect(),
        token_scopes: a.token_scopes.clone(),
    };
    engines
        .iter()
        .map(|(mount, g)| GcpEngine {
            mount: mount.clone(),
            credentials_from: g.credentials_from.clone(),
            ttl: g.ttl.clone(),
            max_ttl: g.max_ttl.clone(),
            rotate_root: g.rotate_root,
            accounts: (g.rolesets.iter())
                .map(|(n, a)| account("roleset", n, a))
                .chain((g.static_accounts.iter()).map(|(n, a)| account("static-account", n, a)))
                .collect(),
        })
        .collect()
}

pub(super) fn azure(engines: &BTreeMap<String, spec::AzureSpec>) -> Vec<AzureEngine> {
    engines
        .iter()
        .map(|(mount, a)| AzureEngine {
            mount: mount.clone(),
            subscription_id: a.subscription_id.clone(),
            tenant_id: a.tenant_id.clone(),
            client_id: a.client_id.clone(),
            client_secret_from: a.client_secret_from.clone(),
            environment: a.environment.clone(),
            rotate_root: a.rotate_root,
            roles: (a.roles.iter())
                .map(|(name, r)| AzureRole {
                    name: name.clone(),
                    azure_roles: (r.azure_roles.iter())
                        .map(|x| (x.role_name.clone(), x.scope.clone()))
                        .collect(),
                    ttl: r.ttl.clone(),
                    max_ttl: r.max_ttl.clone(),
                })
                .collect(),
        })
        .collect()
}

/// A GCP or Azure engine in `configure.sh`: its config with its one secret on stdin (as a
/// database connection's password: with rotateRoot only while the config does not exist),
/// then its rolesets, static accounts or roles.
#[derive(serde::Serialize)]
pub struct ScriptCloudConfig<'a> {
    /// `gcp_1`, `azure_1`: the script's variables.
    id: String,
    engine: &'static str,
    /// `GCP`, `Azure`: for comments.
    label: &'static str,
    mount: &'a str,
    config_path: String,
    rotate_path: String,
    rotate_root: bool,
    field: &'static str,
    secret: super::script::ScriptSecret,
    args: Vec<String>,
    objects: Vec<ScriptAwsRole>,
}

/// The script's GCP and Azure engines; adds the checks of secrets it always sends.
pub(super) fn script_configs<'a>(
    gcp: &'a [GcpEngine],
    azure: &'a [AzureEngine],
    checks: &mut Vec<String>,
) -> Vec<ScriptCloudConfig<'a>> {
    use super::script::{script_secret, vault_arg};
    let mut out = Vec::new();
    for (i, e) in gcp.iter().enumerate() {
        let id = format!("gcp_{}", i + 1);
        let secret = script_secret(
            &e.credentials_from,
            &format!("{id}_credentials"),
            &format!(
                "the service account key of GCP engine {} (credentialsFrom)",
                e.mount
            ),
        );
        if !e.rotate_root {
            checks.push(secret.check.clone());
        }
        let mut args = vec![];
        for (k, v) in [("ttl", &e.ttl), ("max_ttl", &e.max_ttl)] {
            if let Some(v) = v {
                args.push(vault_arg(k, v));
            }
        }
        let objects = (e.accounts.iter())
            .map(|a| {
                let mut args = vec![
                    vault_arg("secret_type", a.secret_type),
                    vault_arg("bindings", &a.bindings_json()),
                ];
                if let Some(p) = &a.project {
                    args.push(vault_arg("project", p));
                }
                if let Some(m) = &a.service_account_email {
                    args.push(vault_arg("service_account_email", m));
                }
                if !a.token_scopes.is_empty() {
                    args.push(vault_arg("token_scopes", &a.token_scopes.join(",")));
                }
                ScriptAwsRole {
                    path: a.path(&e.mount),
                    args,
                }
            })
            .collect();
        out.push(ScriptCloudConfig {
            id,
            engine: "gcp",
            label: "GCP",
            mount: &e.mount,
            config_path: format!("{}/config", e.mount),
            rotate_path: format!("{}/config/rotate-root", e.mount),
            rotate_root: e.rotate_root,
            field: "credentials",
            secret,
            args,
            objects,
        });
    }
    for (i, e) in azure.iter().enumerate() {
        let id = format!("azure_{}", i + 1);
        let secret = script_secret(
            &e.client_secret_from,
            &format!("{id}_client_secret"),
            &format!(
                "the client secret of Azure engine {} (clientSecretFrom)",
                e.mount
            ),
        );
        if !e.rotate_root {
            checks.push(secret.check.clone());
        }
        let mut args = vec![
            vault_arg("subscription_id", &e.subscription_id),
            vault_arg("tenant_id", &e.tenant_id),
            vault_arg("client_id", &e.client_id),
        ];
        if let Some(env) = &e.environment {
            args.push(vault_arg("environment", env));
        }
        let objects = (e.roles.iter())
            .map(|r| {
                let mut args = vec![vault_arg("azure_roles", &r.azure_roles_json())];
                for (k, v) in [("ttl", &r.ttl), ("max_ttl", &r.max_ttl)] {
                    if let Some(v) = v {
                        args.push(vault_arg(k, v));
                    }
                }
                ScriptAwsRole {
                    path: format!("{}/roles/{}", e.mount, r.name),
                    args,
                }
            })
            .collect();
        out.push(ScriptCloudConfig {
            id,
            engine: "azure",
            label: "Azure",
            mount: &e.mount,
            config_path: format!("{}/config", e.mount),
            rotate_path: format!("{}/rotate-root", e.mount),
            rotate_root: e.rotate_root,
            field: "client_secret",
            secret,
            args,
            objects,
        });
    }
    out
}
