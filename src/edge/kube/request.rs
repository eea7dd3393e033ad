//! One request to the API server within its deadlines (`--request-timeout`, the run's
//! `--timeout`), retried on 429, 5xx and transport errors, and what a failed answer means for
//! the user.

use super::{Cluster, Kind, MAX_PAGE_BYTES};
use crate::error::Error;
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

impl Cluster {
    /// The deadline of a request starting now: `--request-timeout` from now, or the end of
    /// the run if that comes first (then `true`).
    pub(super) fn deadline(&self) -> (Instant, bool) {
        let own = Instant::now() + self.timeout;
        match self.run_deadline {
            Some((run, _)) if run < own => (run, true),
            _ => (own, false),
        }
    }

    pub(super) fn run_timeout(&self) -> ListError {
        let t = self.run_deadline.map(|(_, t)| t).unwrap_or(self.timeout);
        ListError::RunTimeout(format!("{t:?}"))
    }

    /// Sends a request and reads its body (at most [`MAX_PAGE_BYTES`]). Retries 429, 5xx
    /// and transport errors with exponential backoff (or the server's `Retry-After`), all
    /// within the request's deadline, so a dead or throttling API server fails within
    /// `--request-timeout`.
    pub(super) async fn with_retries<F, Fut>(&self, mut call: F) -> Result<Vec<u8>, ListError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<http::Response<kube::client::Body>, kube::Error>>,
    {
        let (deadline, run_bound) = self.deadline();
        let timed_out = || {
            if run_bound {
                self.run_timeout()
            } else {
                ListError::Unreachable(format!("no answer within {:?}", self.timeout))
            }
        };
        let mut backoff = Duration::from_millis(100);
        loop {
            self.requests.fetch_add(1, Ordering::Relaxed);
            let left = deadline.saturating_duration_since(Instant::now());
            let attempt = async {
                let res = call().await?;
                let status = res.status().as_u16();
                let retry_after = res
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok());
                let body = read_body(res.into_body(), MAX_PAGE_BYTES).await?;
                Ok::<_, kube::Error>((status, retry_after, body))
            };
            let result =
                match tokio::time::timeout(left.max(Duration::from_millis(1)), attempt).await {
                    Ok(r) => r,
                    Err(_) => return Err(timed_out()),
                };
            let (failure, retry_after) = match result {
                Ok((status, _, Some(body))) if (200..300).contains(&status) => return Ok(body),
                Ok((_, _, None)) => {
                    return Err(ListError::TooMany(format!(
                        "a response larger than {} MiB",
                        MAX_PAGE_BYTES / (1024 * 1024)
                    )))
                }
                Ok((status, retry_after, Some(body))) => {
                    let failure = http_failure(status, &body);
                    match failure {
                        Failure::Fatal(e) => return Err(e),
                        retryable => (retryable, retry_after),
                    }
                }
                // A rejected certificate (either side) does not heal with retries.
                Err(e) if is_tls_rejection(&e) => return Err(ListError::Tls(with_causes(&e))),
                // Nothing listens there, or the name does not resolve: an answer, as kubectl
                // takes it, not a reason to retry until --request-timeout.
                Err(e) if is_definite_refusal(&e) => {
                    return Err(ListError::Unreachable(with_causes(&e)))
                }
                Err(e) => (Failure::Transport(with_causes(&e)), None),
            };
            let wait = retry_after
                .map(|s| Duration::from_secs(s.min(3600)))
                .unwrap_or(backoff);
            if Instant::now() + wait >= deadline {
                return Err(match failure {
                    Failure::Throttled(m) => ListError::Throttled(m),
                    Failure::Unavailable(m) => ListError::Unavailable(m),
                    Failure::Failing(m) => ListError::Failing(m),
                    Failure::Transport(m) if run_bound => {
                        let _ = m;
                        self.run_timeout()
                    }
                    Failure::Transport(m) => ListError::Unreachable(m),
                    Failure::Fatal(e) => e,
                });
            }
            tokio::time::sleep(wait).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }
}

