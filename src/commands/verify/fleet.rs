//! `verify` over several clusters of a fleet: each cluster checked in its own kubeconfig
//! context, in parallel (a bounded number of threads, each cluster with its own client and
//! the same lists as a single verify), merged into one report by [`fleet_report`].

use super::{
    argocd_cluster, check_against_vault, expected_revision, observe, unix_now, vault, watchdog,
    Output, VerifyArgs,
};
use crate::core::model::{FleetVault, Stack};
use crate::core::render::Templates;
use crate::core::vault::target as vault_target;
use crate::core::verify::fleet::{self as fleet_report, ClusterResult, Outcome};
use crate::core::verify::{self, ExpectedSpecs, Report};
use crate::edge::kube::{Cluster, Connection};
use crate::edge::vault::Vault;
use crate::error::{Error, Exit};
use crate::pipeline::Loaded;
use crate::term::Term;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most clusters checked at once: each takes a thread and a connection; more would only
/// queue on two cores and one network link.
const PARALLEL: usize = 8;

/// One cluster's run: its client (connected once, kept across `--wait` rounds), the CR specs
/// the tool generates for it, and its latest outcome.
struct Run<'a> {
    loaded: &'a Loaded,
    /// Which of the shared Vaults (`--vault`) the cluster's side is in.
    vault: usize,
    context: Option<String>,
    runtime: Option<tokio::runtime::Runtime>,
    cluster: Option<Cluster>,
    /// `--argocd-context`: the client of the central Argo CD's cluster.
    argocd: Option<Cluster>,
    expected: Option<ExpectedSpecs>,
    outcome: Option<Result<Report, Error>>,
    requests: usize,
}

/// What every cluster's check shares.
struct Shared<'a> {
    args: &'a VerifyArgs,
    templates: &'a Templates,
    revision: Option<String>,
    /// `--vault`: the fleet's one shared Vault, or each cluster's own.
    vaults: Vec<Vault>,
    deadline: Instant,
}

impl Run<'_> {
    /// Checked again: not checked yet, or (with `--wait`) checked and not synced. A cluster
    /// that could not be checked stays so, as a single verify stops at the first such error.
    fn pending(&self, wait: bool) -> bool {
        match &self.outcome {
            None => true,
            Some(Ok(report)) => wait && !report.ok,
            Some(Err(_)) => false,
        }
    }

    fn check(&mut self, shared: &Shared) {
        let result = self.check_once(shared);
        self.requests = self.cluster.as_ref().map_or(0, Cluster::requests)
            + self.argocd.as_ref().map_or(0, Cluster::requests);
        self.outcome = Some(result);
    }

    fn check_once(&mut self, shared: &Shared) -> Result<Report, Error> {
        let args = shared.args;
        let Run {
            loaded,
            context,
            runtime,
            cluster,
            argocd,
            expected,
            ..
        } = self;
        if runtime.is_none() {
            *runtime = Some(crate::commands::runtime()?);
        }
        let stack = &loaded.stack;
        let observed = runtime.as_ref().expect("built").block_on(async {
            if cluster.is_none() {
                *cluster = Some(
                    Cluster::connect(&Connection {
                        run_deadline: Some((shared.deadline, args.timeout)),
                        ..args.kube.connection_in(context.clone())
                    })
                    .await?,
                );
            }
            if argocd.is_none() {
                *argocd = argocd_cluster(args, stack, shared.deadline).await?;
            }
            observe(
                cluster.as_ref().expect("connected"),
                argocd.as_ref(),
                stack,
                args.namespace.as_deref(),
            )
            .await
        })?;
        if expected.is_none() {
            let rendered = crate::core::render::render(stack, &loaded.vault, shared.templates)?;
            *expected = Some(verify::expected_specs(&rendered));
        }
        let mut report = verify::report(
            stack,
            expected.as_ref().expect("rendered"),
            &observed,
            shared.revision.as_deref(),
            args.namespace.as_deref(),
            unix_now(),
        );
        if let Some(v) = shared.vaults.get(self.vault) {
            check_against_vault(v, stack, &observed, &mut report).map_err(|e| {
                // The shared Vault, not this cluster's: said as such.
                match (&stack.vault.fleet, e.exit()) {
                    (Some(FleetVault::Shared { .. }), Exit::Environment) => {
                        Error::environment(format!("the fleet's shared Vault: {e}"))
                    }
                    _ => e,
                }
            })?;
        }
        Ok(report)
    }

    fn result(&mut self) -> ClusterResult {
        let outcome = match self.outcome.take() {
            Some(Ok(report)) => Outcome::Checked {
                report,
                requests: self.requests,
            },
            Some(Err(e)) => Outcome::Failed {
                cause: e.to_string(),
                exit: e.exit(),
            },
            None => Outcome::Failed {
                cause: "not checked before --timeout ran out".into(),
                exit: Exit::Environment,
            },
        };
        ClusterResult {
            cluster: self.loaded.stack.cluster.clone(),
            context: self.context.clone(),
            outcome,
        }
    }

    /// The outcome so far, for the progress line.
    fn snapshot(&self) -> ClusterResult {
        let outcome = match &self.outcome {
            Some(Ok(report)) => Outcome::Checked {
                report: report.clone(),
                requests: self.requests,
            },
            Some(Err(e)) => Outcome::Failed {
                cause: e.to_string(),
                exit: e.exit(),
            },
            None => Outcome::Failed {
                cause: String::new(),
                exit: Exit::Environment,
            },
        };
        ClusterResult {
            cluster: self.loaded.stack.cluster.clone(),
            context: self.context.clone(),
            outcome,
        }
    }
}

