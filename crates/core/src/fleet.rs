//! The fleet form of the spec (`kind: VaultFleet`): what every cluster shares, written once
//! under `defaults` (a VaultStack without `cluster`), and one overlay per cluster under
//! `clusters`, merged over the defaults as kustomize merges an overlay over its base.
//!
//! ```yaml
//! apiVersion: kubectl-vault/v1alpha1
//! kind: VaultFleet
//! defaults: {vault: …, operator: …, apps: […], vaultConfig: …}
//! clusters:
//!   - name: staging
//!   - name: production
//!     vault: {replicas: 3}
//! ```
//!
//! Merging: maps merge key by key, any other value replaces; `apps` merge by namespace and
//! name (an overlay's app with the same namespace and name patches the default one, its
//! `secrets` list replacing the default's; other apps are added); `withoutApps:
//! [namespace/name]` drops default apps from one cluster; `context` names the cluster's
//! kubeconfig context (where `verify` checks it). The result is one VaultStack per
//! cluster, validated as any single spec, with every diagnostic pointing at the line of the
//! fleet file where the value was written; where the fleet's Vault runs (one shared Vault, or
//! one per cluster) is decided in [`topology`]. Pure: the caller reads the file.

mod topology;

pub use topology::Topology;

use crate::spec::locate::{LocationIndex, Redirect};
use crate::spec::{self, scan, validate, Diagnostic, Severity, Spec};
use crate::yaml::{Mapping, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

pub const KIND: &str = "VaultFleet";

/// Top-level fields of a fleet file.
const FLEET_FIELDS: [&str; 4] = ["apiVersion", "kind", "defaults", "clusters"];
/// Fields of a cluster entry besides the VaultStack fields it overrides.
const NAME: &str = "name";
const WITHOUT_APPS: &str = "withoutApps";
const CONTEXT: &str = "context";
/// Longest kubeconfig context name accepted (cloud providers' generated names, e.g. EKS ARNs
/// or `gke_<project>_<zone>_<cluster>`, stay far below it).
pub const MAX_CONTEXT_LEN: usize = 253;

/// One cluster of the fleet: its merged spec, with an index into the fleet file.
pub struct Member {
    pub spec: Spec,
    pub index: LocationIndex,
    /// The kubeconfig context the cluster is reached through (`context:`), if the fleet names one.
    pub context: Option<String>,
    /// Where the fleet's Vault runs (the same for every member).
    pub topology: Topology,
}

/// Why `name` cannot be a kubeconfig context name; `None` when it can. kubectl takes any
/// string as a context name: bounded here, with no control characters (it lands in messages
/// and a terminal) and no surrounding blanks (a copy-paste slip, never a real name).
pub fn context_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("is empty".into())
    } else if name.chars().count() > MAX_CONTEXT_LEN {
        Some(format!("is longer than {MAX_CONTEXT_LEN} characters"))
    } else if name.chars().any(char::is_control) {
        Some("contains a control character".into())
    } else if name.trim() != name {
        Some("starts or ends with a blank".into())
    } else {
        None
    }
}

/// Whether `source` is a fleet file: a top-level `kind: VaultFleet` line.
pub fn is_fleet(source: &str) -> bool {
    source.lines().any(|l| {
        l.strip_prefix("kind:").map(|v| {
            v.split('#')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches(['"', '\''])
        }) == Some(KIND)
    })
}

