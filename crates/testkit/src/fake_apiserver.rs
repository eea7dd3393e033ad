//! An in-process fake Kubernetes API server that speaks HTTP like the real one.
//!
//! It serves discovery (`/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`), get, list
//! (label and field selectors, `limit`/`continue` pagination, list `resourceVersion`), watch
//! (`?watch=1`, JSON event lines), and `Status` bodies for errors. Tests can inject latency and
//! failures, forbid cluster-wide lists of a resource, and count requests. Real clients (the
//! kubectl-vault binary through kube-rs, and the real kubectl) reach it through a kubeconfig.
//!
//! `start_tls` serves HTTPS with a certificate from a CA made at start (never committed) and
//! accepts, like a real API server, either a bearer token or a client certificate issued by
//! that CA.

use kubectl_vault_core::kinds::Kind;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

/// A served resource: (group, version, plural, kind, namespaced).
type Served = (String, String, String, String, bool);

/// Every kind kubectl-vault knows, from its typed kinds (the one source), plus GitRepository,
/// which the tool only names.
static RESOURCES: LazyLock<Vec<Served>> = LazyLock::new(|| {
    let mut all: Vec<_> = Kind::ALL
        .iter()
        .map(|k| {
            let r = k.resource();
            (r.group, r.version, r.plural, r.kind, k.namespaced())
        })
        .collect();
    all.push((
        "source.toolkit.fluxcd.io".into(),
        "v1".into(),
        "gitrepositories".into(),
        "GitRepository".into(),
        true,
    ));
    all
});

pub const TOKEN: &str = "fake-token-for-tests";

#[derive(Default)]
struct State {
    /// plural → objects (in insertion order).
    objects: BTreeMap<String, Vec<Value>>,
    resource_version: u64,
    requests: Vec<String>,
    latency: Duration,
    /// Answer every request with this status (None: serve normally).
    fail_all: Option<u16>,
    /// Answer the next N requests with this status.
    fail_next: Vec<u16>,
    forbid_cluster_list: HashSet<String>,
    forbid_everywhere: HashSet<String>,
    /// Lists of these plurals are answered `200 OK` with a `Status` failure body (as a
    /// misbehaving proxy or aggregated API server may).
    status_on_200: HashSet<String>,
    /// Lists of these plurals never end: every page carries a `continue` token.
    endless: HashSet<String>,
    /// Answer every request with this status and a plain-text body (a proxy, not the API
    /// server), and a `Retry-After` header when set.
    fail_text: Option<(u16, String)>,
    retry_after: Option<u32>,
    /// API groups whose CRDs are not installed: their paths answer 404, as a real API server does.
    not_installed: HashSet<String>,
    /// Pod proxy: (namespace, pod) → the backend's address (`127.0.0.1:PORT`).
    pod_backends: BTreeMap<(String, String), String>,
    /// Refuse these verbs on `pods/proxy` (403), as RBAC without them does.
    forbid_pod_proxy: Vec<String>,
}

pub struct FakeApiServer {
    state: Arc<Mutex<State>>,
    port: u16,
    stop: Arc<std::sync::atomic::AtomicBool>,
    tls: Option<Arc<Tls>>,
}

/// The TLS material of an HTTPS fake, all made at start.
pub struct Tls {
    pub ca_pem: String,
    /// A client certificate the server trusts (CN `tester`).
    pub client_cert_pem: String,
    pub client_key_pem: String,
    config: Arc<rustls::ServerConfig>,
}

/// A connection the fake serves: plain TCP or TLS.
trait Connection: std::io::Read + Write {
    /// Whether the client presented a certificate the server verified against its CA.
    fn client_certified(&self) -> bool;
}

impl Connection for std::net::TcpStream {
    fn client_certified(&self) -> bool {
        false
    }
}

impl Connection for rustls::StreamOwned<rustls::ServerConnection, std::net::TcpStream> {
    fn client_certified(&self) -> bool {
        self.conn.peer_certificates().is_some_and(|c| !c.is_empty())
    }
}

