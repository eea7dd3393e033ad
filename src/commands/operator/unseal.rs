//! `kubectl vault operator unseal`: unseal every sealed Vault pod with key shares read from
//! stdin or a hidden prompt (never argv), then show the status.

use super::ClusterArgs;
use crate::commands::args::OutputArgs;
use crate::core::vault_pods::{self, SealStatus};
use crate::edge::podproxy::PodProxy;
use crate::error::{Error, Exit};
use crate::term::Term;
use clap::Args;
use http::Method;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Most bytes of shares read from stdin.
const STDIN_BYTES: u64 = 64 * 1024;
/// Longest share accepted (a share is 33 bytes: 66 hex characters).
const SHARE_CHARS: usize = 1024;

#[derive(Debug, Args)]
pub(crate) struct UnsealArgs {
    #[command(flatten)]
    pub(crate) cluster: ClusterArgs,
    /// How long to wait for a pod to join the raft cluster after its shares (e.g. 2m).
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = crate::commands::parse_duration)]
    pub(crate) timeout: Duration,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// Where shares come from: the lines of stdin (read when the first share is needed: nothing
/// is read when every pod is unsealed), or a hidden prompt on the terminal (each share asked
/// once, then reused for the next pod).
enum Shares {
    Stdin(Option<Vec<String>>),
    Prompt(Vec<String>),
}

impl Shares {
    fn new() -> Shares {
        if std::io::stdin().is_terminal() {
            Shares::Prompt(vec![])
        } else {
            Shares::Stdin(None)
        }
    }

