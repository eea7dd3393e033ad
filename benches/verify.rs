//! Benchmark: `verify` against the in-process fake API server holding 3,000 synced secrets in
//! 1,000 namespaces. Reports API requests, wall time and peak memory of the real binary.
//! `cargo bench --bench verify`

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Command;
use std::time::Instant;

fn main() {
    let bin = env!("CARGO_BIN_EXE_kubectl-vault");
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("vault.yaml");
    std::fs::write(&spec, kubectl_vault::bench_support::big_spec(1000, 3)).expect("spec");
    let fake = support::fake_apiserver::FakeApiServer::start();
    support::cluster_state::synced(&fake, &spec);
    let kubeconfig = fake.write_kubeconfig(dir.path(), "bench");
    let runs = 5;
    let mut best = f64::MAX;
    let mut peak_kib = 0;
    let mut requests = 0;
    for _ in 0..runs {
        fake.reset_requests();
        let start = Instant::now();
        let mut child = Command::new(bin)
            .args(["verify", "-o", "json", "-f"])
            .arg(&spec)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("run kubectl-vault");
        let mut status = 0;
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: waiting on our own child; `usage` is a valid out-parameter.
        unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
        let secs = start.elapsed().as_secs_f64();
        let _ = child.try_wait();
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "verify did not pass"
        );
        best = best.min(secs);
        peak_kib = peak_kib.max(usage.ru_maxrss);
        requests = fake.request_count();
    }
    println!(
        "verify 3000 synced secrets in 1000 namespaces: {requests} API requests, best of {runs}: {:.0} ms wall, peak RSS {:.1} MiB",
        best * 1000.0,
        peak_kib as f64 / 1024.0
    );
}
