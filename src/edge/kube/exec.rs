//! Kubeconfig exec credential plugins, run under this binary's [`EXEC_CREDENTIAL_COMMAND`]
//! so that `--request-timeout` bounds them (kube runs plugins without a time limit).

use super::{EXEC_CREDENTIAL_COMMAND, MAX_CREDENTIAL_BYTES};
use kube::config::Kubeconfig;
use std::time::{Duration, Instant};

/// Runs every exec credential plugin of the kubeconfig under this binary's
/// [`EXEC_CREDENTIAL_COMMAND`], which stops it after `timeout` (kube runs plugins without a
/// time limit, on the thread that would enforce one).
pub(super) fn bound_exec_plugins(kubeconfig: &mut Kubeconfig, timeout: Duration) {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    for named in &mut kubeconfig.auth_infos {
        let Some(exec) = named.auth_info.as_mut().and_then(|a| a.exec.as_mut()) else {
            continue;
        };
        let Some(command) = exec.command.take() else {
            continue;
        };
        let mut args = vec![
            EXEC_CREDENTIAL_COMMAND.to_string(),
            "--timeout-ms".to_string(),
            timeout.as_millis().to_string(),
            "--".to_string(),
            command,
        ];
        args.extend(exec.args.take().unwrap_or_default());
        exec.command = Some(exe.to_string_lossy().into_owned());
        exec.args = Some(args);
    }
}

/// Runs `command` (a kubeconfig exec credential plugin) with stdin and stderr passed
/// through and its stdout (at most [`MAX_CREDENTIAL_BYTES`]) relayed; stops it, and its
/// process group, when `timeout` passes. Returns the exit code to exit with.
pub(crate) fn run_exec_credential(
    timeout: Duration,
    command: &[String],
    term: &crate::term::Term,
) -> u8 {
    use std::io::IsTerminal;
    let Some((program, args)) = command.split_first() else {
        term.err("kubectl-vault: no credential plugin to run\n");
        return 2;
    };
    let mut cmd = std::process::Command::new(program);
    cmd.args(args).stdout(std::process::Stdio::piped());
    // Its own process group, so that a shell script's children stop with it; not for an
    // interactive plugin, which must stay in the terminal's foreground group.
    #[cfg(unix)]
    let own_group = !std::io::stdin().is_terminal();
    #[cfg(unix)]
    if own_group {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            term.err(format!(
                "kubectl-vault: cannot start the credential plugin `{program}`: {e}\n"
            ));
            return 1;
        }
    };
    let stdout = child.stdout.take().expect("piped");
    let reader =
        std::thread::spawn(move || crate::edge::fs::read_all(stdout, MAX_CREDENTIAL_BYTES));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            other => {
                #[cfg(unix)]
                if own_group {
                    // SAFETY: kill(2) on the plugin's own process group (its pid is the pgid).
                    unsafe {
                        libc::kill(-(child.id() as i32), libc::SIGKILL);
                    }
                }
                let _ = child.kill();
                let _ = child.wait();
                if let Err(e) = other {
                    term.err(format!(
                        "kubectl-vault: waiting for the credential plugin `{program}`: {e}\n"
                    ));
                } else {
                    term.err(format!("kubectl-vault: the credential plugin `{program}` did not finish within {timeout:?} (--request-timeout); stopped it\n"));
                }
                return 1;
            }
        }
    };
    let output = match reader.join() {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => {
            term.err(format!(
                "kubectl-vault: the credential plugin `{program}`'s output: {e}\n"
            ));
            return 1;
        }
        Err(_) => return 1,
    };
    // The credential must arrive: a closed stdout is a failure here, not a quiet end.
    if term.out_or_fail(&output).is_err() {
        return 1;
    }
    status.code().map_or(1, |c| c.clamp(0, 255) as u8)
}
