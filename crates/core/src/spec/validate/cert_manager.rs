//! `certManager`: the issuer's names are Kubernetes names, its PKI role is declared, and its
//! Vault role, policy and ServiceAccount are its own.

use super::rules::Checker;
use crate::model::defaults::{default_app_role, default_issuer_role, CERT_MANAGER_NAMESPACE};
use crate::spec::types::{IssuerKind, Spec, TlsSpec};

pub(super) fn check(c: &mut Checker, spec: &Spec) {
    let Some(cm) = &spec.cert_manager else {
        return;
    };
    let base = "certManager.issuer";
    let i = &cm.issuer;
    c.dns_subdomain(&format!("{base}.name"), &i.name, "issuer name");
    if let Some(ns) = &cm.namespace {
        c.dns_label("certManager.namespace", ns, "namespace name");
    }
    if let Some(sa) = &cm.controller_service_account {
        c.dns_subdomain(
            "certManager.controllerServiceAccount",
            sa,
            "ServiceAccount name",
        );
    }
    if let Some(sa) = &i.service_account {
        c.dns_subdomain(&format!("{base}.serviceAccount"), sa, "ServiceAccount name");
    }
    match (i.kind.unwrap_or(IssuerKind::Issuer), &i.namespace) {
        (IssuerKind::ClusterIssuer, Some(_)) => c.error(
            &format!("{base}.namespace"),
            "a ClusterIssuer has no namespace",
            "remove it: a ClusterIssuer's ServiceAccount lives in cert-manager's namespace (certManager.namespace)",
        ),
        (IssuerKind::Issuer, Some(ns)) => {
            c.dns_label(&format!("{base}.namespace"), ns, "namespace name")
        }
        _ => {}
    }
    let pki = &i.pki.0;
    c.vault_path(&format!("{base}.pki"), &pki.mount, "pki mount");
    c.vault_name(&format!("{base}.pki"), &pki.role, "pki role name");
    match spec
        .vault_config
        .as_ref()
        .and_then(|vc| vc.pki.get(&pki.mount))
    {
        None => c.error(
            &format!("{base}.pki"),
            format!(
                "pki mount `{}` is not declared in vaultConfig.pki",
                pki.mount
            ),
            format!(
                "add `{}:` with the role `{}` under vaultConfig.pki",
                pki.mount, pki.role
            ),
        ),
        Some(m) if !m.roles.contains_key(&pki.role) => c.error(
            &format!("{base}.pki"),
            format!(
                "role `{}` is not declared in vaultConfig.pki.{}.roles",
                pki.role, pki.mount
            ),
            format!(
                "declare it (allowedDomains for the certificates cert-manager will request){}",
                if m.roles.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", or use one of: {}",
                        m.roles.keys().cloned().collect::<Vec<_>>().join(", ")
                    )
                }
            ),
        ),
        Some(_) => {}
    }
    // Its Vault role and policy must not be an app's (or the operator's).
    let role = i
        .role
        .clone()
        .unwrap_or_else(|| default_issuer_role(&i.name));
    if i.role.is_some() {
        c.vault_name(&format!("{base}.role"), &role, "Vault role name");
    }
    let app_roles = spec.apps.iter().enumerate().map(|(ai, a)| {
        (
            a.role
                .clone()
                .unwrap_or_else(|| default_app_role(&a.namespace, &a.name)),
            format!("apps[{ai}].role"),
        )
    });
    let cache_role = spec
        .operator
        .client_cache
        .iter()
        .map(|cc| (cc.role.clone(), "operator.clientCache.role".to_string()));
    for (other, at) in app_roles.chain(cache_role) {
        if other == role {
            c.error(
                &format!("{base}.role"),
                format!("Vault role `{role}` is already used by {at}"),
                "give cert-manager's issuer its own role (`role:`): its policy may only sign",
            );
        }
    }
    let https = match &spec.operator.address {
        Some(a) => a.starts_with("https://"),
        None => spec.vault.tls != TlsSpec::Disabled,
    };
    let carried = spec.operator.address.is_none() && spec.vault.tls_issuer.is_some();
    if https && i.ca_bundle_secret.is_none() && !carried {
        c.warn(
            &format!("{base}.name"),
            "cert-manager will verify Vault's certificate with its own system CAs only",
            "name a Secret holding Vault's CA (key ca.crt) in the issuer's namespace with `caBundleSecret:`, or let `vault.tlsIssuer` issue Vault's certificate",
        );
    }
    if let Some(secret) = &i.ca_bundle_secret {
        c.dns_subdomain(&format!("{base}.caBundleSecret"), secret, "Secret name");
    }
    // Its ServiceAccount is generated: it must not be an app's (one object, two owners).
    let cm_namespace = cm.namespace.as_deref().unwrap_or(CERT_MANAGER_NAMESPACE);
    let sa_namespace = match i.kind.unwrap_or(IssuerKind::Issuer) {
        IssuerKind::Issuer => i.namespace.as_deref().unwrap_or(cm_namespace),
        IssuerKind::ClusterIssuer => cm_namespace,
    };
    let sa = i.service_account.as_deref().unwrap_or(&i.name);
    for (ai, a) in spec.apps.iter().enumerate() {
        let app_sa = a.service_account.as_deref().unwrap_or(&a.name);
        if a.namespace == sa_namespace && app_sa == sa {
            let field = if i.service_account.is_some() {
                "serviceAccount"
            } else {
                "name"
            };
            c.error(
                &format!("{base}.{field}"),
                format!("ServiceAccount {sa_namespace}/{sa} is already the one of apps[{ai}]"),
                "give the issuer a ServiceAccount of its own (`serviceAccount:`): cert-manager may request its tokens",
            );
        }
    }
    let policy = format!("{}-cert-manager-{}", spec.cluster, i.name);
    for (ai, a) in spec.apps.iter().enumerate() {
        if format!("{}-{}-{}", spec.cluster, a.namespace, a.name) == policy {
            c.error(
                &format!("{base}.name"),
                format!("the issuer's Vault policy `{policy}` would be the one of apps[{ai}]"),
                "rename the issuer",
            );
        }
    }
}
