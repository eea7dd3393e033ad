//! `kubectl vault init`: a commented starter spec.

use crate::error::Error;
use crate::term::Term;
use clap::Args;

/// The homelab example from the spec contract, shipped unchanged.
pub(crate) const EXAMPLE_SPEC: &str = include_str!("../../fixtures/example.yaml");

#[derive(Debug, Args)]
pub(crate) struct InitArgs {}

/// What `init` prints: a yaml-language-server modeline (editors then complete and check the
/// spec against its JSON Schema), then the example.
pub(crate) fn text() -> String {
    crate::core::spec::schema::modeline() + EXAMPLE_SPEC
}

pub(crate) fn run(_args: InitArgs, term: &Term) -> Result<(), Error> {
    term.out(text())
}
