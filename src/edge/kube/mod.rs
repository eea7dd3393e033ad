//! The Kubernetes edge of `verify`: a client built the way kubectl builds one, and lists of
//! whole kinds (one request per kind, paginated), retried on 429/5xx/timeouts within a deadline.
//!
//! Every wait is bounded: each request (retries included) by `--request-timeout`, the whole
//! run by `--timeout`, a list by [`MAX_PAGES`] pages and [`MAX_OBJECTS`] objects, a page by
//! [`MAX_PAGE_BYTES`], and a kubeconfig exec credential plugin by `--request-timeout` (it
//! runs under [`run_exec_credential`], which stops it when that time is up).
//!
//! - this module: how to reach the cluster ([`Connection`]) and the connected [`Cluster`];
//! - `config`: the kubeconfig files, the context, the client and its TLS verifier;
//! - `exec`: kubeconfig exec credential plugins, bounded in time;
//! - `list`: lists of whole kinds, paginated and capped, and a Secret by name;
//! - `request`: one request within its deadlines, its retries, and what a failure means.

mod config;
mod exec;
mod list;
mod request;

pub(crate) use crate::core::kinds::Kind;
use crate::error::Error;
use config::{build_client, kubeconfig_from_env, read_kubeconfig, unknown_context};
use exec::bound_exec_plugins;
pub(crate) use exec::run_exec_credential;
use kube::config::KubeConfigOptions;
use kube::{Client, Config};
pub(crate) use request::{is_tls_rejection, read_body, status_text, with_causes};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Objects per list page: large, so that the number of requests stays one per kind for all
/// but the largest clusters (the API server streams lists; 5,000 is well within its limits).
const PAGE_SIZE: u32 = 5000;
/// Most pages one list may take: 100 pages of 5,000 are 500,000 objects of one kind. A
/// server that keeps sending `continue` tokens is stopped here.
pub const MAX_PAGES: usize = 100;
/// Most objects one list may return (all pages, and all namespaces of a fallback).
pub(crate) const MAX_OBJECTS: usize = 250_000;
/// Largest response body read for one page.
pub(crate) const MAX_PAGE_BYTES: usize = 256 * 1024 * 1024;
/// Largest output a kubeconfig exec credential plugin may print.
pub(crate) const MAX_CREDENTIAL_BYTES: u64 = 1024 * 1024;
/// Largest kubeconfig file read.
pub(crate) const MAX_KUBECONFIG_BYTES: u64 = 16 * 1024 * 1024;
/// The hidden subcommand that runs an exec credential plugin with a time limit.
pub(crate) const EXEC_CREDENTIAL_COMMAND: &str = "__exec-credential";

/// How to reach the cluster, with kubectl's flags.
#[derive(Debug, Clone, Default)]
pub(crate) struct Connection {
    pub(crate) kubeconfig: Option<PathBuf>,
    pub(crate) context: Option<String>,
    pub(crate) request_timeout: Duration,
    /// When the whole run must end (`--timeout`), and that flag's value for messages.
    pub(crate) run_deadline: Option<(Instant, Duration)>,
}

/// A client plus the request budget.
pub(crate) struct Cluster {
    client: Client,
    timeout: Duration,
    run_deadline: Option<(Instant, Duration)>,
    requests: Arc<AtomicUsize>,
    pub(crate) server: String,
}
pub(crate) use crate::core::verify::observe::Scope;

impl Cluster {
    pub(crate) async fn connect(c: &Connection) -> Result<Cluster, Error> {
        let mut kubeconfig = match &c.kubeconfig {
            Some(p) => read_kubeconfig(p)
                .map_err(|e| Error::usage(format!("--kubeconfig {}: {e}", p.display())))?,
            None => kubeconfig_from_env()?,
        };
        bound_exec_plugins(&mut kubeconfig, c.request_timeout);
        if let Some(wanted) = &c.context {
            let names: Vec<&str> = kubeconfig
                .contexts
                .iter()
                .map(|n| n.name.as_str())
                .collect();
            if !names.contains(&wanted.as_str()) {
                return Err(unknown_context(wanted, &names));
            }
        }
        let options = KubeConfigOptions {
            context: c.context.clone(),
            cluster: None,
            user: None,
        };
        let mut config = Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| {
                use kube::config::KubeconfigError as K;
                // A context that is not there is the user's choice (--context); the rest is
                // the environment's kubeconfig.
                match e {
                    K::CurrentContextNotSet | K::LoadContext(_) | K::LoadClusterOfContext(_) => {
                        Error::usage(format!("kubeconfig: {e}"))
                    }
                    other => Error::environment(format!(
                        "kubeconfig: {}",
                        config::credential_file_error(&other.to_string())
                    )),
                }
            })?;
        config.connect_timeout = Some(c.request_timeout);
        config.read_timeout = Some(c.request_timeout);
        config.write_timeout = Some(c.request_timeout);
        // One retry mechanism: ours, in `Cluster::with_retries`. kube-client's default
        // RetryPolicy (429/503/504 with its own backoff) knows neither --request-timeout nor
        // --timeout, so it waited past the run's deadline; it would also hide the last answer
        // (throttled? unavailable?) and send requests `apiRequests` does not count. Ours is
        // bounded by both deadlines, honours Retry-After, and counts every attempt it sends.
        config.default_retry = false;
        let server = config.cluster_url.to_string();
        let client = build_client(config).map_err(|e| match e {
            kube::Error::Auth(kube::client::AuthError::AuthExecRun { out, .. }) => {
                Error::environment(format!(
            "the kubeconfig user's exec credential plugin failed ({}): {}",
            out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
        )).with_hint("run the plugin by hand to see why; --request-timeout bounds how long it may take")
            }
            other => Error::environment(format!(
                "cannot build a client for {server}: {}",
                with_causes(&other)
            )),
        })?;
        Ok(Cluster {
            client,
            timeout: c.request_timeout,
            run_deadline: c.run_deadline,
            requests: Arc::new(AtomicUsize::new(0)),
            server,
        })
    }

    pub(crate) fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// Hooks for the other edges that speak through the API server (the pod proxy,
    /// [`crate::edge::podproxy`]): the client, `--request-timeout`, a request's deadline (bounded
    /// by the run's), and the request counter.
    pub(crate) fn client(&self) -> Client {
        self.client.clone()
    }
    pub(crate) fn request_timeout(&self) -> Duration {
        self.timeout
    }
    pub(crate) fn request_deadline(&self) -> Instant {
        self.deadline().0
    }
    pub(crate) fn count_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }
}
