//! The VaultStack spec as the user writes it (`apiVersion: kubectl-vault/v1alpha1`).
//!
//! These types mirror the YAML one to one. Parsing is strict: every struct denies unknown
//! fields, so a typo is an error with a did-you-mean hint rather than a silently ignored key.
//! Defaults and derived names live in [`crate::model`], not here.
//!
//! Every type the loader deserializes also derives `JsonSchema` (next to `Deserialize`):
//! `kubectl vault schema` prints the JSON Schema editors use, and a test keeps the shipped
//! `schema/vault-spec.schema.json` equal to it. Where the serde shape is hand-written
//! (`tls`, the short-or-long sources) the schema is too, accepting exactly what the loader does.

use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

/// The spec; its secrets are as written ([`SecretSpec`]) until validation types them
/// ([`Secret`], see [`ValidSpec`]).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[serde(bound(deserialize = "S: Deserialize<'de>"))]
#[schemars(
    rename = "VaultStack",
    description = "One cluster's Vault, Vault Secrets Operator and apps (kind: VaultStack)."
)]
pub struct Spec<S = SecretSpec> {
    #[schemars(extend("const" = "kubectl-vault/v1alpha1"))]
    pub api_version: String,
    #[schemars(extend("const" = "VaultStack"))]
    pub kind: String,
    pub cluster: String,
    #[serde(default)]
    pub gitops: GitopsSpec,
    pub vault: VaultSpec,
    pub operator: OperatorSpec,
    #[serde(default)]
    pub apps: Vec<AppSpec<S>>,
    #[serde(default)]
    pub vault_config: Option<VaultConfigSpec>,
    /// A cert-manager issuer that signs with a PKI role of `vaultConfig.pki`.
    #[serde(default)]
    pub cert_manager: Option<CertManagerSpec>,
    /// The External Secrets Operator the `consumer: eso` apps need: installed by the tree
    /// (default) or brought by the cluster.
    #[serde(default)]
    pub external_secrets: Option<ExternalSecretsSpec>,
    /// The Secrets Store CSI driver the `consumer: csi` apps need: installed by the tree
    /// (default) or brought by the cluster.
    #[serde(default)]
    pub csi_driver: Option<CsiDriverSpec>,
}

/// The spec after validation: each secret has its one source (parse, don't validate).
pub type ValidSpec = Spec<Secret>;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GitopsSpec {
    /// The Flux GitRepository that already watches the repository (default `flux-system`).
    pub source_ref: Option<String>,
    /// Reconcile interval of the generated Flux objects (default `10m`).
    pub interval: Option<String>,
    /// Root folders of the generated tree, relative to the repository root.
    #[serde(default)]
    pub paths: PathsSpec,
    /// Write a Namespace object for every app namespace (and cert-manager's issuer
    /// namespace): `true` (default), or `false` when the apps' own Kustomizations (or the
    /// platform's) already declare them: two Flux Kustomizations applying one Namespace can
    /// lose it (fluxcd/kustomize-controller#1724).
    pub create_namespaces: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PathsSpec {
    /// Default `clusters`: the tree gets `clusters/<cluster>/`.
    pub clusters: Option<String>,
    /// Default `infrastructure`.
    pub infrastructure: Option<String>,
    /// Default `apps`.
    pub apps: Option<String>,
    /// Default `vault-config`: the reviewed Vault side, outside every folder Flux applies.
    pub vault_config: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChartSpec {
    pub version: String,
    pub repository: Option<String>,
}

/// The chart of a controller the tree installs for a consumer: both fields optional (the
/// tree pins a tested version and the project's repository).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ControllerChartSpec {
    /// A pinned chart version (default: the one the tree is tested with).
    pub version: Option<String>,
    /// The chart's Helm repository, `http(s)://` or `oci://` (e.g. a mirror; default: the
    /// project's own).
    pub repository: Option<String>,
}

/// `externalSecrets`: how the External Secrets Operator gets to the cluster.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalSecretsSpec {
    /// `true` (default): the tree installs ESO (a HelmRelease in namespace `external-secrets`);
    /// `false`: the cluster already runs it (a managed add-on, or your own Kustomization).
    pub install: Option<bool>,
    /// The chart (default: version 2.9.0 from https://charts.external-secrets.io); with
    /// `install: true` only.
    #[serde(default)]
    pub chart: Option<ControllerChartSpec>,
    /// Whether the chart installs ESO's CRDs (default `true`); `false` when they are managed
    /// separately (name what installs them in `dependsOn`). With `install: true` only.
    #[serde(rename = "installCRDs")]
    pub install_crds: Option<bool>,
    /// Chart values merged over the tree's own (with `install: true` only); the keys the tree
    /// decides (`installCRDs`) are refused.
    #[schemars(with = "Option<serde_json::Value>")]
    pub values: Option<crate::yaml::Value>,
    /// Flux Kustomizations (`name` in flux-system, or `namespace/name`) that must be Ready
    /// first: with `install: false`, those that install ESO (its apps wait for them); with
    /// `install: true`, what the tree's install needs (e.g. the CRDs, with `installCRDs: false`).
    #[serde(default)]
    pub depends_on: Vec<String>,
}

