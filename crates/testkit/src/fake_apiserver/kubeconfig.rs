//! Kubeconfigs that reach a fake: a bearer token, a client certificate, an arbitrary user,
//! or no credentials.

use super::{FakeApiServer, TOKEN};

impl FakeApiServer {
    /// The kubeconfig lines of the cluster entry: server, and the CA for an HTTPS fake.
    fn cluster_entry(&self) -> String {
        use base64::Engine;
        let mut entry = format!("    server: {}\n", self.url());
        if let Some(tls) = &self.tls {
            entry.push_str(&format!(
                "    certificate-authority-data: {}\n",
                base64::engine::general_purpose::STANDARD.encode(&tls.ca_pem)
            ));
        }
        entry
    }

    /// Writes a kubeconfig whose user authenticates with `user` (kubeconfig `user:` fields,
    /// indented by four spaces) and returns its path.
    pub fn write_kubeconfig_with_user(
        &self,
        dir: &std::path::Path,
        context: &str,
        user: &str,
    ) -> std::path::PathBuf {
        let path = dir.join(format!("kubeconfig-{context}"));
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n{cluster}contexts:\n- name: {context}\n  context:\n    cluster: fake\n    user: {context}-user\n    namespace: default\ncurrent-context: {context}\nusers:\n- name: {context}-user\n  user:{user}\n",
            cluster = self.cluster_entry(),
            user = if user.is_empty() { " {}".to_string() } else { format!("\n{user}") }
        );
        std::fs::write(&path, text).expect("write kubeconfig");
        path
    }

    /// Writes a kubeconfig authenticating with the client certificate (HTTPS fakes only).
    pub fn write_client_certificate_kubeconfig(
        &self,
        dir: &std::path::Path,
        context: &str,
    ) -> std::path::PathBuf {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let tls = self.tls();
        self.write_kubeconfig_with_user(
            dir,
            context,
            &format!(
                "    client-certificate-data: {}\n    client-key-data: {}",
                b64(&tls.client_cert_pem),
                b64(&tls.client_key_pem)
            ),
        )
    }

    /// Writes a kubeconfig without credentials.
    pub fn write_anonymous_kubeconfig(&self, dir: &std::path::Path) -> std::path::PathBuf {
        self.write_kubeconfig_with_user(dir, "anonymous", "")
    }

    /// Writes a kubeconfig for this server (bearer token auth) and returns its path.
    pub fn write_kubeconfig(&self, dir: &std::path::Path, context: &str) -> std::path::PathBuf {
        self.write_kubeconfig_with_user(dir, context, &format!("    token: {TOKEN}"))
    }
}
