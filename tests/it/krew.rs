//! krew-manifest.yaml is a valid krew Plugin manifest for this version.

use serde_yaml::Value;

#[test]
fn krew_manifest_is_a_plugin_for_this_version_on_four_platforms() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/krew-manifest.yaml"))
        .unwrap();
    let m: Value = serde_yaml::from_str(&text).unwrap();
    assert_eq!(
        m["apiVersion"],
        "krew.googlecontainertools.github.com/v1alpha2"
    );
    assert_eq!(m["kind"], "Plugin");
    // `kubectl krew install vault` → `kubectl vault`, binary kubectl-vault.
    assert_eq!(m["metadata"]["name"], "vault");
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(
        m["spec"]["version"].as_str(),
        Some(version.as_str()),
        "manifest version must match Cargo.toml"
    );
    for field in ["homepage", "shortDescription", "description"] {
        assert!(
            m["spec"][field].as_str().is_some_and(|s| !s.is_empty()),
            "spec.{field} missing"
        );
    }
    let platforms = m["spec"]["platforms"].as_sequence().expect("platforms");
    let mut seen = Vec::new();
    for p in platforms {
        let os = p["selector"]["matchLabels"]["os"]
            .as_str()
            .expect("os label");
        let arch = p["selector"]["matchLabels"]["arch"]
            .as_str()
            .expect("arch label");
        let uri = p["uri"].as_str().expect("uri");
        assert_eq!(uri, format!("https://github.com/kubectl-vault/kubectl-vault/releases/download/{version}/kubectl-vault_{version}_{os}_{arch}.tar.gz"));
        let sha = p["sha256"].as_str().expect("sha256");
        assert!(
            sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
            "{os}/{arch}: sha256 is not 64 hex digits"
        );
        assert_eq!(p["bin"], "kubectl-vault");
        let files: Vec<&str> = p["files"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|f| f["from"].as_str().unwrap())
            .collect();
        assert!(files.contains(&"kubectl-vault") && files.contains(&"LICENSE"));
        seen.push(format!("{os}/{arch}"));
    }
    seen.sort();
    assert_eq!(
        seen,
        ["darwin/amd64", "darwin/arm64", "linux/amd64", "linux/arm64"]
    );
}

/// The released binary runs on machines with another libssl, or none: OpenSSL (git2's https
/// and ssh transports) is vendored and linked statically.
#[test]
fn the_binary_links_no_system_openssl() {
    let bin = env!("CARGO_BIN_EXE_kubectl-vault");
    let Ok(o) = std::process::Command::new("ldd").arg(bin).output() else {
        eprintln!("skipped: no ldd on this machine");
        return;
    };
    let libs = String::from_utf8_lossy(&o.stdout);
    for lib in ["libssl", "libcrypto", "libssh2"] {
        assert!(!libs.contains(lib), "{bin} links {lib}:\n{libs}");
    }
}
