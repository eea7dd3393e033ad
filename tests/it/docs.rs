//! The documentation: README.md (the front page) and the mdBook in docs/. CI does not build
//! the book; these tests check what a broken build would show instead: links and anchors
//! resolve, every page is in SUMMARY.md, the README stays short, and the spec reference page
//! is rendered from the JSON Schema that `kubectl vault schema` prints (so it cannot drift
//! from the spec's types).

use crate::support::common::*;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BOOK: &str = "docs/src";
const SPEC_PAGE: &str = "docs/src/reference/spec.md";
const MARKER: &str =
    "<!-- generated below: do not edit; UPDATE_DOCS=1 cargo test --test it docs -->";
const UPDATE: &str = "UPDATE_DOCS=1 cargo test --test it docs";
/// Links to this repository's files on GitHub, checked against the checkout.
const GITHUB_FILES: [&str; 2] = [
    "https://github.com/kubectl-vault/kubectl-vault/blob/main/",
    "https://github.com/kubectl-vault/kubectl-vault/tree/main/",
];
const README_LIMIT: u64 = 10_000;

// ---------------------------------------------------------------------------------------
// The spec reference, rendered from the JSON Schema.
// ---------------------------------------------------------------------------------------

/// One row of the reference: a field's path from the top of the spec, its type, default (or
/// `required`) and description.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    path: String,
    ty: String,
    default: String,
    description: String,
}

struct Schema<'a> {
    defs: &'a Map<String, Value>,
}

