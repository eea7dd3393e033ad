//! The Flux stages of the tree: one Kustomization per thing that can fail on its own, so that
//! one consumer's failure never holds back the apps of another.
//!
//! ```text
//! vault ─┬─ vault-secrets-operator ── vault-apps            (VSO apps, the VaultConnection;
//!        │                                                   only with `operator.chart`)
//!        ├─ vault-apps-injector                             (the injector is in Vault's chart)
//!        ├─ vault-csi-driver ──────── vault-apps-csi        (or csiDriver.dependsOn)
//!        ├─ vault-apps-eso ─────────  vault-external-secrets (or externalSecrets.dependsOn)
//!        └─ vault-cert-manager                              (cert-manager's Vault issuer)
//! vault-namespaces: the app namespaces and their CA carriers; every apps stage after it
//! ```
//!
//! A stage exists only when it has something to apply (a consumer no app uses has none; a
//! controller the cluster brings, `install: false`, has no install stage). The controllers and
//! the namespaces of the apps are decided here, with the stages, because the graph follows
//! from them; the renderer writes what this module decides and `verify` checks the same list.

use super::{App, Consumer, Stack, FLUX_NAMESPACE};
use crate::spec::types as spec;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};

/// The stage names (Flux Kustomizations in flux-system). An apps stage's folder is
/// `apps/<cluster>/_<name>/`: a name no namespace can have (`_` is not in a DNS label).
pub const VAULT_STAGE: &str = "vault";
pub const OPERATOR_STAGE: &str = "vault-secrets-operator";
pub const ESO_STAGE: &str = "vault-external-secrets";
pub const CSI_STAGE: &str = "vault-csi-driver";
pub const NAMESPACES_STAGE: &str = "vault-namespaces";
pub const APPS_STAGE: &str = "vault-apps";
pub const INJECTOR_APPS_STAGE: &str = "vault-apps-injector";
pub const CSI_APPS_STAGE: &str = "vault-apps-csi";
pub const ESO_APPS_STAGE: &str = "vault-apps-eso";
pub const CERT_MANAGER_STAGE: &str = "vault-cert-manager";
/// Every name the tree gives a stage: a `dependsOn` of the spec may name none of them.
pub const STAGE_NAMES: [&str; 10] = [
    VAULT_STAGE,
    OPERATOR_STAGE,
    ESO_STAGE,
    CSI_STAGE,
    NAMESPACES_STAGE,
    APPS_STAGE,
    INJECTOR_APPS_STAGE,
    CSI_APPS_STAGE,
    ESO_APPS_STAGE,
    CERT_MANAGER_STAGE,
];

/// A Flux Kustomization, by namespace and name (a stage, or one of the user's).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KustomizationRef {
    pub namespace: String,
    pub name: String,
}

impl KustomizationRef {
    /// `namespace/name`, or `name` for one in flux-system (where the stages are).
    pub fn parse(s: &str) -> KustomizationRef {
        match s.split_once('/') {
            Some((namespace, name)) => KustomizationRef {
                namespace: namespace.into(),
                name: name.into(),
            },
            None => KustomizationRef {
                namespace: FLUX_NAMESPACE.into(),
                name: s.into(),
            },
        }
    }

    fn stage(name: &str) -> KustomizationRef {
        KustomizationRef {
            namespace: FLUX_NAMESPACE.into(),
            name: name.into(),
        }
    }
}

impl std::fmt::Display for KustomizationRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// A controller a consumer needs (ESO, the Secrets Store CSI driver): installed by the tree
/// in its own stage, or brought by the cluster.
#[derive(Debug, Clone)]
pub struct Controller {
    pub install: bool,
    pub chart_version: String,
    pub chart_repository: String,
    /// The chart installs the CRDs (ESO's `installCRDs`; always for the CSI driver, whose
    /// chart ships them in `crds/`).
    pub install_crds: bool,
    /// The spec's values, merged over the tree's.
    pub values: Option<Json>,
    /// What must be Ready first: before the tree's install (`install: true`), or before the
    /// apps (`install: false`).
    pub depends_on: Vec<KustomizationRef>,
}

impl Controller {
    pub(super) fn external_secrets(s: Option<&spec::ExternalSecretsSpec>) -> Controller {
        let s = s.cloned().unwrap_or_default();
        Controller::of(
            s.install,
            s.chart.as_ref(),
            (super::ESO_CHART_VERSION, super::ESO_REPOSITORY),
            s.install_crds.unwrap_or(true),
            s.values.as_ref(),
            &s.depends_on,
        )
    }

    pub(super) fn csi_driver(s: Option<&spec::CsiDriverSpec>) -> Controller {
        let s = s.cloned().unwrap_or_default();
        Controller::of(
            s.install,
            s.chart.as_ref(),
            (super::CSI_CHART_VERSION, super::CSI_REPOSITORY),
            true,
            s.values.as_ref(),
            &s.depends_on,
        )
    }

