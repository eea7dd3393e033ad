//! cert-manager's Vault issuer (`certManager`).

use super::defaults::{default_issuer_role, CERT_MANAGER_NAMESPACE, CERT_MANAGER_SERVICE_ACCOUNT};
use super::{Stack, CA_CARRIER_SECRET};
use crate::spec::types as spec;

/// A cert-manager Vault issuer: a ServiceAccount cert-manager requests tokens for, the
/// kubernetes-auth role they log in with, and a policy that may only sign with one PKI role.
#[derive(Debug, Clone)]
pub struct CertManager {
    /// cert-manager's own namespace and controller ServiceAccount (the token requester).
    pub namespace: String,
    pub controller_service_account: String,
    pub kind: spec::IssuerKind,
    pub name: String,
    /// Where the issuer's ServiceAccount lives: the Issuer's namespace, or cert-manager's
    /// (its cluster resource namespace) for a ClusterIssuer.
    pub service_account_namespace: String,
    pub service_account: String,
    /// The PKI mount and role it signs with (`MOUNT/sign/ROLE`).
    pub mount: String,
    pub pki_role: String,
    /// Vault kubernetes-auth role and its policy.
    pub role: String,
    pub policy: String,
    /// The audience cert-manager requests its tokens with: `vault://<namespace>/<name>` for an
    /// Issuer, `vault://<name>` for a ClusterIssuer.
    pub audience: String,
    /// The Vault address (the operator's) and the Secret, in the ServiceAccount's namespace,
    /// whose `ca.crt` verifies it (https only).
    pub server: String,
    pub ca_bundle_secret: Option<String>,
    /// With `vault.tlsIssuer` and no `caBundleSecret`: the ClusterIssuer whose Certificate
    /// carries Vault's CA into `ca_bundle_secret` (as for the operator).
    pub ca_carrier_issuer: Option<String>,
}

impl CertManager {
    /// The one path its policy grants (`update`).
    pub fn sign_path(&self) -> String {
        format!("{}/sign/{}", self.mount, self.pki_role)
    }
    /// The Role that lets cert-manager request the ServiceAccount's tokens.
    pub fn token_role(&self) -> String {
        format!("{}-token-request", self.service_account)
    }
}

pub(super) fn cert_manager(c: &spec::CertManagerSpec, stack: &Stack) -> CertManager {
    let cluster = &stack.cluster;
    let i = &c.issuer;
    let server = stack.operator.address.clone();
    let https = server.starts_with("https://");
    let carrier = match (&i.ca_bundle_secret, &stack.vault.tls_issuer) {
        (None, Some(issuer)) if https && spec_address_is_in_cluster(stack) => Some(issuer.clone()),
        _ => None,
    };
    let namespace = c
        .namespace
        .clone()
        .unwrap_or_else(|| CERT_MANAGER_NAMESPACE.into());
    let kind = i.kind.unwrap_or(spec::IssuerKind::Issuer);
    let (service_account_namespace, audience) = match kind {
        spec::IssuerKind::Issuer => {
            let ns = i.namespace.clone().unwrap_or_else(|| namespace.clone());
            let audience = format!("vault://{ns}/{}", i.name);
            (ns, audience)
        }
        spec::IssuerKind::ClusterIssuer => (namespace.clone(), format!("vault://{}", i.name)),
    };
    CertManager {
        controller_service_account: c
            .controller_service_account
            .clone()
            .unwrap_or_else(|| CERT_MANAGER_SERVICE_ACCOUNT.into()),
        kind,
        name: i.name.clone(),
        service_account: i.service_account.clone().unwrap_or_else(|| i.name.clone()),
        mount: i.pki.0.mount.clone(),
        pki_role: i.pki.0.role.clone(),
        role: i
            .role
            .clone()
            .unwrap_or_else(|| default_issuer_role(&i.name)),
        // Policies are global in a Vault: the cluster's name keeps two clusters' apart.
        policy: format!("{cluster}-cert-manager-{}", i.name),
        audience,
        server,
        ca_bundle_secret: if https {
            i.ca_bundle_secret
                .clone()
                .or_else(|| carrier.as_ref().map(|_| CA_CARRIER_SECRET.to_string()))
        } else {
            None
        },
        ca_carrier_issuer: carrier,
        service_account_namespace,
        namespace,
    }
}

/// True when the operator reaches the in-cluster Vault (no `operator.address` of its own).
fn spec_address_is_in_cluster(stack: &Stack) -> bool {
    stack.operator.address == stack.vault.active_address()
}