/// `csiDriver`: how the Secrets Store CSI driver gets to the cluster.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CsiDriverSpec {
    /// `true` (default): the tree installs the driver (a HelmRelease in Vault's namespace);
    /// `false`: the cluster already runs it (a managed add-on, or your own Kustomization).
    pub install: Option<bool>,
    /// The chart (default: version 1.6.0 from the kubernetes-sigs chart repository); with
    /// `install: true` only.
    #[serde(default)]
    pub chart: Option<ControllerChartSpec>,
    /// Chart values merged over the tree's own (with `install: true` only); the keys the tree
    /// decides (`syncSecret.enabled`, `enableSecretRotation`, `rotationPollInterval`) are refused.
    #[schemars(with = "Option<serde_json::Value>")]
    pub values: Option<crate::yaml::Value>,
    /// Flux Kustomizations (`name` in flux-system, or `namespace/name`) that must be Ready
    /// first: with `install: false`, those that install the driver (its apps wait for them);
    /// with `install: true`, what the tree's install needs.
    #[serde(default)]
    pub depends_on: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultSpec {
    /// Whether this cluster runs Vault (default `true`). `false`: it runs none (no Vault
    /// HelmRelease, namespace or certificate); its operator and apps use the Vault at
    /// `operator.address` (another cluster's, or one outside every cluster), and its pods log in
    /// through `vaultConfig.kubernetesAuth` with this cluster's API server, CA and a token
    /// reviewer. The server settings (`chart`, `replicas`, `tls`, ...) are then unused.
    pub deploy: Option<bool>,
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
    /// Raw chart values, merged last.
    #[schemars(with = "Option<serde_json::Value>")]
    pub values: Option<crate::yaml::Value>,
}

