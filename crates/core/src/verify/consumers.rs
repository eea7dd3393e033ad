//! The pure half of `verify` for the consumers other than the operator: each one's chain.
//!
//! - eso: the ExternalSecret exists and matches what was generated → its `Ready` condition is
//!   True → the Secret exists, is owned by it (ownerReference) and has the declared keys.
//! - csi: the SecretProviderClass exists and matches → every SecretProviderClassPodStatus of a
//!   pod that mounts it says mounted → with `secretObjects`, the mirrored Secret has the keys.
//! - injector: pods carry the Component's annotations → the injector added the agent to them
//!   (the `vault-agent` containers) → they run as the app's service account → the agent is
//!   ready.
//!
//! Values are never read: key names only.

use super::observe::{index, ready};
use super::view::{self, Named, Object, Pod, Secret};
use super::{
    drifted_fields, missing_keys, owner_ref, ExpectedSpecs, FluxCheck, Observed, SecretRow,
    SecretStatus,
};
use crate::model::{self, App, Consumer, DeclaredSecret, StageKind};

/// The kinds whose generated specs `verify` compares (drift), beside VSO's.
pub const DRIFT_KINDS: [&str; 2] = ["ExternalSecret", "SecretProviderClass"];

/// The label ESO sets on the Secrets it manages.
pub const ESO_MANAGED_LABEL: &str = "reconcile.external-secrets.io/managed=true";
/// The label the CSI driver sets on the Secrets it mirrors (`secretObjects`).
pub const CSI_MANAGED_LABEL: &str = "secrets-store.csi.k8s.io/managed=true";
/// The containers the injector adds to a pod.
const AGENT_CONTAINERS: [&str; 2] = ["vault-agent", "vault-agent-init"];

/// Flux checks of the consumers' controllers: the HelmRelease of each one the tree installs
/// (their stages' Kustomizations are checked with the others).
pub fn flux_checks(stack: &Stack, observed: &Observed) -> Vec<FluxCheck> {
    let hr = index(&observed.helmreleases);
    let mut releases = vec![];
    for stage in &stack.flux.stages {
        match stage.kind {
            StageKind::ExternalSecrets => releases.push((model::ESO_NAMESPACE, model::ESO_RELEASE)),
            StageKind::CsiDriver => {
                releases.push((stack.vault.namespace.as_str(), model::CSI_RELEASE))
            }
            _ => {}
        }
    }
    releases
        .into_iter()
        .map(|(ns, name)| ready_check("HelmRelease", ns, name, hr.get(&(ns, name)).copied()))
        .collect()
}

use crate::model::Stack;

fn ready_check(kind: &str, ns: &str, name: &str, obj: Option<&Object>) -> FluxCheck {
    let (ok, detail) = match obj {
        None => (false, "not found".to_string()),
        Some(o) => match ready(o) {
            Ok(()) => (true, "Ready".to_string()),
            Err(e) => (false, e.to_string()),
        },
    };
    FluxCheck {
        kind: kind.into(),
        namespace: ns.into(),
        name: name.into(),
        ok,
        detail,
    }
}

type Failure = (SecretStatus, String);

/// The rows of an app whose consumer is not the operator (`None` for an operator app).
pub fn rows(
    stack: &Stack,
    app: &App,
    expected: &ExpectedSpecs,
    observed: &Observed,
    flux_ok: bool,
) -> Option<Vec<SecretRow>> {
    let kind = match &app.consumer {
        Consumer::Operator => return None,
        Consumer::Eso(_) => "ExternalSecret",
        Consumer::Csi(_) => "SecretProviderClass",
        Consumer::Injector(_) => "Pod",
    };
    // The GitOps engine, when it has not applied the commit: Flux or Argo CD.
    let pending = (!flux_ok).then(|| stack.flux.engine.name());
    let sa_missing = !observed
        .serviceaccounts
        .iter()
        .any(|s| s.name_of() == (app.namespace.as_str(), app.service_account.as_str()));
    let rows = app
        .secrets
        .iter()
        .map(|s| {
            let result = match &app.consumer {
                Consumer::Eso(_) => eso(s, expected, observed, pending),
                Consumer::Csi(c) => csi(s, c, expected, observed, pending),
                Consumer::Injector(_) => injector(stack, app, s, observed),
                Consumer::Operator => unreachable!("returned above"),
            }
            .and_then(|ok| {
                if sa_missing {
                    Err((
                        SecretStatus::AuthInvalid,
                        format!(
                            "ServiceAccount {}/{} not found: the Vault role is bound to it",
                            app.namespace, app.service_account
                        ),
                    ))
                } else {
                    Ok(ok)
                }
            });
            let (status, detail) = match result {
                Ok(detail) => (SecretStatus::Synced, detail),
                Err(f) => f,
            };
            SecretRow {
                namespace: s.namespace.clone(),
                secret: s.name.clone(),
                kind: kind.into(),
                source: s.source.describe(),
                status,
                detail,
                keys: secret_of(app, s, observed)
                    .map(Secret::keys)
                    .unwrap_or_default(),
            }
        })
        .collect();
    Some(rows)
}

