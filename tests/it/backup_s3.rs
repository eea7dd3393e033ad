//! `backup.storage.s3`: the tree (snapshot), the refusals, and the upload step's own script
//! run for real: taken out of the generated CronJob and run by busybox's `sh` with the AWS CLI
//! against a real S3 API (moto's server), with throwaway credentials made at run time.

use crate::support::common::*;
use crate::support::servers::{find_tool, free_port, require, wait_for_port};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

#[test]
fn backup_s3_tree_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "-f",
        fixture("backup-s3.yaml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let tree = read_tree(&out);
    insta::assert_snapshot!("backup_s3", tree_text(&tree));
}

/// A spec whose `backup.storage` holds `s3` (YAML, indented under `s3:`).
fn with_s3(dir: &Path, s3: &str) -> PathBuf {
    let text = std::fs::read_to_string(fixture("minimal.yaml")).unwrap()
        + "backup:\n  schedule: \"@daily\"\n  keep: 3\n  storage:\n    pvc: {size: 1Gi}\n    s3:\n"
        + s3;
    let path = dir.join("vault.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn bad_s3_sections_are_refused_with_their_field_and_nothing_is_written() {
    let cases = [
        (
            "      bucket: My_Backups\n      region: eu-west-1\n",
            "backup.storage.s3.bucket",
            "not an S3 bucket name",
        ),
        (
            "      bucket: ab\n      region: eu-west-1\n",
            "backup.storage.s3.bucket",
            "not an S3 bucket name",
        ),
        (
            "      bucket: backups\n",
            "backup.storage.s3",
            "no `region`",
        ),
        (
            "      bucket: backups\n      endpoint: http://minio.storage:9000\n",
            "backup.storage.s3.endpoint",
            "in clear",
        ),
        (
            "      bucket: backups\n      endpoint: ftp://minio.storage\n",
            "backup.storage.s3.endpoint",
            "not an https URL",
        ),
        (
            "      bucket: backups\n      region: eu-west-1\n      insecure: true\n",
            "backup.storage.s3",
            "only apply to an `endpoint`",
        ),
        (
            "      bucket: backups\n      region: eu-west-1\n      credentialsSecret: S3_Keys\n",
            "backup.storage.s3.credentialsSecret",
            "not a valid Secret name",
        ),
        (
            "      bucket: backups\n      region: eu-west-1\n      prefix: /vault/\n",
            "backup.storage.s3.prefix",
            "not a key prefix",
        ),
        (
            "      bucket: backups\n      region: eu-west-1\n      keep: 0\n",
            "backup.storage.s3.keep",
            "from 1 to 1000",
        ),
        (
            "      bucket: backups\n      region: eu-west-1\n      accessKey: x\n",
            "accessKey",
            "unknown field",
        ),
    ];
    for (s3, field, message) in cases {
        let dir = tempfile::tempdir().unwrap();
        let spec = with_s3(dir.path(), s3);
        let out = dir.path().join("out");
        let o = run(&[
            "generate",
            "-f",
            spec.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{s3}: {err}");
        assert!(err.contains(field) && err.contains(message), "{s3}: {err}");
        assert!(err.contains("vault.yaml:"), "located: {err}");
        assert!(!out.exists(), "nothing written");
    }
}

/// moto's S3 server on a free port, in a folder of its own; stopped when dropped.
struct Moto {
    child: Child,
    endpoint: String,
    _dir: tempfile::TempDir,
}

impl Moto {
    fn start(moto_server: &Path) -> Moto {
        Moto::start_with(moto_server, &[], "http")
    }

    /// With `args` (e.g. a certificate and key), answering on `scheme`.
    fn start_with(moto_server: &Path, args: &[&str], scheme: &str) -> Moto {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new(moto_server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .args(args)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_port(port, "moto_server");
        Moto {
            child,
            endpoint: format!("{scheme}://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The upload container of the generated CronJob: its script, its literal environment, and
/// the Secret each `secretKeyRef` names (by variable).
struct Upload {
    script: String,
    env: BTreeMap<String, String>,
    from_secret: BTreeMap<String, (String, String)>,
}

fn upload_of(spec: &Path, dir: &Path) -> (Upload, Value) {
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
        std::fs::read_to_string(out.join("infrastructure/dev/vault/backup-cronjob.yaml")).unwrap();
    let job: Value = serde_yaml::from_str(&text).unwrap();
    let pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"].clone();
    let upload = &pod["containers"][0];
    assert_eq!(upload["name"], "upload");
    assert_eq!(upload["command"], json!(["/bin/sh", "-c"]));
    let mut env = BTreeMap::new();
    let mut from_secret = BTreeMap::new();
    for e in upload["env"].as_array().unwrap() {
        let name = e["name"].as_str().unwrap().to_string();
        if let Some(v) = e["value"].as_str() {
            env.insert(name, v.to_string());
        } else {
            let r = &e["valueFrom"]["secretKeyRef"];
            from_secret.insert(
                name,
                (
                    r["name"].as_str().unwrap().to_string(),
                    r["key"].as_str().unwrap().to_string(),
                ),
            );
        }
    }
    let script = upload["args"][0].as_str().unwrap().to_string();
    (
        Upload {
            script,
            env,
            from_secret,
        },
        pod,
    )
}

/// A folder for PATH with busybox's applets the script uses and `aws`.
fn tool_dir(dir: &Path, busybox: &Path, aws: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for applet in [
        "sh", "ls", "grep", "sort", "tail", "head", "wc", "tr", "printf", "echo", "cat", "[",
    ] {
        std::os::unix::fs::symlink(busybox, bin.join(applet)).unwrap();
    }
    std::os::unix::fs::symlink(aws, bin.join("aws")).unwrap();
    bin
}

/// Throwaway credentials for moto (it accepts any), made now.
fn throwaway(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{what}{}x{nanos}", std::process::id())
}

struct Env {
    path: PathBuf,
    vars: Vec<(String, String)>,
}

impl Env {
    fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.env_clear().env("PATH", &self.path);
        for (k, v) in &self.vars {
            c.env(k, v);
        }
        c
    }

    fn run(&self, up: &Upload, overrides: &[(&str, &str)]) -> Output {
        let mut c = self.command(&self.path.join("sh"));
        c.args(["-c", &up.script]);
        for (k, v) in &up.env {
            c.env(k, v);
        }
        for (k, v) in overrides {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    fn aws(&self, endpoint: &str, args: &[&str]) -> Output {
        let mut c = self.command(&self.path.join("aws"));
        c.args(["--endpoint-url", endpoint]).args(args);
        c.output().unwrap()
    }
}

#[test]
fn the_upload_step_copies_the_newest_snapshot_keeps_the_newest_in_the_bucket_and_fails_loudly() {
    let Some(busybox) = require(find_tool("BUSYBOX", "busybox"), "busybox") else {
        return;
    };
    let Some(aws) = require(find_tool("AWS_CLI", "aws"), "the AWS CLI (awscli)") else {
        return;
    };
    let Some(moto_server) = require(find_tool("MOTO_SERVER", "moto_server"), "moto_server") else {
        return;
    };
    let mut moto = Moto::start(&moto_server);
    let dir = tempfile::tempdir().unwrap();
    let spec = with_s3(
        dir.path(),
        &format!(
            "      bucket: lab-vault-backups\n      prefix: vault\n      endpoint: {}\n      insecure: true\n      credentialsSecret: backup-s3\n      keep: 2\n",
            moto.endpoint
        ),
    );
    let (up, pod) = upload_of(&spec, dir.path());
    // The snapshot step runs first (an init container); the upload reads the volume only.
    assert_eq!(pod["initContainers"][0]["name"], "snapshot");
    assert_eq!(pod["containers"].as_array().unwrap().len(), 1);
    assert_eq!(
        pod["containers"][0]["volumeMounts"][0],
        json!({"name": "backup", "mountPath": "/backup", "readOnly": true})
    );
    assert_eq!(up.env["S3_BUCKET"], "lab-vault-backups");
    assert_eq!(up.env["S3_PREFIX"], "vault/dev");
    assert_eq!(up.env["S3_KEEP"], "2");
    assert_eq!(up.env["S3_ENDPOINT"], moto.endpoint);
    for key in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        assert_eq!(
            up.from_secret[key],
            ("backup-s3".to_string(), key.to_string())
        );
    }
    assert!(
        !up.script.contains("AWS_SECRET"),
        "the script never names the key"
    );

    let bin = tool_dir(dir.path(), &busybox, &aws);
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let secret = throwaway("s");
    let env = Env {
        path: bin,
        vars: vec![
            ("HOME".into(), home.to_str().unwrap().into()),
            ("AWS_ACCESS_KEY_ID".into(), throwaway("k")),
            ("AWS_SECRET_ACCESS_KEY".into(), secret.clone()),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ],
    };
    let o = env.aws(&moto.endpoint, &["s3", "mb", "s3://lab-vault-backups"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Objects that are no snapshot of this cluster stay.
    let other = dir.path().join("other");
    std::fs::write(&other, b"not ours").unwrap();
    for key in [
        "vault/dev2/vault-snapshot-20000101T000000Z.snap",
        "vault/dev/README",
    ] {
        let o = env.aws(
            &moto.endpoint,
            &[
                "s3",
                "cp",
                other.to_str().unwrap(),
                &format!("s3://lab-vault-backups/{key}"),
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }

    let backups = dir.path().join("backup");
    std::fs::create_dir_all(&backups).unwrap();
    let volume = backups.to_str().unwrap();
    let mut written = vec![];
    for (i, stamp) in ["20260101T030000Z", "20260102T030000Z", "20260103T030000Z"]
        .iter()
        .enumerate()
    {
        let name = format!("vault-snapshot-{stamp}.snap");
        let bytes: Vec<u8> = (0..70_000u32).map(|n| (n * 7 + i as u32) as u8).collect();
        std::fs::write(backups.join(&name), &bytes).unwrap();
        let o = env.run(&up, &[("BACKUP_DIR", volume)]);
        assert!(o.status.success(), "run {i}: {}{}", stdout(&o), stderr(&o));
        assert!(
            stdout(&o).contains(&format!("uploaded s3://lab-vault-backups/vault/dev/{name}")),
            "{}",
            stdout(&o)
        );
        assert!(!stdout(&o).contains(&secret) && !stderr(&o).contains(&secret));
        written.push((name, Sha256::digest(&bytes)));
    }

    let listed = env.aws(
        &moto.endpoint,
        &[
            "s3api",
            "list-objects-v2",
            "--bucket",
            "lab-vault-backups",
            "--output",
            "json",
        ],
    );
    assert!(listed.status.success(), "{}", stderr(&listed));
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let keys: Vec<&str> = listed["Contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["Key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "vault/dev/README",
            "vault/dev/vault-snapshot-20260102T030000Z.snap",
            "vault/dev/vault-snapshot-20260103T030000Z.snap",
            "vault/dev2/vault-snapshot-20000101T000000Z.snap",
        ],
        "the oldest snapshot beyond keep 2 was removed, nothing else"
    );
    for (name, sum) in &written[1..] {
        let got = dir.path().join("got");
        let o = env.aws(
            &moto.endpoint,
            &[
                "s3",
                "cp",
                &format!("s3://lab-vault-backups/vault/dev/{name}"),
                got.to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(
            Sha256::digest(std::fs::read(&got).unwrap()),
            *sum,
            "{name}: the same bytes"
        );
    }

    // A bucket that is not there: the job fails, loudly.
    let o = env.run(
        &up,
        &[("BACKUP_DIR", volume), ("S3_BUCKET", "no-such-bucket")],
    );
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("vault-backup: upload FAILED"),
        "{}",
        stderr(&o)
    );
    // An empty volume: nothing to upload is a failure too.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = env.run(&up, &[("BACKUP_DIR", empty.to_str().unwrap())]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no snapshot on the volume"),
        "{}",
        stderr(&o)
    );
    // The store down: the job fails.
    moto.stop();
    let o = env.run(&up, &[("BACKUP_DIR", volume)]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("vault-backup: upload FAILED"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains(&secret));
}

/// A private CA and a server certificate for 127.0.0.1 it signs, made now with `openssl`:
/// (CA certificate, server certificate, server key) paths.
fn private_ca(openssl: &Path, dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let [ca_key, ca_crt, server_key, server_csr, server_crt, ext] = [
        "ca.key",
        "ca.crt",
        "server.key",
        "server.csr",
        "server.crt",
        "server.ext",
    ]
    .map(|n| dir.join(n).to_string_lossy().into_owned());
    std::fs::write(
        &ext,
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    let steps: [Vec<&str>; 3] = [
        vec![
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=test-s3-ca",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
            "-keyout",
            &ca_key,
            "-out",
            &ca_crt,
        ],
        vec![
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            &server_key,
            "-out",
            &server_csr,
        ],
        vec![
            "x509",
            "-req",
            "-days",
            "1",
            "-in",
            &server_csr,
            "-CA",
            &ca_crt,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-extfile",
            &ext,
            "-out",
            &server_crt,
        ],
    ];
    for args in steps {
        let o = Command::new(openssl).args(&args).output().unwrap();
        assert!(o.status.success(), "openssl {args:?}: {}", stderr(&o));
    }
    (ca_crt.into(), server_crt.into(), server_key.into())
}

#[test]
fn over_https_the_upload_trusts_the_private_ca_of_ca_secret_and_only_it() {
    let Some(busybox) = require(find_tool("BUSYBOX", "busybox"), "busybox") else {
        return;
    };
    let Some(aws) = require(find_tool("AWS_CLI", "aws"), "the AWS CLI (awscli)") else {
        return;
    };
    let Some(moto_server) = require(find_tool("MOTO_SERVER", "moto_server"), "moto_server") else {
        return;
    };
    let Some(openssl) = require(find_tool("OPENSSL_BIN", "openssl"), "the openssl CLI") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = private_ca(&openssl, dir.path());
    let moto = Moto::start_with(
        &moto_server,
        &["-c", cert.to_str().unwrap(), "-k", key.to_str().unwrap()],
        "https",
    );
    let spec = with_s3(
        dir.path(),
        &format!(
            "      bucket: lab-vault-backups\n      endpoint: {}\n      caSecret: minio-ca\n",
            moto.endpoint
        ),
    );
    let (up, pod) = upload_of(&spec, dir.path());
    assert_eq!(up.env["AWS_CA_BUNDLE"], "/s3/tls/ca.crt");
    let volumes = pod["volumes"].as_array().unwrap();
    assert!(
        volumes.contains(
            &json!({"name": "s3-tls", "secret": {"secretName": "minio-ca",
            "items": [{"key": "ca.crt", "path": "ca.crt"}]}})
        ),
        "{volumes:?}"
    );
    assert!(
        up.from_secret.is_empty(),
        "no credentialsSecret: workload identity"
    );

    let bin = tool_dir(dir.path(), &busybox, &aws);
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let env = Env {
        path: bin,
        vars: vec![
            ("HOME".into(), home.to_str().unwrap().into()),
            ("AWS_ACCESS_KEY_ID".into(), throwaway("k")),
            ("AWS_SECRET_ACCESS_KEY".into(), throwaway("s")),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
            ("AWS_CA_BUNDLE".into(), ca.to_str().unwrap().into()),
        ],
    };
    let o = env.aws(&moto.endpoint, &["s3", "mb", "s3://lab-vault-backups"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let backups = dir.path().join("backup");
    std::fs::create_dir_all(&backups).unwrap();
    std::fs::write(
        backups.join("vault-snapshot-20260101T030000Z.snap"),
        b"snapshot",
    )
    .unwrap();
    let volume = backups.to_str().unwrap();
    let ca_path = ca.to_str().unwrap();
    let o = env.run(&up, &[("BACKUP_DIR", volume), ("AWS_CA_BUNDLE", ca_path)]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o)
            .contains("uploaded s3://lab-vault-backups/dev/vault-snapshot-20260101T030000Z.snap"),
        "{}",
        stdout(&o)
    );
    // Without the CA (the image's public roots only), the certificate is refused.
    let mut c = env.command(&env.path.join("sh"));
    c.args(["-c", &up.script]).env_remove("AWS_CA_BUNDLE");
    for (k, v) in &up.env {
        if k != "AWS_CA_BUNDLE" {
            c.env(k, v);
        }
    }
    let o = c.env("BACKUP_DIR", volume).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("vault-backup: upload FAILED") && err.contains("CERTIFICATE_VERIFY_FAILED"),
        "{err}"
    );
}
