//! The spec's JSON Schema: the shipped file is what `kubectl vault schema` prints, every
//! fixture is valid against it, and every bad fixture whose problem is the spec's shape
//! (an unknown field, a wrong type, a missing field) is invalid against it too.

use crate::support::common::*;
use serde_json::Value;
use std::path::Path;

const SHIPPED: &str = "schema/vault-spec.schema.json";
const REGENERATE: &str = "cargo run -q -- schema > schema/vault-spec.schema.json";

fn printed() -> String {
    let o = run(&["schema"]);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
}

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&printed()).unwrap();
    jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema")
}

/// A YAML spec as the JSON instance editors check.
fn instance(path: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_yaml::from_str(&text).ok()
}

fn yaml_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn the_shipped_schema_is_what_the_command_prints() {
    let shipped = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(SHIPPED))
        .unwrap_or_default();
    assert!(
        shipped == printed(),
        "{SHIPPED} is not what `kubectl vault schema` prints (a spec type changed?): regenerate it with\n  {REGENERATE}"
    );
}

#[test]
fn every_fixture_and_the_init_output_are_valid_against_the_schema() {
    let v = validator();
    let mut checked = 0;
    for path in yaml_files(&fixture("")) {
        let doc = instance(&path).unwrap_or_else(|| panic!("{}: not YAML", path.display()));
        let errors: Vec<String> = v
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} fixtures");
    let init = stdout(&run(&["init"]));
    assert!(
        init.starts_with("# yaml-language-server: $schema=https://"),
        "{init}"
    );
    let doc: Value = serde_yaml::from_str(&init).unwrap();
    assert!(v.is_valid(&doc));
}

/// Which bad fixtures are shape errors is read from the loader's own message, so a new bad
/// fixture is covered without listing it here.
#[test]
fn bad_fixtures_with_a_shape_error_are_invalid_against_the_schema() {
    let v = validator();
    let mut rejected = Vec::new();
    for path in yaml_files(&fixture("bad")) {
        let o = run(&["generate", "-f", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{}", path.display());
        let err = stderr(&o);
        let shape = [
            "unknown field",
            "invalid type",
            "required field is missing",
            "is not one of the allowed values",
            "`tls: true` needs a certificate",
        ]
        .iter()
        .any(|m| err.contains(m));
        if !shape {
            continue;
        }
        let Some(doc) = instance(&path) else {
            continue;
        };
        assert!(
            !v.is_valid(&doc),
            "{}: the loader refuses its shape but the schema accepts it:\n{err}",
            path.display()
        );
        rejected.push(path.file_name().unwrap().to_string_lossy().into_owned());
    }
    for expected in [
        "unknown-top-level-field.yaml",
        "unknown-secret-field.yaml",
        "unknown-field-in-long-form.yaml",
        "wrong-type-replicas.yaml",
        "tls-true.yaml",
        "apps-not-a-list.yaml",
    ] {
        assert!(
            rejected.iter().any(|r| r == expected),
            "{expected} not among {rejected:?}"
        );
    }
}

/// Both forms of a source, and a fleet, as the loader reads them; a short form without a
/// `/` is refused by both.
#[test]
fn short_and_long_forms_and_fleets() {
    let v = validator();
    let stack = |secret: &str| -> Value {
        serde_yaml::from_str(&format!(
            "apiVersion: kubectl-vault/v1alpha1\nkind: VaultStack\ncluster: c\nvault: {{chart: {{version: 0.30.0}}}}\noperator: {{chart: {{version: 1.4.1}}}}\napps:\n  - name: a\n    namespace: n\n    secrets:\n      - {secret}\n"
        ))
        .unwrap()
    };
    assert!(v.is_valid(&stack("{name: s, kv: kvv2/app/config}")));
    assert!(v.is_valid(&stack("{name: s, kv: {mount: a/b, path: c, version: 2}}")));
    assert!(!v.is_valid(&stack("{name: s, kv: no-slash}")));
    assert!(!v.is_valid(&stack("{name: s, kv: {mount: a, path: c, extra: 1}}")));
    let fleet: Value = serde_yaml::from_str(
        "apiVersion: kubectl-vault/v1alpha1\nkind: VaultFleet\ndefaults: {vault: {chart: {version: 0.30.0}}}\nclusters:\n  - name: a\n    vault: {replicas: 3}\n    withoutApps: [shop/web]\n",
    )
    .unwrap();
    assert!(v.is_valid(&fleet));
    let mut typo = fleet.clone();
    typo["clusters"][0]["vualt"] = Value::Null;
    assert!(!v.is_valid(&typo));
}
