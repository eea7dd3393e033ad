//! `vault`: the Vault server's namespace, chart, replicas, TLS, seal and chart values.

use super::rules::{is_url, Checker};
use crate::spec::scan::shown;
use crate::spec::types::{TlsSpec, VaultSpec};

/// The largest `vault.replicas`: 7, the largest cluster in the deployment table of Vault's
/// integrated storage (raft) documentation (quorum 4, failure tolerance 3). HashiCorp
/// recommends 5 voters; more voters make every write slower and add no useful tolerance.
const MAX_REPLICAS: u32 = 7;

/// Everything of `vault` but `replicas` (see [`replicas`]).
pub(super) fn check(c: &mut Checker, v: &VaultSpec) {
    if let Some(ns) = &v.namespace {
        c.dns_label("vault.namespace", ns, "namespace name");
    }
    match &v.chart {
        Some(chart) => {
            c.chart("vault", chart);
            c.not_null("vault.chart.version");
        }
        None if v.deploys() => c.error(
            "vault.chart",
            "the Vault Helm chart is required: this cluster runs Vault",
            "pin it, e.g. `chart: {version: 0.30.0}`; or write `deploy: false` for a cluster that uses a Vault running elsewhere",
        ),
        None => {}
    }
    // The server's own settings matter only where it runs (see `placement`).
    if !v.deploys() {
        return;
    }
    match &v.tls {
        TlsSpec::Disabled => c.warn(
            "vault.tls",
            "TLS is off: Vault tokens and secrets cross the cluster network in clear text",
            "name a kubernetes.io/tls Secret, e.g. `tls: vault-tls`",
        ),
        TlsSpec::Secret(name) => c.dns_subdomain("vault.tls", name, "TLS Secret name"),
    }
    auto_unseal(c, v);
    tls_certificate(c, v);
    if let Some(values) = &v.values {
        if !values.is_mapping() {
            c.error(
                "vault.values",
                "values must be a map of chart values",
                "e.g. `values: {server: {resources: {...}}}`",
            );
        }
    }
}

/// `vault.tlsCertificate`: Go durations cert-manager accepts, only with `tlsIssuer`; the
/// renewal before the expiry.
fn tls_certificate(c: &mut Checker, v: &VaultSpec) {
    use crate::duration::{Duration, Grammar};
    let Some(t) = &v.tls_certificate else { return };
    if v.tls_issuer.is_none() {
        c.error(
            "vault.tlsCertificate",
            "tlsCertificate sets the lifetime of the certificate vault.tlsIssuer issues, but there is no tlsIssuer",
            "name the cert-manager ClusterIssuer in `tlsIssuer:`, or drop tlsCertificate",
        );
        return;
    }
    let mut seconds = |field: &str, value: &Option<String>, min: f64, shown_min: &str| {
        let path = format!("vault.tlsCertificate.{field}");
        let text = value.as_deref()?;
        let Some(d) = Duration::parse(text, Grammar::Flux) else {
            c.error(
                &path,
                format!("`{}` is not a duration cert-manager accepts", shown(text)),
                "write hours, minutes or seconds, e.g. `2160h` or `720h`",
            );
            return None;
        };
        if d.as_secs_f64() < min {
            c.error(
                &path,
                format!("{field} {text} is shorter than cert-manager's minimum, {shown_min}"),
                format!("make it at least {shown_min}"),
            );
            return None;
        }
        Some(d.as_secs_f64())
    };
    let duration = seconds("duration", &t.duration, 3600.0, "1h");
    let renew = seconds("renewBefore", &t.renew_before, 300.0, "5m");
    let default = |d: &Option<String>, text: &str| {
        d.is_none()
            .then(|| Duration::parse(text, Grammar::Flux).map(Duration::as_secs_f64))
            .flatten()
    };
    let duration = duration.or_else(|| default(&t.duration, crate::model::TLS_DURATION));
    let renew = renew.or_else(|| default(&t.renew_before, crate::model::TLS_RENEW_BEFORE));
    if let (Some(d), Some(r)) = (duration, renew) {
        if r >= d {
            c.error(
                if t.renew_before.is_some() {
                    "vault.tlsCertificate.renewBefore"
                } else {
                    "vault.tlsCertificate.duration"
                },
                "the certificate would be renewed as soon as it is issued: renewBefore is not shorter than duration",
                format!(
                    "make renewBefore shorter than duration (the defaults are {} and {})",
                    crate::model::TLS_DURATION,
                    crate::model::TLS_RENEW_BEFORE
                ),
            );
        }
    }
}

