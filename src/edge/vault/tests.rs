//! The Vault client against small servers made here: a Vault that answers what a test wants
//! (or misbehaves), a `CONNECT` proxy that counts its tunnels, and the fake API server as an
//! HTTPS server with its own CA.

use super::*;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request as a test server read it: method, path, headers (names lower-cased), body.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Seen> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
    }
    let len = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Seen {
        method,
        path,
        headers,
        body,
    })
}

fn answer(stream: &mut TcpStream, status: u16, extra: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
}

/// A server on 127.0.0.1 that hands each request to `handle` (which writes the answer, and
/// returns false to close the connection); every request is recorded.
struct Server {
    addr: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn serve(handle: impl Fn(&Seen, &mut TcpStream) -> bool + Send + Sync + 'static) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (log, handle) = (seen.clone(), Arc::new(handle));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (log, handle) = (log.clone(), handle.clone());
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                while let Some(req) = read_request(&mut reader) {
                    log.lock().unwrap().push(req.clone());
                    if !handle(&req, &mut writer) {
                        return;
                    }
                }
            });
        }
    });
    Server { addr, seen }
}

/// A Vault that answers every request with `{"data": {"path": PATH}}`.
fn echo_vault() -> Server {
    serve(|req, out| {
        let body = serde_json::json!({"data": {"path": req.path, "keys": ["a", "b"]}});
        answer(out, 200, "", &body.to_string());
        true
    })
}

/// A `CONNECT` line and its `Proxy-Authorization`.
type Connect = (String, Option<String>);

/// An HTTP `CONNECT` proxy: counts its tunnels and records each `CONNECT` line and its
/// `Proxy-Authorization`. With `stall`, it never answers a `CONNECT`.
struct ConnectProxy {
    addr: String,
    tunnels: Arc<AtomicUsize>,
    connects: Arc<Mutex<Vec<Connect>>>,
}

fn connect_proxy(stall: bool) -> ConnectProxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    let tunnels = Arc::new(AtomicUsize::new(0));
    let connects = Arc::new(Mutex::new(Vec::new()));
    let (count, log) = (tunnels.clone(), connects.clone());
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let (count, log) = (count.clone(), log.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(client.try_clone().unwrap());
                let Some(req) = read_request(&mut reader) else {
                    return;
                };
                log.lock().unwrap().push((
                    format!("{} {}", req.method, req.path),
                    req.headers.get("proxy-authorization").cloned(),
                ));
                if stall {
                    std::thread::sleep(Duration::from_secs(30));
                    return;
                }
                let mut client = client;
                let Ok(upstream) = TcpStream::connect(&req.path) else {
                    let _ = write!(client, "HTTP/1.1 502 Bad Gateway\r\n\r\n");
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                let _ = write!(client, "HTTP/1.1 200 Connection established\r\n\r\n");
                let (mut up_read, mut up_write) = (upstream.try_clone().unwrap(), upstream);
                let mut down = client.try_clone().unwrap();
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut up_read, &mut down);
                    let _ = down.shutdown(std::net::Shutdown::Both);
                });
                let _ = std::io::copy(&mut reader, &mut up_write);
                let _ = up_write.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    ConnectProxy {
        addr,
        tunnels,
        connects,
    }
}

/// A Vault client for `vars` (plus a token), as `from_env` makes one from the environment.
fn vault(vars: &[(&str, &str)]) -> Result<Vault, Error> {
    let mut map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    map.entry("VAULT_TOKEN".into())
        .or_insert_with(|| "test-token".into());
    Vault::from_vars(None, &move |name| map.get(name).cloned())
}

#[test]
fn requests_carry_the_token_namespace_and_json_and_answers_are_read() {
    let server = echo_vault();
    let v = vault(&[
        ("VAULT_ADDR", &format!("http://{}/", server.addr)),
        ("VAULT_NAMESPACE", "team-a"),
    ])
    .unwrap();
    assert_eq!(v.addr(), format!("http://{}", server.addr));
    let data = v.read("secret/data/app").unwrap().unwrap();
    assert_eq!(data["path"], "/v1/secret/data/app");
    assert_eq!(v.list("secret/metadata").unwrap(), ["a", "b"]);
    v.write("sys/policies/acl/p", &serde_json::json!({"policy": "x"}))
        .unwrap();
    let seen = server.seen.lock().unwrap().clone();
    let paths: Vec<String> = seen
        .iter()
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(
        paths,
        [
            "GET /v1/secret/data/app",
            "GET /v1/secret/metadata?list=true",
            "POST /v1/sys/policies/acl/p"
        ]
    );
    for s in &seen {
        assert_eq!(s.headers["x-vault-token"], "test-token");
        assert_eq!(s.headers["x-vault-namespace"], "team-a");
        assert_eq!(s.headers["x-vault-request"], "true");
        assert_eq!(s.headers["content-type"], "application/json");
        assert!(!s.headers.contains_key("authorization"));
    }
    assert_eq!(seen[2].body, br#"{"policy":"x"}"#);
}

/// Credentials in VAULT_ADDR are sent as `Basic` authorization and never shown.
#[test]
fn credentials_in_the_address_are_sent_as_basic_auth_and_never_shown() {
    let server = echo_vault();
    let v = vault(&[(
        "VAULT_ADDR",
        &format!("http://admin:hunter2@{}", server.addr),
    )])
    .unwrap();
    assert_eq!(v.addr(), format!("http://***@{}", server.addr));
    v.read("sys/health").unwrap();
    let seen = server.seen.lock().unwrap().clone();
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("admin:hunter2")
    );
    assert_eq!(seen[0].headers["authorization"], expected);
    assert_eq!(seen[0].headers["host"], server.addr);
}

