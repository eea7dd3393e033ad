//! `verify` with `backup`: the CronJob's last successful run against twice its schedule, from
//! one more list (the CronJob, by name).

use super::*;
use crate::support::cluster_state::{now, ts};

fn backed_up() -> Setup {
    synced_with(
        FakeApiServer::start(),
        tempfile::tempdir().unwrap(),
        fixture("backup.yaml"),
    )
}

fn backup_link(v: &Value) -> Value {
    v["flux"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "CronJob")
        .cloned()
        .unwrap_or_else(|| panic!("no CronJob link: {v}"))
}

#[test]
fn a_recent_backup_passes_with_its_age_and_one_more_list() {
    let s = backed_up();
    let o = s.verify(&[]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o)
            .contains("last successful backup 59m ago (schedule `0 3 * * *`, at most 1d0h apart)"),
        "{}",
        stdout(&o)
    );
    let cron_lists: Vec<String> = s
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.contains("cronjobs"))
        .collect();
    assert_eq!(cron_lists.len(), 1, "{cron_lists:#?}");
    assert!(
        cron_lists[0].contains("/namespaces/vault/cronjobs")
            && cron_lists[0].contains("metadata.name%3Dvault-backup"),
        "{cron_lists:#?}"
    );
}

#[test]
fn a_backup_older_than_twice_the_schedule_fails() {
    let s = backed_up();
    s.fake.modify("CronJob", "vault", "vault-backup", |j| {
        j["status"]["lastSuccessfulTime"] = json!(ts(now() - 2 * 86400 - 600));
    });
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(1), "{v}");
    let link = backup_link(&v);
    assert_eq!(link["ok"], false);
    let detail = link["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("last successful backup 2d0h ago, older than twice the schedule"),
        "{detail}"
    );
    // The secrets themselves are still synced: only the report fails.
    assert_eq!(v["synced"], v["total"]);
}

#[test]
fn a_cron_job_that_never_succeeded_warns_while_young_and_fails_once_old() {
    let s = backed_up();
    s.fake.modify("CronJob", "vault", "vault-backup", |j| {
        j["metadata"]["creationTimestamp"] = json!(ts(now() - 3 * 3600));
        j["status"] = json!({});
    });
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(0), "{v}");
    let link = backup_link(&v);
    assert!(
        link["detail"]
            .as_str()
            .unwrap()
            .starts_with("warning: no successful backup yet (the CronJob is 3h0m old"),
        "{link}"
    );
    s.fake.modify("CronJob", "vault", "vault-backup", |j| {
        j["metadata"]["creationTimestamp"] = json!(ts(now() - 3 * 86400));
    });
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(1), "{v}");
    assert!(
        backup_link(&v)["detail"]
            .as_str()
            .unwrap()
            .starts_with("no successful backup in 3d0h"),
        "{v}"
    );
    // And a CronJob that is not there at all.
    s.fake.remove("CronJob", "vault", "vault-backup");
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(1), "{v}");
    assert!(
        backup_link(&v)["detail"]
            .as_str()
            .unwrap()
            .starts_with("not found"),
        "{v}"
    );
}
