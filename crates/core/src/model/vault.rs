//! The Vault server and the Vault Secrets Operator, as the tree deploys them.

use super::Distribution;
use crate::spec::types as spec;
use crate::versions::VsoLine;

#[derive(Debug, Clone)]
pub struct VaultServer {
    /// This cluster runs Vault (`vault.deploy`); when not, every setting below but the
    /// namespace is unused, and the operator and apps reach Vault at `operator.address`.
    pub deploy: bool,
    /// In a fleet, which Vault the clusters use (set by the fleet's loader; `None` for a
    /// single spec).
    pub fleet: Option<FleetVault>,
    /// Vault or OpenBao: the chart, release, images and paths ([`Distribution`]).
    pub distribution: Distribution,
    pub namespace: String,
    pub chart_repository: String,
    pub chart_version: String,
    pub replicas: u32,
    /// Name of the kubernetes.io/tls Secret; `None` = plain HTTP.
    pub tls_secret: Option<String>,
    /// cert-manager ClusterIssuer that issues `tls_secret` (the tree then holds the Certificate).
    pub tls_issuer: Option<String>,
    /// That Certificate's `duration` and `renewBefore`.
    pub tls_duration: String,
    pub tls_renew_before: String,
    /// The image of the sidecar that makes Vault reload renewed certificate files (the Vault
    /// pods' own, see [`server_image`]).
    pub reload_image: String,
    pub ui: bool,
    pub injector: bool,
    pub seal: Option<Seal>,
    /// `vault.selfInit` (OpenBao, with `seal`): the `initialize` stanzas.
    pub self_init: Option<spec::SelfInitSpec>,
    /// The chart's required pod anti-affinity (one replica per node); off for small clusters.
    pub anti_affinity: bool,
    /// An audit device writes to `/vault/audit`: the chart must give it a volume.
    pub audit_storage: bool,
    /// User chart values, merged last.
    pub values: Option<serde_json::Value>,
}

impl VaultServer {
    pub fn ha(&self) -> bool {
        self.replicas > 1
    }
    pub fn scheme(&self) -> &'static str {
        if self.tls_secret.is_some() {
            "https"
        } else {
            "http"
        }
    }
    /// The service that selects only the active (unsealed leader) node. The chart creates it
    /// in its HA mode, which the tree always uses (raft, also for one replica).
    pub fn active_address(&self) -> String {
        format!(
            "{}://{}-active.{}.svc.cluster.local:8200",
            self.scheme(),
            self.release(),
            self.namespace
        )
    }
    /// The Helm release (and so the StatefulSet and the services' prefix).
    pub fn release(&self) -> &'static str {
        self.distribution.release()
    }
    /// The DNS names Vault's certificate must carry for the generated addresses to verify.
    pub fn certificate_names(&self) -> Vec<String> {
        let ns = &self.namespace;
        let release = self.release();
        let mut names = vec![];
        for service in [release.to_string(), format!("{release}-active")] {
            names.push(format!("{service}.{ns}.svc"));
            names.push(format!("{service}.{ns}.svc.cluster.local"));
        }
        names.push(format!("*.{release}-internal"));
        names.push(format!("*.{release}-internal.{ns}.svc.cluster.local"));
        names
    }
}

/// Where a fleet's Vault runs ([`crate::fleet::Topology`]), as one cluster sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FleetVault {
    /// Every cluster runs its own Vault, and each is configured separately.
    PerCluster,
    /// One Vault for every cluster of the fleet, run by cluster `host` (`None`: outside
    /// every cluster).
    Shared { host: Option<String> },
}

impl VaultServer {
    /// Which Vault a cluster's Vault side goes into, for the script's header: said for a
    /// fleet and for a cluster that runs no Vault (a single cluster's own Vault goes without
    /// saying). `address`: where the cluster's operator reaches it.
    pub fn which(&self, cluster: &str, address: &str) -> Option<String> {
        Some(match (&self.fleet, self.deploy) {
            (None, true) => return None,
            (None, false) => {
                format!("the Vault outside this cluster that its operator uses ({address})")
            }
            (Some(FleetVault::PerCluster), _) => format!(
                "the Vault of cluster {cluster} itself (every cluster of the fleet runs its own, configured separately)"
            ),
            (Some(FleetVault::Shared { host }), _) => format!(
                "the fleet's one shared Vault, {} (every cluster's script configures it)",
                match host {
                    Some(h) if h == cluster => "run by this cluster".to_string(),
                    Some(h) => format!("run by cluster {h}"),
                    None => "outside every cluster".to_string(),
                }
            ),
        })
    }
}

/// The default lifetime of Vault's certificate (cert-manager's own default, 90 days) and when
/// it is renewed (a third before the end, as cert-manager does by default).
pub const TLS_DURATION: &str = "2160h";
pub const TLS_RENEW_BEFORE: &str = "720h";

