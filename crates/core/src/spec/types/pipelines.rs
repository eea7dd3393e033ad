//! `pipelines`: CI jobs and Terraform runs that log in to Vault with their own identity (a JWT
//! from their CI provider) and read exactly the paths they name.

use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// One pipeline: a role on a JWT auth mount, bound by claims, with a least-privilege policy.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PipelineSpec {
    /// The role's name (its policy is `pipeline-<name>`).
    pub name: String,
    /// The JWT auth mount (default `jwt`); pipelines of one issuer share it.
    pub mount: Option<String>,
    /// The CI provider's OIDC discovery URL, e.g.
    /// `https://token.actions.githubusercontent.com` (GitHub Actions) or
    /// `https://gitlab.example.com` (GitLab CI).
    pub discovery_url: Option<String>,
    /// A JWKS URL the job tokens are checked with.
    pub jwks_url: Option<String>,
    /// Static PEM public keys the job tokens are checked with.
    #[serde(default)]
    pub validation_pubkeys: Vec<String>,
    /// The `iss` a job token must carry.
    pub bound_issuer: Option<String>,
    /// The `aud` values accepted (required).
    #[serde(default)]
    pub bound_audiences: Vec<String>,
    /// Claims a job token must carry, e.g. `repository: octo-org/app`, `ref: refs/heads/main`
    /// (required: a role without them could be used by any job of the issuer).
    #[serde(default)]
    pub bound_claims: BTreeMap<String, String>,
    /// `string` (default: exact match) or `glob` (`*` in a value matches anything).
    pub bound_claims_type: Option<String>,
    /// The claim that names the job (default `sub`).
    pub user_claim: Option<String>,
    /// The lifetime of the job's token (default `15m`).
    pub token_ttl: Option<String>,
    /// kv paths the job reads: `kv/data/app/config`, or `kv/app/config` (a kv v2 mount).
    #[serde(default)]
    pub read: Vec<String>,
    /// AWS roles the job gets credentials from: `mount/role` (`aws/creds/<role>`).
    #[serde(default)]
    pub aws: Vec<String>,
}
