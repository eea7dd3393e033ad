//! The first look at a spec, before serde builds anything: one pass over the YAML events
//! that bounds the work the rest may do and refuses what no field may hold.
//!
//! - **Shape**: one document (a second `---` document is named at its line), not empty.
//! - **Size of the tree**: nesting at most [`MAX_DEPTH`] levels; at most [`MAX_ALIASES`]
//!   aliases, and at most [`MAX_NODES`] nodes once every alias is expanded (a small file
//!   of aliases of aliases cannot expand into gigabytes).
//! - **Keys**: no key twice in one map (YAML requires unique keys; serde would silently keep
//!   the last one for user-named maps such as `labels` or `vaultConfig.databases`).
//! - **Text**: no NUL or other control character, no bidirectional-override character in any
//!   key or value; line breaks only in the fields that are text (`creationStatements`, `validationPubkeys`,
//!   `revocationStatements`, annotation values, chart `values`); every value at most
//!   [`MAX_LINE`] bytes (one-line fields) or [`MAX_TEXT`] bytes (text fields).
//! - **Nulls**: a null (`~`, `null`, nothing) as a list item or as the value of a
//!   user-named string map (`labels`, `annotations`, `params`, `options`) is refused: serde
//!   would turn it into the string `"~"`. Other nulls are recorded for the validator, which
//!   refuses them where a field is required.
//!
//! The pass is linear in the size of the file (already bounded by
//! [`crate::edge::fs::SPEC_BYTES`]) and stops at the first limit it hits.

use super::locate::Location;
use super::Diagnostic;
use crate::outside::escaped;
use std::collections::{HashMap, HashSet};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Deepest nesting of maps and lists. The spec itself is at most 7 levels deep
/// (`vaultConfig.databases.M.roles.R.creationStatements[0]`); chart values rarely pass 15.
pub const MAX_DEPTH: usize = 64;
/// Most aliases (`*name`) in one spec.
pub const MAX_ALIASES: usize = 1_000;
/// Most nodes (scalars, maps, lists) once aliases are expanded: ~30 times the 1,000-app
/// benchmark spec, far below what would take seconds or hundreds of MiB to build.
pub const MAX_NODES: usize = 1_000_000;
/// Longest value of a one-line field, in bytes (URLs, names, durations, ...).
pub const MAX_LINE: usize = 4096;
/// Longest value of a text field (SQL statements, annotation values, chart values).
pub const MAX_TEXT: usize = 64 * 1024;

/// What the scan learned that the validator needs.
#[derive(Debug, Default)]
pub struct Scan {
    /// Field paths whose value is a plain null (`key: ~`, `key: null`, `key:`).
    pub nulls: HashSet<String>,
}

/// Why a scan stopped without a verdict: the YAML itself does not parse.
#[derive(Debug)]
pub struct SyntaxError {
    pub message: String,
    pub location: Location,
}

/// Scans `source`. `Ok(Err(..))` is a YAML syntax error (the caller decides who reports it);
/// `Err(..)` are the limits and rules the spec breaks.
pub fn scan(source: &str) -> Result<Result<Scan, SyntaxError>, Vec<Diagnostic>> {
    let mut s = Scanner {
        source,
        line_starts: None,
        frames: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        aliases: 0,
        documents: 0,
        root_seen: false,
        errors: Vec::new(),
        scan: Scan::default(),
    };
    let mut parser = Parser::new_from_str(source);
    loop {
        let (event, mark) = match parser.next_token() {
            Ok(e) => e,
            Err(e) => {
                return if s.errors.is_empty() {
                    let m = *e.marker();
                    Ok(Err(SyntaxError {
                        message: e.info().to_string(),
                        location: s.location(m),
                    }))
                } else {
                    Err(s.errors)
                };
            }
        };
        if event == Event::StreamEnd {
            break;
        }
        if s.on_event(event, mark).is_err() || s.errors.len() >= 20 {
            return Err(s.errors);
        }
    }
    if !s.errors.is_empty() {
        return Err(s.errors);
    }
    if !s.root_seen {
        let mut d = Diagnostic::error("", "the spec is empty").with_hint(
            "start from `kubectl vault init > vault.yaml`: a spec is one YAML map starting with `apiVersion: kubectl-vault/v1alpha1`",
        );
        d.location = Some(Location {
            line: 1,
            column: 1,
            offset: 0,
        });
        return Err(vec![d]);
    }
    Ok(Ok(s.scan))
}

