//! The API server's pod proxy (`pods/NAME:PORT/proxy/...`), relaying to a backend the test
//! runs (a fake Vault server).

use super::http::{no_such_resource, respond, status_body, write_response_with, Request};
use super::State;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The API server's pod proxy: `[scheme:]pod:port` → the configured backend, the request
/// passed on as the real API server passes it (method, path below `proxy/`, query, body, and
/// the headers except the client's own `Authorization`), the backend's answer relayed with
/// its status. A backend that does not answer is a 503 `Status`, as from a real API server.
/// (The fake's backends speak plain HTTP: `https:` is accepted and recorded, not dialled
/// with TLS.)
pub(super) fn pod_proxy(
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
