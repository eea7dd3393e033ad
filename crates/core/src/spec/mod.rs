//! Reading the spec: strict parsing with located errors, then semantic validation.
//!
//! Pure: the file's bytes come from the edge ([`crate::edge::fs`]) through [`from_bytes`].

pub mod diagnostic;
pub mod edit;
pub mod locate;
pub mod scan;
pub mod schema;
pub mod types;
pub mod validate;

pub use diagnostic::{Diagnostic, Severity, Style};
pub use types::*;

use locate::LocationIndex;
use std::path::Path;

/// A parsed spec together with what is needed to point at its lines.
#[derive(Debug)]
pub struct SourcedSpec {
    pub spec: Spec,
    /// The file name as shown in diagnostics and generated headers (the path's last component).
    pub file_name: String,
    pub source: String,
    pub index: LocationIndex,
    /// Unknown fields (errors) found and taken out so the rest of the spec could be read: the
    /// caller reports them together with the rest of its checks, all problems in one run.
    pub unknown_fields: Vec<Diagnostic>,
}

/// A spec that failed to load: the diagnostics, already located.
#[derive(Debug)]
pub struct SpecErrors {
    pub file_name: String,
    pub source: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl SpecErrors {
    pub fn render(&self) -> String {
        self.render_styled(false)
    }

    /// [`SpecErrors::render`], with coloured snippets when `color`.
    pub fn render_styled(&self, color: bool) -> String {
        self.render_as(Style::Human { color })
    }

    /// Every diagnostic in `style`, then the summary line.
    pub fn render_as(&self, style: Style) -> String {
        let mut out = String::new();
        for d in &self.diagnostics {
            out.push_str(&d.render_as(&self.file_name, &self.source, style));
        }
        out.push_str("error: ");
        out.push_str(&self.summary());
        out.push('\n');
        out
    }

    /// One line: `vault.yaml is not a valid spec (2 errors); nothing was written`.
    pub fn summary(&self) -> String {
        let n = self
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        format!(
            "{} is not a valid spec ({n} error{}); nothing was written",
            self.file_name,
            if n == 1 { "" } else { "s" }
        )
    }
}

/// A spec's warnings, kept as data until they are printed (with their snippets, in colour on
/// a terminal) by the terminal's owner.
#[derive(Debug, Clone, Default)]
pub struct Warnings {
    pub file_name: String,
    pub source: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl Warnings {
    pub fn is_empty(&self) -> bool {
        self.diagnostics.is_empty()
    }
    pub fn len(&self) -> usize {
        self.diagnostics.len()
    }
    /// Each warning in `style`.
    pub fn render_as(&self, style: Style) -> String {
        self.diagnostics
            .iter()
            .map(|d| d.render_as(&self.file_name, &self.source, style))
            .collect()
    }

    /// One line for the commands that act on the spec rather than show it (`generate` shows
    /// each warning): `warning: vault.yaml has 2 spec warnings; see kubectl vault generate`.
    pub fn summary(&self) -> String {
        let n = self.len();
        format!(
            "warning: {} has {n} spec warning{}; see kubectl vault generate\n",
            crate::outside::escaped(&self.file_name),
            if n == 1 { "" } else { "s" },
        )
    }
    /// Adds `other`'s warnings (of the same spec file) after these.
    pub fn append(&mut self, other: Warnings) {
        if self.diagnostics.is_empty() {
            *self = other;
        } else {
            self.diagnostics.extend(other.diagnostics);
        }
    }
}

/// The file name as diagnostics and generated headers show it (the path's last component).
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Parses the bytes read from `path`; a file that is not UTF-8 is named at the line of its
/// first invalid byte.
pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<SourcedSpec, SpecErrors> {
    let file_name = file_name(path);
    let source = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let before = String::from_utf8_lossy(&bytes[..valid]);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            let source = String::from_utf8_lossy(&bytes).into_owned();
            let offset = source
                .char_indices()
                .nth(before.chars().count())
                .map(|(i, _)| i)
                .unwrap_or(source.len());
            let mut d = Diagnostic::error(
                "",
                format!(
                    "the spec is not UTF-8 text (invalid byte 0x{:02X})",
                    bytes[valid]
                ),
            )
            .with_hint("save the file as UTF-8 (YAML specs are UTF-8; UTF-16 is not supported)");
            d.location = Some(locate::Location {
                line,
                column,
                offset,
            });
            return Err(SpecErrors {
                file_name,
                source,
                diagnostics: vec![d],
            });
        }
    };
    parse(&file_name, source)
}