/// Expands a fleet file into one spec per cluster, in the file's order, plus the diagnostics
/// of the fleet itself and of every merged spec (errors and warnings, located in the file).
pub fn expand(
    file_name: &str,
    source: &str,
) -> Result<(Vec<Member>, Vec<Diagnostic>), spec::SpecErrors> {
    let fail = |diagnostics: Vec<Diagnostic>| spec::SpecErrors {
        file_name: file_name.to_string(),
        source: source.to_string(),
        diagnostics,
    };
    // The same bounds as a single spec (nesting, aliases, control characters, duplicate keys).
    let scanned = match scan::scan(source) {
        Ok(Ok(s)) => s,
        Ok(Err(syntax)) => {
            let mut d =
                Diagnostic::error("", format!("the YAML does not parse: {}", syntax.message))
                    .with_hint("check quotes, indentation and `key: value` pairs");
            d.location = Some(syntax.location);
            return Err(fail(vec![d]));
        }
        Err(ds) => return Err(fail(ds)),
    };
    let index = Arc::new(LocationIndex::build(source).with_nulls(scanned.nulls));
    let doc: Value = crate::yaml::from_str(source).map_err(|e| {
        let mut d = Diagnostic::error("", format!("the YAML does not parse: {e}"));
        d.location = index.key("");
        fail(vec![d])
    })?;
    let mut errors = Vec::new();
    let mut error = |path: &str, message: String, hint: &str| {
        let mut d = Diagnostic::error(path, message).with_hint(hint);
        d.location = index.key(path);
        errors.push(d);
    };
    let Some(top) = doc.as_mapping() else {
        error(
            "",
            "a fleet spec is a map".into(),
            "start with `apiVersion: kubectl-vault/v1alpha1` and `kind: VaultFleet`",
        );
        return Err(fail(errors));
    };
    for key in top.keys() {
        let k = key.as_str().unwrap_or_default();
        if !FLEET_FIELDS.contains(&k) {
            error(
                k,
                "unknown field of a fleet".into(),
                "a fleet has `defaults` (what every cluster shares) and `clusters` (one entry per cluster)",
            );
        }
    }
    if top.get("apiVersion").and_then(Value::as_str) != Some(validate::rules::API_VERSION) {
        error(
            "apiVersion",
            format!("must be {}", validate::rules::API_VERSION),
            "write `apiVersion: kubectl-vault/v1alpha1`",
        );
    }
    let defaults = match top.get("defaults") {
        None => Mapping::new(),
        Some(Value::Mapping(m)) => m.clone(),
        Some(_) => {
            error(
                "defaults",
                "must be a map of VaultStack fields".into(),
                "e.g. `defaults: {vault: …, operator: …, apps: […]}`",
            );
            Mapping::new()
        }
    };
    for fixed in ["apiVersion", "kind", "cluster"] {
        if defaults.contains_key(fixed) {
            error(
                &format!("defaults.{fixed}"),
                "cannot be set in the defaults".into(),
                "the fleet sets it for each cluster: list the clusters under `clusters`",
            );
        }
    }
    let clusters: Vec<Value> = match top.get("clusters") {
        Some(Value::Sequence(s)) if !s.is_empty() => s.clone(),
        _ => {
            error(
                "clusters",
                "a fleet needs a list of clusters".into(),
                "add `clusters: [{name: staging}, {name: production}]`",
            );
            vec![]
        }
    };
    if defaults.contains_key(CONTEXT) {
        error(
            &format!("defaults.{CONTEXT}"),
            "cannot be set in the defaults".into(),
            "each cluster has its own kubeconfig context: set `context` in its entry under `clusters`",
        );
    }
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut contexts: BTreeMap<String, String> = BTreeMap::new();
    let mut parse_errors = Vec::new();
    let mut members = Vec::new();
    for (i, entry) in clusters.iter().enumerate() {
        let at = format!("clusters[{i}]");
        let Some(overlay) = entry.as_mapping() else {
            error(
                &at,
                "a cluster is a map with a `name`".into(),
                "e.g. `- name: staging`",
            );
            continue;
        };
        let Some(name) = overlay
            .get(NAME)
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            error(
                &at,
                "a cluster needs a `name`".into(),
                "e.g. `- name: staging`",
            );
            continue;
        };
        if let Some(first) = names.insert(name.clone(), i) {
            error(
                &format!("{at}.name"),
                format!("duplicate cluster `{name}` (also clusters[{first}])"),
                "every cluster of a fleet has its own name: its folders and Vault objects are named after it",
            );
            continue;
        }
        for fixed in ["apiVersion", "kind", "cluster"] {
            if overlay.contains_key(fixed) {
                error(
                    &format!("{at}.{fixed}"),
                    "cannot be set per cluster".into(),
                    "the fleet sets it: the cluster is named by `name`",
                );
            }
        }
        // One repository, one layout: the folders are per cluster already.
        if overlay
            .get("gitops")
            .and_then(Value::as_mapping)
            .is_some_and(|g| g.contains_key("paths"))
        {
            error(
                &format!("{at}.gitops.paths"),
                "cannot vary per cluster: the repository's layout is one for the whole fleet".into(),
                "set `gitops.paths` under `defaults`; every cluster gets its own folders below them",
            );
        }
        let context = match overlay.get(CONTEXT) {
            None => None,
            Some(Value::String(c)) => match context_problem(c) {
                Some(problem) => {
                    error(
                        &format!("{at}.{CONTEXT}"),
                        format!("the kubeconfig context name {problem}"),
                        "write the name `kubectl config get-contexts` lists for this cluster",
                    );
                    None
                }
                None => {
                    if let Some(first) = contexts.insert(c.clone(), name.clone()) {
                        error(
                            &format!("{at}.{CONTEXT}"),
                            format!("clusters {first} and {name} share the kubeconfig context `{c}`"),
                            "a context reaches one cluster: give each cluster the context of its own API server",
                        );
                    }
                    Some(c.clone())
                }
            },
            Some(_) => {
                error(
                    &format!("{at}.{CONTEXT}"),
                    "must be the name of a kubeconfig context".into(),
                    "e.g. `context: kind-staging` (see `kubectl config get-contexts`)",
                );
                None
            }
        };
        let mut without: Vec<String> = vec![];
        if let Some(w) = overlay.get(WITHOUT_APPS) {
            match w.as_sequence() {
                Some(items) => {
                    for (j, item) in items.iter().enumerate() {
                        let item = item.as_str().unwrap_or_default();
                        if !default_apps(&defaults).iter().any(|(k, _)| k == item) {
                            error(
                                &format!("{at}.{WITHOUT_APPS}[{j}]"),
                                format!("`{item}` is not an app of the defaults"),
                                "write `namespace/name` of an app listed under `defaults.apps`",
                            );
                        }
                        without.push(item.to_string());
                    }
                }
                None => error(
                    &format!("{at}.{WITHOUT_APPS}"),
                    "must be a list of `namespace/name`".into(),
                    "e.g. `withoutApps: [shop/worker]`",
                ),
            }
        }
        let (merged, rules) = merge(&defaults, overlay, &name, i, &without);
        let index = LocationIndex::redirected(Redirect {
            target: index.clone(),
            rules,
        });
        match spec::from_value::<Spec>(merged, &index) {
            Ok(spec) => members.push(Member {
                spec,
                index,
                context,
                topology: Topology::PerCluster,
            }),
            Err(ds) => {
                for mut d in ds {
                    d.path = index.written_at(&d.path);
                    parse_errors.push(d);
                }
            }
        }
    }
    errors.extend(parse_errors);
    if !errors.is_empty() {
        return Err(fail(errors));
    }
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    for m in &members {
        let findings = validate::check(&m.spec, &m.index);
        for mut d in findings.errors.into_iter().chain(findings.warnings) {
            d.path = m.index.written_at(&d.path);
            if d.path.starts_with("clusters[") {
                d.message = format!("{} (cluster {})", d.message, m.spec.cluster);
            } else if diagnostics
                .iter()
                .any(|x| x.path == d.path && x.message == d.message)
            {
                // A problem in the defaults is found once per cluster: reported once.
                continue;
            }
            diagnostics.push(d);
        }
    }
    // Where the fleet's Vault runs, and on one shared Vault: one auth mount per cluster, and
    // what is granted to several clusters' apps.
    let (topology, found) = topology::decide(&members);
    diagnostics.extend(found);
    for m in &mut members {
        m.topology = topology.clone();
    }
    let valid = diagnostics.iter().all(|d| d.severity != Severity::Error);
    if valid && members.len() > 1 && matches!(topology, Topology::Shared { .. }) {
        diagnostics.extend(topology::shared_grants(&members, file_name));
    }
    Ok((members, diagnostics))
}

