//! `monitoring`, with its defaults applied: Vault's telemetry and what watches Vault and VSO.

use crate::spec::types::MonitoringSpec;
use std::collections::BTreeMap;

/// `prometheus_retention_time` by default: Vault's docs suggest a day, so that a gauge seen
/// once stays visible between scrapes of a slow Prometheus.
pub(crate) const DEFAULT_RETENTION: &str = "24h";
pub(crate) const DEFAULT_INTERVAL: &str = "30s";
/// Where Vault serves its metrics (with `?format=prometheus`).
pub(crate) const VAULT_METRICS_PATH: &str = "/v1/sys/metrics";
/// Days before the listener certificate's expiry that the alert fires.
pub(crate) const CERT_EXPIRY_DAYS: u32 = 14;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Monitoring {
    /// Vault's `telemetry` stanza.
    pub retention_time: String,
    /// ServiceMonitors for Vault and VSO.
    pub service_monitor: bool,
    /// PrometheusRules.
    pub rules: bool,
    /// A Grafana dashboard (ConfigMap).
    pub dashboard: bool,
    pub labels: BTreeMap<String, String>,
    pub interval: String,
}

pub(crate) fn monitoring(m: &MonitoringSpec) -> Monitoring {
    let service_monitor = m.service_monitor.unwrap_or(false);
    Monitoring {
        retention_time: (m.retention_time.clone()).unwrap_or_else(|| DEFAULT_RETENTION.into()),
        service_monitor,
        rules: m.prometheus_rules.unwrap_or(service_monitor),
        dashboard: m.dashboard.unwrap_or(service_monitor),
        labels: m.labels.clone(),
        interval: m
            .interval
            .clone()
            .unwrap_or_else(|| DEFAULT_INTERVAL.into()),
    }
}
