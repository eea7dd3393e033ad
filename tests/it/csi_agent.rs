//! The CSI consumer as it runs: vault-csi-provider reaches Vault through the Vault chart's CSI
//! agent, run here as the real agent (`bao agent`, OpenBao's fork of the agent the chart runs)
//! with the chart's own configuration and the flags `generate` writes, against a real OpenBao
//! (and PostgreSQL for database credentials). Each mount is replayed as the provider makes it;
//! what lands in a mirrored TLS Secret is checked with `openssl verify` behind an intermediate.
//!
//! Upstream behaviour these tests rely on (read, with no binary here to run):
//! - hashicorp/vault-helm v0.30.0 `templates/csi-daemonset.yaml`: with `csi.agent.enabled`
//!   (the default) the provider's `VAULT_ADDR` is `unix:///var/run/vault/agent.sock` (lines
//!   72-75), the agent runs `vault agent -config=/etc/vault/config.hcl` plus
//!   `csi.agent.extraArgs` (lines 114-121), and `csi.volumeMounts` are mounted into the agent
//!   too (lines 142-144); its config (`templates/csi-agent-configmap.yaml`, copied rendered
//!   into fixtures/charts/) is `cache {}` and a unix listener, its address `vault.<ns>.svc`.
//! - hashicorp/vault-csi-provider v1.7.4 (and v1.5.0, the chart's image):
//!   `internal/client/client.go` `New` (line 31): the environment (`VAULT_ADDR`), then the
//!   flags, then the class's `vaultAddress` — a class that names an address bypasses the agent.
//!   `internal/provider/provider.go`: one Vault request per distinct (`secretPath`, `method`)
//!   in a mount (`vaultResponseCache`, line 112, made per mount request by
//!   `internal/server/server.go` `Mount`), every object a key of that answer; `keyFromData`
//!   (line 62) returns a string as is and anything else as JSON (line 89): `ca_chain`, a list,
//!   becomes a JSON array, not PEM. No object joins two keys. One Vault client (one token) per
//!   pod, kept across mounts (`internal/clientcache`, CHANGELOG 1.4.0, GH-202); its login is
//!   `POST /v1/auth/<vaultKubernetesMountPath>/login` with `role` and the pod's `jwt`
//!   (`internal/auth/kubernetes_jwt.go`).
//! - kubernetes-sigs/secrets-store-csi-driver v1.6.0: with rotation, each pod's volume is
//!   mounted again every `rotationPollInterval` (`pkg/secrets-store/nodeserver.go`), each time
//!   a provider mount as above; `secretObjects[].data` maps one object to one Secret key.
//! - hashicorp/vault-secrets-operator v1.4.1 `controllers/vaultpkisecret_controller.go`
//!   `convertToK8sTLSSecretData` (lines 520-546; v0.10.0 lines 499-525): VSO's `tls.crt` is
//!   the certificate, a newline, and `ca_chain` (else `issuing_ca`) — leaf and chain in one.

use crate::support::common::*;
use crate::support::servers::{find_tool, free_port, require, wait_for_port, Bao, Postgres};
use crate::support::vault_fakes::sa_jwt;
use crate::support::vault_setup::{configure, SpecDir};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const REVIEWER_JWT: &str = "reviewer-jwt-for-csi-tests";

