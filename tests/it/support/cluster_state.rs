//! Cluster states for verify tests (`kubectl_vault_testkit::cluster_state`), made from a spec
//! file rendered by kubectl-vault's own pipeline, as `generate` renders it.

pub use kubectl_vault_testkit::cluster_state::*;

use super::fake_apiserver::FakeApiServer;
use serde_json::Value;

/// Loads a fixture spec through the real pipeline: the objects `generate` renders.
pub fn rendered_objects(spec: &std::path::Path) -> Vec<Value> {
    let g = kubectl_vault::pipeline::generate(spec, &Default::default()).expect("generate");
    objects_of(&g.rendered)
}

/// The objects `generate` renders for one cluster of a fleet spec.
pub fn rendered_fleet_objects(spec: &std::path::Path, cluster: &str) -> Vec<Value> {
    let loaded = kubectl_vault::pipeline::load_all(spec, false, &[cluster.to_string()])
        .expect("load")
        .remove(0);
    let g = kubectl_vault::pipeline::generate_from(loaded, &Default::default()).expect("generate");
    objects_of(&g.rendered)
}

/// Everything synced: Flux at REVISION, Vault and VSO released, every CR reconciled and every
/// destination Secret written by VSO.
pub fn synced(fake: &FakeApiServer, spec: &std::path::Path) {
    synced_objects(fake, rendered_objects(spec))
}

/// Everything of one fleet cluster synced, as [`synced`] does for a single spec.
pub fn synced_fleet_cluster(fake: &FakeApiServer, spec: &std::path::Path, cluster: &str) {
    synced_objects(fake, rendered_fleet_objects(spec, cluster))
}
