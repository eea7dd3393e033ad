//! The one path from a spec file to everything derived from it, shared by every subcommand:
//! load → validate → model → Vault side → render → self-check → tree.

use crate::core::model::{self, Stack};
use crate::core::render::{self, Rendered, Templates};
use crate::core::selfcheck;
use crate::core::spec::{self, validate, Diagnostic};
use crate::core::tree::Tree;
use crate::core::vault::side::{self as vault_side, VaultSide};
use crate::edge::fs;
use crate::error::Error;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Treat warnings as errors.
    pub(crate) strict: bool,
    /// A folder of template overrides (same names as the embedded ones).
    pub(crate) templates_dir: Option<PathBuf>,
    /// Only these clusters of a fleet spec (`--cluster`, repeated); empty: every cluster.
    pub(crate) clusters: Vec<String>,
}

/// A validated spec, as a model, with its warnings (printed by the command, on its terminal).
pub struct Loaded {
    pub(crate) stack: Stack,
    pub(crate) vault: VaultSide,
    /// The spec's warnings (empty when there are none).
    pub(crate) warnings: spec::Warnings,
    /// The kubeconfig context a fleet names for this cluster (`clusters[].context`).
    pub(crate) context: Option<String>,
}

pub struct Generated {
    pub(crate) stack: Stack,
    pub vault: VaultSide,
    pub rendered: Rendered,
    pub(crate) tree: Tree,
    pub(crate) warnings: spec::Warnings,
}

/// Reads the spec file, at most [`fs::SPEC_BYTES`] (`-f /dev/zero` fails fast), and parses it.
/// A file that cannot be read is a usage error (exit 2) that says why, not a spec diagnostic.
fn read_spec(path: &Path) -> Result<spec::SourcedSpec, Error> {
    match fs::read_file(path, fs::SPEC_BYTES) {
        Ok(bytes) => spec::from_bytes(path, bytes).map_err(Error::spec),
        Err(e) => Err(unreadable(path, &e)),
    }
}

/// Why the spec file cannot be read, and what to do (`-f` may well have been given), in the
/// compiler convention: `vault.yaml:1:1: …` for a file too large (line 1 is where it starts
/// to be too much), `path: …` otherwise.
fn unreadable(path: &Path, e: &fs::ReadError) -> Error {
    let (at, hint) = match e {
        fs::ReadError::TooLarge { .. } => (
            format!("{}:1:1", spec::file_name(path)),
            "a spec is a few hundred lines; check that -f names the spec file".to_string(),
        ),
        _ if !path.exists() => (
            path.display().to_string(),
            format!(
                "check the path given with -f (default: vault.yaml); `kubectl vault init > {}` starts a new spec",
                path.display()
            ),
        ),
        _ => (path.display().to_string(), "check the file's permissions".to_string()),
    };
    Error::usage(format!("{at}: cannot read the spec: {e}")).with_hint(hint)
}

/// Reads, validates and models the spec. Spec problems are `Error::Usage` (exit 2).
pub(crate) fn load(spec_path: &Path, strict: bool) -> Result<Loaded, Error> {
    let sourced = read_spec(spec_path)?;
    load_sourced(sourced, strict)
}

/// [`load`] of a spec's text not (yet) in its file (`import` checks its edit before writing).
pub(crate) fn load_text(spec_path: &Path, text: &str, strict: bool) -> Result<Loaded, Error> {
    let sourced = spec::from_bytes(spec_path, text.as_bytes().to_vec()).map_err(Error::spec)?;
    load_sourced(sourced, strict)
}

fn load_sourced(sourced: spec::SourcedSpec, strict: bool) -> Result<Loaded, Error> {
    let mut findings = validate::check(&sourced.spec, &sourced.index);
    // Unknown fields (taken out so the rest could be checked) are errors with the others.
    findings
        .errors
        .splice(0..0, sourced.unknown_fields.iter().cloned());
    if !findings.errors.is_empty() || (strict && !findings.warnings.is_empty()) {
        let mut diagnostics = findings.errors;
        if strict {
            for mut w in findings.warnings {
                w.severity = spec::Severity::Error;
                w.message.push_str(" (an error under --strict)");
                diagnostics.push(w);
            }
        }
        diagnostics.sort_by_key(|d| d.location.map(|l| (l.line, l.column)));
        let errors = spec::SpecErrors {
            file_name: sourced.file_name.clone(),
            source: sourced.source.clone(),
            diagnostics,
        };
        return Err(Error::spec(errors));
    }
    let warnings = spec::Warnings {
        file_name: sourced.file_name.clone(),
        source: sourced.source.clone(),
        diagnostics: findings.warnings,
    };
    let spec = validate::typed(sourced.spec, &sourced.index).map_err(|found| {
        let errors = spec::SpecErrors {
            file_name: sourced.file_name.clone(),
            source: sourced.source.clone(),
            diagnostics: found.errors,
        };
        Error::spec(errors)
    })?;
    let stack = model::build(&spec, &sourced.file_name);
    let vault = vault_side::derive(&stack);
    Ok(Loaded {
        stack,
        vault,
        warnings,
        context: None,
    })
}

