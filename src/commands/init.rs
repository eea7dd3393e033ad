//! `kubectl vault init`: a commented starter spec.

use crate::error::Error;
use crate::term::Term;
use clap::Args;

/// The starter spec: the newest supported chart and operator versions, TLS through a
/// cert-manager issuer, one kv and one database secret; clean under `--strict` (a test proves
/// it), so the first run shows no warning the user did not cause.
pub(crate) const STARTER_SPEC: &str = include_str!("../../fixtures/starter.yaml");

#[derive(Debug, Args)]
pub(crate) struct InitArgs {}

/// What `init` prints: a yaml-language-server modeline (editors then complete and check the
/// spec against its JSON Schema), then the starter spec.
pub(crate) fn text() -> String {
    crate::core::spec::schema::modeline() + STARTER_SPEC
}

pub(crate) fn run(_args: InitArgs, term: &Term) -> Result<(), Error> {
    term.out(text())
}
