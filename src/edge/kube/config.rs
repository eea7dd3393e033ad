//! The client, built the way kubectl builds one: the kubeconfig files (`--kubeconfig`, else
//! `KUBECONFIG`, else `~/.kube/config`), the context, and the TLS verifier.

use super::MAX_KUBECONFIG_BYTES;
use crate::error::Error;
use kube::config::Kubeconfig;
use kube::{Client, Config};
use std::path::PathBuf;
use std::sync::Arc;

/// Builds the client: kube's default stack, except for an HTTPS cluster with a configured CA,
/// where the TLS verifier also accepts a server certificate that is itself one of those CA
/// certificates (a self-signed server certificate used as its own CA), as kubectl does.
pub(super) fn build_client(config: Config) -> Result<Client, kube::Error> {
    use kube::client::ConfigExt;
    let https = config.cluster_url.scheme_str() == Some("https");
    let roots = match (
        &config.root_cert,
        https,
        config.accept_invalid_certs,
        &config.proxy_url,
    ) {
        (Some(roots), true, false, None) if !roots.is_empty() => roots.clone(),
        _ => return Client::try_from(config),
    };
    let mut tls = config.rustls_client_config()?;
    let verifier = OwnCaVerifier::new(roots).map_err(|e| {
        kube::Error::Service(format!("the kubeconfig's certificate authority: {e}").into())
    })?;
    tls.dangerous().set_certificate_verifier(Arc::new(verifier));
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(config.connect_timeout);
    let mut builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http();
    if let Some(name) = &config.tls_server_name {
        let name = rustls::pki_types::ServerName::try_from(name.clone())
            .map_err(|e| kube::Error::Service(format!("tls-server-name {name}: {e}").into()))?;
        builder =
            builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name));
    }
    let connector = builder.enable_http1().wrap_connector(http);
    let hyper = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build(connector);
    let service = tower::ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(tower::BoxError::from)
        .service(hyper);
    Ok(Client::new(service, config.default_namespace))
}

/// WebPKI verification against the kubeconfig's CA certificates, plus Go's rule for a server
/// certificate that is itself in the trusted pool: it is trusted (a chain of one), if it is
/// valid now and names the server.
#[derive(Debug)]
struct OwnCaVerifier {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    roots: Vec<Vec<u8>>,
}

impl OwnCaVerifier {
    fn new(roots: Vec<Vec<u8>>) -> Result<OwnCaVerifier, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut store = rustls::RootCertStore::empty();
        for der in &roots {
            store
                .add(rustls::pki_types::CertificateDer::from(der.clone()))
                .map_err(|e| e.to_string())?;
        }
        let inner =
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider)
                .build()
                .map_err(|e| e.to_string())?;
        Ok(OwnCaVerifier { inner, roots })
    }
}

impl rustls::client::danger::ServerCertVerifier for OwnCaVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let err = match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        if !self
            .roots
            .iter()
            .any(|r| r.as_slice() == end_entity.as_ref())
        {
            return Err(err);
        }
        // The server's certificate is one the kubeconfig trusts as a CA: check its validity
        // period and its names, as Go's crypto/x509 does for a chain of one.
        let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_name(&parsed, server_name)?;
        let (_, cert) = x509_parser::parse_x509_certificate(end_entity.as_ref()).map_err(|_| {
            rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding)
        })?;
        let now = now.as_secs() as i64;
        if cert.validity().not_before.timestamp() > now {
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidYet,
            ));
        }
        if cert.validity().not_after.timestamp() < now {
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::Expired,
            ));
        }
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Reads one kubeconfig file, at most [`MAX_KUBECONFIG_BYTES`] (kube resolves relative
/// certificate paths against the file's folder).
pub(super) fn read_kubeconfig(path: &std::path::Path) -> Result<Kubeconfig, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.is_file() {
        if meta.len() > MAX_KUBECONFIG_BYTES {
            return Err(format!(
                "larger than {} MiB",
                MAX_KUBECONFIG_BYTES / (1024 * 1024)
            ));
        }
        return Kubeconfig::read_from(path).map_err(|e| credential_file_error(&e.to_string()));
    }
    // A pipe or device (`--kubeconfig <(...)`): read what it gives, bounded.
    let text = crate::edge::fs::read_text(path, MAX_KUBECONFIG_BYTES).map_err(|e| e.to_string())?;
    Kubeconfig::from_yaml(&text).map_err(|e| credential_file_error(&e.to_string()))
}

/// An error about a credential file (a kubeconfig holds tokens, passwords, keys) as it may be
/// shown: its position and reason only. The YAML parser's excerpt of neighbouring lines (a
/// `token:` line among them) is cut, control characters are escaped, and a path the library
/// quoted twice (`'"/root/.kube/config"'`) is quoted once.
pub(super) fn credential_file_error(message: &str) -> String {
    // The excerpt starts on the second line (` --> <input>:7:11`, then `N | …`).
    let line = message.lines().next().unwrap_or_default().trim_end();
    let once = line.replace("'\"", "'").replace("\"'", "'");
    crate::core::outside::shown(&once)
}

/// The kubeconfig as kubectl finds it: the files listed in `KUBECONFIG` that exist, merged
/// (kubectl ignores the missing ones), else `~/.kube/config`.
pub(super) fn kubeconfig_from_env() -> Result<Kubeconfig, Error> {
    if let Some(value) = std::env::var_os("KUBECONFIG") {
        let paths: Vec<PathBuf> = std::env::split_paths(&value)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if !paths.is_empty() {
            let existing: Vec<&PathBuf> = paths.iter().filter(|p| p.exists()).collect();
            if existing.is_empty() {
                return Err(Error::environment(format!(
                    "no kubeconfig: none of the files in KUBECONFIG exists ({})",
                    paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .with_hint("set KUBECONFIG to your kubeconfig file or pass --kubeconfig"));
            }
            let mut merged = Kubeconfig::default();
            for p in existing {
                let next = read_kubeconfig(p).map_err(|e| {
                    Error::environment(format!("kubeconfig {} (from KUBECONFIG): {e}", p.display()))
                })?;
                merged = merged.merge(next).map_err(|e| {
                    Error::environment(format!("kubeconfig {} (from KUBECONFIG): {e}", p.display()))
                })?;
            }
            return Ok(merged);
        }
    }
    Kubeconfig::read().map_err(|e| {
        Error::environment(format!(
            "no kubeconfig: {}",
            credential_file_error(&e.to_string())
        ))
        .with_hint("set KUBECONFIG or pass --kubeconfig")
    })
}

/// `--context NAME` names no context of the kubeconfig: the ones it has.
pub(super) fn unknown_context(wanted: &str, names: &[&str]) -> Error {
    let have = if names.is_empty() {
        "the kubeconfig has no contexts".to_string()
    } else {
        format!("its contexts are: {}", names.join(", "))
    };
    Error::usage(format!("kubeconfig: no context named `{wanted}`; {have}")).with_hint(
        "pass one of them with --context (`kubectl config get-contexts` lists them), or leave --context out to use the current context",
    )
}
