//! The Vault edge: a small blocking HTTP client configured from the environment exactly as
//! the vault CLI is (VAULT_ADDR, VAULT_TOKEN or ~/.vault-token, VAULT_CACERT, VAULT_NAMESPACE,
//! VAULT_SKIP_VERIFY). Errors map to exit code 3 and say what was refused, and where.

use crate::error::Error;
use serde_json::Value;
use std::time::Duration;

pub struct Vault {
    agent: ureq::Agent,
    addr: String,
    token: String,
    namespace: Option<String>,
}

/// Reads of the current state; a trait so the planner can be tested without a server.
pub trait VaultRead {
    /// `GET /v1/<path>`'s `data`, or `None` on 404.
    fn read(&self, path: &str) -> Result<Option<Value>, Error>;
    /// `LIST /v1/<path>`'s `data.keys`, or empty on 404.
    fn list(&self, path: &str) -> Result<Vec<String>, Error>;
}

impl Vault {
    pub fn from_env() -> Result<Vault, Error> {
        let addr = std::env::var("VAULT_ADDR").map_err(|_| {
            Error::usage("VAULT_ADDR is not set\nhint: export VAULT_ADDR=https://vault.example.com:8200 (and VAULT_TOKEN)")
        })?;
        let token = match std::env::var("VAULT_TOKEN") {
            Ok(t) if !t.is_empty() => t,
            _ => std::env::var("HOME")
                .ok()
                .and_then(|h| std::fs::read_to_string(format!("{h}/.vault-token")).ok())
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .ok_or_else(|| Error::usage("VAULT_TOKEN is not set (and there is no ~/.vault-token)\nhint: export VAULT_TOKEN=… or `vault login`"))?,
        };
        let skip_verify = std::env::var("VAULT_SKIP_VERIFY")
            .is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
        let mut tls = ureq::tls::TlsConfig::builder().disable_verification(skip_verify);
        if let Ok(ca) = std::env::var("VAULT_CACERT") {
            let pem =
                std::fs::read(&ca).map_err(|e| Error::usage(format!("VAULT_CACERT {ca}: {e}")))?;
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
            addr: addr.trim_end_matches('/').to_string(),
            token,
            namespace: std::env::var("VAULT_NAMESPACE")
                .ok()
                .filter(|n| !n.is_empty()),
        })
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Sends one request; returns (status, body).
    fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, Value), Error> {
        let url = format!("{}/v1/{}", self.addr, path.trim_start_matches('/'));
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
        let req = req
            .header("Content-Type", "application/json")
            .body(payload)
            .map_err(|e| Error::bug(format!("building a request: {e}")))?;
        let resp = self.agent.run(req).map_err(|e| {
            let msg = e.to_string();
            let tls = msg.to_lowercase().contains("certificate") || msg.contains("tls") || msg.contains("TLS");
            Error::environment(if tls {
                format!("cannot talk TLS to Vault at {}: {msg}\nhint: set VAULT_CACERT to the CA that signed Vault's certificate", self.addr)
            } else {
                format!("Vault at {} is unreachable: {msg}\nhint: check VAULT_ADDR", self.addr)
            })
        })?;
        let status = resp.status().as_u16();
        let text = resp.into_body().read_to_string().unwrap_or_default();
        let value = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok((status, value))
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
        match status {
            200..=299 => Ok(()),
            403 => Err(Error::environment(format!(
                "permission denied: {method} {path} needs the `{capability}` capability on `{path}` ({errors})\nhint: use a token whose policy grants it"
            ))),
            503 if errors.contains("sealed") => Err(Error::environment(format!("Vault at {} is sealed: unseal it, then run again", self.addr))),
            _ => Err(Error::environment(format!("Vault refused {method} {path}: {status} {errors}"))),
        }
    }

    /// Writes (`POST`) `body` to `path`.
    pub fn write(&self, path: &str, body: &Value) -> Result<Value, Error> {
        let (status, v) = self.send("POST", path, Some(body))?;
        self.check("POST", path, "update", status, &v)?;
        Ok(v)
    }

    /// Checks that the token works and Vault is unsealed.
    pub fn ping(&self) -> Result<(), Error> {
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
    pub fn capabilities(&self, token: Option<&str>, paths: &[String]) -> Result<Value, Error> {
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

impl VaultRead for Vault {
    fn read(&self, path: &str) -> Result<Option<Value>, Error> {
        let (status, v) = self.send("GET", path, None)?;
        if status == 404 {
            return Ok(None);
        }
        self.check("GET", path, "read", status, &v)?;
        Ok(Some(v["data"].clone()))
    }

    fn list(&self, path: &str) -> Result<Vec<String>, Error> {
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
