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

/// `openssl` with `args` in `dir`; its stdout.
fn openssl(bin: &Path, dir: &Path, args: &[&str]) -> String {
    let o = Command::new(bin)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The serial of the certificate served at 127.0.0.1:`port` (SNI localhost).
fn served_serial(bin: &Path, dir: &Path, port: u16) -> String {
    let mut c = Command::new(bin)
        .current_dir(dir)
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args(["-servername", "localhost", "-CAfile", "ca.pem"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut pem = String::new();
    use std::io::Read;
    c.stdout.take().unwrap().read_to_string(&mut pem).unwrap();
    let _ = c.wait();
    let start = pem
        .find("-----BEGIN CERTIFICATE-----")
        .expect("a served certificate");
    let end = pem.find("-----END CERTIFICATE-----").unwrap() + 25;
    std::fs::write(dir.join("served.pem"), &pem[start..end]).unwrap();
    openssl(
        bin,
        dir,
        &["x509", "-noout", "-serial", "-in", "served.pem"],
    )
    .trim()
    .to_string()
}

/// A leaf certificate `name`.crt/.key for localhost and 127.0.0.1, signed by ca.pem.
fn leaf(bin: &Path, dir: &Path, name: &str) -> String {
    let (key, csr, crt) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.crt"),
    );
    openssl(
        bin,
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            &key,
            "-out",
            &csr,
        ],
    );
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(
        bin,
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            "-out",
            &crt,
        ],
    );
    openssl(bin, dir, &["x509", "-noout", "-serial", "-in", &crt])
        .trim()
        .to_string()
}

/// Puts leaf `name` in place as the Secret volume would (new files renamed over the old).
fn install(dir: &Path, certs: &Path, name: &str) {
    for (from, to) in [("crt", "tls.crt"), ("key", "tls.key")] {
        let tmp = certs.join(format!(".{to}.new"));
        std::fs::copy(dir.join(format!("{name}.{from}")), &tmp).unwrap();
        std::fs::rename(&tmp, certs.join(to)).unwrap();
    }
}

