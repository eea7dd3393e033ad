//! JWTs signed at test time (no network, no key in the source): an RSA key pair made with the
//! `openssl` CLI in a temporary folder, RS256 signatures by `openssl dgst -sha256 -sign`.

use super::servers::{find_tool, require};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

pub struct Signer {
    _dir: tempfile::TempDir,
    openssl: PathBuf,
    key: PathBuf,
    /// The public key, PEM (`-----BEGIN PUBLIC KEY-----`).
    pub public_pem: String,
}

impl Signer {
    /// A new RSA-2048 key pair, or None (the test is skipped; under CI a failure) without the
    /// `openssl` CLI.
    pub fn new() -> Option<Signer> {
        let openssl = require(find_tool("OPENSSL_BIN", "openssl"), "the openssl CLI")?;
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("signing.pem");
        let made = Command::new(&openssl)
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
            ])
            .arg(&key)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(made.success(), "openssl genpkey failed");
        let public = Command::new(&openssl)
            .args(["pkey", "-pubout", "-in"])
            .arg(&key)
            .output()
            .unwrap();
        assert!(public.status.success(), "openssl pkey -pubout failed");
        Some(Signer {
            _dir: dir,
            openssl,
            key,
            public_pem: String::from_utf8(public.stdout).unwrap(),
        })
    }

    /// An RS256 JWT carrying `claims`, with `iat`, `nbf` and `exp` (in 5 minutes) added.
    pub fn sign(&self, claims: Value) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut claims = claims;
        claims["iat"] = json!(now - 5);
        claims["nbf"] = json!(now - 5);
        claims["exp"] = json!(now + 300);
        let header = json!({"alg": "RS256", "typ": "JWT"});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut child = Command::new(&self.openssl)
            .args(["dgst", "-sha256", "-sign"])
            .arg(&self.key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "openssl dgst -sign failed");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(out.stdout))
    }
}
