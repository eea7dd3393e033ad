//! `kubectl vault operator init`: initialise Vault once, through the first pod.

use super::ClusterArgs;
use crate::commands::verify::Output;
use crate::core::vault_pods::{self, InitPlan};
use crate::edge::fs;
use crate::edge::podproxy::ProxyError;
use crate::error::{Error, Exit};
use clap::Args;
use http::Method;
use std::path::{Path, PathBuf};

/// Largest PGP public key file read.
const PGP_KEY_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    #[command(flatten)]
    pub(crate) cluster: ClusterArgs,
    /// Number of key shares to split the key into (recovery shares with autoUnseal).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub(crate) key_shares: u32,
    /// Number of shares needed to unseal (or to recover, with autoUnseal).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub(crate) key_threshold: u32,
    /// PGP public key files, one per share, comma-separated (armored, base64 or binary, as
    /// `gpg --export [--armor]` writes them): Vault encrypts share i with key i.
    #[arg(long, value_name = "FILE,...", value_delimiter = ',')]
    pub(crate) pgp_keys: Vec<PathBuf>,
    /// A PGP public key file Vault encrypts the root token with.
    #[arg(long, value_name = "FILE")]
    pub(crate) root_token_pgp_key: Option<PathBuf>,
    /// Output format (json: the same shares and token, for scripts).
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub(crate) output: Output,
}

fn read_pgp_key(path: &Path, flag: &str) -> Result<String, Error> {
    let bytes = fs::read_file(path, PGP_KEY_BYTES)
        .map_err(|e| Error::usage(format!("{flag} {}: {e}", path.display())))?;
    vault_pods::pgp_public_key(&bytes)
        .map_err(|e| Error::usage(format!("{flag} {}: {e}", path.display())))
}

pub(crate) fn run(args: InitArgs) -> Result<Exit, Error> {
    let (stack, spec_context) = super::load(&args.cluster)?;
    let pgp_keys = args
        .pgp_keys
        .iter()
        .map(|p| read_pgp_key(p, "--pgp-keys"))
        .collect::<Result<Vec<_>, _>>()?;
    let root_token_pgp_key = args
        .root_token_pgp_key
        .as_ref()
        .map(|p| read_pgp_key(p, "--root-token-pgp-key"))
        .transpose()?;
    let mut plan = InitPlan {
        shares: args.key_shares,
        threshold: args.key_threshold,
        pgp_keys,
        root_token_pgp_key,
        recovery: stack.vault.seal.is_some(),
    };
    // Numbers first, before any request.
    plan.check()?;
    let result = super::with_proxy(&args.cluster, &stack, spec_context, async |proxy| {
        let observed = super::observe(proxy).await?;
        if let Some(o) = observed
            .iter()
            .find(|o| o.seal.as_ref().is_ok_and(|s| s.initialized))
        {
            return Err(Error::check_failed(format!(
                "Vault is already initialised ({} says so); nothing was changed\nhint: `kubectl vault operator unseal` unseals it with the existing shares",
                o.pod.name
            )));
        }
        // The first pod (vault-0): the others join it (retry_join).
        let first = &observed[0];
        let status = match &first.seal {
            Ok(s) => s,
            Err(e) => {
                return Err(Error::environment(format!(
                    "pod {}: {e}\nhint: init goes through the first pod; wait until it runs",
                    first.pod.name
                )))
            }
        };
        plan.recovery = vault_pods::uses_recovery_shares(stack.vault.seal.is_some(), status);
        plan.check()?;
        let pod = &first.pod.name;
        let reply = proxy
            .call(pod, Method::PUT, "sys/init", Some(&plan.request_body()), None)
            .await
            .map_err(|e| match e {
                // Sent once, never again: an init that was not answered may have happened.
                ProxyError::Unreachable(m) => Error::environment(format!(
                    "pod {pod}: no answer to the init request ({m})\nhint: run `kubectl vault operator status`: if Vault is initialised now, the shares are lost; re-deploy Vault's storage and init again"
                )),
                other => super::pod_error(proxy, pod, other),
            })?;
        if reply.status != 200 {
            let msg = vault_pods::vault_errors(&reply.body);
            if msg.contains("already initialized") {
                return Err(Error::check_failed(format!(
                    "Vault is already initialised ({pod}: {msg}); nothing was changed"
                )));
            }
            return Err(Error::usage(format!(
                "pod {pod}: Vault refused the init request ({}): {msg}",
                reply.status
            )));
        }
        vault_pods::parse_init_answer(&reply.body, &plan)
            .map_err(|e| Error::environment(format!("pod {pod}: {e}")))
            .map(|r| (r, pod.clone()))
    });
    let (result, pod) = result?;
    if !result.shares_encrypted || !result.root_token_encrypted {
        crate::cli::write_stderr(&format!(
            "warning: {} printed below in plain text, this once: they are not stored anywhere. Give each share to a different person and keep the root token only until configured (revoke it then); --pgp-keys and --root-token-pgp-key avoid plaintext.\n",
            match (result.shares_encrypted, result.root_token_encrypted) {
                (false, false) => "the key shares and the root token are",
                (false, true) => "the key shares are",
                _ => "the root token is",
            }
        ));
    }
    let names: Vec<String> = args
        .pgp_keys
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let text = match args.output {
        Output::Table => vault_pods::init_text(&result, &names),
        Output::Json => serde_json::to_string_pretty(&result).expect("json") + "\n",
    };
    crate::cli::write_stdout(text.as_bytes())?;
    let decrypt = if result.shares_encrypted {
        " (each holder decrypts theirs: echo SHARE | base64 -d | gpg -dq)"
    } else {
        ""
    };
    crate::cli::write_stderr(&format!(
        "initialised Vault through {pod} with {} {} shares, threshold {}\nnext: kubectl vault operator unseal -f {}{decrypt}\n",
        result.shares.len(),
        result.share_kind,
        result.threshold,
        args.cluster.spec.file.display()
    ));
    Ok(Exit::Ok)
}
