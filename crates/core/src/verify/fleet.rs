//! The pure half of fleet `verify`: which kubeconfig context each cluster is checked in, and
//! the clusters' reports (or why a cluster could not be checked) merged into one table, one
//! summary line, one JSON document and one exit status.

use super::report::{columns, flux_line, pending, secret_cells, SECRET_HEADERS};
use super::Report;
use crate::error::Exit;
use serde_json::{json, Value};

/// One cluster's part of the run.
#[derive(Debug)]
pub struct ClusterResult {
    pub cluster: String,
    /// The kubeconfig context it was checked in (`None`: the current context).
    pub context: Option<String>,
    pub outcome: Outcome,
}

#[derive(Debug)]
pub enum Outcome {
    /// The cluster answered: its report, and the API requests it took.
    Checked { report: Report, requests: usize },
    /// The cluster could not be checked (unreachable, forbidden, no such context): the
    /// cause as the single-cluster verify says it, and the exit status it earns.
    Failed { cause: String, exit: Exit },
}

impl ClusterResult {
    fn report(&self) -> Option<&Report> {
        match &self.outcome {
            Outcome::Checked { report, .. } => Some(report),
            Outcome::Failed { .. } => None,
        }
    }
}

/// Why the clusters' contexts cannot be chosen (the flags' or the spec's fault: a usage
/// error): what is wrong, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextError {
    pub message: String,
    pub hint: Option<String>,
}

impl ContextError {
    fn new(message: String) -> Self {
        ContextError {
            message,
            hint: None,
        }
    }
    fn hint(mut self, hint: String) -> Self {
        self.hint = Some(hint);
        self
    }
}

