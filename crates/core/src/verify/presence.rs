//! What the tree needs from the cluster and does not create itself, named when it is missing
//! instead of showing only as the downstream errors it causes:
//!
//! - the CRDs of a consumer whose controller the cluster brings (`install: false`, or ESO's
//!   `installCRDs: false`): asked of
//!   discovery before anything of that kind is listed ([`required_kinds`]), a kind the API
//!   server does not serve is named by its CRD;
//! - the user's Flux Kustomizations the stages depend on (`dependsOn`): present and Ready
//!   (outside flux-system, listed as a diagnosis: without the right to, not checked);
//! - with `gitops.createNamespaces: false`, the app namespaces (and cert-manager's issuer's):
//!   listed when the credentials may (a diagnosis: without the right to list namespaces the
//!   check says it could not look).
//!
//! Each finding fails the report (exit 1) without changing any secret's row, as the issuer's.

use super::observe::{index, ready, List, ListQuery, Observed};
use super::{FluxCheck, SecretRow, SecretStatus};
use crate::kinds::Kind;
use crate::model::{self, AppsOf, KustomizationRef, Stack};
use std::collections::BTreeSet;

/// The consumer kinds the apps in scope need whose CRDs the tree does not install (the
/// cluster brings the controller, or ESO's `installCRDs: false`): verify asks discovery
/// whether the API server serves each before listing any of them.
pub fn required_kinds(stack: &Stack, namespace: Option<&str>) -> Vec<Kind> {
    let uses = |of: AppsOf| {
        stack
            .apps
            .iter()
            .filter(|a| namespace.is_none_or(|n| a.namespace == n))
            .any(|a| AppsOf::of(a) == of)
    };
    let mut kinds = vec![];
    let eso = &stack.external_secrets;
    if uses(AppsOf::Eso) && !(eso.install && eso.install_crds) {
        kinds.push(Kind::ExternalSecret);
        let cluster_store = stack
            .apps
            .iter()
            .any(|a| matches!(&a.consumer, model::Consumer::Eso(e) if e.cluster_store));
        let namespaced_store = stack
            .apps
            .iter()
            .any(|a| matches!(&a.consumer, model::Consumer::Eso(e) if !e.cluster_store));
        if namespaced_store {
            kinds.push(Kind::SecretStore);
        }
        if cluster_store {
            kinds.push(Kind::ClusterSecretStore);
        }
    }
    if uses(AppsOf::Csi) && !stack.csi_driver.install {
        kinds.push(Kind::SecretProviderClass);
        kinds.push(Kind::SecretProviderClassPodStatus);
    }
    kinds
}

/// `rounds` without the lists of `missing` kinds (the API server does not serve them: listing
/// would fail the whole run on what [`check`] names).
pub fn without_kinds(rounds: Vec<Vec<ListQuery>>, missing: &[Kind]) -> Vec<Vec<ListQuery>> {
    rounds
        .into_iter()
        .map(|r| {
            r.into_iter()
                .filter(|q| !missing.contains(&q.kind))
                .collect()
        })
        .filter(|r: &Vec<ListQuery>| !r.is_empty())
        .collect()
}