/// One HTTP request, as far as an API server needs it.
pub struct Request<'c> {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    stream: &'c mut dyn Write,
    body: Vec<u8>,
    keep_alive: bool,
    client_certified: bool,
}

impl Request<'_> {
    fn url(&self) -> &str {
        &self.url
    }
    fn method(&self) -> &str {
        &self.method
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl FakeApiServer {
    /// A plain-HTTP fake.
    pub fn start() -> FakeApiServer {
        FakeApiServer::serve(None)
    }

    /// An HTTPS fake with a fresh CA, server certificate (127.0.0.1) and client certificate.
    pub fn start_tls() -> FakeApiServer {
        FakeApiServer::serve(Some(Arc::new(Tls::new())))
    }

    /// An HTTPS fake whose certificate is self-signed and is its own CA (CA:TRUE, SAN
    /// 127.0.0.1), as some single-node clusters serve: the kubeconfig's CA is that very
    /// certificate. kubectl (Go's crypto/x509) accepts it.
    pub fn start_tls_self_signed() -> FakeApiServer {
        FakeApiServer::serve(Some(Arc::new(Tls::self_signed())))
    }

    fn serve(tls: Option<Arc<Tls>>) -> FakeApiServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (st, stp, config) = (
            state.clone(),
            stop.clone(),
            tls.as_ref().map(|t| t.config.clone()),
        );
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stp.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let _ = conn.set_nodelay(true);
                let st = st.clone();
                let config = config.clone();
                std::thread::spawn(move || match config {
                    None => serve_connection(&st, conn),
                    Some(config) => {
                        let Ok(server) = rustls::ServerConnection::new(config) else {
                            return;
                        };
                        serve_connection(&st, rustls::StreamOwned::new(server, conn))
                    }
                });
            }
        });
        FakeApiServer {
            state,
            port,
            stop,
            tls,
        }
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The TLS material (HTTPS fakes only).
    pub fn tls(&self) -> &Tls {
        self.tls.as_deref().expect("an HTTPS fake (start_tls)")
    }

    /// The kubeconfig lines of the cluster entry: server, and the CA for an HTTPS fake.
    fn cluster_entry(&self) -> String {
        use base64::Engine;
        let mut entry = format!("    server: {}\n", self.url());
        if let Some(tls) = &self.tls {
            entry.push_str(&format!(
                "    certificate-authority-data: {}\n",
                base64::engine::general_purpose::STANDARD.encode(&tls.ca_pem)
            ));
        }
        entry
    }

    /// Writes a kubeconfig whose user authenticates with `user` (kubeconfig `user:` fields,
    /// indented by four spaces) and returns its path.
    pub fn write_kubeconfig_with_user(
        &self,
        dir: &std::path::Path,
        context: &str,
        user: &str,
    ) -> std::path::PathBuf {
        let path = dir.join(format!("kubeconfig-{context}"));
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n{cluster}contexts:\n- name: {context}\n  context:\n    cluster: fake\n    user: {context}-user\n    namespace: default\ncurrent-context: {context}\nusers:\n- name: {context}-user\n  user:{user}\n",
            cluster = self.cluster_entry(),
            user = if user.is_empty() { " {}".to_string() } else { format!("\n{user}") }
        );
        std::fs::write(&path, text).expect("write kubeconfig");
        path
    }

    /// Writes a kubeconfig authenticating with the client certificate (HTTPS fakes only).
    pub fn write_client_certificate_kubeconfig(
        &self,
        dir: &std::path::Path,
        context: &str,
    ) -> std::path::PathBuf {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let tls = self.tls();
        self.write_kubeconfig_with_user(
            dir,
            context,
            &format!(
                "    client-certificate-data: {}\n    client-key-data: {}",
                b64(&tls.client_cert_pem),
                b64(&tls.client_key_pem)
            ),
        )
    }

    /// Adds an object (it must have apiVersion, kind and metadata.name).
    pub fn add(&self, mut obj: Value) {
        let kind = obj["kind"].as_str().expect("kind").to_string();
        let plural = RESOURCES
            .iter()
            .find(|r| r.3 == kind)
            .unwrap_or_else(|| panic!("the fake does not serve {kind}"))
            .2
            .clone();
        let mut st = self.state.lock().unwrap();
        st.resource_version += 1;
        let meta = obj["metadata"].as_object_mut().expect("metadata");
        meta.entry("resourceVersion")
            .or_insert(json!(st.resource_version.to_string()));
        meta.entry("uid").or_insert(json!(format!(
            "00000000-0000-4000-8000-{:012}",
            st.resource_version
        )));
        meta.entry("creationTimestamp")
            .or_insert(json!("2026-11-01T00:00:00Z"));
        // Server-side field tracking, as every real object carries it: Flux applies the
        // generated objects, VSO updates the Secrets it owns.
        let owned_by_vso = meta
            .get("labels")
            .is_some_and(|l| l["app.kubernetes.io/managed-by"] == "hashicorp-vso");
        let (manager, operation) = if owned_by_vso {
            ("vault-secrets-operator", "Update")
        } else {
            ("kustomize-controller", "Apply")
        };
        let mut fields = serde_json::Map::new();
        fields.insert("f:metadata".into(), json!({"f:labels": {}}));
        for key in obj.as_object().expect("object").keys() {
            if !["apiVersion", "kind", "metadata", "status"].contains(&key.as_str()) {
                fields.insert(format!("f:{key}"), json!({}));
            }
        }
        let api_version = obj["apiVersion"].clone();
        obj["metadata"]
            .as_object_mut()
            .expect("metadata")
            .entry("managedFields")
            .or_insert(json!([{
                "apiVersion": api_version,
                "fieldsType": "FieldsV1",
                "fieldsV1": fields,
                "manager": manager,
                "operation": operation,
                "time": "2026-11-01T00:00:00Z",
            }]));
        st.objects.entry(plural.to_string()).or_default().push(obj);
    }

    /// Removes objects of `kind` named `name` in `namespace`.
    pub fn remove(&self, kind: &str, namespace: &str, name: &str) {
        let mut st = self.state.lock().unwrap();
        for list in st.objects.values_mut() {
            list.retain(|o| {
                !(o["kind"] == kind
                    && o["metadata"]["name"] == name
                    && o["metadata"]["namespace"].as_str().unwrap_or("") == namespace)
            });
        }
    }

    /// Changes objects in place.
    pub fn modify(&self, kind: &str, namespace: &str, name: &str, mut f: impl FnMut(&mut Value)) {
        let mut st = self.state.lock().unwrap();
        for list in st.objects.values_mut() {
            for o in list.iter_mut() {
                if o["kind"] == kind
                    && o["metadata"]["name"] == name
                    && o["metadata"]["namespace"].as_str().unwrap_or("") == namespace
                {
                    f(o);
                }
            }
        }
    }

    pub fn request_count(&self) -> usize {
        self.state.lock().unwrap().requests.len()
    }

    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn reset_requests(&self) {
        self.state.lock().unwrap().requests.clear();
    }

    pub fn set_latency(&self, d: Duration) {
        self.state.lock().unwrap().latency = d;
    }

    pub fn fail_with(&self, status: Option<u16>) {
        self.state.lock().unwrap().fail_all = status;
    }

    pub fn fail_next(&self, statuses: &[u16]) {
        self.state.lock().unwrap().fail_next = statuses.iter().rev().copied().collect();
    }

    /// Answers lists of `plural` with `200 OK` and a `Status` failure body.
    pub fn status_on_200(&self, plural: &str) {
        self.state
            .lock()
            .unwrap()
            .status_on_200
            .insert(plural.to_string());
    }

    /// Makes lists of `plural` endless: every page has one item and a `continue` token.
    pub fn endless_pages(&self, plural: &str) {
        self.state
            .lock()
            .unwrap()
            .endless
            .insert(plural.to_string());
    }

    /// Answers every request with `code` and a plain-text body (None: serve normally).
    pub fn fail_with_text(&self, failure: Option<(u16, &str)>) {
        self.state.lock().unwrap().fail_text = failure.map(|(c, t)| (c, t.to_string()));
    }

    /// Adds `Retry-After: seconds` to injected 429/503 answers.
    pub fn retry_after(&self, seconds: Option<u32>) {
        self.state.lock().unwrap().retry_after = seconds;
    }

    /// Writes a kubeconfig without credentials.
    pub fn write_anonymous_kubeconfig(&self, dir: &std::path::Path) -> std::path::PathBuf {
        self.write_kubeconfig_with_user(dir, "anonymous", "")
    }

    /// Serves nothing of API `group` (404 on its paths), as a cluster without its CRDs: e.g.
    /// `secrets.hashicorp.com` before the Vault Secrets Operator is installed.
    pub fn not_installed(&self, group: &str) {
        self.state
            .lock()
            .unwrap()
            .not_installed
            .insert(group.to_string());
    }

    /// Forbids listing `plural` in every scope.
    pub fn forbid_everywhere(&self, plural: &str) {
        self.state
            .lock()
            .unwrap()
            .forbid_everywhere
            .insert(plural.to_string());
    }

    pub fn forbid_cluster_list(&self, plural: &str) {
        self.state
            .lock()
            .unwrap()
            .forbid_cluster_list
            .insert(plural.to_string());
    }

    /// Adds a running Vault server pod with the chart's labels whose port 8200 the pod proxy
    /// forwards to `backend` (`127.0.0.1:PORT`).
    pub fn add_vault_pod(&self, namespace: &str, name: &str, backend: &str) {
        self.add(json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {
                    "app.kubernetes.io/name": "vault",
                    "app.kubernetes.io/instance": "vault",
                    "component": "server",
                    "statefulset.kubernetes.io/pod-name": name,
                },
            },
            "status": {"phase": "Running", "podIP": "127.0.0.1"},
        }));
        self.set_pod_backend(namespace, name, backend);
    }

    /// Points the pod proxy of `namespace/pod` at `backend` (a restarted server's new port).
    pub fn set_pod_backend(&self, namespace: &str, pod: &str, backend: &str) {
        self.state.lock().unwrap().pod_backends.insert(
            (namespace.to_string(), pod.to_string()),
            backend.to_string(),
        );
    }

    /// Refuses these verbs (`get`, `update`, ...) on `pods/proxy` (403).
    pub fn forbid_pod_proxy(&self, verbs: &[&str]) {
        self.state.lock().unwrap().forbid_pod_proxy = verbs.iter().map(|v| v.to_string()).collect();
    }

    /// Writes a kubeconfig for this server (bearer token auth) and returns its path.
    pub fn write_kubeconfig(&self, dir: &std::path::Path, context: &str) -> std::path::PathBuf {
        self.write_kubeconfig_with_user(dir, context, &format!("    token: {TOKEN}"))
    }
}

