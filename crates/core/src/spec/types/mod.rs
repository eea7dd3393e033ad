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

mod admin;
mod apps;
mod audit;
mod backup;
mod cloud;
mod gitops;
mod monitoring;
mod pipelines;
mod vault;
mod vault_config;
pub use admin::*;
pub use apps::*;
pub use audit::*;
pub use backup::*;
pub use cloud::*;
pub use gitops::*;
pub use monitoring::*;
pub use pipelines::*;
pub use vault::*;
pub use vault_config::*;

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
    /// The Vault Secrets Operator (required with VSO apps) and the Vault address, CA and
    /// TLS verification every consumer uses.
    #[serde(default)]
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
    /// Scheduled raft snapshots (a CronJob beside Vault), in a cluster that runs Vault.
    #[serde(default)]
    pub backup: Option<BackupSpec>,
    /// CI jobs and Terraform runs that log in with their own identity (a JWT auth role each).
    #[serde(default)]
    pub pipelines: Vec<PipelineSpec>,
    /// The Vault namespace (Vault Enterprise, HCP Vault, OpenBao 2.x) every generated login
    /// and `configure` go to, e.g. `admin` or `admin/team-a`; default: none (the root
    /// namespace). Reaches every VaultAuth, injector annotation, SecretProviderClass, ESO
    /// store and cert-manager issuer, and `configure` (`X-Vault-Namespace`, and
    /// `VAULT_NAMESPACE` in configure.sh).
    #[serde(default)]
    pub vault_namespace: Option<String>,
    /// Vault's telemetry, ServiceMonitors and alerting rules for Vault and VSO, a Grafana
    /// dashboard (see [`MonitoringSpec`]).
    #[serde(default)]
    pub monitoring: Option<MonitoringSpec>,
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
    /// `flux` (default) or `argocd`: what wraps the same objects (Flux Kustomizations and
    /// HelmReleases, or Argo CD Applications in sync waves).
    pub engine: Option<GitopsEngine>,
    /// With `engine: argocd` (required there): the repository Argo CD reads the tree from,
    /// `https://`, `ssh://` or `git@host:path`, as registered in Argo CD.
    #[serde(rename = "repoURL")]
    pub repo_url: Option<String>,
    /// With `engine: argocd`: the branch, tag or commit the Applications track (default `HEAD`).
    pub target_revision: Option<String>,
    /// With `engine: argocd`: the folder of the repository the tree is written to (default:
    /// its root), as `generate --out` is the repository's root or this folder of it.
    pub path: Option<String>,
    /// With `engine: argocd`: which Argo CD holds the Applications and where they deploy
    /// (default: an Argo CD in this cluster, deploying to it).
    pub argocd: Option<ArgocdSpec>,
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
