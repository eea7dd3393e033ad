//! Vault's transport: the HTTP stack the Kubernetes client uses too (hyper-util's client over
//! rustls with ring), set up from the environment as the vault CLI's is, and driven from
//! synchronous callers.
//!
//! - TLS: `VAULT_CACERT`'s certificates as the only roots, else the platform's trust store;
//!   `VAULT_SKIP_VERIFY` accepts any certificate.
//! - Proxies: the first usable of `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY` (either case) for
//!   every address, less `NO_PROXY`'s hosts, reached through an HTTP `CONNECT` tunnel (a SOCKS
//!   proxy there is ignored: Vault is reached directly).
//! - Bounds: one exchange (connection, tunnel, TLS, redirects, the whole answer) within
//!   [`TIMEOUT`], an answer of at most [`MAX_ANSWER_BYTES`].
//! - Blocking: each exchange runs on the transport's own single-threaded runtime; from inside
//!   another runtime (verify's) it runs on a thread of its own, so nothing nests `block_on`.

use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

/// How long one exchange may take, from the first connection attempt to the answer's last byte.
pub(super) const TIMEOUT: Duration = Duration::from_secs(30);
/// The largest answer read.
pub(super) const MAX_ANSWER_BYTES: usize = 10 * 1024 * 1024;
/// Redirects followed for one `GET` (a standby answers 307 towards the active node).
const MAX_REDIRECTS: usize = 10;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// A TCP connection, or a tunnel through a proxy (itself plain or TLS).
type Link = MaybeHttpsStream<TokioIo<tokio::net::TcpStream>>;

/// Where a connection attempt stands: what a timeout means depends on it.
const IDLE: u8 = 0;
const CONNECTING: u8 = 1;
const CONNECTED: u8 = 2;

/// The settings, read from the environment by the caller.
pub(super) struct Settings {
    /// `VAULT_CACERT`'s certificates (DER), or `None` for the platform's trust store.
    pub(super) roots: Option<Vec<Vec<u8>>>,
    /// `VAULT_SKIP_VERIFY`.
    pub(super) skip_verify: bool,
    pub(super) proxy: Option<Proxy>,
}

/// The proxy of the environment: its address and which hosts bypass it.
pub(super) struct Proxy {
    matcher: Matcher,
    /// `NO_PROXY=*`: no host uses the proxy (the matcher applies `*` to names only).
    bypass_all: bool,
    /// `NO_PROXY` entries ending in `*` or `.`: hosts starting with them bypass the proxy.
    prefixes: Vec<String>,
}

impl Proxy {
    /// The proxy as `var` (an environment lookup) names it: the first of `ALL_PROXY`,
    /// `HTTPS_PROXY`, `HTTP_PROXY` (upper case first) that is a proxy address, for every
    /// address; `None` when none is, or when that one is a SOCKS proxy.
    pub(super) fn from_vars(var: &dyn Fn(&str) -> Option<String>) -> Option<Proxy> {
        const NAMES: [&str; 6] = [
            "ALL_PROXY",
            "all_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
        ];
        let address = NAMES.iter().filter_map(|n| var(n)).find(|v| {
            v.parse::<http::Uri>().is_ok_and(|u| {
                u.authority().is_some()
                    && matches!(
                        u.scheme_str(),
                        None | Some(
                            "http"
                                | "https"
                                | "socks"
                                | "socks4"
                                | "socks4a"
                                | "socks5"
                                | "socks5h"
                        )
                    )
            })
        })?;
        if address.starts_with("socks") {
            return None;
        }
        let no = ["NO_PROXY", "no_proxy"]
            .iter()
            .find_map(|n| var(n))
            .unwrap_or_default();
        let entries: Vec<&str> = no.split(',').map(str::trim).collect();
        // curl's rules (exact hosts and their subdomains, addresses, CIDR ranges, `*`), plus
        // `*.example.com` for the subdomains of example.com.
        let suffixes: Vec<&str> = entries
            .iter()
            .map(|e| match e.strip_prefix('*') {
                Some(rest) if !rest.is_empty() => rest,
                _ => e,
            })
            .collect();
        let prefixes = entries
            .iter()
            .filter(|e| e.len() > 1 && !e.starts_with(['*', '.']))
            .filter_map(|e| {
                e.strip_suffix('*')
                    .or_else(|| e.ends_with('.').then_some(*e))
            })
            .map(str::to_ascii_lowercase)
            .collect();
        let matcher = Matcher::builder()
            .all(address)
            .no(suffixes.join(","))
            .build();
        Some(Proxy {
            matcher,
            bypass_all: entries.contains(&"*"),
            prefixes,
        })
    }

