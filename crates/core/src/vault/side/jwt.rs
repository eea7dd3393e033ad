//! JWT/OIDC auth methods, derived from `vaultConfig.admin` (humans: groups claim → the
//! `admin` and `operator` policies, through external identity groups) and `pipelines` (CI jobs
//! and Terraform runs: one role per pipeline, bound by claims, with a policy over exactly the
//! paths it names). One shape for both, planned by `vault::plan::jwt`.

use super::{connection_name, Policy};
use crate::model::{Grant, Stack};
use crate::spec::types as spec;
use std::collections::BTreeMap;

/// The policy of `vaultConfig.admin.adminGroups`: everything but raw storage and root tokens.
pub const ADMIN_POLICY: &str = "admin";
/// The policy of `vaultConfig.admin.operatorGroups`: read-only health, seal and raft status.
pub const OPERATOR_POLICY: &str = "operator";
/// An admin's token lifetime when the spec names none.
pub const ADMIN_TOKEN_TTL: &str = "1h";
/// A pipeline's token lifetime when the spec names none: a job's run, not a day.
pub const PIPELINE_TOKEN_TTL: &str = "15m";
/// What the admin policy always denies (beyond `extraDenies`).
pub const ADMIN_DENIES: &[&str] = &[
    "sys/raw",
    "sys/raw/*",
    "sys/generate-root",
    "sys/generate-root/*",
];
/// The group metadata key that marks an identity group as the tool's.
pub const GROUP_OWNER_KEY: &str = "managed-by";

/// One JWT or OIDC auth method: its config, its roles, the groups mapped to its accessor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtMethod {
    pub mount: String,
    /// `jwt` or `oidc`: the method's type (`vault auth enable <type>`).
    pub method_type: &'static str,
    pub config: JwtConfig,
    pub roles: Vec<JwtRole>,
    pub groups: Vec<ExternalGroup>,
}

/// `auth/<mount>/config`: where the keys come from and who issues the tokens.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JwtConfig {
    pub discovery_url: Option<String>,
    pub jwks_url: Option<String>,
    pub pubkeys: Vec<String>,
    pub bound_issuer: Option<String>,
    pub client_id: Option<String>,
    /// `env:NAME` or `file:PATH`: the OIDC client secret, resolved only when applying.
    pub client_secret_from: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtRole {
    pub name: String,
    /// `jwt` or `oidc`.
    pub role_type: &'static str,
    pub bound_audiences: Vec<String>,
    pub user_claim: String,
    pub groups_claim: Option<String>,
    pub bound_claims: BTreeMap<String, String>,
    /// `string` or `glob`.
    pub bound_claims_type: String,
    pub token_policies: Vec<String>,
    pub token_ttl: String,
    pub allowed_redirect_uris: Vec<String>,
    /// Who logs in with it, for the plan.
    pub purpose: String,
}

/// An external identity group: members of `alias` (a value of the groups claim) on the
/// method's accessor get `policies`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalGroup {
    pub name: String,
    pub alias: String,
    pub policies: Vec<String>,
}

impl JwtMethod {
    pub fn group_path(group: &ExternalGroup) -> String {
        format!("identity/group/name/{}", group.name)
    }
}

/// The default mount of a method type.
pub fn default_mount(t: spec::JwtMethodType) -> &'static str {
    match t {
        spec::JwtMethodType::Oidc => "oidc",
        spec::JwtMethodType::Jwt => "jwt",
    }
}

/// The admin section's mount.
pub fn admin_mount(a: &spec::AdminSpec) -> String {
    a.mount
        .clone()
        .unwrap_or_else(|| default_mount(a.method).into())
}

/// A pipeline's mount.
pub fn pipeline_mount(p: &spec::PipelineSpec) -> String {
    p.mount.clone().unwrap_or_else(|| "jwt".into())
}

/// A pipeline's policy name.
pub fn pipeline_policy(p: &spec::PipelineSpec) -> String {
    format!("pipeline-{}", p.name)
}

/// The kv v2 data path a pipeline's `read` entry names: `kv/data/app/config` as written,
/// `kv/app/config` with `data/` after the mount.
pub fn kv_read_path(entry: &str) -> String {
    let entry = entry.trim_matches('/');
    if entry.contains("/data/") {
        return entry.to_string();
    }
    match entry.split_once('/') {
        Some((mount, rest)) => format!("{mount}/data/{rest}"),
        None => entry.to_string(),
    }
}

/// The credentials path of an `aws:` entry `mount/role`.
pub fn aws_creds_path(entry: &str) -> String {
    match entry.trim_matches('/').rsplit_once('/') {
        Some((mount, role)) => format!("{mount}/creds/{role}"),
        None => format!("aws/creds/{entry}"),
    }
}

