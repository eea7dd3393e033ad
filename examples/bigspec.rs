//! Prints a synthetic spec: `cargo run --example bigspec -- 1000 > vault.yaml`, or with a
//! second number a fleet of that many clusters sharing the apps:
//! `cargo run --example bigspec -- 200 50 > fleet.yaml`.

use kubectl_vault_testkit::big_spec;

fn main() {
    let arg = |i: usize| std::env::args().nth(i).and_then(|s| s.parse().ok());
    let apps: usize = arg(1).unwrap_or(1000);
    match arg(2) {
        Some(clusters) => print!("{}", big_spec::big_fleet(clusters, apps, 3)),
        None => print!("{}", big_spec::big_spec(apps, 3)),
    }
}
