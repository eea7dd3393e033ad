//! One snapshot per class of message a user reads on stderr, beyond the bad-spec corpus
//! (bad_specs.rs): spec warnings, warnings made errors by --strict, a self-check failure
//! (a bug, exit 70), and environment errors (exit 3) of each command that meets the outside.

use crate::support::common::*;
use std::process::Output;

fn settle(o: &Output, code: i32, name: &str, dirs: &[(&std::path::Path, &str)]) {
    assert_eq!(o.status.code(), Some(code), "{name}: {}", stderr(o));
    let mut paths = vec![(fixture(""), "FIXTURES".to_string())];
    paths.extend(dirs.iter().map(|(p, n)| (p.to_path_buf(), n.to_string())));
    let paths: Vec<_> = paths
        .iter()
        .map(|(p, n)| (p.as_path(), n.as_str()))
        .collect();
    redactions(&paths).bind(|| insta::assert_snapshot!(name, stderr(o)));
}

#[test]
fn warnings_are_printed_and_the_run_goes_on() {
    let out = tempfile::tempdir().unwrap();
    let o = run(&[
        "generate",
        "-f",
        fixture("minimal.yaml").to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
    ]);
    settle(&o, 0, "warning", &[(out.path(), "OUT")]);
}

#[test]
fn strict_makes_warnings_errors() {
    let out = tempfile::tempdir().unwrap();
    let o = run(&[
        "generate",
        "--strict",
        "-f",
        fixture("minimal.yaml").to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
    ]);
    settle(&o, 2, "warning_strict", &[(out.path(), "OUT")]);
    assert!(read_tree(out.path()).is_empty(), "nothing written");
}

/// A template override that breaks what the self-check guarantees: the run stops as a bug
/// (exit 70) before writing anything, naming each broken file and the template it came from.
#[test]
fn a_self_check_failure_is_an_internal_error() {
    let templates = tempfile::tempdir().unwrap();
    std::fs::create_dir(templates.path().join("vso")).unwrap();
    std::fs::write(
        templates.path().join("vso/vaultauth.yaml.j2"),
        "apiVersion: secrets.hashicorp.com/v1beta1\nkind: VaultAuth\nmetadata:\n  name: api\n  namespace: elsewhere\nspec:\n  method: kubernetes\n  mount: kubernetes\n  kubernetes:\n    role: x\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let o = run(&[
        "generate",
        "-f",
        fixture("minimal.yaml").to_str().unwrap(),
        "--templates",
        templates.path().to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
    ]);
    settle(
        &o,
        70,
        "self_check_failure",
        &[(templates.path(), "TEMPLATES")],
    );
    assert!(read_tree(out.path()).is_empty(), "nothing written");
}

#[test]
fn a_missing_spec_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("vault.yaml");
    let o = run(&["generate", "-f", missing.to_str().unwrap()]);
    settle(&o, 2, "missing_spec", &[(dir.path(), "TMP")]);
}

#[test]
fn commit_outside_a_git_repository() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&[
        "commit",
        "-f",
        fixture("minimal.yaml").to_str().unwrap(),
        "--repo",
        dir.path().join("fleet").to_str().unwrap(),
    ]);
    // A wrong --repo is a usage error: nothing outside the tool failed.
    settle(&o, 2, "commit_not_a_repository", &[(dir.path(), "TMP")]);
}

#[test]
fn configure_with_vault_unreachable() {
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let o = bin()
        .args([
            "configure",
            "-f",
            fixture("minimal.yaml").to_str().unwrap(),
            "--dry-run",
        ])
        .env("VAULT_ADDR", format!("http://127.0.0.1:{port}"))
        .env("VAULT_TOKEN", "t")
        .env_remove("VAULT_CACERT")
        .env_remove("VAULT_NAMESPACE")
        .output()
        .unwrap();
    settle(&o, 3, "environment_vault_unreachable", &[]);
}

