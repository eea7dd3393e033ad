//! The API server as Vault's kubernetes auth method sees it: the ServiceAccount tokens it
//! issues and its TokenReview endpoint (`POST /apis/authentication.k8s.io/v1/tokenreviews`),
//! which authenticates only tokens this very server issued — a token of another cluster is
//! unknown here, as its signing key is. The caller must authenticate with a token of this
//! server that carries its audience and whose ServiceAccount may review tokens (bound to
//! `system:auth-delegator`: [`FakeApiServer::allow_token_review`]), or with the fake's own
//! admin token. Answers as the API server does: `201` with the TokenReview and its `status`
//! (`authenticated`, `user`, the `audiences` both sides share), `401`/`403` `Status` bodies.

use super::http::{respond, status_body, Request};
use super::{FakeApiServer, State, TOKEN};
use base64::Engine;
use serde_json::{json, Value};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};

/// The audience the API server accepts in bearer tokens (kubeadm's default).
pub const API_AUDIENCE: &str = "https://kubernetes.default.svc.cluster.local";

/// A ServiceAccount token this server issued.
#[derive(Debug, Clone)]
pub(super) struct Issued {
    namespace: String,
    name: String,
    audiences: Vec<String>,
    expires: i64,
}

/// One review the endpoint answered: the reviewed token's subject (empty: not a token of this
/// server) and whether it was authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub subject: String,
    pub authenticated: bool,
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> i64 {
    crate::cluster_state::now()
}

impl FakeApiServer {
    /// A ServiceAccount token of this cluster for `namespace/name` with `audiences`, valid
    /// for ten minutes, shaped as the API server issues them (its signature is a random value
    /// only this server knows).
    pub fn issue_token(&self, namespace: &str, name: &str, audiences: &[&str]) -> String {
        let now = now();
        let claims = json!({
            "iss": self.url(),
            "sub": format!("system:serviceaccount:{namespace}:{name}"),
            "aud": audiences,
            "iat": now, "nbf": now, "exp": now + 600,
            "kubernetes.io": {
                "namespace": namespace,
                "serviceaccount": {"name": name, "uid": format!("uid-{namespace}-{name}")},
            },
        });
        let mut signature = Vec::new();
        for _ in 0..4 {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(self.port.into());
            signature.extend(h.finish().to_le_bytes());
        }
        let token = format!(
            "{}.{}.{}",
            b64url(
                json!({"alg": "RS256", "kid": "fake"})
                    .to_string()
                    .as_bytes()
            ),
            b64url(claims.to_string().as_bytes()),
            b64url(&signature)
        );
        self.state.lock().unwrap().issued.insert(
            token.clone(),
            Issued {
                namespace: namespace.into(),
                name: name.into(),
                audiences: audiences.iter().map(|a| a.to_string()).collect(),
                expires: now + 600,
            },
        );
        token
    }

    /// Binds `namespace/name` to `system:auth-delegator`: its tokens may call TokenReview.
    pub fn allow_token_review(&self, namespace: &str, name: &str) {
        let mut st = self.state.lock().unwrap();
        st.reviewers.insert((namespace.into(), name.into()));
    }

    /// Every review the TokenReview endpoint answered, in order.
    pub fn token_reviews(&self) -> Vec<Review> {
        self.state.lock().unwrap().reviews.clone()
    }
}

/// `POST /apis/authentication.k8s.io/v1/tokenreviews`.
pub(super) fn review(state: &Arc<Mutex<State>>, req: Request) {
    let mut st = state.lock().unwrap();
    let now = now();
    let valid = |t: &str, audience: &str| {
        st.issued
            .get(t)
            .filter(|i| i.expires > now && i.audiences.iter().any(|a| a == audience))
            .cloned()
    };
    let bearer = req
        .header("Authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    let caller = if bearer == TOKEN {
        Some(None)
    } else {
        valid(&bearer, API_AUDIENCE).map(Some)
    };
    let Some(caller) = caller else {
        drop(st);
        return respond(req, 401, &status_body(401, "Unauthorized", "Unauthorized"));
    };
    if let Some(sa) = &caller {
        if !st
            .reviewers
            .contains(&(sa.namespace.clone(), sa.name.clone()))
        {
            let user = format!("system:serviceaccount:{}:{}", sa.namespace, sa.name);
            drop(st);
            return respond(
                req,
                403,
                &status_body(
                    403,
                    "Forbidden",
                    &format!("tokenreviews.authentication.k8s.io is forbidden: User \"{user}\" cannot create resource \"tokenreviews\" in API group \"authentication.k8s.io\" at the cluster scope"),
                ),
            );
        }
    }
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let token = body["spec"]["token"].as_str().unwrap_or_default();
    let wanted: Vec<String> = body["spec"]["audiences"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .filter(|a: &Vec<String>| !a.is_empty())
        .unwrap_or_else(|| vec![API_AUDIENCE.to_string()]);
    let issued = st.issued.get(token).filter(|i| i.expires > now).cloned();
    let shared: Vec<&String> = match &issued {
        Some(i) => wanted.iter().filter(|a| i.audiences.contains(a)).collect(),
        None => vec![],
    };
    let status = match &issued {
        Some(i) if !shared.is_empty() => json!({
            "authenticated": true,
            "audiences": shared,
            "user": {
                "username": format!("system:serviceaccount:{}:{}", i.namespace, i.name),
                "uid": format!("uid-{}-{}", i.namespace, i.name),
                "groups": ["system:serviceaccounts", format!("system:serviceaccounts:{}", i.namespace), "system:authenticated"],
            },
        }),
        Some(_) => {
            json!({"authenticated": false, "error": "[invalid bearer token, token audiences are invalid]", "user": {}})
        }
        None => {
            json!({"authenticated": false, "error": "[invalid bearer token, square/go-jose: error in cryptographic primitive]", "user": {}})
        }
    };
    st.reviews.push(Review {
        subject: issued
            .as_ref()
            .map(|i| format!("system:serviceaccount:{}:{}", i.namespace, i.name))
            .unwrap_or_default(),
        authenticated: status["authenticated"] == true,
    });
    drop(st);
    respond(
        req,
        201,
        &json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "metadata": {"creationTimestamp": null},
            "spec": body["spec"],
            "status": status,
        }),
    );
}
