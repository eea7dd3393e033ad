//! `kubectl vault configure`: plan and apply the Vault side derived from the spec.

use crate::cli::SpecArgs;
use crate::error::Error;
use crate::pipeline;
use crate::render;
use crate::vault_api::Vault;
use crate::vault_plan::{self, Action};
use clap::Args;
use serde_json::json;

#[derive(Debug, Args)]
pub struct ConfigureArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Print the plan (create / update / already as wanted) and change nothing.
    #[arg(long, conflicts_with = "script")]
    pub dry_run: bool,
    /// Print the equivalent vault CLI commands instead (passwords referenced from the
    /// environment); needs no Vault.
    #[arg(long)]
    pub script: bool,
}

pub fn run(args: ConfigureArgs) -> Result<(), Error> {
    let templates = pipeline::templates(args.spec.templates.as_deref())?;
    let loaded = pipeline::load(&args.spec.file, args.spec.strict)?;
    eprint!("{}", loaded.warnings);
    if args.script {
        let script = render::configure_script(&loaded.stack, &loaded.vault, &templates)
            .map_err(|e| Error::bug(format!("rendering the script: {e}")))?;
        print!("#!/usr/bin/env bash\n{script}");
        return Ok(());
    }
    let vault = Vault::from_env()?;
    vault.ping()?;
    let plan = vault_plan::plan(&loaded.vault, &vault)?;
    println!("Vault at {}:", vault.addr());
    print!("{}", vault_plan::describe(&plan));
    if !plan.conflicts.is_empty() {
        return Err(Error::check_failed(format!(
            "{} conflict(s) with settings kubectl-vault did not create; nothing was applied\nhint: rename the spec's mount, policy or role, or remove the foreign one by hand",
            plan.conflicts.len()
        )));
    }
    if plan.changes().next().is_none() {
        println!("Vault is already configured as the spec says: nothing to do");
        return Ok(());
    }
    if args.dry_run {
        println!("dry run: nothing was changed");
        return Ok(());
    }
    let mut applied: Vec<String> = Vec::new();
    for step in plan.changes() {
        let mut body = step.body.clone();
        if let Some(from) = &step.password_from {
            body["password"] = json!(resolve_password(from)?);
        }
        if let Err(e) = vault.write(&step.path, &body) {
            let done = if applied.is_empty() {
                "nothing".to_string()
            } else {
                format!("\n  {}", applied.join("\n  "))
            };
            return Err(Error::environment(format!(
                "{e}\nfailed at: {}\napplied before the failure: {done}",
                step.what
            )));
        }
        let verb = if step.action == Action::Create {
            "created"
        } else {
            "updated"
        };
        println!("{verb}  {}", step.what);
        applied.push(step.what.clone());
    }
    println!("applied {} change(s)", applied.len());
    Ok(())
}

/// Reads `env:NAME` or `file:PATH` — only here, only at apply time; the value is never printed.
fn resolve_password(from: &str) -> Result<String, Error> {
    match from.split_once(':') {
        Some(("env", name)) => std::env::var(name).map_err(|_| {
            Error::usage(format!("passwordFrom {from}: the environment variable {name} is not set\nhint: export {name}=… before running configure"))
        }),
        Some(("file", path)) => std::fs::read_to_string(path)
            .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
            .map_err(|e| Error::usage(format!("passwordFrom {from}: {e}"))),
        _ => Err(Error::usage(format!("passwordFrom must be env:NAME or file:PATH, not `{from}`"))),
    }
}