/// Parses spec text; `file_name` is used in diagnostics.
///
/// A leading byte-order mark is dropped. Before serde sees the text, [`scan::scan`] bounds
/// the work (nesting, aliases) and refuses what no field may hold (control characters,
/// duplicate keys, a second document, ...).
pub fn parse(file_name: &str, mut source: String) -> Result<SourcedSpec, SpecErrors> {
    if source.starts_with('\u{FEFF}') {
        source.drain(..'\u{FEFF}'.len_utf8());
    }
    let fail = |diagnostics: Vec<Diagnostic>, source: String| SpecErrors {
        file_name: file_name.to_string(),
        source,
        diagnostics,
    };
    let first_line = Some(locate::Location {
        line: 1,
        column: 1,
        offset: 0,
    });
    if source.trim().is_empty() {
        let mut d = Diagnostic::error("", "the spec is empty")
            .with_hint("start from `kubectl vault init > vault.yaml`");
        d.location = first_line;
        return Err(fail(vec![d], source));
    }
    let scanned = match scan::scan(&source) {
        Ok(Ok(s)) => s,
        Ok(Err(syntax)) => {
            // Without anchors and aliases serde's parser is linear and bounded too, and its
            // messages are the familiar libyaml ones; otherwise report yaml-rust2's error
            // rather than let an unscanned document expand.
            if syntax.message.contains("recursion limit") {
                // yaml-rust2 stops flow nesting at 255 levels, before the depth check sees it.
                let mut d = Diagnostic::error(
                    "",
                    format!("nesting deeper than {} levels", scan::MAX_DEPTH),
                )
                .with_hint("the spec is a few levels deep; check the brackets");
                d.location = Some(syntax.location);
                return Err(fail(vec![d], source));
            }
            if source.contains(['&', '*']) {
                let mut d = Diagnostic::error("", format!("the YAML does not parse: {}", syntax.message))
                    .with_hint("the YAML does not parse here: check quotes, indentation and `key: value` pairs");
                d.location = Some(syntax.location);
                return Err(fail(vec![d], source));
            }
            scan::Scan::default()
        }
        Err(diagnostics) => return Err(fail(diagnostics, source)),
    };
    let index = LocationIndex::build(&source).with_nulls(scanned.nulls);
    let de = crate::yaml::Deserializer::from_str(&source);
    let (spec, unknown_fields): (Spec, Vec<Diagnostic>) = match serde_path_to_error::deserialize(de)
    {
        Ok(s) => (s, vec![]),
        Err(e) => {
            // serde stops at the first unknown field; the others are found on the parsed
            // document (the YAML is known to parse and be bounded by now). When the spec
            // reads without them, it goes on to be checked, so that every problem is
            // reported in one run, not the typos first and the rest after they are fixed.
            let doc = unknown_field(&e)
                .and_then(|_| crate::yaml::from_str::<crate::yaml::Value>(&source).ok());
            let every = match doc.map(|doc| read_around_unknown_fields::<Spec>(doc, &index)) {
                Some(Ok((spec, mut unknown))) => {
                    for d in &mut unknown {
                        if d.location.is_none() {
                            d.location = first_line;
                        }
                    }
                    return Ok(SourcedSpec {
                        spec,
                        file_name: file_name.to_string(),
                        source,
                        index,
                        unknown_fields: unknown,
                    });
                }
                Some(Err(ds)) => Some(ds),
                None => None,
            };
            let mut ds = every.unwrap_or_else(|| vec![serde_error(e, &index)]);
            for d in &mut ds {
                if d.location.is_none() {
                    d.location = first_line;
                }
            }
            return Err(fail(ds, source));
        }
    };
    Ok(SourcedSpec {
        spec,
        file_name: file_name.to_string(),
        source,
        index,
        unknown_fields,
    })
}

/// The most unknown fields reported in one run (each costs one more pass over the document).
pub const MAX_UNKNOWN_FIELDS: usize = 50;

