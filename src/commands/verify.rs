//! `kubectl vault verify`: prove in the cluster that every declared Secret is synced.

use crate::commands::args::{KubeArgs, Output, OutputArgs, SpecArgs};
use crate::commands::{parse_duration, runtime};
use crate::core::model::Stack;
use crate::core::verify::{self, Observed, Report};
use crate::edge::kube::{Cluster, Connection};
use crate::error::{Error, Exit};
use crate::pipeline;
use crate::term::Term;
use clap::Args;
use std::path::PathBuf;
use std::time::{Duration, Instant};

mod fleet;

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    pub(crate) spec: SpecArgs,
    #[command(flatten)]
    pub(crate) kube: KubeArgs,
    /// Only check apps in this namespace.
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub(crate) namespace: Option<String>,
    /// The commit Flux must have applied (a sha or its prefix).
    #[arg(long, value_name = "SHA", conflicts_with = "repo")]
    pub(crate) revision: Option<String>,
    /// Take the expected commit from the HEAD of this Git checkout.
    #[arg(long, value_name = "PATH")]
    pub(crate) repo: Option<PathBuf>,
    /// Re-check until everything is synced or --timeout passes.
    #[arg(long)]
    pub(crate) wait: bool,
    /// How long the whole run may take (e.g. 90s, 5m); with --wait, how long it waits.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub(crate) timeout: Duration,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    /// Also check against Vault (VAULT_ADDR, VAULT_TOKEN): each kv Secret holds the data Vault
    /// has (compared by hash), and each app's policy grants what its secrets need.
    #[arg(long)]
    pub(crate) vault: bool,
    /// With `gitops.engine: argocd`: read the Applications through this kubeconfig context
    /// (the cluster a central Argo CD runs in) instead of each cluster's own.
    #[arg(long, value_name = "NAME")]
    pub(crate) argocd_context: Option<String>,
}

pub(crate) fn run(args: VerifyArgs, term: &Term) -> Result<Exit, Error> {
    let options = args.spec.options();
    let templates = pipeline::templates(options.templates_dir.as_deref())?;
    let mut all = pipeline::load_all(&args.spec.file, options.strict, &options.clusters)?;
    for loaded in &all {
        term.warnings_summary(&loaded.warnings);
    }
    if let Some(ns) = &args.namespace {
        if !all
            .iter()
            .any(|l| l.stack.apps.iter().any(|a| &a.namespace == ns))
        {
            return Err(Error::usage(format!(
                "no app of the spec runs in namespace {ns}"
            )));
        }
    }
    let clusters: Vec<(&str, Option<&str>)> = all
        .iter()
        .map(|l| (l.stack.cluster.as_str(), l.context.as_deref()))
        .collect();
    let contexts = args.kube.contexts(&clusters)?;
    if all.len() > 1 {
        return fleet::check(&args, &all, contexts, &templates, term);
    }
    let loaded = all.remove(0);
    let context = contexts.into_iter().next().flatten();
    // What the tool would generate (for drift), rendered while the cluster is being read.
    std::thread::scope(|scope| {
        let expected = scope.spawn(|| {
            crate::core::render::render(&loaded.stack, &loaded.vault, &templates)
                .map(|rendered| verify::expected_specs(&rendered))
                .map_err(Error::from)
        });
        check(&args, &loaded.stack, context, term, || {
            expected.join().expect("the rendering thread panicked")
        })
    })
}

