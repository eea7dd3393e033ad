//! The YAML rules: a Kubernetes Secret's data, kustomize literals, credential-like keys, SOPS.

use super::values::{
    is_credential_key, is_empty_or_reference, is_encrypted, is_high_entropy, is_placeholder,
    names_a_secret,
};
use super::{fingerprint, Finding, Rule, Unparsed};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::Marker;

/// Deepest YAML nesting parsed, as the spec loader's (`spec::scan::MAX_DEPTH`): deeper
/// values are skipped and the file is reported as not parsed there (it is still scanned as
/// text). The parser is driven event by event and the tree is built on a stack of its own, so
/// no input's nesting reaches the call stack.
pub(super) const MAX_DEPTH: usize = 64;

// ---------------------------------------------------------------------------------------
// YAML: a small tree with lines, no alias expansion.

#[derive(Debug)]
enum Node {
    Map(Vec<(Scalar, Node)>),
    Seq(Vec<Node>),
    Scalar(Scalar),
    /// An alias, or what lies deeper than [`MAX_DEPTH`].
    Other,
}

#[derive(Debug, Clone)]
struct Scalar {
    text: String,
    line: u32,
}

impl Node {
    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k.text == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn str(&self) -> Option<&str> {
        match self {
            Node::Scalar(s) => Some(&s.text),
            _ => None,
        }
    }
}

#[derive(Default)]
struct Builder {
    /// Lines before the document being parsed.
    offset: u32,
    /// Open collections: a map with its pending key, or a list.
    stack: Vec<(Node, Option<Scalar>)>,
    docs: Vec<Node>,
    /// Nesting beyond MAX_DEPTH being skipped.
    skipping: usize,
    /// The line where the nesting first went beyond MAX_DEPTH.
    too_deep: Option<u32>,
}

impl Builder {
    fn push_value(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some((Node::Map(entries), pending)) => match pending.take() {
                None => {
                    // A key: only scalar keys are kept (complex keys hold no field names).
                    let key = match node {
                        Node::Scalar(s) => s,
                        _ => Scalar {
                            text: String::new(),
                            line: 0,
                        },
                    };
                    *pending = Some(key);
                }
                Some(key) => entries.push((key, node)),
            },
            Some((Node::Seq(items), _)) => items.push(node),
            Some(_) => {}
        }
    }

    /// The documents read, the open collections of a document cut short closed where they
    /// stopped (what was read before a syntax error still counts).
    fn finish(mut self) -> (Vec<Node>, Option<u32>) {
        while let Some((node, _)) = self.stack.pop() {
            self.push_value(node);
        }
        (self.docs, self.too_deep)
    }
}

impl Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let line = self.offset + mark.line().max(1) as u32;
        match ev {
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if self.skipping > 0 || self.stack.len() >= MAX_DEPTH {
                    self.too_deep.get_or_insert(line);
                    self.skipping += 1;
                    return;
                }
                let node = if matches!(ev, Event::MappingStart(..)) {
                    Node::Map(Vec::new())
                } else {
                    Node::Seq(Vec::new())
                };
                self.stack.push((node, None));
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if self.skipping > 0 {
                    self.skipping -= 1;
                    if self.skipping == 0 {
                        self.push_value(Node::Other);
                    }
                    return;
                }
                if let Some((node, _)) = self.stack.pop() {
                    self.push_value(node);
                }
            }
            Event::Scalar(text, ..) if self.skipping == 0 => {
                self.push_value(Node::Scalar(Scalar { text, line }))
            }
            Event::Alias(_) if self.skipping == 0 => self.push_value(Node::Other),
            _ => {}
        }
    }
}

/// The YAML rules' findings in `text` (what parses of it: templates and broken documents
/// are text to the other rules), and where it could not be parsed. A text that names no
/// Secret, no `secretGenerator`, no SOPS block and no credential-like key holds nothing these
/// rules report: it is not parsed at all (most manifests of a GitOps repository).
pub(super) fn findings(text: &str, out: &mut Vec<Finding>) -> Option<Unparsed> {
    if !may_hold(text) {
        return None;
    }
    let mut too_deep = None;
    for (offset, document) in documents(text) {
        let (docs, deep) = parse_yaml(offset, document);
        for doc in &docs {
            yaml_findings(doc, false, out);
        }
        too_deep = too_deep.or(deep);
    }
    too_deep.map(|line| Unparsed {
        line,
        reason: format!("nesting deeper than {MAX_DEPTH} levels"),
    })
}

