fn main() {
    let a: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    print!("{}", kubectl_vault::bench_support::big_spec(a, 3));
}
