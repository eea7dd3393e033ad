//! The upstream CRDs copied into fixtures/crds/ as the API server uses them: the
//! `openAPIV3Schema` of a served version, and structural validation of an object against it.

use super::common::fixture;
use serde_json::Value;
use std::path::PathBuf;

/// Every `.yaml` file below `dir`, in a stable order.
fn yaml_files(dir: PathBuf) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The `openAPIV3Schema` of `group`'s `kind` at `version`, from the CRD files anywhere below
/// fixtures/crds/; the version must be served.
pub fn crd_schema(group: &str, kind: &str, version: &str) -> Value {
    for path in yaml_files(fixture("crds")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let crd: Value = serde_yaml::from_str(&text).unwrap();
        if crd["spec"]["group"] != group || crd["spec"]["names"]["kind"] != kind {
            continue;
        }
        for v in crd["spec"]["versions"].as_array().unwrap() {
            if v["name"] == version {
                assert_eq!(v["served"], true, "{group}/{version} {kind} is not served");
                return v["schema"]["openAPIV3Schema"].clone();
            }
        }
    }
    panic!("no CRD for {group}/{version} {kind} in fixtures/crds");
}

/// What the API server would refuse in the object `v`, each problem prefixed with `at`:
/// types, enums, required fields, and unknown fields (pruned there, refused here) unless
/// `x-kubernetes-preserve-unknown-fields` or a map (`additionalProperties`) accepts any key.
/// The top-level `metadata` is the API server's own ObjectMeta, not the CRD's.
pub fn schema_problems(v: &Value, schema: &Value, at: &str) -> Vec<String> {
    let mut problems = vec![];
    match v {
        Value::Object(map) if map.contains_key("metadata") => {
            let mut without = map.clone();
            without.remove("metadata");
            // A CRD that requires `metadata` (Argo CD's) requires the API server's own.
            let mut schema = schema.clone();
            if let Some(required) = schema["required"].as_array_mut() {
                required.retain(|r| r != "metadata");
            }
            walk(&Value::Object(without), &schema, at, &mut problems);
        }
        _ => walk(v, schema, at, &mut problems),
    }
    problems
}

fn walk(v: &Value, schema: &Value, at: &str, problems: &mut Vec<String>) {
    if let Some(t) = schema["type"].as_str() {
        let ok = match t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            _ => true,
        };
        if !ok {
            problems.push(format!("{at}: expected {t}, found {v}"));
            return;
        }
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(v) {
            problems.push(format!("{at}: {v} is not one of {allowed:?}"));
        }
    }
    match v {
        Value::Object(map) => {
            for r in schema["required"].as_array().into_iter().flatten() {
                if !map.contains_key(r.as_str().unwrap()) {
                    problems.push(format!("{at}: required field {r} is missing"));
                }
            }
            let props = schema["properties"].as_object();
            for (k, child) in map {
                let path = format!("{at}.{k}");
                match props.and_then(|p| p.get(k)) {
                    Some(s) => walk(child, s, &path, problems),
                    None if schema["additionalProperties"].is_object() => {
                        walk(child, &schema["additionalProperties"], &path, problems)
                    }
                    None if schema["x-kubernetes-preserve-unknown-fields"] == true => {}
                    None => problems.push(format!("{path}: unknown field")),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &schema["items"], &format!("{at}[{i}]"), problems);
            }
        }
        _ => {}
    }
}
