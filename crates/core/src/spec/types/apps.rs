//! The spec's apps and their secrets (`apps`, the short-or-long secret sources).

use super::*;

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
    /// `MOUNT/ROLE` of `vaultConfig.aws`: short-lived AWS credentials.
    pub aws: Option<ShortOrLong<AwsSource>>,
    /// `MOUNT/NAME` of `vaultConfig.gcp` (a roleset, or with `static-account/NAME` a static
    /// account): a short-lived access token or key.
    pub gcp: Option<ShortOrLong<GcpSource>>,
    /// `MOUNT/ROLE` of `vaultConfig.azure`: a short-lived service principal.
    pub azure: Option<ShortOrLong<AzureSource>>,
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
            self.aws.as_ref().map(|_| "aws"),
            self.gcp.as_ref().map(|_| "gcp"),
            self.azure.as_ref().map(|_| "azure"),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The secret with its one source typed; itself back when it has none or several.
    pub fn into_secret(self) -> Result<Secret, Box<SecretSpec>> {
        if self.sources_written().len() != 1 {
            return Err(Box::new(self));
        }
        let source = if let Some(kv) = &self.kv {
            SecretSource::Kv(kv.0.clone())
        } else if let Some(db) = &self.database {
            SecretSource::Database(db.0.clone())
        } else if let Some(d) = &self.dynamic {
            SecretSource::Dynamic(d.0.clone())
        } else if let Some(p) = &self.pki {
            SecretSource::Pki(p.0.clone())
        } else if let Some(a) = &self.aws {
            SecretSource::Aws(a.0.clone())
        } else if let Some(g) = &self.gcp {
            SecretSource::Gcp(g.0.clone())
        } else if let Some(a) = &self.azure {
            SecretSource::Azure(a.0.clone())
        } else {
            return Err(Box::new(self));
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
            backup: self.backup,
            pipelines: self.pipelines,
            vault_namespace: self.vault_namespace,
            monitoring: self.monitoring,
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
    Aws(AwsSource),
    Gcp(GcpSource),
    Azure(AzureSource),
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

/// `aws: MOUNT/ROLE`: a role of `vaultConfig.aws.MOUNT`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AwsSource {
    pub mount: String,
    pub role: String,
}

/// `gcp: MOUNT/NAME`: a roleset of `vaultConfig.gcp.MOUNT` (`MOUNT/static-account/NAME`: a
/// static account).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GcpSource {
    pub mount: String,
    /// A roleset's name, or `static-account/NAME`.
    pub role: String,
}

/// `azure: MOUNT/ROLE`: a role of `vaultConfig.azure.MOUNT`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AzureSource {
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

impl ShortForm for AwsSource {
    const EXAMPLE: &'static str = "aws: MOUNT/ROLE (e.g. aws/deploy)";
    fn from_parts(mount: &str, rest: &str) -> Self {
        AwsSource {
            mount: mount.into(),
            role: rest.into(),
        }
    }
}

impl ShortForm for GcpSource {
    const EXAMPLE: &'static str = "gcp: MOUNT/ROLESET (e.g. gcp/deploy, gcp/static-account/ci)";
    fn from_parts(mount: &str, rest: &str) -> Self {
        GcpSource {
            mount: mount.into(),
            role: rest.into(),
        }
    }
}
impl ShortForm for AzureSource {
    const EXAMPLE: &'static str = "azure: MOUNT/ROLE (e.g. azure/reader)";
    fn from_parts(mount: &str, rest: &str) -> Self {
        AzureSource {
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
