//! The one path from a spec file to everything derived from it, shared by every subcommand:
//! load → validate → model → Vault side → render → self-check → tree.

use crate::core::model::{self, Stack};
use crate::core::render::{self, Rendered, Templates};
use crate::core::selfcheck;
use crate::core::spec::{self, validate, Diagnostic};
use crate::core::tree::Tree;
use crate::core::vault_side::{self, VaultSide};
use crate::edge::fs;
use crate::error::Error;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Treat warnings as errors.
    pub strict: bool,
    /// A folder of template overrides (same names as the embedded ones).
    pub templates_dir: Option<PathBuf>,
}

/// A validated spec, as a model, with its warnings already rendered for stderr.
pub struct Loaded {
    pub stack: Stack,
    pub vault: VaultSide,
    /// Rendered warning diagnostics (empty when there are none).
    pub warnings: String,
}

pub struct Generated {
    pub stack: Stack,
    pub vault: VaultSide,
    pub rendered: Rendered,
    pub tree: Tree,
    pub warnings: String,
}

/// Reads the spec file, at most [`fs::SPEC_BYTES`] (`-f /dev/zero` fails fast), and parses it.
/// A read failure is a spec error (exit 2) too.
fn read_spec(path: &Path) -> Result<spec::SourcedSpec, spec::SpecErrors> {
    match fs::read_file(path, fs::SPEC_BYTES) {
        Ok(bytes) => spec::from_bytes(path, bytes),
        Err(e) => Err(spec::unreadable(
            path,
            &e.to_string(),
            matches!(e, fs::ReadError::TooLarge { .. }),
        )),
    }
}

/// Reads, validates and models the spec. Spec problems are `Error::Usage` (exit 2).
pub fn load(spec_path: &Path, strict: bool) -> Result<Loaded, Error> {
    let sourced = read_spec(spec_path).map_err(|e| Error::usage(e.render()))?;
    let findings = validate::check(&sourced.spec, &sourced.index);
    let render_all = |ds: &[Diagnostic]| {
        ds.iter()
            .map(|d| d.render(&sourced.file_name, &sourced.source))
            .collect::<String>()
    };
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
        return Err(Error::usage(errors.render()));
    }
    let warnings = render_all(&findings.warnings);
    let spec = validate::typed(sourced.spec, &sourced.index).map_err(|found| {
        let errors = spec::SpecErrors {
            file_name: sourced.file_name.clone(),
            source: sourced.source.clone(),
            diagnostics: found.errors,
        };
        Error::usage(errors.render())
    })?;
    let stack = model::build(&spec, &sourced.file_name);
    let vault = vault_side::derive(&stack);
    Ok(Loaded {
        stack,
        vault,
        warnings,
    })
}

/// Loads the templates, with overrides from `dir` when given.
pub fn templates(dir: Option<&Path>) -> Result<Templates, Error> {
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
    } = loaded;
    let rendered = render::render(&stack, &vault, templates)
        .map_err(|e| Error::bug(format!("rendering failed: {e}")))?;
    if let Err(problems) = selfcheck::check(&rendered, &stack.flux.paths.cluster) {
        return Err(Error::bug(format!(
            "the rendered tree fails its self-check; nothing was written:\n  {}",
            problems.join("\n  ")
        )));
    }
    let tree = rendered.to_tree(&stack.spec_file);
    Ok(Generated {
        stack,
        vault,
        rendered,
        tree,
        warnings,
    })
}
