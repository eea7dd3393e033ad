//! HTTP/1.1 as far as an API server needs it: requests read off a plain or TLS connection
//! (keep-alive), answers written with their status, content type and `Status` bodies.

use super::api::handle;
use super::State;
use serde_json::{json, Value};
use std::io::Write;
use std::sync::{Arc, Mutex};

/// A connection the fake serves: plain TCP or TLS.
pub(super) trait Connection: std::io::Read + Write {
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
pub(super) struct Request<'c> {
    method: String,
    url: String,
    pub(super) headers: Vec<(String, String)>,
    stream: &'c mut dyn Write,
    pub(super) body: Vec<u8>,
    pub(super) keep_alive: bool,
    pub(super) client_certified: bool,
}

impl Request<'_> {
    pub(super) fn url(&self) -> &str {
        &self.url
    }
    pub(super) fn method(&self) -> &str {
        &self.method
    }
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads requests off one connection until the client closes it (HTTP/1.1 keep-alive).
pub(super) fn serve_connection(state: &Arc<Mutex<State>>, stream: impl Connection) {
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
pub(super) fn no_such_resource(req: Request) {
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

pub(super) fn status_body(code: u16, reason: &str, message: &str) -> Value {
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
        201 => "Created",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

pub(super) fn respond(mut req: Request, code: u16, body: &Value) {
    let text = serde_json::to_vec(body).expect("json");
    write_response(&mut req, code, &text);
}

pub(super) fn write_response(req: &mut Request, code: u16, body: &[u8]) {
    write_response_with(req, code, body, "application/json", None)
}

pub(super) fn write_response_with(
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
