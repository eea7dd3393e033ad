//! Careful in-place edits of a spec's text (for `kubectl vault import`): a new secret entry
//! is inserted as lines after the app's last secret, with that list's indentation, and
//! nothing else in the file changes (comments, blank lines, quoting, order all kept).
//! Layouts it cannot edit safely (flow lists, `secrets: []`, flow-map apps) are refused: the
//! caller then prints the lines to add.

use super::locate::LocationIndex;

/// One `key: value` line of an entry.
pub type Field<'a> = (&'a str, Val<'a>);

/// A value of an entry: a string (written plain when YAML reads it back unchanged,
/// double-quoted otherwise) or a boolean.
#[derive(Debug, Clone, Copy)]
pub enum Val<'a> {
    Str(&'a str),
    Bool(bool),
}

impl Val<'_> {
    pub fn yaml(self) -> String {
        match self {
            Val::Str(s) => scalar(s),
            Val::Bool(b) => b.to_string(),
        }
    }
}

/// Why the edit could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unplaced(pub String);

/// The entry as YAML list-item lines at `indent` (what the user adds by hand).
pub fn entry_lines(fields: &[Field], indent: usize) -> Vec<String> {
    fields
        .iter()
        .enumerate()
        .map(|(i, (k, v))| {
            let lead = if i == 0 {
                format!("{}- ", " ".repeat(indent))
            } else {
                " ".repeat(indent + 2)
            };
            format!("{lead}{k}: {}", v.yaml())
        })
        .collect()
}

/// `v` as a YAML scalar: plain when that reads back as the same string, else JSON-quoted
/// (a JSON string is a valid YAML double-quoted scalar).
pub fn scalar(v: &str) -> String {
    let plain = !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && v.starts_with(|c: char| c.is_ascii_alphanumeric())
        && !matches!(
            v.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        )
        && v.parse::<f64>().is_err();
    if plain {
        v.to_string()
    } else {
        serde_json::to_string(v).expect("a string")
    }
}

