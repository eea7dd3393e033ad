//! The Kubernetes edge of `verify`: a client built the way kubectl builds one, and lists of
//! whole kinds (one request per kind, paginated), retried on 429/5xx/timeouts within a deadline.
//!
//! Every wait is bounded: each request (retries included) by `--request-timeout`, the whole
//! run by `--timeout`, a list by [`MAX_PAGES`] pages and [`MAX_OBJECTS`] objects, a page by
//! [`MAX_PAGE_BYTES`], and a kubeconfig exec credential plugin by `--request-timeout` (it
//! runs under [`run_exec_credential`], which stops it when that time is up).

pub(crate) use crate::core::kinds::Kind;
use crate::error::Error;
use kube::api::{DynamicObject, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::Value;
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
/// Where to list: the whole cluster (falling back to `fallback` namespaces when that is
/// forbidden), or fixed namespaces.
#[derive(Debug, Clone)]
pub(crate) enum Scope {
    Cluster { fallback: Vec<String> },
    Namespaces(Vec<String>),
}

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
                return Err(Error::usage(unknown_context(wanted, &names)));
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
                    other => Error::environment(format!("kubeconfig: {other}")),
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
                    "the kubeconfig user's exec credential plugin failed ({}): {}\nhint: run the plugin by hand to see why; --request-timeout bounds how long it may take",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
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

    /// Every object of `kind` in `scope` matching the selectors, as JSON.
    pub(crate) async fn list(
        &self,
        kind: Kind,
        scope: &Scope,
        labels: Option<&str>,
        fields: Option<&str>,
    ) -> Result<Vec<Value>, Error> {
        match scope {
            Scope::Cluster { fallback } => match self.list_in(kind, None, labels, fields).await {
                Err(ListError::Forbidden(_)) if !fallback.is_empty() => {
                    self.list_each(kind, fallback, labels, fields, true).await
                }
                other => other.map_err(|e| e.into_error(kind, None, &self.server)),
            },
            Scope::Namespaces(nss) => self.list_each(kind, nss, labels, fields, false).await,
        }
    }

    /// One list per namespace, concatenated, at most [`MAX_OBJECTS`] in all (a limit reported
    /// at cluster scope when these namespaces stand in for a cluster-wide list).
    async fn list_each(
        &self,
        kind: Kind,
        namespaces: &[String],
        labels: Option<&str>,
        fields: Option<&str>,
        for_cluster: bool,
    ) -> Result<Vec<Value>, Error> {
        let mut all = Vec::new();
        for ns in namespaces {
            all.extend(
                self.list_in(kind, Some(ns), labels, fields)
                    .await
                    .map_err(|e| e.into_error(kind, Some(ns), &self.server))?,
            );
            if all.len() > MAX_OBJECTS {
                let at = (!for_cluster).then_some(ns.as_str());
                return Err(
                    ListError::TooMany(format!("more than {MAX_OBJECTS} objects")).into_error(
                        kind,
                        at,
                        &self.server,
                    ),
                );
            }
        }
        Ok(all)
    }

    async fn list_in(
        &self,
        kind: Kind,
        namespace: Option<&str>,
        labels: Option<&str>,
        fields: Option<&str>,
    ) -> Result<Vec<Value>, ListError> {
        let ar = kind.resource();
        // Raw JSON lists: no typed round trip, one allocation per object.
        let url = <DynamicObject as kube::Resource>::url_path(&ar, namespace);
        let request = kube::core::Request::new(url);
        let mut params = ListParams::default().limit(PAGE_SIZE);
        if let Some(l) = labels {
            params = params.labels(l);
        }
        if let Some(f) = fields {
            params = params.fields(f);
        }
        let mut out = Vec::new();
        let mut pages = 0;
        loop {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(ListError::TooMany(format!(
                    "more than {MAX_PAGES} pages of up to {PAGE_SIZE} objects (the server keeps answering with a `continue` token)"
                )));
            }
            let body = self
                .with_retries(|| {
                    let req = request.list(&params);
                    let client = self.client.clone();
                    async move {
                        let req = req.map_err(kube::Error::BuildRequest)?;
                        client.send(req.map(kube::client::Body::from)).await
                    }
                })
                .await?;
            let page = parse_page(&body)?;
            for Item(mut v) in page.items {
                // List items of built-in kinds carry no apiVersion/kind: add them back.
                v["apiVersion"] = Value::String(ar.api_version.clone());
                v["kind"] = Value::String(ar.kind.clone());
                out.push(v);
            }
            if out.len() > MAX_OBJECTS {
                return Err(ListError::TooMany(format!(
                    "more than {MAX_OBJECTS} objects"
                )));
            }
            match page.metadata.continue_token.filter(|c| !c.is_empty()) {
                Some(token) => params = params.continue_token(&token),
                None => return Ok(out),
            }
        }
    }

    /// One Secret as JSON, `None` when it does not exist. Its values stay in memory: the
    /// caller (`import`) sends them to Vault and never prints them. `namespace` and `name`
    /// must be valid Kubernetes names (the caller checks).
    pub(crate) async fn get_secret(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, Error> {
        let url =
            <DynamicObject as kube::Resource>::url_path(&Kind::Secret.resource(), Some(namespace));
        let request = kube::core::Request::new(url);
        let body = self
            .with_retries(|| {
                let client = self.client.clone();
                let req = request.get(name, &kube::api::GetParams::default());
                async move {
                    let req = req.map_err(kube::Error::BuildRequest)?;
                    client.send(req.map(kube::client::Body::from)).await
                }
            })
            .await;
        let what = format!("reading Secret {namespace}/{name}");
        match body {
            Ok(body) => serde_json::from_slice(&body).map(Some).map_err(|e| {
                Error::environment(format!("{what}: the API server's answer is not JSON: {e}"))
            }),
            // Secrets are always served: a 404 is no such Secret.
            Err(ListError::NotServed(_)) => Ok(None),
            Err(ListError::Forbidden(m)) => Err(Error::environment(format!(
                "forbidden: cannot get secrets in namespace {namespace} ({m})\nhint: import needs `get` on secrets in that namespace"
            ))),
            Err(e) => Err(e.into_error(Kind::Secret, Some(namespace), &self.server)),
        }
    }

    /// The deadline of a request starting now: `--request-timeout` from now, or the end of
    /// the run if that comes first (then `true`).
    fn deadline(&self) -> (Instant, bool) {
        let own = Instant::now() + self.timeout;
        match self.run_deadline {
            Some((run, _)) if run < own => (run, true),
            _ => (own, false),
        }
    }

    fn run_timeout(&self) -> ListError {
        let t = self.run_deadline.map(|(_, t)| t).unwrap_or(self.timeout);
        ListError::RunTimeout(format!("{t:?}"))
    }

    /// Sends a request and reads its body (at most [`MAX_PAGE_BYTES`]). Retries 429, 5xx
    /// and transport errors with exponential backoff (or the server's `Retry-After`), all
    /// within the request's deadline, so a dead or throttling API server fails within
    /// `--request-timeout`.
    async fn with_retries<F, Fut>(&self, mut call: F) -> Result<Vec<u8>, ListError>
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

/// Parses a list page. A `200 OK` whose body is a `Status` (a failure relayed by a proxy or
/// an aggregated API server) is an error, never an empty list.
fn parse_page(body: &[u8]) -> Result<ListPage, ListError> {
    let head: Result<Head, _> = serde_json::from_slice(body);
    if let Ok(h) = &head {
        if h.kind.as_deref() == Some("Status") {
            return Err(ListError::StatusBody(status_text(
                h.code.unwrap_or(200) as u16,
                body,
            )));
        }
    }
    serde_json::from_slice(body).map_err(|e| {
        ListError::Failed(format!(
            "the API server's answer is not a list: {e} (starts with {:?})",
            String::from_utf8_lossy(&body[..body.len().min(80)])
        ))
    })
}

/// The fields of an answer that tell a list from a `Status`.
#[derive(serde::Deserialize)]
struct Head {
    kind: Option<String>,
    code: Option<u64>,
}

/// Builds the client: kube's default stack, except for an HTTPS cluster with a configured CA,
/// where the TLS verifier also accepts a server certificate that is itself one of those CA
/// certificates (a self-signed server certificate used as its own CA), as kubectl does.
fn build_client(config: Config) -> Result<Client, kube::Error> {
    use kube::client::ConfigExt;
    let https = config.cluster_url.scheme_str() == Some("https");
    let roots = match (
        &config.root_cert,
        https,
        config.accept_invalid_certs,
        &config.proxy_url,
    ) {
        (Some(roots), true, false, None) if !roots.is_empty() => roots.clone(),
        _ => return Client::try_from(config),
    };
    let mut tls = config.rustls_client_config()?;
    let verifier = OwnCaVerifier::new(roots).map_err(|e| {
        kube::Error::Service(format!("the kubeconfig's certificate authority: {e}").into())
    })?;
    tls.dangerous().set_certificate_verifier(Arc::new(verifier));
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(config.connect_timeout);
    let mut builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http();
    if let Some(name) = &config.tls_server_name {
        let name = rustls::pki_types::ServerName::try_from(name.clone())
            .map_err(|e| kube::Error::Service(format!("tls-server-name {name}: {e}").into()))?;
        builder =
            builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name));
    }
    let connector = builder.enable_http1().wrap_connector(http);
    let hyper = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build(connector);
    let service = tower::ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(tower::BoxError::from)
        .service(hyper);
    Ok(Client::new(service, config.default_namespace))
}