/// A CSI app reading kv, database credentials (when PostgreSQL runs at `pg_port`) and a
/// certificate from an intermediate CA, mirrored into Secrets.
fn spec(pg_port: Option<u16>, ca: &Path, k8s_host: &str) -> String {
    let (db_secret, db_config) = match pg_port {
        Some(port) => (
            "      - name: mounted-db\n        database: db/shop-mounted\n".to_string(),
            format!(
                r#"  databases:
    db:
      plugin: postgresql
      connectionUrl: postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{port}/postgres?sslmode=disable
      username: postgres
      passwordFrom: env:TEST_PG_PASSWORD
      roles:
        shop-mounted:
          defaultTtl: 5s
          maxTtl: 15s
          creationStatements:
            - CREATE ROLE "{{{{name}}}}" WITH LOGIN PASSWORD '{{{{password}}}}' VALID UNTIL '{{{{expiration}}}}';
"#
            ),
        ),
        None => (String::new(), String::new()),
    };
    format!(
        r#"apiVersion: kubectl-vault/v1alpha1
kind: VaultStack
cluster: lab
vault:
  chart: {{version: 0.30.0}}
  tls: vault-tls
operator:
  chart: {{version: 0.10.0}}
apps:
  - name: mounted
    namespace: shop
    consumer: csi
    csi: {{secretObjects: true}}
    secrets:
      - name: mounted-config
        kv: apps-kv/shop/mounted
        keys: [api_key]
{db_secret}      - name: mounted-tls
        pki: pki_int/shop
        commonName: mounted.shop.svc.cluster.local
        ttl: 24h
vaultConfig:
  kubernetesAuth:
    mount: kubernetes
    host: {k8s_host}
    caCertFrom: file:{ca}
    disableLocalCaJwt: true
    tokenReviewer: {{mode: serviceAccount, jwtFrom: env:TEST_REVIEWER_JWT}}
{db_config}  pki:
    pki:
      maxLeaseTtl: 87600h
      rootCA: {{commonName: Lab Root CA, ttl: 87600h}}
    pki_int:
      maxLeaseTtl: 43800h
      intermediateCA: {{signedBy: pki, commonName: Lab Intermediate CA, ttl: 43800h}}
      roles:
        shop:
          allowedDomains: [shop.svc.cluster.local]
          allowSubdomains: true
          maxTtl: 72h
"#,
        ca = ca.display()
    )
}

/// Every generated document, parsed.
fn documents(spec: &Path) -> Vec<Value> {
    let g = kubectl_vault::pipeline::generate(spec, &Default::default()).expect("generate");
    g.rendered
        .files
        .iter()
        .filter(|f| f.path.ends_with(".yaml"))
        .flat_map(|f| {
            serde_yaml::Deserializer::from_str(&f.body)
                .map(|d| serde::Deserialize::deserialize(d).unwrap())
                .collect::<Vec<Value>>()
        })
        .collect()
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// One HTTP/1.0 request over a unix socket (HTTP/1.0: the answer is never chunked and ends
/// with the connection): (status, JSON body).
fn over_socket(sock: &Path, method: &str, path: &str, token: &str, body: &Value) -> (u16, Value) {
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let mut s = std::os::unix::net::UnixStream::connect(sock)
        .unwrap_or_else(|e| panic!("{}: {e}", sock.display()));
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let token = if token.is_empty() {
        String::new()
    } else {
        format!("X-Vault-Token: {token}\r\n")
    };
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: localhost\r\n{token}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let status: u16 = answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {answer}"));
    let json = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| serde_json::from_str(b).unwrap_or(Value::Null))
        .unwrap_or(Value::Null);
    (status, json)
}

/// The chart's CSI agent: `bao agent` with the chart's configuration (its socket moved into
/// `dir`) and `args`; stopped when dropped.
struct Agent {
    child: std::process::Child,
    sock: PathBuf,
    log: PathBuf,
}

