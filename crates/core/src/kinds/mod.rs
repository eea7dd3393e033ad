//! Typed models of every kind `generate` writes, with unknown fields denied.
//!
//! Field names are taken from the upstream CRDs (VSO 0.10.x and 1.x `secrets.hashicorp.com/v1beta1`:
//! the spec fields the tool writes are the same in both; their status differs, see
//! [`crate::versions`]),
//! Flux 2.x helm-controller v2, kustomize-controller v1, source-controller v1). Only the fields
//! the tool may write are modelled: a field that is not here is, by construction, a template bug
//! (e.g. `tlsSecretRef` or `rollout: pods`, which guides print but no CRD has).

use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{
    ConfigMap, Event, Namespace, PersistentVolumeClaim, Pod, Secret, ServiceAccount,
};
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::NamespaceResourceScope;
use kube_core::ApiResource;
use kube_core::Resource;
use kube_derive::CustomResource;
use serde::{Deserialize, Serialize};
use std::any::TypeId;
use std::collections::BTreeMap;

mod argocd;
mod cert_manager;
mod csi;
mod eso;
mod flux;
mod kustomize;
mod monitoring;
mod vso;
pub use argocd::*;
pub use cert_manager::*;
pub use csi::*;
pub use eso::*;
pub use flux::*;
pub use kustomize::*;
pub use monitoring::*;
pub use vso::*;

/// Every kind the tool writes (`generate`) or reads (`verify`), named once. Group, version,
/// kind and plural come from the types: the `#[kube(...)]` attributes below, or k8s-openapi.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Namespace,
    ServiceAccount,
    ClusterRoleBinding,
    /// Never written (secret values stay out of Git); `verify` reads the ones VSO writes.
    Secret,
    /// Read by `verify` (warnings), never written.
    Event,
    VaultConnection,
    VaultAuth,
    VaultStaticSecret,
    VaultDynamicSecret,
    VaultPKISecret,
    Certificate,
    Kustomization,
    HelmRepository,
    HelmRelease,
    /// cert-manager's Vault issuer (`certManager`), and what lets cert-manager request its
    /// ServiceAccount's tokens.
    Issuer,
    ClusterIssuer,
    Role,
    RoleBinding,
    ExternalSecret,
    SecretStore,
    ClusterSecretStore,
    SecretProviderClass,
    /// Read by `verify` (the CSI driver writes one per pod and volume), never written.
    SecretProviderClassPodStatus,
    /// Read, never written: by `verify` (the Vault pods' seal labels; injector apps: the agent
    /// in the pods) and by `operator` (the Vault pods).
    Pod,
    /// The backup CronJob (`backup`); `verify` reads its last success.
    CronJob,
    /// The backup's volume.
    PersistentVolumeClaim,
    /// Argo CD's (`gitops.engine: argocd`): the stages and apps, and `verify` reads their verdict.
    Application,
    /// `monitoring`: the scrape of Vault's and VSO's metrics, and the alerts on them.
    ServiceMonitor,
    PrometheusRule,
    /// `monitoring.dashboard`: the Grafana dashboard, the only ConfigMap the tree writes.
    ConfigMap,
}

/// Calls `$f::<T>($args)` with the type `T` of a [`Kind`]: the one place that maps the two.
macro_rules! with_type {
    ($kind:expr, $f:ident ( $($arg:expr),* )) => {
        match $kind {
            Kind::Namespace => $f::<Namespace>($($arg),*),
            Kind::ServiceAccount => $f::<ServiceAccount>($($arg),*),
            Kind::ClusterRoleBinding => $f::<ClusterRoleBinding>($($arg),*),
            Kind::Secret => $f::<Secret>($($arg),*),
            Kind::Event => $f::<Event>($($arg),*),
            Kind::VaultConnection => $f::<VaultConnection>($($arg),*),
            Kind::VaultAuth => $f::<VaultAuth>($($arg),*),
            Kind::VaultStaticSecret => $f::<VaultStaticSecret>($($arg),*),
            Kind::VaultDynamicSecret => $f::<VaultDynamicSecret>($($arg),*),
            Kind::VaultPKISecret => $f::<VaultPKISecret>($($arg),*),
            Kind::Certificate => $f::<Certificate>($($arg),*),
            Kind::Kustomization => $f::<Kustomization>($($arg),*),
            Kind::HelmRepository => $f::<HelmRepository>($($arg),*),
            Kind::HelmRelease => $f::<HelmRelease>($($arg),*),
            Kind::ExternalSecret => $f::<ExternalSecret>($($arg),*),
            Kind::SecretStore => $f::<SecretStore>($($arg),*),
            Kind::ClusterSecretStore => $f::<ClusterSecretStore>($($arg),*),
            Kind::SecretProviderClass => $f::<SecretProviderClass>($($arg),*),
            Kind::SecretProviderClassPodStatus => $f::<SecretProviderClassPodStatus>($($arg),*),
            Kind::Pod => $f::<Pod>($($arg),*),
            Kind::Issuer => $f::<Issuer>($($arg),*),
            Kind::ClusterIssuer => $f::<ClusterIssuer>($($arg),*),
            Kind::Role => $f::<Role>($($arg),*),
            Kind::RoleBinding => $f::<RoleBinding>($($arg),*),
            Kind::CronJob => $f::<CronJob>($($arg),*),
            Kind::PersistentVolumeClaim => $f::<PersistentVolumeClaim>($($arg),*),
            Kind::Application => $f::<Application>($($arg),*),
            Kind::ServiceMonitor => $f::<ServiceMonitor>($($arg),*),
            Kind::PrometheusRule => $f::<PrometheusRule>($($arg),*),
            Kind::ConfigMap => $f::<ConfigMap>($($arg),*),
        }
    };
}

