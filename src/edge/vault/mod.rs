//! The Vault edge: a small blocking client of Vault's HTTP API, configured from the environment
//! as the vault CLI is (VAULT_ADDR, VAULT_TOKEN or ~/.vault-token, VAULT_CACERT,
//! VAULT_NAMESPACE, VAULT_SKIP_VERIFY, and the proxy variables). Errors map to exit code 3 and
//! say what was refused, and where. How requests travel is `transport`'s.

use crate::core::vault::plan::{Query, Snapshot};
use crate::error::Error;
use serde_json::Value;

#[cfg(test)]
mod tests;
mod transport;

pub(crate) struct Vault {
    transport: transport::Transport,
    /// `VAULT_ADDR` without its credentials, if any: where requests go.
    base: String,
    /// `VAULT_ADDR` with `***@` for its credentials: what messages show.
    addr: String,
    /// `VAULT_ADDR` as given (it may hold credentials): only ever used to hide them.
    url: String,
    /// `Basic` credentials from `VAULT_ADDR`'s `user:password@`, sent with each request.
    basic: Option<http::HeaderValue>,
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
        Vault::from_vars(address, &|name| std::env::var(name).ok())
    }

    /// The client `var` (an environment lookup) describes, at `address` if given.
    fn from_vars(
        address: Option<&str>,
        var: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vault, Error> {
        let raw = match address {
            Some(a) => a.to_string(),
            None => var("VAULT_ADDR").ok_or_else(|| {
                Error::usage("VAULT_ADDR is not set")
                    .with_hint("export VAULT_ADDR=https://vault.example.com:8200 (and VAULT_TOKEN)")
            })?,
        };
        let url = check_addr(&raw)?;
        let token = match var("VAULT_TOKEN") {
            Some(t) if !t.is_empty() => t,
            _ => var("HOME")
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
        let skip_verify =
            var("VAULT_SKIP_VERIFY").is_some_and(|v| !v.is_empty() && v != "0" && v != "false");
        let roots = match var("VAULT_CACERT") {
            Some(ca) => {
                let pem = crate::edge::fs::read_file(
                    std::path::Path::new(&ca),
                    crate::edge::fs::PEM_BYTES,
                )
                .map_err(|e| Error::usage(format!("VAULT_CACERT {ca}: {e}")))?;
                let certs = pem_certificates(&pem);
                if certs.is_empty() {
                    return Err(Error::usage(format!(
                        "VAULT_CACERT {ca}: no PEM certificate in it"
                    )));
                }
                Some(certs)
            }
            None => None,
        };
        let transport = transport::Transport::new(transport::Settings {
            roots,
            skip_verify,
            proxy: transport::Proxy::from_vars(var),
        })
        .map_err(|e| Error::environment(format!("cannot set up a client for Vault: {e}")))?;
        let basic = userinfo(&url).map(|u| {
            use base64::Engine;
            let mut value = http::HeaderValue::try_from(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(u)
            ))
            .expect("base64 is a header value");
            value.set_sensitive(true);
            value
        });
        Ok(Vault {
            transport,
            base: without_userinfo(&url),
            addr: redact(&url),
            url,
            basic,
            token,
            namespace: var("VAULT_NAMESPACE").filter(|n| !n.is_empty()),
        })
    }

    /// The namespace requests go to: `VAULT_NAMESPACE`'s, until [`Vault::in_namespace`].
    pub(crate) fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The same client, sending `X-Vault-Namespace: namespace` (none: the root namespace, or
    /// nothing at all when `None`).
    pub(crate) fn in_namespace(mut self, namespace: Option<String>) -> Vault {
        self.namespace = namespace;
        self
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
        let url = format!("{}/v1/{}", self.base, path.trim_start_matches('/'));
        let unusable = |e: String| WriteFailure {
            error: Error::usage(format!(
                "cannot make a request to Vault at {} for {path}: {}",
                self.addr,
                self.hide(&e)
            ))
            .with_hint("check VAULT_ADDR and VAULT_NAMESPACE"),
            may_have_applied: false,
        };
        let mut headers = http::HeaderMap::new();
        let mut header = |name: &'static str, value: &str| {
            http::HeaderValue::try_from(value)
                .map(|mut v| {
                    v.set_sensitive(name == "x-vault-token");
                    headers.insert(name, v);
                })
                .map_err(|e| e.to_string())
        };
        header("x-vault-token", &self.token).map_err(unusable)?;
        header("x-vault-request", "true").map_err(unusable)?;
        if let Some(ns) = &self.namespace {
            header("x-vault-namespace", ns).map_err(unusable)?;
        }
        // Vault takes a PATCH only as a JSON merge patch.
        header(
            "content-type",
            if method == "PATCH" {
                "application/merge-patch+json"
            } else {
                "application/json"
            },
        )
        .map_err(unusable)?;
        header(
            "user-agent",
            concat!("kubectl-vault/", env!("CARGO_PKG_VERSION")),
        )
        .map_err(unusable)?;
        let request = transport::Request {
            method: http::Method::from_bytes(method.as_bytes())
                .map_err(|e| unusable(e.to_string()))?,
            url: url
                .parse()
                .map_err(|e: http::uri::InvalidUri| unusable(e.to_string()))?,
            headers,
            authorization: self.basic.clone(),
            body: body
                .map(|b| serde_json::to_string(b).expect("json"))
                .unwrap_or_default(),
        };
        let (status, bytes) = self.transport.exchange(request).map_err(|f| {
            let tls = |msg: &str| tls_error(&self.addr, &self.hide(msg));
            let (error, may_have_applied) = match f {
                // A certificate problem is TLS's, whatever reported it.
                transport::Failure::Tls(msg)
                | transport::Failure::NeverSent(msg)
                | transport::Failure::NoAnswer(msg)
                    if msg.to_lowercase().contains("certificate") =>
                {
                    (tls(&msg), false)
                }
                transport::Failure::Tls(msg) => (tls(&msg), false),
                transport::Failure::NeverSent(msg) => (
                    Error::environment(format!(
                        "Vault at {} is unreachable: {}",
                        self.addr,
                        self.hide(&msg)
                    ))
                    .with_hint(if msg.starts_with("CONNECT proxy") {
                        "check the proxy the environment names (HTTPS_PROXY, HTTP_PROXY or ALL_PROXY), or name Vault's host in NO_PROXY"
                    } else {
                        "check VAULT_ADDR"
                    }),
                    false,
                ),
                transport::Failure::NoAnswer(msg) => (
                    Error::environment(format!(
                        "Vault at {} did not answer {method} {path}: {}",
                        self.addr,
                        self.hide(&msg)
                    )),
                    true,
                ),
                transport::Failure::TooLarge => (
                    Error::environment(format!(
                        "Vault at {} answered {method} {path} with more than {} MiB; stopped",
                        self.addr,
                        transport::MAX_ANSWER_BYTES / (1024 * 1024)
                    )),
                    true,
                ),
            };
            WriteFailure {
                error,
                may_have_applied,
            }
        })?;
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
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

    /// `body` with each of `fills` read from Vault (values earlier steps of the run made).
    pub(crate) fn filled(
        &self,
        mut body: Value,
        fills: &[crate::core::vault::plan::Fill],
    ) -> Result<Value, WriteFailure> {
        for f in fills {
            let value = self
                .read(&f.path)
                .map_err(|error| WriteFailure {
                    error,
                    may_have_applied: false,
                })?
                .and_then(|data| data.pointer(&f.pointer).cloned())
                .filter(|v| !v.is_null())
                .ok_or_else(|| WriteFailure {
                    error: Error::environment(format!(
                        "Vault answered GET {} without `{}`",
                        f.path, f.pointer
                    )),
                    may_have_applied: false,
                })?;
            body[f.field.as_str()] = value;
        }
        Ok(body)
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

/// The TLS handshake with Vault failed.
fn tls_error(addr: &str, msg: &str) -> Error {
    Error::environment(format!("cannot talk TLS to Vault at {addr}: {msg}"))
        .with_hint("set VAULT_CACERT to the CA that signed Vault's certificate")
}

/// The certificates (DER) of a PEM file; anything else in it is skipped.
fn pem_certificates(pem: &[u8]) -> Vec<Vec<u8>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem)
        .map_while(Result::ok)
        .map(|c| c.as_ref().to_vec())
        .collect()
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
        || http::Uri::try_from(format!("{addr}/v1/sys/health")).is_err();
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

/// `addr` without its `user:password@`, if any.
fn without_userinfo(addr: &str) -> String {
    let (scheme, rest) = match addr.find("://") {
        Some(i) => addr.split_at(i + 3),
        None => ("", addr),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rfind('@') {
        Some(at) => format!("{scheme}{}{tail}", &authority[at + 1..]),
        None => addr.to_string(),
    }
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
