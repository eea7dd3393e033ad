//! The injector's agent templates, rendered by the real agent: `bao agent` (OpenBao's CLI; it
//! renders templates as the injected Vault agent does) logs in with kubernetes auth as the
//! generated patch says, renders every template form the tree holds (kv v2 and v1, declared
//! keys, database, pki with and without keys, a custom template) against a real OpenBao dev
//! server, and the files it writes are checked: env files are sourced by `sh` with hostile
//! keys and values, certificates are parsed and verified against their chain.
//!
//! And the spec side: a declared key the env file cannot hold is a spec error.

use crate::support::common::*;
use crate::support::servers::{find_tool, Bao, Postgres};
use crate::support::vault_fakes::sa_jwt;
use crate::support::vault_setup::{configure, SpecDir};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const REVIEWER_JWT: &str = "reviewer-jwt-for-agent-tests";

/// A kv key that runs code if it reaches a sourced file unquoted.
const HOSTILE_KEY: &str = "x;touch PWNED;y";
/// A value with everything a shell would interpret outside single quotes, and a `'`.
const HOSTILE_VALUE: &str = "it's $(touch PWNED_VALUE) `touch PWNED_TICK` \"q\" \\ $HOME;";

/// One injector app whose secrets use every template form.
fn spec(pg_port: u16, ca_file: &Path, k8s_host: &str) -> String {
    format!(
        r#"apiVersion: kubectl-vault/v1alpha1
kind: VaultStack
cluster: lab
vault:
  chart: {{version: 0.30.0}}
  tls: vault-tls
  injector: true
operator:
  chart: {{version: 0.10.0}}
apps:
  - name: agent
    namespace: shop
    consumer: injector
    injector: {{workload: Deployment/agent-api}}
    secrets:
      - name: env-v2
        kv: apps-kv/shop/env
      - name: env-keys
        kv: apps-kv/shop/keys
        keys: [api_key, _second]
      - name: env-v1
        kv: {{mount: legacy-kv, path: shop/env, version: 1}}
      - name: env-db
        database: db/shop-agent
      - name: tls
        pki: pki/shop
        commonName: agent.shop.svc.cluster.local
        altNames: [api.shop.svc.cluster.local]
        ttl: 1h
      - name: tls-keys
        pki: pki/shop
        commonName: keys.shop.svc.cluster.local
        keys: [private_key, certificate]
      - name: custom
        kv: {{mount: legacy-kv, path: shop/custom, version: 1}}
        template: '{{{{- with secret "legacy-kv/shop/custom" }}}}token={{{{ .Data.token }}}}{{{{ end }}}}'
vaultConfig:
  kubernetesAuth:
    mount: kubernetes
    host: {k8s_host}
    caCertFrom: file:{ca}
    disableLocalCaJwt: true
    tokenReviewer: {{mode: serviceAccount, jwtFrom: env:TEST_REVIEWER_JWT}}
  databases:
    db:
      plugin: postgresql
      connectionUrl: postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{pg_port}/postgres?sslmode=disable
      username: postgres
      passwordFrom: env:TEST_PG_PASSWORD
      roles:
        shop-agent:
          defaultTtl: 5m
          maxTtl: 1h
          creationStatements:
            - CREATE ROLE "{{{{name}}}}" WITH LOGIN PASSWORD '{{{{password}}}}' VALID UNTIL '{{{{expiration}}}}';
  pki:
    pki:
      maxLeaseTtl: 87600h
      rootCA: {{commonName: Lab Root CA, ttl: 87600h}}
      roles:
        shop:
          allowedDomains: [shop.svc.cluster.local]
          allowSubdomains: true
          maxTtl: 72h
"#,
        ca = ca_file.display()
    )
}

/// What the generated patch tells the agent: the pod template's annotations, its service
/// account and its token's audience.
struct Patch {
    annotations: BTreeMap<String, String>,
    service_account: String,
    audience: String,
}

