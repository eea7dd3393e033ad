//! Runs the real binary once and measures it: wall time, and peak RSS from the kernel.
//!
//! The binary is started through a small launcher (this bench executable re-run in launcher
//! mode) rather than straight from the bench: a child spawned from a large process (the verify
//! bench holds a fake API server with thousands of objects) inherits that process's memory
//! high-water mark in its `ru_maxrss`, which would be reported as the tool's own.

use kubectl_vault_testkit::big_spec as big_spec_gen;
use std::process::{Command, Stdio};
use std::time::Instant;

const LAUNCHER: &str = "KUBECTL_VAULT_BENCH_LAUNCHER";

pub struct Run {
    pub secs: f64,
    /// Peak resident set size in KiB (wait4's rusage.ru_maxrss).
    pub peak_kib: i64,
    /// CPU time, user and system, in seconds (wait4's rusage): what a busy machine changes
    /// least.
    pub cpu_secs: f64,
}

/// In launcher mode (set by `run`), runs the given command, prints its wall time, peak RSS
/// and exit status, and exits. Every bench calls this first.
pub fn serve_as_launcher() {
    if std::env::var_os(LAUNCHER).is_none() {
        return;
    }
    let mut argv = std::env::args_os().skip(1);
    let program = argv.next().expect("launcher: program");
    let mut cmd = Command::new(program);
    cmd.args(argv).env_remove(LAUNCHER);
    let (secs, kib, ok, cpu) = spawn_and_wait(&mut cmd);
    println!("{secs} {kib} {ok} {cpu}");
    std::process::exit(0);
}

/// Runs `cmd` (through the launcher) with its output discarded; panics (naming `what`)
/// unless it exits 0.
pub fn run(cmd: &mut Command, what: &str) -> Run {
    let mut launcher = Command::new(std::env::current_exe().expect("bench executable"));
    launcher
        .env(LAUNCHER, "1")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => launcher.env(k, v),
            None => launcher.env_remove(k),
        };
    }
    let out = launcher.output().expect("run the launcher");
    let text = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(fields.len(), 4, "launcher output: {text}");
    assert_eq!(fields[2], "true", "{what} failed");
    Run {
        secs: fields[0].parse().expect("secs"),
        peak_kib: fields[1].parse().expect("kib"),
        cpu_secs: fields[3].parse().expect("cpu"),
    }
}

fn spawn_and_wait(cmd: &mut Command) -> (f64, i64, bool, f64) {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run kubectl-vault");
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting on our own child; `usage` is a valid out-parameter.
    unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let secs = start.elapsed().as_secs_f64();
    let _ = child.try_wait();
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu = tv(usage.ru_utime) + tv(usage.ru_stime);
    (secs, usage.ru_maxrss, ok, cpu)
}

/// A temp dir holding `vault.yaml`: the benchmark spec of 1,000 apps with 3 secrets each.
#[allow(dead_code)] // the fleet bench writes a fleet spec of its own
pub fn big_spec() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("vault.yaml");
    std::fs::write(&spec, big_spec_gen::big_spec(1000, 3)).expect("write spec");
    (dir, spec)
}

/// The fleet benchmark's spec: `clusters` clusters sharing `apps` apps of 3 secrets each.
#[allow(dead_code)] // only the fleet bench uses it
pub fn big_fleet(clusters: usize, apps: usize) -> String {
    big_spec_gen::big_fleet(clusters, apps, 3)
}

/// Best wall time and highest peak RSS over several runs.
#[derive(Default)]
pub struct Best {
    pub secs: Option<f64>,
    pub peak_kib: i64,
    pub cpu_secs: Option<f64>,
}

impl Best {
    pub fn add(&mut self, r: &Run) {
        self.secs = Some(self.secs.map_or(r.secs, |s| s.min(r.secs)));
        self.cpu_secs = Some(self.cpu_secs.map_or(r.cpu_secs, |s| s.min(r.cpu_secs)));
        self.peak_kib = self.peak_kib.max(r.peak_kib);
    }
    pub fn ms(&self) -> f64 {
        self.secs.unwrap_or(0.0) * 1000.0
    }
    /// The least CPU time of the runs, in milliseconds.
    #[allow(dead_code)] // the scan bench prints it
    pub fn cpu_ms(&self) -> f64 {
        self.cpu_secs.unwrap_or(0.0) * 1000.0
    }
    pub fn mib(&self) -> f64 {
        self.peak_kib as f64 / 1024.0
    }
}