/// Reads the cluster (and Vault), reports, and with `--wait` repeats until all pass.
/// `expected` yields the generated CR specs, once, when the first report needs them.
fn check(
    args: &VerifyArgs,
    stack: &Stack,
    context: Option<String>,
    term: &Term,
    expected: impl FnOnce() -> Result<verify::ExpectedSpecs, Error>,
) -> Result<Exit, Error> {
    let revision = expected_revision(args)?;
    let vault = vault(
        args,
        stack.vault_config.address.as_deref(),
        stack.vault_namespace.as_deref(),
    )?;
    let runtime = runtime()?;
    let deadline = Instant::now() + args.timeout;
    watchdog(deadline, args.timeout, args.output.json());
    let result = runtime.block_on(async {
        let cluster = Cluster::connect(&Connection {
            run_deadline: Some((deadline, args.timeout)),
            ..args.kube.connection_in(context)
        })
        .await?;
        let argocd = argocd_cluster(args, stack, deadline).await?;
        let tty = term.err_is_terminal();
        let mut take_expected = Some(expected);
        let mut expected_specs = None;
        loop {
            let observed =
                observe(&cluster, argocd.as_ref(), stack, args.namespace.as_deref()).await?;
            if expected_specs.is_none() {
                expected_specs = Some(take_expected.take().expect("once")()?);
            }
            let expected = expected_specs.as_ref().expect("rendered");
            let now = unix_now();
            let mut report = verify::report(
                stack,
                expected,
                &observed,
                revision.as_deref(),
                args.namespace.as_deref(),
                now,
            );
            if let Some(v) = &vault {
                check_against_vault(v, stack, &observed, &mut report)?;
            }
            if report.ok || !args.wait || Instant::now() >= deadline {
                if args.wait && tty {
                    term.err("\r\x1b[2K");
                }
                let requests = cluster.requests() + argocd.as_ref().map_or(0, Cluster::requests);
                return finish(&report, args.output.output, requests, term);
            }
            progress(&report, tty, term);
            tokio::time::sleep(
                Duration::from_secs(2).min(deadline.saturating_duration_since(Instant::now())),
            )
            .await;
        }
    });
    // Nothing may outlive the run: tasks still blocked (a plugin kube waits on) are left.
    runtime.shutdown_background();
    result
}

/// The commit Flux must have applied: `--revision`, or the HEAD of `--repo`.
fn expected_revision(args: &VerifyArgs) -> Result<Option<String>, Error> {
    Ok(match (&args.revision, &args.repo) {
        (Some(r), _) => Some(r.clone()),
        (None, Some(repo)) => Some(crate::edge::git::head_of(repo)?),
        (None, None) => None,
    })
}

/// The Vault of `--vault` (the spec's `vaultConfig.address`, else VAULT_ADDR; VAULT_TOKEN),
/// in the spec's `vaultNamespace` (else VAULT_NAMESPACE's), as `configure` decides.
pub(crate) fn vault(
    args: &VerifyArgs,
    address: Option<&str>,
    namespace: Option<&str>,
) -> Result<Option<crate::edge::vault::Vault>, Error> {
    args.vault
        .then(|| {
            crate::edge::vault::Vault::at(address).map(|v| {
                let (ns, _) = crate::core::vault::target::namespace(namespace, v.namespace());
                v.in_namespace(ns)
            })
        })
        .transpose()
}

/// The current time for freshness checks (unix seconds).
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The last line of defence for `--timeout`: every wait is bounded on its own, but should
/// one still block past the deadline (plus a grace period for the report), the run ends
/// here with exit 3 rather than hang.
fn watchdog(deadline: Instant, timeout: Duration, json: bool) {
    const GRACE: Duration = Duration::from_secs(10);
    std::thread::spawn(move || {
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()) + GRACE);
        let e = Error::environment(format!(
            "verify did not finish within --timeout {timeout:?} (and {GRACE:?} more); stopped"
        ))
        .with_hint("raise --timeout, or check the cluster's responsiveness");
        // The watchdog's own terminal: the run's is busy (or blocked) on the other thread.
        Term::plain().fail(&e, json);
        std::process::exit(e.exit_code().into());
    });
}

fn progress(r: &Report, tty: bool, term: &Term) {
    let pending: Vec<String> = verify::pending(r)
        .into_iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let flux = r.flux.iter().filter(|f| !f.ok).count();
    let line = format!(
        "waiting: {}/{} synced{}{}",
        r.synced,
        r.total,
        if pending.is_empty() {
            String::new()
        } else {
            format!(", pending: {}", pending.join(", "))
        },
        if flux > 0 {
            format!(", {flux} {} check(s) not ready", r.engine)
        } else {
            String::new()
        }
    );
    show_progress(&line, tty, term);
}

/// A progress line on stderr: redrawn in place on a terminal, one line each otherwise.
fn show_progress(line: &str, tty: bool, term: &Term) {
    if tty {
        term.err(format!("\r\x1b[2K{line}"));
    } else {
        term.err(format!("{line}\n"));
    }
}

fn finish(report: &Report, output: Output, requests: usize, term: &Term) -> Result<Exit, Error> {
    let text = match output {
        Output::Table => verify::table(report),
        Output::Json => {
            let mut v = serde_json::to_value(report).expect("serializable");
            crate::core::outside::bound_json(&mut v);
            v["apiRequests"] = serde_json::json!(requests);
            serde_json::to_string_pretty(&v).expect("json") + "\n"
        }
    };
    term.out(text)?;
    Ok(if report.ok {
        Exit::Ok
    } else {
        Exit::CheckFailed
    })
}

