//! `operator snapshot restore` against real three-node OpenBao raft clusters behind the
//! stand-in API server's pod proxy: a secret written, saved, deleted, restored and read back;
//! a file that is not a whole snapshot refused with nothing sent; and the disaster case, a
//! snapshot restored with --force into a fresh cluster, which then opens with the original
//! cluster's shares and root token.

use crate::support::common::*;
use crate::support::fake_apiserver::FakeApiServer;
use crate::support::servers::BaoCluster;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

const NS: &str = "vault";

/// One Vault cluster as `operator` reaches it: raft nodes behind an API server of its own.
struct Site {
    dir: tempfile::TempDir,
    _api: FakeApiServer,
    kubeconfig: PathBuf,
    bao: BaoCluster,
}

/// What `operator init` gave: the shares and the root token.
struct Keys {
    shares: Vec<String>,
    root: String,
}

impl Site {
    fn start() -> Option<Site> {
        let bao = BaoCluster::start(3)?;
        let api = FakeApiServer::start();
        for i in 0..3 {
            api.add_vault_pod(NS, &format!("vault-{i}"), &bao.backend(i));
        }
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = api.write_kubeconfig(dir.path(), "site");
        Some(Site {
            dir,
            _api: api,
            kubeconfig,
            bao,
        })
    }

    /// `kubectl vault operator ARGS -f example.yaml` with `stdin` and `VAULT_TOKEN`.
    fn op(&self, args: &[&str], stdin: &str, token: Option<&str>) -> Output {
        let mut cmd = bin();
        cmd.arg("operator")
            .args(args)
            .args(["-f", fixture("example.yaml").to_str().unwrap()])
            .args(["--kubeconfig", self.kubeconfig.to_str().unwrap()])
            .env_remove("VAULT_TOKEN")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(t) = token {
            cmd.env("VAULT_TOKEN", t);
        }
        let mut child = cmd.spawn().unwrap();
        {
            use std::io::Write;
            let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        }
        child.wait_with_output().unwrap()
    }