/// A proxy from the environment that cannot be reached: nothing was sent, and the hint names
/// the proxy variables, not VAULT_ADDR.
#[test]
fn configure_through_a_proxy_that_refuses() {
    let closed = || {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let o = bin()
        .args([
            "configure",
            "-f",
            fixture("minimal.yaml").to_str().unwrap(),
            "--dry-run",
        ])
        .env("VAULT_ADDR", format!("http://127.0.0.1:{}", closed()))
        .env("VAULT_TOKEN", "t")
        .env("HTTPS_PROXY", format!("http://127.0.0.1:{}", closed()))
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .env_remove("VAULT_CACERT")
        .env_remove("VAULT_NAMESPACE")
        .output()
        .unwrap();
    settle(&o, 3, "environment_vault_proxy_refuses", &[]);
}

/// A server that answers with more than the client reads: the run stops, exit 3.
#[test]
fn configure_against_an_answer_too_large() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut stream in listener.incoming().flatten() {
            let mut head = [0u8; 4096];
            let _ = stream.read(&mut head);
            let chunk = vec![b' '; 1 << 20];
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
                16 * chunk.len()
            );
            for _ in 0..16 {
                if stream.write_all(&chunk).is_err() {
                    break;
                }
            }
        }
    });
    let o = bin()
        .args([
            "configure",
            "-f",
            fixture("minimal.yaml").to_str().unwrap(),
            "--dry-run",
        ])
        .env("VAULT_ADDR", format!("http://127.0.0.1:{port}"))
        .env("VAULT_TOKEN", "t")
        .env("NO_PROXY", "*")
        .env_remove("VAULT_CACERT")
        .env_remove("VAULT_NAMESPACE")
        .output()
        .unwrap();
    settle(&o, 3, "environment_vault_answer_too_large", &[]);
}

#[test]
fn configure_without_a_token() {
    let o = bin()
        .args([
            "configure",
            "-f",
            fixture("minimal.yaml").to_str().unwrap(),
            "--dry-run",
        ])
        .env("VAULT_ADDR", "http://127.0.0.1:1")
        .env("HOME", tempfile::tempdir().unwrap().path())
        .env_remove("VAULT_TOKEN")
        .output()
        .unwrap();
    settle(&o, 2, "vault_no_token", &[]);
}