impl Patch {
    fn of(spec: &Path) -> Patch {
        let g = kubectl_vault::pipeline::generate(spec, &Default::default()).expect("generate");
        let file = g
            .rendered
            .files
            .iter()
            .find(|f| f.path.ends_with("/agent/vault-agent/patch.yaml"))
            .expect("the injector's patch");
        let doc: Value = serde_yaml::from_str(&file.body).unwrap();
        let t = &doc["spec"]["template"];
        Patch {
            annotations: serde_json::from_value(t["metadata"]["annotations"].clone()).unwrap(),
            service_account: t["spec"]["serviceAccountName"].as_str().unwrap().into(),
            audience: t["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]
                ["audience"]
                .as_str()
                .unwrap()
                .into(),
        }
    }

    fn get(&self, key: &str) -> &str {
        self.annotations
            .get(&format!("vault.hashicorp.com/{key}"))
            .unwrap_or_else(|| panic!("no annotation {key}"))
    }

    /// Each secret's agent template, by secret name.
    fn templates(&self) -> BTreeMap<String, String> {
        self.annotations
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("vault.hashicorp.com/agent-inject-template-")
                    .map(|n| (n.to_string(), v.clone()))
            })
            .collect()
    }
}

/// Runs `bao agent` once (`exit_after_auth`): logs in with `jwt` as the patch says, renders
/// each template into `<dir>/out/<name>`, and exits (bounded). Returns the files it wrote,
/// by secret name, and its log.
fn render_with_agent(
    bao: &Bao,
    dir: &Path,
    patch: &Patch,
    jwt: &str,
) -> (BTreeMap<String, String>, String) {
    let bin = find_tool("BAO_BIN", "bao").expect("bao");
    let home = dir.join("home");
    let templates = dir.join("templates");
    let out = dir.join("out");
    for d in [&home, &templates, &out] {
        std::fs::create_dir_all(d).unwrap();
    }
    let jwt_file = dir.join("sa-token");
    std::fs::write(&jwt_file, jwt).unwrap();
    let mut config = format!(
        r#"vault {{
  address = "{addr}"
}}
exit_after_auth = true
auto_auth {{
  method "kubernetes" {{
    mount_path = "{auth_path}"
    config = {{
      role       = "{role}"
      token_path = "{jwt}"
    }}
  }}
}}
template_config {{
  exit_on_retry_failure = true
}}
"#,
        addr = bao.addr,
        auth_path = patch.get("auth-path"),
        role = patch.get("role"),
        jwt = jwt_file.display(),
    );
    let forms = patch.templates();
    for (name, text) in &forms {
        let source = templates.join(format!("{name}.ctmpl"));
        std::fs::write(&source, text).unwrap();
        config.push_str(&format!(
            "template {{\n  source      = \"{}\"\n  destination = \"{}\"\n}}\n",
            source.display(),
            out.join(name).display()
        ));
    }
    let config_file = dir.join("agent.hcl");
    std::fs::write(&config_file, &config).unwrap();
    let log_file = dir.join("agent.log");
    let mut child = std::process::Command::new(bin)
        .arg("agent")
        .arg(format!("-config={}", config_file.display()))
        .current_dir(dir)
        .env("HOME", &home)
        .env_remove("VAULT_ADDR")
        .env_remove("BAO_ADDR")
        .env_remove("VAULT_TOKEN")
        .env_remove("BAO_TOKEN")
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(dir.join("agent.out")).unwrap())
        .stderr(std::fs::File::create(&log_file).unwrap())
        .spawn()
        .expect("start bao agent");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "bao agent did not exit within 60s:\n{}",
                std::fs::read_to_string(&log_file).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let log = std::fs::read_to_string(&log_file).unwrap_or_default()
        + &std::fs::read_to_string(dir.join("agent.out")).unwrap_or_default();
    assert!(status.success(), "bao agent failed ({status}):\n{log}");
    let rendered = forms
        .keys()
        .map(|name| {
            let path = out.join(name);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}\n{log}", path.display()));
            (name.clone(), text)
        })
        .collect();
    (rendered, log)
}

