//! `operator status|init|unseal|snapshot save` against a real three-node OpenBao raft cluster
//! (`bao server` with config files, not dev mode), reached through the fake API server's pod
//! proxy exactly as through a real API server, with PGP keys made at test time by gnupg.

use crate::support::common::*;
use crate::support::fake_apiserver::FakeApiServer;
use crate::support::servers::{find_tool, BaoCluster};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const NS: &str = "vault";

/// A kubeconfig for `api` with the context `context`, in a new temporary folder.
fn kubeconfig(api: &FakeApiServer, context: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = api.write_kubeconfig(dir.path(), context);
    (dir, kubeconfig)
}

/// `kubectl vault ARGS -f SPEC --kubeconfig KUBECONFIG`.
fn run_on(args: &[&str], spec: &Path, kubeconfig: &Path) -> Output {
    let mut all = args.to_vec();
    all.extend_from_slice(&[
        "-f",
        spec.to_str().unwrap(),
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
    ]);
    run(&all)
}

struct Setup {
    dir: tempfile::TempDir,
    api: FakeApiServer,
    kubeconfig: PathBuf,
    spec: PathBuf,
    bao: BaoCluster,
}

impl Setup {
    fn start(nodes: usize) -> Option<Setup> {
        Setup::start_with(nodes, FakeApiServer::start())
    }

    fn start_with(nodes: usize, api: FakeApiServer) -> Option<Setup> {
        let bao = BaoCluster::start(nodes)?;
        for i in 0..nodes {
            api.add_vault_pod(NS, &format!("vault-{i}"), &bao.backend(i));
        }
        let (dir, kubeconfig) = kubeconfig(&api, "homelab");
        Some(Setup {
            dir,
            api,
            kubeconfig,
            spec: fixture("example.yaml"),
            bao,
        })
    }

    /// Runs `kubectl vault operator ARGS -f SPEC --kubeconfig K`, with `stdin` and
    /// `VAULT_TOKEN` when given.
    fn op(&self, args: &[&str], stdin: Option<&str>, token: Option<&str>) -> Output {
        let mut cmd = bin();
        cmd.arg("operator")
            .args(args)
            .args(["-f", self.spec.to_str().unwrap()])
            .args(["--kubeconfig", self.kubeconfig.to_str().unwrap()])
            .env_remove("VAULT_TOKEN")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(t) = token {
            cmd.env("VAULT_TOKEN", t);
        }
        let mut child = cmd.spawn().expect("run kubectl-vault");
        {
            use std::io::Write;
            let mut input = child.stdin.take().unwrap();
            let _ = input.write_all(stdin.unwrap_or("").as_bytes());
        }
        child.wait_with_output().unwrap()
    }

    fn status_json(&self, token: Option<&str>) -> serde_json::Value {
        let o = self.op(&["status", "-o", "json"], None, token);
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)))
    }
}

/// The status table with the server version and ports made stable.
fn stable(text: &str) -> String {
    let version = regex_lite_version(text);
    match version {
        Some(v) => text.replace(&v, "[VERSION]"),
        None => text.to_string(),
    }
}

/// The first `N.N.N` version in the text (the OpenBao release the tests run).
fn regex_lite_version(text: &str) -> Option<String> {
    text.split_whitespace()
        .find(|w| {
            let parts: Vec<&str> = w.split('.').collect();
            parts.len() == 3 && parts.iter().all(|p| p.parse::<u32>().is_ok())
        })
        .map(str::to_string)
}

/// gnupg with a throwaway home: keys without passphrase, made now, never committed.
struct Gpg {
    home: PathBuf,
    bin: PathBuf,
}

impl Gpg {
    fn new(dir: &Path) -> Option<Gpg> {
        let bin = find_tool("GPG_BIN", "gpg");
        if bin.is_none() {
            if std::env::var("CI").is_ok() {
                panic!("gpg is missing: scripts/test-deps.sh installs gnupg");
            }
            eprintln!("skipped: gpg is missing (scripts/test-deps.sh installs gnupg)");
            return None;
        }
        let home = dir.join("gnupg");
        std::fs::create_dir_all(&home).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        Some(Gpg {
            home,
            bin: bin.unwrap(),
        })
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.env("GNUPGHOME", &self.home).args(["--batch", "--quiet"]);
        c
    }