/// Checks every cluster of `all` (each in its context), with `--wait` until all are synced
/// or `--timeout` passes, and prints one report.
pub(super) fn check(
    args: &VerifyArgs,
    all: &[Loaded],
    contexts: Vec<Option<String>>,
    templates: &Templates,
    term: &Term,
) -> Result<Exit, Error> {
    let deadline = Instant::now() + args.timeout;
    let mut vault_of = vec![0; all.len()];
    let mut vaults = Vec::new();
    if args.vault {
        let stacks: Vec<&Stack> = all.iter().map(|l| &l.stack).collect();
        let spec = args.spec.file.display().to_string();
        for (t, target) in vault_target::targets(&stacks, &spec)?.iter().enumerate() {
            for &i in &target.clusters {
                vault_of[i] = t;
            }
            vaults.extend(vault(
                args,
                target.address.as_deref(),
                target.namespace.as_deref(),
            )?);
        }
    }
    let shared = Shared {
        args,
        templates,
        revision: expected_revision(args)?,
        vaults,
        deadline,
    };
    watchdog(deadline, args.timeout, args.output.json());
    let mut runs: Vec<Run> = all
        .iter()
        .zip(contexts)
        .zip(vault_of)
        .map(|((loaded, context), vault)| Run {
            loaded,
            vault,
            context,
            runtime: None,
            cluster: None,
            argocd: None,
            expected: None,
            outcome: None,
            requests: 0,
        })
        .collect();
    let tty = term.err_is_terminal();
    loop {
        let pending: Vec<&mut Run> = runs.iter_mut().filter(|r| r.pending(args.wait)).collect();
        round(pending, &shared);
        let done = !runs.iter().any(|r| r.pending(true));
        if done || !args.wait || Instant::now() >= deadline {
            break;
        }
        let snapshot: Vec<ClusterResult> = runs.iter().map(Run::snapshot).collect();
        super::show_progress(&fleet_report::progress(&snapshot), tty, term);
        std::thread::sleep(
            Duration::from_secs(2).min(deadline.saturating_duration_since(Instant::now())),
        );
    }
    if args.wait && tty {
        term.err("\r\x1b[2K");
    }
    let results: Vec<ClusterResult> = runs.iter_mut().map(Run::result).collect();
    // Nothing may outlive the run: tasks still blocked (a plugin kube waits on) are left.
    for run in &mut runs {
        if let Some(rt) = run.runtime.take() {
            rt.shutdown_background();
        }
    }
    let text = match args.output.output {
        Output::Table => fleet_report::table(&results),
        Output::Json => {
            let mut v = fleet_report::json(&results);
            crate::core::outside::bound_json(&mut v);
            serde_json::to_string_pretty(&v).expect("json") + "\n"
        }
    };
    term.out(text)?;
    Ok(fleet_report::exit(&results))
}

/// Checks each run once, at most [`PARALLEL`] at a time.
fn round(runs: Vec<&mut Run>, shared: &Shared) {
    let workers = runs.len().min(PARALLEL);
    let queue = Mutex::new(runs.into_iter());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let next = queue.lock().expect("queue").next();
                match next {
                    Some(run) => run.check(shared),
                    None => break,
                }
            });
        }
    });
}
