//! Vault's API on each Vault pod, reached as kubectl reaches a pod: through the Kubernetes API
//! server's pod proxy (`/api/v1/namespaces/<ns>/pods/[https:]<pod>:8200/proxy/...`) with the
//! user's kubeconfig, over the same client, deadlines and request counter as
//! [`crate::edge::kube`]. No port-forward, no network path to the pods needed.
//!
//! An answer the API server gives itself (a `Status` body: forbidden, pod not found, pod not
//! reachable) is told apart from Vault's answer (relayed as Vault sent it).

use crate::core::model::Distribution;
use crate::core::vault_pods::{self, VaultPod, VAULT_PORT};
use crate::edge::kube::{
    is_tls_rejection, read_body, status_text, with_causes, Cluster, Kind, Scope,
};
use crate::error::Error;
use http::Method;
use std::time::{Duration, Instant};

/// Largest Vault answer read into memory (a snapshot is streamed to disk instead).
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// The Vault pods of one namespace, through one cluster connection.
pub(crate) struct PodProxy<'c> {
    cluster: &'c Cluster,
    namespace: String,
    https: bool,
    /// Whose chart made the pods: the StatefulSet's name and the pods' labels.
    distribution: Distribution,
}

/// Vault's answer: status and body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

/// Why a proxied request got no answer from Vault.
#[derive(Debug)]
pub(crate) enum ProxyError {
    /// The API server refused (403): which verb on which resource.
    Forbidden {
        verb: &'static str,
        resource: &'static str,
        message: String,
    },
    Unauthorized(String),
    /// The API server answered for the pod: not found, not running, not reachable.
    Pod(String),
    /// No answer from the API server within --request-timeout.
    Unreachable(String),
    Tls(String),
    TooLarge,
}

impl ProxyError {
    /// The user's error, naming the pod (or the list) and the namespace.
    pub(crate) fn into_error(self, what: &str, namespace: &str, server: &str) -> Error {
        match self {
            ProxyError::Forbidden { verb, resource, message } => Error::environment(format!("forbidden: {what}: the kubeconfig user may not `{verb} {resource}` in namespace {namespace} ({message})")).with_hint(format!("grant `{verb}` on `{resource}` in namespace {namespace} (a Role; docs: commands/operator.md, RBAC)")),
            ProxyError::Unauthorized(m) => Error::environment(format!("the cluster at {server} rejected the credentials: {m}")).with_hint("check the kubeconfig user (token, client certificate or exec plugin)"),
            ProxyError::Pod(m) => Error::environment(format!("{what}: the API server could not reach it: {m}")).with_hint(format!("is the pod running and listening on {VAULT_PORT}? (`kubectl -n {namespace} get pods`)")),
            ProxyError::Unreachable(m) => Error::environment(format!("the API server at {server} is unreachable: {m}")).with_hint("check --context and the cluster's address; --request-timeout bounds the wait"),
            ProxyError::Tls(m) => Error::environment(format!("the TLS handshake with the API server at {server} failed: {m}")).with_hint("check the kubeconfig's certificate-authority"),
            ProxyError::TooLarge => Error::environment(format!(
                "{what}: an answer larger than {} MiB; stopped",
                MAX_ANSWER_BYTES / (1024 * 1024)
            )),
        }
    }
}

