//! Property test of the spec parser and the generate pipeline, run on every `cargo test`:
//! the real fixtures, mutated the way an attacker would (shell and HCL metacharacters, NUL
//! and control characters, line breaks, very long values, deep nesting, alias bombs, wrong
//! types, duplicated, dropped, swapped and cut lines, bytes that are not UTF-8).
//!
//! For every case the real binary runs `generate --out` under a memory limit (RLIMIT_AS) and
//! a time limit, and must: not panic, not abort, not be killed, finish in time, exit 0 or 2,
//! and write nothing when it exits 2. A spec it accepts yields a `configure.sh` that `bash -n`
//! parses. In process, many more cases go through `spec::parse` and `validate::check`.
//!
//! `PROPTEST_CASES` changes the number of cases (default: 160 runs of the binary, ten times
//! as many in process); a failure prints the minimal mutated spec.

use crate::support::common::*;
use proptest::prelude::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SEEDS: [&str; 4] = [
    "example.yaml",
    "minimal.yaml",
    "production.yaml",
    "long-forms.yaml",
];

/// Per-run limits: far above what a valid spec needs (tens of MiB, well under a second).
const MEMORY_LIMIT: u64 = 3 * 1024 * 1024 * 1024;
const TIME_LIMIT: Duration = Duration::from_secs(20);

