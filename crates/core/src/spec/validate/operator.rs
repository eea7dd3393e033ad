//! `operator`: the Vault Secrets Operator's namespace, chart, address, client cache, and how
//! it trusts Vault's certificate.

use super::rules::{is_url, Checker};
use crate::model::defaults::{DEFAULT_OPERATOR_NAMESPACE, DEFAULT_VAULT_NAMESPACE};
use crate::spec::types::{ChartSpec, ClientCacheSpec, Consumer, Spec, TlsSpec};

pub(super) fn check(c: &mut Checker, spec: &Spec) {
    let o = &spec.operator;
    if let Some(ns) = &o.namespace {
        c.dns_label("operator.namespace", ns, "namespace name");
    }
    match &o.chart {
        Some(chart) => {
            c.chart("operator", chart);
            vso_version(c, chart);
            c.not_null("operator.chart.version");
        }
        None => needs_chart(c, spec),
    }
    if let Some(a) = &o.address {
        if !is_url(a, &["http", "https"]) {
            c.error(
                "operator.address",
                format!("`{a}` is not a Vault address"),
                "write a URL, e.g. https://vault.vault.svc:8200",
            );
        }
    }
    if o.skip_tls_verify {
        c.warn(
            "operator.skipTLSVerify",
            "the operator will not verify Vault's certificate",
            "trust the CA instead (VaultConnection caCertSecretRef) and remove skipTLSVerify",
        );
    }
    if let Some(cc) = &o.client_cache {
        client_cache(c, cc);
    }
}

/// Without `operator.chart` the tree installs no VSO: what needs it is refused.
fn needs_chart(c: &mut Checker, spec: &Spec) {
    const HINT: &str =
        "add `operator: {chart: {version: 1.4.1}}` (the Vault Secrets Operator, BUSL-1.1)";
    if let Some((i, a)) =
        (spec.apps.iter().enumerate()).find(|(_, a)| a.consumer == Consumer::Operator)
    {
        // Located at the app's `consumer`, or at the app when it leaves VSO as its default.
        let field = format!("apps[{i}].consumer");
        c.error(
            &field,
            format!(
                "app {} reads its secrets through the Vault Secrets Operator (`consumer: operator`, the default), and `operator.chart` is missing: the tree installs VSO only from it",
                a.name
            ),
            format!("{HINT}, or give the app another consumer (`consumer: eso`, `csi` or `injector`)"),
        );
    } else if spec.operator.client_cache.is_some() {
        c.error(
            "operator.clientCache",
            "the client cache is the Vault Secrets Operator's, and `operator.chart` is missing: the tree installs no VSO",
            format!("{HINT}, or remove clientCache"),
        );
    } else if !spec.vault.deploys() {
        c.error(
            "vault.deploy",
            "a cluster that runs no Vault (`vault.deploy: false`) keeps its infrastructure (namespace, token reviewer) in the operator's folder, and `operator.chart` is missing",
            HINT,
        );
    }
}

/// The operator chart version decides the status the health checks read: only the lines
/// whose status is known are accepted.
fn vso_version(c: &mut Checker, chart: &ChartSpec) {
    let v = chart.version.trim();
    // An unpinned version is already reported by the chart rule.
    if v.is_empty() || v.contains(['>', '<', '~', '^', '|', '*', ' ']) {
        return;
    }
    if crate::versions::VsoLine::of(v).is_none() {
        c.error(
            "operator.chart.version",
            format!("Vault Secrets Operator chart `{v}` is not supported"),
            format!(
                "pin a supported version: {}",
                crate::versions::SUPPORTED_VSO
            ),
        );
    }
}

/// `operator.clientCache`: the transit mount and key that encrypt VSO's client cache, and
/// the Vault role it logs in with. Whether its mount meets another is
/// `vault_config::mounts`'s to say; whether its role is an app's, `apps::check`'s.
fn client_cache(c: &mut Checker, cc: &ClientCacheSpec) {
    c.vault_path(
        "operator.clientCache.transitMount",
        &cc.transit_mount,
        "mount path",
    );
    c.vault_name(
        "operator.clientCache.keyName",
        &cc.key_name,
        "transit key name",
    );
    c.vault_name("operator.clientCache.role", &cc.role, "Vault role name");
    for f in ["transitMount", "keyName", "role"] {
        c.not_null(&format!("operator.clientCache.{f}"));
    }
    c.vault_mount(
        "operator.clientCache.transitMount",
        &cc.transit_mount,
        "transit mount",
    );
}

