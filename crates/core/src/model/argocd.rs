//! The Argo CD side of the stages (`gitops.engine: argocd`): which Applications wrap the
//! tree and their sync waves, derived from the same stage graph the Flux tree orders with
//! `dependsOn` ([`super::stages`]). The renderer writes these; `verify` reads the same list.

use super::stages::{AppsOf, StageKind};
use super::Stack;
use std::collections::BTreeMap;

/// Where the Applications live by default: Argo CD's own namespace (`gitops.argocd.namespace`).
pub const ARGOCD_NAMESPACE: &str = "argocd";
/// The API server of the cluster Argo CD runs in, as Argo CD registers it (`in-cluster`).
pub const IN_CLUSTER_SERVER: &str = "https://kubernetes.default.svc";
/// Longest Application name: Argo CD's label-based resource tracking writes the name into the
/// `app.kubernetes.io/instance` label of every object it applies, and a label value holds 63.
pub const MAX_NAME: usize = 63;
/// The app-of-apps root of a cluster: applies `clusters/<cluster>/` (every other Application).
pub const ROOT_APPLICATION: &str = "vault-root";
/// The folder (below `clusters/<cluster>/`) of what is applied by hand, not by the root: the
/// root Application and (for an Argo CD of its own) the `argocd-cm` patch.
pub const BOOTSTRAP_FOLDER: &str = "argocd";
/// The Argo CD project of every Application by default (`gitops.argocd.project`).
pub const PROJECT: &str = "default";
/// The file (directly under the clusters' root, beside the clusters' folders) of the
/// `argocd-cm` patch of a central Argo CD: one for every cluster it manages.
pub const SHARED_CM_PATCH: &str = "argocd-cm-patch.yaml";

/// `gitops.argocd.destination`: where an Application deploys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Destination {
    /// The cluster Argo CD runs in (`server: https://kubernetes.default.svc`).
    #[default]
    InCluster,
    /// A cluster registered in Argo CD, by name (`spec.destination.name`).
    Name(String),
    /// A cluster registered in Argo CD, by API server URL (`spec.destination.server`).
    Server(String),
}

impl Destination {
    /// The destination as written (`None`: the default, `in-cluster`).
    pub fn of(written: Option<&str>) -> Destination {
        match written {
            None | Some("in-cluster") => Destination::InCluster,
            Some(v) if v.starts_with("https://") || v.starts_with("http://") => {
                Destination::Server(v.to_string())
            }
            Some(v) => Destination::Name(v.to_string()),
        }
    }

    /// `(field, value)` of `spec.destination`: `name` or `server`.
    pub fn field(&self) -> (&'static str, &str) {
        match self {
            Destination::InCluster => ("server", IN_CLUSTER_SERVER),
            Destination::Name(n) => ("name", n),
            Destination::Server(s) => ("server", s),
        }
    }
}

/// Whether the Applications of several clusters can land in one Argo CD: a fleet, or a
/// destination other than Argo CD's own cluster. Then every name starts with the cluster's.
pub fn central(stack: &Stack) -> bool {
    stack.vault.fleet.is_some() || stack.flux.argocd.destination != Destination::InCluster
}

/// The Argo CD name of `base` for this cluster: `<cluster>-<base>` when [`central`], within
/// [`MAX_NAME`] characters ([`fit`]).
pub fn name(stack: &Stack, base: &str) -> String {
    if central(stack) {
        fit(&format!("{}-{base}", stack.cluster))
    } else {
        fit(base)
    }
}

/// `name` if it fits a label value; otherwise its first characters and `-` and 8 hex digits
/// of its SHA-256: deterministic, and two long names that share a prefix stay apart.
pub fn fit(name: &str) -> String {
    use sha2::{Digest, Sha256};
    if name.len() <= MAX_NAME {
        return name.to_string();
    }
    let hash = hex::encode(Sha256::digest(name.as_bytes()));
    let head = name[..MAX_NAME - 9].trim_end_matches(['-', '.']);
    format!("{head}-{}", &hash[..8])
}

/// The root Application of the cluster (the app-of-apps, applied by hand once).
pub fn root(stack: &Stack) -> String {
    name(stack, ROOT_APPLICATION)
}

/// One Argo CD Application of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// Its name in Argo CD ([`name`]: prefixed with the cluster's when [`central`]).
    pub name: String,
    /// The name without the cluster: the file it is written to, `clusters/<cluster>/<base>.yaml`.
    pub base: String,
    /// `argocd.argoproj.io/sync-wave`: one more than the highest wave of its stage's
    /// dependencies (0 for a stage that depends on none of the tree's).
    pub wave: u32,
    /// The stage it wraps (an app's is its consumer's apps stage).
    pub stage: StageKind,
    /// The stage's name (an app's: its consumer's apps stage).
    pub stage_name: String,
    /// `(namespace, name)` of the app whose folder it applies, for an app's Application.
    pub app: Option<(String, String)>,
}

/// The sync wave of every stage, by name: a stage comes after everything it depends on.
/// The stages are in dependency order, so one pass suffices; a dependency outside the tree
/// (the controllers' `dependsOn`, which `engine: argocd` refuses) orders nothing.
pub fn waves(stack: &Stack) -> BTreeMap<String, u32> {
    let mut out: BTreeMap<String, u32> = BTreeMap::new();
    for stage in &stack.flux.stages {
        let wave = (stage.depends_on.iter())
            .filter_map(|d| out.get(&d.name).map(|w| w + 1))
            .max()
            .unwrap_or(0);
        out.insert(stage.name.clone(), wave);
    }
    out
}