/// WebPKI verification against the kubeconfig's CA certificates, plus Go's rule for a server
/// certificate that is itself in the trusted pool: it is trusted (a chain of one), if it is
/// valid now and names the server.
#[derive(Debug)]
struct OwnCaVerifier {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    roots: Vec<Vec<u8>>,
}

impl OwnCaVerifier {
    fn new(roots: Vec<Vec<u8>>) -> Result<OwnCaVerifier, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut store = rustls::RootCertStore::empty();
        for der in &roots {
            store
                .add(rustls::pki_types::CertificateDer::from(der.clone()))
                .map_err(|e| e.to_string())?;
        }
        let inner =
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider)
                .build()
                .map_err(|e| e.to_string())?;
        Ok(OwnCaVerifier { inner, roots })
    }
}

impl rustls::client::danger::ServerCertVerifier for OwnCaVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let err = match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        if !self
            .roots
            .iter()
            .any(|r| r.as_slice() == end_entity.as_ref())
        {
            return Err(err);
        }
        // The server's certificate is one the kubeconfig trusts as a CA: check its validity
        // period and its names, as Go's crypto/x509 does for a chain of one.
        let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_name(&parsed, server_name)?;
        let (_, cert) = x509_parser::parse_x509_certificate(end_entity.as_ref()).map_err(|_| {
            rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding)
        })?;
        let now = now.as_secs() as i64;
        if cert.validity().not_before.timestamp() > now {
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidYet,
            ));
        }
        if cert.validity().not_after.timestamp() < now {
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::Expired,
            ));
        }
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Reads one kubeconfig file, at most [`MAX_KUBECONFIG_BYTES`] (kube resolves relative
/// certificate paths against the file's folder).
fn read_kubeconfig(path: &std::path::Path) -> Result<Kubeconfig, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.is_file() {
        if meta.len() > MAX_KUBECONFIG_BYTES {
            return Err(format!(
                "larger than {} MiB",
                MAX_KUBECONFIG_BYTES / (1024 * 1024)
            ));
        }
        return Kubeconfig::read_from(path).map_err(|e| e.to_string());
    }
    // A pipe or device (`--kubeconfig <(...)`): read what it gives, bounded.
    let text = crate::edge::fs::read_text(path, MAX_KUBECONFIG_BYTES).map_err(|e| e.to_string())?;
    Kubeconfig::from_yaml(&text).map_err(|e| e.to_string())
}