/// Loads the templates, with overrides from `dir` when given.
pub(crate) fn templates(dir: Option<&Path>) -> Result<Templates, Error> {
    let Some(dir) = dir else {
        return Ok(Templates::default());
    };
    let overrides = fs::read_folder(dir, "j2").map_err(|e| match e {
        fs::FolderError::Folder(d, e) => Error::usage(format!(
            "--templates {}: cannot read the folder: {e}",
            d.display()
        )),
        fs::FolderError::Entry(e) => Error::usage(format!("--templates: {e}")),
        fs::FolderError::File(path, e) => {
            Error::usage(format!("--templates {}: {e}", path.display()))
        }
    })?;
    Templates::with_overrides(overrides).map_err(|e| Error::usage(format!("--templates: {e}")))
}

/// Everything `generate` produces, self-checked.
pub fn generate(spec_path: &Path, options: &Options) -> Result<Generated, Error> {
    let templates = templates(options.templates_dir.as_deref())?;
    let loaded = load(spec_path, options.strict)?;
    generate_from(loaded, &templates)
}

/// Renders and self-checks an already loaded stack (the benchmark calls this directly).
pub fn generate_from(loaded: Loaded, templates: &Templates) -> Result<Generated, Error> {
    let Loaded {
        stack,
        vault,
        warnings,
        context: _,
    } = loaded;
    let rendered = render::render(&stack, &vault, templates)?;
    selfcheck::check(&rendered, &stack.flux.paths.cluster)?;
    let tree = rendered.to_tree(&stack.cluster);
    Ok(Generated {
        stack,
        vault,
        rendered,
        tree,
        warnings,
    })
}

/// Every cluster a spec file describes, in the file's order: the one of a VaultStack, or each
/// of a VaultFleet's (only those `select` names, when it names any). Spec problems are
/// `Error::Usage` (exit 2), found for all clusters before anything is returned.
pub fn load_all(spec_path: &Path, strict: bool, select: &[String]) -> Result<Vec<Loaded>, Error> {
    let text = fs::read_file(spec_path, fs::SPEC_BYTES)
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let Some(source) = text.filter(|t| crate::core::fleet::is_fleet(t)) else {
        // A single cluster (or a file the single-spec loader reports on).
        let loaded = load(spec_path, strict)?;
        if let Some(name) = select.iter().find(|n| **n != loaded.stack.cluster) {
            return Err(Error::usage(format!(
                "--cluster {name}: the spec is for cluster {}",
                loaded.stack.cluster
            )));
        }
        return Ok(vec![loaded]);
    };
    let file_name = spec_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| spec_path.display().to_string());
    let (members, diagnostics) =
        crate::core::fleet::expand(&file_name, &source).map_err(Error::spec)?;
    let (mut errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) = diagnostics
        .into_iter()
        .partition(|d| d.severity == spec::Severity::Error);
    if !errors.is_empty() || (strict && !warnings.is_empty()) {
        if strict {
            for mut w in warnings {
                w.severity = spec::Severity::Error;
                w.message.push_str(" (an error under --strict)");
                errors.push(w);
            }
        }
        errors.sort_by_key(|d| d.location.map(|l| (l.line, l.column)));
        let errors = spec::SpecErrors {
            file_name,
            source,
            diagnostics: errors,
        };
        return Err(Error::spec(errors));
    }
    let warnings = spec::Warnings {
        file_name: file_name.clone(),
        source: source.clone(),
        diagnostics: warnings,
    };
    for name in select {
        if !members.iter().any(|m| &m.spec.cluster == name) {
            let names: Vec<&str> = members.iter().map(|m| m.spec.cluster.as_str()).collect();
            return Err(Error::usage(format!(
                "--cluster {name}: {file_name} has no such cluster (its clusters: {})",
                names.join(", ")
            )));
        }
    }
    let mut out = Vec::new();
    for m in &members {
        if !select.is_empty() && !select.contains(&m.spec.cluster) {
            continue;
        }
        // Each member passed the single-spec checks in `fleet::expand`, "exactly one source"
        // among them: a secret that still has not is a bug of ours.
        let typed = m
            .spec
            .clone()
            .try_map_secrets(|_, _, s| s.into_secret())
            .map_err(|_| {
                Error::bug(format!(
                    "cluster {}: a secret without exactly one source passed validation",
                    m.spec.cluster
                ))
            })?;
        let mut stack = model::build(&typed, &file_name);
        stack.vault.fleet = Some(m.topology.fleet_vault());
        let vault = vault_side::derive(&stack);
        out.push(Loaded {
            stack,
            vault,
            warnings: spec::Warnings::default(),
            context: m.context.clone(),
        });
    }
    // The fleet's warnings once, with its first cluster.
    if let Some(first) = out.first_mut() {
        first.warnings = warnings;
    }
    Ok(out)
}