impl<'c> PodProxy<'c> {
    pub(crate) fn new(
        cluster: &'c Cluster,
        namespace: &str,
        https: bool,
        distribution: Distribution,
    ) -> PodProxy<'c> {
        PodProxy {
            cluster,
            namespace: namespace.to_string(),
            https,
            distribution,
        }
    }

    /// Whose chart made the pods.
    pub(crate) fn distribution(&self) -> Distribution {
        self.distribution
    }

    /// True when the pods are reached as `https:` (the API server does not verify them).
    pub(crate) fn https(&self) -> bool {
        self.https
    }

    pub(crate) fn namespace(&self) -> &str {
        &self.namespace
    }

    pub(crate) fn server(&self) -> &str {
        &self.cluster.server
    }

    /// The Vault server pods (the chart's labels), in StatefulSet order.
    /// The pods of the Vault StatefulSet (by controller UID and ordinal name), and the other
    /// pods that wear Vault's labels (never talked to). No StatefulSet: an environment error.
    pub(crate) async fn pods(&self) -> Result<(Vec<VaultPod>, Vec<vault_pods::Impostor>), Error> {
        let release = self.distribution.release();
        let sts = self
            .cluster
            .get_statefulset(&self.namespace, release)
            .await?
            .as_ref()
            .and_then(vault_pods::VaultStatefulSet::from_json)
            .ok_or_else(|| {
                Error::environment(format!(
                    "no Vault StatefulSet `{release}` in namespace {}: there are no Vault pods to talk to",
                    self.namespace
                ))
                .with_hint("has Flux installed the vault HelmRelease? (`kubectl vault verify`)")
            })?;
        let pods = list_pods(self.cluster, &self.namespace, self.distribution).await?;
        Ok(vault_pods::own_pods(pods, &sts, self.distribution))
    }

    fn pod_path(&self, pod: &str, api_path: &str) -> String {
        let scheme = if self.https { "https:" } else { "" };
        format!(
            "/api/v1/namespaces/{}/pods/{scheme}{pod}:{VAULT_PORT}/proxy/v1/{api_path}",
            self.namespace
        )
    }

    /// One call to Vault's API on `pod`. GETs are retried on transport failures and 429
    /// within --request-timeout; a PUT is sent once (an init must never be sent twice).
    pub(crate) async fn call(
        &self,
        pod: &str,
        method: Method,
        api_path: &str,
        body: Option<&serde_json::Value>,
        token: Option<&str>,
    ) -> Result<Reply, ProxyError> {
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let path = self.pod_path(pod, api_path);
        let retry = method == Method::GET;
        let (status, body) = send(self.cluster, &method, &path, body, token, retry, |res| {
            read_limited(res, MAX_ANSWER_BYTES)
        })
        .await?;
        Ok(Reply { status, body })
    }

    /// A POST of raw bytes (a raft snapshot to restore), sent once, never retried.
    pub(crate) async fn upload(
        &self,
        pod: &str,
        api_path: &str,
        body: Vec<u8>,
        token: &str,
    ) -> Result<Reply, ProxyError> {
        let path = self.pod_path(pod, api_path);
        let (status, body) = send(
            self.cluster,
            &Method::POST,
            &path,
            body,
            Some(token),
            false,
            |res| read_limited(res, MAX_ANSWER_BYTES),
        )
        .await?;
        Ok(Reply { status, body })
    }

    /// A GET whose answer is streamed into `out` (a raft snapshot can be large): each chunk
    /// must come within --request-timeout. Returns Vault's status and, when it is not 200, its
    /// (bounded) error body; on 200 the body is in `out`.
    pub(crate) async fn download(
        &self,
        pod: &str,
        api_path: &str,
        token: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<Download, Error> {
        let path = self.pod_path(pod, api_path);
        let idle = self.cluster.request_timeout();
        let what = format!("pod {pod}");
        let res = head(self.cluster, &Method::GET, &path, vec![], Some(token))
            .await
            .map_err(|e| e.into_error(&what, &self.namespace, self.server()))?;
        let status = res.status().as_u16();
        if status != 200 {
            let body = read_limited(res, MAX_ANSWER_BYTES)
                .await
                .map_err(|e| e.into_error(&what, &self.namespace, self.server()))?;
            return Ok(Download {
                status,
                body,
                written: 0,
                content_length: None,
            });
        }
        let content_length = res
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        use http_body_util::BodyExt;
        let mut body = res.into_body();
        let mut written = 0u64;
        loop {
            let frame = match tokio::time::timeout(idle, body.frame()).await {
                Err(_) => {
                    return Err(Error::environment(format!(
                    "{what}: the snapshot stopped coming (nothing for {idle:?}, --request-timeout)"
                )))
                }
                Ok(None) => break,
                Ok(Some(f)) => f.map_err(|e| {
                    Error::environment(format!(
                        "{what}: the snapshot download broke off: {}",
                        with_causes(&e)
                    ))
                })?,
            };
            if let Ok(data) = frame.into_data() {
                out.write_all(&data).map_err(|e| {
                    Error::environment_from(format!("writing the snapshot: {e}"), e)
                })?;
                written += data.len() as u64;
            }
        }
        Ok(Download {
            status: 200,
            body: vec![],
            written,
            content_length,
        })
    }
}

/// What a download brought: the status, the (bounded) body of a refusal, how many bytes were
/// written, and the length the answer announced (`Content-Length`), when it did.
pub(crate) struct Download {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    pub(crate) written: u64,
    pub(crate) content_length: Option<u64>,
}

/// The Vault server pods of `namespace` (the chart's labels): one list, with the list
/// machinery of [`crate::edge::kube`] (retries, deadlines, caps, a refusal naming `list pods`).
pub(crate) async fn list_pods(
    cluster: &Cluster,
    namespace: &str,
    distribution: Distribution,
) -> Result<Vec<VaultPod>, Error> {
    let pods = cluster
        .list(
            Kind::Pod,
            &Scope::Namespaces(vec![namespace.to_string()]),
            Some(&vault_pods::pod_selector(distribution)),
            None,
        )
        .await?;
    Ok(pods.iter().map(VaultPod::from_json).collect())
}

