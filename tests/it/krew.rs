//! The krew manifest: the repository holds an unreleased template (no platform, so no
//! checksum that no release produced); scripts/release.sh writes the manifest for the
//! archives it built, each with that archive's real sha256.

use serde_yaml::Value;
use sha2::{Digest, Sha256};
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Checks a krew Plugin manifest of this version; returns its platforms as `os/arch`.
/// A platform's sha256 must be 64 hex digits and not a placeholder (one digit repeated,
/// e.g. all zeros).
fn check_manifest(text: &str) -> Result<Vec<(String, String)>, String> {
    let m: Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    let expect = |ok: bool, what: &str| if ok { Ok(()) } else { Err(what.to_string()) };
    expect(
        m["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2",
        "apiVersion",
    )?;
    expect(m["kind"] == "Plugin", "kind")?;
    // `kubectl krew install vault` → `kubectl vault`, binary kubectl-vault.
    expect(m["metadata"]["name"] == "vault", "metadata.name")?;
    expect(
        m["spec"]["version"].as_str() == Some(version.as_str()),
        "spec.version must match Cargo.toml",
    )?;
    for field in ["homepage", "shortDescription", "description"] {
        expect(
            m["spec"][field].as_str().is_some_and(|s| !s.is_empty()),
            &format!("spec.{field} missing"),
        )?;
    }
    let platforms = m["spec"]["platforms"]
        .as_sequence()
        .ok_or("spec.platforms is not a list")?;
    let mut seen = Vec::new();
    for p in platforms {
        let os = p["selector"]["matchLabels"]["os"]
            .as_str()
            .ok_or("os label")?;
        let arch = p["selector"]["matchLabels"]["arch"]
            .as_str()
            .ok_or("arch label")?;
        let uri = p["uri"].as_str().ok_or("uri")?;
        expect(uri == format!("https://github.com/kubectl-vault/kubectl-vault/releases/download/{version}/kubectl-vault_{version}_{os}_{arch}.tar.gz"), &format!("{os}/{arch}: uri {uri}"))?;
        let sha = p["sha256"].as_str().ok_or("sha256")?;
        expect(
            sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
            &format!("{os}/{arch}: sha256 is not 64 hex digits"),
        )?;
        expect(
            !sha.bytes().all(|b| b == sha.as_bytes()[0]),
            &format!("{os}/{arch}: sha256 {sha} is a placeholder, not an archive's checksum"),
        )?;
        expect(p["bin"] == "kubectl-vault", "bin")?;
        let files: Vec<&str> = p["files"]
            .as_sequence()
            .ok_or("files")?
            .iter()
            .filter_map(|f| f["from"].as_str())
            .collect();
        expect(
            files.contains(&"kubectl-vault") && files.contains(&"LICENSE"),
            "files",
        )?;
        seen.push((os.to_string(), arch.to_string()));
    }
    Ok(seen)
}

#[test]
fn the_repository_holds_an_unreleased_template_without_checksums() {
    let text = std::fs::read_to_string(Path::new(ROOT).join("krew-manifest.yaml")).unwrap();
    assert_eq!(
        check_manifest(&text),
        Ok(vec![]),
        "no platform until a release built it"
    );
    assert!(
        text.contains("unreleased"),
        "the repository's manifest says it is unreleased; a manifest with checksums is written by scripts/release.sh into dist/"
    );
}

#[test]
fn a_placeholder_checksum_is_refused() {
    let text = std::fs::read_to_string(Path::new(ROOT).join("krew-manifest.yaml")).unwrap();
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    let with = |sha: &str| {
        text.replace("  platforms: []\n", &format!("  platforms:\n    - selector:\n        matchLabels: {{os: linux, arch: amd64}}\n      uri: https://github.com/kubectl-vault/kubectl-vault/releases/download/{version}/kubectl-vault_{version}_linux_amd64.tar.gz\n      sha256: \"{sha}\"\n      bin: kubectl-vault\n      files: [{{from: kubectl-vault, to: .}}, {{from: LICENSE, to: .}}]\n"))
    };
    let err = check_manifest(&with(&"0".repeat(64))).unwrap_err();
    assert!(err.contains("placeholder"), "{err}");
    assert!(check_manifest(&with(&"f".repeat(64))).is_err());
    assert!(check_manifest(&with(&"12ab".repeat(16))).is_ok());
}

/// scripts/release.sh packs a binary (a stand-in here: the release build is not a test's
/// job) reproducibly and writes a manifest whose only platform is this host's, with the
/// sha256 of the archive it wrote.
#[test]
fn the_release_script_writes_the_manifest_of_the_archive_it_built() {
    if std::process::Command::new("tar")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no tar");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let stand_in = dir.path().join("kubectl-vault");
    std::fs::write(&stand_in, "#!/bin/sh\necho stand-in\n").unwrap();
    let release = |dist: &Path| {
        let o = std::process::Command::new("bash")
            .arg(Path::new(ROOT).join("scripts/release.sh"))
            .env("DIST", dist)
            .env("KUBECTL_VAULT_BINARY", &stand_in)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    };
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    release(&a);
    release(&b);
    let manifest = std::fs::read_to_string(a.join("krew-manifest.yaml")).unwrap();
    let platforms = check_manifest(&manifest).unwrap();
    assert_eq!(platforms.len(), 1, "{manifest}");
    let (os, arch) = &platforms[0];
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    let archive = format!("kubectl-vault_{version}_{os}_{arch}.tar.gz");
    let bytes = std::fs::read(a.join(&archive)).unwrap();
    let sha = hex::encode(Sha256::digest(&bytes));
    assert!(
        manifest.contains(&format!("sha256: \"{sha}\"")),
        "{manifest}"
    );
    assert_eq!(
        bytes,
        std::fs::read(b.join(&archive)).unwrap(),
        "reproducible"
    );
    let list = std::process::Command::new("tar")
        .arg("-tzf")
        .arg(a.join(&archive))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&list.stdout),
        "kubectl-vault\nLICENSE\nREADME.md\n"
    );
    // Without an archive there is nothing to list: the script refuses.
    let empty = dir.path().join("empty");
    let o = std::process::Command::new("bash")
        .arg(Path::new(ROOT).join("scripts/release.sh"))
        .arg("--manifest-only")
        .env("DIST", &empty)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(!empty.join("krew-manifest.yaml").exists());
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