/// One cluster: the spec's, or the one `select` names of a fleet (which then needs it).
pub(crate) fn load_one(spec_path: &Path, strict: bool, select: &[String]) -> Result<Loaded, Error> {
    only_one(load_all(spec_path, strict, select)?, spec_path)
}

/// The one cluster of `all` (what [`load_all`] gave), or a usage error naming them.
pub(crate) fn only_one(mut all: Vec<Loaded>, spec_path: &Path) -> Result<Loaded, Error> {
    if all.len() > 1 {
        let names: Vec<&str> = all.iter().map(|l| l.stack.cluster.as_str()).collect();
        return Err(Error::usage(format!(
            "{} is a fleet of {} clusters ({}): this command works on one",
            spec_path.display(),
            all.len(),
            names.join(", ")
        ))
        .with_hint("pass --cluster NAME"));
    }
    Ok(all.remove(0))
}

/// Everything `generate` produces for every cluster of the spec file (or the selected one).
pub(crate) struct GeneratedFleet {
    /// Each cluster's model and Vault side (their files are in `tree`).
    pub(crate) members: Vec<Generated>,
    /// The clusters' trees together: their paths never overlap (each cluster's folders are
    /// its own), checked here.
    pub(crate) tree: Tree,
    pub(crate) warnings: spec::Warnings,
}

impl GeneratedFleet {
    pub(crate) fn clusters(&self) -> Vec<String> {
        self.members
            .iter()
            .map(|g| g.stack.cluster.clone())
            .collect()
    }
    pub(crate) fn roots(&self) -> Vec<String> {
        self.members
            .iter()
            .flat_map(|g| g.stack.flux.paths.roots())
            .collect()
    }
}

pub(crate) fn generate_all(spec_path: &Path, options: &Options) -> Result<GeneratedFleet, Error> {
    let templates = templates(options.templates_dir.as_deref())?;
    let mut fleet = GeneratedFleet {
        members: vec![],
        tree: Tree::default(),
        warnings: spec::Warnings::default(),
    };
    for loaded in load_all(spec_path, options.strict, &options.clusters)? {
        let mut g = generate_from(loaded, &templates)?;
        fleet.warnings.append(std::mem::take(&mut g.warnings));
        // Moved, not copied, and the rendered bodies dropped: a fleet of thousands of apps
        // holds each file once.
        let cluster = g.stack.cluster.clone();
        for (path, content) in std::mem::take(&mut g.tree.files) {
            if let Some(existing) = fleet.tree.files.get(&path) {
                // A central Argo CD's argocd-cm patch: one file for the clusters it manages.
                if path.ends_with(&format!("/{}", model::argocd::SHARED_CM_PATCH)) {
                    if *existing == content {
                        continue;
                    }
                    let before: Vec<&str> = (fleet.members.iter())
                        .filter(|m| m.stack.flux.engine == spec::GitopsEngine::Argocd)
                        .map(|m| m.stack.cluster.as_str())
                        .collect();
                    return Err(Error::usage(format!(
                        "cluster {cluster} needs other health checks in {path} than {} (their Vault Secrets Operators are of different lines), and one Argo CD holds one per kind; nothing was written",
                        before.join(", ")
                    ))
                    .with_hint("give the clusters of one Argo CD the same `operator.chart.version` line (0.10 or 1.x)"));
                }
                return Err(Error::bug(format!(
                    "two clusters of the fleet generate {path}; nothing was written"
                )));
            }
            fleet.tree.insert(path, content);
        }
        fleet.tree.objects.append(&mut g.tree.objects);
        g.rendered = Default::default();
        fleet.members.push(g);
    }
    Ok(fleet)
}