/// The variables `sh` has after sourcing `file` (in the empty folder `cwd`, with an empty
/// environment but PATH) that it did not have before: name -> value.
fn sourced(file: &Path, cwd: &Path) -> BTreeMap<String, String> {
    let env = |script: &str| -> BTreeMap<String, String> {
        let o = std::process::Command::new("sh")
            .args(["-c", script, "sh"])
            .arg(file)
            .current_dir(cwd)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", cwd)
            .output()
            .expect("sh");
        assert!(o.status.success(), "sh {script}: {}", stderr(&o));
        o.stdout
            .split(|b| *b == 0)
            .filter(|e| !e.is_empty())
            .map(|e| {
                let e = String::from_utf8(e.to_vec()).unwrap();
                let (k, v) = e.split_once('=').unwrap();
                (k.to_string(), v.to_string())
            })
            .collect()
    };
    let before = env("env -0");
    let after = env(". \"$1\" && env -0");
    after
        .into_iter()
        .filter(|(k, v)| before.get(k) != Some(v))
        .collect()
}

/// Every file below `dir` whose name starts with `PWNED`.
fn pwned(dir: &Path) -> Vec<PathBuf> {
    let mut found = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_name().to_string_lossy().starts_with("PWNED") {
                found.push(p.clone());
            }
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
    found
}

/// The PEM blocks of a file: (label, DER).
fn pem_blocks(text: &str) -> Vec<(String, Vec<u8>)> {
    x509_parser::pem::Pem::iter_from_buffer(text.as_bytes())
        .map(|p| {
            let p = p.expect("a PEM block");
            (p.label, p.contents)
        })
        .collect()
}

/// Checks a rendered certificate: `leaf` is issued for `name`, and `key` is its private key.
fn check_leaf(file: &str, leaf: &[u8], key: &[u8], name: &str) {
    use x509_parser::prelude::*;
    let (_, cert) = X509Certificate::from_der(leaf).expect("the leaf parses");
    let cn: Vec<&str> = cert
        .subject()
        .iter_common_name()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(cn, [name], "{file}");
    let key = rustls::pki_types::PrivateKeyDer::try_from(key.to_vec()).expect("the key parses");
    let signer = rustls::crypto::ring::sign::any_supported_type(&key).expect("a usable key");
    let spki = signer.public_key().expect("the key's public key");
    assert_eq!(
        spki.as_ref(),
        cert.tbs_certificate.subject_pki.raw,
        "{file}: the private key is the certificate's"
    );
}

