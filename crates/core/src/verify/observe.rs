//! What `verify` reads from the cluster: the lists it gets ([`Observed`], each object read
//! into its typed view, [`super::view`]) and the specs it expects ([`ExpectedSpecs`]).

use super::consumers::{CSI_MANAGED_LABEL, ESO_MANAGED_LABEL};
use super::view::{self, Event, Named, Object, Pod, Secret, SpcPodStatus, Unreadable};
use crate::kinds::Kind;
use crate::model::{self, Consumer, Stack};
use crate::vault_pods::{self, VaultPod};
use serde_json::Value;
use std::collections::HashMap;

/// Where to list: the whole cluster (falling back to `fallback` namespaces when that is
/// forbidden), or fixed namespaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Cluster { fallback: Vec<String> },
    Namespaces(Vec<String>),
}

/// Which list of [`Observed`] a [`ListQuery`] fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Kustomizations,
    HelmReleases,
    VaultConnections,
    VaultAuths,
    ServiceAccounts,
    StaticSecrets,
    DynamicSecrets,
    PkiSecrets,
    Secrets,
    Events,
    VaultPods,
    CaSecrets,
    Issuers,
    ExternalSecrets,
    EsoSecrets,
    SecretProviderClasses,
    SpcPodStatuses,
    CsiSecrets,
    Pods,
    /// With `gitops.createNamespaces: false`: the namespaces (a diagnosis).
    Namespaces,
    /// The user's Kustomizations the stages depend on, outside flux-system (a diagnosis: they
    /// join [`Observed::kustomizations`]).
    DependencyKustomizations,
    /// With `backup`: the backup CronJob (by name), for its last success.
    CronJobs,
    /// `gitops.engine: argocd`: the Applications, instead of Kustomizations and HelmReleases.
    Applications,
}

/// One list `verify` reads: every object of a kind in a scope, matching the selectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub list: List,
    pub kind: Kind,
    pub scope: Scope,
    /// A label selector.
    pub labels: Option<String>,
    /// A field selector.
    pub fields: Option<String>,
    /// A diagnosis only (a link's cause, not a link): when the list fails (no right to list,
    /// no such CRD), it reads as empty and the rest of the report still stands.
    pub diagnosis: bool,
}

impl ListQuery {
    fn new(list: List, kind: Kind, scope: &Scope) -> Self {
        ListQuery {
            list,
            kind,
            scope: scope.clone(),
            labels: None,
            fields: None,
            diagnosis: false,
        }
    }
    fn labels(mut self, labels: impl Into<String>) -> Self {
        self.labels = Some(labels.into());
        self
    }
    fn named(mut self, name: &str) -> Self {
        self.fields = Some(format!("metadata.name={name}"));
        self.diagnosis = true;
        self
    }
    fn diagnosis(mut self) -> Self {
        self.diagnosis = true;
        self
    }
}

