//! `kubectl vault configure`: plan and apply the Vault side derived from the spec.

use crate::commands::args::SpecArgs;
use crate::core::render;
use crate::core::vault::plan::{self as vault_plan, Action};
use crate::core::vault::target as vault_target;
use crate::edge::fs;
use crate::edge::vault::Vault;
use crate::error::Error;
use crate::pipeline::{self, Loaded};
use crate::term::Term;
use clap::Args;
use serde_json::json;

#[derive(Debug, Args)]
pub(crate) struct ConfigureArgs {
    #[command(flatten)]
    pub(crate) spec: SpecArgs,
    /// Print the plan (create / update / delete / already as wanted) and change nothing.
    #[arg(long, conflicts_with = "script")]
    pub(crate) dry_run: bool,
    /// Print the equivalent vault CLI commands instead, as one self-contained bash script
    /// (policies inline; passwords read from the environment or files at run time); needs no
    /// Vault. `kubectl vault configure --script | bash` applies it.
    #[arg(long)]
    pub(crate) script: bool,
    /// Also delete this cluster's secrets engines that the spec no longer declares, with all
    /// their data (policies and roles are always cleaned up).
    #[arg(long, conflicts_with = "script")]
    pub(crate) prune_mounts: bool,
    /// Send again what Vault cannot show back: every database admin password and cloud
    /// engine credential (rotated again where rotateRoot), the OIDC client secret and the
    /// token reviewer JWT.
    #[arg(long, conflicts_with = "script")]
    pub(crate) reset_connection: bool,
}

