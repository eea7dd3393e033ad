//! `scan -o sarif`: SARIF 2.1.0, valid against the OASIS schema (fixtures/sarif, a copy of the
//! upstream file), with every rule's metadata, each finding's path and line (and its commits
//! when it is only in history), its fingerprint in `partialFingerprints` — and no value, nor
//! any part of one.

use crate::scan::{assert_no_value, b64, planted, scan, PLANTED};
use crate::support::common::{redactions, stderr, stdout};
use serde_json::Value;
use std::collections::BTreeSet;

fn validator() -> jsonschema::Validator {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/sarif/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("the SARIF schema is a valid JSON Schema")
}

fn assert_valid(v: &Value) {
    // The validator does reject what is not SARIF 2.1.0.
    let wrong = serde_json::json!({"version": "2.0.0", "runs": [{"tool": {}}]});
    assert!(!validator().is_valid(&wrong));
    let errors: Vec<String> = validator()
        .iter_errors(v)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "not valid SARIF 2.1.0: {errors:#?}");
}

/// No twelve characters in a row of any planted value (or of its base64).
fn assert_no_fragment(text: &str) {
    for v in PLANTED {
        for value in [v.to_string(), b64(v)] {
            let chars: Vec<char> = value.chars().collect();
            for w in chars.windows(12) {
                let part: String = w.iter().collect();
                assert!(
                    !text.contains(&part),
                    "part of a planted value was printed: {part}"
                );
            }
        }
    }
}

#[test]
fn sarif_is_valid_names_every_finding_and_holds_no_value() {
    let f = planted();
    let out = scan(&f.path, &["-o", "sarif"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_no_value(&out);
    assert_no_fragment(&stdout(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_valid(&v);
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    // The docs' rules table names every rule the tool has.
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/src/commands/scan.md"),
    )
    .unwrap();
    for r in rules {
        let row = format!("| `{}` |", r["id"].as_str().unwrap());
        assert!(
            docs.contains(&row),
            "docs/src/commands/scan.md has no row {row}"
        );
    }
    for r in rules {
        for field in ["id", "name"] {
            assert!(r[field].as_str().is_some_and(|s| !s.is_empty()), "{r}");
        }
        assert!(r["shortDescription"]["text"].as_str().is_some(), "{r}");
        assert!(r["help"]["text"].as_str().is_some(), "{r}");
    }
    // The same findings as `-o json`, each with its rule, location and fingerprint.
    let json: Value = serde_json::from_str(&stdout(&scan(&f.path, &["-o", "json"]))).unwrap();
    let expected: BTreeSet<(String, String, String, u64)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["fingerprint"].as_str().unwrap().to_string(),
                x["rule"].as_str().unwrap().to_string(),
                x["path"].as_str().unwrap().to_string(),
                x["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let results = run["results"].as_array().unwrap();
    let mut got = BTreeSet::new();
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        let loc = &r["locations"][0]["physicalLocation"];
        got.insert((
            r["partialFingerprints"]["kubectlVaultScan/v1"]
                .as_str()
                .unwrap()
                .to_string(),
            r["ruleId"].as_str().unwrap().to_string(),
            loc["artifactLocation"]["uri"].as_str().unwrap().to_string(),
            loc["region"]["startLine"].as_u64().unwrap(),
        ));
        // A finding only in history names its commits: as a property, and as logical
        // locations.
        let commits = r["properties"]["commits"].as_array().unwrap();
        let history_only = r["properties"]["inWorkTree"] == false && !commits.is_empty();
        let logical = r["locations"][0]["logicalLocations"].as_array();
        if history_only {
            let names: Vec<&Value> = logical.unwrap().iter().map(|l| &l["name"]).collect();
            assert_eq!(names, commits.iter().collect::<Vec<_>>(), "{r}");
            assert!(r["message"]["text"]
                .as_str()
                .unwrap()
                .contains("only in history"));
        } else {
            assert!(logical.is_none(), "{r}");
        }
    }
    assert_eq!(got, expected);
    redactions(&[(&f.path, "repo")]).bind(|| insta::assert_snapshot!("sarif", stdout(&out)));
}

/// What was not scanned is a tool notification (a file not read is an error, as it fails the
/// run); paths that need it are percent-encoded URIs. Still valid SARIF.
#[test]
fn sarif_notifications_and_odd_paths() {
    let dir = tempfile::tempdir().unwrap();
    git2::Repository::init(dir.path()).unwrap();
    let token = format!("{}.{}", "hvs", "CAESIJq8Xr2Lm5Tv9Wc3Nb7Zk4Pd");
    std::fs::write(
        dir.path().join("a file: #1.yaml"),
        format!("token: {token}\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("big.txt"), "x".repeat(1024 * 1024 + 1)).unwrap();
    let deep = format!("{}password: x\n", "- ".repeat(100));
    std::fs::write(dir.path().join("deep.yaml"), deep).unwrap();
    let out = scan(dir.path(), &["-o", "sarif", "--no-history"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!stdout(&out).contains(&token[4..]));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_valid(&v);
    let run = &v["runs"][0];
    assert_eq!(
        run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "a%20file%3A%20%231.yaml"
    );
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    let levels: Vec<(&str, &str)> = notes
        .iter()
        .map(|n| {
            (
                n["level"].as_str().unwrap(),
                n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(levels, [("error", "big.txt"), ("warning", "deep.yaml")]);
}