/// `vault.replicas`: at least one, at most [`MAX_REPLICAS`], odd for the raft quorum, and
/// (with the chart's anti-affinity) one schedulable node each. Its warnings come after the
/// operator's trust warnings (the walk in `mod.rs` calls this late).
pub(super) fn replicas(c: &mut Checker, v: &VaultSpec) {
    if !v.deploys() {
        return;
    }
    let replicas = v.replicas.unwrap_or(1);
    if replicas == 0 {
        c.error(
            "vault.replicas",
            "replicas must be at least 1",
            "1 = standalone, 3 or 5 = HA with integrated raft",
        );
    }
    if replicas > MAX_REPLICAS {
        c.error(
            "vault.replicas",
            format!("{replicas} replicas: at most {MAX_REPLICAS}"),
            "a raft cluster is small: 3 or 5 voters (HashiCorp recommends 5; the deployment table ends at 7)",
        );
    }
    if replicas > 1 && replicas.is_multiple_of(2) {
        c.warn(
            "vault.replicas",
            format!(
                "{replicas} raft replicas: an even number adds no fault tolerance over {}",
                replicas - 1
            ),
            "use an odd number (3 or 5) for the raft quorum",
        );
    }
    // The chart's anti-affinity puts each replica on its own node: on a smaller cluster the
    // extra pods stay Pending. Said once, unless the choice is written down.
    if replicas > 1 && v.anti_affinity.is_none() {
        c.warn(
            "vault.replicas",
            format!("{replicas} replicas with the chart's anti-affinity need {replicas} schedulable nodes"),
            "write `antiAffinity: true` to keep it, or `antiAffinity: false` for a cluster with fewer nodes",
        );
    }
}

/// `vault.autoUnseal`: exactly one seal, its settings plain HCL tokens.
fn auto_unseal(c: &mut Checker, v: &VaultSpec) {
    let Some(au) = &v.auto_unseal else {
        return;
    };
    let n = [
        au.awskms.is_some(),
        au.gcpckms.is_some(),
        au.azurekeyvault.is_some(),
        au.transit.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if n != 1 {
        c.error(
            "vault.autoUnseal",
            format!("autoUnseal needs exactly one seal, found {n}"),
            "write one of awskms, gcpckms, azurekeyvault, transit",
        );
    }
    let mut fields: Vec<(&str, &str)> = Vec::new();
    let mut kind = "";
    if let Some(a) = &au.awskms {
        kind = "awskms";
        fields.extend([
            ("region", a.region.as_str()),
            ("kmsKeyId", a.kms_key_id.as_str()),
        ]);
    }
    if let Some(g) = &au.gcpckms {
        kind = "gcpckms";
        fields.extend([
            ("project", g.project.as_str()),
            ("region", g.region.as_str()),
            ("keyRing", g.key_ring.as_str()),
            ("cryptoKey", g.crypto_key.as_str()),
        ]);
    }
    if let Some(a) = &au.azurekeyvault {
        kind = "azurekeyvault";
        fields.extend([
            ("tenantId", a.tenant_id.as_str()),
            ("vaultName", a.vault_name.as_str()),
            ("keyName", a.key_name.as_str()),
        ]);
    }
    if let Some(t) = &au.transit {
        kind = "transit";
        let p = "vault.autoUnseal.transit";
        c.not_null(&format!("{p}.address"));
        if !is_url(&t.address, &["https", "http"]) {
            c.error(
                &format!("{p}.address"),
                format!("`{}` is not a Vault address", shown(&t.address)),
                "write the URL of the Vault that holds the transit key, e.g. https://vault.example.com:8200",
            );
        }
        fields.extend([
            ("mountPath", t.mount_path.as_str()),
            ("keyName", t.key_name.as_str()),
        ]);
        if let Some(secret) = &t.ca_cert_secret {
            c.dns_subdomain(&format!("{p}.caCertSecret"), secret, "Secret name");
        }
        if let Some(name) = &t.tls_server_name {
            if !super::rules::is_host_name(name) || name.starts_with("*.") {
                c.error(
                    &format!("{p}.tlsServerName"),
                    format!("`{}` is not a host name", shown(name)),
                    "write the DNS name the unsealer's certificate carries, e.g. vault.example.com",
                );
            }
        }
        let tls_fields = [
            ("caCertSecret", t.ca_cert_secret.is_some()),
            ("tlsServerName", t.tls_server_name.is_some()),
        ];
        for (field, set) in tls_fields {
            if set && t.address.starts_with("http://") {
                c.error(
                    &format!("{p}.{field}"),
                    format!("{field} verifies the unsealer's TLS, but its address is http://"),
                    "write the unsealer's https:// address, or drop the field",
                );
            }
        }
    }
    for (field, value) in fields {
        let p = format!("vault.autoUnseal.{kind}.{field}");
        c.not_null(&p);
        c.hcl_token(&p, value, "seal setting");
    }
}