impl std::fmt::Display for ContextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        match &self.hint {
            Some(hint) => write!(f, "\nhint: {hint}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for ContextError {}

impl From<ContextError> for crate::error::Error {
    fn from(e: ContextError) -> Self {
        let error = crate::error::Error::usage(e.message);
        match e.hint {
            Some(hint) => error.with_hint(hint),
            None => error,
        }
    }
}

/// The kubeconfig context of each cluster, in `clusters`' order: `--context CLUSTER=NAME`
/// first, then a bare `--context NAME` (only when one cluster is checked), then the spec's
/// `context`, else the current context (`None`). A value whose part before the first `=` is
/// not a checked cluster is a bare context name (names may hold `=`). Several clusters may
/// not end up in one context: each would be checked against the other's objects.
pub fn contexts(
    clusters: &[(&str, Option<&str>)],
    flags: &[String],
) -> Result<Vec<Option<String>>, ContextError> {
    let names: Vec<&str> = clusters.iter().map(|(n, _)| *n).collect();
    let mut mapped: Vec<Option<String>> = vec![None; clusters.len()];
    let mut bare: Vec<&str> = vec![];
    for flag in flags {
        match flag
            .split_once('=')
            .and_then(|(c, ctx)| Some((names.iter().position(|n| *n == c)?, ctx)))
        {
            Some((i, ctx)) => {
                if let Some(first) = &mapped[i] {
                    return Err(ContextError::new(format!(
                        "--context {flag}: cluster {} already has --context {}={first}",
                        names[i], names[i]
                    )));
                }
                mapped[i] = Some(ctx.to_string());
            }
            None => bare.push(flag),
        }
    }
    let bare = match (&bare[..], clusters.len()) {
        ([], _) => None,
        ([one], 1) => Some(one.to_string()),
        ([one], _) => {
            return Err(ContextError::new(format!(
                "--context {one}: {} clusters are checked ({}): name the cluster of each context",
                names.len(),
                names.join(", "),
            ))
            .hint(format!(
                "--context CLUSTER=CONTEXT, e.g. --context {}={one}",
                names[0]
            )))
        }
        (several, _) => {
            return Err(ContextError::new(format!(
                "--context given {} times without a cluster ({}): name the cluster of each context",
                several.len(),
                several.join(", "),
            ))
            .hint(format!(
                "--context CLUSTER=CONTEXT (clusters: {})",
                names.join(", ")
            )))
        }
    };
    let chosen: Vec<Option<String>> = clusters
        .iter()
        .zip(mapped)
        .map(|((_, spec), flag)| flag.or(bare.clone()).or(spec.map(str::to_string)))
        .collect();
    for ctx in chosen.iter().flatten() {
        if let Some(problem) = crate::fleet::context_problem(ctx) {
            return Err(ContextError::new(format!(
                "--context: the context name `{ctx}` {problem}"
            )));
        }
    }
    if clusters.len() > 1 {
        for (i, a) in chosen.iter().enumerate() {
            if let Some(j) = chosen[..i].iter().position(|b| b == a) {
                let place = match a {
                    Some(c) => format!("the context {c}"),
                    None => {
                        "the current context (neither the spec nor --context names one)".to_string()
                    }
                };
                return Err(ContextError::new(format!(
                    "clusters {} and {} would both be checked in {place}",
                    names[j], names[i]
                ))
                .hint("give each cluster its own `context:` in the fleet spec, or pass --context CLUSTER=CONTEXT for each".into()));
            }
        }
    }
    Ok(chosen)
}

/// The run's exit status: a bug (70) or a usage error (2, e.g. a context the kubeconfig
/// lacks) before an unreachable or forbidden cluster (3), before a failed check (1), else 0.
pub fn exit(results: &[ClusterResult]) -> Exit {
    let rank = |e: Exit| match e {
        Exit::Bug => 4,
        Exit::Usage => 3,
        Exit::Environment => 2,
        Exit::CheckFailed => 1,
        Exit::Ok => 0,
    };
    results
        .iter()
        .map(|r| match &r.outcome {
            Outcome::Checked { report, .. } if report.ok => Exit::Ok,
            Outcome::Checked { .. } => Exit::CheckFailed,
            Outcome::Failed { exit, .. } => *exit,
        })
        .max_by_key(|e| rank(*e))
        .unwrap_or(Exit::Ok)
}

/// One table for every cluster: the Flux checks (and clusters that could not be checked) with
/// their cluster, then the secrets with a CLUSTER column, then one summary line.
pub fn table(results: &[ClusterResult]) -> String {
    let cw = results
        .iter()
        .map(|r| r.cluster.len())
        .max()
        .unwrap_or(0)
        .max("CLUSTER".len());
    let mut out = String::new();
    for r in results {
        match &r.outcome {
            Outcome::Checked { report, .. } => {
                for f in &report.flux {
                    out.push_str(&flux_line(f, &format!("{:<cw$}  ", r.cluster)));
                }
            }
            Outcome::Failed { cause, .. } => {
                let mut lines = cause.lines().take(20);
                out.push_str(&format!(
                    "FAIL {:<cw$}  not checked: {}\n",
                    r.cluster,
                    crate::outside::shown(lines.next().unwrap_or_default())
                ));
                for more in lines {
                    out.push_str(&format!(
                        "     {:<cw$}  {}\n",
                        "",
                        crate::outside::shown(more)
                    ));
                }
            }
        }
    }
    out.push('\n');
    let headers: Vec<&str> = std::iter::once("CLUSTER").chain(SECRET_HEADERS).collect();
    let rows: Vec<Vec<String>> = results
        .iter()
        .filter_map(|r| Some((r, r.report()?)))
        .flat_map(|(r, report)| {
            report.secrets.iter().map(|s| {
                std::iter::once(r.cluster.clone())
                    .chain(secret_cells(s))
                    .collect()
            })
        })
        .collect();
    out.push_str(&columns(&headers, &rows));
    out.push('\n');
    out.push_str(&summary(results));
    out.push('\n');
    out
}

/// One line: each cluster's count (or why it was not checked), then the total.
pub fn summary(results: &[ClusterResult]) -> String {
    let per: Vec<String> = results
        .iter()
        .map(|r| match &r.outcome {
            Outcome::Checked { report, .. } => {
                let flux = report.flux.iter().filter(|f| !f.ok).count();
                format!(
                    "{} {}/{} synced{}",
                    r.cluster,
                    report.synced,
                    report.total,
                    if flux > 0 {
                        format!(" ({flux} {} check(s) failing)", report.engine)
                    } else {
                        String::new()
                    }
                )
            }
            Outcome::Failed { exit, .. } => format!(
                "{} {}",
                r.cluster,
                if *exit == Exit::Environment {
                    "unreachable"
                } else {
                    "not checked"
                }
            ),
        })
        .collect();
    let (synced, total) = totals(results);
    let unchecked = results.iter().filter(|r| r.report().is_none()).count();
    let ok = exit(results) == Exit::Ok;
    format!(
        "{}; total {synced}/{total} secrets synced{}; {}",
        per.join(", "),
        match unchecked {
            0 => String::new(),
            1 => ", 1 cluster not checked".to_string(),
            n => format!(", {n} clusters not checked"),
        },
        if ok { "all good" } else { "NOT SYNCED" }
    )
}

fn totals(results: &[ClusterResult]) -> (usize, usize) {
    results
        .iter()
        .filter_map(ClusterResult::report)
        .fold((0, 0), |(s, t), r| (s + r.synced, t + r.total))
}

/// The JSON document: per cluster its counts (or its error), every Flux check and secret row
/// with its cluster, and the totals.
pub fn json(results: &[ClusterResult]) -> Value {
    let with_cluster = |cluster: &str, row: Value| {
        let mut m = serde_json::Map::new();
        m.insert("cluster".into(), cluster.into());
        if let Value::Object(fields) = row {
            m.extend(fields);
        }
        Value::Object(m)
    };
    let mut clusters = vec![];
    let mut flux = vec![];
    let mut secrets = vec![];
    for r in results {
        match &r.outcome {
            Outcome::Checked { report, requests } => {
                clusters.push(json!({
                    "cluster": r.cluster,
                    "context": r.context,
                    "ok": report.ok,
                    "revision": report.revision,
                    "synced": report.synced,
                    "total": report.total,
                    "apiRequests": requests,
                }));
                for f in &report.flux {
                    flux.push(with_cluster(&r.cluster, json!(f)));
                }
                for s in &report.secrets {
                    secrets.push(with_cluster(&r.cluster, json!(s)));
                }
            }
            Outcome::Failed { cause, exit } => clusters.push(json!({
                "cluster": r.cluster,
                "context": r.context,
                "ok": false,
                "error": cause,
                "exitCode": exit.code(),
            })),
        }
    }
    let (synced, total) = totals(results);
    json!({
        "clusters": clusters,
        "flux": flux,
        "secrets": secrets,
        "synced": synced,
        "total": total,
        "ok": exit(results) == Exit::Ok,
    })
}

/// The `--wait` progress line: each cluster's count, or that it is done or not checked.
pub fn progress(results: &[ClusterResult]) -> String {
    let per: Vec<String> = results
        .iter()
        .map(|r| match &r.outcome {
            Outcome::Checked { report, .. } => {
                let pending: Vec<String> = pending(report)
                    .into_iter()
                    .map(|(s, n)| format!("{n} {s}"))
                    .collect();
                let flux = report.flux.iter().filter(|f| !f.ok).count();
                let mut line = format!("{} {}/{}", r.cluster, report.synced, report.total);
                if !pending.is_empty() || flux > 0 {
                    let mut why = pending;
                    if flux > 0 {
                        why.push(format!("{flux} Flux"));
                    }
                    line.push_str(&format!(" ({})", why.join(", ")));
                }
                line
            }
            Outcome::Failed { .. } => format!("{} not checked", r.cluster),
        })
        .collect();
    format!("waiting: {}", per.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn contexts_come_from_flags_then_the_spec_and_never_collide() {
        let two = [("staging", Some("kind-staging")), ("production", None)];
        assert_eq!(
            contexts(&two, &flags(&["production=prod"])).unwrap(),
            [Some("kind-staging".into()), Some("prod".into())]
        );
        assert_eq!(
            contexts(&two, &flags(&["staging=a=b", "production=p"])).unwrap(),
            [Some("a=b".into()), Some("p".into())]
        );
        // production in the current context, staging in its own: fine.
        assert_eq!(
            contexts(&two, &[]).unwrap(),
            [Some("kind-staging".into()), None]
        );
        // A bare context with several clusters is ambiguous.
        let e = contexts(&two, &flags(&["prod"])).unwrap_err().to_string();
        assert!(e.contains("--context CLUSTER=CONTEXT"), "{e}");
        // Two clusters in one context.
        let e = contexts(&two, &flags(&["production=kind-staging"]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "clusters staging and production would both be checked in the context kind-staging"
            ),
            "{e}"
        );
        let none = [("staging", None), ("production", None)];
        let e = contexts(&none, &[]).unwrap_err().to_string();
        assert!(e.contains("the current context"), "{e}");
        let e = contexts(&two, &flags(&["production=a", "production=b"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("already has --context production=a"), "{e}");
        // One cluster: a bare value is its context, `=` included.
        let one = [("homelab", None)];
        assert_eq!(
            contexts(&one, &flags(&["x=y"])).unwrap(),
            [Some("x=y".into())]
        );
        assert_eq!(
            contexts(&one, &flags(&["homelab=y"])).unwrap(),
            [Some("y".into())]
        );
        assert!(contexts(&one, &flags(&["homelab="])).is_err());
    }

    #[test]
    fn the_exit_status_ranks_environment_over_failed_checks() {
        let report = |ok| Report {
            cluster: "a".into(),
            revision: None,
            flux: vec![],
            secrets: vec![],
            synced: 0,
            total: 0,
            ok,
            engine: "Flux",
        };
        let checked = |ok| ClusterResult {
            cluster: "a".into(),
            context: None,
            outcome: Outcome::Checked {
                report: report(ok),
                requests: 10,
            },
        };
        let failed = ClusterResult {
            cluster: "b".into(),
            context: None,
            outcome: Outcome::Failed {
                cause: "unreachable".into(),
                exit: Exit::Environment,
            },
        };
        assert_eq!(exit(&[checked(true), checked(true)]), Exit::Ok);
        assert_eq!(exit(&[checked(true), checked(false)]), Exit::CheckFailed);
        assert_eq!(exit(&[checked(false), failed]), Exit::Environment);
    }
}