impl Kind {
    pub const ALL: [Kind; 30] = [
        Kind::Namespace,
        Kind::ServiceAccount,
        Kind::ClusterRoleBinding,
        Kind::Secret,
        Kind::Event,
        Kind::VaultConnection,
        Kind::VaultAuth,
        Kind::VaultStaticSecret,
        Kind::VaultDynamicSecret,
        Kind::VaultPKISecret,
        Kind::Certificate,
        Kind::Kustomization,
        Kind::HelmRepository,
        Kind::HelmRelease,
        Kind::Issuer,
        Kind::ClusterIssuer,
        Kind::Role,
        Kind::RoleBinding,
        Kind::ExternalSecret,
        Kind::SecretStore,
        Kind::ClusterSecretStore,
        Kind::SecretProviderClass,
        Kind::SecretProviderClassPodStatus,
        Kind::Pod,
        Kind::CronJob,
        Kind::PersistentVolumeClaim,
        Kind::Application,
        Kind::ServiceMonitor,
        Kind::PrometheusRule,
        Kind::ConfigMap,
    ];

    /// Group, version, kind and plural, as the API server names them.
    pub fn resource(self) -> ApiResource {
        fn erase<K: Resource<DynamicType = ()>>() -> ApiResource {
            ApiResource::erase::<K>(&())
        }
        with_type!(self, erase())
    }

    /// True for a kind that lives in a namespace.
    pub fn namespaced(self) -> bool {
        fn namespaced<K: Resource<DynamicType = ()>>() -> bool
        where
            K::Scope: 'static,
        {
            TypeId::of::<K::Scope>() == TypeId::of::<NamespaceResourceScope>()
        }
        with_type!(self, namespaced())
    }

    /// The kind of a document with this `apiVersion` and `kind` (no allocation: the types'
    /// names are static).
    pub fn of(api_version: &str, kind: &str) -> Option<Kind> {
        fn is<K: Resource<DynamicType = ()>>(api_version: &str, kind: &str) -> bool {
            K::kind(&()) == kind && K::api_version(&()) == api_version
        }
        Kind::ALL
            .into_iter()
            .find(|k| with_type!(*k, is(api_version, kind)))
    }

    /// `vaultstaticsecrets.secrets.hashicorp.com`, as RBAC names it.
    pub fn qualified(self) -> String {
        let r = self.resource();
        if r.group.is_empty() {
            r.plural
        } else {
            format!("{}.{}", r.plural, r.group)
        }
    }
}

/// A Kustomization's `dependsOn` entry: the namespace defaults to the Kustomization's own.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DependencyRef {
    pub name: String,
    pub namespace: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names the API servers use (the reference CRDs' `spec.names.plural`): the derive's
    /// guesses must match them.
    #[test]
    fn resources_are_the_upstream_names() {
        let got: Vec<String> = Kind::ALL
            .iter()
            .map(|k| {
                let r = k.resource();
                format!(
                    "{} {} {} {}",
                    r.api_version,
                    r.kind,
                    r.plural,
                    k.namespaced()
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                "v1 Namespace namespaces false",
                "v1 ServiceAccount serviceaccounts true",
                "rbac.authorization.k8s.io/v1 ClusterRoleBinding clusterrolebindings false",
                "v1 Secret secrets true",
                "v1 Event events true",
                "secrets.hashicorp.com/v1beta1 VaultConnection vaultconnections true",
                "secrets.hashicorp.com/v1beta1 VaultAuth vaultauths true",
                "secrets.hashicorp.com/v1beta1 VaultStaticSecret vaultstaticsecrets true",
                "secrets.hashicorp.com/v1beta1 VaultDynamicSecret vaultdynamicsecrets true",
                "secrets.hashicorp.com/v1beta1 VaultPKISecret vaultpkisecrets true",
                "cert-manager.io/v1 Certificate certificates true",
                "kustomize.toolkit.fluxcd.io/v1 Kustomization kustomizations true",
                "source.toolkit.fluxcd.io/v1 HelmRepository helmrepositories true",
                "helm.toolkit.fluxcd.io/v2 HelmRelease helmreleases true",
                "cert-manager.io/v1 Issuer issuers true",
                "cert-manager.io/v1 ClusterIssuer clusterissuers false",
                "rbac.authorization.k8s.io/v1 Role roles true",
                "rbac.authorization.k8s.io/v1 RoleBinding rolebindings true",
                "external-secrets.io/v1 ExternalSecret externalsecrets true",
                "external-secrets.io/v1 SecretStore secretstores true",
                "external-secrets.io/v1 ClusterSecretStore clustersecretstores false",
                "secrets-store.csi.x-k8s.io/v1 SecretProviderClass secretproviderclasses true",
                "secrets-store.csi.x-k8s.io/v1 SecretProviderClassPodStatus secretproviderclasspodstatuses true",
                "v1 Pod pods true",
                "batch/v1 CronJob cronjobs true",
                "v1 PersistentVolumeClaim persistentvolumeclaims true",
                "argoproj.io/v1alpha1 Application applications true",
                "monitoring.coreos.com/v1 ServiceMonitor servicemonitors true",
                "monitoring.coreos.com/v1 PrometheusRule prometheusrules true",
                "v1 ConfigMap configmaps true",
            ]
        );
    }

    #[test]
    fn of_finds_each_kind_and_nothing_else() {
        for k in Kind::ALL {
            let r = k.resource();
            assert_eq!(Kind::of(&r.api_version, &r.kind), Some(k));
        }
        assert_eq!(Kind::of("v1", "ConfigMap"), Some(Kind::ConfigMap));
        assert_eq!(Kind::of("v1", "Service"), None);
        assert_eq!(Kind::of("secrets.hashicorp.com/v1", "VaultAuth"), None);
    }
}
