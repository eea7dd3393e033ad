//! The Flux side of the stages ([`crate::model::stages`]): one Kustomization object per stage
//! in `clusters/<cluster>/`, the namespaces stage's folder, and the folder of each apps stage,
//! which lists the app folders of its consumer (`../<namespace>/<app>`). Every object is in
//! exactly one stage: no two Kustomizations apply the same one.

use super::{of, FluxKustomizationContext, NamespaceContext, RenderError, Renderer};
use super::{VaultConnectionContext, RETRY_INTERVAL};
use crate::kinds;
use crate::model::stages::namespace_folders;
use crate::model::{self, AppsOf, Stack, Stage, StageKind};
use crate::versions;
use k8s_openapi::api::core::v1::Namespace;
use minijinja::Value;
use serde::Serialize;

/// One `dependsOn` entry; the namespace only when it is not the stages' own (flux-system).
#[derive(Serialize)]
pub(super) struct DependsOnContext<'a> {
    name: &'a str,
    namespace: Option<&'a str>,
}

/// `clusters/<cluster>/<stage>.yaml` for every stage.
pub(super) fn flux_kustomizations(r: &mut Renderer, stack: &Stack) -> Result<(), RenderError> {
    let flux = &stack.flux;
    for stage in &flux.stages {
        r.object(
            of::<kinds::Kustomization>(model::FLUX_NAMESPACE, &stage.name),
            format!("{}/{}.yaml", flux.paths.cluster, stage.name),
            "flux/kustomization.yaml.j2",
            Value::from_serialize(FluxKustomizationContext {
                name: &stage.name,
                namespace: model::FLUX_NAMESPACE,
                interval: &flux.interval,
                path: &stage.path,
                source_ref: &flux.source_ref,
                depends_on: stage
                    .depends_on
                    .iter()
                    .map(|d| DependsOnContext {
                        name: &d.name,
                        namespace: (d.namespace != model::FLUX_NAMESPACE)
                            .then_some(d.namespace.as_str()),
                    })
                    .collect(),
                retry_interval: RETRY_INTERVAL,
                wait: stage.wait,
                health_check_exprs: health_checks(stack, stage),
            }),
        )?;
    }
    Ok(())
}

/// The CEL health checks of a stage: each apps stage judges its consumer's kinds, read the
/// way the version in the tree writes their status.
fn health_checks(stack: &Stack, stage: &Stage) -> Vec<versions::HealthCheck> {
    match stage.kind {
        StageKind::Apps(AppsOf::Operator) => stack
            .operator
            .vso()
            .map(versions::health_checks)
            .unwrap_or_default(),
        StageKind::Apps(AppsOf::Eso) => versions::consumer_health_checks(true, false),
        StageKind::CertManager => versions::consumer_health_checks(false, true),
        _ => vec![],
    }
}

/// The namespaces stage's folder: a Namespace per app namespace (with
/// `gitops.createNamespaces`) and the CA carriers, one file each.
pub(super) fn namespaces(r: &mut Renderer, stack: &Stack) -> Result<(), RenderError> {
    let Some(stage) = stage_of(stack, StageKind::Namespaces) else {
        return Ok(());
    };
    let dir = &stage.path;
    let mut files = vec![];
    for (ns, folder) in namespace_folders(stack) {
        if folder.namespace {
            // Kept when the last app of the namespace goes: the user's workloads live there.
            let file = format!("namespace-{ns}.yaml");
            r.object(
                of::<Namespace>("", &ns),
                format!("{dir}/{file}"),
                "core/namespace.yaml.j2",
                NamespaceContext::kept(&ns),
            )?;
            files.push(file);
        }
        if let Some(issuer) = &stack.vault.tls_issuer {
            for carrier in &folder.carriers {
                // Vault's CA for the agents, ESO stores and issuers of this namespace, as in
                // the operator's.
                let file = format!("{ns}-{carrier}.yaml");
                r.ca_carrier(&ns, carrier, issuer, format!("{dir}/{file}"))?;
                files.push(file);
            }
        }
    }
    r.kustomization(dir, files)
}

/// The folder of each apps stage: its consumer's app folders (and the operator's stage, the
/// VaultConnection every VaultAuth names).
pub(super) fn app_stages(r: &mut Renderer, stack: &Stack) -> Result<(), RenderError> {
    for stage in &stack.flux.stages {
        let StageKind::Apps(consumer) = stage.kind else {
            continue;
        };
        let dir = &stage.path;
        let mut entries = vec![];
        if consumer == AppsOf::Operator {
            r.object(
                of::<kinds::VaultConnection>(&stack.operator.namespace, model::VAULT_CONNECTION),
                format!("{dir}/vault-connection.yaml"),
                "vso/vaultconnection.yaml.j2",
                Value::from_serialize(VaultConnectionContext {
                    name: model::VAULT_CONNECTION,
                    namespace: &stack.operator.namespace,
                    address: &stack.operator.address,
                    skip_tls_verify: stack.operator.skip_tls_verify,
                    ca_cert_secret: stack.operator.ca_cert_secret.as_deref(),
                }),
            )?;
            entries.push("vault-connection.yaml".to_string());
        }
        let mut apps: Vec<String> = stack
            .apps
            .iter()
            .filter(|a| AppsOf::of(a) == consumer)
            .map(|a| format!("../{}/{}", a.namespace, a.name))
            .collect();
        apps.sort();
        entries.extend(apps);
        r.kustomization(dir, entries)?;
    }
    Ok(())
}

/// The stage of `kind`, if the tree has one.
pub(super) fn stage_of(stack: &Stack, kind: StageKind) -> Option<&Stage> {
    stack.flux.stages.iter().find(|s| s.kind == kind)
}