#[test]
fn the_real_agent_renders_every_generated_template_form() {
    let (Some(bao), Some(pg)) = (Bao::start(), Postgres::start()) else {
        return;
    };
    let setup = SpecDir::new(REVIEWER_JWT, |_, ca, k8s_host| spec(pg.port, ca, k8s_host));
    let o = configure(
        &bao,
        &setup.spec_path,
        &[],
        &[
            ("TEST_REVIEWER_JWT", REVIEWER_JWT),
            ("TEST_PG_PASSWORD", &pg.password),
        ],
    );
    ok("configure", &o);
    for (path, body) in [
        (
            "apps-kv/data/shop/env",
            json!({"data": {
                "GREETING": HOSTILE_VALUE,
                HOSTILE_KEY: "boom",
                "api-key": "dashed",
                "ok\ntouch PWNED_NL": "newline in the key",
                "multi": "line one\nline 'two'",
                "_empty": "",
            }}),
        ),
        (
            "apps-kv/data/shop/keys",
            json!({"data": {"api_key": HOSTILE_VALUE, "_second": "2", "unread": "u"}}),
        ),
        (
            "legacy-kv/shop/env",
            json!({"TOKEN": "v1 'value'", HOSTILE_KEY: "boom"}),
        ),
        ("legacy-kv/shop/custom", json!({"token": "custom-value"})),
    ] {
        let (status, body) = bao.api("POST", path, Some(body));
        assert!(status < 300, "{path}: {body}");
    }

    let patch = Patch::of(&setup.spec_path);
    let forms: Vec<String> = patch.templates().into_keys().collect();
    assert_eq!(
        forms,
        ["custom", "env-db", "env-keys", "env-v1", "env-v2", "tls", "tls-keys"],
        "one template per secret"
    );
    let dir = tempfile::tempdir().unwrap();
    let jwt = sa_jwt("shop", &patch.service_account, &[&patch.audience]);
    let (files, log) = render_with_agent(&bao, dir.path(), &patch, &jwt);
    let out = dir.path().join("out");
    let cwd = dir.path().join("sh");
    std::fs::create_dir_all(&cwd).unwrap();
    let vars = |name: &str| sourced(&out.join(name), &cwd);
    let expect = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };

    // kv v2, every key: the shell names only, with their exact values.
    assert_eq!(
        vars("env-v2"),
        expect(&[
            ("GREETING", HOSTILE_VALUE),
            ("multi", "line one\nline 'two'"),
            ("_empty", ""),
        ]),
        "env-v2:\n{}",
        files["env-v2"]
    );
    let text = &files["env-v2"];
    assert_eq!(
        text.matches("# left out: a key that is not a shell variable name")
            .count(),
        3,
        "{text}"
    );
    for key in [HOSTILE_KEY, "api-key", "PWNED_NL"] {
        assert!(
            !text.contains(key),
            "the key {key:?} reached the file:\n{text}"
        );
    }
    // Declared keys: those, not the others.
    assert_eq!(
        vars("env-keys"),
        expect(&[("api_key", HOSTILE_VALUE), ("_second", "2")]),
        "env-keys:\n{}",
        files["env-keys"]
    );
    // kv v1: `.Data`.
    assert_eq!(
        vars("env-v1"),
        expect(&[("TOKEN", "v1 'value'")]),
        "env-v1:\n{}",
        files["env-v1"]
    );
    assert!(!files["env-v1"].contains(HOSTILE_KEY));
    // database: credentials PostgreSQL accepts.
    let db = vars("env-db");
    assert_eq!(
        db.keys().collect::<Vec<_>>(),
        ["password", "username"],
        "env-db:\n{}",
        files["env-db"]
    );
    assert!(
        pg.login(&db["username"], &db["password"], "select 1"),
        "the agent's database credentials do not log in"
    );
    // Nothing in a key or a value ran.
    assert_eq!(pwned(dir.path()), Vec::<PathBuf>::new(), "{log}");
    assert_eq!(std::fs::read_dir(&cwd).unwrap().count(), 0);

    // pki, no keys: the certificate, the issuer's chain, the private key.
    let blocks = pem_blocks(&files["tls"]);
    let labels: Vec<&str> = blocks.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels.len(), 3, "tls:\n{}", files["tls"]);
    assert_eq!(labels[..2], ["CERTIFICATE", "CERTIFICATE"]);
    assert!(labels[2].ends_with("PRIVATE KEY"), "{labels:?}");
    assert!(files["tls"].starts_with("-----BEGIN CERTIFICATE-----\n"));
    check_leaf(
        "tls",
        &blocks[0].1,
        &blocks[2].1,
        "agent.shop.svc.cluster.local",
    );
    let (_, ca) = x509_parser::parse_x509_certificate(&blocks[1].1).unwrap();
    assert_eq!(
        ca.subject()
            .iter_common_name()
            .map(|c| c.as_str().unwrap())
            .collect::<Vec<_>>(),
        ["Lab Root CA"]
    );
    // The chain verifies the leaf for both its names (as a TLS client would).
    {
        use rustls::client::danger::ServerCertVerifier;
        use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(blocks[1].1.clone()))
            .unwrap();
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            std::sync::Arc::new(roots),
            std::sync::Arc::new(rustls::crypto::ring::default_provider()),
        )
        .build()
        .unwrap();
        for name in ["agent.shop.svc.cluster.local", "api.shop.svc.cluster.local"] {
            verifier
                .verify_server_cert(
                    &CertificateDer::from(blocks[0].1.clone()),
                    &[],
                    &ServerName::try_from(name).unwrap(),
                    &[],
                    UnixTime::now(),
                )
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
    // pki with keys: those fields, in their order.
    let blocks = pem_blocks(&files["tls-keys"]);
    let labels: Vec<&str> = blocks.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels.len(), 2, "tls-keys:\n{}", files["tls-keys"]);
    assert!(labels[0].ends_with("PRIVATE KEY"), "{labels:?}");
    assert_eq!(labels[1], "CERTIFICATE");
    check_leaf(
        "tls-keys",
        &blocks[1].1,
        &blocks[0].1,
        "keys.shop.svc.cluster.local",
    );

    // The user's own template, as written.
    assert_eq!(files["custom"], "token=custom-value");
}

