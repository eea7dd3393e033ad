//! `kubectl vault init`: a commented starter spec.

use crate::error::Error;
use crate::term::Term;
use clap::Args;

/// The starter spec: the newest supported chart and operator versions, TLS through a
/// cert-manager issuer, one kv and one database secret; clean under `--strict` (a test proves
/// it), so the first run shows no warning the user did not cause.
pub(crate) const STARTER_SPEC: &str = include_str!("../../fixtures/starter.yaml");
/// The same starter with Argo CD as the GitOps engine (`init --engine argocd`).
pub(crate) const STARTER_SPEC_ARGOCD: &str = include_str!("../../fixtures/starter-argocd.yaml");

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The GitOps engine the starter is for.
    #[arg(long, value_enum, default_value_t = Engine::Flux)]
    engine: Engine,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Engine {
    Flux,
    Argocd,
}

/// What `init` prints: a yaml-language-server modeline (editors then complete and check the
/// spec against its JSON Schema), then the starter spec.
pub(crate) fn text() -> String {
    crate::core::spec::schema::modeline() + STARTER_SPEC
}

pub(crate) fn run(args: InitArgs, term: &Term) -> Result<(), Error> {
    match args.engine {
        Engine::Flux => term.out(text()),
        Engine::Argocd => term.out(crate::core::spec::schema::modeline() + STARTER_SPEC_ARGOCD),
    }
}