impl Tls {
    /// A server certificate that is its own CA (and no client CA: tokens only).
    fn self_signed() -> Tls {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "self-signed-apiserver");
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
            )
            .unwrap();
        Tls {
            ca_pem: cert.pem(),
            client_cert_pem: String::new(),
            client_key_pem: String::new(),
            config: Arc::new(config),
        }
    }

    fn new() -> Tls {
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
            IsCa, KeyPair,
        };
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "fake-apiserver-ca");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();

        let mut server_params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_key = KeyPair::generate().unwrap();
        let server_cert = server_params.signed_by(&server_key, &ca).unwrap();

        let mut client_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        client_params
            .distinguished_name
            .push(DnType::CommonName, "tester");
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_key = KeyPair::generate().unwrap();
        let client_cert = client_params.signed_by(&client_key, &ca).unwrap();

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.der().clone()).unwrap();
        // Like an API server: a client certificate is verified when presented, not required
        // (bearer tokens work too).
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .allow_unauthenticated()
        .build()
        .unwrap();
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![server_cert.der().clone()],
                rustls::pki_types::PrivatePkcs8KeyDer::from(server_key.serialize_der()).into(),
            )
            .unwrap();
        Tls {
            ca_pem: ca.pem(),
            client_cert_pem: client_cert.pem(),
            client_key_pem: client_key.serialize_pem(),
            config: Arc::new(config),
        }
    }
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Reads requests off one connection until the client closes it (HTTP/1.1 keep-alive).
fn serve_connection(state: &Arc<Mutex<State>>, stream: impl Connection) {
    use std::io::{BufRead, BufReader, Read};
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (Some(method), Some(url)) = (parts.next(), parts.next()) else {
            return;
        };
        let (method, url) = (method.to_string(), url.to_string());
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let keep_alive = !headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("connection") && v.eq_ignore_ascii_case("close"));
        let client_certified = reader.get_ref().client_certified();
        let req = Request {
            method,
            url,
            headers,
            stream: reader.get_mut(),
            body,
            keep_alive,
            client_certified,
        };
        handle(state, req);
        if !keep_alive {
            return;
        }
    }
}