/// The spec's declared keys for the env file: a key that is not a shell variable name is a
/// spec error at the key (exit 2, file, line, field, hint), and nothing is written.
#[test]
fn a_declared_key_the_env_file_cannot_hold_is_a_spec_error() {
    let dir = tempfile::tempdir().unwrap();
    for (source, keys, bad, message) in [
        (
            "kv: kvv2/shop/api",
            "[api_key, api-key]",
            1,
            "key `api-key` is not a shell variable name",
        ),
        (
            "database: db/shop",
            "[tls.crt]",
            0,
            "key `tls.crt` is not a shell variable name",
        ),
        (
            "pki: pki/shop\n        commonName: a.shop.svc.cluster.local",
            "[certificate, tls.crt]",
            1,
            "`tls.crt` is not a field of Vault's certificate",
        ),
    ] {
        let spec = format!(
            r#"apiVersion: kubectl-vault/v1alpha1
kind: VaultStack
cluster: lab
vault:
  chart: {{version: 0.30.0}}
  injector: true
operator:
  chart: {{version: 0.10.0}}
apps:
  - name: agent
    namespace: shop
    consumer: injector
    secrets:
      - name: env
        {source}
        keys: {keys}
vaultConfig:
  databases:
    db:
      plugin: postgresql
      connectionUrl: postgresql://{{{{username}}}}:{{{{password}}}}@db:5432/shop
      username: vault
      passwordFrom: env:DB_PASSWORD
      roles:
        shop:
          creationStatements: [CREATE ROLE x]
  pki:
    pki:
      rootCA: {{commonName: Lab Root CA}}
      roles:
        shop: {{allowedDomains: [shop.svc.cluster.local], allowSubdomains: true}}
"#
        );
        let path = dir.path().join("vault.yaml");
        std::fs::write(&path, &spec).unwrap();
        let line = spec.lines().position(|l| l.contains("keys: [")).unwrap() + 1;
        let out = dir.path().join("out");
        let o = run(&[
            "generate",
            "-f",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{source}: {err}");
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("vault.yaml:{line}:"))
                && first.contains(&format!("apps[0].secrets[0].keys[{bad}]"))
                && first.contains(message),
            "{source}: {err}"
        );
        assert!(err.contains("hint:"), "{err}");
        assert!(err.contains("(1 error)"), "{source}: one error only\n{err}");
        assert!(!out.exists(), "{source}: something was written");
    }
    // The same keys with the user's own template are the template's business.
    let last = std::fs::read_to_string(dir.path().join("vault.yaml")).unwrap();
    let spec = last.replace(
            "pki: pki/shop\n        commonName: a.shop.svc.cluster.local\n        keys: [certificate, tls.crt]",
            "kv: kvv2/shop/api\n        keys: [api-key]\n        template: '{{ with secret \"kvv2/data/shop/api\" }}{{ end }}'",
        );
    assert_ne!(spec, last);
    let path = dir.path().join("custom.yaml");
    std::fs::write(&path, spec).unwrap();
    let out = dir.path().join("custom-out");
    let o = run(&[
        "generate",
        "-f",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    ok("generate with a custom template", &o);
}
