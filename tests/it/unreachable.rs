//! A refused connection and a name that does not resolve are answers: the run ends with exit 3
//! at once (as kubectl does), not after retrying until --request-timeout.

use crate::support::common::*;

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn a_refused_connection_and_an_unknown_host_fail_fast() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: refused\n  cluster: {{server: \"https://127.0.0.1:{}\", insecure-skip-tls-verify: true}}\n- name: nxdomain\n  cluster: {{server: \"https://no-such-host.invalid:6443\", insecure-skip-tls-verify: true}}\nusers:\n- name: u\n  user: {{}}\ncontexts:\n- name: refused\n  context: {{cluster: refused, user: u}}\n- name: nxdomain\n  context: {{cluster: nxdomain, user: u}}\ncurrent-context: refused\n",
            closed_port()
        ),
    )
    .unwrap();
    for (context, says) in [("refused", "Connection refused"), ("nxdomain", "dns error")] {
        for command in [&["verify"][..], &["operator", "status"]] {
            let started = std::time::Instant::now();
            let o = bin()
                .args(command)
                .args(["-f"])
                .arg(fixture("example.yaml"))
                .arg("--kubeconfig")
                .arg(&kubeconfig)
                .args(["--context", context, "--request-timeout", "30s"])
                .output()
                .unwrap();
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(3), "{command:?} {context}: {err}");
            assert!(err.contains(says), "{command:?} {context}: {err}");
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "{command:?} {context}: took {:?} (a refusal is not retried until --request-timeout)",
                started.elapsed()
            );
        }
    }
}
