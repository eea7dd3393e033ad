//! `monitoring`: the ServiceMonitors that scrape Vault (every pod, through the chart's
//! headless `vault-internal` service, at `/v1/sys/metrics?format=prometheus`) and VSO (its
//! chart's metrics Service), and the PrometheusRules that alert on what they scrape. Each
//! in the folder of what it watches: `infrastructure/<cluster>/vault/` and
//! `infrastructure/<cluster>/vault-secrets-operator/`.

use super::{RenderError, Renderer};
use crate::model::monitoring::{Monitoring, CERT_EXPIRY_DAYS, VAULT_METRICS_PATH};
use crate::model::{self, Stack};
use crate::tree::ObjectRef;
use minijinja::Value;
use serde::Serialize;
use std::collections::BTreeMap;

/// `monitoring/servicemonitor.yaml.j2`
#[derive(Serialize)]
struct ServiceMonitorContext<'a> {
    what: &'a str,
    name: &'a str,
    namespace: &'a str,
    labels: &'a BTreeMap<String, String>,
    selector: BTreeMap<&'a str, &'a str>,
    port: &'a str,
    path: &'a str,
    prometheus_format: bool,
    scheme: &'a str,
    interval: &'a str,
    bearer_token_file: Option<&'a str>,
    ca_secret: Option<&'a str>,
    server_name: Option<String>,
    skip_verify: bool,
}

/// `monitoring/prometheusrule.yaml.j2`
#[derive(Serialize)]
struct PrometheusRuleContext<'a> {
    what: &'a str,
    name: &'a str,
    namespace: &'a str,
    labels: &'a BTreeMap<String, String>,
    group: &'a str,
    rules: Vec<AlertRule>,
}

/// One alerting rule.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AlertRule {
    pub alert: &'static str,
    pub expr: String,
    #[serde(rename = "for")]
    pub for_: &'static str,
    pub severity: &'static str,
    pub summary: String,
    pub description: String,
}

/// The alerts on Vault in namespace `ns` (`tls_certificate`: the cert-manager Certificate
/// of its listener, when cert-manager issues it).
pub fn vault_rules(ns: &str, tls_certificate: Option<&str>) -> Vec<AlertRule> {
    let sel = format!("namespace=\"{ns}\"");
    let mut rules = vec![
        AlertRule {
            alert: "VaultSealed",
            expr: format!("vault_core_unsealed{{{sel}}} == 0"),
            for_: "1m",
            severity: "critical",
            summary: "A Vault pod is sealed".into(),
            description: "Vault pod {{ $labels.pod }} has been sealed for a minute: it serves no request until unsealed (`kubectl vault operator unseal`).".into(),
        },
        AlertRule {
            alert: "VaultNoActiveNode",
            expr: format!("(sum(vault_core_active{{{sel}}}) or vector(0)) < 1"),
            for_: "2m",
            severity: "critical",
            summary: "Vault has no active node".into(),
            description: format!("No Vault pod in namespace {ns} has been active for two minutes (all sealed, down, or raft without a leader): every client request fails."),
        },
        AlertRule {
            alert: "VaultRaftUnhealthy",
            expr: format!("vault_autopilot_healthy{{{sel}}} == 0"),
            for_: "5m",
            severity: "critical",
            summary: "Vault's raft cluster is unhealthy".into(),
            description: "Autopilot has reported the raft cluster unhealthy for five minutes: a voter is down or behind, and one more failure can cost the quorum.".into(),
        },
    ];
    if let Some(cert) = tls_certificate {
        rules.push(AlertRule {
            alert: "VaultCertificateExpiring",
            expr: format!(
                "certmanager_certificate_expiration_timestamp_seconds{{name=\"{cert}\"}} - time() < {} * 86400",
                CERT_EXPIRY_DAYS
            ),
            for_: "1h",
            severity: "warning",
            summary: "Vault's listener certificate expires soon".into(),
            description: format!("The certificate {cert} of Vault's listener expires in less than {CERT_EXPIRY_DAYS} days and cert-manager has not renewed it: check the Certificate's status and the issuer."),
        });
    }
    rules
}

/// The alerts on VSO in namespace `ns`: its controllers failing to sync.
pub fn operator_rules(ns: &str) -> Vec<AlertRule> {
    let sel = format!("namespace=\"{ns}\"");
    vec![
        AlertRule {
            alert: "VaultSecretsOperatorSyncErrors",
            expr: format!("sum by (controller) (rate(controller_runtime_reconcile_errors_total{{{sel}}}[5m])) > 0"),
            for_: "15m",
            severity: "warning",
            summary: "VSO keeps failing to sync secrets".into(),
            description: "The Vault Secrets Operator's {{ $labels.controller }} controller has failed reconciles for 15 minutes: `kubectl vault verify` names the objects.".into(),
        },
        AlertRule {
            alert: "VaultSecretsOperatorInvalidResource",
            // VSO's own gauge (internal/metrics: controller_resource_status, 1 = valid).
            expr: format!("controller_resource_status{{{sel}}} != 1"),
            for_: "10m",
            severity: "warning",
            summary: "A VSO resource is invalid".into(),
            description: "{{ $labels.controller }} {{ $labels.exported_namespace }}/{{ $labels.name }} has been invalid for 10 minutes (e.g. a VaultAuth that cannot log in).".into(),
        },
    ]
}

