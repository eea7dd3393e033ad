//! `kubectl vault operator status`: every Vault pod's seal state, HA role and raft role.

use super::ClusterArgs;
use crate::commands::verify::Output;
use crate::error::{Error, Exit};
use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    pub(crate) cluster: ClusterArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub(crate) output: Output,
}

pub(crate) fn run(args: StatusArgs) -> Result<Exit, Error> {
    let (stack, spec_context) = super::load(&args.cluster)?;
    super::with_proxy(&args.cluster, &stack, spec_context, async |proxy| {
        let (_, report) = super::status_report(proxy).await?;
        super::print_status(&report, args.output)
    })
}