/// HTTPS_PROXY (and the others) reach Vault through an HTTP CONNECT tunnel, with the proxy's
/// credentials; a kept-alive connection is one tunnel for many requests; NO_PROXY bypasses it.
#[test]
fn the_environment_s_proxy_tunnels_requests_and_no_proxy_bypasses_it() {
    let server = echo_vault();
    let proxy = connect_proxy(false);
    let addr = format!("http://{}", server.addr);
    let proxy_url = format!("http://user:pass%21@{}", proxy.addr);
    for name in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
    ] {
        let before = proxy.tunnels.load(Ordering::SeqCst);
        let v = vault(&[("VAULT_ADDR", &addr), (name, &proxy_url)]).unwrap();
        for _ in 0..3 {
            assert!(v.read("secret/data/app").unwrap().is_some());
        }
        assert_eq!(proxy.tunnels.load(Ordering::SeqCst), before + 1, "{name}");
    }
    let connects = proxy.connects.lock().unwrap().clone();
    use base64::Engine;
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("user:pass!")
    );
    for (line, proxy_auth) in &connects {
        assert_eq!(line, &format!("CONNECT {}", server.addr));
        assert_eq!(proxy_auth.as_deref(), Some(auth.as_str()));
    }
    // Bypassed: the address itself, its range, every host.
    let before = proxy.tunnels.load(Ordering::SeqCst);
    for no in [
        "127.0.0.1",
        "127.0.0.0/8",
        "localhost, 127.0.0.1",
        "*",
        "127.0.*",
    ] {
        let v = vault(&[
            ("VAULT_ADDR", &addr),
            ("HTTPS_PROXY", &proxy_url),
            ("NO_PROXY", no),
        ])
        .unwrap();
        assert!(v.read("secret/data/app").unwrap().is_some(), "{no}");
        assert_eq!(proxy.tunnels.load(Ordering::SeqCst), before, "{no}");
    }
    // A proxy nothing listens on: the request never left.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let v = vault(&[("VAULT_ADDR", &addr), ("HTTPS_PROXY", &dead)]).unwrap();
    let e = v.apply("POST", "sys/x", None).unwrap_err();
    assert!(!e.may_have_applied);
    assert_eq!(e.error.exit_code(), 3);
    assert!(
        e.error
            .message()
            .contains("is unreachable: CONNECT proxy failed"),
        "{}",
        e.error
    );
    assert!(e.error.hint().unwrap().contains("NO_PROXY"), "{}", e.error);
}