/// Whether the YAML rules could find anything in `text`: it names a Secret (`kind: Secret`, a
/// `SecretList`), a `secretGenerator` or a `sops` block, or one of its lines holds a
/// credential-like key (`password:`, `"apiKey":`, `{token: …}`) — looked for line by line, in
/// block and flow mappings alike, much faster than parsing.
pub(super) fn may_hold(text: &str) -> bool {
    if text.contains("Secret") || text.contains("secretGenerator") || text.contains("sops") {
        return true;
    }
    text.lines().any(|line| {
        line.contains(':')
            && line
                .split(['{', ',', '['])
                .filter_map(|seg| seg.split_once(':'))
                .any(|(key, _)| is_credential_key(key))
    })
}

/// The documents of a YAML stream, split where a line starts with `---` (a document marker at
/// the start of a line ends any content before it), each with the number of lines before it:
/// each is parsed on its own, so a broken one does not hide the others.
pub(super) fn documents(text: &str) -> Vec<(u32, &str)> {
    let mut out = Vec::new();
    let (mut start, mut start_line) = (0, 0u32);
    let (mut pos, mut line) = (0, 0u32);
    for l in text.split_inclusive('\n') {
        let marker = l
            .strip_prefix("---")
            .is_some_and(|rest| rest.chars().next().is_none_or(char::is_whitespace));
        if marker && pos > start {
            out.push((start_line, &text[start..pos]));
            (start, start_line) = (pos, line);
        }
        pos += l.len();
        line += 1;
    }
    out.push((start_line, &text[start..]));
    out
}

/// The documents of one YAML document's text (more than one when `...` ends them), as far as
/// they parse (a syntax error ends the reading; what was read before it is kept), and the line
/// from which it is nested deeper than [`MAX_DEPTH`].
fn parse_yaml(offset: u32, text: &str) -> (Vec<Node>, Option<u32>) {
    let mut b = Builder {
        offset,
        ..Builder::default()
    };
    // Not `Parser::load`: it recurses once per level of nesting.
    let mut parser = Parser::new_from_str(text);
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => break,
            Ok((ev, mark)) => b.on_event(ev, mark),
            Err(e) => {
                // yaml-rust2 stops flow nesting (`[[[…`) at 255 levels, as an error.
                if e.info().contains("recursion limit") {
                    b.too_deep
                        .get_or_insert(offset + e.marker().line().max(1) as u32);
                }
                break;
            }
        }
    }
    b.finish()
}