/// The operator must be able to trust Vault's certificate without an unwritten manual step.
pub(super) fn trust(c: &mut Checker, spec: &Spec) {
    let o = &spec.operator;
    if let Some(ca) = &o.ca_cert_secret {
        c.dns_subdomain("operator.caCertSecret", ca, "Secret name");
        let https = match &o.address {
            Some(a) => a.starts_with("https://"),
            None => spec.vault.tls != TlsSpec::Disabled,
        };
        if !https || o.skip_tls_verify {
            c.warn(
                "operator.caCertSecret",
                "caCertSecret has no effect: the operator does not verify a certificate here",
                if o.skip_tls_verify {
                    "remove skipTLSVerify so that the CA is used"
                } else {
                    "use it with TLS (vault.tls, or an https operator.address)"
                },
            );
        }
    }
    if let Some(issuer) = &spec.vault.tls_issuer {
        c.dns_subdomain("vault.tlsIssuer", issuer, "ClusterIssuer name");
        if spec.vault.tls == TlsSpec::Disabled {
            c.error(
                "vault.tlsIssuer",
                "tlsIssuer issues Vault's certificate, but TLS is off",
                "name the Secret it should issue into, e.g. `tls: vault-tls`",
            );
        }
        // The tree carries the CA into the operator namespace itself.
        return;
    }
    if o.skip_tls_verify || o.ca_cert_secret.is_some() {
        return;
    }
    let vault_ns = spec
        .vault
        .namespace
        .as_deref()
        .unwrap_or(DEFAULT_VAULT_NAMESPACE);
    let operator_ns = o.namespace.as_deref().unwrap_or(DEFAULT_OPERATOR_NAMESPACE);
    match (&spec.vault.tls, &o.address) {
        (TlsSpec::Secret(tls), None) if vault_ns != operator_ns => c.warn(
            "vault.tls",
            format!(
                "the operator reads Vault's CA from Secret `{tls}` (key ca.crt) in namespace `{operator_ns}`, which this tree does not create (`{tls}` lives in `{vault_ns}`)"
            ),
            format!(
                "copy the CA into `{operator_ns}` (e.g. with trust-manager or your certificate tooling) and name it with operator.caCertSecret"
            ),
        ),
        (_, Some(a)) if a.starts_with("https://") => c.warn(
            "operator.address",
            "the operator will trust this address only through the system CA bundle",
            "for a private CA, put it in a Secret (key ca.crt) in the operator namespace and name it with operator.caCertSecret",
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::locate::LocationIndex;

    const BASE: &str = "apiVersion: kubectl-vault/v1alpha1\nkind: VaultStack\ncluster: dev\nvault:\n  chart: {version: 0.30.0}\n";

    /// The errors of `check` on BASE + `rest`, as `path: message`.
    fn errors(rest: &str) -> Vec<String> {
        let spec: Spec = crate::yaml::from_str(&format!("{BASE}{rest}")).unwrap();
        let index = LocationIndex::build("");
        let mut c = Checker::new(&index);
        check(&mut c, &spec);
        (c.finish().errors.iter())
            .map(|d| format!("{}: {}", d.path, d.message))
            .collect()
    }

    #[test]
    fn without_the_chart_only_what_needs_vso_is_refused() {
        let eso = "apps:\n  - {name: api, namespace: shop, consumer: eso}\n";
        assert_eq!(errors(eso), Vec::<String>::new());
        // The operator's address and CA serve the other consumers without a chart.
        let with_address =
            "operator: {address: https://vault.example.com:8200, caCertSecret: ca}\n";
        assert_eq!(
            errors(&format!("{with_address}{eso}")),
            Vec::<String>::new()
        );
        let vso = errors("apps:\n  - {name: api, namespace: shop, consumer: eso}\n  - {name: web, namespace: shop}\n");
        assert_eq!(vso.len(), 1, "{vso:?}");
        assert!(
            vso[0].starts_with(
                "apps[1].consumer: app web reads its secrets through the Vault Secrets Operator"
            ),
            "{vso:?}"
        );
        let cache =
            errors("operator:\n  clientCache: {transitMount: transit, keyName: vso, role: vso}\n");
        assert!(
            cache.iter().any(|e| e.starts_with(
                "operator.clientCache: the client cache is the Vault Secrets Operator's"
            )),
            "{cache:?}"
        );
        let elsewhere = errors("operator: {address: https://vault.example.com:8200}\n")
            .into_iter()
            .chain(errors(""))
            .collect::<Vec<_>>();
        assert_eq!(elsewhere, Vec::<String>::new());
        let deploy = {
            let spec: Spec = crate::yaml::from_str(&format!(
                "{}  deploy: false\noperator: {{address: https://vault.example.com:8200}}\n",
                BASE
            ))
            .unwrap();
            let index = LocationIndex::build("");
            let mut c = Checker::new(&index);
            check(&mut c, &spec);
            c.finish().errors
        };
        assert!(
            deploy.iter().any(|d| d.path == "vault.deploy"),
            "{deploy:?}"
        );
        // With the chart, as always.
        let chart =
            "operator: {chart: {version: 1.4.1}}\napps:\n  - {name: web, namespace: shop}\n";
        assert_eq!(errors(chart), Vec::<String>::new());
    }
}