#[test]
fn which_proxy_and_which_hosts_bypass_it() {
    let vars = |pairs: &[(&str, &str)]| {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name: &str| map.get(name).cloned()
    };
    let uri = |u: &str| u.parse::<http::Uri>().unwrap();
    let via = |pairs: &[(&str, &str)], to: &str| {
        transport::Proxy::from_vars(&vars(pairs))
            .and_then(|p| p.intercept(&uri(to)))
            .map(|(u, _)| u.to_string())
    };
    // The first usable of ALL_PROXY, HTTPS_PROXY, HTTP_PROXY, for every address.
    let both = [("HTTPS_PROXY", "http://a:1"), ("HTTP_PROXY", "http://b:2")];
    assert_eq!(
        via(&both, "http://vault:8200").as_deref(),
        Some("http://a:1/")
    );
    assert_eq!(
        via(&both, "https://vault:8200").as_deref(),
        Some("http://a:1/")
    );
    let only_http = [("HTTP_PROXY", "b:2")];
    assert_eq!(
        via(&only_http, "https://vault").as_deref(),
        Some("http://b:2/")
    );
    assert_eq!(
        via(
            &[("ALL_PROXY", "::bad::"), ("https_proxy", "http://c:3")],
            "https://v"
        )
        .as_deref(),
        Some("http://c:3/")
    );
    // A SOCKS proxy is not used: Vault is reached directly.
    assert_eq!(
        via(
            &[
                ("ALL_PROXY", "socks5://s:1080"),
                ("HTTPS_PROXY", "http://a:1")
            ],
            "https://v"
        ),
        None
    );
    assert_eq!(via(&[], "https://v"), None);
    // NO_PROXY: exact hosts and their subdomains, `*.` and `.` suffixes, prefixes, ranges.
    let no = |list: &str, host: &str| {
        via(
            &[("HTTPS_PROXY", "http://a:1"), ("NO_PROXY", list)],
            &format!("https://{host}:8200"),
        )
        .is_none()
    };
    assert!(no("vault.corp", "vault.corp"));
    assert!(no("corp", "vault.corp"));
    assert!(no("*.corp", "vault.corp"));
    assert!(no(".corp", "vault.corp"));
    assert!(no("other, vault.corp", "vault.corp"));
    assert!(no("vault.*", "vault.corp"));
    assert!(no("10.0.0.0/8", "10.1.2.3"));
    assert!(no("10.", "10.1.2.3"));
    assert!(no("*", "anything"));
    assert!(no("*", "10.1.2.3"));
    assert!(!no("vault.corp", "notvault.corp"));
    assert!(!no("*.corp", "vault.corp.evil"));
    assert!(!no("10.0.0.0/8", "11.1.2.3"));
    assert!(!no("", "vault.corp"));
}

/// HTTPS through the tunnel: TLS to Vault inside it, checked against VAULT_CACERT, or the
/// platform's trust store (which does not know a test CA), or not at all (VAULT_SKIP_VERIFY).
#[test]
fn https_goes_through_the_tunnel_and_is_checked_against_vault_cacert() {
    let https = kubectl_vault_testkit::fake_apiserver::FakeApiServer::start_tls();
    let proxy = connect_proxy(false);
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &https.tls().ca_pem).unwrap();
    let ca = ca.to_str().unwrap();
    let proxy_url = format!("http://{}", proxy.addr);
    let v = vault(&[
        ("VAULT_ADDR", &https.url()),
        ("VAULT_CACERT", ca),
        ("HTTPS_PROXY", &proxy_url),
    ])
    .unwrap();
    // The fake API server does not take Vault's token: its 401 is an answer over TLS.
    assert_eq!(v.send("GET", "sys/seal-status", None).unwrap().0, 401);
    assert_eq!(proxy.tunnels.load(Ordering::SeqCst), 1);
    assert!(https
        .requests()
        .iter()
        .any(|r| r.contains("/v1/sys/seal-status")));
    let unknown = vault(&[("VAULT_ADDR", &https.url()), ("HTTPS_PROXY", &proxy_url)]).unwrap();
    let e = unknown.read("sys/seal-status").unwrap_err();
    assert_eq!(e.exit_code(), 3);
    assert!(
        e.message()
            .starts_with("cannot talk TLS to Vault at https://127.0.0.1:"),
        "{e}"
    );
    assert_eq!(
        e.hint(),
        Some("set VAULT_CACERT to the CA that signed Vault's certificate")
    );
    let skip = vault(&[("VAULT_ADDR", &https.url()), ("VAULT_SKIP_VERIFY", "true")]).unwrap();
    assert_eq!(skip.send("GET", "sys/seal-status", None).unwrap().0, 401);
    // A VAULT_CACERT without a certificate is a usage error.
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let e = vault(&[
        ("VAULT_ADDR", &https.url()),
        ("VAULT_CACERT", empty.to_str().unwrap()),
    ])
    .err()
    .unwrap();
    assert_eq!(e.exit_code(), 2);
    assert!(e.message().ends_with("no PEM certificate in it"), "{e}");
}

/// The callers are synchronous; verify calls from inside its own runtime.
#[test]
fn calls_work_outside_and_inside_a_runtime() {
    let server = echo_vault();
    let v = vault(&[("VAULT_ADDR", &format!("http://{}", server.addr))]).unwrap();
    assert!(v.read("a").unwrap().is_some());
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    current.block_on(async { assert!(v.read("b").unwrap().is_some()) });
    current.block_on(async { assert!(v.read("c").unwrap().is_some()) });
    // Made and dropped inside a runtime too.
    current.block_on(async {
        let inner = vault(&[("VAULT_ADDR", &format!("http://{}", server.addr))]).unwrap();
        assert!(inner.read("d").unwrap().is_some());
        drop(inner);
    });
    assert_eq!(server.seen.lock().unwrap().len(), 4);
}

