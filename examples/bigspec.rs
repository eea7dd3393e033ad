//! Prints a synthetic spec: `cargo run --example bigspec -- 1000 > vault.yaml`.

#[path = "../tests/it/support/big_spec.rs"]
mod big_spec;

fn main() {
    let a: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    print!("{}", big_spec::big_spec(a, 3));
}
