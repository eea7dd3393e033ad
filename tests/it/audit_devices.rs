//! `vaultConfig.audit` as a list of devices, on a real OpenBao: `configure` and configure.sh
//! enable each device at its own path, once; a second run finds them as wanted; the socket
//! device's collector receives the events; values stay HMAC'd, and `sys/audit-hash` finds
//! a value's HMAC. OpenBao (2.3.2 and later) takes audit devices through the API only with
//! `unsafe_allow_api_audit_creation = true` in its server configuration, which these servers
//! get; without it, OpenBao declares devices in the server configuration only.

use crate::support::common::*;
use crate::support::servers::Bao;
use crate::support::vault_fakes::{run_script, VaultCli};
use crate::support::vault_setup::{assert_no_work, configure, SpecDir};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

const REVIEWER_JWT: &str = "reviewer-jwt-for-audit-tests";

/// A collector: every line a socket device sends.
struct Collector {
    address: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Collector {
    fn start() -> Collector {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let sink = sink.clone();
                std::thread::spawn(move || {
                    for line in BufReader::new(stream).lines().map_while(Result::ok) {
                        sink.lock().unwrap().push(line);
                    }
                });
            }
        });
        Collector { address, lines }
    }

    fn text(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }
}

/// A dev server that takes audit devices through the API.
fn bao(dir: &Path) -> Option<Bao> {
    let config = dir.join("audit-api.hcl");
    std::fs::write(&config, "unsafe_allow_api_audit_creation = true\n").unwrap();
    Bao::start_with(Some(&config))
}

fn spec(dir: &Path, ca: &Path, k8s_host: &str, collector: &str) -> String {
    format!(
        r#"apiVersion: kubectl-vault/v1alpha1
kind: VaultStack
cluster: lab
vault:
  chart: {{version: 0.30.0}}
  tls: vault-tls
operator:
  chart: {{version: 1.4.1}}
apps:
  - name: api
    namespace: shop
    secrets:
      - name: api-config
        kv: apps-kv/shop/api
vaultConfig:
  kubernetesAuth:
    mount: kubernetes
    host: {k8s_host}
    caCertFrom: file:{ca}
    disableLocalCaJwt: true
    tokenReviewer: {{mode: serviceAccount, jwtFrom: env:TEST_REVIEWER_JWT}}
  audit:
    - type: file
      options: {{file_path: {log}}}
    - path: stdout
      options: {{file_path: stdout}}
    - type: socket
      path: collector
      options: {{address: "{collector}", socket_type: tcp}}
"#,
        ca = ca.display(),
        log = dir.join("audit.log").display(),
    )
}

fn devices(bao: &Bao) -> serde_json::Value {
    let all = bao.api("GET", "sys/audit", None).1;
    let mut out = serde_json::Map::new();
    for path in ["file/", "stdout/", "collector/"] {
        out.insert(
            path.into(),
            json!({"type": all["data"][path]["type"], "options": all["data"][path]["options"]}),
        );
    }
    serde_json::Value::Object(out)
}

