//! `infrastructure/<cluster>/vault-secrets-operator/`: the Vault Secrets Operator's namespace,
//! chart and release, written only where the spec installs it (`operator.chart`).

use super::auth::token_review;
use super::values::operator_values;
use super::{
    monitoring, of, HelmReleaseContext, HelmRepositoryContext, NamedRef, NamespaceContext,
    RenderError, Renderer,
};
use crate::kinds;
use crate::model::{self, OperatorChart, Stack};
use crate::vault::side::VaultSide;
use k8s_openapi::api::core::v1::Namespace;
use minijinja::Value;
use serde_json::json;

/// The operator folder: VSO's namespace (unless Vault's), the CA carrier, the chart's
/// repository (unless Vault's), the HelmRelease, a token reviewer (no Vault here), monitoring.
pub(super) fn render_operator(
    r: &mut Renderer,
    stack: &Stack,
    vault: &VaultSide,
    vault_repo: &str,
    chart: &OperatorChart,
) -> Result<(), RenderError> {
    let p = &stack.flux.paths;
    let flux = &stack.flux;
    let deploy = stack.vault.deploy;
    let mut files = vec![];
    if stack.operator.namespace != stack.vault.namespace || !deploy {
        r.object(
            of::<Namespace>("", &stack.operator.namespace),
            format!("{}/namespace.yaml", p.operator),
            "core/namespace.yaml.j2",
            NamespaceContext::kept(&stack.operator.namespace),
        )?;
        files.push("namespace.yaml".to_string());
    }
    if let (Some(issuer), Some(carrier)) = (&stack.vault.tls_issuer, &stack.operator.ca_cert_secret)
    {
        if carrier == model::CA_CARRIER_SECRET {
            // Issued by the same ClusterIssuer, so its Secret's ca.crt is the CA that signed
            // Vault's certificate: the CA reaches the operator namespace through Git alone.
            r.ca_carrier(
                &stack.operator.namespace,
                carrier,
                issuer,
                format!("{}/vault-ca.yaml", p.operator),
            )?;
            files.push("vault-ca.yaml".to_string());
        }
    }
    let same_repository = chart.repository == stack.vault.chart_repository;
    let operator_repo = if same_repository && deploy {
        vault_repo.to_string()
    } else {
        // Without a Vault folder, the operator's folder holds the chart repository itself.
        let name = if same_repository {
            vault_repo
        } else {
            model::OPERATOR_RELEASE
        };
        r.object(
            of::<kinds::HelmRepository>(model::FLUX_NAMESPACE, name),
            format!("{}/helmrepository.yaml", p.operator),
            "flux/helmrepository.yaml.j2",
            HelmRepositoryContext::of(name, &chart.repository),
        )?;
        files.push("helmrepository.yaml".to_string());
        name.to_string()
    };
    r.object(
        of::<kinds::HelmRelease>(&stack.operator.namespace, model::OPERATOR_RELEASE),
        format!("{}/helmrelease.yaml", p.operator),
        "flux/helmrelease.yaml.j2",
        Value::from_serialize(HelmReleaseContext {
            name: model::OPERATOR_RELEASE,
            namespace: &stack.operator.namespace,
            release_name: model::OPERATOR_RELEASE,
            interval: &flux.interval,
            chart: "vault-secrets-operator",
            version: &chart.version,
            repository: NamedRef {
                name: &operator_repo,
                namespace: model::FLUX_NAMESPACE,
            },
            crds: true,
            disable_wait: false,
            annotations: json!({}),
            values: operator_values(stack),
        }),
    )?;
    files.push("helmrelease.yaml".to_string());
    if !deploy {
        // The token reviewer the Vault elsewhere reviews this cluster's logins with.
        files.extend(token_review(r, stack, vault, &p.operator)?);
    }
    files.extend(monitoring::operator(r, stack, &p.operator)?);
    r.kustomization(&p.operator, files)?;
    Ok(())
}
