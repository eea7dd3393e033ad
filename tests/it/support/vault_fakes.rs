//! What the Vault-side tests need around a real OpenBao: a fake Kubernetes TokenReview endpoint
//! (so that apps really log in), service-account JWTs, a `vault` command that is the real `bao`
//! and records its argv, an HTTP proxy that can swallow Vault's answer to one request, and a
//! snapshot of Vault's state to compare before and after a refused run.

use super::servers::{find_tool, Bao};
use base64::Engine;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The audience a real API server accepts in bearer tokens (kubeadm's default).
pub const API_AUDIENCE: &str = "https://kubernetes.default.svc.cluster.local";

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A service-account token as the API server issues it (the signature is not checked: Vault
/// asks the TokenReview endpoint, which is the fake below).
pub fn sa_jwt(namespace: &str, name: &str, audiences: &[&str]) -> String {
    let now = super::cluster_state::now();
    let header = json!({"alg": "RS256", "kid": "test"});
    let claims = json!({
        "iss": API_AUDIENCE,
        "sub": format!("system:serviceaccount:{namespace}:{name}"),
        "aud": audiences,
        "iat": now, "nbf": now, "exp": now + 600,
        "kubernetes.io": {
            "namespace": namespace,
            "serviceaccount": {"name": name, "uid": format!("uid-{namespace}-{name}")},
        },
    });
    format!(
        "{}.{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes()),
        b64url(b"signature")
    )
}

fn claims(jwt: &str) -> Option<Value> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// One HTTP/1.1 request read from `reader`: (method, path, headers lower-cased, body).
type Request = (String, String, Vec<(String, String)>, Vec<u8>);

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some((method, path, headers, body))
}

fn respond(stream: &mut TcpStream, status: u16, body: &Value) {
    let text = body.to_string();
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
        text.len()
    );
}

/// The API server's TokenReview endpoint, as strict as the real one about the caller: the
/// bearer token must be the reviewer JWT, or (client-JWT mode) a token that carries the API
/// server's own audience.
pub struct FakeTokenReview {
    pub url: String,
    /// (bearer token, reviewed token's subject, authenticated) per review.
    pub reviews: Arc<Mutex<Vec<(String, String, bool)>>>,
}

impl FakeTokenReview {
    pub fn start(reviewer_jwt: Option<String>) -> FakeTokenReview {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let reviews = Arc::new(Mutex::new(Vec::new()));
        let log = reviews.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                let reviewer_jwt = reviewer_jwt.clone();
                std::thread::spawn(move || {
                    let mut writer = stream.try_clone().unwrap();
                    let mut reader = BufReader::new(stream);
                    while let Some((_, path, headers, body)) = read_request(&mut reader) {
                        let bearer = headers
                            .iter()
                            .find(|(k, _)| k == "authorization")
                            .and_then(|(_, v)| v.strip_prefix("Bearer "))
                            .unwrap_or_default()
                            .to_string();
                        let caller_ok = match &reviewer_jwt {
                            Some(r) => &bearer == r,
                            None => claims(&bearer).is_some_and(|c| {
                                c["aud"]
                                    .as_array()
                                    .is_some_and(|a| a.iter().any(|x| x == API_AUDIENCE))
                            }),
                        };
                        if path != "/apis/authentication.k8s.io/v1/tokenreviews" || !caller_ok {
                            log.lock().unwrap().push((bearer, String::new(), false));
                            respond(
                                &mut writer,
                                401,
                                &json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "Unauthorized", "reason": "Unauthorized", "code": 401}),
                            );
                            continue;
                        }
                        let review: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        let token = review["spec"]["token"].as_str().unwrap_or_default();
                        let c = claims(token).unwrap_or(Value::Null);
                        let token_aud: Vec<String> = c["aud"]
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(|x| x.as_str().map(String::from))
                                    .collect()
                            })
                            .unwrap_or_default();
                        let wanted: Vec<String> = review["spec"]["audiences"]
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(|x| x.as_str().map(String::from))
                                    .collect()
                            })
                            .filter(|a: &Vec<String>| !a.is_empty())
                            .unwrap_or_else(|| vec![API_AUDIENCE.to_string()]);
                        let audiences: Vec<&String> =
                            wanted.iter().filter(|a| token_aud.contains(a)).collect();
                        let sub = c["sub"].as_str().unwrap_or_default().to_string();
                        let ok = !audiences.is_empty() && !sub.is_empty();
                        log.lock().unwrap().push((bearer, sub.clone(), ok));
                        let status = if ok {
                            json!({
                                "authenticated": true,
                                "audiences": audiences,
                                "user": {
                                    "username": sub,
                                    "uid": c["kubernetes.io"]["serviceaccount"]["uid"],
                                    "groups": ["system:serviceaccounts", "system:authenticated"],
                                },
                            })
                        } else {
                            json!({"authenticated": false, "error": "[invalid bearer token, token audiences are invalid]", "user": {}})
                        };
                        respond(
                            &mut writer,
                            201,
                            &json!({
                                "apiVersion": "authentication.k8s.io/v1",
                                "kind": "TokenReview",
                                "spec": review["spec"],
                                "status": status,
                            }),
                        );
                    }
                });
            }
        });
        FakeTokenReview { url, reviews }
    }
}

