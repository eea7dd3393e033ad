//! Where each field of a YAML document is: a map from field paths (`apps[0].secrets[1].name`)
//! to the line and column of the key (for map entries) or the value (for list items).
//!
//! serde tells us *which* field is wrong; this index tells us *where* it is, so every
//! diagnostic can point at `vault.yaml:31:9`, including errors found after parsing.

use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
    /// Byte offset into the source, for snippets.
    pub offset: usize,
}

/// Field path → location of that field's key (or list item).
///
/// Built on first use: a valid spec without warnings never needs it, and building it means
/// parsing the document a second time.
#[derive(Debug, Default)]
pub struct LocationIndex {
    source: String,
    maps: std::sync::OnceLock<Maps>,
    /// Paths whose value is a plain null (from [`super::scan`]).
    nulls: std::collections::HashSet<String>,
    /// For a spec merged from a fleet file: where its fields were written (see [`Redirect`]).
    redirect: Option<Redirect>,
}

/// A merged document's fields, found in the file they were merged from: each rule maps a path
/// prefix of the merged document to the prefixes it may come from there, first match wins
/// (a cluster's overlay before the shared defaults).
#[derive(Debug)]
pub struct Redirect {
    pub target: std::sync::Arc<LocationIndex>,
    pub rules: Vec<(String, Vec<String>)>,
}

impl Redirect {
    /// The path in the target file that holds `path` (or its nearest ancestor written there).
    fn resolve(&self, path: &str) -> Option<String> {
        let maps = self.target.maps();
        let mut p = path;
        loop {
            // The longest rule whose prefix covers `p`.
            let rule = self
                .rules
                .iter()
                .filter(|(prefix, _)| {
                    prefix.is_empty()
                        || p == prefix
                        || p.strip_prefix(prefix.as_str())
                            .is_some_and(|r| r.starts_with(['.', '[']))
                })
                .max_by_key(|(prefix, _)| prefix.len());
            if let Some((prefix, sources)) = rule {
                let rest = &p[prefix.len()..];
                for source in sources {
                    let candidate = if source.is_empty() {
                        rest.trim_start_matches('.').to_string()
                    } else if prefix.is_empty() && !rest.is_empty() && !rest.starts_with('[') {
                        format!("{source}.{rest}")
                    } else {
                        format!("{source}{rest}")
                    };
                    if maps.keys.contains_key(&candidate) {
                        return Some(candidate);
                    }
                }
            }
            p = parent(p)?;
        }
    }
}

#[derive(Debug, Default)]
struct Maps {
    keys: HashMap<String, Location>,
    values: HashMap<String, Location>,
}

impl LocationIndex {
    pub fn build(source: &str) -> Self {
        LocationIndex {
            source: source.to_string(),
            maps: std::sync::OnceLock::new(),
            nulls: Default::default(),
            redirect: None,
        }
    }

    /// The index of a document merged from another file: every location is looked up there.
    pub fn redirected(redirect: Redirect) -> Self {
        LocationIndex {
            redirect: Some(redirect),
            ..Default::default()
        }
    }

    /// The path in the file the field was written in (itself, unless redirected).
    pub fn written_at(&self, path: &str) -> String {
        match &self.redirect {
            Some(r) => r.resolve(path).unwrap_or_else(|| path.to_string()),
            None => path.to_string(),
        }
    }

    /// Records the paths whose value is a plain null (`key: ~`), as the first scan found them.
    pub fn with_nulls(mut self, nulls: std::collections::HashSet<String>) -> Self {
        self.nulls = nulls;
        self
    }

    /// Whether the value at `path` is written as a plain null (`~`, `null` or nothing), which
    /// serde turns into the string `"~"`, `"null"` or `""` for a required string field.
    pub fn is_null(&self, path: &str) -> bool {
        match &self.redirect {
            Some(r) => r.resolve(path).is_some_and(|p| r.target.is_null(&p)),
            None => self.nulls.contains(path),
        }
    }

    fn maps(&self) -> &Maps {
        self.maps.get_or_init(|| Maps::build(&self.source))
    }

    /// The location of the field at `path`, or of its nearest ancestor that exists.
    pub fn key(&self, path: &str) -> Option<Location> {
        match &self.redirect {
            Some(r) => r.target.key(&r.resolve(path)?),
            None => self.maps().key(path),
        }
    }

    /// The location of the value at `path` (falls back to its key).
    pub fn value(&self, path: &str) -> Option<Location> {
        match &self.redirect {
            Some(r) => r.target.value(&r.resolve(path)?),
            None => self.maps().value(path),
        }
    }
}

