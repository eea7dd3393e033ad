#!/usr/bin/env python3
"""Validate a generated tree against the upstream contracts (maintainers' check, not a test).

    scripts/check-upstream-schemas.py GENERATED_DIR REFERENCE_DIR

REFERENCE_DIR holds the upstream CRDs (crds/vso, crds/flux) and the Vault chart's
values.schema.json (charts/vault). Every object is validated against its CRD's
openAPIV3Schema with unknown fields denied (the API server would prune them silently), and
the Vault HelmRelease's values against the chart's schema. Needs PyYAML and jsonschema.
"""
import glob, json, os, sys
import yaml, jsonschema

def strict(schema):
    """Deny unknown fields wherever the schema lists properties and does not preserve unknowns."""
    if isinstance(schema, dict):
        if schema.get("type") == "object" and "properties" in schema \
                and "additionalProperties" not in schema \
                and not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema = dict(schema, additionalProperties=False)
        return {k: strict(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema

def main(gen, ref):
    schemas = {}
    for path in glob.glob(os.path.join(ref, "crds", "*", "*.yaml")):
        crd = yaml.safe_load(open(path))
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for v in crd["spec"]["versions"]:
            if v.get("served"):
                s = v["schema"]["openAPIV3Schema"]
                s = dict(s, properties={k: p for k, p in s["properties"].items() if k != "metadata"})
                schemas[(f"{group}/{v['name']}", kind)] = strict(s)
    chart_schema = json.load(open(os.path.join(ref, "charts", "vault", "values.schema.json")))
    checked, failed = 0, 0
    for path in sorted(glob.glob(os.path.join(gen, "**", "*.yaml"), recursive=True)):
        for doc in yaml.safe_load_all(open(path)):
            # Not an object: the Promtail snippet beside configure.sh (`audit-shipping.yaml`).
            if not isinstance(doc, dict) or doc.get("apiVersion") == "kustomize.config.k8s.io/v1beta1":
                continue
            key = (doc["apiVersion"], doc["kind"])
            body = {k: v for k, v in doc.items() if k != "metadata"}
            try:
                if key in schemas:
                    jsonschema.validate(body, schemas[key])
                elif doc["apiVersion"] != "v1":
                    raise ValueError(f"no upstream schema for {key}")
                if doc["kind"] == "HelmRelease" and doc["spec"]["chart"]["spec"]["chart"] == "vault":
                    jsonschema.validate(doc["spec"].get("values", {}), chart_schema)
                checked += 1
            except (jsonschema.ValidationError, ValueError) as e:
                failed += 1
                print(f"FAIL {os.path.relpath(path, gen)}: {getattr(e, 'message', e)} at {list(getattr(e, 'absolute_path', []))}")
    print(f"{checked} objects valid against upstream schemas, {failed} failed")
    return 1 if failed else 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