/// What `verify` lists for the apps of `stack` (in `namespace`, when given): one list per kind,
/// a constant number of requests whatever the number of secrets, and nothing for a consumer no
/// app uses. In rounds: a round's lists are read together, the next round once it is done.
pub fn observe(stack: &Stack, namespace: Option<&str>) -> Vec<Vec<ListQuery>> {
    use List as L;
    let in_scope = || {
        stack
            .apps
            .iter()
            .filter(move |a| namespace.is_none_or(|n| a.namespace == n))
    };
    let mut app_namespaces: Vec<String> = in_scope().map(|a| a.namespace.clone()).collect();
    app_namespaces.sort();
    app_namespaces.dedup();
    let apps = match namespace {
        Some(ns) => Scope::Namespaces(vec![ns.to_string()]),
        None => Scope::Cluster {
            fallback: app_namespaces,
        },
    };
    let flux = Scope::Namespaces(vec![model::FLUX_NAMESPACE.to_string()]);
    // VSO's lists only where the tree installs it.
    let vso = stack.operator.installed();
    let mut infra = vec![stack.vault.namespace.clone()];
    if vso {
        infra.push(stack.operator.namespace.clone());
    }
    if stack
        .flux
        .stages
        .iter()
        .any(|s| s.kind == model::StageKind::ExternalSecrets)
    {
        infra.push(model::ESO_NAMESPACE.to_string());
    }
    infra.dedup();
    let releases = Scope::Cluster { fallback: infra };
    let operator = Scope::Namespaces(vec![stack.operator.namespace.clone()]);
    let vault = Scope::Namespaces(vec![stack.vault.namespace.clone()]);
    let engine = match stack.flux.engine {
        crate::spec::types::GitopsEngine::Flux => vec![
            ListQuery::new(L::Kustomizations, Kind::Kustomization, &flux),
            ListQuery::new(L::HelmReleases, Kind::HelmRelease, &releases),
        ],
        crate::spec::types::GitopsEngine::Argocd => {
            let argocd = Scope::Namespaces(vec![stack.flux.argocd.namespace.clone()]);
            vec![ListQuery::new(L::Applications, Kind::Application, &argocd)]
        }
    };
    let mut rounds = vec![engine];
    if vso {
        rounds[0].extend([
            ListQuery::new(L::VaultConnections, Kind::VaultConnection, &operator),
            ListQuery::new(L::VaultAuths, Kind::VaultAuth, &apps),
        ]);
    }
    rounds[0].push(ListQuery::new(
        L::ServiceAccounts,
        Kind::ServiceAccount,
        &apps,
    ));
    if vso {
        rounds[0].extend([
            ListQuery::new(L::StaticSecrets, Kind::VaultStaticSecret, &apps),
            ListQuery::new(L::DynamicSecrets, Kind::VaultDynamicSecret, &apps),
            ListQuery::new(L::PkiSecrets, Kind::VaultPKISecret, &apps),
            ListQuery::new(L::Secrets, Kind::Secret, &apps)
                .labels("app.kubernetes.io/managed-by=hashicorp-vso"),
        ]);
    }
    rounds[0].push(ListQuery {
        fields: Some("type=Warning".into()),
        ..ListQuery::new(L::Events, Kind::Event, &apps)
    });
    // The seal link: only where Vault runs.
    if stack.vault.deploy {
        rounds[0].push(
            ListQuery::new(L::VaultPods, Kind::Pod, &vault)
                .labels(vault_pods::pod_selector(stack.vault.distribution)),
        );
    }
    // One more, with `backup`: the CronJob's last success.
    if let Some(b) = &stack.backup {
        rounds[0].push(ListQuery {
            fields: Some(format!("metadata.name={}", b.name)),
            ..ListQuery::new(L::CronJobs, Kind::CronJob, &vault)
        });
    }
    // One more list, only when the VaultConnection names a CA Secret.
    if let Some(ca) = stack.operator.ca_cert_secret.as_ref().filter(|_| vso) {
        rounds.push(vec![
            ListQuery::new(L::CaSecrets, Kind::Secret, &operator).named(ca)
        ]);
    }
    // One more, only when the tree has cert-manager's issuer (without cert-manager's CRDs or
    // the right to list them, the issuer is reported missing).
    if let Some(cm) = &stack.cert_manager {
        use crate::spec::types::IssuerKind;
        let (kind, scope) = match cm.kind {
            IssuerKind::Issuer => (
                Kind::Issuer,
                Scope::Namespaces(vec![cm.service_account_namespace.clone()]),
            ),
            IssuerKind::ClusterIssuer => (Kind::ClusterIssuer, Scope::Cluster { fallback: vec![] }),
        };
        rounds.push(vec![
            ListQuery::new(L::Issuers, kind, &scope).named(&cm.name)
        ]);
    }
    // One more round of diagnoses, only when the tree relies on what it does not create: the
    // user's Kustomizations outside flux-system that a stage depends on (listed where they
    // live), and, without `gitops.createNamespaces`, the namespaces. Without the right to list
    // them, they are reported as not checked.
    let mut diagnoses = vec![];
    let mut elsewhere: Vec<String> = super::presence::user_kustomizations(stack)
        .into_iter()
        .map(|d| d.namespace)
        .filter(|ns| ns != model::FLUX_NAMESPACE)
        .collect();
    elsewhere.dedup();
    if !elsewhere.is_empty() {
        let scope = Scope::Namespaces(elsewhere);
        diagnoses.push(
            ListQuery::new(L::DependencyKustomizations, Kind::Kustomization, &scope).diagnosis(),
        );
    }
    if !super::presence::needed_namespaces(stack, namespace).is_empty() {
        let cluster = Scope::Cluster { fallback: vec![] };
        diagnoses.push(ListQuery::new(L::Namespaces, Kind::Namespace, &cluster).diagnosis());
    }
    if !diagnoses.is_empty() {
        rounds.push(diagnoses);
    }
    // The other consumers' objects, only for the consumers the apps use.
    let uses = |f: fn(&Consumer) -> bool| in_scope().any(|a| f(&a.consumer));
    let mut consumers = vec![];
    if uses(|c| matches!(c, Consumer::Eso(_))) {
        consumers.push(ListQuery::new(
            L::ExternalSecrets,
            Kind::ExternalSecret,
            &apps,
        ));
        consumers
            .push(ListQuery::new(L::EsoSecrets, Kind::Secret, &apps).labels(ESO_MANAGED_LABEL));
    }
    if uses(|c| matches!(c, Consumer::Csi(_))) {
        consumers.push(ListQuery::new(
            L::SecretProviderClasses,
            Kind::SecretProviderClass,
            &apps,
        ));
        consumers.push(ListQuery::new(
            L::SpcPodStatuses,
            Kind::SecretProviderClassPodStatus,
            &apps,
        ));
    }
    if uses(|c| matches!(c, Consumer::Csi(o) if o.secret_objects)) {
        consumers
            .push(ListQuery::new(L::CsiSecrets, Kind::Secret, &apps).labels(CSI_MANAGED_LABEL));
    }
    let mut injector_namespaces: Vec<String> = in_scope()
        .filter(|a| matches!(a.consumer, Consumer::Injector(_)))
        .map(|a| a.namespace.clone())
        .collect();
    injector_namespaces.sort();
    injector_namespaces.dedup();
    if !injector_namespaces.is_empty() {
        let pods = Scope::Namespaces(injector_namespaces);
        consumers.push(ListQuery::new(L::Pods, Kind::Pod, &pods));
    }
    if !consumers.is_empty() {
        rounds.push(consumers);
    }
    rounds
}