    /// A new key for `who`; its public key exported to `<dir>/<who>.<ext>` (armored for .asc,
    /// binary for .gpg).
    fn key(&self, who: &str, dir: &Path, armored: bool) -> PathBuf {
        let uid = format!("{who}@example.test");
        let ok = self
            .cmd()
            .args([
                "--passphrase",
                "",
                "--quick-gen-key",
                &uid,
                "rsa2048",
                "encrypt",
                "never",
            ])
            .status()
            .unwrap();
        assert!(ok.success(), "gpg --quick-gen-key");
        let mut export = self.cmd();
        export.arg("--export");
        if armored {
            export.arg("--armor");
        }
        let out = export.arg(&uid).output().unwrap();
        assert!(out.status.success() && !out.stdout.is_empty());
        let path = dir.join(format!("{who}.{}", if armored { "asc" } else { "gpg" }));
        std::fs::write(&path, out.stdout).unwrap();
        path
    }

    /// Decrypts a base64 PGP message as Vault prints it (`base64 -d | gpg -dq`).
    fn decrypt(&self, b64: &str) -> String {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("base64");
        let mut child = self
            .cmd()
            .arg("--decrypt")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(&bytes).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "gpg -d: {}", stderr(&out));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }
}

/// The text after `label: ` on each line that starts with `prefix`.
fn values_after(text: &str, prefix: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .map(|l| l.rsplit_once(": ").unwrap().1.to_string())
        .collect()
}

fn assert_absent(outputs: &[&Output], secrets: &[String]) {
    for o in outputs {
        for s in secrets {
            assert!(
                !stdout(o).contains(s.as_str()) && !stderr(o).contains(s.as_str()),
                "a secret appeared in an output"
            );
        }
    }
}

