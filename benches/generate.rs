//! Benchmark: `generate --out` for a 1,000-app spec with 3 secrets each.
//!
//! Runs the real binary (so the number includes process start, parsing, rendering, the
//! self-check and writing ~9,000 files) and reads its peak memory from the kernel.
//! `cargo bench --bench generate`

mod measure;

use std::path::Path;
use std::process::Command;

fn main() {
    measure::serve_as_launcher();
    let bin = env!("CARGO_BIN_EXE_kubectl-vault");
    let (dir, spec) = measure::big_spec();
    let runs = 5;
    // Three cases: the objects to stdout (no files), a fresh folder on tmpfs (the tool's own
    // cost of writing), and a fresh folder on the working disk (what a user waits for; on a
    // slow VM disk, creating ~9,000 files dominates).
    let shm = Path::new("/dev/shm");
    let cases: Vec<(&str, Option<std::path::PathBuf>)> = vec![
        ("to stdout", None),
        (
            "--out on tmpfs",
            shm.is_dir()
                .then(|| shm.join(format!("kubectl-vault-bench-{}", std::process::id()))),
        ),
        ("--out on disk", Some(dir.path().join("out"))),
    ];
    for (label, base) in cases {
        if label != "to stdout" && base.is_none() {
            continue;
        }
        let mut best = measure::Best::default();
        let mut files = 0;
        for run in 0..runs {
            let out = base.as_ref().map(|b| b.join(format!("run{run}")));
            best.add(&timed(bin, &spec, out.as_deref()));
            if let Some(o) = &out {
                files = count_files(o);
            }
        }
        if let Some(b) = &base {
            let _ = std::fs::remove_dir_all(b);
        }
        println!(
            "generate 1000 apps x 3 secrets, {label:<15} {files:>5} files  best of {runs}: {:>5.0} ms wall  peak RSS {:.1} MiB",
            best.ms(),
            best.mib()
        );
    }
}

/// One run of `generate`, to stdout or into `out`.
fn timed(bin: &str, spec: &Path, out: Option<&Path>) -> measure::Run {
    let mut cmd = Command::new(bin);
    cmd.args(["generate", "-f"]).arg(spec);
    if let Some(o) = out {
        cmd.arg("--out").arg(o);
    }
    measure::run(&mut cmd, "generate")
}

fn count_files(dir: &Path) -> usize {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).expect("read_dir").flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                n += 1;
            }
        }
    }
    n
}