/// Everything listed from the cluster, one list per kind, each object in its typed view.
#[derive(Debug, Default)]
pub struct Observed {
    pub kustomizations: Vec<Object>,
    pub helmreleases: Vec<Object>,
    pub vaultconnections: Vec<Object>,
    pub vaultauths: Vec<Object>,
    pub serviceaccounts: Vec<Object>,
    pub staticsecrets: Vec<Object>,
    pub dynamicsecrets: Vec<Object>,
    pub pkisecrets: Vec<Object>,
    pub secrets: Vec<Secret>,
    pub events: Vec<Event>,
    /// The Secret the VaultConnection trusts for Vault's CA (operator namespace), when the
    /// tree names one: listed by name, so a missing CA is named as the cause.
    pub ca_secrets: Vec<Secret>,
    /// The Vault server pods (the chart's labels), for the seal link.
    pub vault_pods: Vec<crate::vault_pods::VaultPod>,
    /// cert-manager's Vault Issuer or ClusterIssuer (`certManager`), listed by name only when
    /// the tree has one.
    pub issuers: Vec<Object>,
    /// The other consumers' objects (listed only when an app uses that consumer; see
    /// [`super::consumers`]).
    pub externalsecrets: Vec<Object>,
    /// Secrets ESO manages (by its label).
    pub eso_secrets: Vec<Secret>,
    pub secretproviderclasses: Vec<Object>,
    pub spc_pod_statuses: Vec<SpcPodStatus>,
    /// Secrets the CSI driver mirrors (by its label).
    pub csi_secrets: Vec<Secret>,
    /// Pods of the injector apps' namespaces.
    pub pods: Vec<Pod>,
    /// The namespaces (listed only with `gitops.createNamespaces: false`).
    pub namespaces: Vec<Object>,
    /// Argo CD's Applications (`gitops.engine: argocd`).
    pub applications: Vec<super::argocd::Application>,
    /// Kinds the tree needs that the API server does not serve (asked of discovery before
    /// listing, for the consumers whose controller the cluster brings; see
    /// [`super::presence`]).
    pub not_served: Vec<Kind>,
    /// The backup CronJob (with `backup`), as listed: [`super::backup`] reads its status.
    pub cron_jobs: Vec<Value>,
    /// Diagnosis lists that could not be read (they read as empty).
    pub unlisted: Vec<List>,
    /// Listed items that could not be read (not objects): findings of the report.
    pub unreadable: Vec<Unreadable>,
}