#[test]
fn configure_enables_each_device_once_and_values_stay_hmaced() {
    let collector = Collector::start();
    let s = SpecDir::new(REVIEWER_JWT, |dir, ca, host| {
        spec(dir, ca, host, &collector.address)
    });
    let Some(bao) = bao(s.dir.path()) else { return };
    let env = [("TEST_REVIEWER_JWT", REVIEWER_JWT)];
    let o = configure(&bao, &s.spec_path, &[], &env);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    for device in [
        "audit device file/ (file)",
        "audit device stdout/ (file)",
        "audit device collector/ (socket)",
    ] {
        assert!(stdout(&o).contains(device), "{}", stdout(&o));
    }
    let log = s.dir.path().join("audit.log");
    assert_eq!(
        devices(&bao),
        json!({
            "file/": {"type": "file", "options": {"file_path": log.display().to_string()}},
            "stdout/": {"type": "file", "options": {"file_path": "stdout"}},
            "collector/": {"type": "socket", "options": {"address": collector.address, "socket_type": "tcp"}},
        })
    );
    assert_no_work(
        &configure(&bao, &s.spec_path, &["--dry-run"], &env),
        "configure",
    );

    // A secret read: the value is in neither the file nor what the collector got, but its
    // HMAC is, and sys/audit-hash/<device> finds it.
    let value = format!("value-{}", std::process::id());
    assert!(
        bao.api(
            "POST",
            "apps-kv/data/shop/api",
            Some(json!({"data": {"password": value}}))
        )
        .0 < 300
    );
    assert_eq!(bao.api("GET", "apps-kv/data/shop/api", None).0, 200);
    // Each device HMACs with its own key: the lookup names the device.
    let hash_for = |device: &str| {
        let (status, hash) = bao.api(
            "POST",
            &format!("sys/audit-hash/{device}"),
            Some(json!({"input": value})),
        );
        assert_eq!(status, 200, "{hash}");
        let hash = hash["data"]["hash"].as_str().unwrap().to_string();
        assert!(hash.starts_with("hmac-sha256:"), "{hash}");
        hash
    };
    let (file_hash, collector_hash) = (hash_for("file"), hash_for("collector"));
    assert_ne!(file_hash, collector_hash, "one key per device");
    let start = std::time::Instant::now();
    while !collector.text().contains(&collector_hash) {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "the collector got no event with the value's HMAC"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let file = std::fs::read_to_string(&log).unwrap();
    assert!(file.contains(&file_hash), "the file has the value's HMAC");
    for (what, text) in [("file", file), ("collector", collector.text())] {
        assert!(
            !text.contains(&value),
            "the {what} log holds the value in clear"
        );
    }
}

#[test]
fn configure_sh_enables_each_device_once_and_configure_agrees() {
    let Some(cli) = VaultCli::new() else { return };
    let collector = Collector::start();
    let s = SpecDir::new(REVIEWER_JWT, |dir, ca, host| {
        spec(dir, ca, host, &collector.address)
    });
    let Some(bao) = bao(s.dir.path()) else { return };
    let o = bin()
        .args(["configure", "--script", "-f", s.spec_path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let script = s.dir.path().join("configure.sh");
    std::fs::write(&script, stdout(&o)).unwrap();
    let env = [("TEST_REVIEWER_JWT", REVIEWER_JWT)];
    for run in ["first", "second"] {
        let o = run_script(&script, &cli, &bao, &env);
        assert!(
            o.status.success(),
            "{run} run: {}{}",
            stdout(&o),
            stderr(&o)
        );
    }
    let enables = cli
        .calls()
        .iter()
        .filter(|c| c.len() > 1 && c[0] == "audit" && c[1] == "enable")
        .count();
    assert_eq!(enables, 3, "each device enabled once over two runs");
    assert_eq!(devices(&bao)["collector/"]["type"], "socket");
    assert_no_work(
        &configure(&bao, &s.spec_path, &["--dry-run"], &env),
        "configure.sh",
    );
}

/// One file device on a volume is legal, with a warning that a full disk stops Vault.
#[test]
fn a_single_file_device_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("production.yaml")).unwrap();
    let path = dir.path().join("vault.yaml");
    std::fs::write(&path, text).unwrap();
    let o = run(&[
        "generate",
        "-f",
        path.to_str().unwrap(),
        "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the only audit device writes a file"),
        "{}",
        stderr(&o)
    );
}

/// OpenBao's default: audit devices through the API are refused; configure says where they
/// belong instead (everything before the audit step is applied, and a re-run continues).
#[test]
fn openbao_refusing_audit_devices_gets_a_hint() {
    let collector = Collector::start();
    let s = SpecDir::new(REVIEWER_JWT, |dir, ca, host| {
        spec(dir, ca, host, &collector.address)
    });
    let Some(bao) = Bao::start() else { return };
    let o = configure(
        &bao,
        &s.spec_path,
        &[],
        &[("TEST_REVIEWER_JWT", REVIEWER_JWT)],
    );
    assert_eq!(o.status.code(), Some(3), "{}{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("cannot enable audit device via API"), "{err}");
    assert!(
        err.contains("unsafe_allow_api_audit_creation = true"),
        "{err}"
    );
    assert!(
        err.contains("failed at: audit device file/ (file)"),
        "{err}"
    );
}