    fn read_stdin() -> Result<Vec<String>, Error> {
        let stdin = std::io::stdin();
        let bytes = crate::edge::fs::read_all(stdin.lock(), STDIN_BYTES)
            .map_err(|e| Error::usage(format!("reading key shares from stdin: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|_| {
            Error::usage("the key shares on stdin are not text (one share per line)")
        })?;
        let shares: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        if let Some(i) = shares.iter().position(|s| s.len() > SHARE_CHARS) {
            return Err(Error::usage(format!(
                "line {} of stdin is longer than {SHARE_CHARS} characters: not a key share",
                i + 1
            )));
        }
        Ok(shares)
    }

    /// Share `i` (0-based), asking for it on the terminal when needed; None when there are
    /// no more.
    fn get(&mut self, i: usize, pod: &str, threshold: u32) -> Result<Option<String>, Error> {
        match self {
            Shares::Stdin(lines) => {
                if lines.is_none() {
                    *lines = Some(Shares::read_stdin()?);
                }
                Ok(lines.as_ref().and_then(|l| l.get(i).cloned()))
            }
            Shares::Prompt(asked) => {
                if let Some(s) = asked.get(i) {
                    return Ok(Some(s.clone()));
                }
                let answer = rpassword::prompt_password(format!(
                    "Key share {} of {threshold} for {pod} (hidden; empty to stop): ",
                    i + 1
                ))
                .map_err(|e| {
                    Error::environment(format!("reading a key share from the terminal: {e}"))
                })?;
                let answer = answer.trim().to_string();
                if answer.is_empty() {
                    return Ok(None);
                }
                if answer.len() > SHARE_CHARS {
                    return Err(Error::usage("that is not a key share (too long)"));
                }
                asked.push(answer.clone());
                Ok(Some(answer))
            }
        }
    }

    fn all(&self) -> &[String] {
        match self {
            Shares::Stdin(Some(v)) | Shares::Prompt(v) => v,
            Shares::Stdin(None) => &[],
        }
    }
}

pub(crate) fn run(args: UnsealArgs, term: &Term) -> Result<Exit, Error> {
    let say = |line: String| term.err(line + "\n");
    let (stack, spec_context) = super::load(&args.cluster, term)?;
    let mut shares = Shares::new();
    super::with_proxy(&args.cluster, &stack, spec_context, async |proxy| {
        let observed = super::observe(proxy, term).await?;
        let statuses: Vec<&SealStatus> = observed
            .iter()
            .filter_map(|o| o.seal.as_ref().ok())
            .collect();
        if !statuses.iter().any(|s| s.initialized) {
            return Err(Error::check_failed(
                "Vault is not initialised: there is nothing to unseal\nhint: kubectl vault operator init",
            ));
        }
        if statuses
            .iter()
            .any(|s| vault_pods::uses_recovery_shares(stack.vault.seal.is_some(), s))
        {
            let (_, report) = super::status_report(proxy, term).await?;
            say("Vault unseals itself with its auto-unseal seal (recovery shares do not unseal); a sealed pod means it cannot reach its seal: see its log".into());
            return super::print_status(&report, args.output.output, term);
        }
        for o in &observed {
            match &o.seal {
                Ok(s) if !s.sealed => say(format!("{}: already unsealed, left alone", o.pod.name)),
                Err(e) => say(format!("{}: skipped: {e}", o.pod.name)),
                _ => {}
            }
        }
        let deadline = Instant::now() + args.timeout;
        let mut failed = false;
        for pod in vault_pods::unseal_order(&observed) {
            super::proxy_note(proxy, term);
            match unseal_pod(proxy, &pod, &mut shares, deadline, args.timeout).await? {
                Outcome::Unsealed(n) => say(format!("{pod}: unsealed ({n} share(s) given)")),
                Outcome::Stopped(why) => {
                    say(format!("{pod}: {why}"));
                    failed = true;
                    break;
                }
            }
        }
        // The closing status, once the cluster has settled: a pod just unsealed takes a
        // moment to take or find the leadership.
        let report = loop {
            let (_, report) = super::status_report(proxy, term).await?;
            if failed || report.leader.is_some() || Instant::now() >= deadline {
                break report;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        let exit = super::print_status(&report, args.output.output, term)?;
        Ok(if failed { Exit::CheckFailed } else { exit })
    })
}

enum Outcome {
    Unsealed(usize),
    /// Still sealed, and why (never a share's text).
    Stopped(String),
}

/// Gives `pod` shares until it is unsealed, waiting first for a peer that has not joined the
/// raft cluster yet (it says "not initialised" until then) and after the threshold for it
/// to join.
async fn unseal_pod(
    proxy: &PodProxy<'_>,
    pod: &str,
    shares: &mut Shares,
    deadline: Instant,
    timeout: Duration,
) -> Result<Outcome, Error> {
    let mut status = loop {
        match super::seal_status(proxy, pod).await? {
            Ok(s) if s.initialized => break s,
            Ok(_) | Err(_) if Instant::now() >= deadline => {
                return Ok(Outcome::Stopped(format!(
                    "has not joined the raft cluster within --timeout {timeout:?} (still not initialised or unreachable)"
                )))
            }
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    };
    let mut given = 0;
    while status.sealed {
        if given > 0 && status.progress == 0 {
            // The threshold was reached (progress starts over): the pod is joining its
            // leader; wait for it.
            if Instant::now() >= deadline {
                return Ok(Outcome::Stopped(format!(
                    "took the shares but is still sealed after --timeout {timeout:?} (joining the raft leader?)"
                )));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            if let Ok(s) = super::seal_status(proxy, pod).await? {
                status = s;
            }
            continue;
        }
        let Some(share) = shares.get(given, pod, status.t)? else {
            return Ok(Outcome::Stopped(format!(
                "still sealed: {}/{} shares given; pass at least {} shares (one per line on stdin)",
                status.progress, status.t, status.t
            )));
        };
        given += 1;
        let reply = proxy
            .call(
                pod,
                Method::PUT,
                "sys/unseal",
                Some(&serde_json::json!({ "key": share })),
                None,
            )
            .await
            .map_err(|e| super::pod_error(proxy, pod, e))?;
        if reply.status == 200 {
            status = vault_pods::parse_seal_status(&reply.body)
                .map_err(|e| Error::environment(format!("pod {pod}: {e}")))?;
            continue;
        }
        let secrets: Vec<&str> = shares.all().iter().map(String::as_str).collect();
        let msg = vault_pods::scrub(&vault_pods::vault_errors(&reply.body), &secrets);
        return Ok(Outcome::Stopped(if msg.contains("hex or base64") {
            format!("share {given} is not a key share (Vault: {msg}); still sealed")
        } else {
            format!(
                "the shares given do not unseal it: one of them is wrong or belongs to another Vault (Vault: {msg}); still sealed, progress reset"
            )
        }));
    }
    Ok(Outcome::Unsealed(given))
}