impl Observed {
    /// Puts the objects a [`ListQuery`] listed where the verdicts read them, each read into
    /// its view.
    pub fn insert(&mut self, list: List, objects: Vec<Value>) {
        let name = format!("{list:?}");
        let u = &mut self.unreadable;
        match list {
            List::VaultPods => {
                self.vault_pods = objects.iter().map(VaultPod::from_json).collect();
            }
            List::Kustomizations => self.kustomizations = view::read_all(&name, objects, u),
            List::HelmReleases => self.helmreleases = view::read_all(&name, objects, u),
            List::VaultConnections => self.vaultconnections = view::read_all(&name, objects, u),
            List::VaultAuths => self.vaultauths = view::read_all(&name, objects, u),
            List::ServiceAccounts => self.serviceaccounts = view::read_all(&name, objects, u),
            List::StaticSecrets => self.staticsecrets = view::read_all(&name, objects, u),
            List::DynamicSecrets => self.dynamicsecrets = view::read_all(&name, objects, u),
            List::PkiSecrets => self.pkisecrets = view::read_all(&name, objects, u),
            List::Secrets => self.secrets = view::read_all(&name, objects, u),
            List::Events => self.events = view::read_all(&name, objects, u),
            List::CaSecrets => self.ca_secrets = view::read_all(&name, objects, u),
            List::Issuers => self.issuers = view::read_all(&name, objects, u),
            List::ExternalSecrets => self.externalsecrets = view::read_all(&name, objects, u),
            List::EsoSecrets => self.eso_secrets = view::read_all(&name, objects, u),
            List::SecretProviderClasses => {
                self.secretproviderclasses = view::read_all(&name, objects, u)
            }
            List::SpcPodStatuses => self.spc_pod_statuses = view::read_all(&name, objects, u),
            List::CsiSecrets => self.csi_secrets = view::read_all(&name, objects, u),
            List::Pods => self.pods = view::read_all(&name, objects, u),
            List::Namespaces => self.namespaces = view::read_all(&name, objects, u),
            List::CronJobs => self.cron_jobs = objects,
            List::Applications => self.applications = view::read_all(&name, objects, u),
            List::DependencyKustomizations => {
                let more = view::read_all(&name, objects, u);
                self.kustomizations.extend(more);
            }
        }
    }
}

/// Expected CR specs from the rendered tree, keyed by (kind, namespace, name).
pub type ExpectedSpecs = HashMap<(String, String, String), Value>;

/// The generated secret CRs' specs (for drift), keyed by the objects the renderer made.
pub fn expected_specs(rendered: &crate::render::Rendered) -> ExpectedSpecs {
    use crate::model::SecretKind;
    use rayon::prelude::*;
    let secret_kinds = [SecretKind::Static, SecretKind::Dynamic, SecretKind::Pki].map(|k| k.kind());
    rendered
        .files
        .par_iter()
        .filter_map(|f| {
            let o = f.object.as_ref().filter(|o| {
                secret_kinds.contains(&o.kind.as_str())
                    || super::consumers::DRIFT_KINDS.contains(&o.kind.as_str())
            })?;
            let mut v = crate::yaml::from_str::<Value>(&f.body).ok()?;
            let key = (o.kind.clone(), o.namespace.clone(), o.name.clone());
            Some((key, v["spec"].take()))
        })
        .collect()
}

/// The objects of `list` by (namespace, name).
pub(crate) fn index<T: Named>(list: &[T]) -> HashMap<(&str, &str), &T> {
    list.iter().map(|v| (v.name_of(), v)).collect()
}

/// Why an object with a `Ready` condition (a Flux object, an issuer, an ExternalSecret) is not
/// ready: the detail of its check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotReady {
    /// `Ready` is not True: the condition's reason and message.
    #[error("not Ready ({0})")]
    Condition(String),
    #[error("not Ready yet (no Ready condition)")]
    NoCondition,
}

