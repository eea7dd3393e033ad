//! `kubectl vault scan` runs on CI with the repository's contents as input (issue 23): no
//! content crashes it, nothing it holds is skipped without saying so, no part of a value is
//! printed (keys included), and a history it did not see whole is said to be so.

use crate::scan::{commit, scan};
use crate::support::common::{stderr, stdout};
use git2::Repository;
use std::process::Output;

/// A Vault token built from pieces: no token-shaped literal in the source (this repository
/// scans itself).
fn token() -> String {
    format!("{}.{}", "hvs", "CAESIInputsTestToken0123456789ab")
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

/// `(rule, path)` of each finding.
fn found(v: &serde_json::Value) -> Vec<(String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The paths of a list of `{path, ...}` (`unread`, `unparsed`).
fn paths(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|x| x["path"].as_str().unwrap().to_string())
        .collect()
}

/// 23.5: 100 KB of nested YAML sequences (`- - - …`, 50,000 levels) overflowed the parser's
/// stack (exit 134), in the work tree or only in history. The nesting is bounded: the file is
/// reported as not parsed, and still scanned as text.
#[test]
fn deep_nesting_neither_crashes_the_scan_nor_hides_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    // A comment with a token (found as text), then the nesting.
    let deep = format!("# {}\n{}x\n", token(), "- ".repeat(50_000));
    let c1 = commit(&repo, "master", None, 1, &[("old/deep.yaml", Some(&deep))]);
    commit(&repo, "master", Some(c1), 2, &[("old/deep.yaml", None)]);
    std::fs::write(dir.path().join("deep.yml"), &deep).unwrap();

    let out = scan(dir.path(), &["-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(
        found(&v),
        [
            ("vault-token".to_string(), "deep.yml".to_string()),
            ("vault-token".to_string(), "old/deep.yaml".to_string())
        ]
    );
    assert_eq!(paths(&v["unparsed"]), ["deep.yml", "old/deep.yaml"]);
    assert_eq!(v["unparsed"][0]["line"], 2);

    let out = scan(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(
            "not parsed as YAML (scanned as text): old/deep.yaml:2: nesting deeper than 64 levels"
        ),
        "{text}"
    );
    assert!(!text.contains(&token()), "{text}");
}