/// The Kubernetes Secret a consumer writes for `s`, if it writes one.
fn secret_of<'a>(app: &App, s: &DeclaredSecret, observed: &'a Observed) -> Option<&'a Secret> {
    let list = match &app.consumer {
        Consumer::Eso(_) => &observed.eso_secrets,
        Consumer::Csi(c) if c.secret_objects => &observed.csi_secrets,
        _ => return None,
    };
    named(list, s)
}

/// The object in `list` named as `s` (same namespace and name).
fn named<'a, T: Named>(list: &'a [T], s: &DeclaredSecret) -> Option<&'a T> {
    list.iter()
        .find(|v| v.name_of() == (s.namespace.as_str(), s.name.as_str()))
}

/// The generated object of `kind` for `s`: present, and as generated.
fn present<'a>(
    kind: &str,
    s: &DeclaredSecret,
    list: &'a [Object],
    expected: &ExpectedSpecs,
    pending: Option<&str>,
) -> Result<&'a Object, Failure> {
    let obj = match (named(list, s), pending) {
        (Some(o), _) => o,
        // The engine's own words: Flux's or Argo CD's checks are the rows above.
        (None, Some(engine)) => {
            return Err((
                SecretStatus::NotApplied,
                format!(
                    "{kind} not found, and {engine} has not applied the commit (see the {engine} checks)"
                ),
            ));
        }
        (None, None) => {
            return Err((
                SecretStatus::Missing,
                format!("{kind} {}/{} not found in the cluster", s.namespace, s.name),
            ))
        }
    };
    if let Some(want) = expected.get(&(kind.to_string(), s.namespace.clone(), s.name.clone())) {
        let drift = drifted_fields(want, &obj.spec, "spec");
        if !drift.is_empty() {
            return Err((
                SecretStatus::Drifted,
                format!(
                    "the {kind} differs from what kubectl-vault generated: {}",
                    drift.join("; ")
                ),
            ));
        }
    }
    Ok(obj)
}

/// The declared keys the Secret lacks (any key at all when none are declared).
fn check_keys(
    s: &DeclaredSecret,
    secret: &Secret,
    rename: impl Fn(&str) -> String,
) -> Result<(), Failure> {
    let keys = secret.keys();
    let missing: Vec<String> = if s.keys.is_empty() {
        if keys.is_empty() {
            vec!["<any key>".into()]
        } else {
            vec![]
        }
    } else {
        s.keys
            .iter()
            .map(|k| rename(k))
            .filter(|k| !keys.contains(k))
            .collect()
    };
    if missing.is_empty() {
        return Ok(());
    }
    Err(missing_keys(&missing, &keys))
}

fn eso(
    s: &DeclaredSecret,
    expected: &ExpectedSpecs,
    observed: &Observed,
    pending: Option<&str>,
) -> Result<String, Failure> {
    let es = present(
        "ExternalSecret",
        s,
        &observed.externalsecrets,
        expected,
        pending,
    )?;
    match es.condition("Ready") {
        Some(c) if c.is_true() => {}
        Some(c) => {
            return Err((
                SecretStatus::NotSynced,
                format!("Ready={}: {}", c.status_text(), c.text()),
            ))
        }
        None => {
            return Err((
                SecretStatus::NotReconciled,
                "ESO has not reported Ready yet (is the External Secrets Operator running?)".into(),
            ))
        }
    }
    let secret = named(&observed.eso_secrets, s).ok_or((
        SecretStatus::SecretMissing,
        format!(
            "Secret {}/{} not found (ESO writes it when the ExternalSecret syncs)",
            s.namespace, s.name
        ),
    ))?;
    owner_ref(secret, "ExternalSecret", &es.metadata.uid)?;
    check_keys(s, secret, str::to_string)?;
    Ok("synced by ESO".into())
}

