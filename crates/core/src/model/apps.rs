//! The apps: how each one's consumer receives its secrets, and what each secret reads.

use super::defaults::{default_app_role, default_expiry_offset, DEFAULT_AUDIENCE};
use super::{Operator, VaultServer, CA_CARRIER_SECRET};
use crate::spec::types::{self as spec, SecretSource};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct App {
    pub name: String,
    pub namespace: String,
    pub service_account: String,
    pub create_service_account: bool,
    /// Vault kubernetes-auth role.
    pub role: String,
    /// Vault policy granting exactly this app's paths.
    pub policy: String,
    pub audiences: Vec<String>,
    /// The app's VaultAuth (in its namespace).
    pub vault_auth: String,
    /// How the app's pods receive the secrets; the Vault side is the same for each.
    pub consumer: Consumer,
    /// With TLS: the Secret (key `ca.crt`) in the app's namespace that the injector's agent
    /// or ESO's store trusts Vault's certificate with.
    pub ca_secret: Option<CaSecret>,
    pub secrets: Vec<DeclaredSecret>,
}

/// A Secret with Vault's CA in an app namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaSecret {
    pub name: String,
    /// The tree holds a cert-manager Certificate of `vault.tlsIssuer` that writes it (its
    /// `ca.crt`); else the Secret is expected to exist.
    pub generated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumer {
    Operator,
    Injector(Injector),
    Csi(Csi),
    Eso(Eso),
}