/// The kubeconfig as kubectl finds it: the files listed in `KUBECONFIG` that exist, merged
/// (kubectl ignores the missing ones), else `~/.kube/config`.
fn kubeconfig_from_env() -> Result<Kubeconfig, Error> {
    if let Some(value) = std::env::var_os("KUBECONFIG") {
        let paths: Vec<PathBuf> = std::env::split_paths(&value)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if !paths.is_empty() {
            let existing: Vec<&PathBuf> = paths.iter().filter(|p| p.exists()).collect();
            if existing.is_empty() {
                return Err(Error::environment(format!(
                    "no kubeconfig: none of the files in KUBECONFIG exists ({})\nhint: set KUBECONFIG to your kubeconfig file or pass --kubeconfig",
                    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
                )));
            }
            let mut merged = Kubeconfig::default();
            for p in existing {
                let next = read_kubeconfig(p).map_err(|e| {
                    Error::environment(format!("kubeconfig {} (from KUBECONFIG): {e}", p.display()))
                })?;
                merged = merged.merge(next).map_err(|e| {
                    Error::environment(format!("kubeconfig {} (from KUBECONFIG): {e}", p.display()))
                })?;
            }
            return Ok(merged);
        }
    }
    Kubeconfig::read().map_err(|e| {
        Error::environment(format!(
            "no kubeconfig: {e}\nhint: set KUBECONFIG or pass --kubeconfig"
        ))
    })
}