    fn of(
        install: Option<bool>,
        chart: Option<&spec::ControllerChartSpec>,
        (version, repository): (&str, &str),
        install_crds: bool,
        values: Option<&crate::yaml::Value>,
        depends_on: &[String],
    ) -> Controller {
        Controller {
            install: install.unwrap_or(true),
            chart_version: chart
                .and_then(|c| c.version.clone())
                .unwrap_or_else(|| version.into()),
            chart_repository: chart
                .and_then(|c| c.repository.clone())
                .unwrap_or_else(|| repository.into()),
            install_crds,
            values: values.and_then(|v| serde_json::to_value(v).ok()),
            depends_on: depends_on
                .iter()
                .map(|d| KustomizationRef::parse(d))
                .collect(),
        }
    }
}

/// What a stage applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageKind {
    Vault,
    Operator,
    ExternalSecrets,
    CsiDriver,
    /// The app namespaces (with `gitops.createNamespaces`) and the CA carriers in them.
    Namespaces,
    /// The apps of one consumer.
    Apps(AppsOf),
    /// cert-manager's Vault issuer.
    CertManager,
}

/// The consumer whose apps an apps stage applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppsOf {
    Operator,
    Injector,
    Csi,
    Eso,
}

impl AppsOf {
    pub fn of(app: &App) -> AppsOf {
        match app.consumer {
            Consumer::Operator => AppsOf::Operator,
            Consumer::Injector(_) => AppsOf::Injector,
            Consumer::Csi(_) => AppsOf::Csi,
            Consumer::Eso(_) => AppsOf::Eso,
        }
    }
}

/// One Flux Kustomization of the tree.
#[derive(Debug, Clone)]
pub struct Stage {
    pub kind: StageKind,
    pub name: String,
    /// The folder it applies (a kustomization.yaml in it).
    pub path: String,
    pub depends_on: Vec<KustomizationRef>,
    /// `wait: true`: Ready only once what it applied is healthy. The namespaces stage is Ready
    /// once applied: a Namespace is usable at once, and a CA carrier's health is its
    /// consumers' (an ESO store without its CA fails its own health check), so one broken
    /// carrier does not hold back the apps of every consumer.
    pub wait: bool,
}

/// The objects of one app namespace's folder (`apps/<cluster>/<namespace>/`), applied by the
/// namespaces stage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamespaceFolder {
    /// A Namespace object (`gitops.createNamespaces`, and not a namespace the infrastructure
    /// stages create).
    pub namespace: bool,
    /// The Secrets with Vault's CA that a Certificate of `vault.tlsIssuer` writes there.
    pub carriers: BTreeSet<String>,
}

/// The namespace folders: every app namespace and cert-manager's issuer namespace, but
/// Vault's (where it runs) and the operator's (their infrastructure stages create them and
/// hold their CAs), with what each holds; a namespace with nothing to hold has no folder.
pub fn namespace_folders(stack: &Stack) -> BTreeMap<String, NamespaceFolder> {
    let infra: BTreeSet<&str> = infra_namespaces(stack).into_iter().collect();
    let mut out: BTreeMap<String, NamespaceFolder> = BTreeMap::new();
    let mut wanted: Vec<&str> = stack.apps.iter().map(|a| a.namespace.as_str()).collect();
    if let Some(cm) = &stack.cert_manager {
        wanted.push(&cm.service_account_namespace);
    }
    for ns in wanted {
        if stack.flux.create_namespaces && !infra.contains(ns) {
            out.entry(ns.to_string()).or_default().namespace = true;
        }
    }
    for app in &stack.apps {
        if let Some(ca) = app.ca_secret.as_ref().filter(|c| c.generated) {
            out.entry(app.namespace.clone())
                .or_default()
                .carriers
                .insert(ca.name.clone());
        }
    }
    if let Some(cm) = &stack.cert_manager {
        let ns = &cm.service_account_namespace;
        // The operator's carrier is in its own stage already.
        let operator_carrier = stack.operator.installed()
            && *ns == stack.operator.namespace
            && stack.operator.ca_cert_secret.as_deref() == Some(super::CA_CARRIER_SECRET);
        if let (Some(_), Some(carrier), false) = (
            &cm.ca_carrier_issuer,
            &cm.ca_bundle_secret,
            operator_carrier,
        ) {
            out.entry(ns.clone())
                .or_default()
                .carriers
                .insert(carrier.clone());
        }
    }
    out
}

