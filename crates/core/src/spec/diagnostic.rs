//! Located, readable diagnostics for the spec, rendered with `codespan-reporting`.
//!
//! Each diagnostic is printed once, in one of two forms ([`Style`]): the human form (a
//! `codespan` box: message, location, the source line, the hint), or the short form, one
//! grep-able line in the compiler convention
//! (`vault.yaml:31:9: apps[0].secrets[1].refreshAftr: unknown field, did you mean refreshAfter?`)
//! and its hint on the next line, for logs, CI and editors' problem matchers.

use super::locate::Location;
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Config};

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// The box with the source line, coloured when `color`.
    Human { color: bool },
    /// One line each (`file:line:col: [warning: ]path: message`), then `  hint: …`.
    Short,
}

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
        let mut out = crate::outside::escaped(file_name);
        if let Some(l) = self.location {
            out.push_str(&format!(":{}:{}", l.line, l.column));
        }
        out.push_str(": ");
        if self.severity == Severity::Warning {
            out.push_str("warning: ");
        }
        if !self.path.is_empty() {
            out.push_str(&crate::outside::escaped(&self.path));
            out.push_str(": ");
        }
        // Whatever a message quotes, no control character reaches the terminal.
        out.push_str(&crate::outside::escaped(&self.message));
        out
    }

    /// The human form: message, location, snippet and hint, ready for stderr.
    ///
    /// The snippet is made safe for a terminal: control and text-direction characters are
    /// shown as `?`, lines are cut at [`SNIPPET_WIDTH`] bytes, and a refused literal password
    /// (`passwordFrom`, the password in a `connectionUrl`) is masked.
    pub fn render(&self, file_name: &str, source: &str) -> String {
        self.render_styled(file_name, source, false)
    }

    /// The diagnostic in `style`.
    pub fn render_as(&self, file_name: &str, source: &str, style: Style) -> String {
        match style {
            Style::Human { color } => self.render_styled(file_name, source, color),
            Style::Short => self.render_short(file_name),
        }
    }

    /// The short form: the headline, then the hint on a line of its own.
    pub fn render_short(&self, file_name: &str) -> String {
        let mut out = self.headline(file_name);
        out.push('\n');
        if let Some(h) = &self.hint {
            out.push_str("  hint: ");
            out.push_str(&crate::outside::escaped(h));
            out.push('\n');
        }
        out
    }

    /// [`Diagnostic::render`], with ANSI colours in the snippet when `color` (the caller
    /// decides, from `--color`, NO_COLOR and the terminal).
    pub fn render_styled(&self, file_name: &str, source: &str, color: bool) -> String {
        let mut out = String::new();
        let mut cs = match self.severity {
            Severity::Error => CsDiagnostic::error(),
            Severity::Warning => CsDiagnostic::warning(),
        }
        .with_message(crate::outside::escaped(&self.message));
        let mut shown_source = String::new();
        if let Some(l) = self.location {
            let start = if l.offset == usize::MAX {
                floor_char_boundary(source, offset_of(source, l.line, l.column))
            } else {
                floor_char_boundary(source, l.offset.min(source.len()))
            };
            let end = token_end(source, start);
            let (text, range) = snippet_source(source, start..end, secret_kind(&self.path));
            shown_source = text;
            cs = cs.with_labels(vec![Label::primary((), range).with_message(
                if self.path.is_empty() {
                    "here".to_string()
                } else {
                    crate::outside::escaped(&self.path)
                },
            )]);
        }
        if let Some(h) = &self.hint {
            cs = cs.with_notes(vec![format!("hint: {}", crate::outside::escaped(h))]);
        }
        let shown_name = crate::outside::escaped(file_name);
        let file = SimpleFile::new(shown_name.as_str(), shown_source.as_str());
        if color {
            let mut styled = term::termcolor::Ansi::new(Vec::new());
            if term::emit_to_write_style(&mut styled, &Config::default(), &file, &cs).is_ok() {
                out.push_str(&String::from_utf8_lossy(&styled.into_inner()));
            }
        } else if let Ok(snippet) = term::emit_into_string(&Config::default(), &file, &cs) {
            out.push_str(&snippet);
        }
        out
    }
}

/// The widest snippet line shown, in bytes; longer lines are cut with `…`.
pub const SNIPPET_WIDTH: usize = 160;

/// Which secret a diagnostic's line may show, to mask it.
#[derive(Clone, Copy, PartialEq)]
enum Secret {
    None,
    /// The whole value (`passwordFrom: hunter2`).
    Value,
    /// The password of a URL's user info (`postgresql://u:hunter2@db`).
    UrlPassword,
}

