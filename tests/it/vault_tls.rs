//! Vault's TLS as the generated server configuration runs it, on real OpenBao servers: a
//! transit auto-unseal that trusts the unsealer's CA (not this cluster's, which the chart puts
//! in `VAULT_CACERT`).

use crate::support::cluster_state::{ca_file, rendered_objects};
use crate::support::servers::{find_tool, free_port, require, wait_for_port};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A `bao server` stopped when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn bao() -> Option<PathBuf> {
    require(find_tool("BAO_BIN", "bao"), "OpenBao (bao)")
}

/// `bao server` with `args` and `env`, its log in `log`; HOME is `home`, no address or
/// token from the caller's environment.
fn server(bin: &Path, args: &[String], env: &[(&str, &str)], home: &Path, log: &Path) -> Server {
    let mut c = Command::new(bin);
    c.arg("server")
        .args(args)
        .env("HOME", home)
        .env_remove("VAULT_ADDR")
        .env_remove("BAO_ADDR")
        .env_remove("VAULT_TOKEN")
        .env_remove("BAO_TOKEN")
        .env_remove("VAULT_CACERT")
        .env_remove("BAO_CACERT");
    // Some errors (a seal that cannot be configured) go to stdout.
    let file = std::fs::File::create(log).unwrap();
    c.stdout(file.try_clone().unwrap()).stderr(file);
    for (k, v) in env {
        c.env(k, v);
    }
    Server(c.spawn().expect("start bao"))
}

/// A plain-HTTP request to a local server: (status, body).
fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut req = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{addr}/v1/{path}"));
    if let Some(t) = token {
        req = req.header("X-Vault-Token", t);
    }
    let req = req
        .body(body.map(|b| b.to_string()).unwrap_or_default())
        .unwrap();
    match agent.run(req) {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let text = resp.into_body().read_to_string().unwrap_or_default();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        }
        Err(e) => (0, Value::String(e.to_string())),
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(30), "{what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The Vault HelmRelease's `server` values of `spec`.
fn server_values(spec: &Path) -> Value {
    let release = rendered_objects(spec)
        .into_iter()
        .find(|o| o["kind"] == "HelmRelease" && o["spec"]["values"]["server"].is_object())
        .expect("the Vault HelmRelease");
    release["spec"]["values"]["server"].clone()
}

/// The Vault server configuration (`server.ha.raft.config`) of `spec`.
fn server_hcl(spec: &Path) -> String {
    server_values(spec)["ha"]["raft"]["config"]
        .as_str()
        .unwrap()
        .to_string()
}

/// One stanza (`seal "transit" {` to its closing `}`) of an HCL text.
fn stanza(hcl: &str, opening: &str) -> String {
    let start = hcl
        .find(opening)
        .unwrap_or_else(|| panic!("no {opening}:\n{hcl}"));
    let end = start + hcl[start..].find("\n}").expect("the stanza's end") + 2;
    hcl[start..end].to_string()
}