pub(crate) fn ready(v: &Object) -> Result<(), NotReady> {
    match v.condition("Ready") {
        Some(c) if c.is_true() => Ok(()),
        Some(c) => Err(NotReady::Condition(c.text())),
        None => Err(NotReady::NoCondition),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{self, validate};

    fn stack(file: &str, text: &str) -> Stack {
        let sourced = spec::parse(file, text.to_string()).unwrap();
        let spec = validate::typed(sourced.spec, &sourced.index).unwrap();
        model::build(&spec, file)
    }

    fn lists(rounds: &[Vec<ListQuery>]) -> Vec<Vec<List>> {
        rounds
            .iter()
            .map(|r| r.iter().map(|q| q.list).collect())
            .collect()
    }

    /// An item that is not an object is a finding of the report (it fails it), not a crash;
    /// the rest of the list is read.
    #[test]
    fn an_unreadable_item_is_a_finding() {
        let example = stack(
            "example.yaml",
            include_str!("../../../../fixtures/example.yaml"),
        );
        let mut observed = Observed::default();
        observed.insert(
            List::Secrets,
            vec![
                serde_json::json!({"metadata": {"namespace": "shop", "name": "x"}}),
                serde_json::json!(["not", "an", "object"]),
            ],
        );
        assert_eq!(observed.secrets.len(), 1);
        let report =
            super::super::report(&example, &ExpectedSpecs::new(), &observed, None, None, 0);
        let finding = report
            .flux
            .iter()
            .find(|f| f.kind == "Unreadable")
            .expect("a finding");
        assert_eq!(finding.name, "Secrets #2");
        assert!(!finding.ok);
        assert!(
            finding
                .detail
                .starts_with("could not read this item of the Secrets list: a list, not an object"),
            "{}",
            finding.detail
        );
        assert!(!report.ok);
    }

    #[test]
    fn one_list_per_kind_and_a_consumers_lists_only_when_an_app_uses_it() {
        use List::*;
        let example = stack(
            "example.yaml",
            include_str!("../../../../fixtures/example.yaml"),
        );
        let rounds = observe(&example, None);
        assert_eq!(
            lists(&rounds)[0],
            [
                Kustomizations,
                HelmReleases,
                VaultConnections,
                VaultAuths,
                ServiceAccounts,
                StaticSecrets,
                DynamicSecrets,
                PkiSecrets,
                Secrets,
                Events,
                VaultPods
            ]
        );
        assert!(rounds.iter().flatten().all(|q| !matches!(
            q.list,
            ExternalSecrets | EsoSecrets | SecretProviderClasses | Pods
        )));
        let vso = &rounds[0][8];
        assert_eq!(
            vso.labels.as_deref(),
            Some("app.kubernetes.io/managed-by=hashicorp-vso")
        );
        assert!(matches!(vso.scope, Scope::Cluster { .. }));

        let consumers = stack(
            "consumers.yaml",
            include_str!("../../../../fixtures/consumers.yaml"),
        );
        let all = lists(&observe(&consumers, None));
        assert_eq!(
            all.last().unwrap(),
            &[
                ExternalSecrets,
                EsoSecrets,
                SecretProviderClasses,
                SpcPodStatuses,
                CsiSecrets,
                Pods
            ]
        );
        // `-n billing`: that namespace only, and only its consumer's lists.
        let billing = observe(&consumers, Some("billing"));
        assert_eq!(
            lists(&billing).last().unwrap(),
            &[ExternalSecrets, EsoSecrets]
        );
        let only_billing = Scope::Namespaces(vec!["billing".into()]);
        for q in billing.iter().flatten() {
            if matches!(
                q.list,
                VaultAuths | StaticSecrets | Secrets | ExternalSecrets
            ) {
                assert_eq!(q.scope, only_billing, "{q:?}");
            }
        }
        // The CA Secret is a diagnosis, listed by name in a round of its own.
        let ca: Vec<&ListQuery> = billing
            .iter()
            .filter(|r| r.iter().any(|q| q.list == CaSecrets))
            .flatten()
            .collect();
        assert_eq!(ca.len(), 1);
        assert!(ca[0].diagnosis && ca[0].fields.is_some(), "{ca:?}");
    }
}
