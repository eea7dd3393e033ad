//! `vaultConfig.admin`: how humans administer Vault without the root token: an OIDC or JWT
//! auth method whose groups claim maps to the `admin` and `operator` policies the tool writes.

use schemars::JsonSchema;
use serde::Deserialize;

/// The kind of a JWT/OIDC auth method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum JwtMethodType {
    /// Browser login through an OIDC provider (`vault login -method=oidc`).
    Oidc,
    /// A signed JWT presented to `auth/<mount>/login`.
    Jwt,
}

/// `vaultConfig.admin`: an OIDC or JWT auth method for humans, whose groups map to policies.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdminSpec {
    /// `oidc` (browser login) or `jwt` (a signed token presented to the login endpoint).
    #[serde(rename = "type")]
    pub method: JwtMethodType,
    /// The auth mount (default `oidc` for `type: oidc`, `jwt` for `type: jwt`).
    pub mount: Option<String>,
    /// The issuer's OIDC discovery URL (its keys and, for OIDC, its endpoints).
    pub discovery_url: Option<String>,
    /// A JWKS URL the JWT signatures are checked with (`type: jwt`).
    pub jwks_url: Option<String>,
    /// Static PEM public keys the JWT signatures are checked with (`type: jwt`).
    #[serde(default)]
    pub validation_pubkeys: Vec<String>,
    /// The `iss` a JWT must carry (with `jwksUrl` or `validationPubkeys`).
    pub bound_issuer: Option<String>,
    /// The `aud` values accepted (for `type: oidc`, default the client id).
    #[serde(default)]
    pub bound_audiences: Vec<String>,
    /// The claim that names the user (default `sub`).
    pub user_claim: Option<String>,
    /// The claim that lists the user's groups (default `groups`).
    pub groups_claim: Option<String>,
    /// The OIDC client id (`type: oidc`).
    pub client_id: Option<String>,
    /// `env:NAME` or `file:PATH`: the OIDC client secret (`type: oidc`); resolved only by
    /// `configure`, never written anywhere.
    pub client_secret_from: Option<String>,
    /// Where the OIDC provider may send the browser back (`type: oidc`), e.g.
    /// `http://localhost:8250/oidc/callback` for the CLI.
    #[serde(default)]
    pub allowed_redirect_uris: Vec<String>,
    /// The role humans log in with (default `admin`).
    pub role: Option<String>,
    /// The lifetime of an admin's token (default `1h`).
    pub token_ttl: Option<String>,
    /// Values of the groups claim whose members get the `admin` policy.
    #[serde(default)]
    pub admin_groups: Vec<String>,
    /// Values of the groups claim whose members get the read-only `operator` policy.
    #[serde(default)]
    pub operator_groups: Vec<String>,
    /// Paths the `admin` policy denies beyond `sys/raw` and root token generation.
    #[serde(default)]
    pub extra_denies: Vec<String>,
}
