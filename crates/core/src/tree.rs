//! The generated tree: relative paths (always `/`-separated) to file contents, in a stable order.

use std::collections::BTreeMap;

/// Every file `generate` produces, keyed by its path relative to the repository root.
/// A `BTreeMap` keeps the order stable, so output is byte-identical run to run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    pub files: BTreeMap<String, String>,
    /// The object each file holds (its first, for a file of several), as the renderer made it:
    /// what commit messages and verify name, never scraped back from the text.
    pub objects: BTreeMap<String, ObjectRef>,
}

/// The kind, namespace and name of a rendered object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    pub kind: String,
    /// Empty for a cluster-scoped object.
    pub namespace: String,
    pub name: String,
}

impl ObjectRef {
    pub fn new(kind: &str, namespace: &str, name: &str) -> Self {
        ObjectRef {
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

/// Whether a generated file is a shell script: written executable (mode 0755 in Git and on
/// disk) and rendered with a shebang. The one place that rule lives.
pub fn is_script(path: &str) -> bool {
    path.ends_with(".sh")
}

impl Tree {
    pub fn insert(&mut self, path: impl Into<String>, content: impl Into<String>) {
        self.files.insert(path.into(), content.into());
    }

    pub fn get(&self, path: &str) -> Option<&str> {
        self.files.get(path).map(String::as_str)
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}