impl Agent {
    fn start(dir: &Path, args: &[String]) -> Agent {
        let bin = find_tool("BAO_BIN", "bao").expect("bao");
        let sock = dir.join("agent.sock");
        let config = std::fs::read_to_string(fixture("charts/vault-0.30.0-csi-agent-config.hcl"))
            .unwrap()
            .replace("/var/run/vault/agent.sock", sock.to_str().unwrap());
        let config_file = dir.join("config.hcl");
        std::fs::write(&config_file, config).unwrap();
        let log = dir.join("agent.log");
        let home = dir.join("home");
        std::fs::create_dir_all(&home).unwrap();
        let child = std::process::Command::new(bin)
            .arg("agent")
            .arg(format!("-config={}", config_file.display()))
            .args(args)
            .arg("-log-level=debug")
            .current_dir(dir)
            .env("HOME", &home)
            .env_remove("VAULT_ADDR")
            .env_remove("BAO_ADDR")
            .env_remove("VAULT_CACERT")
            .env_remove("BAO_CACERT")
            .env_remove("VAULT_TOKEN")
            .env_remove("BAO_TOKEN")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start bao agent");
        let start = Instant::now();
        while !sock.exists() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the agent did not listen: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Agent { child, sock, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A pod's login, as the provider makes it (through the agent, which then manages the
    /// token: renews it, and caches the leases it obtains).
    fn login(&self, class: &Value, jwt: &str) -> String {
        let p = &class["spec"]["parameters"];
        let (status, body) = over_socket(
            &self.sock,
            "POST",
            &format!(
                "/v1/auth/{}/login",
                p["vaultKubernetesMountPath"].as_str().unwrap()
            ),
            "",
            &json!({"role": p["roleName"], "jwt": jwt}),
        );
        assert_eq!(status, 200, "login: {body}\n{}", self.log());
        body["auth"]["client_token"].as_str().unwrap().to_string()
    }

    /// One mount of `class`, as vault-csi-provider makes it: one request per distinct
    /// (secretPath, method), each object a key of its answer (a string as is, anything else as
    /// JSON); the files by object name, and the answers' lease ids.
    fn mount(&self, class: &Value, token: &str) -> (BTreeMap<String, String>, Vec<String>) {
        let objects: Vec<Value> =
            serde_yaml::from_str(class["spec"]["parameters"]["objects"].as_str().unwrap()).unwrap();
        let mut answers: BTreeMap<(String, String), Value> = BTreeMap::new();
        let mut files = BTreeMap::new();
        for o in &objects {
            let path = o["secretPath"].as_str().unwrap().to_string();
            let method = o["method"].as_str().unwrap_or("GET").to_string();
            let answer = answers
                .entry((path.clone(), method.clone()))
                .or_insert_with(|| {
                    let (status, body) = over_socket(
                        &self.sock,
                        &method,
                        &format!("/v1/{path}"),
                        token,
                        &o["secretArgs"],
                    );
                    assert_eq!(status, 200, "{method} {path}: {body}\n{}", self.log());
                    body
                });
            let data = &answer["data"];
            let data = if data["data"].is_object() {
                &data["data"]
            } else {
                data
            };
            let value = &data[o["secretKey"].as_str().unwrap()];
            let content = match value {
                Value::String(s) => s.clone(),
                Value::Null => panic!("no {} in {path}", o["secretKey"]),
                other => other.to_string(),
            };
            files.insert(o["objectName"].as_str().unwrap().to_string(), content);
        }
        let leases = answers
            .values()
            .filter_map(|a| a["lease_id"].as_str().filter(|l| !l.is_empty()))
            .map(String::from)
            .collect();
        (files, leases)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the driver writes into the mirrored Secret: `secretObjects[0].data`, object by key.
fn mirrored(class: &Value, files: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    class["spec"]["secretObjects"][0]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["key"].as_str().unwrap().to_string(),
                files[d["objectName"].as_str().unwrap()].clone(),
            )
        })
        .collect()
}

/// A CA and a certificate for 127.0.0.1 from `openssl`, for a TLS listener of OpenBao:
/// (listener config, CA file).
fn tls_listener(openssl: &Path, dir: &Path, port: u16) -> (PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let o = std::process::Command::new(openssl)
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "openssl {args:?}: {}", stderr(&o));
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let ca_args = [
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-subj",
        "/CN=Test Vault CA",
        "-days",
        "1",
    ];
    run(&[&["req", "-x509"][..], &ec[..], &ca_args[..]].concat());
    let csr_args = [
        "-keyout",
        "vault.key",
        "-out",
        "vault.csr",
        "-subj",
        "/CN=vault",
    ];
    run(&[&["req"][..], &ec[..], &csr_args[..]].concat());
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "vault.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "vault.crt",
        "-days",
        "1",
        "-extfile",
        "san.ext",
    ]);
    let config = dir.join("tls.hcl");
    std::fs::write(
        &config,
        format!(
            "listener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  tls_cert_file = \"{}\"\n  tls_key_file = \"{}\"\n}}\n",
            dir.join("vault.crt").display(),
            dir.join("vault.key").display()
        ),
    )
    .unwrap();
    (config, dir.join("ca.crt"))
}