/// Runs every exec credential plugin of the kubeconfig under this binary's
/// [`EXEC_CREDENTIAL_COMMAND`], which stops it after `timeout` (kube runs plugins without a
/// time limit, on the thread that would enforce one).
fn bound_exec_plugins(kubeconfig: &mut Kubeconfig, timeout: Duration) {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    for named in &mut kubeconfig.auth_infos {
        let Some(exec) = named.auth_info.as_mut().and_then(|a| a.exec.as_mut()) else {
            continue;
        };
        let Some(command) = exec.command.take() else {
            continue;
        };
        let mut args = vec![
            EXEC_CREDENTIAL_COMMAND.to_string(),
            "--timeout-ms".to_string(),
            timeout.as_millis().to_string(),
            "--".to_string(),
            command,
        ];
        args.extend(exec.args.take().unwrap_or_default());
        exec.command = Some(exe.to_string_lossy().into_owned());
        exec.args = Some(args);
    }
}

/// Runs `command` (a kubeconfig exec credential plugin) with stdin and stderr passed
/// through and its stdout (at most [`MAX_CREDENTIAL_BYTES`]) relayed; stops it, and its
/// process group, when `timeout` passes. Returns the exit code to exit with.
pub(crate) fn run_exec_credential(timeout: Duration, command: &[String]) -> u8 {
    use std::io::{IsTerminal, Write};
    let Some((program, args)) = command.split_first() else {
        eprintln!("kubectl-vault: no credential plugin to run");
        return 2;
    };
    let mut cmd = std::process::Command::new(program);
    cmd.args(args).stdout(std::process::Stdio::piped());
    // Its own process group, so that a shell script's children stop with it; not for an
    // interactive plugin, which must stay in the terminal's foreground group.
    #[cfg(unix)]
    let own_group = !std::io::stdin().is_terminal();
    #[cfg(unix)]
    if own_group {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kubectl-vault: cannot start the credential plugin `{program}`: {e}");
            return 1;
        }
    };
    let stdout = child.stdout.take().expect("piped");
    let reader =
        std::thread::spawn(move || crate::edge::fs::read_all(stdout, MAX_CREDENTIAL_BYTES));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            other => {
                #[cfg(unix)]
                if own_group {
                    // SAFETY: kill(2) on the plugin's own process group (its pid is the pgid).
                    unsafe {
                        libc::kill(-(child.id() as i32), libc::SIGKILL);
                    }
                }
                let _ = child.kill();
                let _ = child.wait();
                if let Err(e) = other {
                    eprintln!("kubectl-vault: waiting for the credential plugin `{program}`: {e}");
                } else {
                    eprintln!(
                        "kubectl-vault: the credential plugin `{program}` did not finish within {timeout:?} (--request-timeout); stopped it"
                    );
                }
                return 1;
            }
        }
    };
    let output = match reader.join() {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => {
            eprintln!("kubectl-vault: the credential plugin `{program}`'s output: {e}");
            return 1;
        }
        Err(_) => return 1,
    };
    let mut out = std::io::stdout().lock();
    if out.write_all(&output).and_then(|_| out.flush()).is_err() {
        return 1;
    }
    status.code().map_or(1, |c| c.clamp(0, 255) as u8)
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

/// One page of a list response.
#[derive(serde::Deserialize)]
struct ListPage {
    #[serde(default)]
    metadata: ListPageMeta,
    #[serde(default)]
    items: Vec<Item>,
}

#[derive(serde::Deserialize, Default)]
struct ListPageMeta {
    #[serde(rename = "continue")]
    continue_token: Option<String>,
}

/// A listed object as JSON, without `metadata.managedFields`: field ownership is never
/// checked and is often most of an object's size, so it is skipped while parsing rather than
/// built and dropped.
struct Item(Value);

impl<'de> serde::Deserialize<'de> for Item {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(SkipKeyVisitor {
            skip: None,
            nested: Some(("metadata", "managedFields")),
        })
        .map(Item)
    }
}

/// Builds a JSON object, skipping the key `skip` if given; with `nested = (key, inner)`, the value of
/// `key` is built the same way without its `inner` key.
struct SkipKeyVisitor {
    skip: Option<&'static str>,
    nested: Option<(&'static str, &'static str)>,
}

impl<'de> serde::de::Visitor<'de> for SkipKeyVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if self.skip == Some(key.as_str()) {
                map.next_value::<serde::de::IgnoredAny>()?;
                continue;
            }
            let value = match self.nested {
                Some((outer, inner)) if key == outer => map.next_value_seed(SkipKeySeed(inner))?,
                _ => map.next_value::<Value>()?,
            };
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

