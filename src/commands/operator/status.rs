//! `kubectl vault operator status`: every Vault pod's seal state, HA role and raft role.

use super::ClusterArgs;
use crate::commands::args::OutputArgs;
use crate::error::{Error, Exit};
use crate::term::Term;
use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    pub(crate) cluster: ClusterArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

pub(crate) fn run(args: StatusArgs, term: &Term) -> Result<Exit, Error> {
    let (stack, spec_context) = super::load(&args.cluster, term)?;
    super::with_proxy(&args.cluster, &stack, spec_context, async |proxy| {
        let (_, report) = super::status_report(proxy, term).await?;
        super::print_status(&report, args.output.output, term)
    })
}