/// Lists what the core asks for ([`verify::observe`]): one list per kind — a constant number
/// of requests, whatever the number of secrets. The kinds of a controller the cluster brings
/// are asked of discovery first: one the API server does not serve is named, not listed.
/// With `--argocd-context`, the Applications are listed there (a central Argo CD's cluster).
async fn observe(
    cluster: &Cluster,
    argocd: Option<&Cluster>,
    stack: &Stack,
    namespace: Option<&str>,
) -> Result<Observed, Error> {
    use crate::core::kinds::Kind;
    use verify::presence;
    let missing = cluster
        .not_served(&presence::required_kinds(stack, namespace))
        .await?;
    let mut rounds = presence::without_kinds(verify::observe(stack, namespace), &missing);
    let applications = match argocd {
        Some(a) => {
            let query = (rounds.iter().flatten())
                .find(|q| q.kind == Kind::Application)
                .cloned();
            rounds = presence::without_kinds(rounds, &[Kind::Application]);
            query.map(|q| (a, q))
        }
        None => None,
    };
    let mut observed = cluster.observe(&rounds).await?;
    if let Some((a, query)) = applications {
        observed.applications = a.observe(&[vec![query]]).await?.applications;
    }
    observed.not_served = missing;
    Ok(observed)
}

/// `--argocd-context`: the client of the cluster a central Argo CD runs in (`None` without
/// the flag, or with the Flux engine).
async fn argocd_cluster(
    args: &VerifyArgs,
    stack: &Stack,
    deadline: Instant,
) -> Result<Option<Cluster>, Error> {
    let argo = stack.flux.engine == crate::core::spec::GitopsEngine::Argocd;
    match (&args.argocd_context, argo) {
        (Some(context), true) => Ok(Some(
            Cluster::connect(&Connection {
                run_deadline: Some((deadline, args.timeout)),
                ..args.kube.connection_in(Some(context.clone()))
            })
            .await?,
        )),
        _ => Ok(None),
    }
}

/// `--vault`: policy capabilities per app (through a short-lived token holding only that
/// policy) and kv data hashes per synced kv secret.
fn check_against_vault(
    vault: &crate::edge::vault::Vault,
    stack: &Stack,
    observed: &Observed,
    report: &mut Report,
) -> Result<(), Error> {
    use crate::core::model::Source;
    use crate::core::verify::view::Named;
    let secrets: std::collections::HashMap<(&str, &str), &verify::view::Secret> =
        observed.secrets.iter().map(|s| (s.name_of(), s)).collect();
    let checked: std::collections::HashSet<String> =
        report.secrets.iter().map(|r| r.namespace.clone()).collect();
    for app in stack.apps.iter().filter(|a| checked.contains(&a.namespace)) {
        let grants: Vec<crate::core::model::Grant> =
            app.secrets.iter().map(|s| s.source.grant()).collect();
        let paths: Vec<String> = grants.iter().map(|g| g.path.clone()).collect();
        let created = vault.write("auth/token/create", &serde_json::json!({"policies": [app.policy], "no_default_policy": true, "ttl": "2m", "renewable": false}))?;
        let token = created["auth"]["client_token"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let caps = vault.capabilities(Some(&token), &paths);
        let _ = vault.write("auth/token/revoke", &serde_json::json!({"token": token}));
        let caps = caps?;
        for (s, g) in app.secrets.iter().zip(&grants) {
            let Some(row) = report
                .secrets
                .iter_mut()
                .find(|r| r.namespace == s.namespace && r.secret == s.name)
            else {
                continue;
            };
            let have = verify::granted(&caps, &g.path);
            if let Some((status, detail)) = verify::policy_verdict(&app.policy, g, &have) {
                (row.status, row.detail) = (status, detail);
                continue;
            }
            if !row.synced() {
                continue;
            }
            if let Source::Kv {
                mount,
                path,
                version,
            } = &s.source
            {
                let data = match version {
                    2 => vault
                        .read(&format!("{mount}/data/{path}"))?
                        .map(|d| d["data"].clone()),
                    _ => vault.read(&format!("{mount}/{path}"))?,
                };
                let Some(secret) = secrets.get(&(s.namespace.as_str(), s.name.as_str())) else {
                    continue;
                };
                (row.status, row.detail) =
                    verify::kv_verdict(&format!("{mount}/{path}"), data.as_ref(), secret);
            }
        }
    }
    verify::recount(report);
    Ok(())
}
