//! The normalized stack: the spec with every default applied and every derived name decided.
//!
//! Everything downstream (rendering, the Vault side, verify, configure) reads this model, so
//! the names that must agree across a dozen objects (roles, policies, service accounts,
//! VaultAuth refs, audiences) are decided exactly once, here.
//!
//! The defaults are in [`defaults`]; the parts of the stack in `vault.rs` (the server and the
//! operator), `apps.rs` (apps, consumers, secrets) and `cert_manager.rs`; how often the CSI
//! driver re-reads the CSI apps' secrets in [`csi`].

mod apps;
pub mod argocd;
pub mod audit;
mod backup;
mod cert_manager;
mod cloud;
pub(crate) mod csi;
pub(crate) mod defaults;
mod distribution;
pub mod monitoring;
pub mod stages;
mod vault;

pub(crate) use apps::{cluster_store_name, eso_store_names};
pub use apps::{
    App, CaSecret, CloudEngine, Consumer, Csi, DeclaredSecret, Eso, EsoStore, Grant, Injector,
    PkiOptions, RolloutTarget, SecretKind, Source,
};
pub use backup::{Backup, BackupS3, BACKUP_NAME, SNAPSHOT_PATH};
pub use cert_manager::CertManager;
pub use distribution::Distribution;
pub use stages::{AppsOf, Controller, KustomizationRef, Stage, StageKind};
pub use vault::{
    ClientCache, FleetVault, Operator, OperatorChart, Seal, VaultServer, TLS_DURATION,
    TLS_RENEW_BEFORE,
};

use crate::spec::types::{self as spec, TlsSpec, ValidSpec};
use crate::versions::VsoLine;
use defaults::{
    default_auth_mount, DEFAULT_API_AUDIENCE, DEFAULT_AUDIENCE, DEFAULT_INTERVAL,
    DEFAULT_OPERATOR_NAMESPACE, DEFAULT_SOURCE_REF, DEFAULT_TARGET_REVISION,
    DEFAULT_VAULT_NAMESPACE, HASHICORP_HELM_REPOSITORY,
};

/// Flux objects (Kustomizations, HelmRepository, HelmReleases) live where Flux itself lives.
pub const FLUX_NAMESPACE: &str = "flux-system";
/// Helm release names; the charts derive service and service-account names from them (the
/// server's: [`Distribution::release`]).
pub const VAULT_RELEASE: &str = "vault";
pub(crate) const OPERATOR_RELEASE: &str = "vault-secrets-operator";
/// The chart names the service account `<release>-controller-manager`.
pub(crate) const OPERATOR_SERVICE_ACCOUNT: &str = "vault-secrets-operator-controller-manager";
/// The VaultConnection every generated VaultAuth names explicitly.
pub(crate) const VAULT_CONNECTION: &str = "vault";
/// With `vault.tlsIssuer`: the Secret (in the operator namespace) whose `ca.crt` is Vault's CA.
pub(crate) const CA_CARRIER_SECRET: &str = "vault-ca";
pub(crate) const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub(crate) const MANAGED_BY: &str = "kubectl-vault";
/// The injector's kustomize Component: a folder in the app's folder, not applied by Flux.
pub(crate) const INJECTOR_COMPONENT: &str = "vault-agent";
/// The projected volume that carries the app's token (audience included) to the agent.
pub(crate) const INJECTOR_TOKEN_VOLUME: &str = "vault-token";
/// The folder where versions before the per-consumer stages put ESO and the CSI driver
/// (`infrastructure/<cluster>/vault-consumers/`): still a root of the tree, so that `commit`
/// prunes what they wrote there.
const LEGACY_CONSUMERS_FOLDER: &str = "vault-consumers";
/// The External Secrets Operator, pinned to the release of the reference CRDs
/// (external-secrets.io/v1).
pub(crate) const ESO_RELEASE: &str = "external-secrets";
pub const ESO_NAMESPACE: &str = "external-secrets";
pub(crate) const ESO_REPOSITORY: &str = "https://charts.external-secrets.io";
pub(crate) const ESO_CHART_VERSION: &str = "2.9.0";
/// The Secrets Store CSI driver, pinned to the release of the reference CRDs
/// (secrets-store.csi.x-k8s.io/v1); it runs in Vault's namespace beside Vault's CSI provider.
pub(crate) const CSI_RELEASE: &str = "csi-secrets-store";
pub(crate) const CSI_CHART: &str = "secrets-store-csi-driver";
pub(crate) const CSI_REPOSITORY: &str =
    "https://kubernetes-sigs.github.io/secrets-store-csi-driver/charts";