    /// The proxy to tunnel through to `dst`, with its `Proxy-Authorization`, if any.
    pub(super) fn intercept(
        &self,
        dst: &http::Uri,
    ) -> Option<(http::Uri, Option<http::HeaderValue>)> {
        let host = dst.host()?.to_ascii_lowercase();
        if self.bypass_all || self.prefixes.iter().any(|p| host.starts_with(p.as_str())) {
            return None;
        }
        let intercept = self.matcher.intercept(dst)?;
        Some((intercept.uri().clone(), intercept.basic_auth().cloned()))
    }
}

/// Connects to `dst` directly, or through a `CONNECT` tunnel when the proxy intercepts it.
#[derive(Clone)]
struct Route {
    direct: HttpConnector,
    /// To the proxy itself (TLS when its address is `https://`).
    to_proxy: HttpsConnector<HttpConnector>,
    proxy: Option<Arc<Proxy>>,
}

impl tower::Service<http::Uri> for Route {
    type Response = Link;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Link, BoxError>> + Send>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), BoxError>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: http::Uri) -> Self::Future {
        match self.proxy.as_ref().and_then(|p| p.intercept(&dst)) {
            Some((proxy, auth)) => {
                let mut tunnel = Tunnel::new(proxy, self.to_proxy.clone());
                if let Some(auth) = auth {
                    tunnel = tunnel.with_auth(auth);
                }
                // The tunnel's target needs its port (it assumes 443 when there is none).
                let dst = with_port(dst);
                Box::pin(async move { Ok(tunnel.oneshot(dst).await?) })
            }
            None => {
                let direct = self.direct.clone();
                Box::pin(async move { Ok(MaybeHttpsStream::Http(direct.oneshot(dst).await?)) })
            }
        }
    }
}

/// `uri` with its scheme's default port written out.
fn with_port(uri: http::Uri) -> http::Uri {
    if uri.port().is_some() {
        return uri;
    }
    let port = if uri.scheme_str() == Some("http") {
        80
    } else {
        443
    };
    let Some(host) = uri.host() else { return uri };
    let mut parts = uri.clone().into_parts();
    parts.authority = format!("{host}:{port}").parse().ok();
    http::Uri::from_parts(parts).unwrap_or(uri)
}

/// The whole connection (route and TLS), recording when it is made: a timeout before that
/// means the request was never sent.
#[derive(Clone)]
struct Phased {
    inner: HttpsConnector<Route>,
    phase: Arc<AtomicU8>,
}

impl tower::Service<http::Uri> for Phased {
    type Response = MaybeHttpsStream<Link>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), BoxError>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: http::Uri) -> Self::Future {
        let (inner, phase) = (self.inner.clone(), self.phase.clone());
        phase.store(CONNECTING, Ordering::SeqCst);
        Box::pin(async move {
            let link = inner.oneshot(dst).await?;
            phase.store(CONNECTED, Ordering::SeqCst);
            Ok(link)
        })
    }
}

/// One request.
pub(super) struct Request {
    pub(super) method: http::Method,
    pub(super) url: http::Uri,
    pub(super) headers: http::HeaderMap,
    /// `Basic` credentials for the address given: sent to it only, a redirect drops them.
    pub(super) authorization: Option<http::HeaderValue>,
    pub(super) body: String,
}

