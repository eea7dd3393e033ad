//! The OpenBao tree's server configuration, read by the real `bao`: `bao operator
//! validate-config` on the file exactly as generated (a stanza or field OpenBao does not know
//! is a warning there, exit 2: the test fails), and a server booted from it, with only its
//! paths and addresses moved into a temporary folder, that unseals itself through a real
//! transit seal (a second, dev, `bao`), initialises itself from its `initialize` stanzas and
//! writes the audit log its `audit` stanza declares.

use super::*;
use crate::support::servers::{find_tool, free_port, require, wait_for_port, Bao};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `bao operator validate-config -config=<file>`: (exit code, output).
fn validate(bao: &Path, hcl: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.hcl");
    std::fs::write(&file, hcl).unwrap();
    let o = Command::new(bao)
        .args(["operator", "validate-config"])
        .arg(format!("-config={}", file.display()))
        .env("HOME", dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        o.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

#[test]
fn bao_validates_the_generated_server_configuration() {
    let Some(bao) = require(find_tool("BAO_BIN", "bao"), "OpenBao (bao)") else {
        return;
    };
    // The fixture: TLS, three raft peers, a transit seal, an audit device, two initialize
    // stanzas; and a one-replica plain-HTTP variant with a socket audit device.
    let full = server_hcl(&generate_edited(|s| s));
    for stanza in [
        "audit \"file\" \"file\"",
        "audit \"file\" \"stdout\"",
        "initialize \"admin-policy\"",
        "seal \"transit\"",
    ] {
        assert!(full.contains(stanza), "{stanza} in {full}");
    }
    let small = server_hcl(&generate_edited(|s| {
        s.replace("  replicas: 3\n", "  replicas: 1\n")
            .replace("  tls: openbao-tls\n  tlsIssuer: internal-ca\n", "")
            .replace(
                "    - type: file\n      path: file\n      options:\n        file_path: /openbao/audit/audit.log\n",
                "    - type: socket\n      path: siem\n      options:\n        address: siem.example.com:9090\n        socket_type: tcp\n",
            )
    }));
    assert!(small.contains("audit \"socket\" \"siem\""), "{small}");
    for hcl in [&full, &small] {
        let (code, out) = validate(&bao, hcl);
        assert_eq!(code, Some(0), "{out}\n{hcl}");
        assert!(out.contains("success"), "{out}");
    }
    // Not vacuous: a field OpenBao does not know, inside the stanzas the tree writes, fails.
    for bad in [
        full.replace(
            "operation = \"update\"",
            "operation = \"update\"\n    bogus = 1",
        ),
        full.replace("  options {", "  bogus = 1\n  options {"),
    ] {
        let (code, out) = validate(&bao, &bad);
        assert_eq!(code, Some(2), "{out}");
        assert!(out.contains("Unknown or unsupported field bogus"), "{out}");
    }
}

/// The generated configuration, moved into `dir`: storage, audit log and listener there
/// (plain HTTP on free ports), without the Kubernetes service registration (no pod here).
fn local_config(hcl: &str, dir: &Path, api: u16, cluster: u16) -> String {
    let registration = "service_registration \"kubernetes\" {}\n";
    assert!(hcl.contains(registration), "{hcl}");
    let data = dir.join("data");
    let audit = dir.join("audit");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&audit).unwrap();
    let moved = hcl
        .replace(registration, "")
        .replace("\"/openbao/data\"", &format!("\"{}\"", data.display()))
        .replace("\"/openbao/audit/", &format!("\"{}/", audit.display()))
        .replace("[::]:8200", &format!("127.0.0.1:{api}"))
        .replace("[::]:8201", &format!("127.0.0.1:{cluster}"));
    assert!(!moved.contains("/openbao/"), "{moved}");
    format!(
        "{moved}\napi_addr      = \"http://127.0.0.1:{api}\"\ncluster_addr  = \"http://127.0.0.1:{cluster}\"\ndisable_mlock = true\n"
    )
}

#[test]
fn a_server_from_the_generated_configuration_initialises_itself() {
    let Some(bin) = require(find_tool("BAO_BIN", "bao"), "OpenBao (bao)") else {
        return;
    };
    let Some(unsealer) = Bao::start() else { return };
    // The unsealer: a transit key the seal wraps the root key with.
    assert_eq!(
        unsealer
            .api(
                "POST",
                "sys/mounts/transit",
                Some(serde_json::json!({"type": "transit"}))
            )
            .0,
        204
    );
    assert_eq!(
        unsealer.api("POST", "transit/keys/openbao-unseal", None).0,
        200
    );
    // The administrator the initialize stanzas create: a userpass login with the admin policy
    // (a password made at run time; the configuration is a ConfigMap, so a real spec would
    // not put one there).
    let password = format!("pw-{}", std::process::id());
    let tree = generate_edited(|s| {
        s.replace("  replicas: 3\n", "  replicas: 1\n")
            .replace("  tls: openbao-tls\n  tlsIssuer: internal-ca\n", "")
            .replace("https://unsealer.example.com:8200", &unsealer.addr)
            .replace(
                "apps:\n",
                &format!(
                    "      - name: admin-user\n        operation: update\n        path: auth/userpass/users/admin\n        data:\n          password: {password}\n          token_policies: [admin]\n      - name: may-fail\n        operation: read\n        path: sys/no-such-path\n        allowFailure: true\napps:\n"
                ),
            )
    });
    let dir = tempfile::tempdir().unwrap();
    let (api, cluster) = (free_port(), free_port());
    let config = dir.path().join("server.hcl");
    std::fs::write(
        &config,
        local_config(&server_hcl(&tree), dir.path(), api, cluster),
    )
    .unwrap();
    let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
    let mut child = Command::new(&bin)
        .arg("server")
        .arg(format!("-config={}", config.display()))
        .env("HOME", dir.path())
        // The transit seal's token (never in the configuration).
        .env("VAULT_TOKEN", &unsealer.token)
        .env("BAO_TOKEN", &unsealer.token)
        .env_remove("VAULT_ADDR")
        .env_remove("BAO_ADDR")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    struct Kill<'a>(&'a mut std::process::Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _guard = Kill(&mut child);
    wait_for_port(api, "bao server");
    let addr = format!("http://127.0.0.1:{api}");
    let call = |method: &str, path: &str, token: &str, body: Option<Json>| {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let (status, bytes) = crate::support::http::request(
            &addr,
            method,
            &format!("/v1/{path}"),
            &[
                ("X-Vault-Token", token),
                ("Content-Type", "application/json"),
            ],
            body.as_bytes(),
        )
        .unwrap();
        (
            status,
            serde_json::from_slice::<Json>(&bytes).unwrap_or(Json::Null),
        )
    };
    // Initialised, unsealed and active on its own: nobody called sys/init.
    let start = Instant::now();
    loop {
        let (status, _) = call("GET", "sys/health", "", None);
        if status == 200 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "not initialised and unsealed (health {status}): {}",
            std::fs::read_to_string(dir.path().join("server.log")).unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (_, seal) = call("GET", "sys/seal-status", "", None);
    assert_eq!(seal["type"], "transit", "{seal}");
    assert_eq!(seal["recovery_seal"], true, "{seal}");
    // The requests ran in order: the administrator logs in with the policy they wrote.
    let (status, login) = call(
        "POST",
        "auth/userpass/login/admin",
        "",
        Some(serde_json::json!({ "password": password })),
    );
    assert_eq!(status, 200, "{login}");
    let token = login["auth"]["client_token"].as_str().unwrap().to_string();
    assert_eq!(
        login["auth"]["policies"],
        serde_json::json!(["admin", "default"])
    );
    let (status, auths) = call("GET", "sys/auth", &token, None);
    assert_eq!(status, 200);
    assert_eq!(auths["data"]["userpass/"]["type"], "userpass");
    // The audit device of the configuration, enabled without an API call, logging.
    let (status, audits) = call("GET", "sys/audit", &token, None);
    assert_eq!(status, 200, "{audits}");
    assert_eq!(audits["data"]["file/"]["type"], "file", "{audits}");
    let audit_log = dir.path().join("audit/audit.log");
    let start = Instant::now();
    while std::fs::metadata(&audit_log).map_or(0, |m| m.len()) == 0 {
        assert!(start.elapsed() < Duration::from_secs(10), "no audit log");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Through the API, OpenBao refuses audit devices: why configure leaves them alone.
    let (status, _) = call(
        "POST",
        "sys/audit/api-made",
        &token,
        Some(serde_json::json!({"type": "file", "options": {"file_path": "stdout"}})),
    );
    assert_ne!(status, 204);
    // No root token is left behind: there is none to find (no root token was handed out, and
    // generating one needs the recovery keys, which nobody holds).
    let (_, init) = call("GET", "sys/init", "", None);
    assert_eq!(init["initialized"], true);
}

/// With `vault.tls`: the generated listener serves the certificate from the Secret's folder
/// (moved into the temporary folder), and the server initialises and unseals itself behind it
/// (its status read over verified HTTPS by the real `bao` CLI).
#[test]
fn a_tls_server_from_the_generated_configuration_initialises_itself() {
    let Some(bin) = require(find_tool("BAO_BIN", "bao"), "OpenBao (bao)") else {
        return;
    };
    let Some(ssl) = require(find_tool("OPENSSL", "openssl"), "openssl") else {
        return;
    };
    let Some(unsealer) = Bao::start() else { return };
    assert_eq!(
        unsealer
            .api(
                "POST",
                "sys/mounts/transit",
                Some(serde_json::json!({"type": "transit"}))
            )
            .0,
        204
    );
    assert_eq!(
        unsealer.api("POST", "transit/keys/openbao-unseal", None).0,
        200
    );
    let tree = generate_edited(|s| {
        s.replace("  replicas: 3\n", "  replicas: 1\n")
            .replace("https://unsealer.example.com:8200", &unsealer.addr)
    });
    let hcl = server_hcl(&tree);
    let dir = tempfile::tempdir().unwrap();
    // The Secret's folder: a self-signed certificate for 127.0.0.1 as tls.crt and ca.crt.
    let certs = dir.path().join("openbao-tls");
    std::fs::create_dir_all(&certs).unwrap();
    let o = Command::new(&ssl)
        .current_dir(&certs)
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .args(["-keyout", "tls.key", "-out", "tls.crt"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::copy(certs.join("tls.crt"), certs.join("ca.crt")).unwrap();
    let folder = "\"/openbao/userconfig/openbao-tls/";
    assert!(
        hcl.contains(&format!("tls_cert_file   = {folder}tls.crt\"")),
        "{hcl}"
    );
    let hcl = hcl.replace(folder, &format!("\"{}/", certs.display()));
    let (api, cluster) = (free_port(), free_port());
    let config = dir.path().join("server.hcl");
    std::fs::write(
        &config,
        local_config(&hcl, dir.path(), api, cluster).replace(
            &format!("api_addr      = \"http://127.0.0.1:{api}\""),
            &format!("api_addr      = \"https://127.0.0.1:{api}\""),
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
    let mut child = Command::new(&bin)
        .arg("server")
        .arg(format!("-config={}", config.display()))
        .env("HOME", dir.path())
        .env("VAULT_TOKEN", &unsealer.token)
        .env("BAO_TOKEN", &unsealer.token)
        .env_remove("VAULT_ADDR")
        .env_remove("BAO_ADDR")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    struct Kill<'a>(&'a mut std::process::Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _guard = Kill(&mut child);
    wait_for_port(api, "bao server");
    let start = Instant::now();
    loop {
        let o = Command::new(&bin)
            .args(["status", "-format=json"])
            .env("HOME", dir.path())
            .env("BAO_ADDR", format!("https://127.0.0.1:{api}"))
            .env("BAO_CACERT", certs.join("ca.crt"))
            .env_remove("VAULT_ADDR")
            .env_remove("VAULT_TOKEN")
            .env_remove("BAO_TOKEN")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let status: Json = serde_json::from_slice(&o.stdout).unwrap_or(Json::Null);
        if status["initialized"] == true && status["sealed"] == false {
            assert_eq!(status["type"], "transit", "{status}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "not initialised and unsealed over TLS: {status} {}\n{}",
            String::from_utf8_lossy(&o.stderr),
            std::fs::read_to_string(dir.path().join("server.log")).unwrap()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}