/// Logs in to `mount` as `role` with `jwt`: (status, client token).
pub fn login(bao: &Bao, mount: &str, role: &str, jwt: &str) -> (u16, Option<String>) {
    let (status, v) = bao.api_as(
        "",
        "POST",
        &format!("auth/{mount}/login"),
        Some(json!({"role": role, "jwt": jwt})),
    );
    (status, v["auth"]["client_token"].as_str().map(String::from))
}

/// A folder holding `vault`: the real `bao`, recording every call's argv (NUL-separated, one
/// record per call, first the count) in `argv.log` beside it.
pub struct VaultCli {
    pub dir: tempfile::TempDir,
}

impl VaultCli {
    pub fn new() -> Option<VaultCli> {
        let bao = super::servers::require(find_tool("BAO_BIN", "bao"), "OpenBao (bao)")?;
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("argv.log");
        let script = format!(
            "#!/bin/sh\nprintf '%s\\0' \"$#\" \"$@\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            bao.display()
        );
        let path = dir.path().join("vault");
        std::fs::write(&path, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        Some(VaultCli { dir })
    }

    /// PATH with this `vault` first.
    pub fn path_env(&self) -> String {
        format!(
            "{}:{}",
            self.dir.path().display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// Every call's argv so far.
    pub fn calls(&self) -> Vec<Vec<String>> {
        parse_argv_log(&self.dir.path().join("argv.log"))
    }
}

/// Reads an argv log written as `printf '%s\0' "$#" "$@"` per call.
pub fn parse_argv_log(path: &Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap_or_default();
    let mut fields = bytes
        .split(|b| *b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned());
    let mut calls = Vec::new();
    while let Some(n) = fields.next() {
        let Ok(n) = n.parse::<usize>() else { break };
        calls.push((0..n).filter_map(|_| fields.next()).collect());
    }
    calls
}

/// Runs `script` with bash, `vault` from `cli` first on PATH, against `bao`.
pub fn run_script(
    script: &Path,
    cli: &VaultCli,
    bao: &Bao,
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut c = std::process::Command::new("bash");
    c.arg(script)
        .env("HOME", super::common::test_home())
        .env("PATH", cli.path_env())
        .env("VAULT_ADDR", &bao.addr)
        .env("VAULT_TOKEN", &bao.token)
        .env_remove("VAULT_NAMESPACE")
        .env_remove("VAULT_CACERT");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// Vault's mounts, auth methods, policies (with their text) and kubernetes-auth roles (with
/// their settings) under `auth_mount`: what a refused run must leave unchanged.
pub fn vault_state(bao: &Bao, auth_mount: &str) -> Value {
    // The data only: request ids differ between reads.
    let strip = |v: Value| v["data"].clone();
    let mounts = strip(bao.api("GET", "sys/mounts", None).1);
    let auths = strip(bao.api("GET", "sys/auth", None).1);
    let mut policies = serde_json::Map::new();
    for p in bao.api("GET", "sys/policies/acl?list=true", None).1["data"]["keys"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let name = p.as_str().unwrap();
        policies.insert(
            name.into(),
            bao.api("GET", &format!("sys/policies/acl/{name}"), None).1["data"]["policy"].clone(),
        );
    }
    let mut roles = serde_json::Map::new();
    for r in bao
        .api("GET", &format!("auth/{auth_mount}/role?list=true"), None)
        .1["data"]["keys"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let name = r.as_str().unwrap();
        roles.insert(
            name.into(),
            bao.api("GET", &format!("auth/{auth_mount}/role/{name}"), None)
                .1["data"]
                .clone(),
        );
    }
    json!({"mounts": mounts, "auth": auths, "policies": policies, "roles": roles})
}

/// A proxy in front of Vault that forwards every request and returns the answer, except for
/// the first `method` request whose path contains `swallow`: that one reaches Vault (and is applied),
/// then the connection is closed without an answer, as when a server dies mid-request.
pub struct SwallowingProxy {
    pub addr: String,
    pub swallowed: Arc<Mutex<bool>>,
}

impl SwallowingProxy {
    pub fn start(upstream: &str, method: &str, swallow: &str) -> SwallowingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        let swallowed = Arc::new(Mutex::new(false));
        let flag = swallowed.clone();
        let upstream = upstream.to_string();
        let swallow = swallow.to_string();
        let swallow_method = method.to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let flag = flag.clone();
                let upstream = upstream.clone();
                let swallow = swallow.clone();
                let swallow_method = swallow_method.clone();
                std::thread::spawn(move || {
                    let mut writer = stream.try_clone().unwrap();
                    let mut reader = BufReader::new(stream);
                    while let Some((method, path, headers, body)) = read_request(&mut reader) {
                        let forwarded: Vec<(&str, &str)> = headers
                            .iter()
                            .filter(|(k, _)| k.starts_with("x-vault") || k == "content-type")
                            .map(|(k, v)| (k.as_str(), v.as_str()))
                            .collect();
                        let (status, bytes) =
                            super::http::request(&upstream, &method, &path, &forwarded, &body)
                                .unwrap();
                        let text = String::from_utf8_lossy(&bytes).into_owned();
                        let mut done = flag.lock().unwrap();
                        if !*done && method == swallow_method && path.contains(&swallow) {
                            *done = true;
                            // Applied upstream; the client never hears back.
                            let _ = writer.shutdown(std::net::Shutdown::Both);
                            return;
                        }
                        drop(done);
                        let _ = write!(
                            writer,
                            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
                            text.len()
                        );
                    }
                });
            }
        });
        SwallowingProxy { addr, swallowed }
    }
}