fn csi(
    s: &DeclaredSecret,
    c: &model::Csi,
    expected: &ExpectedSpecs,
    observed: &Observed,
    pending: Option<&str>,
) -> Result<String, Failure> {
    present(
        "SecretProviderClass",
        s,
        &observed.secretproviderclasses,
        expected,
        pending,
    )?;
    let mounts: Vec<&view::SpcPodStatus> = observed
        .spc_pod_statuses
        .iter()
        .filter(|p| {
            p.metadata.namespace == s.namespace
                && p.status.secret_provider_class_name.as_deref() == Some(s.name.as_str())
        })
        .collect();
    if mounts.is_empty() {
        return Ok("SecretProviderClass present; no pod mounts it yet".into());
    }
    if let Some(p) = mounts.iter().find(|p| p.status.mounted != Some(true)) {
        return Err((
            SecretStatus::NotMounted,
            format!(
                "pod {} mounts it, but the CSI driver has not mounted the volume (see the pod's events: FailedMount)",
                p.status.pod_name
            ),
        ));
    }
    if c.secret_objects {
        let secret = named(&observed.csi_secrets, s).ok_or((
                SecretStatus::SecretMissing,
                format!(
                    "Secret {}/{} not found: the driver mirrors it while a pod mounts the volume (is syncSecret enabled?)",
                    s.namespace, s.name
                ),
            ))?;
        let pki = matches!(s.source, model::Source::Pki { .. });
        check_keys(s, secret, |k| match (pki, k) {
            (true, "certificate") => "tls.crt".into(),
            (true, "private_key") => "tls.key".into(),
            (true, "issuing_ca") => "ca.crt".into(),
            _ => k.to_string(),
        })?;
    }
    Ok(format!("mounted in {} pod(s)", mounts.len()))
}

fn injector(
    stack: &Stack,
    app: &App,
    s: &DeclaredSecret,
    observed: &Observed,
) -> Result<String, Failure> {
    let annotation = format!("vault.hashicorp.com/agent-inject-secret-{}", s.name);
    let pods: Vec<&Pod> = observed
        .pods
        .iter()
        .filter(|p| {
            p.metadata.namespace == s.namespace && p.metadata.annotations.contains_key(&annotation)
        })
        .collect();
    let completes = matches!(&app.consumer, Consumer::Injector(i) if i.runs_to_completion());
    if pods.is_empty() && completes {
        // A Job's pods may be gone, a CronJob's exist only while it runs: no pod is no fault.
        return Ok("no pod runs now (a Job or CronJob): nothing to check".into());
    }
    if pods.is_empty() {
        return Err((
            SecretStatus::NotInjected,
            format!(
                "no pod in {} carries {annotation}: include the Component {}/{}/{}/{} in the kustomization of the workload",
                s.namespace,
                stack.flux.paths.apps,
                app.namespace,
                app.name,
                model::INJECTOR_COMPONENT
            ),
        ));
    }
    for p in &pods {
        let name = p.metadata.name.as_str();
        if !p
            .spec
            .init_containers
            .iter()
            .chain(&p.spec.containers)
            .any(|c| AGENT_CONTAINERS.contains(&c.name.as_str()))
        {
            return Err((
                SecretStatus::NotInjected,
                format!("pod {name} carries the annotations but has no vault-agent container: is the injector running (vault.injector) and its webhook reachable?"),
            ));
        }
        let sa = p.spec.service_account_name.as_deref().unwrap_or("default");
        if sa != app.service_account {
            return Err((
                SecretStatus::AuthInvalid,
                format!(
                    "pod {name} runs as ServiceAccount {sa}, but role {} is bound to {}",
                    app.role, app.service_account
                ),
            ));
        }
        let statuses = p
            .status
            .init_container_statuses
            .iter()
            .chain(&p.status.container_statuses);
        for st in statuses {
            if st.name != "vault-agent" {
                continue;
            }
            if st.ready != Some(true) {
                let why = st
                    .state
                    .waiting
                    .reason
                    .as_deref()
                    .or(st.state.terminated.reason.as_deref())
                    .unwrap_or("not ready");
                return Err((
                    SecretStatus::NotSynced,
                    format!("the vault-agent of pod {name} is not ready: {why} (see its log: login or template errors)"),
                ));
            }
        }
    }
    Ok(format!("the agent runs in {} pod(s)", pods.len()))
}
