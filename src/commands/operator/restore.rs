//! `kubectl vault operator snapshot restore FILE`: a raft snapshot back into the cluster,
//! through the active node. Everything Vault holds is replaced, so the file is checked whole
//! first (nothing is sent otherwise) and the user confirms (`--yes`, or the cluster's name
//! typed on a terminal).

use super::ClusterArgs;
use crate::core::vault_pods;
use crate::edge::fs;
use crate::error::{Error, Exit};
use crate::term::Term;
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;

/// Largest snapshot read (it is sent in one request).
const SNAPSHOT_BYTES: u64 = 8 * 1024 * 1024 * 1024;

#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    /// The snapshot to restore (as `snapshot save` or the backup CronJob wrote it).
    #[arg(value_name = "FILE")]
    pub(crate) snapshot: PathBuf,
    /// A snapshot of another cluster (or of this one before it was re-initialised): restored
    /// through sys/storage/raft/snapshot-force, as `vault operator raft snapshot restore
    /// -force`. Vault then has the snapshot's keys: unseal it with the shares of the cluster
    /// the snapshot came from.
    #[arg(long)]
    pub(crate) force: bool,
    /// Do not ask: restore overwrites all of Vault's data.
    #[arg(long)]
    pub(crate) yes: bool,
    #[command(flatten)]
    pub(crate) cluster: ClusterArgs,
}

/// The API path: a snapshot of this cluster, or (`--force`) of any.
fn api_path(force: bool) -> &'static str {
    if force {
        "sys/storage/raft/snapshot-force"
    } else {
        "sys/storage/raft/snapshot"
    }
}

/// `--yes`, or the cluster's name typed on the terminal; refused without a terminal.
fn confirm(args: &RestoreArgs, cluster: &str, namespace: &str, term: &Term) -> Result<(), Error> {
    if args.yes {
        return Ok(());
    }
    let refused = |why: &str| {
        Error::usage(format!(
            "restore replaces ALL of Vault's data in namespace {namespace} (cluster {cluster}) with {}: {why}; nothing was sent",
            args.snapshot.display()
        ))
        .with_hint("run it again with --yes once you are sure")
    };
    if !std::io::stdin().is_terminal() {
        return Err(refused("not confirmed (no terminal to ask on)"));
    }
    term.err(format!(
        "restore replaces ALL of Vault's data in namespace {namespace} with {}.\ntype the cluster's name ({cluster}) to go on: ",
        args.snapshot.display()
    ));
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Error::usage(format!("reading the confirmation: {e}")))?;
    if line.trim() != cluster {
        return Err(refused("not confirmed"));
    }
    Ok(())
}

pub(crate) fn restore(args: RestoreArgs, term: &Term) -> Result<Exit, Error> {
    let (stack, spec_context) = super::load(&args.cluster, term)?;
    let token = super::vault_token().ok_or_else(|| {
        Error::usage("VAULT_TOKEN is not set; nothing was sent").with_hint(
            "export VAULT_TOKEN=… (a token allowed to update sys/storage/raft/snapshot; with --force, snapshot-force)",
        )
    })?;
    let bytes = fs::read_file(&args.snapshot, SNAPSHOT_BYTES).map_err(|e| {
        Error::usage(format!(
            "{}: {e}; nothing was sent",
            args.snapshot.display()
        ))
    })?;
    let archive = crate::core::snapshot::check(bytes.as_slice()).map_err(|e| {
        Error::usage(format!(
            "{} is not a complete raft snapshot: {e}; nothing was sent",
            args.snapshot.display()
        ))
        .with_hint("restore a file `snapshot save` or the backup CronJob wrote, whole")
    })?;
    let missing: Vec<&str> = ["meta.json", "state.bin"]
        .into_iter()
        .filter(|m| !archive.members.iter().any(|(name, _)| name == m))
        .collect();
    if !missing.is_empty() {
        return Err(Error::usage(format!(
            "{} is a whole archive but not a raft snapshot (no {}); nothing was sent",
            args.snapshot.display(),
            missing.join(", ")
        ))
        .with_hint("restore a file `snapshot save` or the backup CronJob wrote"));
    }
    if !archive.checksummed {
        term.err(format!(
            "warning: {} has no SHA256SUMS: its members cannot be checked\n",
            args.snapshot.display()
        ));
    }
    confirm(&args, &stack.cluster, &stack.vault.namespace, term)?;
    let path = api_path(args.force);
    let size = bytes.len();
    let pod = super::with_proxy(&args.cluster, &stack, spec_context, async |proxy| {
        let observed = super::observe(proxy, term).await?;
        let active = vault_pods::the_active(&observed).map_err(Error::check_failed)?;
        let Some(active) = active else {
            return Err(Error::check_failed(
                "no active Vault node: every pod is sealed or unreachable; nothing was sent",
            )
            .with_hint("`kubectl vault operator status`, then `operator unseal`"));
        };
        let pod = active.pod.name.clone();
        super::proxy_note(proxy, term);
        let reply = proxy
            .upload(&pod, path, bytes, &token)
            .await
            .map_err(|e| super::pod_error(proxy, &pod, e))?;
        if !(200..300).contains(&reply.status) {
            let msg = vault_pods::scrub(&vault_pods::vault_errors(&reply.body), &[&token]);
            let hint = if msg.contains("unseal keys") || msg.contains("different cluster") {
                "a snapshot of another cluster (or of this one before a new init) needs --force"
            } else {
                "VAULT_TOKEN needs `update` on sys/storage/raft/snapshot (snapshot-force with --force)"
            };
            return Err(Error::environment(format!(
                "pod {pod}: Vault refused the restore ({}): {msg}",
                reply.status
            ))
            .with_hint(hint));
        }
        Ok(pod)
    })?;
    term.err(format!(
        "restored {} ({size} bytes) through {pod}{}\n",
        args.snapshot.display(),
        if args.force {
            "; Vault now has the snapshot's keys and tokens: its pods seal, unseal them with the shares of the cluster the snapshot came from (kubectl vault operator unseal)"
        } else {
            ""
        }
    ));
    Ok(Exit::Ok)
}