#[test]
fn a_three_node_raft_cluster_is_initialised_with_pgp_keys_unsealed_watched_and_backed_up() {
    let Some(s) = Setup::start(3) else { return };
    let Some(gpg) = Gpg::new(s.dir.path()) else {
        return;
    };

    // Freshly deployed: sealed and not initialised, exit 1.
    let before = s.op(&["status"], None, None);
    assert_eq!(before.status.code(), Some(1), "{}", stderr(&before));
    insta::assert_snapshot!("status_before_init", stable(&stdout(&before)));

    // init: three shares, each encrypted to its holder's key (armored and binary both
    // accepted), the root token to alice's.
    let alice = gpg.key("alice", s.dir.path(), true);
    let bob = gpg.key("bob", s.dir.path(), false);
    let carol = gpg.key("carol", s.dir.path(), true);
    let keys = format!("{},{},{}", alice.display(), bob.display(), carol.display());
    let init = s.op(
        &[
            "init",
            "--key-shares",
            "3",
            "--key-threshold",
            "2",
            "--pgp-keys",
            &keys,
            "--root-token-pgp-key",
            alice.to_str().unwrap(),
        ],
        None,
        None,
    );
    assert_eq!(init.status.code(), Some(0), "{}", stderr(&init));
    let out = stdout(&init);
    assert_eq!(out.matches("(PGP-encrypted for ").count(), 3, "{out}");
    assert!(!stderr(&init).contains("plain text"), "{}", stderr(&init));
    let encrypted = values_after(&out, "Unseal key ");
    let shares: Vec<String> = encrypted.iter().map(|e| gpg.decrypt(e)).collect();
    let root = gpg.decrypt(&values_after(&out, "Root token")[0]);
    assert!(root.len() > 10);
    // No plaintext share or token anywhere in init's output.
    let mut secrets = shares.clone();
    secrets.push(root.clone());
    assert_absent(&[&init], &secrets);

    // A second init is refused, nothing changed.
    let again = s.op(&["init"], None, None);
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("already initialised"),
        "{}",
        stderr(&again)
    );

    // unseal: two shares on stdin; vault-0 (initialised) first, the others join it.
    let input = format!("{}\n{}\n", shares[0], shares[2]);
    let unseal = s.op(&["unseal"], Some(&input), None);
    assert_eq!(
        unseal.status.code(),
        Some(0),
        "{}{}",
        stdout(&unseal),
        stderr(&unseal)
    );
    let unseal_err = stderr(&unseal);
    // Once, before the first share: with `tls: false` the last hop is clear text.
    let notes: Vec<&str> = unseal_err
        .lines()
        .filter(|l| l.starts_with("note:"))
        .collect();
    insta::assert_snapshot!("pod_proxy_note_http", notes.join("\n"));
    let progress: Vec<&str> = unseal_err
        .lines()
        .filter(|l| l.starts_with("vault-"))
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(
        progress,
        ["vault-0", "vault-1", "vault-2"],
        "{}",
        stderr(&unseal)
    );
    assert!(
        stdout(&unseal).contains("3/3 unsealed"),
        "{}",
        stdout(&unseal)
    );
    assert_absent(&[&unseal], &secrets);

    // Autopilot makes the joined nodes voters after its stabilisation time.
    let start = std::time::Instant::now();
    loop {
        let v = s.status_json(Some(&root));
        if v["voters"] == 3 && v["leader"] == "vault-0" {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(90),
            "the cluster did not reach 3 voters: {v}"
        );
        std::thread::sleep(std::time::Duration::from_millis(1000));
    }
    let status = s.op(&["status"], None, Some(&root));
    assert_eq!(status.status.code(), Some(0), "{}", stderr(&status));
    insta::assert_snapshot!("status_unsealed", stable(&stdout(&status)));
    assert_absent(&[&status], &secrets);

    // A snapshot through the active node: mode 0600, and the server restores it.
    let backup = s.dir.path().join("backup.snap");
    let snap = s.op(
        &["snapshot", "save", backup.to_str().unwrap()],
        None,
        Some(&root),
    );
    assert_eq!(snap.status.code(), Some(0), "{}", stderr(&snap));
    assert!(stderr(&snap).contains("from vault-0"), "{}", stderr(&snap));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let bytes = std::fs::read(&backup).unwrap();
    assert!(bytes.starts_with(&[0x1f, 0x8b]), "a gzip raft snapshot");
    assert_absent(&[&snap], &secrets);
    let no_token = s.op(&["snapshot", "save", backup.to_str().unwrap()], None, None);
    assert_eq!(no_token.status.code(), Some(2), "{}", stderr(&no_token));
    let restore = {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let req = ureq::http::Request::builder()
            .method("POST")
            .uri(format!(
                "http://{}/v1/sys/storage/raft/snapshot",
                s.bao.backend(0)
            ))
            .header("X-Vault-Token", root.as_str())
            .body(bytes)
            .unwrap();
        agent.run(req).unwrap().status().as_u16()
    };
    assert_eq!(restore, 204, "the server restores the snapshot");

    // Day 2: a pod restarts and comes back sealed; status says so (exit 1).
    let mut s = s;
    s.bao.restart(2);
    s.bao.wait_until("vault-2 answers", |b| {
        b.api(2, None, "GET", "sys/seal-status", None).0 == 200
    });
    let sealed = s.op(&["status"], None, Some(&root));
    assert_eq!(sealed.status.code(), Some(1), "{}", stdout(&sealed));
    insta::assert_snapshot!("status_one_restarted_sealed", stable(&stdout(&sealed)));

    // A wrong share is refused without being printed; the pod stays sealed.
    let wrong = ["a".repeat(66), "b".repeat(66)];
    let bad = s.op(
        &["unseal"],
        Some(&format!("{}\n{}\n", wrong[0], wrong[1])),
        None,
    );
    assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("vault-2: the shares given do not unseal it"),
        "{}",
        stderr(&bad)
    );
    assert_absent(&[&bad], &wrong.map(String::from));

    // Unseal again: only vault-2 is touched.
    let unseal = s.op(&["unseal"], Some(&input), None);
    assert_eq!(unseal.status.code(), Some(0), "{}", stderr(&unseal));
    let err = stderr(&unseal);
    assert!(
        err.contains("vault-0: already unsealed, left alone"),
        "{err}"
    );
    assert!(err.contains("vault-2: unsealed"), "{err}");
    assert_absent(&[&unseal], &secrets);

    // Every pod restarted at once (a node pool upgrade): all sealed, no leader; one unseal
    // run brings the whole cluster back, with a leader elected.
    for i in 0..3 {
        s.bao.restart(i);
    }
    let all_sealed = s.op(&["status", "-o", "json"], None, None);
    assert_eq!(all_sealed.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&all_sealed.stdout).unwrap();
    assert_eq!(v["unsealed"], 0, "{v}");
    let unseal = s.op(&["unseal", "-o", "json"], Some(&input), None);
    assert_eq!(unseal.status.code(), Some(0), "{}", stderr(&unseal));
    let v: serde_json::Value = serde_json::from_slice(&unseal.stdout).unwrap();
    assert_eq!(v["unsealed"], 3, "{v}");
    assert!(v["leader"].is_string(), "{v}");
    assert_absent(&[&unseal], &secrets);
}

