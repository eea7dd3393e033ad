//! The spec's Vault-side configuration (`vaultConfig`) and cert-manager issuers.

use super::*;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultConfigSpec {
    /// The Vault `configure` writes this cluster's Vault side into, instead of `VAULT_ADDR`:
    /// in a fleet with a Vault in every cluster, each cluster's own (`configure -f fleet.yaml`
    /// then configures each Vault separately).
    pub address: Option<String>,
    pub kubernetes_auth: Option<KubernetesAuthSpec>,
    #[serde(default)]
    pub databases: BTreeMap<String, DatabaseSpec>,
    #[serde(default)]
    pub pki: BTreeMap<String, PkiMountSpec>,
    /// AWS secrets engines, by mount: short-lived AWS credentials (see `cloud-engines.md`).
    #[serde(default)]
    pub aws: BTreeMap<String, AwsSpec>,
    /// Google Cloud secrets engines, by mount.
    #[serde(default)]
    pub gcp: BTreeMap<String, GcpSpec>,
    /// Azure secrets engines, by mount.
    #[serde(default)]
    pub azure: BTreeMap<String, AzureSpec>,
    /// One audit device, or a list of them (see [`AuditConfig`]).
    pub audit: Option<AuditConfig>,
    /// `token_period` of the apps' kubernetes-auth roles (default `1h`): their tokens renew
    /// for as long as the operator renews them, so dynamic leases are not revoked by a re-login.
    pub token_period: Option<String>,
    /// Admin access without the root token: an OIDC or JWT auth method for humans.
    pub admin: Option<AdminSpec>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KubernetesAuthSpec {
    pub mount: Option<String>,
    pub host: String,
    /// `file:PATH` to the cluster's CA, for a Vault that runs outside the cluster.
    pub ca_cert_from: Option<String>,
    #[serde(default)]
    pub disable_local_ca_jwt: bool,
    /// Which JWT Vault uses to call the TokenReview API (see [`TokenReviewerSpec`]).
    pub token_reviewer: Option<TokenReviewerSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum TokenReviewerMode {
    ServiceAccount,
    Client,
}

/// How a Vault outside the cluster reviews the tokens apps log in with.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenReviewerSpec {
    /// `serviceAccount`: a `vault-token-reviewer` ServiceAccount bound to
    /// `system:auth-delegator` is generated, and Vault calls TokenReview with its JWT (`jwtFrom`).
    /// `client`: Vault calls TokenReview with each client's own JWT; every app's ServiceAccount
    /// is bound to `system:auth-delegator` and its tokens also carry `apiAudience`.
    pub mode: TokenReviewerMode,
    /// `env:NAME` or `file:PATH`: the reviewer ServiceAccount's JWT (mode `serviceAccount`).
    pub jwt_from: Option<String>,
    /// The API server's own audience (mode `client`; default
    /// `https://kubernetes.default.svc.cluster.local`).
    pub api_audience: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DatabaseSpec {
    pub plugin: String,
    pub connection_url: String,
    pub username: String,
    /// `env:NAME` or `file:PATH`; resolved only by `configure`.
    pub password_from: String,
    /// The connection's name under `MOUNT/config/` (default: the mount, with every character
    /// Vault refuses in a name, such as `/`, replaced by `-`).
    pub connection_name: Option<String>,
    /// Rotate the admin password once the connection exists, so only Vault knows it; later
    /// runs then never send `passwordFrom` again (unless `configure --reset-connection`).
    #[serde(default)]
    pub rotate_root: bool,
    #[serde(default)]
    pub roles: BTreeMap<String, DatabaseRoleSpec>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DatabaseRoleSpec {
    pub default_ttl: Option<String>,
    pub max_ttl: Option<String>,
    pub creation_statements: Vec<String>,
    #[serde(default)]
    pub revocation_statements: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PkiMountSpec {
    #[serde(rename = "rootCA")]
    pub root_ca: Option<RootCaSpec>,
    /// An intermediate CA signed by another mount's root CA (instead of `rootCA`).
    #[serde(rename = "intermediateCA")]
    pub intermediate_ca: Option<IntermediateCaSpec>,
    pub max_lease_ttl: Option<String>,
    #[serde(default)]
    pub roles: BTreeMap<String, PkiRoleSpec>,
    /// `config/urls`: where clients fetch the CA and its CRL, named in every certificate the
    /// mount issues (and, for a root, in the intermediates it signs).
    pub urls: Option<PkiUrlsSpec>,
    /// `config/auto-tidy`: expired certificates and revocations are removed from storage on a
    /// schedule (on by default: every 12h, 72h after they expire).
    pub auto_tidy: Option<AutoTidySpec>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PkiUrlsSpec {
    /// The Vault address the certificates' users reach, e.g. `https://vault.example.com:8200`:
    /// the CA is at `<base>/v1/<mount>/ca`, the CRL at `<base>/v1/<mount>/crl`. Default: the
    /// operator's address (in the cluster, which outside clients cannot reach: warned).
    pub base: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AutoTidySpec {
    /// Default `true`; `false` turns auto-tidy off.
    pub enabled: Option<bool>,
    /// How often it runs (default `12h`).
    pub interval: Option<String>,
    /// How long after expiry a certificate is removed (default `72h`).
    pub safety_buffer: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RootCaSpec {
    pub common_name: String,
    pub ttl: Option<String>,
}

/// `intermediateCA`: the mount's CA is made from a CSR signed by the root CA of `signedBy`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IntermediateCaSpec {
    /// The PKI mount (of `vaultConfig.pki`, with a `rootCA`) that signs it.
    pub signed_by: String,
    pub common_name: String,
    /// Lifetime of the intermediate certificate: at most the root's.
    pub ttl: Option<String>,
    /// How many CAs may be below it in a chain (default 0, `pathlen:0`: it signs leaf
    /// certificates only).
    pub max_path_length: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PkiRoleSpec {
    #[serde(default)]
    pub allowed_domains: Vec<String>,
    #[serde(default)]
    pub allow_subdomains: bool,
    #[serde(default)]
    pub allow_bare_domains: bool,
    pub max_ttl: Option<String>,
    /// IP addresses as subject alternative names (default `false`).
    pub allow_ip_sans: Option<bool>,
    /// `localhost` and `localdomain` names (default `false`).
    pub allow_localhost: Option<bool>,
    /// Wildcard names such as `*.example.com` (default `false`).
    pub allow_wildcard_certificates: Option<bool>,
    /// `rsa`, `ec`, `ed25519` or `any` (unset: Vault's, `rsa`).
    pub key_type: Option<String>,
    /// With `rsa`: 2048, 3072, 4096 or 8192; with `ec`: 224, 256, 384 or 521 (unset: Vault's).
    pub key_bits: Option<u32>,
    /// The server authentication usage (unset: Vault's, `true`).
    pub server_flag: Option<bool>,
    /// The client authentication usage (unset: Vault's, `true`).
    pub client_flag: Option<bool>,
    /// Do not store the certificates it issues (they then cannot be revoked by serial; unset:
    /// Vault's, `false`).
    pub no_store: Option<bool>,
    /// Refuse requests without a common name (unset: Vault's, `true`; the role
    /// `certManager` signs with: `false`, as cert-manager sends CSRs without one).
    pub require_cn: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditSpec {
    /// Audit device path, its name in Vault (default: `file` for the one-device form; in a
    /// list, the device's type). Each device has its own.
    pub path: Option<String>,
    /// Device type: `file` (default; `options.file_path`: a file, or `stdout`), `socket`
    /// (`options.address`, `options.socket_type`: tcp, udp or unix) or `syslog`
    /// (`options.facility`, `options.tag`).
    #[serde(rename = "type")]
    pub device_type: Option<String>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

/// `certManager`: cert-manager (assumed installed) gets a Vault issuer.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CertManagerSpec {
    pub issuer: CertManagerIssuerSpec,
    /// The namespace cert-manager runs in (default `cert-manager`): its controller's
    /// ServiceAccount requests the issuer's tokens, and a ClusterIssuer's ServiceAccount
    /// lives there (cert-manager's cluster resource namespace).
    pub namespace: Option<String>,
    /// cert-manager's controller ServiceAccount (default `cert-manager`).
    pub controller_service_account: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum IssuerKind {
    Issuer,
    ClusterIssuer,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CertManagerIssuerSpec {
    pub name: String,
    /// `Issuer` (default, in `namespace`) or `ClusterIssuer`.
    pub kind: Option<IssuerKind>,
    /// The Issuer's namespace (kind `Issuer` only).
    pub namespace: Option<String>,
    /// The PKI role it signs with: `MOUNT/ROLE`, declared in `vaultConfig.pki`.
    pub pki: ShortOrLong<PkiSource>,
    /// The ServiceAccount cert-manager requests tokens for (default: the issuer's name).
    pub service_account: Option<String>,
    /// Its Vault kubernetes-auth role (default `cert-manager-<name>`).
    pub role: Option<String>,
    /// A Secret (key `ca.crt`) in the issuer's namespace (a ClusterIssuer: cert-manager's)
    /// with the CA that signed Vault's certificate. With `vault.tlsIssuer` the tree makes one.
    pub ca_bundle_secret: Option<String>,
}