/// The image the Vault pods run: the spec's `vault.values` `server.image` when it names one,
/// else the chart version's default ([`Distribution::chart_server_images`]); the reload
/// sidecar runs the same image, already on the node.
pub(super) fn server_image(
    distribution: Distribution,
    chart_version: &str,
    values: Option<&serde_json::Value>,
) -> String {
    let set = |field: &str| {
        values
            .and_then(|v| v.pointer(&format!("/server/image/{field}")))
            .and_then(serde_json::Value::as_str)
    };
    let images = distribution.chart_server_images();
    if distribution.image_has_registry() {
        // `<registry>/<repository>:<tag>`.
        let (default, default_tag) = images
            .iter()
            .find(|(v, _)| *v == chart_version)
            .or(images.last())
            .and_then(|(_, image)| image.rsplit_once(':'))
            .expect("a known image");
        let (default_registry, default_repo) = default.split_once('/').expect("a registry");
        return format!(
            "{}/{}:{}",
            set("registry").unwrap_or(default_registry),
            set("repository").unwrap_or(default_repo),
            set("tag").unwrap_or(default_tag)
        );
    }
    let (default_repo, default_tag) = images
        .iter()
        .find(|(v, _)| *v == chart_version)
        .or(images.last())
        .and_then(|(_, image)| image.rsplit_once(':'))
        .expect("a known image");
    format!(
        "{}:{}",
        set("repository").unwrap_or(default_repo),
        set("tag").unwrap_or(default_tag)
    )
}

/// An auto-unseal `seal` stanza: type and its HCL attributes, in order.
#[derive(Debug, Clone)]
pub struct Seal {
    pub kind: String,
    pub attributes: Vec<(String, String)>,
    /// A Secret the seal reads a CA from (mounted at `/vault/userconfig/<name>/`).
    pub ca_cert_secret: Option<String>,
}

/// The image's public roots (Alpine's `ca-certificates`, in the Vault and OpenBao images): what
/// an https transit unsealer is verified against when the spec names no CA of its own.
pub const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

#[derive(Debug, Clone)]
pub struct Operator {
    pub namespace: String,
    /// The Vault Secrets Operator the tree installs (`operator.chart`), or none: then the
    /// tree writes no VSO object (no namespace, release, VaultConnection or stage), and
    /// `address`, `skipTLSVerify` and `caCertSecret` serve the other consumers only.
    pub chart: Option<OperatorChart>,
    pub address: String,
    pub skip_tls_verify: bool,
    /// Secret (in the operator namespace, key `ca.crt`) with the CA that signed Vault's
    /// certificate: `operator.caCertSecret`, else the in-cluster Vault's TLS secret name, when
    /// TLS is on and verified. VSO reads it from the operator namespace only.
    pub ca_cert_secret: Option<String>,
    pub service_account: String,
    pub client_cache: Option<ClientCache>,
}

/// VSO's chart, when the tree installs it.
#[derive(Debug, Clone)]
pub struct OperatorChart {
    pub repository: String,
    pub version: String,
    /// The release line of the chart version: decides what status the health checks read.
    pub vso: VsoLine,
}

impl Operator {
    /// Whether the tree installs the Vault Secrets Operator.
    pub fn installed(&self) -> bool {
        self.chart.is_some()
    }

    /// The release line of the installed VSO, if any.
    pub fn vso(&self) -> Option<VsoLine> {
        self.chart.as_ref().map(|c| c.vso)
    }
}

#[derive(Debug, Clone)]
pub struct ClientCache {
    pub transit_mount: String,
    pub key_name: String,
    pub role: String,
    pub policy: String,
    pub audiences: Vec<String>,
}

pub(super) fn seal(au: &spec::AutoUnsealSpec, distribution: Distribution) -> Option<Seal> {
    let attrs = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    if let Some(a) = &au.awskms {
        return Some(Seal {
            kind: "awskms".into(),
            attributes: attrs(&[("region", &a.region), ("kms_key_id", &a.kms_key_id)]),
            ca_cert_secret: None,
        });
    }
    if let Some(g) = &au.gcpckms {
        return Some(Seal {
            kind: "gcpckms".into(),
            attributes: attrs(&[
                ("project", &g.project),
                ("region", &g.region),
                ("key_ring", &g.key_ring),
                ("crypto_key", &g.crypto_key),
            ]),
            ca_cert_secret: None,
        });
    }
    if let Some(a) = &au.azurekeyvault {
        return Some(Seal {
            kind: "azurekeyvault".into(),
            attributes: attrs(&[
                ("tenant_id", &a.tenant_id),
                ("vault_name", &a.vault_name),
                ("key_name", &a.key_name),
            ]),
            ca_cert_secret: None,
        });
    }
    au.transit.as_ref().map(|t| {
        let mut attributes: Vec<(String, String)> = attrs(&[
            ("address", &t.address),
            ("mount_path", &t.mount_path),
            ("key_name", &t.key_name),
        ]);
        // The chart's VAULT_CACERT is this cluster's CA: the seal's own client would trust only
        // it for a remote unsealer. The seal names its CA (and the name to check) itself.
        if t.address.starts_with("https://") {
            let ca = match &t.ca_cert_secret {
                Some(s) => format!("{}/ca.crt", distribution.userconfig(s)),
                None => SYSTEM_CA_BUNDLE.to_string(),
            };
            attributes.push(("tls_ca_cert".into(), ca));
            if let Some(n) = &t.tls_server_name {
                attributes.push(("tls_server_name".into(), n.clone()));
            }
        }
        Seal {
            kind: "transit".into(),
            attributes,
            ca_cert_secret: t.ca_cert_secret.clone(),
        }
    })
}
