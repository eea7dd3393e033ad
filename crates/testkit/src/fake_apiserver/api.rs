//! The API server's answers: authentication, injected failures, discovery, and get, list
//! (selectors, pagination, forbidden scopes) and watch of the served resources.

use super::http::{
    no_such_resource, respond, status_body, write_response, write_response_with, Request,
};
use super::proxy::pod_proxy;
use super::{State, RESOURCES, TOKEN};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::sync::{Arc, Mutex};

pub(super) fn handle(state: &Arc<Mutex<State>>, req: Request) {
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
    if req.method() == "POST" && path == "/apis/authentication.k8s.io/v1/tokenreviews" {
        // Its own authentication: the reviewer's ServiceAccount token.
        return super::token_review::review(state, req);
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
    let forbidden_here =
        namespace.is_some_and(|n| st.forbid_in.contains(&(plural.to_string(), n.to_string())));
    if st.forbid_everywhere.contains(plural) || forbidden_here {
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