/// Vault's ServiceMonitor and PrometheusRule, in the Vault folder `dir`; the files written.
pub(super) fn vault(
    r: &mut Renderer,
    stack: &Stack,
    dir: &str,
) -> Result<Vec<String>, RenderError> {
    let Some(m) = &stack.monitoring else {
        return Ok(vec![]);
    };
    let v = &stack.vault;
    let ns = v.namespace.as_str();
    let mut files = vec![];
    if m.service_monitor {
        let scheme = v.scheme();
        // The chart's headless service (`<release>-internal`, labelled `<chart>-internal`):
        // every pod, sealed ones too.
        let release = v.distribution.release();
        let internal_label = format!("{}-internal", v.distribution.chart());
        r.object(
            ObjectRef::new("ServiceMonitor", ns, release),
            format!("{dir}/servicemonitor.yaml"),
            "monitoring/servicemonitor.yaml.j2",
            Value::from_serialize(ServiceMonitorContext {
                what: "every Vault pod's metrics (sealed ones too)",
                name: release,
                namespace: ns,
                labels: &m.labels,
                selector: BTreeMap::from([
                    ("app.kubernetes.io/name", v.distribution.chart()),
                    ("app.kubernetes.io/instance", release),
                    (internal_label.as_str(), "true"),
                ]),
                port: scheme,
                path: VAULT_METRICS_PATH,
                prometheus_format: true,
                scheme,
                interval: &m.interval,
                bearer_token_file: None,
                ca_secret: v.tls_secret.as_deref(),
                server_name: v.tls_secret.as_ref().map(|_| format!("{release}.{ns}.svc")),
                skip_verify: false,
            }),
        )?;
        files.push("servicemonitor.yaml".to_string());
    }
    if m.rules {
        let cert = v.tls_issuer.as_ref().and(v.tls_secret.as_deref());
        rules(r, m, ns, dir, "Vault", "vault", vault_rules(ns, cert))?;
        files.push("prometheusrule.yaml".to_string());
    }
    Ok(files)
}

/// VSO's ServiceMonitor and PrometheusRule, in the operator folder `dir`; the files written.
pub(super) fn operator(
    r: &mut Renderer,
    stack: &Stack,
    dir: &str,
) -> Result<Vec<String>, RenderError> {
    let Some(m) = &stack.monitoring else {
        return Ok(vec![]);
    };
    let ns = stack.operator.namespace.as_str();
    let mut files = vec![];
    if m.service_monitor {
        r.object(
            ObjectRef::new("ServiceMonitor", ns, model::OPERATOR_RELEASE),
            format!("{dir}/servicemonitor.yaml"),
            "monitoring/servicemonitor.yaml.j2",
            Value::from_serialize(ServiceMonitorContext {
                what: "the Vault Secrets Operator's metrics (its chart's metrics Service, behind kube-rbac-proxy: Prometheus' ServiceAccount needs the chart's metrics-reader ClusterRole)",
                name: model::OPERATOR_RELEASE,
                namespace: ns,
                labels: &m.labels,
                selector: BTreeMap::from([("control-plane", "controller-manager")]),
                port: "https",
                path: "/metrics",
                prometheus_format: false,
                scheme: "https",
                interval: &m.interval,
                bearer_token_file: Some("/var/run/secrets/kubernetes.io/serviceaccount/token"),
                ca_secret: None,
                server_name: None,
                // The metrics endpoint's certificate is self-signed (as the chart's own
                // ServiceMonitor, which skips verification too).
                skip_verify: true,
            }),
        )?;
        files.push("servicemonitor.yaml".to_string());
    }
    if m.rules {
        rules(
            r,
            m,
            ns,
            dir,
            "the Vault Secrets Operator",
            "vault-secrets-operator",
            operator_rules(ns),
        )?;
        files.push("prometheusrule.yaml".to_string());
    }
    Ok(files)
}

fn rules(
    r: &mut Renderer,
    m: &Monitoring,
    ns: &str,
    dir: &str,
    what: &str,
    name: &str,
    rules: Vec<AlertRule>,
) -> Result<(), RenderError> {
    r.object(
        ObjectRef::new("PrometheusRule", ns, name),
        format!("{dir}/prometheusrule.yaml"),
        "monitoring/prometheusrule.yaml.j2",
        Value::from_serialize(PrometheusRuleContext {
            what,
            name,
            namespace: ns,
            labels: &m.labels,
            group: name,
            rules,
        }),
    )
}