/// Reads a response body, at most `limit` bytes (`None`: more than that).
pub(crate) async fn read_body(
    mut body: kube::client::Body,
    limit: usize,
) -> Result<Option<Vec<u8>>, kube::Error> {
    use http_body_util::BodyExt;
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            if out.len() + data.len() > limit {
                return Ok(None);
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(Some(out))
}

/// What a non-2xx answer means for the caller.
enum Failure {
    /// 429: the API server's priority and fairness (or a proxy) asks to slow down.
    Throttled(String),
    /// 503 (and 502/504 from a proxy): the server is there but cannot serve now.
    Unavailable(String),
    /// Another 5xx.
    Failing(String),
    /// No HTTP answer (connection refused, reset, timed out).
    Transport(String),
    /// Not retried: 401, 403, other 4xx.
    Fatal(ListError),
}

/// A `Status` body's message and reason, or the body's text when it is not a `Status`.
pub(crate) fn status_text(code: u16, body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) if v["kind"] == "Status" => {
            let message = v["message"].as_str().unwrap_or_default();
            let reason = v["reason"].as_str().unwrap_or_default();
            match (message.is_empty(), reason.is_empty()) {
                (false, false) => format!("{code} {reason}: {message}"),
                (false, true) => format!("{code}: {message}"),
                _ => format!("{code} {reason}"),
            }
        }
        _ => {
            let text = String::from_utf8_lossy(body);
            let text: String = text
                .trim()
                .chars()
                .take(200)
                .filter(|c| !c.is_control())
                .collect();
            if text.is_empty() {
                format!("{code} with an empty body")
            } else {
                format!("{code}: {text}")
            }
        }
    }
}

fn http_failure(code: u16, body: &[u8]) -> Failure {
    let text = status_text(code, body);
    let message = || match serde_json::from_slice::<Value>(body) {
        Ok(v) if v["kind"] == "Status" => v["message"].as_str().unwrap_or_default().to_string(),
        _ => text.clone(),
    };
    match code {
        429 => Failure::Throttled(text),
        502..=504 => Failure::Unavailable(text),
        500..=599 => Failure::Failing(text),
        401 => Failure::Fatal(ListError::Unauthorized(message())),
        404 => Failure::Fatal(ListError::NotServed(text)),
        403 => Failure::Fatal(ListError::Forbidden(message())),
        _ => Failure::Fatal(ListError::Failed(text)),
    }
}

/// An error with its chain of causes (`client error (Connect): invalid peer certificate:
/// UnknownIssuer`), de-duplicated: hyper and kube repeat a cause in their own messages.
pub(crate) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let part = c.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = c.source();
    }
    text
}

/// Whether a transport error is a TLS rejection: the server's certificate not trusted by the
/// kubeconfig's CA, or the client certificate refused by the server (a fatal TLS alert).
/// Decided by the rustls error's type, found in the cause chain (io::Errors nest it as their
/// inner error, which their `source()` skips).
/// Whether a transport error is a refused connection or a name that does not resolve.
pub(crate) fn is_definite_refusal(e: &kube::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return true;
            }
        }
        let text = c.to_string();
        if text.starts_with("dns error") || text.contains("failed to lookup address information") {
            return true;
        }
        cause = match c
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => c.source(),
        };
    }
    false
}

pub(crate) fn is_tls_rejection(e: &kube::Error) -> bool {
    let rejection = |e: &(dyn std::error::Error + 'static)| {
        matches!(
            e.downcast_ref::<rustls::Error>(),
            Some(rustls::Error::InvalidCertificate(_) | rustls::Error::AlertReceived(_))
        )
    };
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if rejection(c) {
            return true;
        }
        cause = match c
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => c.source(),
        };
    }
    false
}

pub(super) enum ListError {
    Forbidden(String),
    Tls(String),
    Unauthorized(String),
    Throttled(String),
    Unavailable(String),
    Failing(String),
    Unreachable(String),
    /// 404: on a list, the API server does not serve the kind (its CRD is not installed); on
    /// a get, no such object.
    NotServed(String),
    /// `200 OK` with a `Status` failure as the body.
    StatusBody(String),
    /// A cap on pages, objects or bytes was hit.
    TooMany(String),
    /// `--timeout` passed.
    RunTimeout(String),
    Failed(String),
}