/// A hostile or broken server: every read and every wait is bounded.
#[test]
fn huge_slow_and_silent_answers_are_bounded() {
    let huge = serve(|_, out| {
        let chunk = vec![b' '; 1024 * 1024];
        let _ = write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            64 * chunk.len()
        );
        for _ in 0..64 {
            if out.write_all(&chunk).is_err() {
                break;
            }
        }
        false
    });
    let v = vault(&[("VAULT_ADDR", &format!("http://{}", huge.addr))]).unwrap();
    let e = v.read("big").unwrap_err();
    assert_eq!(e.exit_code(), 3);
    assert!(e.message().contains("GET big with more than 10 MiB"), "{e}");

    let slow = serve(|_, out| {
        let _ = write!(out, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{{");
        for _ in 0..100 {
            std::thread::sleep(Duration::from_millis(100));
            if out.write_all(b" ").is_err() {
                break;
            }
        }
        false
    });
    let silent = serve(|_, _| {
        std::thread::sleep(Duration::from_secs(20));
        false
    });
    for server in [&slow, &silent] {
        let mut v = vault(&[("VAULT_ADDR", &format!("http://{}", server.addr))]).unwrap();
        v.transport.timeout = Duration::from_millis(800);
        let started = Instant::now();
        let e = v.apply("POST", "sys/x", None).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(e.may_have_applied);
        assert!(
            e.error
                .message()
                .ends_with("did not answer POST sys/x: timeout: global"),
            "{}",
            e.error
        );
    }
    // A proxy that never opens the tunnel: nothing was sent.
    let proxy = connect_proxy(true);
    let mut v = vault(&[
        ("VAULT_ADDR", &format!("http://{}", slow.addr)),
        ("HTTPS_PROXY", &format!("http://{}", proxy.addr)),
    ])
    .unwrap();
    v.transport.timeout = Duration::from_millis(800);
    let e = v.apply("POST", "sys/x", None).unwrap_err();
    assert!(!e.may_have_applied);
    assert!(
        e.error
            .message()
            .ends_with("is unreachable: timeout: connect"),
        "{}",
        e.error
    );
}

#[test]
fn a_refused_connection_is_unreachable_and_never_sent() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let v = vault(&[("VAULT_ADDR", &addr)]).unwrap();
    let e = v.apply("POST", "sys/x", None).unwrap_err();
    assert!(!e.may_have_applied);
    assert_eq!(
        e.error.to_string(),
        format!("Vault at {addr} is unreachable: io: Connection refused (os error 111)\nhint: check VAULT_ADDR")
    );
}

/// A `GET` follows redirects (a standby points at the active node) with its token; a write
/// is not resent elsewhere: its redirect is Vault's answer.
#[test]
fn reads_follow_redirects_and_writes_do_not() {
    let active = echo_vault();
    let to = format!("http://{}", active.addr);
    let standby = serve(move |req, out| {
        let location = format!("Location: {to}{}\r\n", req.path);
        answer(out, 307, &location, "");
        true
    });
    let v = vault(&[("VAULT_ADDR", &format!("http://u:p@{}", standby.addr))]).unwrap();
    let data = v.read("secret/data/app").unwrap().unwrap();
    assert_eq!(data["path"], "/v1/secret/data/app");
    let seen = active.seen.lock().unwrap().clone();
    assert_eq!(seen[0].headers["x-vault-token"], "test-token");
    assert!(!seen[0].headers.contains_key("authorization"));
    let e = v.write("sys/x", &serde_json::json!({})).unwrap_err();
    assert_eq!(e.to_string(), "Vault refused POST sys/x: 307 ");
    assert_eq!(active.seen.lock().unwrap().len(), 1);
}

#[test]
fn addresses_are_checked_and_credentials_never_shown() {
    assert_eq!(
        check_addr("http://127.0.0.1:8200/").unwrap(),
        "http://127.0.0.1:8200"
    );
    let e = check_addr("127.0.0.1:8200").unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("http://127.0.0.1:8200"), "{e}");
    assert_eq!(check_addr("not a url").unwrap_err().exit_code(), 2);
    assert_eq!(check_addr("http://").unwrap_err().exit_code(), 2);
    for bad in [
        "admin:hunter2@vault:8200",
        "http://admin:hunter2@",
        "ftp://admin:hunter2@vault",
    ] {
        let e = check_addr(bad).unwrap_err().to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }
    assert_eq!(
        redact("https://u:p@vault:8200/x"),
        "https://***@vault:8200/x"
    );
    assert_eq!(redact("https://vault:8200"), "https://vault:8200");
}