/// Values an attacker puts into a field.
fn payloads() -> Vec<String> {
    let mut p: Vec<String> = [
        "k8s;touch${IFS}PWNED;x",
        "$(touch PWNED)",
        "`touch PWNED`",
        "a' ; touch PWNED ; '",
        "\"; touch PWNED; \"",
        "a\\\" }\npath \\\"sys/*\\\" { capabilities = [\\\"sudo\\\"] }",
        "\"a\\0b\"",
        "\"line\\nbreak\"",
        "\"tab\\there\"",
        "\"\\e[31mred\"",
        "\"\\u202Eevil\"",
        "{{ identity.entity.id }}",
        "*",
        "+",
        "../../etc",
        "/abs",
        "a//b",
        ".git",
        "sys",
        "cubbyhole/x",
        "~",
        "null",
        "\"\"",
        "é漢字",
        "latest",
        "0.30.x",
        ">=1.0.0",
        "4294967295",
        "-1",
        "1e309",
        "true",
        "[]",
        "{}",
        "[a, b]",
        "{a: b}",
        "&anchor x",
        "*anchor",
        "!!binary aGVsbG8=",
        "!custom x",
        "%TAG",
        "@",
        "a,b,c",
        "file:/dev/zero",
        "env:PATH",
        "postgresql://admin:hunter2@db:5432/x",
        "https://",
        "oci://",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    p.push("x".repeat(5000));
    p.push(format!("\"{}\"", "é".repeat(3000)));
    p.push(format!("{}{}", "[".repeat(80), "]".repeat(80)));
    p.push(format!("{}x{}", "{a: ".repeat(40), "}".repeat(40)));
    p
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Replaces the value of the `key: value` line at this position (modulo the line count).
    SetValue(usize, usize),
    /// Appends a payload to the value of a line.
    AppendToValue(usize, usize),
    /// Replaces a key.
    SetKey(usize, usize),
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    /// Shifts a line's indentation by -2..=2 spaces.
    Indent(usize, i8),
    /// Cuts the file at this fraction (per mille) of its length.
    Truncate(u16),
    /// Inserts a byte that is not UTF-8 (or a NUL) into a line.
    RawByte(usize, u8),
    /// Appends a second document, or an alias bomb under vault.values.
    SecondDocument,
    AliasBomb(u8),
    /// Prepends a byte-order mark.
    Bom,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let n = payloads().len();
    prop_oneof![
        4 => (any::<usize>(), 0..n).prop_map(|(l, p)| Mutation::SetValue(l, p)),
        2 => (any::<usize>(), 0..n).prop_map(|(l, p)| Mutation::AppendToValue(l, p)),
        1 => (any::<usize>(), 0..n).prop_map(|(l, p)| Mutation::SetKey(l, p)),
        1 => any::<usize>().prop_map(Mutation::DeleteLine),
        1 => any::<usize>().prop_map(Mutation::DuplicateLine),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        1 => (any::<usize>(), -2i8..=2).prop_map(|(l, d)| Mutation::Indent(l, d)),
        1 => (0u16..1000).prop_map(Mutation::Truncate),
        1 => (any::<usize>(), prop_oneof![Just(0xffu8), Just(0xc3), Just(0x00), Just(0x1b), Just(0x80)])
            .prop_map(|(l, b)| Mutation::RawByte(l, b)),
        1 => Just(Mutation::SecondDocument),
        1 => (2u8..12).prop_map(Mutation::AliasBomb),
        1 => Just(Mutation::Bom),
    ]
}

fn apply(seed: &str, mutations: &[Mutation]) -> Vec<u8> {
    let payloads = payloads();
    let mut lines: Vec<Vec<u8>> = seed.lines().map(|l| l.as_bytes().to_vec()).collect();
    let mut prefix: Vec<u8> = Vec::new();
    let mut suffix: Vec<u8> = Vec::new();
    let mut truncate: Option<u16> = None;
    for m in mutations {
        if lines.is_empty() {
            break;
        }
        let len = lines.len();
        match m {
            Mutation::SetValue(l, p) | Mutation::AppendToValue(l, p) => {
                let line = &mut lines[l % len];
                if let Some(colon) = find_colon(line) {
                    let payload = payloads[*p].as_bytes();
                    if matches!(m, Mutation::SetValue(..)) {
                        line.truncate(colon + 1);
                        line.push(b' ');
                    }
                    line.extend_from_slice(payload);
                }
            }
            Mutation::SetKey(l, p) => {
                let line = &mut lines[l % len];
                if let Some(colon) = find_colon(line) {
                    let indent = line
                        .iter()
                        .take_while(|b| **b == b' ' || **b == b'-')
                        .count();
                    let rest = line[colon..].to_vec();
                    line.truncate(indent);
                    line.extend_from_slice(payloads[*p].as_bytes());
                    line.extend_from_slice(&rest);
                }
            }
            Mutation::DeleteLine(l) => {
                lines.remove(l % len);
            }
            Mutation::DuplicateLine(l) => {
                let copy = lines[l % len].clone();
                lines.insert(l % len, copy);
            }
            Mutation::SwapLines(a, b) => lines.swap(a % len, b % len),
            Mutation::Indent(l, d) => {
                let line = &mut lines[l % len];
                if *d > 0 {
                    let mut v = vec![b' '; *d as usize];
                    v.extend_from_slice(line);
                    *line = v;
                } else {
                    let n = line
                        .iter()
                        .take((-*d) as usize)
                        .take_while(|b| **b == b' ')
                        .count();
                    line.drain(..n);
                }
            }
            Mutation::Truncate(f) => truncate = Some(*f),
            Mutation::RawByte(l, b) => {
                let line = &mut lines[l % len];
                let at = line.len() / 2;
                line.insert(at, *b);
            }
            Mutation::SecondDocument => suffix.extend_from_slice(b"---\napiVersion: x\n"),
            Mutation::AliasBomb(depth) => {
                let mut bomb = String::from("bomb:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
                for i in 1..*depth {
                    let p = i - 1;
                    bomb.push_str(&format!(
                        "  l{i}: &l{i} [{}]\n",
                        vec![format!("*l{p}"); 10].join(", ")
                    ));
                }
                suffix.extend_from_slice(bomb.as_bytes());
            }
            Mutation::Bom => prefix = "\u{feff}".as_bytes().to_vec(),
        }
    }
    let mut out = prefix;
    for l in lines {
        out.extend_from_slice(&l);
        out.push(b'\n');
    }
    out.extend_from_slice(&suffix);
    if let Some(f) = truncate {
        let cut = out.len() * f as usize / 1000;
        out.truncate(cut);
    }
    out
}

/// The byte position of the `:` of a `key: value` line (not a comment line).
fn find_colon(line: &[u8]) -> Option<usize> {
    let start = line.iter().position(|b| *b != b' ')?;
    if line[start] == b'#' {
        return None;
    }
    line.windows(2)
        .position(|w| w == b": ")
        .or_else(|| (line.last() == Some(&b':')).then(|| line.len() - 1))
}

fn seeds() -> Vec<String> {
    SEEDS
        .iter()
        .map(|s| std::fs::read_to_string(fixture(s)).unwrap())
        .collect()
}

/// Runs the binary on `spec` with the limits; returns (exit code or signal, stdout, stderr,
/// elapsed).
fn run_limited(spec: &Path, out: &Path) -> (Result<i32, String>, Vec<u8>, String, Duration) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubectl-vault"));
    cmd.args([
        "generate",
        "-f",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                let limit = libc::rlimit {
                    rlim_cur: MEMORY_LIMIT as libc::rlim_t,
                    rlim_max: MEMORY_LIMIT as libc::rlim_t,
                };
                if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let started = Instant::now();
    let mut child = cmd.spawn().expect("start kubectl-vault");
    let (mut so, mut se) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut so, &mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut se, &mut v);
        v
    });
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return (
                Err(format!("still running after {TIME_LIMIT:?}")),
                vec![],
                String::new(),
                started.elapsed(),
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = started.elapsed();
    let stdout = out_reader.join().unwrap();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned();
    let code = match status.code() {
        Some(c) => Ok(c),
        None => {
            #[cfg(unix)]
            {
                use std::os::unix::process::ExitStatusExt;
                Err(format!("killed by signal {:?}", status.signal()))
            }
            #[cfg(not(unix))]
            Err("killed".to_string())
        }
    };
    (code, stdout, stderr, elapsed)
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(160),
        failure_persistence: None,
        max_shrink_iters: 200,
        .. ProptestConfig::default()
    })]

    /// The binary on mutated fixtures: exit 0 or 2, no crash, bounded, nothing written on 2.
    #[test]
    fn generate_on_mutated_specs_is_safe(
        seed in 0..SEEDS.len(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let spec_bytes = apply(&seeds()[seed], &mutations);
        let dir = tempfile::tempdir().unwrap();
        let spec = dir.path().join("vault.yaml");
        std::fs::write(&spec, &spec_bytes).unwrap();
        let out = dir.path().join("out");
        let (code, stdout, stderr, elapsed) = run_limited(&spec, &out);
        let shown = String::from_utf8_lossy(&spec_bytes);
        let code = code.map_err(|e| TestCaseError::fail(format!("{e}\n--- spec:\n{shown}\n--- stderr:\n{stderr}")))?;
        prop_assert!(code == 0 || code == 2, "exit {code}\n--- spec:\n{shown}\n--- stderr:\n{stderr}");
        prop_assert!(!stderr.contains("panicked"), "panic\n--- spec:\n{shown}\n--- stderr:\n{stderr}");
        prop_assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}\n--- spec:\n{shown}");
        prop_assert!(!stderr.contains('\u{1b}') && !stderr.contains('\0'), "a control character reached stderr\n{stderr}");
        if code == 2 {
            prop_assert!(!out.exists(), "exit 2 but the output folder was written\n--- spec:\n{shown}");
            prop_assert!(stdout.is_empty());
            prop_assert!(stderr.starts_with("vault.yaml:"), "no located diagnostic\n{stderr}");
        } else {
            let scripts: Vec<_> = read_tree(&out).into_iter().filter(|(p, _)| p.ends_with("configure.sh")).collect();
            prop_assert_eq!(scripts.len(), 1);
            if let Ok(bash) = which_bash() {
                let o = Command::new(bash).arg("-n").arg(out.join(&scripts[0].0)).output().unwrap();
                prop_assert!(o.status.success(), "configure.sh does not parse:\n{}\n--- spec:\n{shown}", String::from_utf8_lossy(&o.stderr));
            }
        }
    }
}

