//! Semantic checks that serde cannot express: names, durations, references, duplicates.
//!
//! All problems are collected (not just the first), each located at its field. Warnings
//! (legal but risky choices) are returned separately; `--strict` promotes them to errors.
//!
//! One file per section of the spec, each field checked in one place there; the rules they
//! share (name, path, URL and duration syntax, the accepted vocabularies) are in [`rules`].
//! Errors are shown sorted by their place in the file, warnings in the order found: the walk
//! below keeps that order.

mod apps;
mod audit;
mod backup;
mod cert_manager;
mod cloud;
mod consumers;
mod controllers;
mod csi;
mod gitops;
mod jwt;
mod monitoring;
mod openbao;
mod operator;
mod pki;
mod placement;
pub mod rules;
mod secrets;
mod vault;
mod vault_config;
mod vault_namespace;

use super::locate::LocationIndex;
use super::types::*;
use super::Diagnostic;
use rules::{Checker, API_VERSION, KIND};

#[derive(Debug, Default)]
pub struct Findings {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

/// The spec the model reads, each secret typed with its one source (parse, don't validate).
/// Run after [`check`]: a secret without exactly one source gets the same error here.
pub fn typed(spec: Spec, index: &LocationIndex) -> Result<ValidSpec, Findings> {
    spec.try_map_secrets(|ai, si, s| s.into_secret().map_err(|s| (ai, si, s)))
        .map_err(|failed| {
            let mut c = Checker::new(index);
            for (ai, si, s) in failed {
                secrets::not_one_source(
                    &mut c,
                    &format!("apps[{ai}].secrets[{si}]"),
                    &s.sources_written(),
                );
            }
            c.finish()
        })
}

/// Checks the whole spec. Errors make the spec unusable; warnings do not (unless `--strict`).
pub fn check(spec: &Spec, index: &LocationIndex) -> Findings {
    let mut c = Checker::new(index);
    document(&mut c, spec);
    gitops::check(&mut c, &spec.gitops);
    gitops::engine(&mut c, spec);
    vault::check(&mut c, &spec.vault);
    operator::check(&mut c, spec);
    // Where Vault runs: what a cluster without one needs to reach it and log in to it.
    placement::check(&mut c, spec);
    // Each app with its secrets and what its consumer can read.
    apps::check(&mut c, spec);
    // The warnings keep this order: how the operator trusts Vault's certificate, how many
    // nodes Vault's replicas need, where the audit log goes, then the lifetimes.
    operator::trust(&mut c, spec);
    vault::replicas(&mut c, &spec.vault);
    // After every secret's own checks and before the vaultConfig mounts' (reserved paths).
    vault_config::mounts(&mut c, spec);
    if let Some(vc) = &spec.vault_config {
        let home = spec.vault.distribution().home();
        vault_config::check(&mut c, vc, spec.vault.deploys(), home);
        cloud::check(&mut c, vc);
        pki::check(&mut c, vc, spec.operator.address.is_none());
    }
    secrets::lifetimes(&mut c, spec);
    // What the CSI apps' secrets cost at the driver's poll, derived from those lifetimes.
    csi::check(&mut c, spec);
    cert_manager::check(&mut c, spec);
    controllers::check(&mut c, spec);
    backup::check(&mut c, spec);
    openbao::check(&mut c, spec);
    jwt::check(&mut c, spec);
    vault_namespace::check(&mut c, spec.vault_namespace.as_deref());
    if let Some(m) = &spec.monitoring {
        monitoring::check(&mut c, m);
    }
    c.finish()
}

/// The document's own fields: what it is, and for which cluster.
fn document(c: &mut Checker, spec: &Spec) {
    if spec.api_version != API_VERSION {
        c.error(
            "apiVersion",
            format!("unsupported apiVersion `{}`", spec.api_version),
            format!("write `apiVersion: {API_VERSION}`"),
        );
    }
    c.not_null("apiVersion");
    if spec.kind != KIND {
        c.error(
            "kind",
            format!("unsupported kind `{}`", spec.kind),
            format!("write `kind: {KIND}`"),
        );
    }
    c.not_null("kind");
    c.dns_label("cluster", &spec.cluster, "cluster name");
    c.not_null("cluster");
}