impl Schema<'_> {
    /// The node with every `$ref` followed and a nullable `anyOf: [X, {type: null}]` or
    /// `type: [T, "null"]` reduced to X or T; the node's own keys (its description, its
    /// default) win over those of the definition it refers to.
    fn resolve(&self, node: &Value) -> Map<String, Value> {
        let mut n = node.as_object().cloned().unwrap_or_default();
        loop {
            if let Some(r) = n.remove("$ref") {
                let r = r.as_str().expect("$ref is a string");
                let name = r
                    .strip_prefix("#/$defs/")
                    .or_else(|| r.strip_prefix("#/definitions/"))
                    .unwrap_or_else(|| panic!("only local references: {r}"));
                let mut def = self.defs[name].as_object().cloned().unwrap_or_default();
                def.extend(n);
                n = def;
                continue;
            }
            if let Some(Value::Array(alts)) = n.get("anyOf") {
                let not_null: Vec<&Value> = alts.iter().filter(|a| !is_null(a)).collect();
                if alts.len() == 2 && not_null.len() == 1 {
                    let mut inner = not_null[0].as_object().cloned().unwrap_or_default();
                    n.remove("anyOf");
                    inner.extend(n);
                    n = inner;
                    continue;
                }
            }
            break;
        }
        if let Some(Value::Array(types)) = n.get("type") {
            let types: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
            let t = if types.len() == 1 {
                types[0].clone()
            } else {
                Value::Array(types)
            };
            n.insert("type".into(), t);
        }
        n
    }

    fn type_name(&self, node: &Value) -> String {
        let n = self.resolve(node);
        if let Some(c) = n.get("const") {
            return literal(c);
        }
        if let Some(Value::Array(values)) = n.get("enum") {
            return values.iter().map(literal).collect::<Vec<_>>().join(" or ");
        }
        if let Some(Value::Array(alts)) = n.get("oneOf") {
            return alts
                .iter()
                .map(|a| self.type_name(a))
                .collect::<Vec<_>>()
                .join(" or ");
        }
        match n.get("type") {
            Some(Value::String(t)) if t == "array" => {
                let items = n.get("items").cloned().unwrap_or(Value::Null);
                format!("list of {}", plural(&self.type_name(&items)))
            }
            Some(Value::String(t)) if t == "object" && !n.contains_key("properties") => {
                match n.get("additionalProperties") {
                    Some(v @ Value::Object(_)) => format!("map of {}", plural(&self.type_name(v))),
                    _ => "object".into(),
                }
            }
            Some(Value::String(t)) => t.clone(),
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(" or "),
            _ if n.contains_key("properties") => "object".into(),
            _ => "any".into(),
        }
    }

    /// The node's description, then those of its alternatives (`operator`: …).
    fn description(&self, node: &Value) -> String {
        let n = self.resolve(node);
        let mut parts = Vec::new();
        if let Some(d) = n.get("description").and_then(Value::as_str) {
            parts.push(one_line(d));
        }
        if let Some(Value::Array(alts)) = n.get("oneOf") {
            for alt in alts {
                let a = self.resolve(alt);
                let Some(d) = a.get("description").and_then(Value::as_str) else {
                    continue;
                };
                match a.get("const") {
                    Some(c) => parts.push(format!("{}: {}", literal(c), one_line(d))),
                    None => parts.push(one_line(d)),
                }
            }
        }
        parts.join("<br>")
    }

    /// The fields below a node, each with the path suffix that leads to it (`.name`, `[].name`,
    /// `.<name>.name`) and whether it is required. Lists and maps are looked through: their
    /// entries' fields are the node's.
    fn children(&self, node: &Value) -> Vec<(String, Value, bool)> {
        let n = self.resolve(node);
        let mut out = Vec::new();
        if let Some(Value::Array(alts)) = n.get("oneOf") {
            for alt in alts {
                out.extend(self.children(alt));
            }
            return out;
        }
        if n.get("type").and_then(Value::as_str) == Some("array") {
            let items = n.get("items").cloned().unwrap_or(Value::Null);
            for (suffix, child, required) in self.children(&items) {
                out.push((format!("[]{suffix}"), child, required));
            }
            return out;
        }
        if let Some(Value::Object(props)) = n.get("properties") {
            let required: BTreeSet<&str> = n
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let sorted: BTreeMap<&String, &Value> = props.iter().collect();
            for (name, child) in sorted {
                out.push((
                    format!(".{name}"),
                    child.clone(),
                    required.contains(name.as_str()),
                ));
            }
            return out;
        }
        if let Some(value @ Value::Object(_)) = n.get("additionalProperties") {
            for (suffix, child, required) in self.children(value) {
                out.push((format!(".<name>{suffix}"), child, required));
            }
        }
        out
    }

    fn row(&self, node: &Value, path: &str, required: bool) -> Row {
        let n = self.resolve(node);
        let default = if required {
            "required".to_string()
        } else {
            n.get("default").map(literal).unwrap_or_default()
        };
        Row {
            path: path.to_string(),
            ty: self.type_name(node),
            default,
            description: self.description(node),
        }
    }

    /// The node's row and those of every field below it, depth first, fields by name.
    fn walk(&self, node: &Value, path: &str, required: bool, out: &mut Vec<Row>) {
        out.push(self.row(node, path, required));
        for (suffix, child, required) in self.children(node) {
            self.walk(&child, &format!("{path}{suffix}"), required, out);
        }
    }

    /// As `walk`, but a subtree with the same fields and types as one of `earlier`'s (a
    /// fleet's `defaults.vault` and a VaultStack's `vault`) is one row that points there.
    fn walk_pointing(
        &self,
        node: &Value,
        path: &str,
        required: bool,
        earlier: &BTreeMap<String, Vec<(String, String)>>,
        out: &mut Vec<Row>,
    ) {
        let mut subtree = Vec::new();
        self.walk(node, path, required, &mut subtree);
        if subtree.len() > 1 {
            let shape = shape(&subtree, path);
            let same = path
                .match_indices('.')
                .map(|(i, _)| &path[i + 1..])
                .find(|suffix| earlier.get(*suffix) == Some(&shape));
            if let Some(same) = same {
                let mut row = self.row(node, path, required);
                let optional = if subtree[1..].iter().any(|r| r.default == "required") {
                    ""
                } else {
                    ", none required here: the merged spec is checked as a VaultStack"
                };
                let note =
                    format!("The fields of `{same}` in a [VaultStack](#vaultstack){optional}.");
                row.description = if row.description.is_empty() {
                    note
                } else {
                    format!("{}<br>{note}", row.description)
                };
                out.push(row);
                return;
            }
        }
        out.push(self.row(node, path, required));
        for (suffix, child, required) in self.children(node) {
            self.walk_pointing(&child, &format!("{path}{suffix}"), required, earlier, out);
        }
    }
}

fn is_null(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
}