/// The namespaces the infrastructure stages create: Vault's (where it runs) and VSO's
/// (where the tree installs it).
pub(crate) fn infra_namespaces(stack: &Stack) -> Vec<&str> {
    let mut out = vec![];
    if stack.vault.deploy {
        out.push(stack.vault.namespace.as_str());
    }
    if stack.operator.installed() {
        out.push(stack.operator.namespace.as_str());
    }
    out
}

/// The stages of `stack`, in dependency order.
pub(super) fn stages(stack: &Stack) -> Vec<Stage> {
    let p = &stack.flux.paths;
    let uses = |of: AppsOf| stack.apps.iter().any(|a| AppsOf::of(a) == of);
    let stage = |kind, name: &str, path: String, depends_on: Vec<KustomizationRef>| Stage {
        kind,
        name: name.into(),
        path,
        depends_on,
        wait: kind != StageKind::Namespaces,
    };
    // A cluster that runs no Vault (`vault.deploy: false`) has no Vault stage: what would
    // wait for it reaches the Vault elsewhere at once.
    let deploy = stack.vault.deploy;
    let on = |names: &[&str]| -> Vec<KustomizationRef> {
        (names.iter())
            .filter(|n| deploy || **n != VAULT_STAGE)
            .map(|n| KustomizationRef::stage(n))
            .collect()
    };
    let apps_path = |name: &str| format!("{}/_{name}", p.apps);
    let mut out = vec![];
    if deploy {
        out.push(stage(
            StageKind::Vault,
            VAULT_STAGE,
            p.vault.clone(),
            vec![],
        ));
    }
    // VSO only where the spec installs it (`operator.chart`): every VSO app needs it.
    let vso = stack.operator.installed();
    if vso {
        out.push(stage(
            StageKind::Operator,
            OPERATOR_STAGE,
            p.operator.clone(),
            on(&[VAULT_STAGE]),
        ));
    }
    let (eso, csi) = (&stack.external_secrets, &stack.csi_driver);
    if uses(AppsOf::Eso) && eso.install {
        // ESO needs nothing of Vault to install.
        out.push(stage(
            StageKind::ExternalSecrets,
            ESO_STAGE,
            p.external_secrets.clone(),
            eso.depends_on.clone(),
        ));
    }
    if uses(AppsOf::Csi) && csi.install {
        // The driver runs in Vault's namespace, beside Vault's CSI provider.
        let mut deps = on(&[VAULT_STAGE]);
        deps.extend(csi.depends_on.iter().cloned());
        out.push(stage(
            StageKind::CsiDriver,
            CSI_STAGE,
            p.csi_driver.clone(),
            deps,
        ));
    }
    let namespaces = !namespace_folders(stack).is_empty();
    if namespaces {
        out.push(stage(
            StageKind::Namespaces,
            NAMESPACES_STAGE,
            apps_path(NAMESPACES_STAGE),
            vec![],
        ));
    }
    let with_namespaces = |mut deps: Vec<KustomizationRef>| {
        if namespaces {
            deps.push(KustomizationRef::stage(NAMESPACES_STAGE));
        }
        deps
    };
    // The operator's apps stage exists with VSO, apps or none: it holds the VaultConnection.
    if vso {
        out.push(stage(
            StageKind::Apps(AppsOf::Operator),
            APPS_STAGE,
            apps_path(APPS_STAGE),
            with_namespaces(on(&[OPERATOR_STAGE])),
        ));
    }
    // Every other consumer reads Vault (the injector and the CSI provider are Vault's chart).
    let controller = |c: &Controller, own: &str| {
        let mut deps = on(&[VAULT_STAGE]);
        if c.install {
            deps.push(KustomizationRef::stage(own));
        } else {
            deps.extend(c.depends_on.iter().cloned());
        }
        with_namespaces(deps)
    };
    for (of, name, deps) in [
        (
            AppsOf::Injector,
            INJECTOR_APPS_STAGE,
            with_namespaces(on(&[VAULT_STAGE])),
        ),
        (AppsOf::Csi, CSI_APPS_STAGE, controller(csi, CSI_STAGE)),
        (AppsOf::Eso, ESO_APPS_STAGE, controller(eso, ESO_STAGE)),
    ] {
        if uses(of) {
            out.push(stage(StageKind::Apps(of), name, apps_path(name), deps));
        }
    }
    if stack.cert_manager.is_some() {
        out.push(stage(
            StageKind::CertManager,
            CERT_MANAGER_STAGE,
            apps_path(CERT_MANAGER_STAGE),
            with_namespaces(on(&[VAULT_STAGE])),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_default_to_flux_system() {
        assert_eq!(
            KustomizationRef::parse("eso").to_string(),
            "flux-system/eso"
        );
        assert_eq!(
            KustomizationRef::parse("platform/eso-crds").to_string(),
            "platform/eso-crds"
        );
    }
}
