//! `backup`: the tree (snapshot), the spec's refusals, and the CronJob's own script run for
//! real: taken out of the generated CronJob and run by busybox's `sh` with only busybox's
//! tools (as in the Alpine-based Vault image) and `vault` = the real `bao`, against a real
//! OpenBao raft node configured by the tool's own `configure`, logging in with a
//! ServiceAccount token the stand-in API server issued and reviews.

use crate::support::common::*;
use crate::support::fake_apiserver::{FakeApiServer, API_AUDIENCE};
use crate::support::servers::{find_tool, require, BaoCluster};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

#[test]
fn backup_tree_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "-f",
        fixture("backup.yaml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let tree = read_tree(&out);
    insta::assert_snapshot!("backup", tree_text(&tree));
}

/// A spec with `backup` set to `backup` (YAML, indented under `backup:`).
fn with_backup(dir: &Path, backup: &str, extra: &str) -> PathBuf {
    let text =
        std::fs::read_to_string(fixture("minimal.yaml")).unwrap() + "backup:\n" + backup + extra;
    let path = dir.join("vault.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn bad_backup_sections_are_refused_with_their_field_and_nothing_is_written() {
    let cases = [
        (
            "  schedule: \"0 25 * * *\"\n  storage: {pvc: {size: 1Gi}}\n",
            "",
            "backup.schedule",
            "hour: `25` is not a value from 0 to 23",
        ),
        (
            "  schedule: \"0 0 30 2 *\"\n  storage: {pvc: {size: 1Gi}}\n",
            "",
            "backup.schedule",
            "never fires",
        ),
        (
            "  schedule: \"@daily\"\n  keep: 0\n  storage: {pvc: {size: 1Gi}}\n",
            "",
            "backup.keep",
            "from 1 to 1000",
        ),
        (
            "  schedule: \"@daily\"\n  storage: {pvc: {size: 10GB}}\n",
            "",
            "backup.storage.pvc.size",
            "not a storage size",
        ),
        (
            "  schedule: \"@daily\"\n  storage: {pvc: {size: 1Gi}}\n",
            "vaultConfig:\n  kubernetesAuth:\n    host: https://kubernetes.default.svc\n    tokenReviewer: {mode: client}\n",
            "backup",
            "needs the API server's too",
        ),
    ];
    for (backup, extra, field, message) in cases {
        let dir = tempfile::tempdir().unwrap();
        let spec = with_backup(dir.path(), backup, extra);
        let out = dir.path().join("out");
        let o = run(&[
            "generate",
            "-f",
            spec.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{backup}: {err}");
        assert!(
            err.contains(field) && err.contains(message),
            "{backup}: {err}"
        );
        assert!(err.contains("vault.yaml:"), "located: {err}");
        assert!(!out.exists(), "nothing written");
    }
}

/// A one-node raft OpenBao, initialised with one share and unsealed: (cluster, root token).
pub(crate) fn raft_node() -> Option<(BaoCluster, String)> {
    let bao = BaoCluster::start(1)?;
    bao.wait_until("the node answers", |b| {
        b.api(0, None, "GET", "sys/seal-status", None).0 == 200
    });
    let (status, body) = bao.api(
        0,
        None,
        "PUT",
        "sys/init",
        Some(json!({"secret_shares": 1, "secret_threshold": 1})),
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let init: Value = serde_json::from_slice(&body).unwrap();
    let key = init["keys"][0].as_str().unwrap().to_string();
    let root = init["root_token"].as_str().unwrap().to_string();
    let (status, _) = bao.api(0, None, "PUT", "sys/unseal", Some(json!({"key": key})));
    assert_eq!(status, 200);
    bao.wait_until("the node is active", |b| {
        let (s, body) = b.api(0, None, "GET", "sys/leader", None);
        s == 200 && serde_json::from_slice::<Value>(&body).is_ok_and(|v| v["is_self"] == true)
    });
    Some((bao, root))
}

/// The CronJob's script and environment, as generated for `spec`.
fn cron_job_of(spec: &Path, dir: &Path) -> (String, BTreeMap<String, String>) {
    let out = dir.join("gitops");
    let o = run(&[
        "generate",
        "-f",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text =
        std::fs::read_to_string(out.join("infrastructure/lab/vault/backup-cronjob.yaml")).unwrap();
    let job: Value = serde_yaml::from_str(&text).unwrap();
    let container = &job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["command"], json!(["/bin/sh", "-c"]));
    let script = container["args"][0].as_str().unwrap().to_string();
    let env = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (script, env)
}

/// A folder for PATH with busybox's applets the script uses and `vault` (what `vault`
/// links to).
fn tool_dir(dir: &Path, busybox: &Path, vault: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for applet in [
        "sh",
        "date",
        "rm",
        "mv",
        "wc",
        "tr",
        "gzip",
        "tar",
        "grep",
        "printf",
        "sha256sum",
        "cut",
        "ls",
        "sort",
        "head",
        "cat",
        "echo",
        "[",
    ] {
        std::os::unix::fs::symlink(busybox, bin.join(applet)).unwrap();
    }
    std::os::unix::fs::symlink(vault, bin.join("vault")).unwrap();
    bin
}

/// Runs the script as the CronJob's container would, with `env` over the job's own.
fn run_script(
    script: &str,
    job_env: &BTreeMap<String, String>,
    bin: &Path,
    env: &[(&str, &str)],
) -> Output {
    let mut c = std::process::Command::new(bin.join("sh"));
    c.args(["-c", script]).env_clear().env("PATH", bin);
    for (k, v) in job_env {
        c.env(k, v);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.env_remove("VAULT_CACERT");
    c.output().unwrap()
}

fn snapshots(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn the_cron_jobs_script_saves_whole_snapshots_keeps_the_newest_and_fails_on_a_short_one() {
    let Some(busybox) = require(find_tool("BUSYBOX", "busybox"), "busybox") else {
        return;
    };
    let Some(bao_bin) = require(find_tool("BAO_BIN", "bao"), "OpenBao (bao)") else {
        return;
    };
    let Some((bao, root)) = raft_node() else {
        return;
    };
    let addr = format!("http://{}", bao.backend(0));
    let api = FakeApiServer::start_tls();
    let dir = tempfile::tempdir().unwrap();
    // Vault reviews tokens with a reviewer ServiceAccount's token (Vault runs in no cluster
    // here); the job's own token is one the API server issued for vault/vault-backup.
    let reviewer = api.issue_token("vault", "vault-token-reviewer", &[API_AUDIENCE]);
    api.allow_token_review("vault", "vault-token-reviewer");
    let ca = dir.path().join("k8s-ca.crt");
    std::fs::write(&ca, &api.tls().ca_pem).unwrap();
    let spec = dir.path().join("vault.yaml");
    std::fs::write(
        &spec,
        format!(
            r#"apiVersion: kubectl-vault/v1alpha1
kind: VaultStack
cluster: lab
vault:
  chart: {{version: 0.30.0}}
  replicas: 1
operator:
  chart: {{version: 0.10.0}}
backup:
  schedule: "*/30 * * * *"
  keep: 2
  storage: {{pvc: {{size: 1Gi}}}}
vaultConfig:
  kubernetesAuth:
    mount: kubernetes
    host: {host}
    caCertFrom: file:{ca}
    disableLocalCaJwt: true
    tokenReviewer: {{mode: serviceAccount, jwtFrom: env:TEST_REVIEWER_JWT}}
"#,
            host = api.url(),
            ca = ca.display()
        ),
    )
    .unwrap();
    let configure = |extra: &[&str]| {
        bin()
            .args(["configure", "-f", spec.to_str().unwrap()])
            .args(extra)
            .env("VAULT_ADDR", &addr)
            .env("VAULT_TOKEN", &root)
            .env("TEST_REVIEWER_JWT", &reviewer)
            .env_remove("VAULT_NAMESPACE")
            .env_remove("VAULT_CACERT")
            .output()
            .unwrap()
    };
    let o = configure(&[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    // Idempotent: a second run finds nothing to do.
    let again = configure(&["--dry-run"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("plan: 0 to create, 0 to update, 0 to delete")
            && stdout(&again).contains("unchanged  policy lab-vault-backup")
            && stdout(&again)
                .contains("unchanged  kubernetes role vault-backup (vault/vault-backup)"),
        "{}",
        stdout(&again)
    );
    // The policy is exactly `read` on the snapshot.
    let policy = bao.api(
        0,
        Some(&root),
        "GET",
        "sys/policies/acl/lab-vault-backup",
        None,
    );
    let policy: Value = serde_json::from_slice(&policy.1).unwrap();
    let hcl = policy["data"]["policy"].as_str().unwrap();
    assert_eq!(
        hcl.lines().filter(|l| l.starts_with("path ")).count(),
        1,
        "{hcl}"
    );
    assert!(
        hcl.contains("path \"sys/storage/raft/snapshot\" {\n  capabilities = [\"read\"]\n}"),
        "{hcl}"
    );

    let (script, job_env) = cron_job_of(&spec, dir.path());
    assert_eq!(job_env["AUTH_MOUNT"], "kubernetes");
    assert_eq!(job_env["AUTH_ROLE"], "vault-backup");
    assert_eq!(job_env["BACKUP_KEEP"], "2");
    let bin = tool_dir(dir.path(), &busybox, &bao_bin);
    let jwt = dir.path().join("token");
    std::fs::write(&jwt, api.issue_token("vault", "vault-backup", &["vault"])).unwrap();
    let backups = dir.path().join("backup");
    std::fs::create_dir_all(&backups).unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let env = [
        ("VAULT_ADDR", addr.as_str()),
        ("JWT_FILE", jwt.to_str().unwrap()),
        ("BACKUP_DIR", backups.to_str().unwrap()),
        ("HOME", home.to_str().unwrap()),
    ];

    // Three runs (a second apart: the names carry the time to the second): the newest two stay.
    let mut saved = vec![];
    for i in 0..3 {
        if i > 0 {
            std::thread::sleep(std::time::Duration::from_millis(1100));
        }
        let o = run_script(&script, &job_env, &bin, &env);
        assert!(o.status.success(), "run {i}: {}{}", stdout(&o), stderr(&o));
        let out = stdout(&o);
        assert!(out.contains("members checked"), "{out}");
        assert!(!out.contains(&root) && !stderr(&o).contains(&root));
        saved.push(snapshots(&backups).last().unwrap().clone());
    }
    let left = snapshots(&backups);
    assert_eq!(left, saved[1..], "the oldest was removed");
    for name in &left {
        assert!(
            name.starts_with("vault-snapshot-") && name.ends_with("Z.snap"),
            "{name}"
        );
        let file = std::fs::File::open(backups.join(name)).unwrap();
        let archive = kubectl_vault::core::snapshot::check(std::io::BufReader::new(file))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(archive.checksummed, "{name}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(backups.join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{name}: private (umask 077)");
        }
    }

    // A snapshot cut short on its way (here: a `vault` that truncates what it saved): the job
    // fails, keeps nothing of it, and leaves the good ones alone.
    let short_bin = dir.path().join("short-bin");
    std::fs::create_dir_all(&short_bin).unwrap();
    for e in std::fs::read_dir(&bin).unwrap() {
        let e = e.unwrap();
        if e.file_name() != "vault" {
            std::os::unix::fs::symlink(
                std::fs::read_link(e.path()).unwrap(),
                short_bin.join(e.file_name()),
            )
            .unwrap();
        }
    }
    let wrapper = short_bin.join("vault");
    std::fs::write(
        &wrapper,
        format!(
            "#!{sh}\n{bao} \"$@\" || exit $?\nif [ \"$1 $2 $3 $4\" = \"operator raft snapshot save\" ]; then\n  size=$(wc -c < \"$5\")\n  head -c $((size / 2)) \"$5\" > \"$5.cut\" && mv \"$5.cut\" \"$5\"\nfi\n",
            sh = short_bin.join("sh").display(),
            bao = bao_bin.display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let o = run_script(&script, &job_env, &short_bin, &env);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("vault-backup: FAILED: the snapshot (")
            && stderr(&o).contains("is not a whole gzip stream"),
        "{}",
        stderr(&o)
    );
    assert_eq!(snapshots(&backups), left, "nothing kept of the short one");

    // A token the API server did not issue (or for another ServiceAccount): no snapshot.
    std::fs::write(&jwt, api.issue_token("vault", "someone-else", &["vault"])).unwrap();
    let o = run_script(&script, &job_env, &bin, &env);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("kubernetes-auth login refused"),
        "{}",
        stderr(&o)
    );
    assert_eq!(snapshots(&backups), left);
}