pub(crate) const CSI_CHART_VERSION: &str = "1.6.0";
/// Where the Vault chart's CSI provider mounts Vault's TLS Secret (its `ca.crt`).
pub(crate) const CSI_PROVIDER_TLS_DIR: &str = "/vault/tls";

#[derive(Debug, Clone)]
pub struct Stack {
    pub cluster: String,
    /// The spec's file name, as written in every generated header.
    pub spec_file: String,
    pub flux: Flux,
    pub vault: VaultServer,
    pub operator: Operator,
    pub auth_mount: String,
    pub apps: Vec<App>,
    /// The Vault-side settings that cannot be derived, as written.
    pub vault_config: spec::VaultConfigSpec,
    /// cert-manager's Vault issuer (`certManager`), if the spec asks for one.
    pub cert_manager: Option<CertManager>,
    /// The External Secrets Operator (`externalSecrets`), for the `eso` apps.
    pub external_secrets: Controller,
    /// The Secrets Store CSI driver (`csiDriver`), for the `csi` apps.
    pub csi_driver: Controller,
    /// Scheduled raft snapshots (`backup`), where Vault runs.
    pub backup: Option<Backup>,
    /// `pipelines`, as written.
    pub pipelines: Vec<spec::PipelineSpec>,
    /// `vaultNamespace`: the Vault namespace every login and `configure` go to (`None`: root).
    pub vault_namespace: Option<String>,
    /// `monitoring`: Vault's telemetry, ServiceMonitors, alerting rules, the dashboard.
    pub monitoring: Option<monitoring::Monitoring>,
}

#[derive(Debug, Clone)]
pub struct Flux {
    pub source_ref: String,
    pub interval: String,
    pub paths: Paths,
    /// `gitops.createNamespaces`: the tree writes the app namespaces' Namespace objects.
    pub create_namespaces: bool,
    /// Every Flux Kustomization of the tree, in dependency order ([`stages`]).
    pub stages: Vec<Stage>,
    /// `gitops.engine`: what wraps the stages (Flux Kustomizations, or Argo CD Applications).
    pub engine: spec::GitopsEngine,
    /// Where Argo CD reads the tree from (`engine: argocd`).
    pub argocd: ArgoSource,
}

/// `gitops.repoURL`, `targetRevision` and `path`: the Git source of every Argo CD Application.
#[derive(Debug, Clone, Default)]
pub struct ArgoSource {
    pub repo_url: String,
    pub target_revision: String,
    /// The folder of the repository the tree is in; empty for its root.
    pub path: String,
    /// `gitops.argocd.namespace`: where the Applications live.
    pub namespace: String,
    /// `gitops.argocd.project`: the AppProject of every Application.
    pub project: String,
    /// `gitops.argocd.destination`: where the Applications deploy.
    pub destination: argocd::Destination,
}

impl ArgoSource {
    /// `folder` of the tree as a path of the repository.
    pub fn path_of(&self, folder: &str) -> String {
        if self.path.is_empty() {
            folder.to_string()
        } else {
            format!("{}/{folder}", self.path)
        }
    }
}

/// Folders of the generated tree, relative to the repository root.
#[derive(Debug, Clone)]
pub struct Paths {
    /// `clusters/<cluster>`: Flux Kustomization objects only.
    pub cluster: String,
    /// `infrastructure/<cluster>/vault`
    pub vault: String,
    /// `infrastructure/<cluster>/vault-secrets-operator`
    pub operator: String,
    /// `apps/<cluster>`: the VaultConnection and one folder per namespace, one per app.
    pub apps: String,
    /// `vault-config/<cluster>`: policies and the configure script, never applied by Flux.
    pub vault_config: String,
    /// `infrastructure/<cluster>/vault-external-secrets`: ESO, when the tree installs it.
    pub external_secrets: String,
    /// `infrastructure/<cluster>/vault-csi-driver`: the CSI driver, when the tree installs it.
    pub csi_driver: String,
    /// `infrastructure/<cluster>/vault-consumers`: what earlier versions wrote (see
    /// `LEGACY_CONSUMERS_FOLDER`), pruned.
    pub legacy_consumers: String,
}

impl Paths {
    /// `clusters`: the folder of every cluster's `clusters/<cluster>`.
    pub fn clusters_root(&self) -> &str {
        self.cluster.rsplit_once('/').map_or("", |(root, _)| root)
    }

    /// The folders the tool owns: `commit` prunes stale generated files only inside these.
    pub fn roots(&self) -> Vec<String> {
        vec![
            self.cluster.clone(),
            self.vault.clone(),
            self.operator.clone(),
            self.apps.clone(),
            self.vault_config.clone(),
            self.external_secrets.clone(),
            self.csi_driver.clone(),
            self.legacy_consumers.clone(),
        ]
    }
}