/// The user's Kustomizations the stages depend on (not stages of the tree).
pub fn user_kustomizations(stack: &Stack) -> Vec<KustomizationRef> {
    let stages: BTreeSet<&str> = stack.flux.stages.iter().map(|s| s.name.as_str()).collect();
    let mut out: Vec<KustomizationRef> = stack
        .flux
        .stages
        .iter()
        .flat_map(|s| &s.depends_on)
        .filter(|d| d.namespace != model::FLUX_NAMESPACE || !stages.contains(d.name.as_str()))
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The namespaces the apps in scope need and the tree does not create
/// (`gitops.createNamespaces: false`); empty when it creates them.
pub fn needed_namespaces(stack: &Stack, namespace: Option<&str>) -> Vec<String> {
    if stack.flux.create_namespaces {
        return vec![];
    }
    let mut infra = vec![&stack.vault.namespace];
    if stack.operator.installed() {
        infra.push(&stack.operator.namespace);
    }
    let issuer = stack
        .cert_manager
        .as_ref()
        .map(|c| &c.service_account_namespace)
        .filter(|_| namespace.is_none());
    let mut out: Vec<String> = stack
        .apps
        .iter()
        .map(|a| &a.namespace)
        .filter(|ns| namespace.is_none_or(|n| *ns == n))
        .chain(issuer)
        .filter(|ns| !infra.contains(ns))
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The findings: a missing CRD, a missing or not Ready Kustomization of `dependsOn`, a
/// missing namespace.
pub fn check(stack: &Stack, observed: &Observed, namespace: Option<&str>) -> Vec<FluxCheck> {
    let mut out = vec![];
    for kind in &observed.not_served {
        let r = kind.resource();
        let (section, what, controller) = match kind {
            Kind::ExternalSecret | Kind::SecretStore | Kind::ClusterSecretStore => {
                ("externalSecrets", "ESO", &stack.external_secrets)
            }
            _ => (
                "csiDriver",
                "the Secrets Store CSI driver",
                &stack.csi_driver,
            ),
        };
        let by = if controller.depends_on.is_empty() {
            "the cluster's own (an add-on)".to_string()
        } else {
            let names: Vec<String> = controller
                .depends_on
                .iter()
                .map(|d| d.to_string())
                .collect();
            format!(
                "the Kustomizations of {section}.dependsOn ({})",
                names.join(", ")
            )
        };
        let why = if controller.install {
            format!("{section}.installCRDs is false, so {what}'s CRDs must come from {by}")
        } else {
            format!("{section}.install is false, so {what} must come from {by}")
        };
        out.push(FluxCheck {
            kind: "CustomResourceDefinition".into(),
            namespace: String::new(),
            name: kind.qualified(),
            ok: false,
            detail: format!(
                "not served: the API server has no {}/{} {}; {why}",
                r.group, r.version, r.kind
            ),
        });
    }
    let ks = index(&observed.kustomizations);
    let unlisted = observed.unlisted.contains(&List::DependencyKustomizations);
    for d in user_kustomizations(stack) {
        let (ok, detail) = match ks.get(&(d.namespace.as_str(), d.name.as_str())) {
            None if unlisted && d.namespace != model::FLUX_NAMESPACE => (
                true,
                format!(
                    "not checked: the credentials may not list Kustomizations in namespace {}",
                    d.namespace
                ),
            ),
            None => (
                false,
                "not found: a stage of the tree depends on it (dependsOn), and waits for it"
                    .to_string(),
            ),
            Some(k) => match ready(k) {
                Ok(()) => (true, "Ready".to_string()),
                Err(e) => (false, format!("{e}: a stage of the tree waits for it")),
            },
        };
        out.push(FluxCheck {
            kind: "Kustomization".into(),
            namespace: d.namespace.clone(),
            name: d.name.clone(),
            ok,
            detail,
        });
    }
    let needed = needed_namespaces(stack, namespace);
    if needed.is_empty() {
        return out;
    }
    if observed.unlisted.contains(&List::Namespaces) {
        out.push(FluxCheck {
            kind: "Namespace".into(),
            namespace: String::new(),
            name: needed.join(","),
            ok: true,
            detail: "not checked: the credentials may not list namespaces (gitops.createNamespaces is false, so the tree does not create them)".into(),
        });
        return out;
    }
    let present: BTreeSet<&str> = observed
        .namespaces
        .iter()
        .map(|n| n.metadata.name.as_str())
        .collect();
    for ns in needed.iter().filter(|ns| !present.contains(ns.as_str())) {
        let apps: Vec<&str> = stack
            .apps
            .iter()
            .filter(|a| &a.namespace == ns)
            .map(|a| a.name.as_str())
            .collect();
        let users = if apps.is_empty() {
            "cert-manager's issuer".to_string()
        } else {
            format!("app(s) {}", apps.join(", "))
        };
        out.push(FluxCheck {
            kind: "Namespace".into(),
            namespace: String::new(),
            name: ns.clone(),
            ok: false,
            detail: format!(
                "not found: gitops.createNamespaces is false, so the tree does not create it; {users} need it (create it where your apps' or platform's Kustomizations declare namespaces)"
            ),
        });
    }
    out
}

/// The rows of secrets whose kind the API server does not serve say so (rather than that
/// their object is missing, as if someone had deleted it).
pub fn explain_rows(rows: &mut [SecretRow], observed: &Observed) {
    for row in rows.iter_mut().filter(|r| r.status != SecretStatus::Synced) {
        if let Some(kind) = observed
            .not_served
            .iter()
            .find(|k| k.resource().kind == row.kind)
        {
            row.status = SecretStatus::NotApplied;
            row.detail = format!(
                "the API server does not serve {} (its CRD is not installed): see the checks above",
                kind.qualified()
            );
        }
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

    const CONSUMERS: &str = include_str!("../../../../fixtures/consumers.yaml");
    const BROUGHT: &str = include_str!("../../../../fixtures/bring-your-own.yaml");

    #[test]
    fn discovery_only_for_the_crds_the_tree_does_not_install() {
        let installed = stack("consumers.yaml", CONSUMERS);
        assert!(required_kinds(&installed, None).is_empty());
        let brought = stack("bring-your-own.yaml", BROUGHT);
        assert_eq!(
            required_kinds(&brought, None),
            [
                Kind::ExternalSecret,
                Kind::SecretStore,
                Kind::SecretProviderClass,
                Kind::SecretProviderClassPodStatus
            ]
        );
        // `-n shop` (a VSO app only): nothing of ESO or the driver is read.
        assert!(required_kinds(&brought, Some("shop")).is_empty());
        // The tree installs ESO but not its CRDs.
        let crds_elsewhere = CONSUMERS.replace(
            "apps:\n",
            "externalSecrets:\n  installCRDs: false\n  dependsOn: [eso-crds]\napps:\n",
        );
        let s = stack("consumers.yaml", &crds_elsewhere);
        assert_eq!(
            required_kinds(&s, None),
            [
                Kind::ExternalSecret,
                Kind::SecretStore,
                Kind::ClusterSecretStore
            ]
        );
    }

    #[test]
    fn namespaces_are_checked_only_when_the_tree_does_not_create_them() {
        assert!(needed_namespaces(&stack("consumers.yaml", CONSUMERS), None).is_empty());
        let brought = stack("bring-your-own.yaml", BROUGHT);
        assert_eq!(
            needed_namespaces(&brought, None),
            ["billing", "search", "shop"]
        );
        assert_eq!(needed_namespaces(&brought, Some("search")), ["search"]);
        assert_eq!(
            user_kustomizations(&brought),
            [KustomizationRef::parse("platform/external-secrets")]
        );
    }
}
