//! Reaching the cluster as kubectl does: kubeconfig files, lists and contexts, exec credential
//! plugins, and HTTPS with a client certificate, a token or a self-signed certificate.

use super::*;
use crate::support;

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

/// An unknown --context lists the contexts the kubeconfig has.
#[test]
fn an_unknown_context_lists_the_contexts_that_exist() {
    let s = synced_cluster();
    let o = s.verify(&["--context", "prod"]);
    assert_eq!(o.status.code(), Some(2));
    s.stable()
        .bind(|| insta::assert_snapshot!("usage_unknown_context", stderr(&o)));
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
