//! `kubectl vault operator …`: bring the deployed Vault cluster to life and keep an eye on it
//! (status, init, unseal, raft snapshots), each pod reached through the API server's pod proxy.

pub(crate) mod init;
pub(crate) mod restore;
pub(crate) mod snapshot;
pub(crate) mod status;
pub(crate) mod unseal;

use crate::commands::args::{KubeArgs, Output, SpecArgs};
use crate::commands::runtime;
use crate::core::model::{FleetVault, Stack};
use crate::core::vault_pods::{
    self, PodObservation, RaftServer, SealUnknown, StatusReport, VaultPod,
};
use crate::edge::kube::Cluster;
use crate::edge::podproxy::{PodProxy, ProxyError};
use crate::error::{Error, Exit};
use crate::pipeline;
use crate::term::Term;
use clap::{Args, Subcommand};
use http::Method;

#[derive(Debug, Args)]
pub(crate) struct OperatorArgs {
    #[command(subcommand)]
    pub(crate) command: OperatorCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum OperatorCommand {
    /// One row per Vault pod: initialised, sealed (with unseal progress), HA role, raft voter,
    /// version; then a summary. Exit 1 when a pod is sealed or not initialised.
    ///
    /// With VAULT_TOKEN set, the raft configuration is read too (voters); nothing else needs
    /// a token.
    ///
    /// Examples:
    ///   kubectl vault operator status -f vault.yaml
    ///   VAULT_TOKEN=… kubectl vault operator status -f vault.yaml -o json
    #[command(verbatim_doc_comment)]
    Status(status::StatusArgs),
    /// Initialise Vault once (refused, exit 1, when it already is): splits the key into
    /// shares. With --pgp-keys every share (and with --root-token-pgp-key the root token) is
    /// encrypted by Vault, so no plaintext key ever exists; without them, shares and root token
    /// are printed once to stdout, after a warning on stderr. With the spec's autoUnseal,
    /// recovery shares.
    ///
    /// Examples:
    ///   kubectl vault operator init -f vault.yaml --pgp-keys alice.asc,bob.asc,carol.asc \
    ///       --key-shares 3 --key-threshold 2 --root-token-pgp-key alice.asc
    ///   kubectl vault operator init -f vault.yaml -o json      # plaintext shares, for scripts
    #[command(verbatim_doc_comment)]
    Init(init::InitArgs),
    /// Unseal every sealed Vault pod, the one holding the cluster first, then the others so
    /// that they join it. Key shares come from stdin (one per line) or, on a terminal, a hidden
    /// prompt; never from the command line. Ends with the status table.
    ///
    /// Examples:
    ///   kubectl vault operator unseal -f vault.yaml                    # prompts for shares
    ///   for f in a.gpg b.gpg c.gpg; do gpg -dq "$f"; echo; done \
    ///     | kubectl vault operator unseal -f vault.yaml
    #[command(verbatim_doc_comment)]
    Unseal(unseal::UnsealArgs),
    /// Raft snapshots (backups) through the active node.
    #[command(subcommand)]
    Snapshot(snapshot::SnapshotCommand),
}

/// How to reach the cluster: the spec (namespace, TLS) and kubectl's flags.
#[derive(Debug, Clone, Args)]
pub(crate) struct ClusterArgs {
    #[command(flatten)]
    pub(crate) spec: SpecArgs,
    #[command(flatten)]
    pub(crate) kube: KubeArgs,
}

pub(crate) fn run(args: OperatorArgs, term: &Term) -> Result<Exit, Error> {
    match args.command {
        OperatorCommand::Status(a) => status::run(a, term),
        OperatorCommand::Init(a) => init::run(a, term),
        OperatorCommand::Unseal(a) => unseal::run(a, term),
        OperatorCommand::Snapshot(c) => snapshot::run(c, term),
    }
}

/// The spec's model (its warnings on stderr), and the kube context a fleet names for the
/// chosen cluster (used when `--context` is not given). Of a fleet on one Vault run by one of
/// its clusters, that cluster unless `--cluster` names one; a cluster that runs no Vault is
/// refused, naming where its Vault runs.
fn load(args: &ClusterArgs, term: &Term) -> Result<(Stack, Option<String>), Error> {
    let mut all = pipeline::load_all(&args.spec.file, args.spec.strict, &args.spec.cluster)?;
    if let Some(first) = all.first() {
        term.warnings_summary(&first.warnings);
    }
    if all.len() > 1 {
        if let Some(FleetVault::Shared { host: Some(host) }) = all[0].stack.vault.fleet.clone() {
            all.retain(|l| l.stack.cluster == host);
        }
    }
    let loaded = pipeline::only_one(all, &args.spec.file)?;
    let stack = loaded.stack;
    if !stack.vault.deploy {
        let hint = match &stack.vault.fleet {
            Some(FleetVault::Shared { host: Some(h) }) => format!(
                "run it for the cluster that runs Vault: --cluster {h} (or leave --cluster out)"
            ),
            _ => "initialize, unseal and back up that Vault where it runs (e.g. the vault CLI with VAULT_ADDR)".into(),
        };
        return Err(Error::usage(format!(
            "cluster {} runs no Vault (vault.deploy: false): its operator and apps use the Vault {}, at {}",
            stack.cluster,
            match &stack.vault.fleet {
                Some(FleetVault::Shared { host: Some(h) }) => format!("run by cluster {h}"),
                Some(_) => "outside every cluster of the fleet".into(),
                None => "outside this cluster".into(),
            },
            stack.operator.address
        ))
        .with_hint(hint));
    }
    Ok((stack, loaded.context))
}

/// Runs `f` on a runtime of its own with a proxy to the Vault pods of the cluster `args` name
/// (`--context`, else the fleet spec's `spec_context`).
fn with_proxy<T>(
    args: &ClusterArgs,
    stack: &Stack,
    spec_context: Option<String>,
    f: impl AsyncFnOnce(&PodProxy<'_>) -> Result<T, Error>,
) -> Result<T, Error> {
    let runtime = runtime()?;
    let result = runtime.block_on(async {
        let connection = args
            .kube
            .connection(&stack.cluster, spec_context.as_deref())?;
        let cluster = Cluster::connect(&connection).await?;
        let proxy = proxy(&cluster, stack);
        f(&proxy).await
    });
    runtime.shutdown_background();
    result
}

fn proxy<'c>(cluster: &'c Cluster, stack: &Stack) -> PodProxy<'c> {
    PodProxy::new(
        cluster,
        &stack.vault.namespace,
        stack.vault.tls_secret.is_some(),
        stack.vault.distribution,
    )
}

