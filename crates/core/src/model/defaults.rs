//! The model's defaults: what applies where the spec says nothing. Validation reads them
//! too, so that it checks the names the model will use.

use crate::duration::{Duration, Grammar};

pub(crate) const DEFAULT_SOURCE_REF: &str = "flux-system";
pub(crate) const DEFAULT_INTERVAL: &str = "10m";
/// What the Argo CD Applications track without `gitops.targetRevision`.
pub(crate) const DEFAULT_TARGET_REVISION: &str = "HEAD";
pub(crate) const DEFAULT_VAULT_NAMESPACE: &str = "vault";
pub(crate) const DEFAULT_OPERATOR_NAMESPACE: &str = "vault-secrets-operator";
pub(crate) const HASHICORP_HELM_REPOSITORY: &str = "https://helm.releases.hashicorp.com";
pub(crate) const DEFAULT_AUDIENCE: &str = "vault";

/// The kubernetes auth mount is the cluster's own unless the spec names one: a mount holds one
/// API server's host and CA, so clusters sharing a Vault need one each.
pub(crate) fn default_auth_mount(cluster: &str) -> String {
    format!("kubernetes-{cluster}")
}

/// cert-manager's default namespace and controller ServiceAccount (the chart's names).
pub(crate) const CERT_MANAGER_NAMESPACE: &str = "cert-manager";
pub(crate) const CERT_MANAGER_SERVICE_ACCOUNT: &str = "cert-manager";

/// The default API server audience a client-JWT token reviewer adds to every app's tokens.
pub(crate) const DEFAULT_API_AUDIENCE: &str = "https://kubernetes.default.svc.cluster.local";

/// An app's kubernetes-auth role unless it names one: `<namespace>-<name>`.
pub(crate) fn default_app_role(namespace: &str, name: &str) -> String {
    format!("{namespace}-{name}")
}

/// cert-manager's issuer's kubernetes-auth role unless it names one: `cert-manager-<name>`.
pub(crate) fn default_issuer_role(issuer: &str) -> String {
    format!("cert-manager-{issuer}")
}

/// VSO renews a certificate only `expiryOffset` before it expires (none: at expiry, when
/// clients already reject it). Default: a third of its lifetime, as cert-manager renews.
pub(crate) fn default_expiry_offset(ttl: &str) -> Option<String> {
    let total = Duration::parse(ttl, Grammar::Vault)?.as_secs_f64();
    let secs = (total / 3.0).floor() as u64;
    if secs == 0 {
        return None;
    }
    // VSO's pattern: a number and one of s, m, h.
    Some(if secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    })
}