    /// Initialised (three shares, two to unseal) and unsealed by the tool, all three nodes
    /// voters.
    fn init(&self) -> Keys {
        let o = self.op(
            &[
                "init",
                "--key-shares",
                "3",
                "--key-threshold",
                "2",
                "-o",
                "json",
            ],
            "",
            None,
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        let keys = Keys {
            shares: v["shares"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect(),
            root: v["rootToken"].as_str().unwrap().to_string(),
        };
        self.unseal(&keys);
        self.wait_for_voters(&keys.root);
        keys
    }

    fn unseal(&self, keys: &Keys) -> Output {
        let o = self.op(
            &["unseal", "-o", "json"],
            &format!("{}\n{}\n", keys.shares[0], keys.shares[1]),
            None,
        );
        assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
        o
    }

    fn status(&self, token: Option<&str>) -> Value {
        let o = self.op(&["status", "-o", "json"], "", token);
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)))
    }

    fn wait_for_voters(&self, root: &str) {
        let start = Instant::now();
        loop {
            let v = self.status(Some(root));
            if v["voters"] == 3 && v["leader"].is_string() {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(90),
                "no 3 voters: {v}"
            );
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    /// The node that leads (the tool's status says which).
    fn leader(&self, token: &str) -> usize {
        let start = Instant::now();
        loop {
            let v = self.status(Some(token));
            if let Some(name) = v["leader"].as_str() {
                return name.trim_start_matches("vault-").parse().unwrap();
            }
            assert!(start.elapsed() < Duration::from_secs(30), "no leader: {v}");
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// A call to the leader with `token`: (status, JSON body).
    fn api(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let (s, b) = self
            .bao
            .api(self.leader(token), Some(token), method, path, body);
        (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
    }

    fn read_secret(&self, token: &str) -> (u16, Value) {
        self.api(token, "GET", "kv/data/app", None)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// The first `len` bytes of `from`, as a new file `to`.
fn truncated(from: &Path, to: &Path, len: usize) {
    let bytes = std::fs::read(from).unwrap();
    std::fs::write(to, &bytes[..len.min(bytes.len())]).unwrap();
}

#[test]
fn a_deleted_secret_comes_back_from_a_snapshot_and_a_fresh_cluster_opens_with_the_old_shares() {
    let Some(a) = Site::start() else { return };
    let keys = a.init();
    let root = keys.root.as_str();
    let (s, _) = a.api(
        root,
        "POST",
        "sys/mounts/kv",
        Some(json!({"type": "kv", "options": {"version": "2"}})),
    );
    assert_eq!(s, 204);
    let (s, _) = a.api(
        root,
        "POST",
        "kv/data/app",
        Some(json!({"data": {"colour": "teal"}})),
    );
    assert_eq!(s, 200);

    let backup = a.path("backup.snap");
    let save = a.op(
        &["snapshot", "save", backup.to_str().unwrap()],
        "",
        Some(root),
    );
    assert_eq!(save.status.code(), Some(0), "{}", stderr(&save));

    let (s, _) = a.api(root, "DELETE", "kv/metadata/app", None);
    assert_eq!(s, 204);
    assert_eq!(a.read_secret(root).0, 404);

    // Not confirmed (no terminal, no --yes): refused, nothing sent.
    let file = backup.to_str().unwrap();
    let o = a.op(&["snapshot", "restore", file], "", Some(root));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not confirmed"), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing was sent"), "{}", stderr(&o));
    // A file cut short, and one that is no snapshot at all: refused before any request.
    let short = a.path("short.snap");
    truncated(
        &backup,
        &short,
        std::fs::metadata(&backup).unwrap().len() as usize / 2,
    );
    let junk = a.path("junk.snap");
    std::fs::write(&junk, b"not a snapshot").unwrap();
    for (bad, why) in [(&short, "cut short"), (&junk, "not a gzip stream")] {
        let o = a.op(
            &["snapshot", "restore", bad.to_str().unwrap(), "--yes"],
            "",
            Some(root),
        );
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("is not a complete raft snapshot") && err.contains(why),
            "{err}"
        );
        assert!(err.contains("nothing was sent"), "{err}");
    }
    assert_eq!(a.read_secret(root).0, 404, "nothing was restored");
    // No token: refused.
    let o = a.op(&["snapshot", "restore", file, "--yes"], "", None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));

    // Restored: the secret is back.
    let o = a.op(&["snapshot", "restore", file, "--yes"], "", Some(root));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("restored "), "{}", stderr(&o));
    assert!(!stderr(&o).contains(root) && !stdout(&o).contains(root));
    let start = Instant::now();
    let (s, v) = loop {
        let (s, v) = a.read_secret(root);
        if s == 200 || start.elapsed() > Duration::from_secs(30) {
            break (s, v);
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["data"]["colour"], "teal");

    // The disaster: cluster A is gone; a fresh cluster B, initialised with shares of its own,
    // gets A's snapshot. Without --force Vault refuses it (another cluster's keys).
    let Some(b) = Site::start() else { return };
    let b_keys = b.init();
    let b_root = b_keys.root.as_str();
    let o = b.op(&["snapshot", "restore", file, "--yes"], "", Some(b_root));
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("needs --force"), "{}", stderr(&o));
    let o = b.op(
        &["snapshot", "restore", file, "--yes", "--force"],
        "",
        Some(b_root),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "its pods seal, unseal them with the shares of the cluster the snapshot came from"
        ),
        "{}",
        stderr(&o)
    );
    // What OpenBao 2.x does then (observed): the followers seal at once, as they apply a
    // keyring they cannot open; the leader seals a moment later. Every node then opens only
    // with A's shares: B's are refused.
    let start = Instant::now();
    loop {
        let v = b.status(None);
        if v["unsealed"] == 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "still unsealed: {v}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let wrong = b.op(
        &["unseal"],
        &format!("{}\n{}\n", b_keys.shares[0], b_keys.shares[1]),
        None,
    );
    assert_eq!(
        wrong.status.code(),
        Some(1),
        "B's own shares no longer open it"
    );
    assert!(
        stderr(&wrong).contains("the shares given do not unseal it"),
        "{}",
        stderr(&wrong)
    );
    let o = b.unseal(&keys);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["unsealed"], 3, "{v}");
    // A's secret, with A's root token; B's root token is gone with B's token store.
    let start = Instant::now();
    loop {
        let (s, v) = b.api(root, "GET", "kv/data/app", None);
        if s == 200 {
            assert_eq!(v["data"]["data"]["colour"], "teal");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{s} {v}");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(b.api(root, "GET", "auth/token/lookup-self", None).0, 200);
    assert_eq!(
        b.bao
            .api(0, Some(b_root), "GET", "auth/token/lookup-self", None)
            .0,
        403
    );
}

/// A gzip tar archive of `members` (name, content), made by the system's tar.
fn archive(dir: &Path, name: &str, members: &[(&str, &str)]) -> PathBuf {
    let src = dir.join(format!("{name}.d"));
    std::fs::create_dir_all(&src).unwrap();
    for (m, text) in members {
        std::fs::write(src.join(m), text).unwrap();
    }
    let out = dir.join(name);
    let mut tar = std::process::Command::new("tar");
    tar.arg("-czf").arg(&out).arg("-C").arg(&src);
    for (m, _) in members {
        tar.arg(m);
    }
    assert!(tar.status().unwrap().success());
    out
}

#[test]
fn restore_asks_on_a_terminal_and_refuses_an_archive_that_is_no_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let spec = fixture("example.yaml");
    let kubeconfig = dir.path().join("no-kubeconfig");
    let restore = |file: &Path, extra: &[&str]| {
        let mut c = bin();
        c.args(["operator", "snapshot", "restore", file.to_str().unwrap()])
            .args(extra)
            .args(["-f", spec.to_str().unwrap()])
            .args(["--kubeconfig", kubeconfig.to_str().unwrap()])
            .env("VAULT_TOKEN", "test-token-value");
        c
    };
    // A whole archive without meta.json and state.bin: refused before anything else.
    let other = archive(dir.path(), "other.tgz", &[("notes.txt", "hello")]);
    let o = restore(&other, &["--yes"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("is a whole archive but not a raft snapshot (no meta.json, state.bin); nothing was sent"),
        "{}",
        stderr(&o)
    );
    // On a terminal (util-linux's `script` gives it one): the cluster's name is asked for, and
    // a wrong answer sends nothing.
    let Some(script) = crate::support::servers::find_tool("SCRIPT", "script") else {
        return;
    };
    let snap = archive(
        dir.path(),
        "snap.tgz",
        &[("meta.json", "{}"), ("state.bin", "state")],
    );
    let cmd = restore(&snap, &[]);
    let line: Vec<String> = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| format!("'{}'", a.to_str().unwrap()))
        .collect();
    let mut child = std::process::Command::new(script)
        .args(["-qec", &line.join(" "), "/dev/null"])
        .env("VAULT_TOKEN", "test-token-value")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"production\n")
            .unwrap();
    }
    let o = child.wait_with_output().unwrap();
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(
        all.contains("type the cluster's name (homelab) to go on:"),
        "{all}"
    );
    assert!(all.contains("not confirmed; nothing was sent"), "{all}");
    assert_eq!(o.status.code(), Some(2), "{all}");
}
