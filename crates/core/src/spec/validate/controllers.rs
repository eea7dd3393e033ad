//! `externalSecrets` and `csiDriver`: the controllers the `eso` and `csi` apps need, installed
//! by the tree (its chart, version and values) or brought by the cluster (`install: false`,
//! and the Kustomizations that install them in `dependsOn`).

use super::rules::{is_dns_label, is_dns_subdomain, is_pinned_version, is_url, Checker};
use crate::model::stages::STAGE_NAMES;
use crate::model::FLUX_NAMESPACE;
use crate::render::consumers::{CSI_OWNED_VALUES, ESO_OWNED_VALUES};
use crate::spec::scan::shown;
use crate::spec::types::{ControllerChartSpec, Spec};

/// What one controller section holds, and what the tree needs of its chart.
struct Section<'a> {
    base: &'a str,
    what: &'a str,
    install: Option<bool>,
    chart: Option<&'a ControllerChartSpec>,
    values: Option<&'a crate::yaml::Value>,
    depends_on: &'a [String],
    /// The first chart version that serves the API version the tree writes.
    first: (u64, u64, u64),
    api: &'a str,
    owned: &'a [(&'a str, &'a str)],
}

pub(super) fn check(c: &mut Checker, spec: &Spec) {
    if let Some(e) = &spec.external_secrets {
        section(
            c,
            &Section {
                base: "externalSecrets",
                what: "ESO",
                install: e.install,
                chart: e.chart.as_ref(),
                values: e.values.as_ref(),
                depends_on: &e.depends_on,
                // external-secrets.io/v1 first shipped with chart 0.16.0.
                first: (0, 16, 0),
                api: "external-secrets.io/v1",
                owned: &ESO_OWNED_VALUES,
            },
        );
        match (e.install.unwrap_or(true), e.install_crds) {
            (false, Some(_)) => c.error(
                "externalSecrets.installCRDs",
                "installCRDs applies only when the tree installs ESO (install: true)",
                "remove it: with install: false, the cluster's ESO brings its CRDs",
            ),
            (true, Some(false)) if e.depends_on.is_empty() => c.warn(
                "externalSecrets.installCRDs",
                "with installCRDs: false nothing in the tree installs ESO's CRDs",
                "name the Flux Kustomization that installs them in externalSecrets.dependsOn (the install and the eso apps then wait for it), or leave installCRDs on",
            ),
            _ => {}
        }
    }
    if let Some(d) = &spec.csi_driver {
        section(
            c,
            &Section {
                base: "csiDriver",
                what: "the Secrets Store CSI driver",
                install: d.install,
                chart: d.chart.as_ref(),
                values: d.values.as_ref(),
                depends_on: &d.depends_on,
                // secrets-store.csi.x-k8s.io/v1 is the API of the driver's 1.x charts.
                first: (1, 0, 0),
                api: "secrets-store.csi.x-k8s.io/v1",
                owned: &CSI_OWNED_VALUES,
            },
        );
    }
}

fn section(c: &mut Checker, s: &Section) {
    let base = s.base;
    let install = s.install.unwrap_or(true);
    if !install {
        for (field, written) in [("chart", s.chart.is_some()), ("values", s.values.is_some())] {
            if written {
                c.error(
                    &format!("{base}.{field}"),
                    format!(
                        "`{field}` applies only when the tree installs {} (install: true)",
                        s.what
                    ),
                    format!(
                        "remove it: with install: false the cluster's own {} is used as it is",
                        s.what
                    ),
                );
            }
        }
    }
    if let Some(chart) = s.chart {
        if let Some(v) = &chart.version {
            let path = format!("{base}.chart.version");
            c.not_null(&path);
            if !is_pinned_version(v) {
                c.error(
                    &path,
                    format!("`{}` is not a pinned chart version", shown(v)),
                    "pin an exact SemVer version (not `latest`, `x` or a range): anything else would let Flux upgrade it unreviewed",
                );
            } else if version(v).is_some_and(|have| have < s.first) {
                let (a, b, p) = s.first;
                c.error(
                    &path,
                    format!(
                        "chart {} of {} serves no {}, the API the tree writes",
                        shown(v),
                        s.what,
                        s.api
                    ),
                    format!(
                        "pin {a}.{b}.{p} or later, or leave the version out for the tested one"
                    ),
                );
            }
        }
        if let Some(r) = &chart.repository {
            if !is_url(r, &["https", "http", "oci"]) {
                c.error(
                    &format!("{base}.chart.repository"),
                    format!("`{}` is not a Helm repository URL", shown(r)),
                    "use an http(s):// or oci:// URL (a mirror of the chart's repository)",
                );
            }
        }
    }
    if let Some(values) = s.values {
        values_of(c, s, values);
    }
    depends_on(c, base, s.depends_on);
}

/// The values: a map, without the keys the tree decides.
fn values_of(c: &mut Checker, s: &Section, values: &crate::yaml::Value) {
    let base = format!("{}.values", s.base);
    if !values.is_mapping() {
        c.error(
            &base,
            "values must be a map of chart values",
            "e.g. `values: {replicaCount: 2}`",
        );
        return;
    }
    for (key, why) in s.owned {
        let mut v = Some(values);
        for part in key.split('.') {
            v = v.and_then(|v| v.get(part));
        }
        if v.is_some() {
            c.error(
                &format!("{base}.{key}"),
                format!("`{key}` is decided by the tree, not by values"),
                format!("remove it: {why}"),
            );
        }
    }
}

/// `dependsOn`: Flux Kustomizations, `name` (in flux-system) or `namespace/name`, none of them
/// a stage of this tree, each once.
fn depends_on(c: &mut Checker, base: &str, entries: &[String]) {
    let mut seen: Vec<(String, String)> = vec![];
    for (i, d) in entries.iter().enumerate() {
        let path = format!("{base}.dependsOn[{i}]");
        c.not_null(&path);
        let (ns, name) = d.split_once('/').unwrap_or((FLUX_NAMESPACE, d));
        if !is_dns_label(ns) || !is_dns_subdomain(name) {
            c.error(
                &path,
                format!("`{}` is not a Flux Kustomization reference", shown(d)),
                "write `name` (a Kustomization in flux-system) or `namespace/name`",
            );
            continue;
        }
        if ns == FLUX_NAMESPACE && STAGE_NAMES.contains(&name) {
            c.error(
                &path,
                format!("`{}` is a Kustomization of this tree", shown(d)),
                "name the Kustomizations that install the controller outside this tree (the tree orders its own stages)",
            );
        }
        let key = (ns.to_string(), name.to_string());
        if seen.contains(&key) {
            c.error(
                &path,
                format!("`{ns}/{name}` is listed twice"),
                "list each Kustomization once",
            );
        }
        seen.push(key);
    }
}

/// `MAJOR.MINOR.PATCH` of a pinned version (pre-release and build left out).
fn version(v: &str) -> Option<(u64, u64, u64)> {
    let core = v.strip_prefix('v').unwrap_or(v);
    let core = core.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

#[cfg(test)]
mod tests {
    use super::version;

    #[test]
    fn versions() {
        assert_eq!(version("2.9.0"), Some((2, 9, 0)));
        assert_eq!(version("v0.16.0-rc.1"), Some((0, 16, 0)));
        assert!(version("0.15.1").unwrap() < (0, 16, 0));
    }
}