/// Why an exchange failed.
#[derive(Debug)]
pub(super) enum Failure {
    /// The TLS handshake failed: nothing was sent.
    Tls(String),
    /// No connection was made: nothing was sent.
    NeverSent(String),
    /// The request may have reached Vault; no (whole) answer came back.
    NoAnswer(String),
    /// An answer larger than [`MAX_ANSWER_BYTES`] (after its status).
    TooLarge,
}

/// The client and the runtime it runs on.
pub(super) struct Transport {
    client: hyper_util::client::legacy::Client<Phased, String>,
    phase: Arc<AtomicU8>,
    runtime: Option<tokio::runtime::Runtime>,
    pub(super) timeout: Duration,
}

impl Transport {
    pub(super) fn new(settings: Settings) -> Result<Transport, String> {
        let tls = tls_config(settings.roots, settings.skip_verify)?;
        let mut direct = HttpConnector::new();
        direct.enforce_http(false);
        direct.set_nodelay(true);
        let route = Route {
            to_proxy: HttpsConnector::from((direct.clone(), tls.clone())),
            direct,
            proxy: settings.proxy.map(Arc::new),
        };
        let phase = Arc::new(AtomicU8::new(IDLE));
        let connector = Phased {
            inner: HttpsConnector::from((route, tls)),
            phase: phase.clone(),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the async runtime: {e}"))?;
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(15))
                .pool_max_idle_per_host(3)
                .pool_timer(hyper_util::rt::TokioTimer::new())
                .build(connector);
        Ok(Transport {
            client,
            phase,
            runtime: Some(runtime),
            timeout: TIMEOUT,
        })
    }

    /// Sends `request` (following a `GET`'s redirects) and reads the answer: (status, body).
    pub(super) fn exchange(&self, request: Request) -> Result<(u16, Vec<u8>), Failure> {
        self.phase.store(IDLE, Ordering::SeqCst);
        let timeout = self.timeout;
        let run = async {
            match tokio::time::timeout(timeout, self.follow(request)).await {
                Ok(result) => result,
                Err(_) if self.phase.load(Ordering::SeqCst) == CONNECTING => {
                    Err(Failure::NeverSent("timeout: connect".to_string()))
                }
                Err(_) => Err(Failure::NoAnswer("timeout: global".to_string())),
            }
        };
        self.block_on(run)
            .map_err(Failure::NeverSent)
            .and_then(|r| r)
    }