/// The API server's answer for a path it does not serve.
fn no_such_resource(req: Request) {
    respond(
        req,
        404,
        &status_body(
            404,
            "NotFound",
            "the server could not find the requested resource",
        ),
    )
}

fn status_body(code: u16, reason: &str, message: &str) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    })
}

fn reason_phrase(code: u16) -> &'static str {
    match code {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn respond(mut req: Request, code: u16, body: &Value) {
    let text = serde_json::to_vec(body).expect("json");
    write_response(&mut req, code, &text);
}

fn write_response(req: &mut Request, code: u16, body: &[u8]) {
    write_response_with(req, code, body, "application/json", None)
}

fn write_response_with(
    req: &mut Request,
    code: u16,
    body: &[u8],
    content_type: &str,
    retry_after: Option<u32>,
) {
    let head = format!(
        "HTTP/1.1 {code} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{}{}\r\n",
        reason_phrase(code),
        body.len(),
        retry_after
            .map(|s| format!("Retry-After: {s}\r\n"))
            .unwrap_or_default(),
        if req.keep_alive {
            ""
        } else {
            "Connection: close\r\n"
        }
    );
    let _ = req.stream.write_all(head.as_bytes());
    let _ = req.stream.write_all(body);
    let _ = req.stream.flush();
}

fn handle(state: &Arc<Mutex<State>>, req: Request) {
    let url = req.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let params: BTreeMap<String, String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), percent_decode(v))
        })
        .collect();
    let (latency, failure, fail_text, retry_after) = {
        let mut st = state.lock().unwrap();
        st.requests.push(format!("{} {}", req.method(), url));
        let failure = st.fail_next.pop().or(st.fail_all);
        (st.latency, failure, st.fail_text.clone(), st.retry_after)
    };
    if !latency.is_zero() {
        std::thread::sleep(latency);
    }
    if let Some((code, text)) = fail_text {
        let mut req = req;
        return write_response_with(&mut req, code, text.as_bytes(), "text/plain", retry_after);
    }
    if let Some(code) = failure {
        if let Some(seconds) = retry_after.filter(|_| code == 429 || code == 503) {
            let (reason, msg) = if code == 429 {
                (
                    "TooManyRequests",
                    "the server has received too many requests and has asked us to try again later",
                )
            } else {
                (
                    "ServiceUnavailable",
                    "the server is currently unable to handle the request",
                )
            };
            let body = serde_json::to_vec(&status_body(code, reason, msg)).expect("json");
            let mut req = req;
            return write_response_with(&mut req, code, &body, "application/json", Some(seconds));
        }
        let (reason, msg) = match code {
            429 => ("TooManyRequests", "the server has received too many requests and has asked us to try again later"),
            503 => ("ServiceUnavailable", "the server is currently unable to handle the request"),
            _ => ("InternalError", "an error on the server (\"injected failure\") has prevented the request from succeeding"),
        };
        return respond(req, code, &status_body(code, reason, msg));
    }
    let authorized = req.client_certified
        || req.header("Authorization") == Some(format!("Bearer {TOKEN}").as_str());
    if !authorized {
        return respond(req, 401, &status_body(401, "Unauthorized", "Unauthorized"));
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["api"] => respond(
            req,
            200,
            &json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}),
        ),
        ["apis"] => {
            let not_installed = state.lock().unwrap().not_installed.clone();
            respond(req, 200, &api_group_list(&not_installed))
        }
        ["api", "v1"] => respond(req, 200, &resource_list("", "v1")),
        ["apis", g, _] if state.lock().unwrap().not_installed.contains(*g) => no_such_resource(req),
        ["apis", g, v] => respond(req, 200, &resource_list(g, v)),
        ["version"] => respond(
            req,
            200,
            &json!({"major": "1", "minor": "33", "gitVersion": "v1.33.0-fake", "platform": "linux/amd64"}),
        ),
        ["api", "v1", "namespaces", ns, "pods", target, "proxy", rest @ ..] => {
            let (ns, target, rest) = (ns.to_string(), target.to_string(), rest.join("/"));
            pod_proxy(state, req, &ns, &target, &rest, query)
        }
        _ => serve_resource(state, req, &segments, &params),
    }
}

