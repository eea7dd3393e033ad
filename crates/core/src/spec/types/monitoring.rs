//! `monitoring`: Vault's telemetry, the Prometheus Operator objects that scrape Vault and
//! VSO and alert on them, and the Grafana dashboard.

use super::*;

/// `monitoring`: with it, Vault's server configuration gets a `telemetry` stanza (Prometheus
/// retention, `disable_hostname`) and its listener serves `/v1/sys/metrics` without a token.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MonitoringSpec {
    /// Write ServiceMonitors (monitoring.coreos.com/v1) for Vault and VSO, and the
    /// PrometheusRules that alert on them (default `false`: the Prometheus Operator's CRDs must
    /// be in the cluster first).
    pub service_monitor: Option<bool>,
    /// Write the PrometheusRules (default: as `serviceMonitor`).
    pub prometheus_rules: Option<bool>,
    /// Labels on the ServiceMonitors and PrometheusRules, for the Prometheus that selects
    /// them (e.g. `release: kube-prometheus-stack`).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// How often Prometheus scrapes (default `30s`).
    pub interval: Option<String>,
    /// Vault's `prometheus_retention_time` (default `24h`, as Vault's docs suggest: a
    /// gauge not updated within it drops out).
    pub retention_time: Option<String>,
    /// Write a Grafana dashboard (a ConfigMap with the label Grafana's sidecar loads,
    /// `grafana_dashboard: "1"`; default `true` with `serviceMonitor`).
    pub dashboard: Option<bool>,
}
