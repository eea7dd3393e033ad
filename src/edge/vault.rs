//! The Vault edge: a small blocking HTTP client configured from the environment exactly as
//! the vault CLI is (VAULT_ADDR, VAULT_TOKEN or ~/.vault-token, VAULT_CACERT, VAULT_NAMESPACE,
//! VAULT_SKIP_VERIFY). Errors map to exit code 3 and say what was refused, and where.

use crate::core::vault::plan::{Query, Snapshot};
use crate::error::Error;
use serde_json::Value;
use std::time::Duration;

pub(crate) struct Vault {
    agent: ureq::Agent,
    /// `VAULT_ADDR` as given (it may hold credentials): only ever used to send requests.
    url: String,
    /// `url` without any credentials in it: what messages show.
    addr: String,
    token: String,
    namespace: Option<String>,
}

impl Vault {
    pub(crate) fn from_env() -> Result<Vault, Error> {
        Vault::at(None)
    }

    /// The Vault at `address` (the spec's `vaultConfig.address`), else at VAULT_ADDR; the rest
    /// of the configuration from the environment as [`Vault::from_env`].
    pub(crate) fn at(address: Option<&str>) -> Result<Vault, Error> {
        let raw = match address {
            Some(a) => a.to_string(),
            None => std::env::var("VAULT_ADDR").map_err(|_| {
                Error::usage("VAULT_ADDR is not set")
                    .with_hint("export VAULT_ADDR=https://vault.example.com:8200 (and VAULT_TOKEN)")
            })?,
        };
        let addr = check_addr(&raw)?;
        let token = match std::env::var("VAULT_TOKEN") {
            Ok(t) if !t.is_empty() => t,
            _ => std::env::var("HOME")
                .ok()
                .and_then(|h| {
                    let path = std::path::PathBuf::from(format!("{h}/.vault-token"));
                    crate::edge::fs::read_text(&path, crate::edge::fs::SECRET_BYTES).ok()
                })
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    Error::usage("VAULT_TOKEN is not set (and there is no ~/.vault-token)")
                        .with_hint("export VAULT_TOKEN=… or `vault login`")
                })?,
        };
        let skip_verify = std::env::var("VAULT_SKIP_VERIFY")
            .is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
        let mut tls = ureq::tls::TlsConfig::builder().disable_verification(skip_verify);
        if let Ok(ca) = std::env::var("VAULT_CACERT") {
            let pem =
                crate::edge::fs::read_file(std::path::Path::new(&ca), crate::edge::fs::PEM_BYTES)
                    .map_err(|e| Error::usage(format!("VAULT_CACERT {ca}: {e}")))?;
            let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(&pem)
                .filter_map(|p| match p {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(Error::usage(format!(
                    "VAULT_CACERT {ca}: no PEM certificate in it"
                )));
            }
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .tls_config(tls.build())
            .build();
        Ok(Vault {
            agent: config.into(),
            addr: redact(&addr),
            url: addr,
            token,
            namespace: std::env::var("VAULT_NAMESPACE")
                .ok()
                .filter(|n| !n.is_empty()),
        })
    }

    /// The address, without any credentials it contains.
    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    /// Sends one request; returns (status, body).
    fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, Value), Error> {
        self.exchange(method, path, body).map_err(|f| f.error)
    }

    /// Sends one request. A failure says whether the request may have reached Vault.
    fn exchange(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), WriteFailure> {
        let url = format!("{}/v1/{}", self.url, path.trim_start_matches('/'));
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("X-Vault-Token", &self.token)
            .header("X-Vault-Request", "true");
        if let Some(ns) = &self.namespace {
            req = req.header("X-Vault-Namespace", ns);
        }
        let payload = body
            .map(|b| serde_json::to_vec(b).expect("json"))
            .unwrap_or_default();
        // Vault takes a PATCH only as a JSON merge patch.
        let content_type = if method == "PATCH" {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        let req = req
            .header("Content-Type", content_type)
            .body(payload)
            .map_err(|e| WriteFailure {
                error: Error::usage(format!(
                    "cannot make a request to Vault at {} for {path}: {}",
                    self.addr,
                    self.hide(&e.to_string())
                ))
                .with_hint("check VAULT_ADDR and VAULT_NAMESPACE"),
                may_have_applied: false,
            })?;
        let resp = self.agent.run(req).map_err(|e| {
            let msg = self.hide(&e.to_string());
            let tls = matches!(e, ureq::Error::Tls(_) | ureq::Error::Rustls(_))
                || msg.to_lowercase().contains("certificate");
            let error = Error::environment(if tls {
                format!("cannot talk TLS to Vault at {}: {msg}\nhint: set VAULT_CACERT to the CA that signed Vault's certificate", self.addr)
            } else if never_sent(&e) {
                format!("Vault at {} is unreachable: {msg}\nhint: check VAULT_ADDR", self.addr)
            } else {
                format!("Vault at {} did not answer {method} {path}: {msg}", self.addr)
            });
            WriteFailure {
                error,
                may_have_applied: !tls && !never_sent(&e),
            }
        })?;
        let status = resp.status().as_u16();
        let text = resp.into_body().read_to_string().unwrap_or_default();
        let value = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok((status, value))
    }

    /// `text` with the raw address (which may hold credentials) replaced by the shown one,
    /// and the credentials removed wherever else they appear.
    fn hide(&self, text: &str) -> String {
        if self.url == self.addr {
            return text.to_string();
        }
        let mut out = text.replace(&self.url, &self.addr);
        if let Some(userinfo) = userinfo(&self.url) {
            out = out.replace(userinfo, "***");
        }
        out
    }

    fn check(
        &self,
        method: &str,
        path: &str,
        capability: &str,
        status: u16,
        body: &Value,
    ) -> Result<(), Error> {
        let errors = body["errors"]
            .as_array()
            .map(|e| {
                e.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        // Vault's answer is outside text: escaped and bounded before it reaches a terminal.
        let errors = crate::core::outside::shown(&errors);
        match status {
            200..=299 => Ok(()),
            403 => Err(Error::environment(format!("permission denied: {method} {path} needs the `{capability}` capability on `{path}` ({errors})")).with_hint("use a token whose policy grants it")),
            503 if errors.contains("sealed") => Err(Error::environment(format!("Vault at {} is sealed: unseal it, then run again", self.addr))),
            _ => Err(Error::environment(format!("Vault refused {method} {path}: {status} {errors}"))),
        }
    }

    /// Writes (`POST`) `body` to `path`.
    pub(crate) fn write(&self, path: &str, body: &Value) -> Result<Value, Error> {
        self.apply("POST", path, Some(body)).map_err(|f| f.error)
    }

    /// One change: `POST` (write), `PATCH` or `DELETE`. A failure says whether it may have been applied
    /// (the request went out and no answer came back).
    pub(crate) fn apply(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, WriteFailure> {
        let (status, v) = self.exchange(method, path, body)?;
        let capability = match method {
            "DELETE" => "delete",
            "PATCH" => "patch",
            _ => "update",
        };
        self.check(method, path, capability, status, &v)
            .map_err(|error| WriteFailure {
                error,
                may_have_applied: false,
            })?;
        Ok(v)
    }

    /// Makes an intermediate CA: writes `body` to `csr_path` (its answer holds the CSR), has
    /// the root sign it, and sets the signed certificate in the mount. A failure after the CSR
    /// leaves the mount without an issuer, so the next run starts over.
    pub(crate) fn intermediate_ca(
        &self,
        csr_path: &str,
        body: &Value,
        then: &crate::core::vault::plan::Intermediate,
    ) -> Result<Value, WriteFailure> {
        let answer = self.apply("POST", csr_path, Some(body))?;
        let field = |v: &Value, name: &str, path: &str| {
            v["data"][name]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or_else(|| WriteFailure {
                    error: Error::environment(format!(
                        "Vault answered POST {path} without `{name}`"
                    )),
                    may_have_applied: true,
                })
        };
        let csr = field(&answer, "csr", csr_path)?;
        let mut sign = then.sign_body.clone();
        sign["csr"] = Value::String(csr);
        let signed = self.apply("POST", &then.sign_path, Some(&sign))?;
        let certificate = field(&signed, "certificate", &then.sign_path)?;
        self.apply(
            "POST",
            &then.set_signed_path,
            Some(&serde_json::json!({ "certificate": certificate })),
        )
    }

    /// Checks that the token works and Vault is unsealed.
    pub(crate) fn ping(&self) -> Result<(), Error> {
        let (status, v) = self.send("GET", "sys/seal-status", None)?;
        if status == 200 && v["sealed"] == true {
            return Err(Error::environment(format!(
                "Vault at {} is sealed: unseal it, then run again",
                self.addr
            )));
        }
        let (status, v) = self.send("GET", "auth/token/lookup-self", None)?;
        self.check("GET", "auth/token/lookup-self", "read", status, &v)
    }

    /// Capabilities of the calling token, or of `token`, on `paths`.
    pub(crate) fn capabilities(
        &self,
        token: Option<&str>,
        paths: &[String],
    ) -> Result<Value, Error> {
        let (path, body) = match token {
            Some(t) => (
                "sys/capabilities",
                serde_json::json!({"token": t, "paths": paths}),
            ),
            None => ("sys/capabilities-self", serde_json::json!({"paths": paths})),
        };
        self.write(path, &body)
    }
}

/// A change that failed.
#[derive(Debug)]
pub(crate) struct WriteFailure {
    pub(crate) error: Error,
    /// The request was sent and no answer came back: Vault may have applied it.
    pub(crate) may_have_applied: bool,
}

/// True when the request certainly never reached the server (no connection was made).
fn never_sent(e: &ureq::Error) -> bool {
    use std::io::ErrorKind;
    match e {
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::BadUri(_)
        | ureq::Error::Http(_)
        | ureq::Error::InvalidProxyUrl
        | ureq::Error::Tls(_)
        | ureq::Error::Rustls(_)
        | ureq::Error::Pem(_) => true,
        ureq::Error::Timeout(t) => matches!(
            t,
            ureq::Timeout::Resolve | ureq::Timeout::Connect | ureq::Timeout::SendRequest
        ),
        ureq::Error::Io(io) => matches!(
            io.kind(),
            ErrorKind::ConnectionRefused
                | ErrorKind::AddrNotAvailable
                | ErrorKind::NotFound
                | ErrorKind::PermissionDenied
                | ErrorKind::HostUnreachable
                | ErrorKind::NetworkUnreachable
        ),
        _ => false,
    }
}

/// Checks `VAULT_ADDR` as the vault CLI needs it (`http(s)://host[:port][/prefix]`); a typo is a
/// usage error with a hint, and never echoes credentials the value may contain.
fn check_addr(raw: &str) -> Result<String, Error> {
    let addr = raw.trim().trim_end_matches('/').to_string();
    let shown = redact(&addr);
    let rest = addr
        .strip_prefix("https://")
        .or_else(|| addr.strip_prefix("http://"));
    let Some(rest) = rest else {
        let example = if !shown.is_empty()
            && !shown.contains("://")
            && shown.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '[' | ']' | '*' | '@')
            }) {
            format!("https://{shown} (http://{shown} for a dev server)")
        } else {
            "https://vault.example.com:8200".to_string()
        };
        return Err(Error::usage(format!(
            "VAULT_ADDR `{shown}` is not a Vault URL: it needs the scheme http:// or https://"
        ))
        .with_hint(format!("export VAULT_ADDR={example}")));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    let bad = host.is_empty()
        || host.starts_with(':')
        || addr.chars().any(|c| c.is_whitespace() || c.is_control())
        || ureq::http::Uri::try_from(format!("{addr}/v1/sys/health")).is_err();
    if bad {
        return Err(
            Error::usage(format!("VAULT_ADDR `{shown}` is not a Vault URL")).with_hint(
                "export VAULT_ADDR=https://vault.example.com:8200 (scheme, host and port)",
            ),
        );
    }
    Ok(addr)
}

/// The `user:password` part of `addr`, if any.
fn userinfo(addr: &str) -> Option<&str> {
    let rest = addr.split_once("://").map_or(addr, |(_, r)| r);
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    authority
        .rfind('@')
        .map(|at| &authority[..at])
        .filter(|u| !u.is_empty())
}

/// `addr` with any `user:password@` replaced by `***@`.
pub(crate) fn redact(addr: &str) -> String {
    let (scheme, rest) = match addr.find("://") {
        Some(i) => addr.split_at(i + 3),
        None => ("", addr),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rfind('@') {
        Some(at) => format!("{scheme}***@{}{tail}", &authority[at + 1..]),
        None => addr.to_string(),
    }
}

impl Vault {
    /// Reads the `queries` into `snapshot`, in order; the first failure stops.
    pub(crate) fn fill(&self, snapshot: &mut Snapshot, queries: Vec<Query>) -> Result<(), Error> {
        for q in queries {
            match q {
                Query::Read(path) => {
                    let data = self.read(&path)?;
                    snapshot.insert_read(path, data);
                }
                Query::List(path) => {
                    let keys = self.list(&path)?;
                    snapshot.insert_list(path, keys);
                }
            }
        }
        Ok(())
    }

    /// `GET /v1/<path>`'s `data`, or `None` on 404.
    pub(crate) fn read(&self, path: &str) -> Result<Option<Value>, Error> {
        let (status, v) = self.send("GET", path, None)?;
        if status == 404 {
            return Ok(None);
        }
        self.check("GET", path, "read", status, &v)?;
        Ok(Some(v["data"].clone()))
    }

    /// `LIST /v1/<path>`'s `data.keys`, or empty on 404.
    pub(crate) fn list(&self, path: &str) -> Result<Vec<String>, Error> {
        // `GET ?list=true` is Vault's portable spelling of the LIST verb.
        let (status, v) = self.send("GET", &format!("{path}?list=true"), None)?;
        if status == 404 {
            return Ok(vec![]);
        }
        self.check("LIST", path, "list", status, &v)?;
        Ok(v["data"]["keys"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|k| k.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
