//! Where Vault runs (`vault.deploy`): a cluster that runs none reaches another's Vault (or one
//! outside every cluster) at `operator.address`, and its pods log in to it through a
//! kubernetes auth mount that holds *this* cluster's API server, CA and token reviewer: the
//! in-cluster defaults would be the Vault's own cluster, where this cluster's tokens are
//! unknown. What only a Vault in the cluster can serve (the agent injector, the CSI provider,
//! a certificate for Vault's own service names) is refused there.

use super::rules::{url_host, Checker};
use crate::model::defaults::{DEFAULT_OPERATOR_NAMESPACE, DEFAULT_VAULT_NAMESPACE};
use crate::model::Distribution;
use crate::spec::types::{Consumer, Spec};

/// The Service names the Vault chart gives a Vault in the cluster (release `vault`).
const VAULT_SERVICES: [&str; 4] = ["", "-active", "-standby", "-internal"];

/// The host names of the in-cluster API server, as a pod reaches it.
pub(crate) fn is_in_cluster_api_host(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    host == "kubernetes"
        || host == "kubernetes.default"
        || host == "kubernetes.default.svc"
        || host.starts_with("kubernetes.default.svc.")
}

/// Whether `host` names the Service of a Vault (of either chart) in this cluster's namespace `ns`.
fn is_in_cluster_vault_host(host: &str, ns: &str) -> bool {
    let host = host.trim_end_matches('.');
    let releases = [Distribution::Vault, Distribution::Openbao].map(Distribution::release);
    (releases.iter())
        .flat_map(|r| VAULT_SERVICES.map(|suffix| format!("{r}{suffix}")))
        .any(|service| {
            [
                format!("{service}.{ns}.svc"),
                format!("{service}.{ns}.svc.cluster.local"),
                format!("{service}.{ns}"),
            ]
            .iter()
            .any(|n| n == host)
        })
}