#[test]
fn init_without_pgp_keys_prints_the_shares_once_on_stdout_after_a_warning() {
    let Some(s) = Setup::start(1) else { return };
    let init = s.op(&["init", "-o", "json"], None, None);
    assert_eq!(init.status.code(), Some(0), "{}", stderr(&init));
    let v: serde_json::Value = serde_json::from_slice(&init.stdout).unwrap();
    let shares: Vec<String> = v["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert_eq!(shares.len(), 5);
    assert_eq!(v["threshold"], 3);
    assert_eq!(v["sharesEncrypted"], false);
    let root = v["rootToken"].as_str().unwrap().to_string();
    let err = stderr(&init);
    assert!(
        err.contains(
            "warning: the key shares and the root token are printed below in plain text, this once"
        ),
        "{err}"
    );
    // Once: on stdout only.
    for secret in shares.iter().chain([&root]) {
        assert_eq!(stdout(&init).matches(secret.as_str()).count(), 1);
        assert!(!err.contains(secret.as_str()));
    }
    // One share is not enough: the pod stays sealed with its progress, exit 1.
    let partial = s.op(&["unseal"], Some(&format!("{}\n", shares[4])), None);
    assert_eq!(partial.status.code(), Some(1), "{}", stderr(&partial));
    assert!(
        stderr(&partial)
            .contains("vault-0: still sealed: 1/3 shares given; pass at least 3 shares"),
        "{}",
        stderr(&partial)
    );
    assert!(
        stdout(&partial).contains("yes (1/3 shares)"),
        "{}",
        stdout(&partial)
    );
    // Three of the five shares unseal the single node (the one already given is not counted
    // twice).
    let input = format!("{}\n{}\n{}\n", shares[4], shares[0], shares[2]);
    let unseal = s.op(&["unseal", "-o", "json"], Some(&input), None);
    assert_eq!(unseal.status.code(), Some(0), "{}", stderr(&unseal));
    let status: serde_json::Value = serde_json::from_slice(&unseal.stdout).unwrap();
    assert_eq!(status["unsealed"], 1);
    assert_eq!(status["leader"], "vault-0");
    let mut secrets = shares.clone();
    secrets.push(root);
    assert_absent(&[&unseal, &partial], &secrets);
}

#[test]
fn forbidden_pod_proxy_names_the_missing_permission_and_exits_3() {
    let api = FakeApiServer::start();
    api.add_vault_pod(NS, "vault-0", "127.0.0.1:9");
    api.forbid_pod_proxy(&["get", "update"]);
    let (_dir, kubeconfig) = kubeconfig(&api, "homelab");
    let o = run_on(
        &["operator", "status"],
        &fixture("example.yaml"),
        &kubeconfig,
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    let err = err
        .lines()
        .skip_while(|l| !l.starts_with("forbidden"))
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!(err);
}

/// Reading is allowed, writing is not: init names `update pods/proxy`.
#[test]
fn forbidden_writes_through_the_pod_proxy_name_the_update_verb() {
    let Some(s) = Setup::start(1) else { return };
    s.api.forbid_pod_proxy(&["update"]);
    let o = s.op(&["init"], None, None);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("may not `update pods/proxy` in namespace vault"),
        "{}",
        stderr(&o)
    );
    // Nothing was initialised.
    let v = s.status_json(None);
    assert_eq!(v["pods"][0]["initialized"], false);
}

#[test]
fn no_vault_pods_is_an_environment_error() {
    let api = FakeApiServer::start();
    let (_dir, kubeconfig) = kubeconfig(&api, "homelab");
    let o = run_on(
        &["operator", "status"],
        &fixture("example.yaml"),
        &kubeconfig,
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no Vault StatefulSet `vault` in namespace vault"),
        "{}",
        stderr(&o)
    );
    // The StatefulSet, but no pod of it yet.
    api.vault_statefulset("vault", 3);
    let o = run_on(
        &["operator", "status"],
        &fixture("example.yaml"),
        &kubeconfig,
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no Vault server pods in namespace vault"),
        "{}",
        stderr(&o)
    );
}

/// A pod that wears Vault's labels but was not made by the Vault StatefulSet (or is not one of
/// its ordinals) receives nothing — not the unseal shares, not VAULT_TOKEN — and is named in a
/// warning; two pods claiming the leadership stop a snapshot.
#[test]
fn rogue_pods_with_vaults_labels_get_nothing() {
    let Some(s) = Setup::start(1) else { return };
    // A listener that records whether anything ever reaches it.
    let trap = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let trap_addr = trap.local_addr().unwrap().to_string();
    trap.set_nonblocking(true).unwrap();
    for name in ["vault-1", "vault-7", "vault-evil"] {
        s.api.add(serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NS, "labels": {
                "app.kubernetes.io/name": "vault", "app.kubernetes.io/instance": "vault",
                "component": "server"}},
            "status": {"phase": "Running", "podIP": "127.0.0.1"},
        }));
        s.api.set_pod_backend(NS, name, &trap_addr);
    }
    let init = s.op(&["init", "-o", "json"], None, None);
    assert_eq!(init.status.code(), Some(0), "{}", stderr(&init));
    for name in ["vault-1", "vault-7", "vault-evil"] {
        assert!(
            stderr(&init).contains(&format!("warning: pod {name} wears Vault's labels but is not created by the Vault StatefulSet: skipped")),
            "{}",
            stderr(&init)
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&init.stdout).unwrap();
    let shares: Vec<&str> = v["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    let root = v["rootToken"].as_str().unwrap();
    let input = format!("{}\n{}\n{}\n", shares[0], shares[1], shares[2]);
    let unseal = s.op(&["unseal"], Some(&input), None);
    assert_eq!(unseal.status.code(), Some(0), "{}", stderr(&unseal));
    let status = s.op(&["status"], None, Some(root));
    assert_eq!(status.status.code(), Some(0), "{}", stderr(&status));
    assert!(trap.accept().is_err(), "a rogue pod was sent a request");
}

#[test]
fn init_refuses_a_bad_pgp_key_file_before_any_request() {
    let api = FakeApiServer::start();
    let (dir, kubeconfig) = kubeconfig(&api, "homelab");
    let key = dir.path().join("not-a-key.asc");
    std::fs::write(&key, "hello").unwrap();
    let o = run_on(
        &[
            "operator",
            "init",
            "--key-shares",
            "1",
            "--key-threshold",
            "1",
            "--pgp-keys",
            key.to_str().unwrap(),
        ],
        &fixture("example.yaml"),
        &kubeconfig,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not a PGP public key"),
        "{}",
        stderr(&o)
    );
    assert_eq!(api.request_count(), 0);
}

/// The fake's pod proxy behaves as a real API server's for the real kubectl.
#[test]
fn kubectl_get_raw_reaches_vault_through_the_fake_pod_proxy() {
    let Some(kubectl) =
        crate::support::servers::require(find_tool("KUBECTL", "kubectl"), "kubectl")
    else {
        return;
    };
    // HTTPS, as kubectl sends a bearer token only over TLS.
    let Some(s) = Setup::start_with(1, FakeApiServer::start_tls()) else {
        return;
    };
    let o = Command::new(kubectl)
        .args([
            "--kubeconfig",
            s.kubeconfig.to_str().unwrap(),
            "get",
            "--raw",
            "/api/v1/namespaces/vault/pods/vault-0:8200/proxy/v1/sys/seal-status",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["initialized"], false);
    assert_eq!(v["sealed"], true);
    assert!(s
        .api
        .requests()
        .iter()
        .any(|r| r.contains("/pods/vault-0:8200/proxy/v1/sys/seal-status")));
    // And kubectl-vault goes the same way over HTTPS.
    let o = s.op(&["status", "-o", "json"], None, None);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"], "0/1 unsealed, not initialised, no leader, raft voters unknown (set VAULT_TOKEN to read them)");
}

/// `verify` reports the Vault pods' seal state as a link of the chain, from the labels Vault's
/// service registration sets (one pod list, no request to Vault).
#[test]
fn verify_reports_sealed_vault_pods_as_a_broken_link() {
    use serde_json::json;
    let fake = FakeApiServer::start();
    let spec = fixture("example.yaml");
    crate::support::cluster_state::synced(&fake, &spec);
    for (i, sealed) in ["false", "false", "true"].iter().enumerate() {
        let name = format!("vault-{i}");
        fake.add_vault_pod(NS, &name, "127.0.0.1:9");
        fake.modify("Pod", NS, &name, |o| {
            let labels = &mut o["metadata"]["labels"];
            labels["vault-sealed"] = json!(sealed);
            labels["vault-initialized"] = json!("true");
            labels["vault-active"] = json!(if i == 0 { "true" } else { "false" });
        });
    }
    let (_dir, kubeconfig) = kubeconfig(&fake, "homelab");
    let verify = || run_on(&["verify"], &spec, &kubeconfig);
    let o = verify();
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let line = |o: &Output| {
        stdout(o)
            .lines()
            .find(|l| l.contains("VaultPods"))
            .unwrap_or_default()
            .to_string()
    };
    insta::assert_snapshot!("verify_seal_link_sealed", line(&o));
    fake.modify("Pod", NS, "vault-2", |o| {
        o["metadata"]["labels"]["vault-sealed"] = json!("false")
    });
    let o = verify();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        line(&o),
        "ok   VaultPods vault/vault: 3/3 unsealed, leader vault-0"
    );
    // No request reached a pod: the labels say it all.
    assert!(!fake.requests().iter().any(|r| r.contains("/proxy/")));
}

/// With `vault.tls`, the pod proxy is asked for `https:` (the API server then speaks TLS to
/// the pod). The fake records the path and forwards to its plain-HTTP backend.
#[test]
fn tls_vault_is_reached_through_the_https_pod_proxy() {
    let Some(bao) = BaoCluster::start(1) else {
        return;
    };
    let api = FakeApiServer::start();
    api.add_vault_pod("vault-system", "vault-0", &bao.backend(0));
    let (_dir, kubeconfig) = kubeconfig(&api, "prod");
    let spec = fixture("production.yaml");
    let o = run_on(&["operator", "status", "-o", "json"], &spec, &kubeconfig);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["namespace"], "vault-system");
    assert_eq!(v["pods"][0]["initialized"], false);
    assert!(
        api.requests().iter().any(|r| r
            == "GET /api/v1/namespaces/vault-system/pods/https:vault-0:8200/proxy/v1/sys/seal-status"),
        "{:#?}",
        api.requests()
    );
    // The spec's autoUnseal makes init ask for recovery shares; this test server has a Shamir
    // seal, so Vault refuses them, and says so.
    let o = run_on(&["operator", "init"], &spec, &kubeconfig);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    // Before the init request (whose answer holds the shares), what the proxy protects.
    let note: Vec<&str> = err.lines().filter(|l| l.starts_with("note:")).collect();
    insta::assert_snapshot!("pod_proxy_note_https", note.join("\n"));
    let err = &err[err.find("pod vault-0").expect("names the pod")..];
    insta::assert_snapshot!("init_recovery_shares_on_a_shamir_seal", err);
}