/// Deserializes a parsed document, reporting every unknown field at once: serde stops at the
/// first, so each one found is taken out and the rest deserialized again. Other errors are
/// reported when they come first; after an unknown field, only further unknown fields are
/// (taking a typo out may leave a required field missing, which its did-you-mean says).
pub(crate) fn from_value<T: serde::de::DeserializeOwned>(
    mut doc: crate::yaml::Value,
    index: &LocationIndex,
) -> Result<T, Vec<Diagnostic>> {
    let mut found = Vec::new();
    loop {
        let e = match serde_path_to_error::deserialize::<_, T>(doc.clone()) {
            Ok(t) if found.is_empty() => return Ok(t),
            Ok(_) => return Err(found),
            Err(e) => e,
        };
        match unknown_field(&e) {
            Some((at, field)) => {
                let removed = found.len() + 1 < MAX_UNKNOWN_FIELDS && remove(&mut doc, &at, &field);
                found.push(serde_error(e, index));
                if !removed {
                    return Err(found);
                }
            }
            None => {
                if found.is_empty() {
                    found.push(serde_error(e, index));
                }
                return Err(found);
            }
        }
    }
}

/// [`from_value`], except that a document that reads once its unknown fields are taken out
/// is returned with them (as errors for the caller to report with its own checks).
fn read_around_unknown_fields<T: serde::de::DeserializeOwned>(
    mut doc: crate::yaml::Value,
    index: &LocationIndex,
) -> Result<(T, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut found = Vec::new();
    loop {
        let e = match serde_path_to_error::deserialize::<_, T>(doc.clone()) {
            Ok(t) => return Ok((t, found)),
            Err(e) => e,
        };
        match unknown_field(&e) {
            Some((at, field)) => {
                let removed = found.len() + 1 < MAX_UNKNOWN_FIELDS && remove(&mut doc, &at, &field);
                found.push(serde_error(e, index));
                if !removed {
                    return Err(found);
                }
            }
            None => {
                if found.is_empty() {
                    found.push(serde_error(e, index));
                }
                return Err(found);
            }
        }
    }
}

/// Where an "unknown field" error was found (the path serde_path_to_error reports) and the
/// field's name; `None` for any other error.
fn unknown_field(
    e: &serde_path_to_error::Error<crate::yaml::Error>,
) -> Option<(Vec<serde_path_to_error::Segment>, String)> {
    let raw = clean_message(&e.inner().to_string());
    let rest = raw.strip_prefix("unknown field `")?;
    let field = rest.split('`').next()?.to_string();
    Some((e.path().iter().cloned().collect(), field))
}

/// Takes `field` out of the map at `at` (or `at` itself when it ends with that field).
fn remove(doc: &mut crate::yaml::Value, at: &[serde_path_to_error::Segment], field: &str) -> bool {
    use serde_path_to_error::Segment;
    fn walk<'v>(
        mut v: &'v mut crate::yaml::Value,
        at: &[Segment],
    ) -> Option<&'v mut crate::yaml::Value> {
        for seg in at {
            v = match seg {
                Segment::Seq { index } => v.as_sequence_mut()?.get_mut(*index)?,
                Segment::Map { key } => v.as_mapping_mut()?.get_mut(key.as_str())?,
                _ => return None,
            };
        }
        Some(v)
    }
    let key = crate::yaml::Value::String(field.to_string());
    if let Some(m) = walk(doc, at).and_then(|v| v.as_mapping_mut()) {
        if m.remove(&key).is_some() {
            return true;
        }
    }
    match at.split_last() {
        Some((Segment::Map { key: last }, parent)) if last == field => walk(doc, parent)
            .and_then(|v| v.as_mapping_mut())
            .is_some_and(|m| m.remove(&key).is_some()),
        _ => false,
    }
}