/// The JWT/OIDC methods of `stack`, with the policies they need added to `policies`.
pub(super) fn methods(stack: &Stack, owner: &str, policies: &mut Vec<Policy>) -> Vec<JwtMethod> {
    let mut out: Vec<JwtMethod> = Vec::new();
    let method = |out: &mut Vec<JwtMethod>, mount: String, t: &'static str, c: JwtConfig| {
        if let Some(i) = out.iter().position(|m| m.mount == mount) {
            return i;
        }
        out.push(JwtMethod {
            mount,
            method_type: t,
            config: c,
            roles: vec![],
            groups: vec![],
        });
        out.len() - 1
    };
    if let Some(a) = &stack.vault_config.admin {
        let mount = admin_mount(a);
        let (t, role_type) = match a.method {
            spec::JwtMethodType::Oidc => ("oidc", "oidc"),
            spec::JwtMethodType::Jwt => ("jwt", "jwt"),
        };
        let i = method(
            &mut out,
            mount.clone(),
            t,
            JwtConfig {
                discovery_url: a.discovery_url.clone(),
                jwks_url: a.jwks_url.clone(),
                pubkeys: a
                    .validation_pubkeys
                    .iter()
                    .map(|k| k.trim().to_string())
                    .collect(),
                bound_issuer: a.bound_issuer.clone(),
                client_id: a.client_id.clone(),
                client_secret_from: a.client_secret_from.clone(),
            },
        );
        let bound_audiences = if a.bound_audiences.is_empty() {
            a.client_id.iter().cloned().collect()
        } else {
            a.bound_audiences.clone()
        };
        out[i].roles.push(JwtRole {
            name: a.role.clone().unwrap_or_else(|| "admin".into()),
            role_type,
            bound_audiences,
            user_claim: a.user_claim.clone().unwrap_or_else(|| "sub".into()),
            groups_claim: Some(a.groups_claim.clone().unwrap_or_else(|| "groups".into())),
            bound_claims: BTreeMap::new(),
            bound_claims_type: "string".into(),
            token_policies: vec![],
            token_ttl: a
                .token_ttl
                .clone()
                .unwrap_or_else(|| ADMIN_TOKEN_TTL.into()),
            allowed_redirect_uris: a.allowed_redirect_uris.clone(),
            purpose: "humans; policies through their groups".into(),
        });
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for g in &a.admin_groups {
            groups
                .entry(g.clone())
                .or_default()
                .push(ADMIN_POLICY.into());
        }
        for g in &a.operator_groups {
            groups
                .entry(g.clone())
                .or_default()
                .push(OPERATOR_POLICY.into());
        }
        out[i].groups = groups
            .into_iter()
            .map(|(alias, mut policies)| {
                policies.dedup();
                ExternalGroup {
                    name: connection_name(&format!("{mount}-{alias}")),
                    alias,
                    policies,
                }
            })
            .collect();
        if !a.admin_groups.is_empty() {
            policies.push(admin_policy(owner, &mount, &a.extra_denies));
        }
        if !a.operator_groups.is_empty() {
            policies.push(operator_policy(owner, &mount));
        }
    }
    for p in &stack.pipelines {
        let mount = pipeline_mount(p);
        let i = method(
            &mut out,
            mount.clone(),
            "jwt",
            JwtConfig {
                discovery_url: p.discovery_url.clone(),
                jwks_url: p.jwks_url.clone(),
                pubkeys: p
                    .validation_pubkeys
                    .iter()
                    .map(|k| k.trim().to_string())
                    .collect(),
                bound_issuer: p.bound_issuer.clone(),
                client_id: None,
                client_secret_from: None,
            },
        );
        let policy = pipeline_policy(p);
        out[i].roles.push(JwtRole {
            name: p.name.clone(),
            role_type: "jwt",
            bound_audiences: p.bound_audiences.clone(),
            user_claim: p.user_claim.clone().unwrap_or_else(|| "sub".into()),
            groups_claim: None,
            bound_claims: p.bound_claims.clone(),
            bound_claims_type: p
                .bound_claims_type
                .clone()
                .unwrap_or_else(|| "string".into()),
            token_policies: vec![policy.clone()],
            token_ttl: p
                .token_ttl
                .clone()
                .unwrap_or_else(|| PIPELINE_TOKEN_TTL.into()),
            allowed_redirect_uris: vec![],
            purpose: format!("pipeline {}", p.name),
        });
        let mut grants: Vec<Grant> = (p.read.iter().map(|r| kv_read_path(r)))
            .chain(p.aws.iter().map(|a| aws_creds_path(a)))
            .map(|path| Grant {
                path,
                capabilities: vec!["read"],
            })
            .collect();
        grants.sort();
        grants.dedup();
        policies.push(Policy {
            name: policy,
            owner: owner.to_string(),
            purpose: format!("pipeline {} (jwt role {} on {mount}/)", p.name, p.name),
            grants,
        });
    }
    for m in &mut out {
        m.roles.sort_by(|a, b| a.name.cmp(&b.name));
    }
    out.sort_by(|a, b| a.mount.cmp(&b.mount));
    out
}

fn admin_policy(owner: &str, mount: &str, extra: &[String]) -> Policy {
    let mut grants = vec![Grant {
        path: "*".into(),
        capabilities: vec![
            "create", "read", "update", "patch", "delete", "list", "sudo",
        ],
    }];
    let denies = ADMIN_DENIES
        .iter()
        .map(|d| d.to_string())
        .chain(extra.iter().cloned());
    for path in denies {
        if !grants.iter().any(|g| g.path == path) {
            grants.push(Grant {
                path,
                capabilities: vec!["deny"],
            });
        }
    }
    Policy {
        name: ADMIN_POLICY.into(),
        owner: owner.to_string(),
        purpose: format!(
            "administrators (groups of auth method {mount}/): everything but raw storage and root token generation"
        ),
        grants,
    }
}

fn operator_policy(owner: &str, mount: &str) -> Policy {
    let read = |path: &str| Grant {
        path: path.into(),
        capabilities: vec!["read"],
    };
    Policy {
        name: OPERATOR_POLICY.into(),
        owner: owner.to_string(),
        purpose: format!(
            "operators (groups of auth method {mount}/): health, seal and raft status, the mounts; no secrets"
        ),
        grants: vec![
            read("sys/health"),
            read("sys/seal-status"),
            read("sys/leader"),
            read("sys/ha-status"),
            read("sys/storage/raft/configuration"),
            read("sys/storage/raft/autopilot/state"),
            read("sys/mounts"),
            read("sys/auth"),
            Grant {
                path: "sys/policies/acl".into(),
                capabilities: vec!["list"],
            },
        ],
    }
}