/// The API server's pod proxy: `[scheme:]pod:port` → the configured backend, the request
/// passed on as the real API server passes it (method, path below `proxy/`, query, body, and
/// the headers except the client's own `Authorization`), the backend's answer relayed with
/// its status. A backend that does not answer is a 503 `Status`, as from a real API server.
/// (The fake's backends speak plain HTTP: `https:` is accepted and recorded, not dialled
/// with TLS.)
fn pod_proxy(
    state: &Arc<Mutex<State>>,
    mut req: Request,
    namespace: &str,
    target: &str,
    rest: &str,
    query: &str,
) {
    let parts: Vec<&str> = target.split(':').collect();
    let pod = match parts.as_slice() {
        [pod] | [pod, _] | ["http" | "https", pod, _] => pod.to_string(),
        _ => return no_such_resource(req),
    };
    let (forbidden, backend) = {
        let st = state.lock().unwrap();
        (
            st.forbid_pod_proxy.clone(),
            st.pod_backends
                .get(&(namespace.to_string(), pod.clone()))
                .cloned(),
        )
    };
    // The API server's RBAC verb for a proxied request is its method's.
    let verb = match req.method() {
        "POST" => "create",
        "PUT" => "update",
        "PATCH" => "patch",
        "DELETE" => "delete",
        _ => "get",
    };
    if forbidden.iter().any(|v| v == verb) {
        let msg = format!("pods \"{pod}\" is forbidden: User \"system:serviceaccount:ci:operator\" cannot {verb} resource \"pods/proxy\" in API group \"\" in the namespace \"{namespace}\"");
        return respond(req, 403, &status_body(403, "Forbidden", &msg));
    }
    let Some(backend) = backend else {
        return respond(
            req,
            404,
            &status_body(404, "NotFound", &format!("pods \"{pod}\" not found")),
        );
    };
    let path = if query.is_empty() {
        format!("/{rest}")
    } else {
        format!("/{rest}?{query}")
    };
    match forward(&backend, &req, &path) {
        Ok((code, content_type, body)) => {
            write_response_with(&mut req, code, &body, &content_type, None)
        }
        Err(e) => respond(
            req,
            503,
            &status_body(
                503,
                "ServiceUnavailable",
                &format!("error trying to reach service: dial tcp {backend}: {e}"),
            ),
        ),
    }
}