pub(crate) fn run(args: ConfigureArgs, term: &Term) -> Result<(), Error> {
    let templates = pipeline::templates(args.spec.templates.as_deref())?;
    if args.script {
        // One script per cluster: `vault-config/<cluster>/configure.sh`.
        let loaded = pipeline::load_one(&args.spec.file, args.spec.strict, &args.spec.cluster)?;
        term.warnings_summary(&loaded.warnings);
        let script = render::configure_script(&loaded.stack, &loaded.vault, &templates)
            .map_err(|e| Error::bug(format!("rendering the script: {e}")))?;
        term.out(format!("#!/usr/bin/env bash\n{script}"))?;
        return Ok(());
    }
    // Every cluster of a fleet (or those selected) goes into the Vault it uses: a fleet's one
    // shared Vault (one plan for all), or each cluster's own. All are planned, and any
    // conflict stops them all, before the first change.
    let all = pipeline::load_all(&args.spec.file, args.spec.strict, &args.spec.cluster)?;
    for loaded in &all {
        term.warnings_summary(&loaded.warnings);
    }
    let stacks: Vec<&crate::core::model::Stack> = all.iter().map(|l| &l.stack).collect();
    let targets = vault_target::targets(&stacks, &args.spec.file.display().to_string())?;
    let mut vaults = Vec::new();
    for target in &targets {
        let vault = Vault::at(target.address.as_deref())?;
        let (namespace, warning) =
            vault_target::namespace(target.namespace.as_deref(), vault.namespace());
        if let Some(w) = warning {
            term.err(format!("{w}\n"));
        }
        let vault = vault.in_namespace(namespace);
        vault.ping()?;
        vaults.push(vault);
    }
    // Plans in the clusters' order, each with the Vault it goes into.
    let mut plans = Vec::new();
    let mut vault_of = vec![0; all.len()];
    for (t, target) in targets.iter().enumerate() {
        let mut group = Vec::new();
        for &i in &target.clusters {
            vault_of[i] = t;
            group.push(plan_one(&all[i], &vaults[t], &args)?);
        }
        let clusters: Vec<String> = (target.clusters.iter())
            .map(|&i| all[i].stack.cluster.clone())
            .collect();
        vault_plan::one_plan(&mut group, &clusters);
        plans.extend(target.clusters.iter().copied().zip(group));
    }
    plans.sort_by_key(|(i, _)| *i);
    let plans: Vec<vault_plan::Plan> = plans.into_iter().map(|(_, p)| p).collect();
    for (t, (target, vault)) in targets.iter().zip(&vaults).enumerate() {
        let from = if target.address.is_some() {
            " (vaultConfig.address)"
        } else {
            ""
        };
        let ns = match vault.namespace() {
            Some(ns) => format!(", namespace {ns}"),
            None => String::new(),
        };
        term.outln(format!("Vault at {}{from}{ns}:", vault.addr()))?;
        for (i, (loaded, plan)) in all.iter().zip(&plans).enumerate() {
            if vault_of[i] != t {
                continue;
            }
            if all.len() > 1 {
                term.outln(format!("cluster {}:", loaded.stack.cluster))?;
            }
            term.out(vault_plan::describe(plan))?;
        }
    }
    let conflicts: usize = plans.iter().map(|p| p.conflicts.len()).sum();
    if conflicts > 0 {
        return Err(Error::check_failed(format!("{conflicts} conflict(s) with settings kubectl-vault did not create; nothing was applied")).with_hint("rename the spec's mount, policy or role, or remove the foreign one by hand"));
    }
    if plans.iter().all(|p| p.changes().next().is_none()) {
        term.outln("Vault is already configured as the spec says: nothing to do")?;
        return Ok(());
    }
    // Every secret the changes need is read before the first of them: a missing one stops
    // the run with nothing changed.
    let mut bodies = Vec::new();
    for step in plans.iter().flat_map(|p| p.changes()) {
        let mut body = step.body.clone();
        for s in &step.secrets {
            body[s.field.as_str()] = json!(fs::resolve_secret(&s.source, &s.what)?);
        }
        bodies.push(body);
    }
    if args.dry_run {
        term.outln("dry run: nothing was changed")?;
        return Ok(());
    }
    let mut applied: Vec<String> = Vec::new();
    let steps = (plans.iter().enumerate()).flat_map(|(i, p)| p.changes().map(move |s| (i, s)));
    for ((i, step), body) in steps.zip(bodies) {
        let vault = &vaults[vault_of[i]];
        let result = vault.filled(body, &step.fills).and_then(|body| {
            match (&step.action, &step.intermediate) {
                (Action::Delete, _) => vault.apply("DELETE", &step.path, None),
                (_, Some(then)) => vault.intermediate_ca(&step.path, &body, then),
                _ => vault.apply(step.method.as_str(), &step.path, Some(&body)),
            }
        });
        if let Err(failure) = result {
            let done = if applied.is_empty() {
                " nothing".to_string()
            } else {
                format!("\n  {}", applied.join("\n  "))
            };
            let at = if failure.may_have_applied {
                format!(
                    "no answer for: {}: it may have been applied (run `kubectl vault configure --dry-run` to see)",
                    step.what
                )
            } else {
                format!("failed at: {}", step.what)
            };
            let hint = vault_plan::failure_hint(&step.path, failure.error.message())
                .unwrap_or("fix the cause and run again: what is already as wanted is left alone");
            return Err(Error::environment(format!(
                "{}\n{at}\napplied before the failure:{done}",
                failure.error.message()
            ))
            .with_hint(hint));
        }
        let verb = match step.action {
            Action::Create => "created",
            Action::Delete => "deleted",
            _ => "updated",
        };
        term.outln(format!("{verb}  {}", step.what))?;
        applied.push(format!("{verb} {}", step.what));
    }
    term.outln(format!("applied {} change(s)", applied.len()))?;
    Ok(())
}

/// One cluster's plan against `vault`: what the planner needs is read, then planned from
/// that snapshot alone.
fn plan_one(
    loaded: &Loaded,
    vault: &Vault,
    args: &ConfigureArgs,
) -> Result<vault_plan::Plan, Error> {
    // Each cluster's own API server CA.
    let kubernetes_ca_cert = (loaded.vault.kubernetes_auth.ca_cert_from.as_deref())
        .and_then(|c| c.strip_prefix("file:"))
        .map(|ca| fs::read_bounded(ca, "vaultConfig.kubernetesAuth.caCertFrom"))
        .transpose()?;
    let options = vault_plan::Options {
        kubernetes_ca_cert,
        prune_mounts: args.prune_mounts,
        reset_connections: args.reset_connection,
    };
    let mut snapshot = vault_plan::Snapshot::default();
    loop {
        match vault_plan::plan(&loaded.vault, &snapshot, &options)? {
            vault_plan::Planned::Plan(plan) => return Ok(plan),
            vault_plan::Planned::Needs(queries) => vault.fill(&mut snapshot, queries)?,
        }
    }
}