/// The default apps by `namespace/name`, with their index in `defaults.apps`.
fn default_apps(defaults: &Mapping) -> Vec<(String, usize)> {
    defaults
        .get("apps")
        .and_then(Value::as_sequence)
        .map(|apps| {
            apps.iter()
                .enumerate()
                .map(|(i, a)| (app_key(a), i))
                .collect()
        })
        .unwrap_or_default()
}

fn app_key(app: &Value) -> String {
    let field = |k: &str| app.get(k).and_then(Value::as_str).unwrap_or_default();
    format!("{}/{}", field("namespace"), field("name"))
}

/// The cluster's VaultStack: the defaults with the overlay merged over them, and where each
/// merged field was written (the overlay first, then the defaults).
fn merge(
    defaults: &Mapping,
    overlay: &Mapping,
    name: &str,
    i: usize,
    without: &[String],
) -> (Value, Vec<(String, Vec<String>)>) {
    let at = format!("clusters[{i}]");
    let mut out = Mapping::new();
    out.insert("apiVersion".into(), validate::rules::API_VERSION.into());
    out.insert("kind".into(), "VaultStack".into());
    out.insert("cluster".into(), name.into());
    let mut merged = Value::Mapping(defaults.clone());
    let mut patch = overlay.clone();
    patch.remove(NAME);
    patch.remove(WITHOUT_APPS);
    patch.remove(CONTEXT);
    let overlay_apps = patch.remove("apps");
    deep_merge(&mut merged, &Value::Mapping(patch));
    let mut rules = vec![
        (String::new(), vec![at.clone(), "defaults".to_string()]),
        // The merged spec's `cluster` is the entry's `name`.
        ("cluster".to_string(), vec![format!("{at}.{NAME}")]),
    ];
    // Apps: by namespace/name; an overlay app patches the default one of the same key.
    let mut apps: Vec<(Value, Vec<String>)> = defaults
        .get("apps")
        .and_then(Value::as_sequence)
        .map(|s| {
            s.iter()
                .enumerate()
                .filter(|(_, a)| !without.contains(&app_key(a)))
                .map(|(j, a)| (a.clone(), vec![format!("defaults.apps[{j}]")]))
                .collect()
        })
        .unwrap_or_default();
    match overlay_apps {
        Some(Value::Sequence(list)) => {
            for (j, app) in list.iter().enumerate() {
                let source = format!("{at}.apps[{j}]");
                match apps.iter_mut().find(|(a, _)| app_key(a) == app_key(app)) {
                    Some((base, sources)) => {
                        // The overlay's secrets replace the default's list as a whole.
                        deep_merge(base, app);
                        sources.insert(0, source);
                    }
                    None => apps.push((app.clone(), vec![source])),
                }
            }
        }
        Some(other) => {
            // Not a list: let the spec's own parsing name the type error, at the overlay.
            if let Value::Mapping(m) = &mut merged {
                m.insert("apps".into(), other);
            }
            rules.push(("apps".into(), vec![format!("{at}.apps")]));
            if let Value::Mapping(m) = merged {
                out.extend(m);
            }
            return (Value::Mapping(out), rules);
        }
        None => {}
    }
    for (k, (_, sources)) in apps.iter().enumerate() {
        rules.push((format!("apps[{k}]"), sources.clone()));
    }
    if let Value::Mapping(m) = &mut merged {
        if !apps.is_empty() || m.contains_key("apps") {
            m.insert(
                "apps".into(),
                Value::Sequence(apps.into_iter().map(|(a, _)| a).collect()),
            );
        }
    }
    if let Value::Mapping(m) = merged {
        out.extend(m);
    }
    (Value::Mapping(out), rules)
}

