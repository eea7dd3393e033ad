//! Benchmark: `verify` against the in-process fake API server holding 3,000 synced secrets in
//! 1,000 namespaces. Reports API requests, wall time and peak memory of the real binary.
//! `cargo bench --bench verify`

mod measure;

use kubectl_vault_testkit::cluster_state;
use kubectl_vault_testkit::fake_apiserver::FakeApiServer;
use std::process::Command;

fn main() {
    measure::serve_as_launcher();
    let bin = env!("CARGO_BIN_EXE_kubectl-vault");
    let (dir, spec) = measure::big_spec();
    let fake = FakeApiServer::start();
    let generated =
        kubectl_vault::pipeline::generate(&spec, &Default::default()).expect("generate");
    cluster_state::synced_objects(&fake, cluster_state::objects_of(&generated.rendered));
    let kubeconfig = fake.write_kubeconfig(dir.path(), "bench");
    let runs = 5;
    let mut best = measure::Best::default();
    let mut requests = 0;
    for _ in 0..runs {
        fake.reset_requests();
        best.add(&measure::run(
            Command::new(bin)
                .args(["verify", "-o", "json", "-f"])
                .arg(&spec)
                .arg("--kubeconfig")
                .arg(&kubeconfig),
            "verify",
        ));
        requests = fake.request_count();
    }
    println!(
        "verify 3000 synced secrets in 1000 namespaces: {requests} API requests, best of {runs}: {:.0} ms wall, peak RSS {:.1} MiB",
        best.ms(),
        best.mib()
    );
}
