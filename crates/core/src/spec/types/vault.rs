//! The spec's Vault server and operator sections (`vault`, `operator`).

use super::*;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultSpec {
    /// Whether this cluster runs Vault (default `true`). `false`: it runs none (no Vault
    /// HelmRelease, namespace or certificate); its operator and apps use the Vault at
    /// `operator.address` (another cluster's, or one outside every cluster), and its pods log in
    /// through `vaultConfig.kubernetesAuth` with this cluster's API server, CA and a token
    /// reviewer. The server settings (`chart`, `replicas`, `tls`, ...) are then unused.
    pub deploy: Option<bool>,
    /// `vault` (default: HashiCorp Vault and its chart) or `openbao` (OpenBao and its chart,
    /// `openbao/openbao-helm`; see the OpenBao page of the docs).
    pub distribution: Option<crate::model::Distribution>,
    pub namespace: Option<String>,
    /// The Vault Helm chart (required unless `deploy: false`).
    pub chart: Option<ChartSpec>,
    pub replicas: Option<u32>,
    #[serde(default)]
    pub tls: TlsSpec,
    pub ui: Option<bool>,
    pub injector: Option<bool>,
    pub auto_unseal: Option<AutoUnsealSpec>,
    /// Spread the Vault pods over nodes: `true` (default, the chart's required anti-affinity)
    /// or `false` (no affinity: every replica may land on one node, e.g. a homelab).
    pub anti_affinity: Option<bool>,
    /// A cert-manager ClusterIssuer that issues Vault's certificate into the `tls` Secret (with
    /// the SANs the generated addresses need) and its CA into the operator namespace.
    pub tls_issuer: Option<String>,
    /// The lifetime of the certificate `tlsIssuer` issues (the pods reload it without a
    /// restart when it is renewed).
    pub tls_certificate: Option<TlsCertificateSpec>,
    /// OpenBao only (2.4+), with an auto-unseal seal: the server initialises itself on its
    /// first start from `initialize` stanzas in its configuration, instead of `operator init`.
    pub self_init: Option<SelfInitSpec>,
    /// Raw chart values, merged last.
    #[schemars(with = "Option<serde_json::Value>")]
    pub values: Option<crate::yaml::Value>,
}

impl VaultSpec {
    /// Whether this cluster runs Vault (`deploy`, default true).
    pub fn deploys(&self) -> bool {
        self.deploy.unwrap_or(true)
    }
    /// `distribution`, default `vault`.
    pub fn distribution(&self) -> crate::model::Distribution {
        self.distribution.unwrap_or_default()
    }
}

/// `vault.selfInit`: the requests OpenBao makes once, as root, on its first start (the
/// `initialize` stanzas of its configuration). The root token is revoked afterwards and no
/// recovery key is handed out: the requests must leave a way in (e.g. an auth method).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SelfInitSpec {
    /// The requests, in order (one `initialize` stanza each).
    pub requests: Vec<SelfInitRequestSpec>,
}

/// One request of `vault.selfInit`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SelfInitRequestSpec {
    /// The stanza's name: a letter or `_`, then letters, digits, `_` and `-`.
    pub name: String,
    /// `create`, `read`, `update`, `patch`, `delete` or `list`.
    pub operation: String,
    /// The API path, e.g. `sys/auth/kubernetes` (without `/v1/`).
    pub path: String,
    /// The request's body. Values are written into the server configuration, which lives in a
    /// ConfigMap: never a secret here.
    #[schemars(with = "Option<serde_json::Value>")]
    pub data: Option<crate::yaml::Value>,
    /// Go on with the next request when this one fails (default `false`).
    #[serde(default)]
    pub allow_failure: bool,
}

/// `vault.tlsCertificate`: cert-manager's `duration` and `renewBefore` (Go durations).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TlsCertificateSpec {
    /// How long each certificate is valid (default `2160h`, 90 days; at least `1h`).
    pub duration: Option<String>,
    /// How long before expiry cert-manager renews it (default `720h`, 30 days; shorter than
    /// `duration`).
    pub renew_before: Option<String>,
}

/// `tls: false` (plain HTTP) or `tls: <name of a kubernetes.io/tls Secret>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TlsSpec {
    #[default]
    Disabled,
    Secret(String),
}

impl<'de> Deserialize<'de> for TlsSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TlsSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`false` or the name of a kubernetes.io/tls Secret")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<TlsSpec, E> {
                if v {
                    Err(E::custom("`tls: true` needs a certificate: write the name of a kubernetes.io/tls Secret in the vault namespace, e.g. `tls: vault-tls`"))
                } else {
                    Ok(TlsSpec::Disabled)
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TlsSpec, E> {
                Ok(TlsSpec::Secret(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for TlsSpec {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TlsSpec".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "`false` (plain HTTP) or the name of a kubernetes.io/tls Secret in the vault namespace",
            "oneOf": [{"const": false}, {"type": "string"}]
        })
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AutoUnsealSpec {
    pub awskms: Option<AwsKmsSpec>,
    pub gcpckms: Option<GcpCkmsSpec>,
    pub azurekeyvault: Option<AzureKeyVaultSpec>,
    pub transit: Option<TransitSealSpec>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AwsKmsSpec {
    pub region: String,
    pub kms_key_id: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GcpCkmsSpec {
    pub project: String,
    pub region: String,
    pub key_ring: String,
    pub crypto_key: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AzureKeyVaultSpec {
    pub tenant_id: String,
    pub vault_name: String,
    pub key_name: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransitSealSpec {
    pub address: String,
    pub mount_path: String,
    pub key_name: String,
    /// A Secret in the Vault namespace whose `ca.crt` signed the unsealer's certificate: it is
    /// mounted into the Vault pods and written as the seal's `tls_ca_cert`. Without it an
    /// https unsealer is verified against the image's public roots
    /// (`/etc/ssl/certs/ca-certificates.crt`), never against this cluster's own CA.
    pub ca_cert_secret: Option<String>,
    /// The name the unsealer's certificate must carry (`tls_server_name`; default: the
    /// address's host).
    pub tls_server_name: Option<String>,
}

/// `operator`: the Vault Secrets Operator (its namespace and chart), and how every consumer
/// reaches Vault (`address`, `skipTLSVerify`, `caCertSecret`). Optional without VSO apps.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OperatorSpec {
    pub namespace: Option<String>,
    /// VSO's chart: the tree installs the Vault Secrets Operator when it is written
    /// (required with a `consumer: operator` app or `clientCache`); without it, the tree
    /// writes no VSO object, and `address`, `skipTLSVerify` and `caCertSecret` serve the
    /// other consumers (ESO, CSI, the injector).
    pub chart: Option<ChartSpec>,
    pub address: Option<String>,
    #[serde(default, rename = "skipTLSVerify")]
    pub skip_tls_verify: bool,
    /// Secret in the operator namespace whose `ca.crt` signed Vault's certificate.
    pub ca_cert_secret: Option<String>,
    pub client_cache: Option<ClientCacheSpec>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientCacheSpec {
    pub transit_mount: String,
    pub key_name: String,
    pub role: String,
}
