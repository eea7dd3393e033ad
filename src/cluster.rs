//! The Kubernetes edge of `verify`: a client built the way kubectl builds one, and lists of
//! whole kinds (one request per kind, paginated), retried on 429/5xx/timeouts within a deadline.

use crate::error::Error;
use kube::api::{DynamicObject, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Client, Config};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Objects per list page: large, so that the number of requests stays one per kind for all
/// but the largest clusters (the API server streams lists; 5,000 is well within its limits).
const PAGE_SIZE: u32 = 5000;

/// How to reach the cluster, with kubectl's flags.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub request_timeout: Duration,
}

/// A client plus the request budget.
pub struct Cluster {
    client: Client,
    timeout: Duration,
    requests: Arc<AtomicUsize>,
    pub server: String,
}

/// One kind to list.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
}

impl Kind {
    pub const fn new(
        group: &'static str,
        version: &'static str,
        kind: &'static str,
        plural: &'static str,
    ) -> Kind {
        Kind {
            group,
            version,
            kind,
            plural,
        }
    }
    fn resource(&self) -> ApiResource {
        ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(self.group, self.version, self.kind),
            self.plural,
        )
    }
    /// `vaultstaticsecrets.secrets.hashicorp.com`, as RBAC names it.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

/// Where to list: the whole cluster (falling back to `fallback` namespaces when that is
/// forbidden), or fixed namespaces.
#[derive(Debug, Clone)]
pub enum Scope {
    Cluster { fallback: Vec<String> },
    Namespaces(Vec<String>),
}

impl Cluster {
    pub async fn connect(c: &Connection) -> Result<Cluster, Error> {
        let kubeconfig = match &c.kubeconfig {
            Some(p) => Kubeconfig::read_from(p)
                .map_err(|e| Error::usage(format!("--kubeconfig {}: {e}", p.display())))?,
            None => Kubeconfig::read().map_err(|e| {
                Error::environment(format!(
                    "no kubeconfig: {e}\nhint: set KUBECONFIG or pass --kubeconfig"
                ))
            })?,
        };
        let options = KubeConfigOptions {
            context: c.context.clone(),
            cluster: None,
            user: None,
        };
        let mut config = Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| {
                let msg = e.to_string();
                if msg.contains("context") {
                    Error::usage(format!("kubeconfig: {msg}"))
                } else {
                    Error::environment(format!("kubeconfig: {msg}"))
                }
            })?;
        config.connect_timeout = Some(c.request_timeout);
        config.read_timeout = Some(c.request_timeout);
        config.write_timeout = Some(c.request_timeout);
        let server = config.cluster_url.to_string();
        let client = Client::try_from(config)
            .map_err(|e| Error::environment(format!("cannot build a client for {server}: {e}")))?;
        Ok(Cluster {
            client,
            timeout: c.request_timeout,
            requests: Arc::new(AtomicUsize::new(0)),
            server,
        })
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// Every object of `kind` in `scope` matching the selectors, as JSON.
    pub async fn list(
        &self,
        kind: Kind,
        scope: &Scope,
        labels: Option<&str>,
        fields: Option<&str>,
    ) -> Result<Vec<Value>, Error> {
        match scope {
            Scope::Cluster { fallback } => match self.list_in(kind, None, labels, fields).await {
                Err(ListError::Forbidden(_)) if !fallback.is_empty() => {
                    let mut all = Vec::new();
                    for ns in fallback {
                        all.extend(
                            self.list_in(kind, Some(ns), labels, fields)
                                .await
                                .map_err(|e| e.into_error(kind, Some(ns), &self.server))?,
                        );
                    }
                    Ok(all)
                }
                other => other.map_err(|e| e.into_error(kind, None, &self.server)),
            },
            Scope::Namespaces(nss) => {
                let mut all = Vec::new();
                for ns in nss {
                    all.extend(
                        self.list_in(kind, Some(ns), labels, fields)
                            .await
                            .map_err(|e| e.into_error(kind, Some(ns), &self.server))?,
                    );
                }
                Ok(all)
            }
        }
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
        loop {
            let page: ListPage = self
                .with_retries(|| {
                    let req = request.list(&params);
                    let client = self.client.clone();
                    async move {
                        let req = req.map_err(kube::Error::BuildRequest)?;
                        client.request::<ListPage>(req).await
                    }
                })
                .await?;
            for Item(mut v) in page.items {
                // List items of built-in kinds carry no apiVersion/kind: add them back.
                v["apiVersion"] = Value::String(ar.api_version.clone());
                v["kind"] = Value::String(kind.kind.to_string());
                out.push(v);
            }
            match page.metadata.continue_token.filter(|c| !c.is_empty()) {
                Some(token) => params = params.continue_token(&token),
                None => return Ok(out),
            }
        }
    }