fn literal(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

fn plural(name: &str) -> String {
    match name {
        "string" | "integer" | "number" | "boolean" | "object" => format!("{name}s"),
        other if other.contains(' ') => format!("({other})"),
        other => other.to_string(),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A subtree's fields relative to its root, with their types: what "the same fields" means.
fn shape(rows: &[Row], root: &str) -> Vec<(String, String)> {
    rows.iter()
        .map(|r| (r.path[root.len()..].to_string(), r.ty.clone()))
        .collect()
}

fn table(rows: &[Row]) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = String::from("| field | type | default | description |\n|---|---|---|---|\n");
    for r in rows {
        out += &format!(
            "| `{}` | {} | {} | {} |\n",
            r.path,
            cell(&r.ty),
            cell(&r.default),
            cell(&r.description)
        );
    }
    out
}

/// The reference in Markdown: one section per kind of the schema's `oneOf`, each a table of
/// every field path. A later kind's subtree that repeats an earlier kind's fields (a
/// VaultFleet's `defaults.vault` and a VaultStack's `vault`) points there instead.
fn render_reference(schema: &Value) -> String {
    let empty = Map::new();
    let s = Schema {
        defs: schema
            .get("$defs")
            .or_else(|| schema.get("definitions"))
            .and_then(Value::as_object)
            .unwrap_or(&empty),
    };
    let kinds = schema["oneOf"]
        .as_array()
        .expect("the schema is a oneOf of kinds");
    let mut earlier: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut sections = Vec::new();
    for kind in kinds {
        let k = s.resolve(kind);
        let name = k["properties"]["kind"]["const"]
            .as_str()
            .expect("each kind has a `kind` const");
        let mut out = format!("## {name}\n\n");
        let description = s.description(kind);
        if !description.is_empty() {
            out += &format!("{description}\n\n");
        }
        let mut rows = Vec::new();
        for (suffix, child, required) in s.children(kind) {
            let path = &suffix[1..];
            s.walk_pointing(&child, path, required, &earlier, &mut rows);
        }
        out += &table(&rows);
        for r in &rows {
            let below: Vec<Row> = rows
                .iter()
                .filter(|o| {
                    o.path == r.path
                        || o.path.starts_with(&format!("{}.", r.path))
                        || o.path.starts_with(&format!("{}[", r.path))
                })
                .cloned()
                .collect();
            earlier
                .entry(r.path.clone())
                .or_insert_with(|| shape(&below, &r.path));
        }
        sections.push(out);
    }
    // A blank line after the marker, and between the sections.
    format!("\n\n{}", sections.join("\n"))
}

fn printed_schema() -> Value {
    let o = run(&["schema"]);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).expect("`kubectl vault schema` prints JSON")
}

#[test]
fn the_spec_reference_page_is_rendered_from_the_schema() {
    let generated = render_reference(&printed_schema());
    for field in [
        "`vault.replicas`",
        "`apps[].secrets[].kv.mount`",
        "`vaultConfig.databases.<name>.roles.<name>.maxTtl`",
        "`clusters[].withoutApps`",
        "## VaultStack",
        "## VaultFleet",
    ] {
        assert!(generated.contains(field), "{field} missing:\n{generated}");
    }
    let path = Path::new(ROOT).join(SPEC_PAGE);
    let page = std::fs::read_to_string(&path).unwrap_or_default();
    let Some(at) = page.find(MARKER) else {
        panic!("{SPEC_PAGE} has no marker line `{MARKER}`: the generated reference goes below it");
    };
    let expected = format!("{}{}", &page[..at + MARKER.len()], generated);
    if std::env::var_os("UPDATE_DOCS").is_some_and(|v| v == "1") {
        if page != expected {
            std::fs::write(&path, &expected).unwrap();
            eprintln!("{SPEC_PAGE} rewritten from the schema");
        }
        return;
    }
    assert!(
        page == expected,
        "{SPEC_PAGE} is not what the JSON Schema renders to (a spec type changed?): regenerate it with\n  {UPDATE}\nand commit the page"
    );
}

// ---------------------------------------------------------------------------------------
// Links, anchors, SUMMARY.md and the README's size.
// ---------------------------------------------------------------------------------------

/// The Markdown files the checks cover: README.md and every page of the book.
fn markdown_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    let mut files = vec![Path::new(ROOT).join("README.md")];
    let mut book = Vec::new();
    walk(&Path::new(ROOT).join(BOOK), &mut book);
    book.sort();
    files.extend(book);
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(ROOT)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The text with code blocks and code spans blanked out (links there are examples, not
/// links), one output line per input line; fenced blocks may be indented (inside lists).
fn without_code(text: &str) -> Vec<String> {
    let mut fence: Option<String> = None;
    let mut lines = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(open) = &fence {
            if trimmed.starts_with(open.as_str()) {
                fence = None;
            }
            lines.push(String::new());
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            let ch = trimmed.chars().next().unwrap();
            let len = trimmed.chars().take_while(|c| *c == ch).count();
            fence = Some(ch.to_string().repeat(len));
            lines.push(String::new());
            continue;
        }
        lines.push(without_code_spans(line));
    }
    lines
}

fn without_code_spans(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '`' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|c| **c == '`').count();
        // The closing run: the same number of backticks, not part of a longer run.
        let mut j = i + run;
        let mut close = None;
        while j < chars.len() {
            if chars[j] == '`' {
                let r = chars[j..].iter().take_while(|c| **c == '`').count();
                if r == run {
                    close = Some(j);
                    break;
                }
                j += r;
            } else {
                j += 1;
            }
        }
        match close {
            Some(j) => {
                out.push_str(&" ".repeat(j + run - i));
                i = j + run;
            }
            None => {
                out.extend(&chars[i..i + run]);
                i += run;
            }
        }
    }
    out
}