/// One HTTP/1.1 exchange with a backend: (status, content type, body).
fn forward(backend: &str, req: &Request, path: &str) -> std::io::Result<(u16, String, Vec<u8>)> {
    use std::io::Read;
    let mut conn = std::net::TcpStream::connect(backend)?;
    conn.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!(
        "{} {path} HTTP/1.1\r\nHost: {backend}\r\nConnection: close\r\nContent-Length: {}\r\n",
        req.method(),
        req.body.len()
    );
    for (k, v) in &req.headers {
        let skip = ["authorization", "host", "connection", "content-length"];
        if !skip.contains(&k.to_ascii_lowercase().as_str()) {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes())?;
    conn.write_all(&req.body)?;
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP head from the backend"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let code: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status from the backend"))?;
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    if header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        body = dechunk(&body);
    }
    Ok((
        code,
        header("content-type").unwrap_or_else(|| "application/octet-stream".into()),
        body,
    ))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or(0);
        if size == 0 || data.len() < eol + 2 + size {
            return out;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[(eol + 4 + size).min(data.len())..];
    }
}

/// The served API groups (discovery), without those whose CRDs are not installed.
fn api_group_list(not_installed: &HashSet<String>) -> Value {
    let mut groups: BTreeMap<&str, &str> = BTreeMap::new();
    for r in RESOURCES
        .iter()
        .filter(|r| !r.0.is_empty() && !not_installed.contains(r.0.as_str()))
    {
        groups.insert(&r.0, &r.1);
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(g, v)| {
            let gv = json!({"groupVersion": format!("{g}/{v}"), "version": v});
            json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn resource_list(group: &str, version: &str) -> Value {
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let resources: Vec<Value> = RESOURCES
        .iter()
        .filter(|r| r.0 == group && r.1 == version)
        .map(|r| {
            json!({
                "name": r.2, "singularName": r.3.to_lowercase(), "namespaced": r.4, "kind": r.3,
                "verbs": ["get", "list", "watch"],
            })
        })
        .collect();
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
}

fn serve_resource(
    state: &Arc<Mutex<State>>,
    req: Request,
    seg: &[&str],
    params: &BTreeMap<String, String>,
) {
    // /api/v1/[namespaces/NS/]PLURAL[/NAME] or /apis/G/V/[namespaces/NS/]PLURAL[/NAME]
    let (group, version, rest) = match seg {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return no_such_resource(req),
    };
    let (namespace, plural, name) = match rest {
        ["namespaces", ns, plural] => (Some(*ns), *plural, None),
        ["namespaces", ns, plural, name] => (Some(*ns), *plural, Some(*name)),
        ["namespaces", name] => (None, "namespaces", Some(*name)),
        [plural] => (None, *plural, None),
        _ => return no_such_resource(req),
    };
    if state.lock().unwrap().not_installed.contains(group) {
        return no_such_resource(req);
    }
    let Some(res) = RESOURCES
        .iter()
        .find(|r| r.0 == group && r.1 == version && r.2 == plural)
    else {
        return no_such_resource(req);
    };
    let gr = if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    };
    let st = state.lock().unwrap();
    if namespace.is_none() && name.is_none() && res.4 && st.forbid_cluster_list.contains(plural) {
        let msg = format!("{gr} is forbidden: User \"system:serviceaccount:ci:verifier\" cannot list resource \"{plural}\" in API group \"{group}\" at the cluster scope");
        drop(st);
        return respond(req, 403, &status_body(403, "Forbidden", &msg));
    }
    if st.forbid_everywhere.contains(plural) {
        let scope = namespace
            .map(|n| format!("in the namespace \"{n}\""))
            .unwrap_or_else(|| "at the cluster scope".into());
        let msg = format!("{gr} is forbidden: User \"system:serviceaccount:ci:verifier\" cannot list resource \"{plural}\" in API group \"{group}\" {scope}");
        drop(st);
        return respond(req, 403, &status_body(403, "Forbidden", &msg));
    }
    if name.is_none() && st.status_on_200.contains(plural) {
        drop(st);
        return respond(
            req,
            200,
            &status_body(500, "InternalError", "etcdserver: request timed out"),
        );
    }
    let endless = name.is_none() && st.endless.contains(plural);
    let all = st.objects.get(plural).cloned().unwrap_or_default();
    let rv = st.resource_version;
    drop(st);
    if endless {
        // A page of one made-up object and a token that always leads to another page.
        let n: u64 = params
            .get("continue")
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let item = json!({"metadata": {"name": format!("endless-{n}"), "namespace": namespace.unwrap_or("default")}});
        return respond(
            req,
            200,
            &json!({"kind": format!("{}List", res.3), "apiVersion": "v1", "metadata": {"resourceVersion": rv.to_string(), "continue": (n + 1).to_string()}, "items": [item]}),
        );
    }
    let in_ns = |o: &Value| namespace.is_none_or(|ns| o["metadata"]["namespace"] == ns);
    if let Some(name) = name {
        return match all
            .iter()
            .find(|o| in_ns(o) && o["metadata"]["name"] == name)
        {
            Some(o) => respond(req, 200, o),
            None => respond(
                req,
                404,
                &status_body(404, "NotFound", &format!("{gr} \"{name}\" not found")),
            ),
        };
    }
    let selected: Vec<Value> = all
        .into_iter()
        .filter(|o| in_ns(o))
        .filter(|o| {
            params
                .get("labelSelector")
                .is_none_or(|s| label_selector_matches(s, o))
        })
        .filter(|o| {
            params
                .get("fieldSelector")
                .is_none_or(|s| field_selector_matches(s, o))
        })
        .collect();
    if params.get("watch").is_some_and(|w| w == "1" || w == "true") {
        return watch(req, selected);
    }
    // Pagination: `continue` is the offset of the next item.
    let start: usize = params
        .get("continue")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let limit: usize = params
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let end = start.saturating_add(limit).min(selected.len());
    let items: Vec<Value> = selected[start.min(end)..end].to_vec();
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if end < selected.len() {
        metadata["continue"] = json!(end.to_string());
        metadata["remainingItemCount"] = json!(selected.len() - end);
    }
    let api_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    respond(
        req,
        200,
        &json!({"kind": format!("{}List", res.3), "apiVersion": api_version, "metadata": metadata, "items": items}),
    );
}

/// A watch: one ADDED event per current object, then the stream ends (as when the server's
/// watch timeout passes); clients re-list or re-watch from the list's resourceVersion.
fn watch(mut req: Request, objects: Vec<Value>) {
    let mut body = Vec::new();
    for o in objects {
        let _ = writeln!(body, "{}", json!({"type": "ADDED", "object": o}));
    }
    req.keep_alive = false;
    write_response(&mut req, 200, &body);
}

fn labels(o: &Value) -> BTreeMap<String, String> {
    o["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Equality- and existence-based selectors: `a=b`, `a==b`, `a!=b`, `a`, `!a`, comma-separated.
pub fn label_selector_matches(selector: &str, o: &Value) -> bool {
    let l = labels(o);
    selector.split(',').filter(|s| !s.is_empty()).all(|term| {
        if let Some((k, v)) = term.split_once("!=") {
            l.get(k).map(String::as_str) != Some(v)
        } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            l.get(k).map(String::as_str) == Some(v)
        } else if let Some(k) = term.strip_prefix('!') {
            !l.contains_key(k)
        } else {
            l.contains_key(term)
        }
    })
}

pub fn field_selector_matches(selector: &str, o: &Value) -> bool {
    selector.split(',').filter(|s| !s.is_empty()).all(|term| {
        let (k, v, negate) = match term.split_once("!=") {
            Some((k, v)) => (k, v, true),
            None => {
                let (k, v) = term
                    .split_once("==")
                    .or_else(|| term.split_once('='))
                    .unwrap_or((term, ""));
                (k, v, false)
            }
        };
        let mut cur = o;
        for part in k.split('.') {
            cur = &cur[part];
        }
        let actual = cur.as_str().unwrap_or_default();
        (actual == v) != negate
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