impl Maps {
    /// A document that does not parse gives an empty index (serde reports the syntax error
    /// with its own location).
    fn build(source: &str) -> Self {
        let mut walker = Walker::default();
        let mut parser = Parser::new_from_str(source);
        if parser.load(&mut walker, false).is_err() {
            return Maps::default();
        }
        // yaml-rust2 counts characters; snippets need byte offsets.
        let to_byte = char_to_byte_offsets(source);
        let fix = |mut loc: Location| {
            loc.offset = to_byte(loc.offset);
            loc
        };
        Maps {
            keys: walker.keys.into_iter().map(|(k, v)| (k, fix(v))).collect(),
            values: walker
                .values
                .into_iter()
                .map(|(k, v)| (k, fix(v)))
                .collect(),
        }
    }

    fn key(&self, path: &str) -> Option<Location> {
        let mut p = path;
        loop {
            if let Some(l) = self.keys.get(p) {
                return Some(*l);
            }
            p = parent(p)?;
        }
    }

    fn value(&self, path: &str) -> Option<Location> {
        self.values.get(path).copied().or_else(|| self.key(path))
    }
}

fn parent(path: &str) -> Option<&str> {
    let cut = path.rfind(['.', '['])?;
    Some(&path[..cut])
}

/// Maps yaml-rust2's character offsets to byte offsets in one pass (identity for ASCII).
fn char_to_byte_offsets(source: &str) -> impl Fn(usize) -> usize + '_ {
    let table: Option<Vec<usize>> =
        (!source.is_ascii()).then(|| source.char_indices().map(|(b, _)| b).collect());
    move |chars: usize| match &table {
        None => chars.min(source.len()),
        Some(t) => t.get(chars).copied().unwrap_or(source.len()),
    }
}

enum Frame {
    Map {
        path: String,
        expecting_key: bool,
        key: Option<String>,
    },
    Seq {
        path: String,
        index: usize,
    },
}

#[derive(Default)]
struct Walker {
    stack: Vec<Frame>,
    keys: HashMap<String, Location>,
    values: HashMap<String, Location>,
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

fn loc(mark: Marker) -> Location {
    Location {
        line: mark.line(),
        column: mark.col() + 1,
        offset: mark.index(),
    }
}

impl Walker {
    /// The path a value starting now belongs to, advancing the parent's state.
    /// Only scalars record a value location: a map or list is best pointed at by its key.
    fn enter_value(&mut self, mark: Marker, scalar: bool) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Map {
                path,
                expecting_key,
                key,
            }) => {
                let k = key.take().unwrap_or_default();
                *expecting_key = true;
                let p = join(path, &k);
                if scalar {
                    self.values.insert(p.clone(), loc(mark));
                }
                Some(p)
            }
            Some(Frame::Seq { path, index }) => {
                let p = format!("{path}[{index}]");
                *index += 1;
                self.keys.insert(p.clone(), loc(mark));
                self.values.insert(p.clone(), loc(mark));
                Some(p)
            }
        }
    }
}

impl MarkedEventReceiver for Walker {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(text, ..) => {
                if let Some(Frame::Map {
                    path,
                    expecting_key: expecting @ true,
                    key,
                }) = self.stack.last_mut()
                {
                    self.keys.insert(join(path, &text), loc(mark));
                    *key = Some(text);
                    *expecting = false;
                } else {
                    self.enter_value(mark, true);
                }
            }
            Event::Alias(_) => {
                self.enter_value(mark, true);
            }
            Event::MappingStart(..) => {
                let path = self.enter_value(mark, false).unwrap_or_default();
                self.stack.push(Frame::Map {
                    path,
                    expecting_key: true,
                    key: None,
                });
            }
            Event::SequenceStart(..) => {
                let path = self.enter_value(mark, false).unwrap_or_default();
                self.stack.push(Frame::Seq { path, index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_keys_and_list_items() {
        let src = "a: 1\napps:\n  - name: x\n    secrets:\n      - name: s\n        kv: m/p\n";
        let idx = LocationIndex::build(src);
        assert_eq!(idx.key("apps").unwrap().line, 2);
        assert_eq!(idx.key("apps[0].secrets[0].kv").unwrap().line, 6);
        assert_eq!(idx.key("apps[0].secrets[0].kv").unwrap().column, 9);
        // a missing field falls back to its parent
        assert_eq!(idx.key("apps[0].secrets[0].nope").unwrap().line, 5);
    }
}
