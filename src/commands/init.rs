//! `kubectl vault init`: a commented starter spec.

use crate::core;
use crate::error::Error;
use crate::term::Term;
use clap::{Args, ValueEnum};

/// The starter spec: the newest supported chart and operator versions, TLS through a
/// cert-manager issuer, one kv and one database secret; clean under `--strict` (a test proves
/// it), so the first run shows no warning the user did not cause.
pub(crate) const STARTER_SPEC: &str = include_str!("../../fixtures/starter.yaml");
/// The same starter with Argo CD as the GitOps engine (`init --engine argocd`).
pub(crate) const STARTER_SPEC_ARGOCD: &str = include_str!("../../fixtures/starter-argocd.yaml");

/// The starter for OpenBao: its chart, and an app that reads its secrets through ESO
/// (Apache-2.0) rather than VSO (BUSL-1.1); clean under `--strict` too.
pub(crate) const STARTER_SPEC_OPENBAO: &str = include_str!("../../fixtures/starter-openbao.yaml");

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The server the starter deploys: HashiCorp's Vault, or OpenBao (with ESO as the apps'
    /// consumer)
    #[arg(long, value_enum, default_value_t = Distribution::Vault)]
    distribution: Distribution,
    /// The GitOps engine the starter is for.
    #[arg(long, value_enum, default_value_t = Engine::Flux)]
    engine: Engine,
}

/// `vault.distribution`'s values, as the flag takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Distribution {
    Vault,
    Openbao,
}

impl From<Distribution> for core::model::Distribution {
    fn from(d: Distribution) -> Self {
        match d {
            Distribution::Vault => core::model::Distribution::Vault,
            Distribution::Openbao => core::model::Distribution::Openbao,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Engine {
    Flux,
    Argocd,
}

/// What `init` prints: a yaml-language-server modeline (editors then complete and check the
/// spec against its JSON Schema), then the starter spec.
pub(crate) fn text(distribution: core::model::Distribution) -> String {
    core::spec::schema::modeline()
        + match distribution {
            core::model::Distribution::Vault => STARTER_SPEC,
            core::model::Distribution::Openbao => STARTER_SPEC_OPENBAO,
        }
}

pub(crate) fn run(args: InitArgs, term: &Term) -> Result<(), Error> {
    match (args.engine, args.distribution) {
        (Engine::Flux, d) => term.out(text(d.into())),
        (Engine::Argocd, Distribution::Vault) => {
            term.out(core::spec::schema::modeline() + STARTER_SPEC_ARGOCD)
        }
        (Engine::Argocd, Distribution::Openbao) => Err(Error::usage(
            "there is no starter for OpenBao on Argo CD yet",
        )
        .with_hint(
            "run `kubectl vault init --distribution openbao` and replace its `gitops:` section with the one `kubectl vault init --engine argocd` prints (docs: Argo CD)",
        )),
    }
}