/// Turns a serde error into a located diagnostic with a hint.
pub(crate) fn serde_error(
    e: serde_path_to_error::Error<crate::yaml::Error>,
    index: &LocationIndex,
) -> Diagnostic {
    let mut path = e.path().to_string();
    if path == "." {
        path.clear();
    }
    let inner = e.into_inner();
    let yaml_location = inner.location();
    let raw = clean_message(&inner.to_string());

    if let Some(rest) = raw.strip_prefix("unknown field `") {
        let (field, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let candidates = backticked(expected);
        // serde_path_to_error stops at the map that holds the unknown key.
        if !path.ends_with(field) {
            path = join_path(&path, field);
        }
        let mut d = Diagnostic::error(&path, "unknown field");
        if let Some(best) = diagnostic::did_you_mean(field, candidates.iter().copied()) {
            d.message = format!("unknown field, did you mean {best}?");
            d = d.with_hint(format!("rename `{field}` to `{best}`"));
        } else if !candidates.is_empty() {
            d = d.with_hint(format!(
                "the fields allowed here are: {}",
                candidates.join(", ")
            ));
        }
        d.location = index.key(&path).or(yaml_location.map(to_location));
        return d;
    }
    // Every enum of the spec: "unknown variant `vault`, expected `serviceAccount` or `client`".
    if let Some(rest) = raw.strip_prefix("unknown variant `") {
        let (value, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let candidates = backticked(expected);
        let mut d = Diagnostic::error(&path, format!("`{value}` is not one of the allowed values"));
        d = match diagnostic::did_you_mean(value, candidates.iter().copied()) {
            Some(best) => d.with_hint(format!(
                "did you mean `{best}`? allowed: {}",
                candidates.join(", ")
            )),
            None => d.with_hint(format!("use one of: {}", candidates.join(", "))),
        };
        d.location = yaml_location
            .map(to_location)
            .or_else(|| index.value(&path));
        return d;
    }
    if let Some(rest) = raw.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or(rest);
        let full = join_path(&path, field);
        let mut d = Diagnostic::error(&full, "required field is missing").with_hint(format!(
            "add `{field}:` here; see the spec reference (docs/src/reference/spec.md)"
        ));
        d.location = index.key(&path).or(yaml_location.map(to_location));
        return d;
    }
    let mut location = yaml_location
        .map(to_location)
        .or_else(|| index.value(&path));
    // A syntax error "... while scanning a quoted scalar at line 14 column 16" is best shown
    // where the broken construct starts, not where the scanner gave up.
    if raw.contains(" while ") {
        if let Some(start) = trailing_line_column(&inner.to_string()) {
            location = Some(start);
        }
    }
    let mut d = Diagnostic::error(&path, raw.clone());
    if raw.starts_with("invalid type") {
        d = d.with_hint(
            "check the type of this value against the spec reference (docs/src/reference/spec.md)",
        );
    } else if raw.contains(" while ") || raw.contains("unexpected end") {
        d = d.with_hint(
            "the YAML does not parse here: check quotes, indentation and `key: value` pairs",
        );
    } else if !path.is_empty() {
        d = d.with_hint(
            "see the spec reference (docs/src/reference/spec.md); `kubectl vault init` prints a complete example",
        );
    } else if path.is_empty() {
        d = d.with_hint("the spec must be one YAML document (a map) starting with `apiVersion: kubectl-vault/v1alpha1`");
    }
    d.location = location;
    d
}

/// Reads a trailing "at line N column M" as a location (offset: start of that line's column).
/// The names serde lists in backticks ("expected `a`, `b` or `c`"), in order.
fn backticked(expected: &str) -> Vec<&str> {
    expected.split('`').skip(1).step_by(2).collect()
}

fn trailing_line_column(msg: &str) -> Option<locate::Location> {
    let i = msg.rfind(" at line ")?;
    let mut words = msg[i..].split_whitespace().skip(2);
    let line: usize = words.next()?.parse().ok()?;
    let _ = words.next()?;
    let column: usize = words.next()?.trim_end_matches(',').parse().ok()?;
    Some(locate::Location {
        line,
        column,
        offset: usize::MAX,
    })
}

fn to_location(l: crate::yaml::Location) -> locate::Location {
    locate::Location {
        line: l.line(),
        column: l.column(),
        offset: l.index(),
    }
}

fn join_path(parent: &str, field: &str) -> String {
    if parent.is_empty() {
        field.to_string()
    } else {
        format!("{parent}.{field}")
    }
}

/// serde_yaml prefixes the path and suffixes the location; we print both ourselves.
fn clean_message(msg: &str) -> String {
    let mut m = msg.to_string();
    // Drop only the trailing location; "while scanning ... at line N" context stays.
    if let Some(i) = m.rfind(" at line ") {
        if m[i..].split_whitespace().count() == 5 && m.ends_with(|c: char| c.is_ascii_digit()) {
            m.truncate(i);
        }
    }
    // "apps[0].secrets[1]: unknown field ..." → "unknown field ..."
    if let Some((head, tail)) = m.split_once(": ") {
        if !head.contains(' ') && !head.is_empty() {
            m = tail.to_string();
        }
    }
    m
}