/// Builds the model. The spec must have passed [`crate::spec::validate::check`].
pub fn build(spec: &ValidSpec, spec_file: &str) -> Stack {
    let g = &spec.gitops;
    let join = |root: &Option<String>, default: &str, leaf: &str| {
        let root = root.as_deref().unwrap_or(default);
        format!("{root}/{leaf}")
    };
    // Every folder is the cluster's own: another cluster's run in the same repository never
    // writes (or prunes) a path of this one.
    let c = &spec.cluster;
    let paths = Paths {
        cluster: join(&g.paths.clusters, "clusters", c),
        vault: join(
            &g.paths.infrastructure,
            "infrastructure",
            &format!("{c}/vault"),
        ),
        operator: join(
            &g.paths.infrastructure,
            "infrastructure",
            &format!("{c}/{OPERATOR_RELEASE}"),
        ),
        apps: join(&g.paths.apps, "apps", c),
        vault_config: join(&g.paths.vault_config, "vault-config", c),
        external_secrets: join(
            &g.paths.infrastructure,
            "infrastructure",
            &format!("{c}/{}", stages::ESO_STAGE),
        ),
        csi_driver: join(
            &g.paths.infrastructure,
            "infrastructure",
            &format!("{c}/{}", stages::CSI_STAGE),
        ),
        legacy_consumers: join(
            &g.paths.infrastructure,
            "infrastructure",
            &format!("{c}/{LEGACY_CONSUMERS_FOLDER}"),
        ),
    };
    let distribution = spec.vault.distribution();
    let vault = VaultServer {
        distribution,
        namespace: spec
            .vault
            .namespace
            .clone()
            .unwrap_or_else(|| DEFAULT_VAULT_NAMESPACE.into()),
        chart_repository: (spec.vault.chart.as_ref())
            .and_then(|c| c.repository.clone())
            .unwrap_or_else(|| distribution.chart_repository().into()),
        // Validated: a cluster that runs Vault pins its chart.
        chart_version: (spec.vault.chart.as_ref())
            .map(|c| c.version.clone())
            .unwrap_or_default(),
        deploy: spec.vault.deploys(),
        fleet: None,
        replicas: spec.vault.replicas.unwrap_or(1),
        tls_secret: match &spec.vault.tls {
            TlsSpec::Disabled => None,
            TlsSpec::Secret(s) => Some(s.clone()),
        },
        tls_issuer: spec.vault.tls_issuer.clone(),
        tls_duration: (spec.vault.tls_certificate.as_ref())
            .and_then(|t| t.duration.clone())
            .unwrap_or_else(|| TLS_DURATION.into()),
        tls_renew_before: (spec.vault.tls_certificate.as_ref())
            .and_then(|t| t.renew_before.clone())
            .unwrap_or_else(|| TLS_RENEW_BEFORE.into()),
        reload_image: vault::server_image(
            distribution,
            (spec.vault.chart.as_ref()).map_or("", |c| c.version.as_str()),
            (spec.vault.values.as_ref())
                .and_then(|v| serde_json::to_value(v).ok())
                .as_ref(),
        ),
        ui: spec.vault.ui.unwrap_or(false),
        injector: spec.vault.injector.unwrap_or(false),
        seal: (spec.vault.auto_unseal.as_ref()).and_then(|au| vault::seal(au, distribution)),
        self_init: spec.vault.self_init.clone(),
        anti_affinity: spec.vault.anti_affinity.unwrap_or(true),
        audit_storage: spec.vault_config.as_ref().is_some_and(audit::needs_volume),
        values: spec
            .vault
            .values
            .as_ref()
            .and_then(|v| serde_json::to_value(v).ok()),
    };
    let auth_mount = spec
        .vault_config
        .as_ref()
        .and_then(|vc| vc.kubernetes_auth.as_ref())
        .and_then(|k| k.mount.clone())
        .unwrap_or_else(|| default_auth_mount(&spec.cluster));
    let operator_namespace = spec
        .operator
        .namespace
        .clone()
        .unwrap_or_else(|| DEFAULT_OPERATOR_NAMESPACE.into());
    let operator = Operator {
        namespace: operator_namespace.clone(),
        chart: spec.operator.chart.as_ref().map(|chart| OperatorChart {
            repository: (chart.repository.clone())
                .unwrap_or_else(|| HASHICORP_HELM_REPOSITORY.into()),
            version: chart.version.clone(),
            vso: VsoLine::of(&chart.version)
                .expect("validated: a supported operator chart version"),
        }),
        address: spec
            .operator
            .address
            .clone()
            .unwrap_or_else(|| vault.active_address()),
        skip_tls_verify: spec.operator.skip_tls_verify,
        ca_cert_secret: match (&vault.tls_secret, &spec.operator.address) {
            _ if spec.operator.skip_tls_verify => None,
            _ if spec.operator.ca_cert_secret.is_some() => spec.operator.ca_cert_secret.clone(),
            // VSO reads the CA from its own namespace: with an issuer, the tree carries the CA
            // there through a Certificate of the same issuer (its Secret's ca.crt).
            (Some(_), None)
                if vault.tls_issuer.is_some()
                    && operator_namespace != vault.namespace
                    && spec.operator.chart.is_some() =>
            {
                Some(CA_CARRIER_SECRET.into())
            }
            (Some(tls), None) => Some(tls.clone()),
            _ => None,
        },
        service_account: OPERATOR_SERVICE_ACCOUNT.into(),
        client_cache: spec.operator.client_cache.as_ref().map(|c| ClientCache {
            transit_mount: c.transit_mount.clone(),
            key_name: c.key_name.clone(),
            role: c.role.clone(),
            policy: format!("{}-{OPERATOR_RELEASE}-client-cache", spec.cluster),
            audiences: vec![DEFAULT_AUDIENCE.into()],
        }),
    };
    let vc = spec.vault_config.as_ref();
    let apps = spec
        .apps
        .iter()
        .map(|a| {
            let ca_secret = apps::app_ca_secret(&a.namespace, &vault, &operator);
            apps::app(a, &spec.cluster, vc, ca_secret)
        })
        .collect();
    let mut stack = Stack {
        cluster: spec.cluster.clone(),
        spec_file: spec_file.to_string(),
        flux: Flux {
            source_ref: g
                .source_ref
                .clone()
                .unwrap_or_else(|| DEFAULT_SOURCE_REF.into()),
            interval: g
                .interval
                .clone()
                .unwrap_or_else(|| DEFAULT_INTERVAL.into()),
            paths,
            create_namespaces: g.create_namespaces.unwrap_or(true),
            stages: vec![],
            engine: g.engine.unwrap_or_default(),
            argocd: ArgoSource {
                repo_url: g.repo_url.clone().unwrap_or_default(),
                target_revision: (g.target_revision.clone())
                    .unwrap_or_else(|| DEFAULT_TARGET_REVISION.into()),
                path: g.path.clone().unwrap_or_default(),
                namespace: (g.argocd.as_ref().and_then(|a| a.namespace.clone()))
                    .unwrap_or_else(|| argocd::ARGOCD_NAMESPACE.into()),
                project: (g.argocd.as_ref().and_then(|a| a.project.clone()))
                    .unwrap_or_else(|| argocd::PROJECT.into()),
                destination: argocd::Destination::of(
                    g.argocd.as_ref().and_then(|a| a.destination.as_deref()),
                ),
            },
        },
        vault,
        operator,
        auth_mount,
        apps,
        vault_config: spec.vault_config.clone().unwrap_or_default(),
        cert_manager: None,
        external_secrets: Controller::external_secrets(spec.external_secrets.as_ref()),
        csi_driver: Controller::csi_driver(spec.csi_driver.as_ref()),
        backup: None,
        pipelines: spec.pipelines.clone(),
        vault_namespace: spec.vault_namespace.clone(),
        monitoring: spec.monitoring.as_ref().map(monitoring::monitoring),
    };
    stack.backup = (spec.backup.as_ref())
        .filter(|_| stack.vault.deploy)
        .map(|b| backup::backup(b, &spec.cluster, &stack.vault.reload_image));
    stack.cert_manager = spec
        .cert_manager
        .as_ref()
        .map(|c| cert_manager::cert_manager(c, &stack));
    add_client_token_review_audience(&mut stack);
    stack.flux.stages = stages::stages(&stack);
    stack
}

/// With a client-JWT token reviewer, Vault presents each client's own token to the API
/// server's TokenReview endpoint: the token must then also carry the API server's audience.
/// The Vault role stays bound to the first audience.
fn add_client_token_review_audience(stack: &mut Stack) {
    let Some(api_audience) = stack
        .vault_config
        .kubernetes_auth
        .as_ref()
        .and_then(|k| k.token_reviewer.as_ref())
        .filter(|r| r.mode == spec::TokenReviewerMode::Client)
        .map(|r| {
            r.api_audience
                .clone()
                .unwrap_or_else(|| DEFAULT_API_AUDIENCE.into())
        })
    else {
        return;
    };
    let audiences = stack.apps.iter_mut().map(|a| &mut a.audiences).chain(
        stack
            .operator
            .client_cache
            .iter_mut()
            .map(|c| &mut c.audiences),
    );
    for list in audiences {
        if !list.contains(&api_audience) {
            list.push(api_audience.clone());
        }
    }
}