/// With `autoUnseal` (a transit seal on a second OpenBao), init creates recovery shares, the
/// node unseals itself, and unseal has nothing to do.
#[test]
fn auto_unseal_init_creates_recovery_shares_and_unseal_has_nothing_to_do() {
    use serde_json::json;
    let Some(transit) = crate::support::servers::Bao::start() else {
        return;
    };
    transit.api(
        "POST",
        "sys/mounts/transit",
        Some(json!({"type": "transit"})),
    );
    transit.api("POST", "transit/keys/autounseal", None);
    let seal = format!(
        "seal \"transit\" {{\n  address = \"{}\"\n  token = \"{}\"\n  mount_path = \"transit/\"\n  key_name = \"autounseal\"\n}}\n",
        transit.addr, transit.token
    );
    let Some(bao) = BaoCluster::start_with(1, &seal) else {
        return;
    };
    let api = FakeApiServer::start();
    api.add_vault_pod(NS, "vault-0", &bao.backend(0));
    let (dir, kubeconfig) = kubeconfig(&api, "homelab");
    let spec = dir.path().join("vault.yaml");
    let text = std::fs::read_to_string(fixture("example.yaml")).unwrap();
    let text = text.replacen(
        "  tls: false ",
        &format!(
            "  autoUnseal:\n    transit:\n      address: {}\n      mountPath: transit/\n      keyName: autounseal\n  tls: false ",
            transit.addr
        ),
        1,
    );
    std::fs::write(&spec, text).unwrap();
    let op = |args: &[&str]| {
        let mut all = vec!["operator"];
        all.extend_from_slice(args);
        run_on(&all, &spec, &kubeconfig)
    };
    let init = op(&["init", "--key-shares", "3", "--key-threshold", "2"]);
    assert_eq!(init.status.code(), Some(0), "{}", stderr(&init));
    let out = stdout(&init);
    assert_eq!(out.matches("Recovery key ").count(), 3, "{out}");
    assert!(
        stderr(&init).contains("3 recovery shares, threshold 2"),
        "{}",
        stderr(&init)
    );
    bao.wait_until("vault-0 unseals itself", |b| {
        let (_, body) = b.api(0, None, "GET", "sys/seal-status", None);
        serde_json::from_slice::<serde_json::Value>(&body).is_ok_and(|v| v["sealed"] == false)
    });
    let unseal = op(&["unseal", "-o", "json"]);
    assert_eq!(unseal.status.code(), Some(0), "{}", stderr(&unseal));
    assert!(
        stderr(&unseal).contains("Vault unseals itself with its auto-unseal seal"),
        "{}",
        stderr(&unseal)
    );
}

