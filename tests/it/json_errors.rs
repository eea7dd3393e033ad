//! The `-o json` contract, for every command that has the flag: whatever ends the run, stdout is
//! one JSON object (`{"ok": false, "error": {exitCode, kind, message[, hint]}}`) and the exit
//! code is the same as without JSON. Printed once, at the exit boundary (`cli::main`).

use crate::support::common::{bin, stderr, stdout};
use serde_json::Value;

fn json_error(args: &[&str], code: i32) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let o = bin()
        .current_dir(dir.path())
        .env("KUBECONFIG", dir.path().join("no-kubeconfig"))
        .env_remove("VAULT_TOKEN")
        .args(args)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o))
        .unwrap_or_else(|e| panic!("{args:?}: stdout is not JSON ({e}): {}", stdout(&o)));
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["error"]["exitCode"], code, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{v}"
    );
    // Never `"hint": null`: a hint is there, with text, or absent.
    assert!(
        v["error"]
            .get("hint")
            .is_none_or(|h| h.as_str().is_some_and(|h| !h.is_empty())),
        "{v}"
    );
    // The text is on stderr too, for the person watching the CI log.
    assert!(!stderr(&o).is_empty(), "{args:?}");
    v
}

#[test]
fn every_json_command_fails_in_json() {
    // A missing spec: a spec error (exit 2), its diagnostics in the message.
    for args in [
        &["verify", "-f", "missing.yaml", "-o", "json"][..],
        &["operator", "status", "-f", "missing.yaml", "-o", "json"],
        &["operator", "init", "-f", "missing.yaml", "-o", "json"],
        &["operator", "unseal", "-f", "missing.yaml", "-o", "json"],
    ] {
        let v = json_error(args, 2);
        assert_eq!(v["error"]["kind"], "usage");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("missing.yaml"),
            "{v}"
        );
    }
    // scan of a folder that is no Git repository.
    let v = json_error(&["scan", "--repo", "no-such-repo", "-o", "json"], 2);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no-such-repo"),
        "{v}"
    );
}
