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
