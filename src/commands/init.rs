//! `kubectl vault init`: a commented starter spec.

use crate::error::Error;
use clap::Args;
use std::io::Write;

/// The homelab example from the spec contract, shipped unchanged.
pub const EXAMPLE_SPEC: &str = include_str!("../../fixtures/example.yaml");

#[derive(Debug, Args)]
pub struct InitArgs {}

pub fn run(_args: InitArgs) -> Result<(), Error> {
    std::io::stdout()
        .write_all(EXAMPLE_SPEC.as_bytes())
        .map_err(|e| Error::environment_from(format!("cannot write to stdout: {e}"), e))
}