enum Frame {
    Map {
        /// The key whose value comes next (`None`: a key comes next).
        key: Option<String>,
        keys: HashMap<String, usize>,
        anchor: usize,
        start_nodes: usize,
    },
    Seq {
        index: usize,
        anchor: usize,
        start_nodes: usize,
    },
}

struct Scanner<'a> {
    source: &'a str,
    /// Byte offset of each line start, built on the first error.
    line_starts: Option<Vec<usize>>,
    frames: Vec<Frame>,
    /// Anchor id → nodes in the anchored node, aliases expanded.
    anchors: HashMap<usize, usize>,
    nodes: usize,
    aliases: usize,
    documents: usize,
    root_seen: bool,
    errors: Vec<Diagnostic>,
    scan: Scan,
}

/// Stop scanning (a limit that makes the rest meaningless was hit).
struct Stop;

/// Where a scalar sits, for the rules that depend on the field.
#[derive(PartialEq)]
enum Role {
    Key,
    Value,
}

impl Scanner<'_> {
    /// 1-based line and column, and the byte offset, of a yaml-rust2 marker (whose index and
    /// column count characters).
    fn location(&mut self, m: Marker) -> Location {
        let starts = self.line_starts.get_or_insert_with(|| {
            std::iter::once(0)
                .chain(self.source.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let line = m.line().max(1);
        let start = starts.get(line - 1).copied().unwrap_or(self.source.len());
        let offset = self.source[start..]
            .char_indices()
            .nth(m.col())
            .map(|(i, _)| start + i)
            .unwrap_or(self.source.len());
        Location {
            line,
            column: m.col() + 1,
            offset,
        }
    }

    fn error(&mut self, path: &str, mark: Marker, message: String, hint: &str) {
        let mut d = Diagnostic::error(path, message).with_hint(hint);
        d.location = Some(self.location(mark));
        self.errors.push(d);
    }

    /// The field path of the value starting now (`apps[0].secrets[1].name`).
    fn path(&self) -> String {
        let mut p = String::new();
        for f in &self.frames {
            match f {
                Frame::Map { key, .. } => {
                    if let Some(k) = key {
                        if !p.is_empty() {
                            p.push('.');
                        }
                        p.push_str(&escaped(k));
                    }
                }
                Frame::Seq { index, .. } => p.push_str(&format!("[{index}]")),
            }
        }
        p
    }

    /// The path of the innermost map key (list indexes below it left out), cut to 200
    /// characters: what names a deeply nested value readably.
    fn outer_path(&self) -> String {
        let last_key = self
            .frames
            .iter()
            .rposition(|f| matches!(f, Frame::Map { key: Some(_), .. }))
            .map_or(0, |i| i + 1);
        let mut p = String::new();
        for f in &self.frames[..last_key] {
            match f {
                Frame::Map { key: Some(k), .. } => {
                    if !p.is_empty() {
                        p.push('.');
                    }
                    p.push_str(&escaped(k));
                }
                Frame::Map { .. } => {}
                Frame::Seq { index, .. } => p.push_str(&format!("[{index}]")),
            }
            if p.len() > 200 {
                p.push('…');
                break;
            }
        }
        p
    }

    /// The keys leading to the value starting now, list indexes left out.
    fn keys(&self) -> impl Iterator<Item = &str> {
        self.frames.iter().filter_map(|f| match f {
            Frame::Map { key, .. } => key.as_deref(),
            Frame::Seq { .. } => None,
        })
    }

    fn in_chart_values(&self) -> bool {
        let mut k = self.keys();
        matches!(k.next(), Some("vault" | "externalSecrets" | "csiDriver"))
            && k.next() == Some("values")
    }

    /// Whether the value starting now is text that may span lines.
    fn text_field(&self) -> bool {
        if self.in_chart_values() {
            return true;
        }
        let keys: Vec<&str> = self.keys().collect();
        let in_list = matches!(self.frames.last(), Some(Frame::Seq { .. }));
        match keys.as_slice() {
            [.., "creationStatements" | "revocationStatements"] => in_list,
            // PEM public keys of a JWT auth method.
            ["vaultConfig", "admin", "validationPubkeys"] | ["pipelines", "validationPubkeys"] => {
                in_list
            }
            ["apps", "secrets", "annotations", _] => true,
            // The injector's agent template (consul-template text).
            ["apps", "secrets", "template"] => !in_list,
            // A self-initialisation request's body (a policy's HCL, ...).
            ["vault", "selfInit", "requests", "data", ..] => true,
            _ => false,
        }
    }

    /// Whether the value starting now is a value of a map whose keys the user names and
    /// whose values are strings.
    fn in_string_map(&self) -> bool {
        if !matches!(self.frames.last(), Some(Frame::Map { .. })) || self.in_chart_values() {
            return false;
        }
        let keys: Vec<&str> = self.keys().collect();
        matches!(
            keys.as_slice(),
            [.., "labels" | "annotations" | "params" | "options", _]
        )
    }

    /// Counts a node; false when the tree got too large.
    fn count(&mut self, n: usize, mark: Marker) -> Result<(), Stop> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            self.error(
                &self.path(),
                mark,
                format!("the spec expands to more than {MAX_NODES} YAML nodes (aliases counted expanded)"),
                "write the values out, or use fewer aliases: a spec this large is not one a person reviews",
            );
            return Err(Stop);
        }
        Ok(())
    }

    fn on_event(&mut self, event: Event, mark: Marker) -> Result<(), Stop> {
        match event {
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 {
                    self.error(
                        "",
                        mark,
                        "a second YAML document: the spec is one document".into(),
                        "remove the `---` and what follows, or put each spec in its own file",
                    );
                    return Err(Stop);
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let key_next = matches!(self.frames.last(), Some(Frame::Map { key: None, .. }));
                self.count(1, mark)?;
                if key_next {
                    self.check_text(&text, mark, Role::Key);
                    self.on_key(text, mark);
                } else {
                    let plain_null = style == TScalarStyle::Plain
                        && tag.is_none()
                        && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL");
                    if plain_null {
                        self.on_null(mark);
                    } else {
                        self.check_text(&text, mark, Role::Value);
                    }
                    self.root_seen |= !(self.frames.is_empty() && plain_null);
                    self.value_done();
                }
                if anchor > 0 {
                    self.anchors.insert(anchor, 1);
                }
            }
            Event::Alias(id) => {
                self.aliases += 1;
                if self.aliases > MAX_ALIASES {
                    self.error(
                        &self.path(),
                        mark,
                        format!("more than {MAX_ALIASES} aliases"),
                        "write the values out: aliases are for a few shared blocks",
                    );
                    return Err(Stop);
                }
                let size = self.anchors.get(&id).copied().unwrap_or(1);
                self.count(size, mark)?;
                if matches!(self.frames.last(), Some(Frame::Map { key: None, .. })) {
                    // An alias as a key: no duplicate check possible; a placeholder key.
                    self.on_key(format!("*{id}"), mark);
                } else {
                    self.root_seen = true;
                    self.value_done();
                }
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                let is_map = matches!(event, Event::MappingStart(..));
                self.count(1, mark)?;
                if matches!(self.frames.last(), Some(Frame::Map { key: None, .. })) {
                    self.error(
                        &self.path(),
                        mark,
                        "a map or list used as a key".into(),
                        "keys are plain names: `key: value`",
                    );
                    return Err(Stop);
                }
                if self.frames.len() >= MAX_DEPTH {
                    self.error(
                        &self.outer_path(),
                        mark,
                        format!("nesting deeper than {MAX_DEPTH} levels"),
                        "the spec is a few levels deep; check the indentation",
                    );
                    return Err(Stop);
                }
                self.root_seen = true;
                let start_nodes = self.nodes - 1;
                self.frames.push(if is_map {
                    Frame::Map {
                        key: None,
                        keys: HashMap::new(),
                        anchor,
                        start_nodes,
                    }
                } else {
                    Frame::Seq {
                        index: 0,
                        anchor,
                        start_nodes,
                    }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some(f) = self.frames.pop() {
                    let (anchor, start) = match f {
                        Frame::Map {
                            anchor,
                            start_nodes,
                            ..
                        }
                        | Frame::Seq {
                            anchor,
                            start_nodes,
                            ..
                        } => (anchor, start_nodes),
                    };
                    if anchor > 0 {
                        self.anchors.insert(anchor, self.nodes - start);
                    }
                }
                self.value_done();
            }
            _ => {}
        }
        Ok(())
    }

    fn on_key(&mut self, key: String, mark: Marker) {
        let line = mark.line();
        let duplicate = match self.frames.last_mut() {
            Some(Frame::Map { keys, .. }) => keys.insert(key.clone(), line),
            _ => None,
        };
        if let Some(Frame::Map { key: k, .. }) = self.frames.last_mut() {
            *k = Some(key.clone());
        }
        if let Some(first) = duplicate {
            if !key.starts_with('*') {
                self.error(
                    &self.path(),
                    mark,
                    format!(
                        "`{}` appears twice in this map (first on line {first})",
                        shown(&key)
                    ),
                    "YAML keys are unique: merge the two entries or rename one",
                );
            }
        }
    }

    /// The value of the current key or list item is complete.
    fn value_done(&mut self) {
        match self.frames.last_mut() {
            Some(Frame::Map { key, .. }) => *key = None,
            Some(Frame::Seq { index, .. }) => *index += 1,
            None => {}
        }
    }

    fn on_null(&mut self, mark: Marker) {
        let in_list =
            matches!(self.frames.last(), Some(Frame::Seq { .. })) && !self.in_chart_values();
        if in_list || self.in_string_map() {
            self.error(
                &self.path(),
                mark,
                "a null value where a string is required".into(),
                "write the value; a literal `~` or `null` must be quoted (`\"~\"`)",
            );
        } else if !self.frames.is_empty() {
            self.scan.nulls.insert(self.path());
        }
    }

    /// The rules every key and value obey: no control characters, line breaks only in text
    /// fields, a bounded length.
    fn check_text(&mut self, text: &str, mark: Marker, role: Role) {
        let multi_line = role == Role::Value && self.text_field();
        let limit = if multi_line { MAX_TEXT } else { MAX_LINE };
        let path = if role == Role::Key {
            // Name the key itself.
            let mut p = self.path();
            if !p.is_empty() {
                p.push('.');
            }
            p.push_str(&shown(text));
            p
        } else {
            self.path()
        };
        if let Some(bad) = text.chars().find(|c| forbidden(*c, multi_line)) {
            let what = match bad {
                '\0' => "a NUL byte".to_string(),
                '\n' | '\r' | '\u{2028}' | '\u{2029}' => "a line break".to_string(),
                '\t' => "a tab".to_string(),
                c => format!("the control character U+{:04X}", c as u32),
            };
            let hint = if matches!(bad, '\n' | '\r' | '\u{2028}' | '\u{2029}' | '\t') {
                "this field is one line: remove the line break (a `|` or `>` block, or `\\n` in quotes, makes one)"
            } else {
                "remove it: no field of the spec may hold control or text-direction characters"
            };
            let noun = if role == Role::Key { "key" } else { "value" };
            self.error(&path, mark, format!("the {noun} contains {what}"), hint);
        } else if text.len() > limit {
            self.error(
                &path,
                mark,
                format!(
                    "the value is {} bytes long; at most {limit} here",
                    text.len()
                ),
                if multi_line {
                    "keep text fields under 64 KiB"
                } else {
                    "no one-line field of the spec needs more than 4 KiB"
                },
            );
        }
    }
}

/// Characters no spec value may hold (the ones shown escaped: controls, separators,
/// text-direction overrides, a stray BOM); line breaks and tabs only in text fields.
fn forbidden(c: char, multi_line: bool) -> bool {
    match c {
        '\n' | '\t' | '\u{2028}' | '\u{2029}' => !multi_line,
        c => crate::outside::escapes(c),
    }
}

/// A value as shown in a message: control characters escaped, at most 60 characters.
pub fn shown(value: &str) -> String {
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        if i == 60 {
            out.push('…');
            break;
        }
        if forbidden(c, false) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(src: &str) -> Vec<String> {
        match scan(src) {
            Ok(Ok(_)) => vec![],
            Ok(Err(e)) => vec![format!(
                "syntax {}:{} {}",
                e.location.line, e.location.column, e.message
            )],
            Err(ds) => ds
                .iter()
                .map(|d| {
                    let l = d.location.unwrap();
                    format!("{}:{} {}: {}", l.line, l.column, d.path, d.message)
                })
                .collect(),
        }
    }

    #[test]
    fn duplicate_keys_are_named_at_the_second() {
        let e = errors("a: 1\nm:\n  x: 1\n  y: 2\n  x: 3\n");
        assert_eq!(
            e,
            ["5:3 m.x: `x` appears twice in this map (first on line 3)"]
        );
        // The same name in two maps is fine.
        assert!(errors("a: {x: 1}\nb: {x: 1}\n").is_empty());
    }

    #[test]
    fn depth_aliases_and_expansion_are_bounded() {
        let deep = "a: ".to_string() + &"[".repeat(70) + &"]".repeat(70) + "\n";
        assert!(
            errors(&deep).iter().any(|e| e.contains("deeper than 64")),
            "{:?}",
            errors(&deep)
        );
        let mut block = String::from("a:\n");
        for i in 0..100 {
            block.push_str(&format!("{}k{i}:\n", "  ".repeat(i + 1)));
        }
        assert!(errors(&block).iter().any(|e| e.contains("deeper than 64")));
        // A billion laughs: each level doubles.
        let mut laughs = String::from("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            laughs.push_str(&format!(
                "l{i}: &l{i} [*l{prev}, *l{prev}, *l{prev}, *l{prev}, *l{prev}, *l{prev}, *l{prev}, *l{prev}, *l{prev}, *l{prev}]\n"
            ));
        }
        let started = std::time::Instant::now();
        assert!(errors(&laughs)
            .iter()
            .any(|e| e.contains("more than 1000000 YAML nodes")));
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        let many = "a: &a x\nb: [".to_string() + &"*a, ".repeat(1001) + "]\n";
        assert!(errors(&many)
            .iter()
            .any(|e| e.contains("more than 1000 aliases")));
        // A few aliases are fine.
        assert!(errors("a: &x {k: v}\nb: *x\nc: *x\n").is_empty());
    }

    #[test]
    fn control_characters_line_breaks_and_length() {
        assert_eq!(
            errors("a: \"x\\0y\"\n"),
            ["1:4 a: the value contains a NUL byte"]
        );
        assert_eq!(
            errors("a: \"x\\ny\"\n"),
            ["1:4 a: the value contains a line break"]
        );
        assert_eq!(
            errors("a: \"\\e[31m\"\n"),
            ["1:4 a: the value contains the control character U+001B"]
        );
        assert_eq!(errors("a: \"x\\u202Ey\"\n").len(), 1);
        // Text fields may span lines.
        assert!(errors("vault:\n  values:\n    x: |\n      a\n      b\nvaultConfig:\n  databases:\n    d:\n      roles:\n        r:\n          creationStatements:\n            - |\n              CREATE ROLE x;\n              GRANT y;\n").is_empty());
        assert!(errors("apps:\n- secrets:\n  - annotations:\n      a: \"x\\ny\"\n").is_empty());
        assert_eq!(
            errors("apps:\n- secrets:\n  - labels:\n      a: \"x\\ny\"\n").len(),
            1
        );
        let long = format!("a: {}\n", "x".repeat(MAX_LINE + 1));
        assert_eq!(
            errors(&long),
            ["1:4 a: the value is 4097 bytes long; at most 4096 here"]
        );
        let key = format!("{}: 1\n", "k".repeat(MAX_LINE + 1));
        assert_eq!(errors(&key).len(), 1);
    }

    #[test]
    fn nulls_in_lists_and_string_maps_are_refused_and_others_recorded() {
        assert_eq!(
            errors("apps:\n- secrets:\n  - labels: {a: ~, b: \"~\"}\n"),
            ["3:17 apps[0].secrets[0].labels.a: a null value where a string is required"]
        );
        assert_eq!(errors("l: [a, null]\n").len(), 1);
        let s = scan("a: ~\nb:\n  c:\n").unwrap().unwrap();
        assert!(
            s.nulls.contains("a") && s.nulls.contains("b.c"),
            "{:?}",
            s.nulls
        );
        // A null inside chart values is a chart value like any other.
        assert!(errors("vault:\n  values:\n    a: [~]\n    b: {c: ~}\n").is_empty());
    }

    #[test]
    fn one_document_and_not_empty() {
        assert_eq!(
            errors("a: 1\n---\nb: 2\n"),
            ["2:1 : a second YAML document: the spec is one document"]
        );
        for empty in ["", "# only a comment\n", "---\n", "~\n"] {
            assert_eq!(errors(empty), ["1:1 : the spec is empty"], "{empty:?}");
        }
        assert!(errors("a: 1\n...\n").is_empty());
    }

    #[test]
    fn offsets_are_bytes() {
        let e = scan("é: \"\\0\"\n").unwrap_err();
        assert_eq!(e[0].location.unwrap().offset, 4);
    }
}
