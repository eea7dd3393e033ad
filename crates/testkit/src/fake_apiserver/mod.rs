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
//!
//! This module holds the fake's state and what a test does with it (start, add objects,
//! inject failures, count requests); `kubeconfig` writes the kubeconfigs that reach it,
//! `tls` makes its certificates, `http` reads requests and writes answers, `api` answers as
//! the API server (discovery, get, list, watch), `proxy` as its pod proxy and `token_review`
//! as its TokenReview endpoint (with the ServiceAccount tokens it issues).

mod api;
mod http;
mod kubeconfig;
mod proxy;
mod tls;
mod token_review;

pub use api::{field_selector_matches, label_selector_matches};
pub use tls::Tls;
pub use token_review::{Review, API_AUDIENCE};

use http::serve_connection;
use kubectl_vault_core::kinds::Kind;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
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
    // The Vault StatefulSet: `operator` talks only to the pods it made.
    all.push((
        "apps".into(),
        "v1".into(),
        "statefulsets".into(),
        "StatefulSet".into(),
        true,
    ));
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
    /// (plural, namespace): lists refused in that namespace only, as a Role missing there.
    forbid_in: HashSet<(String, String)>,
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
    /// The ServiceAccount tokens this server issued, by token.
    issued: BTreeMap<String, token_review::Issued>,
    /// ServiceAccounts bound to `system:auth-delegator` (`namespace`, `name`).
    reviewers: HashSet<(String, String)>,
    /// Every TokenReview answered.
    reviews: Vec<Review>,
}

pub struct FakeApiServer {
    state: Arc<Mutex<State>>,
    port: u16,
    stop: Arc<std::sync::atomic::AtomicBool>,
    tls: Option<Arc<Tls>>,
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

    /// Forbids listing `plural` in `namespace` only (the user has no Role there).
    pub fn forbid_in(&self, plural: &str, namespace: &str) {
        self.state
            .lock()
            .unwrap()
            .forbid_in
            .insert((plural.to_string(), namespace.to_string()));
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
        self.add_server_pod("vault", namespace, name, backend);
    }

    /// Adds a running server pod of the chart `chart` (`vault`, or `openbao`: its release, as
    /// the tree names it, and its labels) whose port 8200 the pod proxy forwards to `backend`.
    pub fn add_server_pod(&self, chart: &str, namespace: &str, name: &str, backend: &str) {
        // The chart's StatefulSet makes the pod (its controller), and has at least its ordinal.
        let ordinal: u64 = name
            .rsplit_once('-')
            .and_then(|(_, n)| n.parse().ok())
            .unwrap_or(0);
        let uid = self.server_statefulset(chart, namespace, ordinal + 1);
        self.add(json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "ownerReferences": [{
                    "apiVersion": "apps/v1",
                    "kind": "StatefulSet",
                    "name": chart,
                    "uid": uid,
                    "controller": true,
                    "blockOwnerDeletion": true,
                }],
                "labels": {
                    "app.kubernetes.io/name": chart,
                    "app.kubernetes.io/instance": chart,
                    "component": "server",
                    "statefulset.kubernetes.io/pod-name": name,
                },
            },
            "status": {"phase": "Running", "podIP": "127.0.0.1"},
        }));
        self.set_pod_backend(namespace, name, backend);
    }

    /// The Vault chart's StatefulSet `vault` in `namespace` (created on first use) with at least
    /// `replicas`; returns its UID.
    pub fn vault_statefulset(&self, namespace: &str, replicas: u64) -> String {
        self.server_statefulset("vault", namespace, replicas)
    }

    /// The StatefulSet of chart `chart` (named after its release, `vault` or `openbao`) in
    /// `namespace` (created on first use) with at least `replicas`; returns its UID.
    pub fn server_statefulset(&self, chart: &str, namespace: &str, replicas: u64) -> String {
        let uid = format!(
            "5ea7f5e7-0000-4000-8000-{:012x}",
            namespace.len() as u64 * 7919 + chart.len() as u64 - 5
        );
        let exists = self
            .state
            .lock()
            .unwrap()
            .objects
            .get("statefulsets")
            .is_some_and(|l| {
                l.iter().any(|o| {
                    o["metadata"]["namespace"] == namespace && o["metadata"]["name"] == chart
                })
            });
        if exists {
            self.modify("StatefulSet", namespace, chart, |o| {
                let now = o["spec"]["replicas"].as_u64().unwrap_or(0);
                o["spec"]["replicas"] = json!(now.max(replicas));
            });
        } else {
            self.add(json!({
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "metadata": {"name": chart, "namespace": namespace, "uid": uid},
                "spec": {"replicas": replicas, "serviceName": format!("{chart}-internal")},
            }));
        }
        uid
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
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}