/// Says once per run, before the first key share or token travels through the pod proxy,
/// what protects it there: the API server does not verify the pod's certificate on an
/// `https:` pod proxy (see the README).
fn proxy_note(proxy: &PodProxy<'_>, term: &Term) {
    static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if SAID.swap(true, std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    term.err(if proxy.https() {
        "note: key shares and tokens travel between the API server and the Vault pod over the pod proxy, whose TLS the API server does not verify (encrypted, but the pod is not authenticated)\n"
    } else {
        "note: key shares and tokens travel between the API server and the Vault pod over the pod proxy in clear text (vault.tls is off)\n"
    });
}

/// The token the vault CLI would use: `VAULT_TOKEN` (never a flag: argv is visible to all).
fn vault_token() -> Option<String> {
    std::env::var("VAULT_TOKEN")
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// The Vault pods, or an error when there are none.
async fn pods(proxy: &PodProxy<'_>, term: &Term) -> Result<Vec<VaultPod>, Error> {
    let (pods, impostors) = proxy.pods().await?;
    for i in &impostors {
        term.err(format!(
            "warning: pod {} wears Vault's labels but is {}: skipped (no share, token or request is sent to it)\n",
            i.name, i.why
        ));
    }
    if pods.is_empty() {
        return Err(Error::environment(format!(
            "no Vault server pods in namespace {} (labels {})",
            proxy.namespace(),
            vault_pods::pod_selector(proxy.distribution())
        ))
        .with_hint("has Flux installed the vault HelmRelease? (`kubectl vault verify`)"));
    }
    Ok(pods)
}

/// A proxy failure as the user's error, naming the pod.
fn pod_error(proxy: &PodProxy<'_>, pod: &str, e: ProxyError) -> Error {
    e.into_error(&format!("pod {pod}"), proxy.namespace(), proxy.server())
}

/// One pod's seal status; `Err(text)` when the API server could not reach the pod (a row of
/// the status), `Error` for what stops the run (forbidden, API server unreachable).
async fn seal_status(
    proxy: &PodProxy<'_>,
    pod: &str,
) -> Result<Result<vault_pods::SealStatus, SealUnknown>, Error> {
    match proxy
        .call(pod, Method::GET, "sys/seal-status", None, None)
        .await
    {
        Ok(r) if r.status == 200 => Ok(vault_pods::parse_seal_status(&r.body).map_err(Into::into)),
        Ok(r) => Ok(Err(SealUnknown::Refused {
            status: r.status,
            message: vault_pods::vault_errors(&r.body),
        })),
        Err(ProxyError::Pod(m)) => Ok(Err(SealUnknown::Unreachable(m))),
        Err(e) => Err(pod_error(proxy, pod, e)),
    }
}

/// The Vault pods (an error when there are none) and what each says: seal status, and the HA
/// role of the unsealed ones.
async fn observe(proxy: &PodProxy<'_>, term: &Term) -> Result<Vec<PodObservation>, Error> {
    let mut out = Vec::new();
    for pod in &pods(proxy, term).await? {
        if !pod.running() {
            out.push(PodObservation {
                pod: pod.clone(),
                seal: Err(SealUnknown::NotRunning(pod.phase.clone())),
                leader: None,
            });
            continue;
        }
        let seal = seal_status(proxy, &pod.name).await?;
        let leader = match &seal {
            Ok(s) if !s.sealed => match proxy
                .call(&pod.name, Method::GET, "sys/leader", None, None)
                .await
            {
                Ok(r) if r.status == 200 => vault_pods::parse_leader(&r.body).ok(),
                Ok(_) | Err(ProxyError::Pod(_)) => None,
                Err(e) => return Err(pod_error(proxy, &pod.name, e)),
            },
            _ => None,
        };
        out.push(PodObservation {
            pod: pod.clone(),
            seal,
            leader,
        });
    }
    Ok(out)
}

/// The raft configuration, read through the active pod with VAULT_TOKEN (None without a
/// token or an active pod; a refusal is said on stderr).
async fn raft_configuration(
    proxy: &PodProxy<'_>,
    observed: &[PodObservation],
    term: &Term,
) -> Result<Option<Vec<RaftServer>>, Error> {
    let Some(token) = vault_token() else {
        return Ok(None);
    };
    // Two pods claiming the leadership: the token goes to neither.
    let Ok(Some(active)) = vault_pods::the_active(observed) else {
        return Ok(None);
    };
    let pod = &active.pod.name;
    proxy_note(proxy, term);
    match proxy
        .call(
            pod,
            Method::GET,
            "sys/storage/raft/configuration",
            None,
            Some(&token),
        )
        .await
    {
        Ok(r) if r.status == 200 => Ok(vault_pods::parse_raft_configuration(&r.body).ok()),
        Ok(r) => {
            let msg = vault_pods::scrub(&vault_pods::vault_errors(&r.body), &[&token]);
            term.err(format!(
                "warning: cannot read the raft configuration with VAULT_TOKEN ({pod}: Vault answered {}: {msg}); raft voters unknown\n",
                r.status
            ));
            Ok(None)
        }
        Err(ProxyError::Pod(_)) => Ok(None),
        Err(e) => Err(pod_error(proxy, pod, e)),
    }
}

/// The full status: pods, their answers, the raft configuration.
async fn status_report(
    proxy: &PodProxy<'_>,
    term: &Term,
) -> Result<(Vec<PodObservation>, StatusReport), Error> {
    let observed = observe(proxy, term).await?;
    let raft = raft_configuration(proxy, &observed, term).await?;
    let report = vault_pods::status_report(proxy.namespace(), &observed, raft.as_deref());
    Ok((observed, report))
}

/// Prints the status (table or JSON) and returns its exit status.
fn print_status(report: &StatusReport, output: Output, term: &Term) -> Result<Exit, Error> {
    let text = match output {
        Output::Table => vault_pods::table(report),
        Output::Json => serde_json::to_string_pretty(report).expect("json") + "\n",
    };
    term.out(text)?;
    Ok(if report.ok {
        Exit::Ok
    } else {
        Exit::CheckFailed
    })
}