/// With `vault.tls` the Vault pods get a sidecar that sends SIGHUP to the server when its
/// certificate files change. Run against a real, unsealed `bao server` with a TLS listener:
/// a replaced certificate is not served until the generated script signals the server, then
/// it is, and the node is still unsealed.
#[test]
fn a_renewed_certificate_is_served_after_the_generated_reload_without_a_restart() {
    let Some(bin) = bao() else { return };
    let Some(ssl) = require(find_tool("OPENSSL", "openssl"), "openssl") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    // The Secret as the chart mounts it: tls.crt, tls.key and ca.crt in one folder.
    let certs = home.join("userconfig/vault-tls");
    std::fs::create_dir_all(&certs).unwrap();
    openssl(
        &ssl,
        home,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=Test CA",
            "-days",
            "2",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    );
    std::fs::copy(home.join("ca.pem"), certs.join("ca.crt")).unwrap();
    let serials: Vec<String> = ["one", "two", "three"]
        .iter()
        .map(|n| leaf(&ssl, home, n))
        .collect();
    install(home, &certs, "one");

    // The spec's tree: the Certificate's lifetime, the sidecar and its script.
    let spec = home.join("vault.yaml");
    std::fs::write(
        &spec,
        "apiVersion: kubectl-vault/v1alpha1\nkind: VaultStack\ncluster: lab\nvault:\n  chart: {version: 0.30.0}\n  tls: vault-tls\n  tlsIssuer: lab-ca\n  tlsCertificate: {duration: 720h, renewBefore: 240h}\noperator:\n  chart: {version: 0.10.0}\n",
    )
    .unwrap();
    let server_values = server_values(&spec);
    assert_eq!(server_values["shareProcessNamespace"], true);
    let sidecar = &server_values["extraContainers"][0];
    insta::assert_yaml_snapshot!("tls_reload_sidecar", {
        let mut s = sidecar.clone();
        s["command"][2] = Value::String("(the script below)".into());
        s
    });
    let script = sidecar["command"][2].as_str().unwrap().to_string();
    insta::assert_snapshot!("tls_reload_script", script);
    let certificate = rendered_objects(&spec)
        .into_iter()
        .find(|o| o["kind"] == "Certificate" && o["spec"]["secretName"] == "vault-tls")
        .unwrap();
    assert_eq!(certificate["spec"]["duration"], "720h");
    assert_eq!(certificate["spec"]["renewBefore"], "240h");

    // A raft node: TLS on one listener (the certificate), plain HTTP on another (the test's
    // requests).
    let (tls_port, api_port, cluster_port) = (free_port(), free_port(), free_port());
    let data = home.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let config = home.join("server.hcl");
    std::fs::write(
        &config,
        format!(
            "storage \"raft\" {{\n  path = \"{data}\"\n  node_id = \"vault-0\"\n}}\nlistener \"tcp\" {{\n  address = \"127.0.0.1:{tls_port}\"\n  cluster_address = \"127.0.0.1:{cluster_port}\"\n  tls_cert_file = \"{crt}\"\n  tls_key_file = \"{key}\"\n}}\nlistener \"tcp\" {{\n  address = \"127.0.0.1:{api_port}\"\n  tls_disable = true\n}}\napi_addr = \"http://127.0.0.1:{api_port}\"\ncluster_addr = \"https://127.0.0.1:{cluster_port}\"\n",
            data = data.display(),
            crt = certs.join("tls.crt").display(),
            key = certs.join("tls.key").display(),
        ),
    )
    .unwrap();
    let log = home.join("server.log");
    let node = server(
        &bin,
        &[format!("-config={}", config.display())],
        &[],
        home,
        &log,
    );
    let addr = format!("http://127.0.0.1:{api_port}");
    wait_until("the node serves", || {
        http(&addr, "GET", "sys/seal-status", None, None).0 == 200
    });
    let (status, init) = http(
        &addr,
        "PUT",
        "sys/init",
        None,
        Some(serde_json::json!({"secret_shares": 1, "secret_threshold": 1})),
    );
    assert_eq!(status, 200, "{init}");
    let key = init["keys"][0].as_str().unwrap().to_string();
    let (status, unsealed) = http(
        &addr,
        "PUT",
        "sys/unseal",
        None,
        Some(serde_json::json!({"key": key})),
    );
    assert_eq!(status, 200, "{unsealed}");
    let sealed = || http(&addr, "GET", "sys/seal-status", None, None).1["sealed"].clone();
    wait_until("the node is unsealed", || sealed() == false);
    assert_eq!(served_serial(&ssl, home, tls_port), serials[0]);

    // Replaced on disk, not served: Vault does not reload by itself.
    install(home, &certs, "two");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(served_serial(&ssl, home, tls_port), serials[0]);

    // The generated script, as the sidecar runs it: this node is the only server it can see.
    let procs = home.join("proc");
    let pid = node.0.id().to_string();
    for (p, comm) in [("1", "sh\n"), (pid.as_str(), "bao\n")] {
        std::fs::create_dir_all(procs.join(p)).unwrap();
        std::fs::write(procs.join(p).join("comm"), comm).unwrap();
    }
    let mut sidecar = Command::new("sh")
        .args(["-c", &script])
        .env("CERT_DIR", &certs)
        .env("INTERVAL", "1")
        .env("PROC", &procs)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let reloaded = Instant::now();
    std::thread::sleep(Duration::from_secs(2));
    install(home, &certs, "three");
    let start = Instant::now();
    while served_serial(&ssl, home, tls_port) != serials[2] {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the new certificate is not served: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let took = reloaded.elapsed();
    assert_eq!(sealed(), false, "the node was sealed by the reload");
    assert!(node_alive(&node), "the server restarted");
    let _ = sidecar.kill();
    let out = sidecar.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!("sent SIGHUP to the server (pid {pid})")),
        "{said}"
    );
    eprintln!("reloaded within {took:?} of the sidecar's start (interval 1s)");
}

fn node_alive(node: &Server) -> bool {
    // The same process still runs: no restart was needed.
    std::path::Path::new(&format!("/proc/{}", node.0.id())).exists()
}
