//! What a commit's changes hold, for its message: the kind and name of each file's object.

use super::{Action, Change};
use crate::tree::ObjectRef;
use std::collections::BTreeMap;

/// Summaries of what a change does: the kind and name of each file's object, as the renderer
/// made it (`objects`, the tree's).
pub fn describe(
    changes: &[Change],
    objects: &BTreeMap<String, ObjectRef>,
) -> BTreeMap<Action, Vec<(String, String)>> {
    let mut out: BTreeMap<Action, Vec<(String, String)>> = BTreeMap::new();
    for c in changes {
        let object = match (&c.new, &c.old) {
            (Some(_), _) => objects
                .get(&c.path)
                .map(|o| (o.kind.clone(), o.name.clone())),
            (None, Some(old)) => object_of(old),
            (None, None) => None,
        };
        if let Some((kind, name)) = object {
            out.entry(c.action).or_default().push((kind, name));
        }
    }
    out
}

/// The kind and name of the (first) object in a file Git holds: a removed file is no longer
/// rendered, so only its text can say what it held.
fn object_of(text: &str) -> Option<(String, String)> {
    let mut kind = None;
    let mut name = None;
    let mut in_metadata = false;
    for line in text.lines() {
        if let Some(k) = line.strip_prefix("kind: ") {
            kind.get_or_insert(k.trim().to_string());
        }
        if line == "metadata:" {
            in_metadata = true;
        } else if in_metadata {
            if let Some(n) = line.strip_prefix("  name: ") {
                name.get_or_insert(n.trim().trim_matches('"').to_string());
                in_metadata = false;
            } else if !line.starts_with(' ') {
                in_metadata = false;
            }
        }
    }
    match (kind, name) {
        (Some(k), Some(n)) if k != "Kustomization" || !text.contains("kustomize.config.k8s.io") => {
            Some((k, n))
        }
        _ => None,
    }
}