/// `operator init` never loses the shares quietly: a reader that goes away before the answer
/// (`| head -c0`, a gpg that exits first) is a non-zero exit that says Vault IS initialised and
/// the shares were NOT delivered, and how to start again.
#[test]
fn init_into_a_closed_stdout_fails_loudly_and_says_vault_is_initialised() {
    let Some(s) = Setup::start(1) else { return };
    let mut child = bin()
        .args(["operator", "init", "-f"])
        .arg(&s.spec)
        .arg("--kubeconfig")
        .arg(&s.kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader is gone before the answer comes
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("Vault IS initialised (through vault-0), but its key shares and root token were NOT delivered"),
        "{err}"
    );
    assert!(
        err.contains("--shares-file") && err.contains("--pgp-keys"),
        "{err}"
    );
    assert!(
        !err.contains("next: kubectl vault operator unseal"),
        "{err}"
    );
    assert!(
        !err.contains("hvs.") && !err.contains("s."),
        "no secret on stderr: {err}"
    );
    let status = s.status_json(None);
    assert_eq!(status["pods"][0]["initialized"], true, "{status}");
}

/// `--shares-file` is created (new, 0600) before Vault is asked; an existing file refuses the
/// init with nothing sent; the answer lands in the file and stdout holds no secret.
#[test]
fn init_with_a_shares_file_creates_it_first_and_writes_the_answer_there() {
    let Some(s) = Setup::start(1) else { return };
    let file = s.dir.path().join("shares.json");
    std::fs::write(&file, "someone else's\n").unwrap();
    let refused = s.op(
        &[
            "init",
            "-o",
            "json",
            "--shares-file",
            file.to_str().unwrap(),
        ],
        None,
        None,
    );
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("Vault was not asked to initialise"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "someone else's\n");
    assert_eq!(s.status_json(None)["pods"][0]["initialized"], false);

    std::fs::remove_file(&file).unwrap();
    let init = s.op(
        &[
            "init",
            "-o",
            "json",
            "--shares-file",
            file.to_str().unwrap(),
        ],
        None,
        None,
    );
    assert_eq!(init.status.code(), Some(0), "{}", stderr(&init));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let root = v["rootToken"].as_str().unwrap();
    assert_eq!(v["shares"].as_array().unwrap().len(), 5);
    assert!(!stdout(&init).contains(root) && !stderr(&init).contains(root));
    for share in v["shares"].as_array().unwrap() {
        assert!(!stdout(&init).contains(share.as_str().unwrap()));
    }
    assert!(
        stderr(&init).contains("wrote the key shares and the root token to"),
        "{}",
        stderr(&init)
    );
}