/// The YAML rules over one document; `secret_item`: an item of a `SecretList`, a Secret
/// without saying so.
fn yaml_findings(doc: &Node, secret_item: bool, out: &mut Vec<Finding>) {
    let sops = doc.get("sops").is_some_and(|s| matches!(s, Node::Map(_)));
    let kind = doc.get("kind").and_then(Node::str);
    let v1 = doc.get("apiVersion").and_then(Node::str) == Some("v1");
    // `kubectl get secrets -o yaml` (and `-o json`): a v1 `List` whose items are objects; the
    // API's own `SecretList` (its items name no kind). Each item is read as a document.
    if let (true, Some(list @ ("List" | "SecretList")), Some(Node::Seq(items))) =
        (v1, kind, doc.get("items"))
    {
        for item in items {
            yaml_findings(item, list == "SecretList", out);
        }
        return;
    }
    // A Sealed Secret's `encryptedData` is ciphertext only its controller can open.
    if kind == Some("SealedSecret") {
        return;
    }
    let is_secret = secret_item || (kind == Some("Secret") && v1);
    let object = is_secret.then(|| {
        let meta = doc.get("metadata");
        let name = meta.and_then(|m| m.get("name")).and_then(Node::str);
        let ns = meta.and_then(|m| m.get("namespace")).and_then(Node::str);
        match (ns, name) {
            (Some(ns), Some(n)) => format!("{ns}/{n}"),
            (None, Some(n)) => n.to_string(),
            _ => "(unnamed)".to_string(),
        }
    });
    let Node::Map(entries) = doc else { return };
    // kustomize's secretGenerator: `literals: [KEY=value, ...]` become a Secret's data.
    if let Some(Node::Seq(generators)) = doc.get("secretGenerator") {
        for g in generators {
            let name = g.get("name").and_then(Node::str).unwrap_or("(unnamed)");
            let Some(Node::Seq(literals)) = g.get("literals") else {
                continue;
            };
            for l in literals.iter().filter_map(scalar) {
                let Some((k, v)) = l.text.split_once('=') else {
                    continue;
                };
                if is_placeholder(v) {
                    continue;
                }
                out.push(Finding::new(
                    l.line,
                    Rule::KubernetesSecret,
                    k.trim(),
                    Some(name),
                    v.as_bytes(),
                    fingerprint(Rule::KubernetesSecret, k.trim(), v.as_bytes()),
                ));
            }
        }
    }
    for (key, value) in entries {
        if sops && key.text == "sops" {
            continue;
        }
        let secret_data = is_secret && (key.text == "data" || key.text == "stringData");
        if secret_data {
            let Node::Map(items) = value else { continue };
            for (k, v) in items {
                let Some(s) = scalar(v) else { continue };
                if sops && is_encrypted(&s.text) {
                    continue;
                }
                if is_empty_or_reference(&s.text) {
                    continue;
                }
                let bytes = if key.text == "data" {
                    decode_base64(&s.text).unwrap_or_else(|| s.text.as_bytes().to_vec())
                } else {
                    s.text.as_bytes().to_vec()
                };
                if bytes.is_empty() || is_placeholder(&String::from_utf8_lossy(&bytes)) {
                    continue;
                }
                let rule = if sops {
                    Rule::SopsUnencrypted
                } else {
                    Rule::KubernetesSecret
                };
                out.push(Finding::new(
                    k.line,
                    rule,
                    &k.text,
                    object.as_deref(),
                    &bytes,
                    fingerprint(rule, &k.text, &bytes),
                ));
            }
            continue;
        }
        walk(key, value, sops, out);
    }
}

/// A scalar value, also a one-line block scalar's (`key: |`).
fn scalar(n: &Node) -> Option<&Scalar> {
    match n {
        Node::Scalar(s) => Some(s),
        _ => None,
    }
}

/// The credential-like and SOPS rules over every `key: value` below a top-level field.
fn walk(key: &Scalar, value: &Node, sops: bool, out: &mut Vec<Finding>) {
    match value {
        Node::Scalar(s) => {
            let credential = is_credential_key(&key.text);
            if sops {
                if !is_encrypted(&s.text)
                    && credential
                    && !is_empty_or_reference(&s.text)
                    && !key.text.ends_with("_unencrypted")
                {
                    out.push(Finding::new(
                        key.line,
                        Rule::SopsUnencrypted,
                        &key.text,
                        None,
                        s.text.as_bytes(),
                        fingerprint(Rule::SopsUnencrypted, &key.text, s.text.as_bytes()),
                    ));
                }
                return;
            }
            if credential && is_high_entropy(&s.text) && !names_a_secret(&key.text, &s.text) {
                out.push(Finding::new(
                    key.line,
                    Rule::HighEntropy,
                    &key.text,
                    None,
                    s.text.as_bytes(),
                    fingerprint(Rule::HighEntropy, &key.text, s.text.as_bytes()),
                ));
            }
        }
        Node::Map(entries) => {
            // In a SOPS file, a plain value beside encrypted ones was meant to be encrypted.
            let encrypted_siblings = sops
                && entries
                    .iter()
                    .any(|(_, v)| v.str().is_some_and(is_encrypted));
            for (k, v) in entries {
                if let (true, Some(s)) = (encrypted_siblings, scalar(v)) {
                    if !is_encrypted(&s.text)
                        && !is_empty_or_reference(&s.text)
                        && !k.text.ends_with("_unencrypted")
                    {
                        out.push(Finding::new(
                            k.line,
                            Rule::SopsUnencrypted,
                            &k.text,
                            None,
                            s.text.as_bytes(),
                            fingerprint(Rule::SopsUnencrypted, &k.text, s.text.as_bytes()),
                        ));
                    }
                    continue;
                }
                walk(k, v, sops, out);
            }
        }
        Node::Seq(items) => {
            for item in items {
                walk(key, item, sops, out);
            }
        }
        Node::Other => {}
    }
}

fn decode_base64(v: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}