fn secret_kind(path: &str) -> Secret {
    if path.ends_with("passwordFrom") {
        Secret::Value
    } else if path.ends_with("connectionUrl") {
        Secret::UrlPassword
    } else {
        Secret::None
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The source as the snippet shows it, and the label's range in it: only the labelled line
/// is kept (other lines blank, so that line numbers stay right), cut to [`SNIPPET_WIDTH`],
/// with unsafe characters replaced and a secret masked.
fn snippet_source(
    source: &str,
    label: std::ops::Range<usize>,
    secret: Secret,
) -> (String, std::ops::Range<usize>) {
    let line_start = source[..label.start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[label.start..]
        .find('\n')
        .map_or(source.len(), |i| label.start + i);
    let line = &source[line_start..line_end];
    let col = label.start - line_start;
    let len = label.end.saturating_sub(label.start);
    // Keep the label visible: a long line is shown from a little before it.
    let from = if col > SNIPPET_WIDTH / 2 {
        floor_char_boundary(line, col - 20)
    } else {
        0
    };
    let mut shown = String::new();
    if from > 0 {
        shown.push('…');
    }
    let prefix_len = shown.len();
    let mut cut = false;
    for (i, c) in line[from..].char_indices() {
        if i + c.len_utf8() > SNIPPET_WIDTH {
            cut = true;
            break;
        }
        let unsafe_char = (c.is_control() && c != '\t')
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}');
        let safe = !unsafe_char;
        shown.push(if safe { c } else { '?' });
    }
    let visible = shown.len() - prefix_len;
    if cut {
        shown.push('…');
    }
    let shown = mask(&shown, prefix_len + col.saturating_sub(from), secret);
    let lines_before = source[..line_start].matches('\n').count();
    let mut text = "\n".repeat(lines_before);
    let base = text.len();
    text.push_str(&shown);
    text.push('\n');
    let start = base + prefix_len + (col - from).min(visible);
    let end = (start + len).min(base + prefix_len + visible).max(start);
    (text, start..end)
}

/// Masks the secret on a snippet line whose value starts at byte `at`.
fn mask(line: &str, at: usize, secret: Secret) -> String {
    let stars = |s: &str| -> String { s.chars().map(|c| "*".repeat(c.len_utf8())).collect() };
    let at = floor_char_boundary(line, at.min(line.len()));
    match secret {
        Secret::None => line.to_string(),
        Secret::Value => {
            // `passwordFrom: VALUE  # comment`: mask from the value to the comment.
            // The label is at the value, or at the `passwordFrom:` key before it.
            let value_start = if line[at..].starts_with("passwordFrom") {
                line[at..].find(':').map_or(at, |i| at + i + 1)
            } else {
                at
            };
            let value_start =
                value_start + (line[value_start..].len() - line[value_start..].trim_start().len());
            let rest = &line[value_start..];
            let value_end = rest.find(" #").unwrap_or(rest.len());
            let value_end = rest[..value_end].trim_end().len();
            format!(
                "{}{}{}",
                &line[..value_start],
                stars(&rest[..value_end]),
                &rest[value_end..]
            )
        }
        Secret::UrlPassword => {
            let Some(scheme) = line.find("://") else {
                return line.to_string();
            };
            let userinfo_start = scheme + 3;
            let Some(at_sign) = line[userinfo_start..].find('@') else {
                return line.to_string();
            };
            let userinfo = &line[userinfo_start..userinfo_start + at_sign];
            match userinfo.split_once(':') {
                Some((user, pw)) if pw != "{{password}}" => {
                    let pw_start = userinfo_start + user.len() + 1;
                    format!(
                        "{}{}{}",
                        &line[..pw_start],
                        stars(pw),
                        &line[pw_start + pw.len()..]
                    )
                }
                _ => line.to_string(),
            }
        }
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
    let start = floor_char_boundary(source, start.min(source.len()));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::locate::Location;

    fn at(d: Diagnostic, source: &str, line: usize, column: usize) -> String {
        let mut d = d;
        d.location = Some(Location {
            line,
            column,
            offset: usize::MAX,
        });
        d.render("x.yaml", source)
    }

    #[test]
    fn snippets_are_cut_sanitized_and_masked() {
        let long = format!("a: {}\n", "1".repeat(5000));
        let out = at(Diagnostic::error("a", "too long"), &long, 1, 4);
        assert!(out.lines().all(|l| l.len() < 400), "{out}");
        assert!(out.contains('…'));
        // A label far to the right of a long line stays visible.
        let far = format!("a: {}x: y\n", " ".repeat(3000));
        let out = at(Diagnostic::error("x", "here"), &far, 1, 3004);
        assert!(out.contains("x: y"), "{out}");
        let ctl = "a: b\u{1b}[2J\u{202e}c\n";
        let out = at(Diagnostic::error("a", "bad"), ctl, 1, 4);
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{202e}'),
            "{out}"
        );
        let pw = "db:\n  passwordFrom: hunter2  # oops\n";
        let out = at(Diagnostic::error("db.passwordFrom", "literal"), pw, 2, 3);
        assert!(!out.contains("hunter2") && out.contains("*******"), "{out}");
        let url = "connectionUrl: postgresql://admin:hunter2@db:5432/x\n";
        let out = at(Diagnostic::error("db.connectionUrl", "literal"), url, 1, 16);
        assert!(
            !out.contains("hunter2") && out.contains("admin:*******@db"),
            "{out}"
        );
        // Line numbers stay right for a label further down.
        let out = at(Diagnostic::error("b", "x"), "a: 1\nb: 2\n", 2, 1);
        assert!(out.contains("2 │ b: 2"), "{out}");
        // A column inside a multi-byte character does not panic.
        let _ = at(Diagnostic::error("a", "x"), "a: é\n", 1, 5);
    }
}
