//! The flags several commands share, declared once and flattened into each command's
//! arguments (`#[command(flatten)]`): the spec, the cluster connection, the output format.

use crate::commands::parse_duration;
use crate::core::verify::fleet as fleet_report;
use crate::edge::kube::Connection;
use crate::error::Error;
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

/// Flags every spec-reading command shares.
#[derive(Debug, Clone, Args)]
pub(crate) struct SpecArgs {
    /// The spec file (apiVersion: kubectl-vault/v1alpha1, kind: VaultStack).
    #[arg(
        short = 'f',
        long = "file",
        value_name = "SPEC",
        default_value = "vault.yaml"
    )]
    pub(crate) file: PathBuf,
    /// Treat warnings (TLS off, skipTLSVerify, an even raft replica count, refreshAfter under
    /// 5s, ...) as errors.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Override templates from this folder (same relative names as the built-in ones, e.g.
    /// vso/vaultauth.yaml.j2); templates not found there stay built in.
    #[arg(long, value_name = "DIR")]
    pub(crate) templates: Option<PathBuf>,
    /// With a fleet spec (kind: VaultFleet): only this cluster (repeat for several).
    /// Without it, `generate`, `commit`, `configure` and `verify` take every cluster;
    /// `configure --script` works on one cluster and needs it.
    #[arg(long, value_name = "NAME")]
    pub(crate) cluster: Vec<String>,
}

impl SpecArgs {
    pub(crate) fn options(&self) -> crate::pipeline::Options {
        crate::pipeline::Options {
            strict: self.strict,
            templates_dir: self.templates.clone(),
            clusters: self.cluster.clone(),
        }
    }
}

/// How to reach the cluster: kubectl's flags, with the same meaning for every command.
#[derive(Debug, Clone, Args)]
pub(crate) struct KubeArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, which may list several files, then
    /// ~/.kube/config).
    #[arg(long, value_name = "PATH")]
    pub(crate) kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: the spec's `context` for the cluster, else the
    /// current context). With a fleet, `CLUSTER=NAME` for each cluster (repeat the flag).
    #[arg(long, value_name = "[CLUSTER=]NAME")]
    pub(crate) context: Vec<String>,
    /// How long one API request may take, retries included (e.g. 30s).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub(crate) request_timeout: Duration,
}

impl KubeArgs {
    /// The context of each cluster, in `clusters`' order (`(cluster, the spec's context)`):
    /// `--context CLUSTER=NAME`, a bare `--context NAME` (one cluster only), the spec's, else
    /// the current context (`None`). A bad combination is a usage error.
    pub(crate) fn contexts(
        &self,
        clusters: &[(&str, Option<&str>)],
    ) -> Result<Vec<Option<String>>, Error> {
        Ok(fleet_report::contexts(clusters, &self.context)?)
    }

    /// The connection to one cluster's API server.
    pub(crate) fn connection(
        &self,
        cluster: &str,
        spec_context: Option<&str>,
    ) -> Result<Connection, Error> {
        let context = self.contexts(&[(cluster, spec_context)])?.remove(0);
        Ok(self.connection_in(context))
    }

    /// The connection through a context already chosen.
    pub(crate) fn connection_in(&self, context: Option<String>) -> Connection {
        Connection {
            kubeconfig: self.kubeconfig.clone(),
            context,
            request_timeout: self.request_timeout,
            run_deadline: None,
        }
    }
}

/// The output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    Table,
    Json,
}

/// `-o/--output`: a table for people, or JSON for scripts. Asked for JSON, a failure is a
/// JSON error object on stdout too (printed once, at the exit boundary: `cli::main`).
#[derive(Debug, Clone, Args)]
pub(crate) struct OutputArgs {
    /// Output format (json: for scripts; a failure is then a JSON error object on stdout too).
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub(crate) output: Output,
}

impl OutputArgs {
    pub(crate) fn json(&self) -> bool {
        self.output == Output::Json
    }
}