fn which_bash() -> Result<String, ()> {
    ["/bin/bash", "/usr/bin/bash"]
        .iter()
        .find(|p| Path::new(p).exists())
        .map(|p| p.to_string())
        .ok_or(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(160) * 10,
        failure_persistence: None,
        max_shrink_iters: 500,
        .. ProptestConfig::default()
    })]

    /// In process: the parser and the validator never panic and stay fast.
    #[test]
    fn parse_and_validate_never_panic(
        seed in 0..SEEDS.len(),
        mutations in proptest::collection::vec(mutation(), 1..8),
    ) {
        let bytes = apply(&seeds()[seed], &mutations);
        let started = Instant::now();
        if let Ok(text) = String::from_utf8(bytes) {
            if let Ok(sourced) = kubectl_vault::core::spec::parse("vault.yaml", text) {
                let findings = kubectl_vault::core::spec::validate::check(&sourced.spec, &sourced.index);
                for d in findings.errors.iter().chain(&findings.warnings) {
                    let _ = d.render("vault.yaml", &sourced.source);
                }
            } else if let Err(e) = kubectl_vault::core::spec::parse("vault.yaml", String::new()) {
                let _ = e.render();
            }
        }
        prop_assert!(started.elapsed() < Duration::from_secs(5));
    }
}