/// A second pod of the same service account: another token from the API server (the test
/// review endpoint reads only the claims).
fn other_pod(jwt: &str) -> String {
    let (head, _) = jwt.rsplit_once('.').unwrap();
    format!("{head}.c2lnbmF0dXJlMg")
}

/// The CSI provider goes through the chart's agent, and the agent reaches Vault with what
/// `generate` writes: `-address` (the operator's, flags win over the chart's config) and
/// `-ca-cert` (Vault's CA, mounted alone); without the CA it cannot. Through it, a pod's
/// database credentials are cached, renewed and replaced only when their lease ends, each pod
/// has its own, and a certificate is issued anew at every mount: what the cost warning says.
#[test]
fn the_chart_s_csi_agent_reaches_vault_as_generated_and_caches_only_leases() {
    let Some(openssl) = require(find_tool("OPENSSL", "openssl"), "openssl") else {
        return;
    };
    let Some(pg) = Postgres::start() else { return };
    let certs = tempfile::tempdir().unwrap();
    let tls_port = free_port();
    let (listener, vault_ca) = tls_listener(&openssl, certs.path(), tls_port);
    let Some(bao) = Bao::start_with(Some(&listener)) else {
        return;
    };
    wait_for_port(tls_port, "bao's TLS listener");
    let setup = SpecDir::new(REVIEWER_JWT, |_, ca, host| spec(Some(pg.port), ca, host));
    ok(
        "configure",
        &configure(
            &bao,
            &setup.spec_path,
            &[],
            &[
                ("TEST_REVIEWER_JWT", REVIEWER_JWT),
                ("TEST_PG_PASSWORD", &pg.password),
            ],
        ),
    );
    let (status, body) = bao.api(
        "POST",
        "apps-kv/data/shop/mounted",
        Some(json!({"data": {"api_key": "k-1"}})),
    );
    assert!(status < 300, "{body}");
    let docs = documents(&setup.spec_path);

    // What generate writes: the agent's flags; classes without an address of their own.
    let vault_release = docs
        .iter()
        .find(|d| d["kind"] == "HelmRelease" && d["metadata"]["name"] == "vault")
        .unwrap();
    let args: Vec<String> = serde_json::from_value(
        vault_release["spec"]["values"]["csi"]["agent"]["extraArgs"].clone(),
    )
    .unwrap();
    assert_eq!(
        args,
        [
            "-address=https://vault-active.vault.svc.cluster.local:8200",
            "-ca-cert=/vault/tls/ca.crt"
        ]
    );
    for name in ["mounted-config", "mounted-db", "mounted-tls"] {
        let p = find(&docs, "SecretProviderClass", name)["spec"]["parameters"]
            .as_object()
            .unwrap();
        assert_eq!(
            p.keys().collect::<Vec<_>>(),
            [
                "audience",
                "objects",
                "roleName",
                "vaultKubernetesMountPath"
            ],
            "{name}: the provider's VAULT_ADDR (the agent) is not overridden"
        );
    }
    // The cluster's names become this machine's: the active node's address, the CA's path.
    let local = |with_ca: bool| -> Vec<String> {
        args.iter()
            .filter_map(|a| {
                if a.starts_with("-address=") {
                    Some(format!("-address=https://127.0.0.1:{tls_port}"))
                } else if a.starts_with("-ca-cert=") {
                    with_ca.then(|| format!("-ca-cert={}", vault_ca.display()))
                } else {
                    Some(a.clone())
                }
            })
            .collect()
    };
    let pod_a = sa_jwt("shop", "mounted", &["vault"]);
    let config = find(&docs, "SecretProviderClass", "mounted-config");
    {
        // Without Vault's CA the agent cannot reach Vault.
        let dir = tempfile::tempdir().unwrap();
        let agent = Agent::start(dir.path(), &local(false));
        let p = &config["spec"]["parameters"];
        let (status, body) = over_socket(
            &agent.sock,
            "POST",
            &format!(
                "/v1/auth/{}/login",
                p["vaultKubernetesMountPath"].as_str().unwrap()
            ),
            "",
            &json!({"role": p["roleName"], "jwt": pod_a}),
        );
        assert_ne!(status, 200, "{body}");
        assert!(body.to_string().contains("certificate"), "{body}");
    }
    let dir = tempfile::tempdir().unwrap();
    let agent = Agent::start(dir.path(), &local(true));

    // kv: read at every mount (no lease, nothing to cache).
    let token_a = agent.login(config, &pod_a);
    let (files, _) = agent.mount(config, &token_a);
    assert_eq!(files["api_key"], "k-1");
    let (status, _) = bao.api(
        "POST",
        "apps-kv/data/shop/mounted",
        Some(json!({"data": {"api_key": "k-2"}})),
    );
    assert!(status < 300);
    assert_eq!(agent.mount(config, &token_a).0["api_key"], "k-2");

    // database: the second mount (the next rotation poll) gets the cached credentials; a
    // second pod its own.
    let db = find(&docs, "SecretProviderClass", "mounted-db");
    let t0 = Instant::now();
    let (first, leases) = agent.mount(db, &token_a);
    assert_eq!(leases.len(), 1, "one request for username and password");
    assert!(pg.login(&first["username"], &first["password"], "select 1"));
    let (again, _) = agent.mount(db, &token_a);
    assert_eq!(
        again, first,
        "the agent serves the pod's cached credentials"
    );
    let token_b = agent.login(db, &other_pod(&pod_a));
    assert_ne!(token_b, token_a);
    let (other, _) = agent.mount(db, &token_b);
    assert_ne!(other["username"], first["username"], "each pod has its own");
    // The agent renews the lease (defaultTtl 5s)...
    let renewed = || {
        let (_, l) = bao.api(
            "PUT",
            "sys/leases/lookup",
            Some(json!({"lease_id": leases[0]})),
        );
        l["data"]["last_renewal"].is_string()
    };
    while !renewed() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "never renewed:\n{}",
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // ...until it reaches maxTtl (15s): then the next mount gets new credentials.
    let replaced = loop {
        let (now, _) = agent.mount(db, &token_a);
        if now["username"] != first["username"] {
            break now;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "never replaced:\n{}",
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(
        t0.elapsed() > Duration::from_secs(5),
        "replaced within the first lease: not renewed"
    );
    assert!(pg.login(&replaced["username"], &replaced["password"], "select 1"));

    // pki: a new certificate at every mount, for the same pod and token.
    let tls = find(&docs, "SecretProviderClass", "mounted-tls");
    let (one, leases) = agent.mount(tls, &token_a);
    assert!(leases.is_empty(), "a certificate has no lease");
    let (two, _) = agent.mount(tls, &token_a);
    assert_ne!(one["certificate"], two["certificate"], "issued again");
    assert_ne!(one["private_key"], two["private_key"]);
    // Within one mount the objects share one answer: the key is the certificate's.
    let pair = mirrored(tls, &one);
    let dir = tempfile::tempdir().unwrap();
    for (k, v) in &pair {
        std::fs::write(dir.path().join(k), format!("{v}\n")).unwrap();
    }
    let pubkey = |args: &[&str]| {
        let o = std::process::Command::new(&openssl)
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        o.stdout
    };
    assert_eq!(
        pubkey(&["x509", "-in", "tls.crt", "-noout", "-pubkey"]),
        pubkey(&["pkey", "-in", "tls.key", "-pubout"])
    );
    let log = agent.log();
    assert!(
        log.contains(
            "pass-through response; secret not renewable: method=PUT path=/v1/pki_int/issue/shop"
        ),
        "{log}"
    );
}

/// A mirrored kubernetes.io/tls Secret: `tls.crt` (the leaf alone: the provider cannot join
/// two keys, and its `ca_chain` would be JSON) and `ca.crt` (the issuing CA) together verify
/// up to the root behind an intermediate — as the warning tells a server to send them — while
/// the leaf alone does not.
#[test]
fn a_mirrored_tls_secret_holds_the_chain_in_ca_crt_and_verifies_behind_an_intermediate() {
    let Some(openssl) = require(find_tool("OPENSSL", "openssl"), "openssl") else {
        return;
    };
    let Some(bao) = Bao::start() else { return };
    let setup = SpecDir::new(REVIEWER_JWT, |_, ca, host| spec(None, ca, host));
    ok(
        "configure",
        &configure(
            &bao,
            &setup.spec_path,
            &[],
            &[("TEST_REVIEWER_JWT", REVIEWER_JWT)],
        ),
    );
    let docs = documents(&setup.spec_path);
    let tls = find(&docs, "SecretProviderClass", "mounted-tls");
    let mirror = &tls["spec"]["secretObjects"][0];
    assert_eq!(mirror["type"], "kubernetes.io/tls");
    let dir = tempfile::tempdir().unwrap();
    let agent = Agent::start(dir.path(), &[format!("-address={}", bao.addr)]);
    let token = agent.login(tls, &sa_jwt("shop", "mounted", &["vault"]));
    let (files, _) = agent.mount(tls, &token);
    let secret = mirrored(tls, &files);
    assert_eq!(
        secret.keys().collect::<Vec<_>>(),
        ["ca.crt", "tls.crt", "tls.key"]
    );
    let certs = |pem: &str| pem.matches("-----BEGIN CERTIFICATE-----").count();
    assert_eq!(certs(&secret["tls.crt"]), 1, "the leaf alone");
    assert_eq!(certs(&secret["ca.crt"]), 1, "the issuing CA");
    // What the provider would write for ca_chain: the answer's list, as JSON.
    let (_, answer) = bao.api_as(
        &token,
        "PUT",
        "pki_int/issue/shop",
        Some(json!({"common_name": "mounted.shop.svc.cluster.local"})),
    );
    assert!(answer["data"]["ca_chain"].is_array(), "{answer}");
    assert!(answer["data"]["ca_chain"]
        .to_string()
        .starts_with("[\"-----BEGIN CERTIFICATE-----\\n"));

    let root = bao.api("GET", "pki/cert/ca", None).1["data"]["certificate"]
        .as_str()
        .unwrap()
        .to_string();
    let work = tempfile::tempdir().unwrap();
    for (name, pem) in [
        ("root.pem", root.as_str()),
        ("tls.crt", secret["tls.crt"].as_str()),
        ("ca.crt", secret["ca.crt"].as_str()),
    ] {
        std::fs::write(work.path().join(name), format!("{pem}\n")).unwrap();
    }
    // What a server sends when told to: tls.crt followed by ca.crt.
    std::fs::write(
        work.path().join("served.pem"),
        format!("{}\n{}\n", secret["tls.crt"], secret["ca.crt"]),
    )
    .unwrap();
    let verify = |args: &[&str]| {
        std::process::Command::new(&openssl)
            .current_dir(work.path())
            .arg("verify")
            .args(args)
            .output()
            .unwrap()
    };
    let both = verify(&["-CAfile", "root.pem", "-untrusted", "ca.crt", "tls.crt"]);
    assert!(
        both.status.success() && stdout(&both).contains("tls.crt: OK"),
        "{}{}",
        stdout(&both),
        stderr(&both)
    );
    let served = verify(&["-CAfile", "root.pem", "-untrusted", "served.pem", "tls.crt"]);
    assert!(served.status.success(), "{}", stderr(&served));
    let alone = verify(&["-CAfile", "root.pem", "tls.crt"]);
    assert!(
        !alone.status.success(),
        "the leaf alone verifies: {}",
        stdout(&alone)
    );
    let subject = std::process::Command::new(&openssl)
        .current_dir(work.path())
        .args(["x509", "-noout", "-subject", "-in", "ca.crt"])
        .output()
        .unwrap();
    assert!(
        stdout(&subject).contains("Lab Intermediate CA"),
        "{}",
        stdout(&subject)
    );
}

/// What `generate` says about the CSI apps of fixtures/consumers.yaml: the mirrored
/// certificate's chain, the database credentials' and the certificate's cost per pod and
/// day at the poll it derives (8h: a third of the database role's 24h maxTtl); and the poll
/// in the driver's values, 2 minutes (the driver's own) when the CSI apps read kv only.
#[test]
fn generate_says_what_csi_secrets_cost_and_sets_the_poll() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "-f",
        fixture("consumers.yaml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut settings = redactions(&[]);
    settings.add_filter(r"/\S*/\.tmp\w+/", "[TMP]/");
    settings.bind(|| insta::assert_snapshot!("csi_costs", stderr(&o)));
    let poll = |tree: &std::collections::BTreeMap<String, String>| {
        let body = &tree["infrastructure/shop/vault-csi-driver/helmrelease.yaml"];
        let doc: serde_yaml::Value = serde_yaml::from_str(body).unwrap();
        doc["spec"]["values"]["rotationPollInterval"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(poll(&read_tree(&out)), "8h");
    // Only kv through CSI: no cost to say, the driver's own poll.
    let spec = std::fs::read_to_string(fixture("consumers.yaml")).unwrap();
    let kv_only: String = spec
        .replace("      - name: search-db\n        database: shop-db/search\n", "")
        .replace(
            "      - name: search-tls\n        pki: pki_int/search\n        commonName: search.search.svc.cluster.local\n        ttl: 72h\n",
            "",
        );
    assert_ne!(kv_only, spec);
    let path = dir.path().join("vault.yaml");
    std::fs::write(&path, kv_only).unwrap();
    let out = dir.path().join("kv-only");
    let o = run(&[
        "generate",
        "-f",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("per pod per day"), "{}", stderr(&o));
    assert_eq!(poll(&read_tree(&out)), "2m");
}

/// The agent's flags follow how the operator trusts Vault: the CA under TLS, nothing more
/// without TLS, `-tls-skip-verify` where the spec skips verification.
#[test]
fn the_agent_s_flags_follow_the_operator_s_tls_settings() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(
        None,
        &dir.path().join("cluster-ca.pem"),
        "https://kubernetes.default.svc:443",
    );
    let args = |text: &str| -> Vec<String> {
        let path = dir.path().join("vault.yaml");
        std::fs::write(&path, text).unwrap();
        let docs = documents(&path);
        let release = docs
            .iter()
            .find(|d| d["kind"] == "HelmRelease" && d["metadata"]["name"] == "vault")
            .unwrap();
        serde_json::from_value(release["spec"]["values"]["csi"]["agent"]["extraArgs"].clone())
            .unwrap()
    };
    assert_eq!(
        args(&spec),
        [
            "-address=https://vault-active.vault.svc.cluster.local:8200",
            "-ca-cert=/vault/tls/ca.crt"
        ]
    );
    let plain = spec.replace("  tls: vault-tls\n", "  tls: false\n");
    assert_ne!(plain, spec);
    assert_eq!(
        args(&plain),
        ["-address=http://vault-active.vault.svc.cluster.local:8200"]
    );
    let skip = spec.replace(
        "operator:\n  chart: {version: 0.10.0}\n",
        "operator:\n  chart: {version: 0.10.0}\n  skipTLSVerify: true\n",
    );
    assert_ne!(skip, spec);
    assert_eq!(
        args(&skip),
        [
            "-address=https://vault-active.vault.svc.cluster.local:8200",
            "-tls-skip-verify"
        ]
    );
}

/// A class that names its own Vault address (a `--templates` override, or a bug) is refused
/// by the self-check: the provider would bypass the chart's agent. Exit 70, nothing written.
#[test]
fn the_self_check_refuses_a_class_that_bypasses_the_agent() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("templates/csi");
    std::fs::create_dir_all(&tpl).unwrap();
    let embedded = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("templates/csi/secretproviderclass.yaml.j2"),
    )
    .unwrap();
    let bypass = embedded.replace(
        "    roleName: {{ role | q }}\n",
        "    vaultAddress: \"https://vault-active.vault.svc.cluster.local:8200\"\n    roleName: {{ role | q }}\n",
    );
    assert_ne!(bypass, embedded);
    std::fs::write(tpl.join("secretproviderclass.yaml.j2"), bypass).unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "-f",
        fixture("consumers.yaml").to_str().unwrap(),
        "--templates",
        dir.path().join("templates").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(70), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("parameter `vaultAddress` would make the provider talk to Vault itself, not through the Vault chart's CSI agent"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}