/// Maps merge key by key; anything else in `overlay` replaces what is in `base`.
fn deep_merge(base: &mut Value, overlay: &Value) {
    match (base, overlay) {
        (Value::Mapping(b), Value::Mapping(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(existing) => deep_merge(existing, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLEET: &str = "apiVersion: kubectl-vault/v1alpha1\nkind: VaultFleet\ndefaults:\n  vault:\n    chart: {version: 0.30.0}\n    tls: vault-tls\n  operator:\n    chart: {version: 0.10.0}\n  apps:\n    - name: api\n      namespace: shop\n      secrets:\n        - {name: api-config, kv: kv/shop/api}\n    - name: worker\n      namespace: shop\nclusters:\n  - name: staging\n    withoutApps: [shop/worker]\n  - name: production\n    vault:\n      replicas: 3\n    apps:\n      - name: api\n        namespace: shop\n        secrets:\n          - {name: api-config, kv: kv/prod/api}\n";

    #[test]
    fn each_cluster_names_its_own_kube_context() {
        let fleet = FLEET
            .replace(
                "  - name: staging\n",
                "  - name: staging\n    context: kind-staging\n",
            )
            .replace(
                "  - name: production\n",
                "  - name: production\n    context: arn:aws:eks:eu-west-1:123456789012:cluster/prod\n",
            );
        let (members, _) = expand("fleet.yaml", &fleet)
            .map_err(|e| e.render())
            .unwrap();
        let contexts: Vec<Option<&str>> = members.iter().map(|m| m.context.as_deref()).collect();
        assert_eq!(
            contexts,
            [
                Some("kind-staging"),
                Some("arn:aws:eks:eu-west-1:123456789012:cluster/prod")
            ]
        );
        assert_eq!(expand("fleet.yaml", FLEET).unwrap().0[0].context, None);
        for (bad, problem) in [
            ("\"\"", "is empty"),
            ("\" kind\"", "starts or ends with a blank"),
            (&"x".repeat(254), "is longer than 253 characters"),
        ] {
            let text = fleet.replace("context: kind-staging", &format!("context: {bad}"));
            let e = expand("fleet.yaml", &text).err().expect("refused").render();
            assert!(e.contains(problem), "{e}");
        }
    }

    #[test]
    fn overlays_merge_over_the_defaults() {
        assert!(is_fleet(FLEET));
        let (members, diagnostics) = expand("fleet.yaml", FLEET).map_err(|e| e.render()).unwrap();
        // Warnings only (TLS CA, anti-affinity), located where the values were written.
        assert!(
            diagnostics
                .iter()
                .all(|d| d.severity == crate::spec::Severity::Warning),
            "{diagnostics:?}"
        );
        let [staging, production] = &members[..] else {
            panic!()
        };
        assert_eq!(staging.spec.cluster, "staging");
        assert_eq!(staging.spec.vault.replicas, None);
        assert_eq!(staging.spec.apps.len(), 1);
        assert_eq!(production.spec.vault.replicas, Some(3));
        assert_eq!(
            production.spec.vault.chart.as_ref().unwrap().version,
            "0.30.0"
        );
        assert_eq!(production.spec.apps.len(), 2);
        assert_eq!(
            production.spec.apps[0].secrets[0]
                .kv
                .as_ref()
                .unwrap()
                .0
                .path,
            "prod/api"
        );
        // Where production's replicas and its api's secret were written.
        assert_eq!(production.index.key("vault.replicas").unwrap().line, 21);
        assert_eq!(
            production.index.written_at("apps[0].secrets[0].kv"),
            "clusters[1].apps[0].secrets[0].kv"
        );
        assert_eq!(
            production.index.written_at("vault.chart.version"),
            "defaults.vault.chart.version"
        );
        assert_eq!(
            production.index.written_at("apps[1].name"),
            "defaults.apps[1].name"
        );
    }
}
