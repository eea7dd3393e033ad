//! `monitoring`: the scrape interval, Vault's retention time, the labels Prometheus selects by.

use super::rules::{is_label_value, is_qualified_name, Checker};
use crate::spec::scan::shown;
use crate::spec::types::MonitoringSpec;

pub(super) fn check(c: &mut Checker, m: &MonitoringSpec) {
    if let Some(i) = &m.interval {
        if !is_prometheus_duration(i) {
            c.error(
                "monitoring.interval",
                format!("`{}` is not a Prometheus duration", shown(i)),
                "e.g. `30s`, `1m` (a number with ms, s, m, h, d, w or y)",
            );
        }
    }
    if let Some(r) = &m.retention_time {
        c.vault_duration("monitoring.retentionTime", r);
    }
    for (k, v) in &m.labels {
        if !is_qualified_name(k) {
            c.error(
                "monitoring.labels",
                format!("`{}` is not a valid label key", shown(k)),
                "use `name` or `prefix.example.com/name`, e.g. `release`",
            );
        }
        if !is_label_value(v) {
            c.error(
                &format!("monitoring.labels.{k}"),
                format!("`{}` is not a valid label value", shown(v)),
                "label values are at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit",
            );
        }
    }
    if m.service_monitor != Some(true) && m.prometheus_rules == Some(true) {
        c.warn(
            "monitoring.prometheusRules",
            "alerting rules without `serviceMonitor: true`: they fire only if something else scrapes Vault and VSO",
            "set `serviceMonitor: true`, or make sure your own scrape configuration keeps the job names the rules use",
        );
    }
}

/// Prometheus' duration grammar: units from largest to smallest, each once (`1h30m`).
fn is_prometheus_duration(s: &str) -> bool {
    const UNITS: [&str; 7] = ["y", "w", "d", "h", "m", "s", "ms"];
    let mut rest = s;
    let mut last = None::<usize>;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        // `ms` before `m`.
        let Some((i, u)) = UNITS
            .iter()
            .enumerate()
            .filter(|(_, u)| rest.starts_with(**u))
            .max_by_key(|(_, u)| u.len())
        else {
            return false;
        };
        if last.is_some_and(|l| i <= l) {
            return false;
        }
        last = Some(i);
        rest = &rest[u.len()..];
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_durations() {
        for ok in ["30s", "1m", "1h30m", "500ms", "2d"] {
            assert!(is_prometheus_duration(ok), "{ok}");
        }
        for bad in ["", "30", "s", "1m1h", "1.5m", "30 s", "1mm"] {
            assert!(!is_prometheus_duration(bad), "{bad}");
        }
    }
}