/// serde stops at the first unknown field; the user still reads every one in one run, each
/// at its line with its did-you-mean (in a single spec and in a fleet's defaults and clusters).
#[test]
fn every_unknown_field_is_reported_in_one_run() {
    let o = run(&[
        "generate",
        "-f",
        fixture("bad/several-unknown-fields.yaml").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let headlines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("several-unknown-fields.yaml:"))
        .collect();
    assert_eq!(
        headlines,
        [
            "several-unknown-fields.yaml:8:3: vault.replica: unknown field, did you mean replicas?",
            "several-unknown-fields.yaml:13:3: operator.adress: unknown field, did you mean address?",
            "several-unknown-fields.yaml:20:9: apps[0].secrets[0].refreshAftr: unknown field, did you mean refreshAfter?",
            "several-unknown-fields.yaml:22:44: apps[0].secrets[1].kv.verison: unknown field, did you mean version?",
        ],
        "{err}"
    );
    assert!(
        err.ends_with("is not a valid spec (4 errors); nothing was written\n"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let fleet = std::fs::read_to_string(fixture("fleet.yaml"))
        .unwrap()
        .replacen(
            "    namespace: vault-secrets-operator\n",
            "    namespace: vault-secrets-operator\n    adress: https://vault.example.com\n",
            1,
        )
        .replacen(
            "  - name: staging\n",
            "  - name: staging\n    operatr: {}\n",
            1,
        );
    let path = dir.path().join("fleet.yaml");
    std::fs::write(&path, fleet).unwrap();
    let o = run(&["generate", "-f", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("defaults.operator.adress: unknown field, did you mean address?")
            && err.contains("clusters[0].operatr: unknown field, did you mean operator?"),
        "{err}"
    );
}

/// The human form of the diagnostics is coloured as `--color`, NO_COLOR and CLICOLOR_FORCE
/// say (plain into a pipe by default), and the text is the same either way.
#[test]
fn diagnostics_are_coloured_as_asked() {
    let bad = fixture("bad/unknown-secret-field.yaml");
    let stderr_of = |extra: &[&str], vars: &[(&str, &str)]| {
        let mut c = bin();
        c.args([
            "generate",
            "-f",
            bad.to_str().unwrap(),
            "--diagnostics",
            "human",
        ])
        .args(extra)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
        for (k, v) in vars {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(2));
        stderr(&o)
    };
    let plain = stderr_of(&[], &[]);
    assert!(!plain.contains('\x1b'), "{plain}");
    let coloured = stderr_of(&["--color", "always"], &[]);
    assert!(coloured.contains("\x1b["), "{coloured}");
    let mut stripped = String::new();
    let mut chars = coloured.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            stripped.push(c);
        }
    }
    assert_eq!(stripped, plain);
    assert!(stderr_of(&[], &[("CLICOLOR_FORCE", "1")]).contains("\x1b["));
    assert!(!stderr_of(&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains('\x1b'));
}

/// Each diagnostic is printed once: the human form (a box) or, by default into a pipe and with
/// `--diagnostics short`, one `file:line:col:` line and its hint, never both.
#[test]
fn each_diagnostic_is_printed_once() {
    let spec = fixture("minimal.yaml");
    let out = tempfile::tempdir().unwrap();
    let generate = |extra: &[&str]| {
        let o = bin()
            .args(["generate", "-f", spec.to_str().unwrap(), "--out"])
            .arg(out.path())
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stderr(&o)
    };
    let message = "TLS is off: Vault tokens and secrets cross the cluster network in clear text";
    for (extra, headline, boxed) in [
        (&[][..], true, false),
        (&["--diagnostics", "short"][..], true, false),
        (&["--diagnostics", "human"][..], false, true),
    ] {
        let err = generate(extra);
        assert_eq!(err.matches(message).count(), 1, "{extra:?}: {err}");
        assert_eq!(
            err.contains("minimal.yaml:5:1: warning: vault.tls:"),
            headline,
            "{extra:?}: {err}"
        );
        assert_eq!(
            err.contains("┌─ minimal.yaml:5:1"),
            boxed,
            "{extra:?}: {err}"
        );
        assert!(
            err.contains("hint: name a kubernetes.io/tls Secret"),
            "{extra:?}: {err}"
        );
    }
}

/// An unknown field does not hide the spec's other problems: the typo and an invalid value
/// elsewhere are reported in the same run, in the file's order.
#[test]
fn unknown_fields_and_other_errors_are_reported_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let spec = std::fs::read_to_string(fixture("example.yaml"))
        .unwrap()
        .replacen("  ui: true\n", "  ui: true\n  uii: true\n", 1)
        .replacen("  - name: webapp\n", "  - name: Web_App\n", 1);
    let path = dir.path().join("vault.yaml");
    std::fs::write(&path, spec).unwrap();
    let o = run(&["generate", "-f", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    let headlines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("vault.yaml:"))
        .collect();
    assert!(
        headlines
            .iter()
            .any(|l| l.contains("vault.uii: unknown field, did you mean ui?")),
        "{err}"
    );
    assert!(
        headlines.iter().any(|l| l.contains("apps[0].name:")),
        "{err}"
    );
    assert!(err.contains("is not a valid spec (2 errors)"), "{err}");
}

/// Without vault.tlsIssuer, every app namespace whose injector agents or ESO store read Vault's
/// CA is named, with the command that creates the Secret there (not only the operator's).
#[test]
fn every_namespace_that_needs_vaults_ca_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let spec = std::fs::read_to_string(fixture("consumers.yaml"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("tlsIssuer:"))
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.path().join("vault.yaml");
    std::fs::write(&path, spec).unwrap();
    let o = run(&["generate", "-f", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    for ns in ["shop", "billing", "reports"] {
        assert!(
            err.contains(&format!(
                "in namespace `{ns}`, which this tree does not create"
            )) && err.contains(&format!("kubectl -n {ns} create secret generic vault-tls")),
            "{ns}: {err}"
        );
    }
    // With the issuer, the tree makes them: no such warning.
    let o = run(&[
        "generate",
        "-f",
        fixture("consumers.yaml").to_str().unwrap(),
    ]);
    assert!(
        !stderr(&o).contains("which this tree does not create"),
        "{}",
        stderr(&o)
    );
}

/// An app asking its PKI role for a name the role refuses by default (an IP address,
/// `localhost`, a wildcard) is warned about at that name, with the opt-in that allows it.
#[test]
fn names_a_pki_role_refuses_by_default_are_warned_at_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let spec = std::fs::read_to_string(fixture("example.yaml")).unwrap().replace(
        "        commonName: webapp.app.svc.cluster.local\n",
        "        commonName: webapp.app.svc.cluster.local\n        altNames: [localhost, 10.0.0.7, \"*.app.svc.cluster.local\"]\n",
    );
    let path = dir.path().join("vault.yaml");
    std::fs::write(&path, spec).unwrap();
    let out = dir.path().join("out");
    let o = run(&[
        "generate",
        "-f",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    settle(&o, 0, "pki_role_refuses_names", &[(dir.path(), "DIR")]);
}
