//! Runs the real binary once and measures it: wall time, and peak RSS from the kernel.

use std::process::{Command, Stdio};
use std::time::Instant;

pub struct Run {
    pub secs: f64,
    /// Peak resident set size in KiB (wait4's rusage.ru_maxrss).
    pub peak_kib: i64,
}

/// Runs `cmd` with its output discarded; panics (naming `what`) unless it exits 0.
pub fn run(cmd: &mut Command, what: &str) -> Run {
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
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{what} failed"
    );
    Run {
        secs,
        peak_kib: usage.ru_maxrss,
    }
}

/// Best wall time and highest peak RSS over several runs.
#[derive(Default)]
pub struct Best {
    pub secs: Option<f64>,
    pub peak_kib: i64,
}

impl Best {
    pub fn add(&mut self, r: &Run) {
        self.secs = Some(self.secs.map_or(r.secs, |s| s.min(r.secs)));
        self.peak_kib = self.peak_kib.max(r.peak_kib);
    }
    pub fn ms(&self) -> f64 {
        self.secs.unwrap_or(0.0) * 1000.0
    }
    pub fn mib(&self) -> f64 {
        self.peak_kib as f64 / 1024.0
    }
}