impl ListError {
    pub(super) fn into_error(self, kind: Kind, namespace: Option<&str>, server: &str) -> Error {
        let scope = match namespace {
            Some(ns) => format!("in namespace {ns}"),
            None => "at cluster scope".to_string(),
        };
        let what = format!("listing {} {scope}", kind.qualified());
        match self {
            ListError::Forbidden(m) => Error::environment(format!(
                "forbidden: cannot list {} {scope} ({m})",
                kind.qualified()
            ))
            .with_hint(format!(
                "grant `list` on {} (a ClusterRole for cluster scope, or a Role in each app namespace)",
                kind.qualified()
            )),
            ListError::Tls(m) => Error::environment(format!("the TLS handshake with the API server at {server} failed: {m}")).with_hint("check the kubeconfig: the cluster's certificate-authority(-data) must have issued the server's certificate, and a user's client-certificate must be issued by the cluster's client CA"),
            ListError::Unauthorized(m) => Error::environment(format!("the cluster at {server} rejected the credentials: {m}")).with_hint("check the kubeconfig user (token, client certificate or exec plugin)"),
            ListError::Throttled(m) => Error::environment(format!("the API server at {server} is throttling requests: {what}: {m}; still throttled when --request-timeout ran out")).with_hint("the server is up but overloaded (API priority and fairness): try again later, or raise --request-timeout"),
            ListError::Unavailable(m) => Error::environment(format!("the API server at {server} is unavailable: {what}: {m}; still unavailable when --request-timeout ran out")).with_hint("the server (or a proxy in front of it) answers but cannot serve now: try again later, or raise --request-timeout"),
            ListError::Failing(m) => Error::environment(format!("the API server at {server} is failing: {what}: {m}")),
            ListError::Unreachable(m) => Error::environment(format!("the API server at {server} is unreachable: {m}")).with_hint("check --context and the cluster's address; --request-timeout bounds the wait"),
            ListError::NotServed(m) => not_served(kind, &what, server, &m),
            ListError::StatusBody(m) => Error::environment(format!("{what}: the API server at {server} answered 200 OK with a Status instead of a list: {m}")).with_hint("a proxy or aggregated API server in front of the cluster relayed a failure; try again, or check it"),
            ListError::TooMany(m) => Error::environment(format!("{what}: the API server at {server} sent {m}; stopped")).with_hint("limit the check with -n NAMESPACE, or check the server (a list that never ends is a server bug)"),
            ListError::RunTimeout(t) => Error::environment(format!("verify did not finish within --timeout {t} ({what} was still running at {server})")).with_hint("raise --timeout, or check the cluster's responsiveness"),
            ListError::Failed(m) => Error::environment(format!("{what} failed: {m}")),
        }
    }
}

/// What installs the CRDs of an API group, and how to get them: a 404 on the list of such a
/// kind means that component is not installed (or not at the version the tool reads).
fn installed_by(group: &str) -> Option<(&'static str, &'static str)> {
    if group == "secrets.hashicorp.com" {
        Some(("the Vault Secrets Operator", "the generated tree installs it: commit it (`kubectl vault commit --push`) and let Flux reconcile (`flux get helmreleases -A` shows the vault-secrets-operator release), then verify again"))
    } else if group.ends_with(".toolkit.fluxcd.io") {
        Some(("Flux", "install Flux first (`flux install`, or `flux bootstrap` pointed at the GitOps repository), then commit the generated tree and verify again"))
    } else if group == "cert-manager.io" {
        Some((
            "cert-manager",
            "install cert-manager (vault.tlsIssuer needs it) or leave tlsIssuer out of the spec",
        ))
    } else {
        None
    }
}

/// The error for a 404 on a list: which component is not installed, when the kind is a CRD.
fn not_served(kind: Kind, what: &str, server: &str, answer: &str) -> Error {
    let r = kind.resource();
    let at = format!("{}/{}", kind.qualified(), r.version);
    match installed_by(&r.group) {
        Some((component, hint)) => Error::environment(format!("{component}'s CRDs are not installed ({at}): the API server at {server} answered {answer} when {what}")).with_hint(format!("{hint}; or check that --context names the cluster the spec is for")),
        None => Error::environment(format!("{what}: the API server at {server} does not serve {at}: {answer}")).with_hint("check that --context names the cluster the spec is for"),
    }
}
