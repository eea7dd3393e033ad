//! `kubectl vault operator snapshot save FILE`: a raft snapshot through the active node
//! (`restore` is in restore.rs).

use super::ClusterArgs;
use crate::core::vault_pods;
use crate::edge::fs::PrivateFile;
use crate::error::{Error, Exit};
use crate::term::Term;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub(crate) enum SnapshotCommand {
    /// Save a raft snapshot of the whole cluster to FILE (mode 0600, written atomically: a
    /// failed download leaves no file). Needs VAULT_TOKEN with `read` on
    /// sys/storage/raft/snapshot.
    ///
    /// Example: VAULT_TOKEN=… kubectl vault operator snapshot save backup.snap -f vault.yaml
    Save(SaveArgs),
    /// Restore a raft snapshot from FILE through the active node: ALL of Vault's data is
    /// replaced. The file is checked whole first (exit 2, nothing sent, otherwise); asks for
    /// the cluster's name unless --yes. Needs VAULT_TOKEN with `update` on
    /// sys/storage/raft/snapshot (with --force, sys/storage/raft/snapshot-force).
    ///
    /// Examples:
    ///   VAULT_TOKEN=… kubectl vault operator snapshot restore backup.snap -f vault.yaml
    ///   VAULT_TOKEN=… kubectl vault operator snapshot restore old.snap --force --yes -f vault.yaml
    #[command(verbatim_doc_comment)]
    Restore(super::restore::RestoreArgs),
}

#[derive(Debug, Args)]
pub(crate) struct SaveArgs {
    /// Where to write the snapshot.
    #[arg(value_name = "FILE")]
    pub(crate) snapshot: PathBuf,
    #[command(flatten)]
    pub(crate) cluster: ClusterArgs,
}

pub(crate) fn run(command: SnapshotCommand, term: &Term) -> Result<Exit, Error> {
    match command {
        SnapshotCommand::Save(args) => save(args, term),
        SnapshotCommand::Restore(args) => super::restore::restore(args, term),
    }
}

fn save(args: SaveArgs, term: &Term) -> Result<Exit, Error> {
    let (stack, spec_context) = super::load(&args.cluster, term)?;
    let token = super::vault_token().ok_or_else(|| {
        Error::usage("VAULT_TOKEN is not set")
            .with_hint("export VAULT_TOKEN=… (a token allowed to read sys/storage/raft/snapshot)")
    })?;
    let result = super::with_proxy(&args.cluster, &stack, spec_context, async |proxy| {
        let observed = super::observe(proxy, term).await?;
        let active = crate::core::vault_pods::the_active(&observed).map_err(Error::check_failed)?;
        let Some(active) = active else {
            return Err(Error::check_failed(
                "no active Vault node: every pod is sealed or unreachable; nothing was written",
            )
            .with_hint("`kubectl vault operator status`, then `operator unseal`"));
        };
        let pod = &active.pod.name;
        let mut file = PrivateFile::create(&args.snapshot).map_err(|e| {
            Error::environment_from(format!("cannot create {}: {e}", args.snapshot.display()), e)
        })?;
        super::proxy_note(proxy, term);
        let got = proxy
            .download(pod, "sys/storage/raft/snapshot", &token, &mut file.file)
            .await?;
        if got.status != 200 {
            let msg = vault_pods::scrub(&vault_pods::vault_errors(&got.body), &[&token]);
            return Err(Error::environment(format!(
                "pod {pod}: Vault refused the snapshot ({}): {msg}; nothing was written",
                got.status
            ))
            .with_hint("VAULT_TOKEN needs `read` on sys/storage/raft/snapshot"));
        }
        let bytes = got.written;
        let kept = match args.snapshot.exists() {
            true => format!("{} is left as it was", args.snapshot.display()),
            false => "nothing was written".to_string(),
        };
        // A body can end cleanly and still be short (a close-delimited answer, a proxy that
        // cut it): the announced length, then the archive itself, before the rename.
        if let Some(announced) = got.content_length.filter(|n| *n != bytes) {
            return Err(Error::environment(format!(
                "pod {pod}: the snapshot is {bytes} bytes, but Vault announced {announced}; {kept}"
            ))
            .with_hint("run it again; if it keeps happening, check what sits between you and the API server"));
        }
        use std::io::Seek;
        file.file.seek(std::io::SeekFrom::Start(0)).map_err(|e| {
            Error::environment_from(
                format!("cannot read back {}: {e}", args.snapshot.display()),
                e,
            )
        })?;
        crate::core::snapshot::check(std::io::BufReader::new(&file.file)).map_err(|e| {
            Error::environment(format!(
                "pod {pod}: the snapshot is not a complete archive: {e}; {kept}"
            ))
            .with_hint("run it again; a snapshot that fails this check cannot be restored")
        })?;
        file.commit().map_err(|e| {
            Error::environment_from(format!("cannot write {}: {e}", args.snapshot.display()), e)
        })?;
        Ok((pod.clone(), bytes))
    });
    let (pod, bytes) = result?;
    term.err(format!(
        "saved a raft snapshot from {pod} to {} ({bytes} bytes, mode 0600)\n",
        args.snapshot.display()
    ));
    Ok(Exit::Ok)
}