impl VaultSpec {
    /// Whether this cluster runs Vault (`deploy`, default true).
    pub fn deploys(&self) -> bool {
        self.deploy.unwrap_or(true)
    }
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

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OperatorSpec {
    pub namespace: Option<String>,
    pub chart: ChartSpec,
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

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[serde(bound(deserialize = "S: Deserialize<'de>"))]
pub struct AppSpec<S = SecretSpec> {
    pub name: String,
    pub namespace: String,
    pub service_account: Option<String>,
    pub create_service_account: Option<bool>,
    pub role: Option<String>,
    pub audiences: Option<Vec<String>>,
    /// How the app's pods receive its secrets (default `operator`, VSO).
    #[serde(default)]
    pub consumer: Consumer,
    /// Options of the `injector` consumer.
    pub injector: Option<InjectorSpec>,
    /// Options of the `csi` consumer.
    pub csi: Option<CsiSpec>,
    /// Options of the `eso` consumer.
    pub eso: Option<EsoSpec>,
    #[serde(default)]
    pub secrets: Vec<S>,
}

/// The route a workload gets its Vault secrets by; the Vault side is the same for each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Consumer {
    /// The Vault Secrets Operator writes Kubernetes Secrets (VaultStaticSecret & co).
    #[default]
    Operator,
    /// The Vault Agent injector renders files into the pods (a kustomize Component).
    Injector,
    /// The Secrets Store CSI driver mounts files (a SecretProviderClass).
    Csi,
    /// The External Secrets Operator writes Kubernetes Secrets (SecretStore, ExternalSecret).
    Eso,
}

impl Consumer {
    /// The spec's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Consumer::Operator => "operator",
            Consumer::Injector => "injector",
            Consumer::Csi => "csi",
            Consumer::Eso => "eso",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InjectorSpec {
    /// The workload the generated patch annotates, `Kind/name` (default `Deployment/<app>`):
    /// a Deployment, StatefulSet or DaemonSet, or a Job or CronJob (whose pods get the agent's
    /// init container only, `agent-pre-populate-only`, so that they can complete).
    pub workload: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CsiSpec {
    /// Also mirror each secret into a Kubernetes Secret of its name (`secretObjects`).
    #[serde(default)]
    pub secret_objects: bool,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EsoSpec {
    /// `namespaced` (default): SecretStores in the app's namespace; `cluster`:
    /// ClusterSecretStores limited to it.
    #[serde(default)]
    pub store: EsoStore,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum EsoStore {
    #[default]
    Namespaced,
    Cluster,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretSpec {
    pub name: String,
    pub kv: Option<ShortOrLong<KvSource>>,
    pub database: Option<ShortOrLong<DatabaseSource>>,
    pub dynamic: Option<ShortOrLong<DynamicSource>>,
    pub pki: Option<ShortOrLong<PkiSource>>,
    pub common_name: Option<String>,
    pub alt_names: Option<Vec<String>>,
    pub ttl: Option<String>,
    pub expiry_offset: Option<String>,
    pub refresh_after: Option<String>,
    #[serde(default)]
    pub rollout: Vec<String>,
    #[serde(rename = "type")]
    pub secret_type: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// The secret's keys (csi: one file per key; eso, injector: only these keys).
    pub keys: Option<Vec<String>>,
    /// injector: the agent template (consul-template) of the file, instead of the default.
    pub template: Option<String>,
    /// Take over an existing Secret of this name (VSO's `destination.overwrite: true`), as
    /// `kubectl vault import` writes it.
    #[serde(default)]
    pub adopt: bool,
}

impl SecretSpec {
    /// The sources written (`kv`, `database`, `dynamic`, `pki`): a valid secret has exactly one.
    pub fn sources_written(&self) -> Vec<&'static str> {
        [
            self.kv.as_ref().map(|_| "kv"),
            self.database.as_ref().map(|_| "database"),
            self.dynamic.as_ref().map(|_| "dynamic"),
            self.pki.as_ref().map(|_| "pki"),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The secret with its one source typed; itself back when it has none or several.
    pub fn into_secret(self) -> Result<Secret, Box<SecretSpec>> {
        let source = match (&self.kv, &self.database, &self.dynamic, &self.pki) {
            (Some(kv), None, None, None) => SecretSource::Kv(kv.0.clone()),
            (None, Some(db), None, None) => SecretSource::Database(db.0.clone()),
            (None, None, Some(d), None) => SecretSource::Dynamic(d.0.clone()),
            (None, None, None, Some(p)) => SecretSource::Pki(p.0.clone()),
            _ => return Err(Box::new(self)),
        };
        Ok(Secret {
            name: self.name,
            source,
            common_name: self.common_name,
            alt_names: self.alt_names,
            ttl: self.ttl,
            expiry_offset: self.expiry_offset,
            refresh_after: self.refresh_after,
            rollout: self.rollout,
            secret_type: self.secret_type,
            labels: self.labels,
            annotations: self.annotations,
            keys: self.keys,
            template: self.template,
            adopt: self.adopt,
        })
    }
}

impl<S> Spec<S> {
    /// The same spec with each secret mapped by `f(app index, secret index, secret)`; the
    /// errors of all secrets that fail.
    pub fn try_map_secrets<T, E>(
        self,
        mut f: impl FnMut(usize, usize, S) -> Result<T, E>,
    ) -> Result<Spec<T>, Vec<E>> {
        let mut errors = Vec::new();
        let apps = self
            .apps
            .into_iter()
            .enumerate()
            .map(|(ai, a)| AppSpec {
                name: a.name,
                namespace: a.namespace,
                service_account: a.service_account,
                create_service_account: a.create_service_account,
                role: a.role,
                audiences: a.audiences,
                consumer: a.consumer,
                injector: a.injector,
                csi: a.csi,
                eso: a.eso,
                secrets: a
                    .secrets
                    .into_iter()
                    .enumerate()
                    .filter_map(|(si, s)| f(ai, si, s).map_err(|e| errors.push(e)).ok())
                    .collect(),
            })
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Spec {
            api_version: self.api_version,
            kind: self.kind,
            cluster: self.cluster,
            gitops: self.gitops,
            vault: self.vault,
            operator: self.operator,
            apps,
            vault_config: self.vault_config,
            cert_manager: self.cert_manager,
            external_secrets: self.external_secrets,
            csi_driver: self.csi_driver,
        })
    }
}

/// A validated secret: [`SecretSpec`] with its one source as an enum.
#[derive(Debug, Clone)]
pub struct Secret {
    pub name: String,
    pub source: SecretSource,
    pub common_name: Option<String>,
    pub alt_names: Option<Vec<String>>,
    pub ttl: Option<String>,
    pub expiry_offset: Option<String>,
    pub refresh_after: Option<String>,
    pub rollout: Vec<String>,
    pub secret_type: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub keys: Option<Vec<String>>,
    pub template: Option<String>,
    pub adopt: bool,
}

/// Where a secret's data comes from: exactly one of the spec's `kv`, `database`, `dynamic`, `pki`.
#[derive(Debug, Clone)]
pub enum SecretSource {
    Kv(KvSource),
    Database(DatabaseSource),
    Dynamic(DynamicSource),
    Pki(PkiSource),
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KvSource {
    pub mount: String,
    pub path: String,
    pub version: Option<u8>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DatabaseSource {
    pub mount: String,
    pub role: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DynamicSource {
    pub mount: String,
    pub path: String,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PkiSource {
    pub mount: String,
    pub role: String,
}

/// A source written either as `MOUNT/REST` or as a map (the long form).
#[derive(Debug, Clone)]
pub struct ShortOrLong<T>(pub T);

/// How a source reads its short form `MOUNT/REST` (the mount is everything before the first `/`).
pub trait ShortForm: Sized {
    const EXAMPLE: &'static str;
    fn from_parts(mount: &str, rest: &str) -> Self;
}

impl ShortForm for KvSource {
    const EXAMPLE: &'static str = "kv: MOUNT/PATH (e.g. kvv2/webapp/config)";
    fn from_parts(mount: &str, rest: &str) -> Self {
        KvSource {
            mount: mount.into(),
            path: rest.into(),
            version: None,
        }
    }
}
impl ShortForm for DatabaseSource {
    const EXAMPLE: &'static str = "database: MOUNT/ROLE (e.g. database/app-readonly)";
    fn from_parts(mount: &str, rest: &str) -> Self {
        DatabaseSource {
            mount: mount.into(),
            role: rest.into(),
        }
    }
}
impl ShortForm for DynamicSource {
    const EXAMPLE: &'static str = "dynamic: MOUNT/PATH (e.g. aws/creds/deploy)";
    fn from_parts(mount: &str, rest: &str) -> Self {
        DynamicSource {
            mount: mount.into(),
            path: rest.into(),
            params: BTreeMap::new(),
        }
    }
}
impl ShortForm for PkiSource {
    const EXAMPLE: &'static str = "pki: MOUNT/ROLE (e.g. pki_int/internal-tls)";
    fn from_parts(mount: &str, rest: &str) -> Self {
        PkiSource {
            mount: mount.into(),
            role: rest.into(),
        }
    }
}

impl<'de, T: ShortForm + Deserialize<'de>> Deserialize<'de> for ShortOrLong<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: ShortForm + Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = ShortOrLong<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "`{}` or its long form (a map)", T::EXAMPLE)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                match v.split_once('/') {
                    Some((mount, rest)) if !mount.is_empty() && !rest.is_empty() => {
                        Ok(ShortOrLong(T::from_parts(mount, rest)))
                    }
                    _ => Err(E::custom(format!(
                        "`{v}` is not of the form {}; a mount that itself contains `/` needs the long form",
                        T::EXAMPLE
                    ))),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(ShortOrLong)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// The short form `MOUNT/REST` (a non-empty mount before the first `/`, something after
/// it) or the long form's map, as [`ShortOrLong`]'s `Deserialize` reads them.
impl<T: ShortForm + JsonSchema> JsonSchema for ShortOrLong<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("ShortOrLong_{}", T::schema_name()).into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let long = generator.subschema_for::<T>();
        schemars::json_schema!({
            "oneOf": [
                {"type": "string", "pattern": "^[^/]+/[\\s\\S]", "description": T::EXAMPLE},
                long
            ]
        })
    }
}

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
    pub audit: Option<AuditSpec>,
    /// `token_period` of the apps' kubernetes-auth roles (default `1h`): their tokens renew
    /// for as long as the operator renews them, so dynamic leases are not revoked by a re-login.
    pub token_period: Option<String>,
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
    /// Audit device path (default `file`).
    pub path: Option<String>,
    /// Device type: `file` (default), `socket` or `syslog`.
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