    async fn follow(&self, request: Request) -> Result<(u16, Vec<u8>), Failure> {
        let Request {
            method,
            mut url,
            headers,
            mut authorization,
            body,
        } = request;
        let mut redirects = 0;
        loop {
            let mut req = http::Request::builder()
                .method(method.clone())
                .uri(url.clone());
            for (name, value) in &headers {
                req = req.header(name, value);
            }
            if let Some(auth) = &authorization {
                req = req.header(http::header::AUTHORIZATION, auth);
            }
            let req = req
                .body(body.clone())
                .map_err(|e| Failure::NeverSent(format!("http: {e}")))?;
            let answer = self.client.request(req).await.map_err(|e| {
                let text = describe(&e);
                if has_rustls_error(&e) {
                    Failure::Tls(text)
                } else if e.is_connect() {
                    Failure::NeverSent(text)
                } else {
                    Failure::NoAnswer(text)
                }
            })?;
            let status = answer.status();
            let location = answer
                .headers()
                .get(http::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .map(str::to_string);
            if method == http::Method::GET && status.is_redirection() {
                if let Some(next) = location.and_then(|l| join(&url, &l)) {
                    redirects += 1;
                    if redirects > MAX_REDIRECTS {
                        return Err(Failure::NoAnswer("too many redirects".to_string()));
                    }
                    url = next;
                    authorization = None;
                    continue;
                }
            }
            // The answer, bounded (the whole exchange is bounded in time by the caller).
            use http_body_util::BodyExt;
            let mut body = answer.into_body();
            let mut read = Vec::new();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| Failure::NoAnswer(describe(&e)))?;
                if let Ok(data) = frame.into_data() {
                    if read.len() + data.len() > MAX_ANSWER_BYTES {
                        return Err(Failure::TooLarge);
                    }
                    read.extend_from_slice(&data);
                }
            }
            return Ok((status.as_u16(), read));
        }
    }

    /// Runs `future` to completion on the transport's runtime: on this thread, or, inside
    /// another runtime, on a thread of its own (a runtime cannot block inside another).
    fn block_on<T: Send>(&self, future: impl Future<Output = T> + Send) -> Result<T, String> {
        let runtime = self
            .runtime
            .as_ref()
            .expect("the runtime lives as long as the transport");
        if tokio::runtime::Handle::try_current().is_err() {
            return Ok(runtime.block_on(future));
        }
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("vault-request".to_string())
                .spawn_scoped(scope, || runtime.block_on(future))
                .map_err(|e| format!("cannot start a thread for the request: {e}"))?
                .join()
                .map_err(|_| "the request's thread panicked".to_string())
        })
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        // Dropping a runtime inside another one's context panics; this never blocks.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// `location` (absolute, or a path on the same server) resolved against `base`.
fn join(base: &http::Uri, location: &str) -> Option<http::Uri> {
    let uri: http::Uri = location.parse().ok()?;
    if uri.scheme().is_some() && uri.authority().is_some() {
        return matches!(uri.scheme_str(), Some("http" | "https")).then_some(uri);
    }
    if !location.starts_with('/') || location.starts_with("//") {
        return None;
    }
    let mut parts = base.clone().into_parts();
    parts.path_and_query = Some(location.parse().ok()?);
    http::Uri::from_parts(parts).ok()
}

/// The errors `e` came from, outermost first (an `io::Error`'s inner error included, which its
/// `source()` skips).
fn chain<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |c| {
        match c
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => c.source(),
        }
    })
}

fn has_rustls_error(e: &(dyn std::error::Error + 'static)) -> bool {
    chain(e).any(|c| c.downcast_ref::<rustls::Error>().is_some())
}

/// What failed, in a few words: the TLS error, the proxy's refusal, or the system's error.
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    if let Some(tls) = chain(e).find_map(|c| c.downcast_ref::<rustls::Error>()) {
        return format!("rustls: {tls}");
    }
    let io = chain(e)
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .last()
        .map(|io| format!("io: {io}"));
    // hyper-util does not export its tunnel's error type: it is known by its words.
    if let Some(tunnel) = chain(e).find_map(|c| {
        let text = c.to_string();
        text.strip_prefix("tunnel error: ").map(str::to_string)
    }) {
        return match io {
            Some(io) => format!("CONNECT proxy failed: {tunnel}: {io}"),
            None => format!("CONNECT proxy failed: {tunnel}"),
        };
    }
    io.unwrap_or_else(|| crate::edge::kube::with_causes(e))
}

/// The TLS client: ring, `roots` (else the platform's trust store), or no verification.
fn tls_config(
    roots: Option<Vec<Vec<u8>>>,
    skip_verify: bool,
) -> Result<rustls::ClientConfig, String> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let config = if skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth()
    } else if let Some(roots) = roots {
        let mut store = rustls::RootCertStore::empty();
        store.add_parsable_certificates(
            roots
                .into_iter()
                .map(rustls::pki_types::CertificateDer::from),
        );
        builder.with_root_certificates(store).with_no_client_auth()
    } else {
        builder
            .with_platform_verifier()
            .map_err(|e| format!("the platform's certificate store: {e}"))?
            .with_no_client_auth()
    };
    Ok(config)
}

/// `VAULT_SKIP_VERIFY`: any certificate is accepted (the handshake's signatures are still
/// checked against it).
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