async fn read_limited(
    res: http::Response<kube::client::Body>,
    limit: usize,
) -> Result<Vec<u8>, ProxyError> {
    match read_body(res.into_body(), limit).await {
        Ok(Some(b)) => Ok(b),
        Ok(None) => Err(ProxyError::TooLarge),
        Err(e) => Err(ProxyError::Unreachable(with_causes(&e))),
    }
}

/// Sends a request and reads the answer with `read`, all before the request's deadline. The
/// API server's own failures become [`ProxyError`]s; any other answer is returned.
async fn send<F, Fut>(
    cluster: &Cluster,
    method: &Method,
    path: &str,
    body: Vec<u8>,
    token: Option<&str>,
    retry: bool,
    read: F,
) -> Result<(u16, Vec<u8>), ProxyError>
where
    F: Fn(http::Response<kube::client::Body>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<u8>, ProxyError>>,
{
    let deadline = cluster.request_deadline();
    let mut backoff = Duration::from_millis(100);
    loop {
        let attempt = async {
            let res = head(cluster, method, path, body.clone(), token).await?;
            let status = res.status().as_u16();
            let body = read(res).await?;
            Ok::<_, ProxyError>((status, body))
        };
        let left = deadline.saturating_duration_since(Instant::now());
        let result = match tokio::time::timeout(left.max(Duration::from_millis(1)), attempt).await {
            Ok(r) => r,
            Err(_) => {
                return Err(ProxyError::Unreachable(format!(
                    "no answer within {:?}",
                    cluster.request_timeout()
                )))
            }
        };
        let transient = match &result {
            Err(ProxyError::Unreachable(_)) => true,
            Ok((429, body)) => is_status(body),
            _ => false,
        };
        if !(retry && transient) || Instant::now() + backoff >= deadline {
            return result.and_then(|(status, body)| api_server_failure(method, status, body));
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

/// Sends one request and returns the response head (body unread).
async fn head(
    cluster: &Cluster,
    method: &Method,
    path: &str,
    body: Vec<u8>,
    token: Option<&str>,
) -> Result<http::Response<kube::client::Body>, ProxyError> {
    let mut req = http::Request::builder().method(method.clone()).uri(path);
    if let Some(t) = token {
        req = req.header("X-Vault-Token", t);
    }
    if !body.is_empty() {
        // A JSON request, or a raft snapshot (gzip) sent as it is.
        let binary = body.starts_with(&[0x1f, 0x8b]);
        req = req.header(
            "Content-Type",
            if binary {
                "application/octet-stream"
            } else {
                "application/json"
            },
        );
    }
    let req = req
        .body(body)
        .map_err(|e| ProxyError::Pod(format!("a bad request path: {e}")))?;
    cluster.count_request();
    let deadline = cluster.request_deadline();
    let left = deadline.saturating_duration_since(Instant::now());
    match tokio::time::timeout(
        left.max(Duration::from_millis(1)),
        cluster.client().send(req.map(kube::client::Body::from)),
    )
    .await
    {
        Err(_) => Err(ProxyError::Unreachable(format!(
            "no answer within {:?}",
            cluster.request_timeout()
        ))),
        Ok(Ok(res)) => Ok(res),
        Ok(Err(e)) if is_tls_rejection(&e) => Err(ProxyError::Tls(with_causes(&e))),
        Ok(Err(e)) => Err(ProxyError::Unreachable(with_causes(&e))),
    }
}

fn is_status(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| v["kind"] == "Status")
}

/// The RBAC verb the API server checks for a proxied request with this method.
fn rbac_verb(method: &Method) -> &'static str {
    match *method {
        Method::GET | Method::HEAD => "get",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE => "delete",
        _ => "get",
    }
}

/// An answer from the API server itself (a `Status` body) as an error; Vault's answers pass.
fn api_server_failure(
    method: &Method,
    status: u16,
    body: Vec<u8>,
) -> Result<(u16, Vec<u8>), ProxyError> {
    if !is_status(&body) || (200..300).contains(&status) {
        return Ok((status, body));
    }
    let message = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| status_text(status, &body));
    Err(match status {
        401 => ProxyError::Unauthorized(message),
        403 => ProxyError::Forbidden {
            verb: rbac_verb(method),
            resource: "pods/proxy",
            message,
        },
        _ => ProxyError::Pod(status_text(status, &body)),
    })
}