impl Consumer {
    pub fn word(&self) -> &'static str {
        match self {
            Consumer::Operator => spec::Consumer::Operator.as_str(),
            Consumer::Injector(_) => spec::Consumer::Injector.as_str(),
            Consumer::Csi(_) => spec::Consumer::Csi.as_str(),
            Consumer::Eso(_) => spec::Consumer::Eso.as_str(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injector {
    /// The workload the patch applies to.
    pub workload: RolloutTarget,
}

impl Injector {
    /// A Job or a CronJob: its pods run to completion, which a sidecar agent would prevent.
    pub fn runs_to_completion(&self) -> bool {
        matches!(self.workload.kind.as_str(), "Job" | "CronJob")
    }

    /// The workload's API group (`batch` for Jobs and CronJobs, `apps` otherwise); every
    /// workload kind the injector patches is at `v1` of its group.
    pub fn group(&self) -> &'static str {
        if self.runs_to_completion() {
            "batch"
        } else {
            "apps"
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Csi {
    /// Mirror each secret into a Kubernetes Secret (`secretObjects`).
    pub secret_objects: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eso {
    pub cluster_store: bool,
    /// One store per kv mount the app reads (a store's `path` is one mount).
    pub stores: Vec<EsoStore>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsoStore {
    pub name: String,
    pub mount: String,
    /// `v1` or `v2`.
    pub version: u8,
}

impl Eso {
    /// The store of a kv mount.
    pub fn store(&self, mount: &str) -> Option<&EsoStore> {
        self.stores.iter().find(|s| s.mount == mount)
    }
}

/// The store names of an ESO app: `<app>` when it reads one kv mount, else `<app>.<mount>`
/// per mount (lower-case, with `_` and `/` as `-`). App names hold no `.`, so no two apps'
/// stores meet; validation checks that one app's do not.
pub(crate) fn eso_store_names<'a>(app: &str, mounts: &[&'a str]) -> Vec<(&'a str, String)> {
    let mut distinct: Vec<&str> = vec![];
    for m in mounts {
        if !distinct.contains(m) {
            distinct.push(m);
        }
    }
    let one = distinct.len() == 1;
    distinct
        .into_iter()
        .map(|m| {
            let name = if one {
                app.to_string()
            } else {
                let slug: String = m
                    .chars()
                    .map(|c| match c {
                        '_' | '/' => '-',
                        c => c.to_ascii_lowercase(),
                    })
                    .collect();
                format!("{app}.{slug}")
            };
            (m, name)
        })
        .collect()
}

/// The cluster-wide name of an app's ClusterSecretStore: namespaces hold no `.`.
pub(crate) fn cluster_store_name(namespace: &str, store: &str) -> String {
    format!("{namespace}.{store}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SecretKind {
    Static,
    Dynamic,
    Pki,
}

impl SecretKind {
    pub fn kind(&self) -> &'static str {
        match self {
            SecretKind::Static => "VaultStaticSecret",
            SecretKind::Dynamic => "VaultDynamicSecret",
            SecretKind::Pki => "VaultPKISecret",
        }
    }
    pub fn plural(&self) -> &'static str {
        match self {
            SecretKind::Static => "vaultstaticsecrets",
            SecretKind::Dynamic => "vaultdynamicsecrets",
            SecretKind::Pki => "vaultpkisecrets",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Kv {
        mount: String,
        path: String,
        version: u8,
    },
    Database {
        mount: String,
        role: String,
    },
    Dynamic {
        mount: String,
        path: String,
        params: BTreeMap<String, String>,
    },
    Pki {
        mount: String,
        role: String,
    },
    /// A role of a cloud engine (`vaultConfig.aws`, `gcp`, `azure`).
    Cloud {
        engine: CloudEngine,
        mount: String,
        /// The role as the spec names it (a GCP static account: `static-account/NAME`).
        role: String,
        /// What is read, relative to the mount: `creds/ROLE`, `sts/ROLE` (AWS STS
        /// credentials), `roleset/NAME/token`, `static-account/NAME/key`, ...
        path: String,
        /// The keys of the engine's answer.
        keys: &'static [&'static str],
    },
}

/// The cloud secrets engine a [`Source::Cloud`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudEngine {
    Aws,
    Gcp,
    Azure,
}

impl CloudEngine {
    /// The spec's field and the engine's type.
    pub fn name(self) -> &'static str {
        match self {
            CloudEngine::Aws => "aws",
            CloudEngine::Gcp => "gcp",
            CloudEngine::Azure => "azure",
        }
    }
}

/// One Vault path an app reads, with the capabilities that takes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    pub path: String,
    pub capabilities: Vec<&'static str>,
}

impl Source {
    pub fn kind(&self) -> SecretKind {
        match self {
            Source::Kv { .. } => SecretKind::Static,
            Source::Database { .. } | Source::Dynamic { .. } | Source::Cloud { .. } => {
                SecretKind::Dynamic
            }
            Source::Pki { .. } => SecretKind::Pki,
        }
    }

    pub fn mount(&self) -> &str {
        match self {
            Source::Kv { mount, .. }
            | Source::Database { mount, .. }
            | Source::Dynamic { mount, .. }
            | Source::Pki { mount, .. }
            | Source::Cloud { mount, .. } => mount,
        }
    }

    /// The `path` (or `role`) field of the secret CR, relative to the mount.
    pub fn cr_path(&self) -> String {
        match self {
            Source::Kv { path, .. } | Source::Dynamic { path, .. } => path.clone(),
            Source::Database { role, .. } => format!("creds/{role}"),
            Source::Pki { role, .. } => role.clone(),
            Source::Cloud { path, .. } => path.clone(),
        }
    }

    /// What the app's policy must grant for this source, and nothing more.
    pub fn grant(&self) -> Grant {
        match self {
            Source::Kv {
                mount,
                path,
                version: 2,
            } => Grant {
                path: format!("{mount}/data/{path}"),
                capabilities: vec!["read"],
            },
            Source::Kv { mount, path, .. } => Grant {
                path: format!("{mount}/{path}"),
                capabilities: vec!["read"],
            },
            Source::Database { mount, role } => Grant {
                path: format!("{mount}/creds/{role}"),
                capabilities: vec!["read"],
            },
            // A generic dynamic path may be read (GET) or written (POST with params).
            Source::Dynamic {
                mount,
                path,
                params,
            } => Grant {
                path: format!("{mount}/{path}"),
                capabilities: if params.is_empty() {
                    vec!["read"]
                } else {
                    vec!["create", "update"]
                },
            },
            Source::Pki { mount, role } => Grant {
                path: format!("{mount}/issue/{role}"),
                capabilities: vec!["create", "update"],
            },
            // Exactly the role's credentials, read (GET) as the consumers ask for them.
            Source::Cloud { mount, path, .. } => Grant {
                path: format!("{mount}/{path}"),
                capabilities: vec!["read"],
            },
        }
    }

    /// The keys Vault's response always has (database credentials, a certificate); none for
    /// kv and generic dynamic paths, whose keys are the user's.
    pub fn known_keys(&self) -> Vec<String> {
        let keys: &[&str] = match self {
            Source::Database { .. } => &["username", "password"],
            Source::Pki { .. } => &["certificate", "private_key", "issuing_ca"],
            Source::Cloud { keys, .. } => keys,
            Source::Kv { .. } | Source::Dynamic { .. } => &[],
        };
        keys.iter().map(|k| k.to_string()).collect()
    }

    /// Short human form, e.g. `kv-v2 kvv2/webapp/config`.
    pub fn describe(&self) -> String {
        match self {
            Source::Kv {
                mount,
                path,
                version,
            } => format!("kv-v{version} {mount}/{path}"),
            Source::Database { mount, role } => format!("database {mount}/{role}"),
            Source::Dynamic { mount, path, .. } => format!("dynamic {mount}/{path}"),
            Source::Pki { mount, role } => format!("pki {mount}/{role}"),
            Source::Cloud {
                engine,
                mount,
                role,
                ..
            } => format!("{} {mount}/{role}", engine.name()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct DeclaredSecret {
    /// The destination Kubernetes Secret, and the name of the CR that writes it.
    pub name: String,
    pub namespace: String,
    pub source: Source,
    pub refresh_after: Option<String>,
    pub rollout: Vec<RolloutTarget>,
    pub secret_type: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub pki: Option<PkiOptions>,
    /// The keys the consumer reads (csi: one file each); empty: all of them.
    pub keys: Vec<String>,
    /// injector: the user's agent template.
    pub template: Option<String>,
    /// VSO may take over an existing Secret (`destination.overwrite: true`).
    pub adopt: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutTarget {
    pub kind: String,
    pub name: String,
}

#[derive(Debug, Clone, Default)]
pub struct PkiOptions {
    pub common_name: String,
    pub alt_names: Vec<String>,
    pub ttl: Option<String>,
    pub expiry_offset: Option<String>,
}

/// Which Secret in `namespace` holds Vault's CA for an agent or an ESO store (TLS on and
/// verified only).
pub(super) fn app_ca_secret(
    namespace: &str,
    vault: &VaultServer,
    operator: &Operator,
) -> Option<CaSecret> {
    if !vault.deploy || vault.tls_secret.is_none() {
        // No Vault here, or this cluster's Vault serves plain HTTP (an https address is then
        // another server: a TLS proxy in front, or a Vault elsewhere): the CA is the
        // operator's (`caCertSecret`), a copy of it expected in the app's namespace; none
        // over plain HTTP.
        if operator.skip_tls_verify || !operator.address.starts_with("https://") {
            return None;
        }
        return operator.ca_cert_secret.as_ref().map(|name| CaSecret {
            name: name.clone(),
            generated: false,
        });
    }
    let tls = vault.tls_secret.as_ref()?;
    if operator.skip_tls_verify {
        return None;
    }
    let existing = |name: &str| {
        Some(CaSecret {
            name: name.to_string(),
            generated: false,
        })
    };
    if namespace == vault.namespace {
        return existing(tls);
    }
    if namespace == operator.namespace && operator.installed() {
        if let Some(ca) = &operator.ca_cert_secret {
            return existing(ca);
        }
    }
    if vault.tls_issuer.is_some() {
        return Some(CaSecret {
            name: CA_CARRIER_SECRET.into(),
            generated: true,
        });
    }
    // Vault's certificate is the user's own: a copy of its CA in the app's namespace.
    existing(operator.ca_cert_secret.as_deref().unwrap_or(tls))
}

/// What the app's consumer needs beyond the Vault side.
fn consumer(a: &spec::AppSpec<spec::Secret>) -> Consumer {
    match a.consumer {
        spec::Consumer::Operator => Consumer::Operator,
        spec::Consumer::Injector => Consumer::Injector(Injector {
            workload: a
                .injector
                .as_ref()
                .and_then(|i| i.workload.as_deref())
                .and_then(|w| w.split_once('/'))
                .map(|(k, n)| RolloutTarget {
                    kind: k.into(),
                    name: n.into(),
                })
                .unwrap_or_else(|| RolloutTarget {
                    kind: "Deployment".into(),
                    name: a.name.clone(),
                }),
        }),
        spec::Consumer::Csi => Consumer::Csi(Csi {
            secret_objects: a.csi.as_ref().is_some_and(|c| c.secret_objects),
        }),
        spec::Consumer::Eso => {
            let kv: Vec<(&str, u8)> = a
                .secrets
                .iter()
                .filter_map(|s| match &s.source {
                    SecretSource::Kv(kv) => Some((kv.mount.as_str(), kv.version.unwrap_or(2))),
                    _ => None,
                })
                .collect();
            let mounts: Vec<&str> = kv.iter().map(|(m, _)| *m).collect();
            Consumer::Eso(Eso {
                cluster_store: a
                    .eso
                    .as_ref()
                    .is_some_and(|e| e.store == spec::EsoStore::Cluster),
                stores: eso_store_names(&a.name, &mounts)
                    .into_iter()
                    .map(|(mount, name)| EsoStore {
                        name,
                        mount: mount.to_string(),
                        version: kv
                            .iter()
                            .find(|(m, _)| *m == mount)
                            .map(|(_, v)| *v)
                            .unwrap_or(2),
                    })
                    .collect(),
            })
        }
    }
}

pub(super) fn app(
    a: &spec::AppSpec<spec::Secret>,
    cluster: &str,
    vc: Option<&spec::VaultConfigSpec>,
    ca_secret: Option<CaSecret>,
) -> App {
    let role = a
        .role
        .clone()
        .unwrap_or_else(|| default_app_role(&a.namespace, &a.name));
    let consumer = consumer(a);
    let ca_secret = match consumer {
        Consumer::Injector(_) | Consumer::Eso(_) => ca_secret,
        Consumer::Operator | Consumer::Csi(_) => None,
    };
    App {
        name: a.name.clone(),
        namespace: a.namespace.clone(),
        service_account: a.service_account.clone().unwrap_or_else(|| a.name.clone()),
        create_service_account: a.create_service_account.unwrap_or(true),
        // Policies are global in a Vault: the cluster's name keeps two clusters' apart.
        policy: format!("{cluster}-{}-{}", a.namespace, a.name),
        role,
        audiences: a
            .audiences
            .clone()
            .unwrap_or_else(|| vec![DEFAULT_AUDIENCE.into()]),
        vault_auth: a.name.clone(),
        secrets: a
            .secrets
            .iter()
            .map(|s| secret(s, &a.namespace, vc, &consumer))
            .collect(),
        consumer,
        ca_secret,
    }
}

fn secret(
    s: &spec::Secret,
    namespace: &str,
    vc: Option<&spec::VaultConfigSpec>,
    consumer: &Consumer,
) -> DeclaredSecret {
    let source = match &s.source {
        SecretSource::Kv(kv) => Source::Kv {
            mount: kv.mount.clone(),
            path: kv.path.clone(),
            version: kv.version.unwrap_or(2),
        },
        SecretSource::Database(db) => Source::Database {
            mount: db.mount.clone(),
            role: db.role.clone(),
        },
        SecretSource::Dynamic(d) => Source::Dynamic {
            mount: d.mount.clone(),
            path: d.path.clone(),
            params: d.params.clone(),
        },
        SecretSource::Pki(p) => Source::Pki {
            mount: p.mount.clone(),
            role: p.role.clone(),
        },
        SecretSource::Aws(a) => super::cloud::aws(&a.mount, &a.role, vc),
        SecretSource::Gcp(g) => super::cloud::gcp(&g.mount, &g.role, vc),
        SecretSource::Azure(a) => super::cloud::azure(&a.mount, &a.role),
    };
    let pki = match &source {
        Source::Pki { mount, role } => Some(PkiOptions {
            common_name: s.common_name.clone().unwrap_or_default(),
            alt_names: s.alt_names.clone().unwrap_or_default(),
            ttl: s.ttl.clone(),
            expiry_offset: s.expiry_offset.clone().or_else(|| {
                // The certificate's lifetime: its own ttl, else what its role caps it at.
                let role_max = vc
                    .and_then(|vc| vc.pki.get(mount))
                    .and_then(|m| m.roles.get(role))
                    .and_then(|r| r.max_ttl.as_deref());
                s.ttl
                    .as_deref()
                    .or(role_max)
                    .and_then(default_expiry_offset)
            }),
        }),
        _ => None,
    };
    let keys = match (&s.keys, consumer) {
        (Some(keys), _) => keys.clone(),
        // The CSI driver mounts one file per key: the keys of what Vault returns.
        (None, Consumer::Csi(_)) => source.known_keys(),
        (None, _) => vec![],
    };
    DeclaredSecret {
        name: s.name.clone(),
        namespace: namespace.to_string(),
        source,
        refresh_after: s.refresh_after.clone(),
        rollout: s
            .rollout
            .iter()
            .filter_map(|r| r.split_once('/'))
            .map(|(k, n)| RolloutTarget {
                kind: k.into(),
                name: n.into(),
            })
            .collect(),
        secret_type: s.secret_type.clone(),
        labels: s.labels.clone(),
        annotations: s.annotations.clone(),
        keys,
        template: s.template.clone(),
        pki,
        adopt: s.adopt,
    }
}