/// An HTTP `CONNECT` proxy, as corporate networks have: opens a tunnel to whatever the client
/// names and counts them.
pub struct ConnectProxy {
    pub url: String,
    pub tunnels: Arc<std::sync::atomic::AtomicUsize>,
}

impl ConnectProxy {
    pub fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let tunnels = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = tunnels.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let count = count.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(client.try_clone().unwrap());
                    let Some((method, target, _, _)) = read_request(&mut reader) else {
                        return;
                    };
                    let mut client = client;
                    let upstream = match TcpStream::connect(&target) {
                        Ok(u) if method == "CONNECT" => u,
                        _ => {
                            let _ = write!(client, "HTTP/1.1 502 Bad Gateway\r\n\r\n");
                            return;
                        }
                    };
                    count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let _ = write!(client, "HTTP/1.1 200 Connection established\r\n\r\n");
                    let (mut from_up, mut to_up) = (upstream.try_clone().unwrap(), upstream);
                    let mut to_client = client.try_clone().unwrap();
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from_up, &mut to_client);
                        let _ = to_client.shutdown(std::net::Shutdown::Both);
                    });
                    let _ = std::io::copy(&mut reader, &mut to_up);
                    let _ = to_up.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        ConnectProxy { url, tunnels }
    }

    pub fn tunnels(&self) -> usize {
        self.tunnels.load(std::sync::atomic::Ordering::SeqCst)
    }
}