    /// Retries 429, 5xx and transport errors with exponential backoff, all within the
    /// request timeout, so a dead API server fails within that time.
    async fn with_retries<T, F, Fut>(&self, mut call: F) -> Result<T, ListError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, kube::Error>>,
    {
        let deadline = Instant::now() + self.timeout;
        let mut backoff = Duration::from_millis(100);
        loop {
            self.requests.fetch_add(1, Ordering::Relaxed);
            let left = deadline.saturating_duration_since(Instant::now());
            let result =
                match tokio::time::timeout(left.max(Duration::from_millis(1)), call()).await {
                    Ok(r) => r,
                    Err(_) => {
                        return Err(ListError::Unreachable(format!(
                            "no answer within {:?}",
                            self.timeout
                        )))
                    }
                };
            let retryable = match &result {
                Ok(_) => return result.map_err(|_| unreachable!()),
                Err(kube::Error::Api(s)) if s.code == 403 => {
                    return Err(ListError::Forbidden(s.message.clone()))
                }
                Err(kube::Error::Api(s)) if s.code == 401 => {
                    return Err(ListError::Unauthorized(s.message.clone()))
                }
                Err(kube::Error::Api(s)) => s.code == 429 || s.code >= 500,
                // A rejected certificate (either side) does not heal with retries.
                Err(e) if is_tls_rejection(e) => {
                    return Err(ListError::Tls(with_causes(e)));
                }
                Err(_) => true,
            };
            let err = result.err().expect("error");
            if !retryable {
                return Err(ListError::Failed(err.to_string()));
            }
            if Instant::now() + backoff >= deadline {
                return Err(match err {
                    kube::Error::Api(s) => {
                        ListError::Failing(format!("{} {}: {}", s.code, s.reason, s.message))
                    }
                    other => ListError::Unreachable(with_causes(&other)),
                });
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }
}

/// An error with its chain of causes (`client error (Connect): invalid peer certificate:
/// UnknownIssuer`), de-duplicated: hyper and kube repeat a cause in their own messages.
fn with_causes(e: &dyn std::error::Error) -> String {
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
fn is_tls_rejection(e: &kube::Error) -> bool {
    let text = with_causes(e).to_lowercase();
    text.contains("invalid peer certificate") || text.contains("received fatal alert")
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
    Failing(String),
    Unreachable(String),
    Failed(String),
}

impl ListError {
    fn into_error(self, kind: Kind, namespace: Option<&str>, server: &str) -> Error {
        let scope = match namespace {
            Some(ns) => format!("in namespace {ns}"),
            None => "at cluster scope".to_string(),
        };
        match self {
            ListError::Forbidden(m) => Error::environment(format!(
                "forbidden: cannot list {} {scope} ({m})\nhint: grant `list` on {} (a ClusterRole for cluster scope, or a Role in each app namespace)",
                kind.qualified(), kind.qualified()
            )),
            ListError::Tls(m) => Error::environment(format!("the TLS handshake with the API server at {server} failed: {m}\nhint: check the kubeconfig: the cluster's certificate-authority(-data) must have issued the server's certificate, and a user's client-certificate must be issued by the cluster's client CA")),
            ListError::Unauthorized(m) => Error::environment(format!("the cluster at {server} rejected the credentials: {m}\nhint: check the kubeconfig user (token, client certificate or exec plugin)")),
            ListError::Failing(m) => Error::environment(format!("the API server at {server} is failing: listing {} {scope}: {m}", kind.qualified())),
            ListError::Unreachable(m) => Error::environment(format!("the API server at {server} is unreachable: {m}\nhint: check --context and the cluster's address; --request-timeout bounds the wait")),
            ListError::Failed(m) => Error::environment(format!("listing {} {scope} failed: {m}", kind.qualified())),
        }
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
