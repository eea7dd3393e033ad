//! The consumers other than the operator (injector, CSI, ESO): what `generate` writes for
//! them is checked against the upstream CRDs (fixtures/crds/, copied byte for byte from the
//! reference: ESO v2.9.0, Secrets Store CSI driver v1.6.0), the way the API server would
//! check it: every field known, of its type and enum, every required field present.

use crate::support::common::*;
use serde_json::Value as Json;

/// The generated tree of `fixtures/<name>`.
fn generate(name: &str) -> std::collections::BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "-f",
        fixture(name).to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "generate failed: {}", stderr(&o));
    read_tree(&out)
}

/// The openAPIV3Schema of `kind` at `version` from the CRD files in fixtures/crds/.
fn crd_schema(kind: &str, version: &str) -> Json {
    for e in std::fs::read_dir(fixture("crds")).unwrap().flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap();
        let crd: Json = serde_yaml::from_str(&text).unwrap();
        if crd["spec"]["names"]["kind"] != kind {
            continue;
        }
        for v in crd["spec"]["versions"].as_array().unwrap() {
            if v["name"] == version {
                assert_eq!(v["served"], true, "{kind} {version} is not served");
                return v["schema"]["openAPIV3Schema"].clone();
            }
        }
    }
    panic!("no CRD for {kind} {version} in fixtures/crds");
}

/// Structural validation as the API server does it (types, enums, required, unknown fields
/// pruned there, refused here); `x-kubernetes-preserve-unknown-fields` and maps
/// (`additionalProperties`) accept any key.
fn validate(v: &Json, schema: &Json, at: &str, problems: &mut Vec<String>) {
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
        Json::Object(map) => {
            for r in schema["required"].as_array().into_iter().flatten() {
                if !map.contains_key(r.as_str().unwrap()) {
                    problems.push(format!("{at}: required field {r} is missing"));
                }
            }
            let props = schema["properties"].as_object();
            for (k, child) in map {
                let path = format!("{at}.{k}");
                match props.and_then(|p| p.get(k)) {
                    Some(s) => validate(child, s, &path, problems),
                    None if schema["additionalProperties"].is_object() => {
                        validate(child, &schema["additionalProperties"], &path, problems)
                    }
                    None if schema["x-kubernetes-preserve-unknown-fields"] == true => {}
                    None => problems.push(format!("{path}: unknown field")),
                }
            }
        }
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                validate(item, &schema["items"], &format!("{at}[{i}]"), problems);
            }
        }
        _ => {}
    }
}

#[test]
fn eso_and_csi_objects_match_the_upstream_crds() {
    let tree = generate("consumers.yaml");
    let mut checked = std::collections::BTreeMap::<String, usize>::new();
    let mut problems = vec![];
    for (path, content) in &tree {
        if !path.ends_with(".yaml") {
            continue;
        }
        for doc in serde_yaml::Deserializer::from_str(content) {
            let mut v: Json = serde::Deserialize::deserialize(doc).unwrap();
            // ObjectMeta is the API server's, not the CRD's (the self-check types it).
            v.as_object_mut().map(|o| o.remove("metadata"));
            let (Some(api), Some(kind)) = (v["apiVersion"].as_str(), v["kind"].as_str()) else {
                continue;
            };
            let Some((group, version)) = api.split_once('/') else {
                continue;
            };
            if !matches!(group, "external-secrets.io" | "secrets-store.csi.x-k8s.io") {
                continue;
            }
            validate(
                &v,
                &crd_schema(kind, version),
                &format!("{path}: "),
                &mut problems,
            );
            *checked.entry(kind.to_string()).or_default() += 1;
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(
        checked.into_iter().collect::<Vec<_>>(),
        [
            ("ClusterSecretStore".to_string(), 1),
            ("ExternalSecret".to_string(), 3),
            ("SecretProviderClass".to_string(), 3),
            ("SecretStore".to_string(), 2),
        ]
    );
}

#[test]
fn the_schema_check_catches_what_the_api_server_would_refuse() {
    let schema = crd_schema("ExternalSecret", "v1");
    let mut problems = vec![];
    let bad: Json = serde_json::json!({
        "apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
        "spec": {"secretStoreRef": {"kind": "VaultStore", "name": "x"},
                 "target": {"name": "x", "creationPolicy": "Owner"},
                 "dataFrom": [{"extract": {}}], "refreshInterval": "1h", "tlsSecretRef": "x"}
    });
    validate(&bad, &schema, "", &mut problems);
    assert_eq!(
        problems,
        [
            ".spec.dataFrom[0].extract: required field \"key\" is missing",
            ".spec.secretStoreRef.kind: \"VaultStore\" is not one of [String(\"SecretStore\"), String(\"ClusterSecretStore\")]",
            ".spec.tlsSecretRef: unknown field",
        ]
    );
}