struct SkipKeySeed(&'static str);

impl<'de> serde::de::DeserializeSeed<'de> for SkipKeySeed {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_map(SkipKeyVisitor {
            skip: Some(self.0),
            nested: None,
        })
    }
}

enum ListError {
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
    fn into_error(self, kind: Kind, namespace: Option<&str>, server: &str) -> Error {
        let scope = match namespace {
            Some(ns) => format!("in namespace {ns}"),
            None => "at cluster scope".to_string(),
        };
        let what = format!("listing {} {scope}", kind.qualified());
        match self {
            ListError::Forbidden(m) => Error::environment(format!(
                "forbidden: cannot list {} {scope} ({m})\nhint: grant `list` on {} (a ClusterRole for cluster scope, or a Role in each app namespace)",
                kind.qualified(), kind.qualified()
            )),
            ListError::Tls(m) => Error::environment(format!("the TLS handshake with the API server at {server} failed: {m}\nhint: check the kubeconfig: the cluster's certificate-authority(-data) must have issued the server's certificate, and a user's client-certificate must be issued by the cluster's client CA")),
            ListError::Unauthorized(m) => Error::environment(format!("the cluster at {server} rejected the credentials: {m}\nhint: check the kubeconfig user (token, client certificate or exec plugin)")),
            ListError::Throttled(m) => Error::environment(format!("the API server at {server} is throttling requests: {what}: {m}; still throttled when --request-timeout ran out\nhint: the server is up but overloaded (API priority and fairness): try again later, or raise --request-timeout")),
            ListError::Unavailable(m) => Error::environment(format!("the API server at {server} is unavailable: {what}: {m}; still unavailable when --request-timeout ran out\nhint: the server (or a proxy in front of it) answers but cannot serve now: try again later, or raise --request-timeout")),
            ListError::Failing(m) => Error::environment(format!("the API server at {server} is failing: {what}: {m}")),
            ListError::Unreachable(m) => Error::environment(format!("the API server at {server} is unreachable: {m}\nhint: check --context and the cluster's address; --request-timeout bounds the wait")),
            ListError::NotServed(m) => not_served(kind, &what, server, &m),
            ListError::StatusBody(m) => Error::environment(format!("{what}: the API server at {server} answered 200 OK with a Status instead of a list: {m}\nhint: a proxy or aggregated API server in front of the cluster relayed a failure; try again, or check it")),
            ListError::TooMany(m) => Error::environment(format!("{what}: the API server at {server} sent {m}; stopped\nhint: limit the check with -n NAMESPACE, or check the server (a list that never ends is a server bug)")),
            ListError::RunTimeout(t) => Error::environment(format!("verify did not finish within --timeout {t} ({what} was still running at {server})\nhint: raise --timeout, or check the cluster's responsiveness")),
            ListError::Failed(m) => Error::environment(format!("{what} failed: {m}")),
        }
    }
}

/// `--context NAME` names no context of the kubeconfig: the ones it has.
fn unknown_context(wanted: &str, names: &[&str]) -> String {
    let have = if names.is_empty() {
        "the kubeconfig has no contexts".to_string()
    } else {
        format!("its contexts are: {}", names.join(", "))
    };
    format!(
        "kubeconfig: no context named `{wanted}`; {have}\nhint: pass one of them with --context (`kubectl config get-contexts` lists them), or leave --context out to use the current context"
    )
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
        Some((component, hint)) => Error::environment(format!(
            "{component}'s CRDs are not installed ({at}): the API server at {server} answered {answer} when {what}\nhint: {hint}; or check that --context names the cluster the spec is for"
        )),
        None => Error::environment(format!(
            "{what}: the API server at {server} does not serve {at}: {answer}\nhint: check that --context names the cluster the spec is for"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_pages_drop_managed_fields_and_keep_everything_else() {
        let page: ListPage = serde_json::from_str(
            r#"{"kind":"SecretList","metadata":{"resourceVersion":"7","continue":"abc"},
               "items":[{"metadata":{"name":"db","managedFields":[{"manager":"x"}],"labels":{"a":"b"}},
                         "data":{"password":"cGFzcw=="},"type":"Opaque"}]}"#,
        )
        .unwrap();
        assert_eq!(page.metadata.continue_token.as_deref(), Some("abc"));
        let Item(item) = &page.items[0];
        assert_eq!(
            item,
            &serde_json::json!({"metadata":{"name":"db","labels":{"a":"b"}},
                                "data":{"password":"cGFzcw=="},"type":"Opaque"})
        );
    }
}
