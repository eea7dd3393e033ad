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