/// With `caCertSecret` and `tlsServerName`, the generated transit seal names the unsealer's CA
/// and name itself: a node whose VAULT_CACERT is this cluster's CA (as the chart sets it)
/// initialises and unseals through an https unsealer signed by another CA. The same seal
/// without them (what the tree wrote before) fails on the unsealer's certificate.
#[test]
fn a_transit_seal_trusts_the_unsealers_ca_not_the_clusters() {
    let Some(bin) = bao() else { return };
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    // The unsealer: a dev server with its own TLS CA (certificate for localhost, 127.0.0.1).
    let certs = home.join("unsealer-certs");
    std::fs::create_dir_all(&certs).unwrap();
    let port = free_port();
    let token = "unsealer-root-token-for-tests";
    let _unsealer = server(
        &bin,
        &[
            "-dev".into(),
            "-dev-tls".into(),
            format!("-dev-tls-cert-dir={}", certs.display()),
            format!("-dev-listen-address=127.0.0.1:{port}"),
            format!("-dev-root-token-id={token}"),
        ],
        &[],
        home,
        &home.join("unsealer.log"),
    );
    wait_for_port(port, "the unsealer");
    let unsealer_ca = certs.join("vault-ca.pem");
    wait_until("the unsealer wrote its CA", || unsealer_ca.exists());
    // The unsealer's transit key, through the bao CLI with the unsealer's CA.
    let cli = |args: &[&str]| {
        let o = Command::new(&bin)
            .args(args)
            .env("BAO_ADDR", format!("https://127.0.0.1:{port}"))
            .env("BAO_TOKEN", token)
            .env("BAO_CACERT", &unsealer_ca)
            .env("HOME", home)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    let start = Instant::now();
    loop {
        let o = Command::new(&bin)
            .args(["status"])
            .env("BAO_ADDR", format!("https://127.0.0.1:{port}"))
            .env("BAO_CACERT", &unsealer_ca)
            .env("HOME", home)
            .output()
            .unwrap();
        if o.status.success() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the unsealer did not start"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    cli(&["secrets", "enable", "transit"]);
    cli(&["write", "-f", "transit/keys/autounseal"]);

    // The spec, and the seal stanza the tree renders from it.
    let spec = home.join("vault.yaml");
    std::fs::write(
        &spec,
        format!(
            "apiVersion: kubectl-vault/v1alpha1\nkind: VaultStack\ncluster: lab\nvault:\n  chart: {{version: 0.30.0}}\n  tls: vault-tls\n  autoUnseal:\n    transit:\n      address: https://127.0.0.1:{port}\n      mountPath: transit/\n      keyName: autounseal\n      caCertSecret: unsealer-ca\n      tlsServerName: localhost\noperator:\n  chart: {{version: 0.10.0}}\n"
        ),
    )
    .unwrap();
    // The unsealer's CA is mounted beside Vault's certificate.
    assert_eq!(
        server_values(&spec)["extraVolumes"],
        serde_json::json!([{"type": "secret", "name": "vault-tls"}, {"type": "secret", "name": "unsealer-ca"}])
    );
    let hcl = server_hcl(&spec);
    let seal = stanza(&hcl, "seal \"transit\" {");
    insta::assert_snapshot!(
        "transit_seal_stanza",
        seal.replace(&port.to_string(), "PORT")
    );
    // The pod's paths, here: the unsealer's CA where the chart mounts Secret unsealer-ca.
    let userconfig = home.join("userconfig");
    std::fs::create_dir_all(userconfig.join("unsealer-ca")).unwrap();
    std::fs::copy(&unsealer_ca, userconfig.join("unsealer-ca/ca.crt")).unwrap();
    let seal = seal.replace("/vault/userconfig/", &format!("{}/", userconfig.display()));
    // The seal's token comes from the pod's environment in a cluster; here it is inline.
    let with_token = |seal: &str| {
        seal.replacen(
            "seal \"transit\" {\n",
            &format!("seal \"transit\" {{\n  token = \"{token}\"\n"),
            1,
        )
    };
    // This cluster's CA, as the chart's VAULT_CACERT names it.
    let cluster_ca = ca_file(home);
    let node = |name: &str, seal: &str| -> (Server, String, PathBuf) {
        let (api, cluster) = (free_port(), free_port());
        let data = home.join(name);
        std::fs::create_dir_all(&data).unwrap();
        let config = home.join(format!("{name}.hcl"));
        std::fs::write(
            &config,
            format!(
                "storage \"raft\" {{\n  path = \"{}\"\n  node_id = \"{name}\"\n}}\nlistener \"tcp\" {{\n  address = \"127.0.0.1:{api}\"\n  cluster_address = \"127.0.0.1:{cluster}\"\n  tls_disable = true\n}}\napi_addr = \"http://127.0.0.1:{api}\"\ncluster_addr = \"http://127.0.0.1:{cluster}\"\n{}\n",
                data.display(),
                with_token(seal)
            ),
        )
        .unwrap();
        let ca = cluster_ca.to_str().unwrap();
        let log = home.join(format!("{name}.log"));
        let s = server(
            &bin,
            &[format!("-config={}", config.display())],
            &[("VAULT_CACERT", ca), ("BAO_CACERT", ca)],
            home,
            &log,
        );
        (s, format!("http://127.0.0.1:{api}"), log)
    };

    let (_node, addr, log) = node("generated", &seal);
    wait_until("the node serves", || {
        http(&addr, "GET", "sys/seal-status", None, None).0 == 200
    });
    let (status, init) = http(
        &addr,
        "POST",
        "sys/init",
        None,
        Some(serde_json::json!({"recovery_shares": 1, "recovery_threshold": 1})),
    );
    assert_eq!(
        status,
        200,
        "{init}\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    wait_until("the node unseals itself through the unsealer", || {
        http(&addr, "GET", "sys/seal-status", None, None).1["sealed"] == false
    });

    // Without the seal's own CA and name, its client trusts VAULT_CACERT only.
    let old: String = seal
        .lines()
        .filter(|l| !l.contains("tls_ca_cert") && !l.contains("tls_server_name"))
        .collect::<Vec<_>>()
        .join("\n");
    let (mut refused, _, log) = node("without-ca", &old);
    wait_until("the node without the unsealer's CA stops", || {
        matches!(refused.0.try_wait(), Ok(Some(_)))
    });
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("certificate signed by unknown authority"),
        "{text}"
    );
}
