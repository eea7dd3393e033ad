//! `vaultConfig.aws`: the AWS secrets engine, whose roles hand out short-lived AWS
//! credentials (an IAM user per lease, or STS credentials of an assumed role or a federation
//! token) instead of long-lived keys.

use super::*;

/// `vaultConfig.aws.<mount>`: the engine's root credentials (`config/root`) and its roles.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AwsSpec {
    /// `env:NAME` or `file:PATH`: the access key id of the IAM user the engine acts as;
    /// resolved only by `configure`, sent on stdin by the script.
    pub access_key_from: String,
    /// `env:NAME` or `file:PATH`: its secret access key (never a literal).
    pub secret_key_from: String,
    /// The region of the engine's API calls (unset: Vault's, `us-east-1`).
    pub region: Option<String>,
    /// A custom IAM endpoint (`iam_endpoint`), e.g. a VPC endpoint or a stand-in.
    pub iam_endpoint: Option<String>,
    /// A custom STS endpoint (`sts_endpoint`).
    pub sts_endpoint: Option<String>,
    /// Rotate the root access key once the root config is written (`config/rotate-root`),
    /// so only Vault knows the new one; later runs then never send the keys again (unless
    /// `configure --reset-connection`).
    #[serde(default)]
    pub rotate_root: bool,
    #[serde(default)]
    pub roles: BTreeMap<String, AwsRoleSpec>,
}

/// How a role's credentials are made (`credential_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AwsCredentialType {
    /// An IAM user per lease, with the role's inline policy and managed policies; deleted
    /// when the lease ends.
    IamUser,
    /// STS credentials of one of `roleArns` (`sts:AssumeRole`).
    AssumedRole,
    /// STS federation-token credentials limited by the role's policies.
    FederationToken,
}

impl AwsCredentialType {
    pub fn as_str(self) -> &'static str {
        match self {
            AwsCredentialType::IamUser => "iam_user",
            AwsCredentialType::AssumedRole => "assumed_role",
            AwsCredentialType::FederationToken => "federation_token",
        }
    }
    /// STS credentials (read at `MOUNT/sts/ROLE`), rather than an IAM user's (`creds/ROLE`).
    pub fn is_sts(self) -> bool {
        self != AwsCredentialType::IamUser
    }
}

/// `vaultConfig.aws.<mount>.roles.<name>`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AwsRoleSpec {
    pub credential_type: AwsCredentialType,
    /// The IAM policy document (a map, or its JSON as a string): the user's inline policy
    /// (`iam_user`), or what limits the session (`assumed_role`, `federation_token`).
    pub policy_document: Option<serde_json::Value>,
    /// ARNs of managed policies attached to the user or limiting the session.
    #[serde(default)]
    pub policy_arns: Vec<String>,
    /// The IAM roles an `assumed_role` role may assume.
    #[serde(default)]
    pub role_arns: Vec<String>,
    /// Lifetime of STS credentials (`default_sts_ttl`; `assumed_role` and `federation_token`
    /// only: an IAM user's lease is the mount's).
    pub default_ttl: Option<String>,
    /// Longest lifetime of STS credentials (`max_sts_ttl`).
    pub max_ttl: Option<String>,
}

impl AwsRoleSpec {
    /// The policy document as the compact JSON the engine stores, `None` when absent (or not
    /// JSON: validation says so).
    pub fn policy_json(&self) -> Option<String> {
        match self.policy_document.as_ref()? {
            serde_json::Value::String(s) => serde_json::from_str::<serde_json::Value>(s)
                .ok()
                .map(|v| v.to_string()),
            v => Some(v.to_string()),
        }
    }
}

/// `vaultConfig.gcp.<mount>`: the Google Cloud engine's credentials (`config`) and its
/// rolesets and static accounts.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GcpSpec {
    /// `env:NAME` or `file:PATH`: the JSON key of the service account the engine acts as
    /// (`credentials`; never a literal).
    pub credentials_from: String,
    /// Default lifetime of the keys it issues (`ttl`).
    pub ttl: Option<String>,
    /// Longest lifetime of the keys it issues (`max_ttl`).
    pub max_ttl: Option<String>,
    /// Rotate the engine's own key once the config is written (`config/rotate-root`).
    #[serde(default)]
    pub rotate_root: bool,
    /// Rolesets: a service account the engine makes, bound to `bindings`.
    #[serde(default)]
    pub rolesets: BTreeMap<String, GcpAccountSpec>,
    /// Static accounts: an existing service account (`serviceAccountEmail`) bound to `bindings`.
    #[serde(default)]
    pub static_accounts: BTreeMap<String, GcpAccountSpec>,
}

/// What a GCP roleset or static account hands out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GcpSecretType {
    /// An OAuth2 access token (`MOUNT/roleset/NAME/token`).
    #[default]
    AccessToken,
    /// A service account key (`MOUNT/roleset/NAME/key`).
    ServiceAccountKey,
}

impl GcpSecretType {
    pub fn as_str(self) -> &'static str {
        match self {
            GcpSecretType::AccessToken => "access_token",
            GcpSecretType::ServiceAccountKey => "service_account_key",
        }
    }
}

/// `vaultConfig.gcp.<mount>.rolesets.<name>` or `.staticAccounts.<name>`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GcpAccountSpec {
    /// `access_token` (default) or `service_account_key`.
    #[serde(default)]
    pub secret_type: GcpSecretType,
    /// The project the roleset's service account is made in (rolesets only).
    pub project: Option<String>,
    /// The existing service account (static accounts only).
    pub service_account_email: Option<String>,
    /// IAM roles by resource name, e.g.
    /// `//cloudresourcemanager.googleapis.com/projects/my-project: [roles/viewer]`.
    #[serde(default)]
    pub bindings: BTreeMap<String, Vec<String>>,
    /// OAuth scopes of its access tokens (default, for `access_token`:
    /// `https://www.googleapis.com/auth/cloud-platform`).
    #[serde(default)]
    pub token_scopes: Vec<String>,
}

/// `vaultConfig.azure.<mount>`: the Azure engine's service principal (`config`) and roles.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AzureSpec {
    pub subscription_id: String,
    pub tenant_id: String,
    pub client_id: String,
    /// `env:NAME` or `file:PATH`: the service principal's client secret (never a literal).
    pub client_secret_from: String,
    /// The Azure cloud (`environment`, e.g. `AzurePublicCloud`; unset: Vault's).
    pub environment: Option<String>,
    /// Rotate the client secret once the config is written (`rotate-root`).
    #[serde(default)]
    pub rotate_root: bool,
    #[serde(default)]
    pub roles: BTreeMap<String, AzureRoleSpec>,
}

/// `vaultConfig.azure.<mount>.roles.<name>`: a service principal per lease, with these roles.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AzureRoleSpec {
    pub azure_roles: Vec<AzureRoleAssignment>,
    pub ttl: Option<String>,
    pub max_ttl: Option<String>,
}

/// One Azure role assignment (`azure_roles[]`): the role by name, at a scope.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AzureRoleAssignment {
    /// e.g. `Reader`.
    pub role_name: String,
    /// e.g. `/subscriptions/<id>/resourceGroups/<group>`.
    pub scope: String,
}