/// The Application name of an app's folder.
pub fn app_application(namespace: &str, name: &str) -> String {
    format!("vault-app-{namespace}-{name}")
}

/// Every Application under the root, in stage order: one per stage that applies something
/// of its own (the apps stages of the injector, CSI and ESO only list app folders), then one
/// per app folder, in its consumer's wave.
pub fn applications(stack: &Stack) -> Vec<Application> {
    let waves = waves(stack);
    let mut out = vec![];
    for stage in &stack.flux.stages {
        let wave = waves[&stage.name];
        let own = !matches!(
            stage.kind,
            StageKind::Apps(AppsOf::Injector | AppsOf::Csi | AppsOf::Eso)
        );
        if own {
            out.push(Application {
                name: name(stack, &stage.name),
                base: stage.name.clone(),
                wave,
                stage: stage.kind,
                stage_name: stage.name.clone(),
                app: None,
            });
        }
        if let StageKind::Apps(consumer) = stage.kind {
            let mut apps: Vec<(String, String)> = (stack.apps.iter())
                .filter(|a| AppsOf::of(a) == consumer)
                .map(|a| (a.namespace.clone(), a.name.clone()))
                .collect();
            apps.sort();
            out.extend(apps.into_iter().map(|(ns, app)| Application {
                name: name(stack, &app_application(&ns, &app)),
                base: app_application(&ns, &app),
                wave,
                stage: stage.kind,
                stage_name: stage.name.clone(),
                app: Some((ns, app)),
            }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model;
    use crate::spec::{self, validate};

    fn stack(file: &str, text: &str) -> Stack {
        let sourced = spec::parse(file, text.to_string()).unwrap();
        let spec = validate::typed(sourced.spec, &sourced.index).unwrap();
        model::build(&spec, file)
    }

    fn named(apps: &[Application]) -> Vec<(String, u32)> {
        apps.iter().map(|a| (a.name.clone(), a.wave)).collect()
    }

    #[test]
    fn long_names_are_cut_with_a_hash_of_the_whole() {
        let short = "shop-vault-secrets-operator";
        assert_eq!(fit(short), short);
        let exact = "a".repeat(MAX_NAME);
        assert_eq!(fit(&exact), exact);
        let long = format!("{}-vault-app-payments-checkout", "c".repeat(50));
        let other = format!("{}-vault-app-payments-refunds", "c".repeat(50));
        let (a, b) = (fit(&long), fit(&other));
        assert_eq!(a, fit(&long), "deterministic");
        assert_ne!(a, b);
        for n in [&a, &b] {
            assert!(n.len() <= MAX_NAME, "{n}");
            assert!(n.starts_with(&"c".repeat(50)), "{n}");
        }
        // A cut that ends on `-` does not leave `--`.
        let dashed = format!("{}-{}", "d".repeat(53), "e".repeat(20));
        assert!(!fit(&dashed).contains("--"), "{}", fit(&dashed));
    }

    #[test]
    fn destinations_by_name_or_server() {
        assert_eq!(Destination::of(None), Destination::InCluster);
        assert_eq!(Destination::of(Some("in-cluster")), Destination::InCluster);
        assert_eq!(Destination::of(Some("prod")).field(), ("name", "prod"));
        assert_eq!(
            Destination::of(Some("https://10.0.0.1:6443")).field(),
            ("server", "https://10.0.0.1:6443")
        );
        assert_eq!(
            Destination::InCluster.field(),
            ("server", IN_CLUSTER_SERVER)
        );
    }

    #[test]
    fn waves_follow_the_stage_graph() {
        let example = stack(
            "example.yaml",
            include_str!("../../../../fixtures/example.yaml"),
        );
        assert_eq!(
            named(&applications(&example)),
            [
                ("vault".to_string(), 0),
                ("vault-secrets-operator".to_string(), 1),
                ("vault-namespaces".to_string(), 0),
                ("vault-apps".to_string(), 2),
                ("vault-app-app-webapp".to_string(), 2),
            ]
        );
    }

    #[test]
    fn the_apps_stages_that_only_list_app_folders_have_no_application_of_their_own() {
        let consumers = stack(
            "consumers.yaml",
            include_str!("../../../../fixtures/consumers.yaml"),
        );
        let apps = applications(&consumers);
        let names: Vec<&str> = apps.iter().map(|a| a.name.as_str()).collect();
        for stage in ["vault-apps-eso", "vault-apps-csi", "vault-apps-injector"] {
            assert!(!names.contains(&stage), "{names:?}");
        }
        let waves = waves(&consumers);
        for a in &apps {
            assert_eq!(a.wave, waves[&a.stage_name], "{}", a.name);
            if let Some((ns, name)) = &a.app {
                assert_eq!(a.name, app_application(ns, name));
            }
        }
        // Every stage after all it depends on.
        for s in &consumers.flux.stages {
            for d in &s.depends_on {
                assert!(
                    waves[&s.name] > waves[&d.name],
                    "{} after {}",
                    s.name,
                    d.name
                );
            }
        }
        assert_eq!(apps.iter().filter(|a| a.app.is_some()).count(), 5);
    }
}
