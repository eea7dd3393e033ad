//! The backup link (`backup`): the CronJob's last successful run (`status.lastSuccessfulTime`)
//! against its schedule. A backup older than twice the schedule's longest gap between runs
//! fails the report; a CronJob that never succeeded passes, with a warning, until it is that
//! old itself.

use super::FluxCheck;
use crate::cron;
use crate::model::Stack;
use serde_json::Value;

/// `3d4h`, `5h12m`, `40m`, `12s`: an age, to the two largest units.
fn age(seconds: i64) -> String {
    let s = seconds.max(0);
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h{m}m"),
        (d, h, _) => format!("{d}d{h}h"),
    }
}

/// The CronJob's check, when the spec has `backup` (None otherwise). `now` in unix seconds.
pub fn check(stack: &Stack, cron_jobs: &[Value], now: i64) -> Option<FluxCheck> {
    let b = stack.backup.as_ref()?;
    let ns = &stack.vault.namespace;
    let mut link = FluxCheck {
        kind: "CronJob".into(),
        namespace: ns.clone(),
        name: b.name.clone(),
        ok: false,
        detail: String::new(),
    };
    let Some(job) = cron_jobs.iter().find(|j| {
        j.pointer("/metadata/name").and_then(Value::as_str) == Some(b.name.as_str())
            && j.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .is_none_or(|n| n == ns)
    }) else {
        link.detail = "not found (has Flux applied the vault stage?): no backups are taken".into();
        return Some(link);
    };
    // The schedule as the cluster has it (the spec's when it cannot be read).
    let schedule = job
        .pointer("/spec/schedule")
        .and_then(Value::as_str)
        .unwrap_or(&b.schedule);
    let Some(gap) = cron::parse(schedule)
        .ok()
        .and_then(|s| s.longest_gap_minutes())
        .map(|m| m * 60)
    else {
        link.detail = format!("its schedule `{schedule}` cannot be read: no backups are taken");
        return Some(link);
    };
    let limit = 2 * gap;
    let time = |p: &str| {
        job.pointer(p)
            .and_then(Value::as_str)
            .and_then(cron::rfc3339_seconds)
    };
    let bound = format!("schedule `{schedule}`, at most {} apart", age(gap));
    match time("/status/lastSuccessfulTime") {
        Some(last) if now - last <= limit => {
            link.ok = true;
            link.detail = format!("last successful backup {} ago ({bound})", age(now - last));
        }
        Some(last) => {
            link.detail = format!(
                "last successful backup {} ago, older than twice the schedule ({bound}): check the job's pods and events (kubectl -n {ns} get jobs)",
                age(now - last)
            );
        }
        None => {
            let created = time("/metadata/creationTimestamp").unwrap_or(now);
            if now - created <= limit {
                link.ok = true;
                link.detail = format!(
                    "warning: no successful backup yet (the CronJob is {} old; {bound})",
                    age(now - created)
                );
            } else {
                link.detail = format!(
                    "no successful backup in {} ({bound}): check the job's pods and events (kubectl -n {ns} get jobs)",
                    age(now - created)
                );
            }
        }
    }
    Some(link)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stack() -> Stack {
        let text = "apiVersion: kubectl-vault/v1alpha1\nkind: VaultStack\ncluster: dev\nvault:\n  chart: {version: 0.30.0}\noperator:\n  chart: {version: 0.10.0}\nbackup:\n  schedule: \"0 3 * * *\"\n  storage: {pvc: {size: 1Gi}}\n";
        let sourced = crate::spec::parse("vault.yaml", text.to_string()).unwrap();
        let spec = crate::spec::validate::typed(sourced.spec, &sourced.index).unwrap();
        crate::model::build(&spec, "vault.yaml")
    }

    fn job(created: &str, last: Option<&str>) -> Value {
        let mut j = json!({"metadata": {"name": "vault-backup", "namespace": "vault",
            "creationTimestamp": created}, "spec": {"schedule": "0 3 * * *"}, "status": {}});
        if let Some(l) = last {
            j["status"]["lastSuccessfulTime"] = json!(l);
        }
        j
    }

    const NOW: &str = "2026-12-07T12:00:00Z";

    fn at(now: &str, jobs: &[Value]) -> FluxCheck {
        check(&stack(), jobs, cron::rfc3339_seconds(now).unwrap()).unwrap()
    }

    #[test]
    fn the_age_of_the_last_backup_against_twice_the_schedule() {
        let c = at(
            NOW,
            &[job("2026-11-01T00:00:00Z", Some("2026-12-07T03:00:40Z"))],
        );
        assert!(c.ok, "{c:?}");
        assert_eq!(
            c.detail,
            "last successful backup 8h59m ago (schedule `0 3 * * *`, at most 1d0h apart)"
        );
        // Just under two days: still fine; just over: failed.
        let c = at(
            NOW,
            &[job("2026-11-01T00:00:00Z", Some("2026-12-05T12:00:01Z"))],
        );
        assert!(c.ok, "{c:?}");
        let c = at(
            NOW,
            &[job("2026-11-01T00:00:00Z", Some("2026-12-05T11:59:59Z"))],
        );
        assert!(!c.ok, "{c:?}");
        assert!(
            c.detail
                .starts_with("last successful backup 2d0h ago, older than twice"),
            "{}",
            c.detail
        );
    }

    #[test]
    fn never_succeeded_is_a_warning_while_young_and_a_failure_once_old() {
        let c = at(NOW, &[job("2026-12-07T10:00:00Z", None)]);
        assert!(c.ok);
        assert_eq!(c.detail, "warning: no successful backup yet (the CronJob is 2h0m old; schedule `0 3 * * *`, at most 1d0h apart)");
        let c = at(NOW, &[job("2026-12-01T10:00:00Z", None)]);
        assert!(!c.ok);
        assert!(
            c.detail.starts_with("no successful backup in 6d2h"),
            "{}",
            c.detail
        );
        let c = at(NOW, &[]);
        assert!(!c.ok);
        assert!(c.detail.starts_with("not found"));
    }
}