/// Every inline link target (`[text](target)`, `![alt](target)`), with its line number.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in without_code(text).iter().enumerate() {
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].split_whitespace().next().unwrap_or("");
            out.push((n + 1, target.to_string()));
            rest = &after[end..];
        }
    }
    out
}

/// A heading's anchor as GitHub and mdBook make it: the text lowercased, each whitespace
/// character a `-`, and every other character but letters, digits, `-` and `_` dropped.
fn slug(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                Some(c.to_lowercase().collect::<String>())
            } else if c.is_whitespace() {
                Some("-".to_string())
            } else {
                None
            }
        })
        .collect()
}

/// The anchors of a Markdown file's headings (ATX headings outside code blocks); a repeated
/// heading gets `-1`, `-2`, … as on GitHub and in mdBook.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    let mut fence: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(open) = &fence {
            if trimmed.starts_with(open.as_str()) {
                fence = None;
            }
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            let ch = trimmed.chars().next().unwrap();
            let len = trimmed.chars().take_while(|c| *c == ch).count();
            fence = Some(ch.to_string().repeat(len));
            continue;
        }
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let text = line[hashes..].trim().trim_end_matches('#').trim();
        let base = slug(text);
        let n = seen.entry(base.clone()).or_insert(0);
        out.insert(if *n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        });
        *n += 1;
    }
    out
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// What is wrong with one link of `file`, if anything.
fn check_link(file: &Path, target: &str) -> Option<String> {
    let (path, anchor) = match target.split_once('#') {
        Some((p, a)) => (p, Some(a)),
        None => (target, None),
    };
    let resolved = if let Some(rest) = GITHUB_FILES.iter().find_map(|p| path.strip_prefix(p)) {
        Path::new(ROOT).join(rest)
    } else if path.contains("://") || path.starts_with("mailto:") {
        return None;
    } else if path.is_empty() {
        file.to_path_buf()
    } else if path.starts_with('/') {
        return Some("an absolute path: links are relative to the page".into());
    } else {
        normalize(&file.parent().unwrap().join(path))
    };
    if !resolved.exists() {
        return Some(format!("{} does not exist", relative(&resolved)));
    }
    let anchor = anchor.filter(|a| !a.is_empty())?;
    if resolved.extension().is_none_or(|x| x != "md") {
        return None;
    }
    let text = std::fs::read_to_string(&resolved).unwrap();
    if anchors(&text).contains(anchor) {
        None
    } else {
        Some(format!(
            "no heading of {} has the anchor #{anchor}",
            relative(&resolved)
        ))
    }
}

#[test]
fn heading_anchors_are_made_as_github_and_mdbook_make_them() {
    assert_eq!(slug("Quick start"), "quick-start");
    assert_eq!(
        slug("`kubectl vault operator` (day 2: init, unseal, status, backups)"),
        "kubectl-vault-operator-day-2-init-unseal-status-backups"
    );
    assert_eq!(
        slug("Telling it apart from KubeVault's plugin"),
        "telling-it-apart-from-kubevaults-plugin"
    );
    assert_eq!(slug("snake_case and a–dash"), "snake_case-and-adash");
    let text = "# Title\n\n## Notes\n\n```sh\n# not a heading\n```\n\n## Notes ##\n#nospace\n";
    let found: Vec<String> = anchors(text).into_iter().collect();
    assert_eq!(found, ["notes", "notes-1", "title"]);
    assert_eq!(
        links("[a](b.md) `[c](d.md)` [e](f.md#g \"title\")\n```\n[h](i.md)\n```\n"),
        [(1, "b.md".to_string()), (1, "f.md#g".to_string())]
    );
}

