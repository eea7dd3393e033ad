//! Located, readable diagnostics for the spec, rendered with `codespan-reporting`.
//!
//! Every diagnostic starts with one grep-able line in the compiler convention
//! (`vault.yaml:31:9: apps[0].secrets[1].refreshAftr: unknown field, did you mean refreshAfter?`),
//! followed by a source snippet and the hint.

use super::locate::Location;
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Config};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Field path, e.g. `apps[0].secrets[1].refreshAfter` (empty for the whole document).
    pub path: String,
    pub message: String,
    pub hint: Option<String>,
    pub location: Option<Location>,
}

impl Diagnostic {
    pub fn error(path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            path: path.into(),
            message: message.into(),
            hint: None,
            location: None,
        }
    }

    pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(path, message)
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The one-line form: `file:line:col: path: message`.
    pub fn headline(&self, file_name: &str) -> String {
        let mut out = String::from(file_name);
        if let Some(l) = self.location {
            out.push_str(&format!(":{}:{}", l.line, l.column));
        }
        out.push_str(": ");
        if self.severity == Severity::Warning {
            out.push_str("warning: ");
        }
        if !self.path.is_empty() {
            out.push_str(&self.path);
            out.push_str(": ");
        }
        out.push_str(&self.message);
        out
    }

    /// Headline, snippet and hint, ready for stderr.
    pub fn render(&self, file_name: &str, source: &str) -> String {
        let mut out = self.headline(file_name);
        out.push('\n');
        let file = SimpleFile::new(file_name, source);
        let mut cs = match self.severity {
            Severity::Error => CsDiagnostic::error(),
            Severity::Warning => CsDiagnostic::warning(),
        }
        .with_message(&self.message);
        if let Some(l) = self.location {
            let start = if l.offset == usize::MAX {
                offset_of(source, l.line, l.column)
            } else {
                l.offset.min(source.len())
            };
            let end = token_end(source, start);
            cs = cs.with_labels(vec![Label::primary((), start..end).with_message(
                if self.path.is_empty() {
                    "here".to_string()
                } else {
                    self.path.clone()
                },
            )]);
        }
        if let Some(h) = &self.hint {
            cs = cs.with_notes(vec![format!("hint: {h}")]);
        }
        if let Ok(snippet) = term::emit_into_string(&Config::default(), &file, &cs) {
            out.push_str(&snippet);
        }
        out
    }
}

/// Byte offset of a 1-based line and column.
fn offset_of(source: &str, line: usize, column: usize) -> usize {
    let line_start: usize = source
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (line_start + column.saturating_sub(1)).min(source.len())
}

/// End of the token starting at `start` (up to `:` or end of line), for the snippet's underline.
fn token_end(source: &str, start: usize) -> usize {
    let rest = &source[start..];
    let line_end = rest.find('\n').unwrap_or(rest.len());
    let line = &rest[..line_end];
    let line = line.split(" #").next().unwrap_or(line).trim_end();
    let end = line
        .find(": ")
        .or_else(|| line.strip_suffix(':').map(|l| l.len()));
    start + end.unwrap_or(line.len()).max(1).min(line_end.max(1))
}

/// The closest of `candidates` to `word`, if it is close enough to be a plausible typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&word.to_lowercase(), &c.to_lowercase()),
                c,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
