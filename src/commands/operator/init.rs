//! `kubectl vault operator init`: initialise Vault once, through the first pod.

use super::ClusterArgs;
use crate::commands::args::{Output, OutputArgs};
use crate::core::vault_pods::{self, InitPlan};
use crate::edge::fs;
use crate::edge::podproxy::ProxyError;
use crate::error::{Error, Exit};
use crate::term::Term;
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
    /// Write the shares and root token (in the -o format) to FILE, created new with mode 0600
    /// before Vault is asked to initialise (init is refused when it cannot be created), instead
    /// of stdout. PGP keys (--pgp-keys, --root-token-pgp-key) remain the recommended way.
    #[arg(long, value_name = "FILE")]
    pub(crate) shares_file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

fn read_pgp_key(path: &Path, flag: &str) -> Result<String, Error> {
    let bytes = fs::read_file(path, PGP_KEY_BYTES)
        .map_err(|e| Error::usage(format!("{flag} {}: {e}", path.display())))?;
    vault_pods::pgp_public_key(&bytes)
        .map_err(|e| Error::usage(format!("{flag} {}: {e}", path.display())))
}

pub(crate) fn run(args: InitArgs, term: &Term) -> Result<Exit, Error> {
    let (stack, spec_context) = super::load(&args.cluster, term)?;
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
    // Where the answer goes exists before Vault is asked: an init whose answer cannot be
    // delivered loses the shares for good.
    let mut shares_file = args
        .shares_file
        .as_deref()
        .map(|path| {
            fs::NewPrivateFile::create(path).map_err(|e| {
                Error::usage(format!(
                    "--shares-file {}: cannot create it: {e}; Vault was not asked to initialise",
                    path.display()
                ))
                .with_hint("name a file that does not exist yet, in a folder you can write")
            })
        })
        .transpose()?;
    let result = super::with_proxy(&args.cluster, &stack, spec_context, async |proxy| {
        let observed = super::observe(proxy, term).await?;
        if let Some(o) = observed
            .iter()
            .find(|o| o.seal.as_ref().is_ok_and(|s| s.initialized))
        {
            return Err(Error::check_failed(format!(
                "Vault is already initialised ({} says so); nothing was changed",
                o.pod.name
            ))
            .with_hint("`kubectl vault operator unseal` unseals it with the existing shares"));
        }
        // The first pod (vault-0): the others join it (retry_join).
        let first = &observed[0];
        let status = match &first.seal {
            Ok(s) => s,
            Err(e) => {
                return Err(Error::environment(format!("pod {}: {e}", first.pod.name))
                    .with_hint("init goes through the first pod; wait until it runs"))
            }
        };
        plan.recovery = vault_pods::uses_recovery_shares(stack.vault.seal.is_some(), status);
        plan.check()?;
        let pod = &first.pod.name;
        // The shares and the root token come back through the pod proxy.
        super::proxy_note(proxy, term);
        let reply = proxy
            .call(pod, Method::PUT, "sys/init", Some(&plan.request_body()), None)
            .await
            .map_err(|e| match e {
                // Sent once, never again: an init that was not answered may have happened.
                ProxyError::Unreachable(m) => Error::environment(format!("pod {pod}: no answer to the init request ({m})")).with_hint("run `kubectl vault operator status`: if Vault is initialised now, the shares are lost; re-deploy Vault's storage and init again"),
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
    let (result, pod) = match result {
        Ok(r) => r,
        Err(e) => {
            // Vault was not initialised (or the failure says what to check): the shares
            // file, created for nothing, goes.
            if let Some(f) = shares_file.take() {
                f.discard();
            }
            return Err(e);
        }
    };
    if (!result.shares_encrypted || !result.root_token_encrypted) && shares_file.is_none() {
        term.err(format!(
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
    let text = match args.output.output {
        Output::Table => vault_pods::init_text(&result, &names),
        Output::Json => serde_json::to_string_pretty(&result).expect("json") + "\n",
    };
    deliver(&text, shares_file, &pod, term)?;
    let decrypt = if result.shares_encrypted {
        " (each holder decrypts theirs: echo SHARE | base64 -d | gpg -dq)"
    } else {
        ""
    };
    term.err(format!(
        "initialised Vault through {pod} with {} {} shares, threshold {}\nnext: kubectl vault operator unseal -f {}{decrypt}\n",
        result.shares.len(),
        result.share_kind,
        result.threshold,
        args.cluster.spec.file.display()
    ));
    Ok(Exit::Ok)
}

/// Hands the init answer over: to the shares file, else to stdout, where a closed or failing
/// stdout is an error (not the quiet end it is for reports). Vault is initialised by now, so
/// a failure says so plainly, with what was and was not delivered and how to start again.
fn deliver(
    text: &str,
    shares_file: Option<fs::NewPrivateFile>,
    pod: &str,
    term: &Term,
) -> Result<(), Error> {
    let lost = |how: String| {
        Error::environment(format!(
            "Vault IS initialised (through {pod}), but its key shares and root token were NOT delivered: {how}. They cannot be read from Vault again."
        ))
        .with_hint(
            "to start again, delete the Vault release's storage (its raft PersistentVolumeClaims) and pods, then run init with --shares-file FILE or, better, --pgp-keys and --root-token-pgp-key",
        )
    };
    if let Some(file) = shares_file {
        let path = file.path().display().to_string();
        return match file.write_all(text.as_bytes()) {
            Ok(()) => {
                term.err(format!(
                    "wrote the key shares and the root token to {path} (mode 0600)\n"
                ));
                Ok(())
            }
            // The file failed after Vault answered: stdout is the last place they can go.
            Err(e) => match term.out_or_fail(text) {
                Ok(()) => Err(Error::environment(format!(
                    "cannot write the shares file {path}: {e}; the key shares and root token were printed on stdout instead"
                ))
                .with_hint("keep that output now: Vault is initialised and they are not stored anywhere else")),
                Err(out) => Err(lost(format!("{path}: {e}; stdout: {out}"))),
            },
        };
    }
    term.out_or_fail(text)
        .map_err(|e| lost(format!("stdout: {e}")))
}