#[test]
fn every_link_in_the_readme_and_the_book_resolves() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        for (line, target) in links(&text) {
            checked += 1;
            if let Some(why) = check_link(&file, &target) {
                broken.push(format!("{}:{line}: ({target}): {why}", relative(&file)));
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} links found: is the parser right?"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn every_page_of_the_book_is_in_its_summary_and_every_entry_exists() {
    let book = Path::new(ROOT).join(BOOK);
    let summary = std::fs::read_to_string(book.join("SUMMARY.md")).expect("docs/src/SUMMARY.md");
    let listed: BTreeSet<PathBuf> = links(&summary)
        .into_iter()
        .filter(|(_, t)| !t.is_empty() && !t.contains("://"))
        .map(|(_, t)| normalize(&book.join(t.split('#').next().unwrap())))
        .collect();
    let missing: Vec<String> = listed
        .iter()
        .filter(|p| !p.is_file())
        .map(|p| relative(p))
        .collect();
    assert!(
        missing.is_empty(),
        "SUMMARY.md lists pages that do not exist: {missing:?}"
    );
    let pages: BTreeSet<PathBuf> = markdown_files()
        .into_iter()
        .filter(|p| p.starts_with(&book) && !p.ends_with("SUMMARY.md"))
        .collect();
    let unlisted: Vec<String> = pages.difference(&listed).map(|p| relative(p)).collect();
    assert!(
        unlisted.is_empty(),
        "pages not in docs/src/SUMMARY.md (mdBook would not build them): {unlisted:?}"
    );
    assert!(pages.len() >= 20, "only {} pages", pages.len());
    let book_toml = std::fs::read_to_string(Path::new(ROOT).join("docs/book.toml")).unwrap();
    assert!(book_toml.contains("src = \"src\""), "{book_toml}");
}

#[test]
fn the_readme_stays_a_short_front_page() {
    let path = Path::new(ROOT).join("README.md");
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(
        size < README_LIMIT,
        "README.md is {size} bytes, the limit is {README_LIMIT}: move the detail into a page of docs/src/"
    );
    let readme = std::fs::read_to_string(&path).unwrap();
    // CI (.ci/run) runs the README's test command.
    assert!(
        readme.contains("\nbash scripts/test.sh\n"),
        "the Quick start's test command"
    );
    assert!(readme.contains("cargo install --locked --path ."));
}

/// The developer map (docs/src/development.md) matches the tree: every path it names exists,
/// and every module of the core and of the binary's top level and edges is named.
#[test]
fn the_developer_map_matches_the_tree() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let page = std::fs::read_to_string(root.join("docs/src/development.md")).unwrap();
    let block = page
        .split("```text\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the layout block");
    // Paths as written, resolved against the section they are in (crates/core/ or src/).
    let mut named = std::collections::BTreeSet::new();
    let mut base = "";
    let mut parent = "";
    for line in block.lines() {
        let word = line.split_whitespace().next().unwrap_or_default();
        let indent = line.len() - line.trim_start().len();
        if word == "crates/core/" {
            base = "crates/core/";
            continue;
        }
        if word.starts_with("crates/") && indent <= 2 {
            named.insert(word.to_string());
            base = "crates/other/";
            continue;
        }
        if base == "crates/other/" {
            continue;
        }
        if word == "src/" && indent <= 2 {
            base = "src/";
            continue;
        }
        let word = word.trim_end_matches(',');
        if !(word.ends_with(".rs") || word.ends_with('/')) {
            continue;
        }
        let path = if base == "src/" && indent >= 6 {
            format!("src/{parent}{word}")
        } else if base == "src/" {
            parent = word;
            format!("src/{word}")
        } else {
            format!("{base}{word}")
        };
        named.insert(path);
    }
    for p in &named {
        assert!(
            root.join(p).exists(),
            "the developer map names {p}, which does not exist"
        );
    }
    let mut missing = Vec::new();
    for dir in ["crates/core/src", "src", "src/edge"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == "mod.rs" {
                continue;
            }
            let shown = if entry.path().is_dir() {
                format!("{dir}/{name}/")
            } else {
                format!("{dir}/{name}")
            };
            let listed = named.contains(&shown)
                || block.contains(&name)
                || (dir == "crates/core/src" && name == "lib.rs");
            if !listed {
                missing.push(shown);
            }
        }
    }
    assert!(missing.is_empty(), "not in the developer map: {missing:?}");
}