/// `source` with `fields` added as a new item of `apps[app].secrets` (which holds
/// `secrets` items now), and the 1-based line where the item starts.
pub fn add_secret(
    source: &str,
    app: usize,
    secrets: usize,
    fields: &[Field],
) -> Result<(String, usize), Unplaced> {
    let index = LocationIndex::build(source);
    let lines: Vec<&str> = source.split_inclusive('\n').collect();
    let eol = if source.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let line_text = |n: usize| lines.get(n - 1).copied().unwrap_or_default();
    // The list item at `path`: its dash column (0-based) and the column of its first key.
    let item = |path: &str| -> Result<(usize, usize, usize), Unplaced> {
        let loc = index
            .value(path)
            .ok_or_else(|| Unplaced(format!("cannot find {path}")))?;
        // The parser marks a block item on its first line (not reliably at its dash):
        // the line must start with the item's `- `.
        let text = line_text(loc.line);
        let body = text.trim_end_matches(['\n', '\r']);
        let trimmed = body.trim_start();
        let dash = body.len() - trimmed.len();
        let Some(rest) = trimmed.strip_prefix("- ") else {
            return Err(Unplaced(format!(
                "{path} is not written as a block list item (`- key: value` on its own line)"
            )));
        };
        let col = dash + 2 + (rest.len() - rest.trim_start_matches(' ').len());
        if rest.trim_start().starts_with('{') || rest.trim_start().starts_with('[') {
            return Err(Unplaced(format!("{path} is written in flow style")));
        }
        Ok((loc.line, dash, col))
    };
    // The last line (1-based) that belongs to the item starting at `line` with its dash at
    // `dash`: following lines indented deeper, skipping blank and comment lines in between.
    let end_of = |line: usize, dash: usize| -> usize {
        let mut last = line;
        for (n, text) in lines.iter().enumerate().skip(line) {
            let t = text.trim_end_matches(['\n', '\r']);
            let trimmed = t.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let indent = t.len() - trimmed.len();
            if indent <= dash || trimmed.starts_with("---") || trimmed.starts_with("...") {
                break;
            }
            last = n + 1;
        }
        last
    };
    let (after, new_lines) = if secrets > 0 {
        let (line, dash, col) = item(&format!("apps[{app}].secrets[{}]", secrets - 1))?;
        let mut out = entry_lines(fields, dash);
        // Keep the list's own spacing between the dash and the key (`-   name:`).
        if col != dash + 2 {
            out = fields
                .iter()
                .enumerate()
                .map(|(i, (k, v))| {
                    let lead = if i == 0 {
                        format!("{}-{}", " ".repeat(dash), " ".repeat(col - dash - 1))
                    } else {
                        " ".repeat(col)
                    };
                    format!("{lead}{k}: {}", v.yaml())
                })
                .collect();
        }
        (end_of(line, dash), out)
    } else {
        let (line, dash, col) = item(&format!("apps[{app}]"))?;
        let end = end_of(line, dash);
        // A `secrets:` key written without items (`secrets: []`, `secrets:`).
        let written = (line..=end).any(|n| {
            let t = line_text(n).trim_start();
            t.starts_with("secrets:") || t.starts_with("- secrets:")
        });
        if written {
            return Err(Unplaced(format!(
                "apps[{app}].secrets is written without block items"
            )));
        }
        let mut out = vec![format!("{}secrets:", " ".repeat(col))];
        out.extend(entry_lines(fields, col + 2));
        (end, out)
    };
    let mut text = String::with_capacity(source.len() + 200);
    for (n, l) in lines.iter().enumerate() {
        text.push_str(l);
        if n + 1 == after {
            if !l.ends_with('\n') {
                text.push_str(eol);
            }
            for nl in &new_lines {
                text.push_str(nl);
                text.push_str(eol);
            }
        }
    }
    Ok((text, after + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "apps:\n  - name: webapp   # the shop\n    namespace: shop\n    secrets:\n      - name: a\n        kv: kvv2/a\n        # trailing comment\n\n  - name: payments\n    namespace: payments\n# the end\n";

    #[test]
    fn after_the_last_secret_with_its_indentation() {
        let fields = [
            ("name", Val::Str("payments-config")),
            ("kv", Val::Str("secret/payments/config")),
        ];
        let (text, line) = add_secret(SPEC, 0, 1, &[fields[0], fields[1]]).unwrap();
        assert_eq!(line, 7);
        assert_eq!(
            text,
            "apps:\n  - name: webapp   # the shop\n    namespace: shop\n    secrets:\n      - name: a\n        kv: kvv2/a\n      - name: payments-config\n        kv: secret/payments/config\n        # trailing comment\n\n  - name: payments\n    namespace: payments\n# the end\n"
        );
        let (text, line) = add_secret(SPEC, 1, 0, &[fields[0]]).unwrap();
        assert_eq!(line, 11);
        assert!(
            text.ends_with(
                "    namespace: payments\n    secrets:\n      - name: payments-config\n# the end\n"
            ),
            "{text}"
        );
        assert_eq!(scalar("true"), "\"true\"");
        assert_eq!(scalar("kvv2/x"), "kvv2/x");
    }

    #[test]
    fn refuses_what_it_cannot_edit_safely() {
        let flow = "apps:\n  - name: w\n    namespace: s\n    secrets: [{name: a, kv: k/a}]\n";
        assert!(add_secret(flow, 0, 1, &[("name", Val::Str("b"))]).is_err());
        let empty = "apps:\n  - name: w\n    namespace: s\n    secrets: []\n";
        assert!(add_secret(empty, 0, 0, &[("name", Val::Str("b"))]).is_err());
        let flow_app = "apps:\n  - {name: w, namespace: s}\n";
        assert!(add_secret(flow_app, 0, 0, &[("name", Val::Str("b"))]).is_err());
    }
}