pub(super) fn check(c: &mut Checker, spec: &Spec) {
    if spec.vault.deploys() {
        return;
    }
    let cluster = &spec.cluster;
    let none = format!("cluster {cluster} runs no Vault (vault.deploy: false)");
    let vault_ns = spec
        .vault
        .namespace
        .as_deref()
        .unwrap_or(DEFAULT_VAULT_NAMESPACE);
    match &spec.operator.address {
        None => c.error(
            "operator.address",
            format!("{none}: operator.address is required, the Vault its operator and apps use"),
            "write the address the Vault (another cluster's, or one outside every cluster) is reached at from this cluster, e.g. `address: https://vault.example.com:8200`",
        ),
        Some(a) if url_host(a).is_some_and(|h| is_in_cluster_vault_host(h, vault_ns)) => c.error(
            "operator.address",
            format!("{none}: `{a}` is the in-cluster address of a Vault this cluster does not run"),
            "write the address the Vault is reached at from this cluster (an ingress, a load balancer or a DNS name of the cluster that runs it), e.g. https://vault.example.com:8200",
        ),
        Some(_) => {}
    }
    let k = spec
        .vault_config
        .as_ref()
        .and_then(|vc| vc.kubernetes_auth.as_ref());
    let auth = "vaultConfig.kubernetesAuth";
    let reviewer_ns = spec
        .operator
        .namespace
        .as_deref()
        .unwrap_or(DEFAULT_OPERATOR_NAMESPACE);
    let reviewer_hint = format!(
        "add `tokenReviewer: {{mode: serviceAccount, jwtFrom: env:NAME}}` (the generated vault-token-reviewer ServiceAccount in {reviewer_ns}; `kubectl create token vault-token-reviewer -n {reviewer_ns} --duration 8760h` in cluster {cluster}) or `tokenReviewer: {{mode: client}}`"
    );
    let Some(k) = k else {
        c.error(
            auth,
            format!("{none}: its pods log in to a Vault outside it, so vaultConfig.kubernetesAuth is required"),
            format!("write `kubernetesAuth: {{host: <cluster {cluster}'s API server URL>, caCertFrom: file:<its CA>, disableLocalCaJwt: true, tokenReviewer: …}}`; {reviewer_hint}"),
        );
        return;
    };
    if url_host(&k.host).is_some_and(is_in_cluster_api_host) {
        c.error(
            &format!("{auth}.host"),
            format!("{none}: `{}` is the API server of the cluster Vault runs in, not cluster {cluster}'s", k.host),
            format!("write the URL cluster {cluster}'s API server is reached at from the Vault (e.g. the `server:` of its kubeconfig)"),
        );
    }
    if k.ca_cert_from.is_none() {
        c.error(
            &format!("{auth}.caCertFrom"),
            format!("{none}: the Vault needs cluster {cluster}'s CA to reach its API server: caCertFrom is missing"),
            format!("add `caCertFrom: file:PATH` with the CA of cluster {cluster}'s API server (PEM; e.g. the kubeconfig's certificate-authority-data, decoded)"),
        );
    }
    if !k.disable_local_ca_jwt {
        c.error(
            &format!("{auth}.disableLocalCaJwt"),
            format!("{none}: without disableLocalCaJwt the Vault reviews logins with the token and CA of the pod it runs in, from another cluster"),
            "add `disableLocalCaJwt: true`",
        );
    }
    if k.token_reviewer.is_none() {
        c.error(
            &format!("{auth}.tokenReviewer"),
            format!("{none}: the Vault needs a token reviewer of cluster {cluster}: tokenReviewer is missing"),
            reviewer_hint,
        );
    }
    if spec.vault.injector == Some(true) {
        c.error(
            "vault.injector",
            format!("{none}: the agent injector comes with the Vault chart, which this cluster does not install"),
            "remove `injector: true`, or run Vault in this cluster",
        );
    }
    if spec.vault.tls_issuer.is_some() {
        c.error(
            "vault.tlsIssuer",
            format!("{none}: tlsIssuer issues the certificate of a Vault in this cluster"),
            "remove it here (set it in the cluster that runs Vault) and name the CA Secret of the Vault's certificate with operator.caCertSecret",
        );
    }
    let https = (spec.operator.address.as_deref()).is_some_and(|a| a.starts_with("https://"));
    for (ai, app) in spec.apps.iter().enumerate() {
        let needs = match app.consumer {
            Consumer::Injector => "the agent injector",
            Consumer::Csi => "the CSI provider",
            Consumer::Eso if https && spec.operator.ca_cert_secret.is_none() => {
                c.error(
                    &format!("apps[{ai}].consumer"),
                    format!("{none}: consumer eso trusts the Vault's certificate through a CA Secret, and operator.caCertSecret names none"),
                    "name the Secret (key ca.crt) holding the CA of the Vault's certificate with operator.caCertSecret; a copy is expected in the app's namespace",
                );
                continue;
            }
            Consumer::Operator | Consumer::Eso => continue,
        };
        c.error(
            &format!("apps[{ai}].consumer"),
            format!(
                "{none}: consumer {} needs {needs} of the Vault chart, which this cluster does not install",
                app.consumer.as_str()
            ),
            "use `consumer: operator` (or `eso`) in a cluster without Vault",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_cluster_names_are_recognized() {
        for h in [
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
        ] {
            assert!(is_in_cluster_api_host(h), "{h}");
        }
        for h in [
            "10.0.0.1",
            "api.staging.example.com",
            "kubernetes.example.com",
        ] {
            assert!(!is_in_cluster_api_host(h), "{h}");
        }
        assert!(is_in_cluster_vault_host(
            "vault-active.vault.svc.cluster.local",
            "vault"
        ));
        assert!(is_in_cluster_vault_host("vault.vault.svc", "vault"));
        assert!(!is_in_cluster_vault_host("vault.example.com", "vault"));
        assert!(!is_in_cluster_vault_host("vault.other.svc", "vault"));
    }
}
