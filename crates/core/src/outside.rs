//! Text that comes from outside (the API server's condition messages, Vault's answers, names
//! and keys read from the cluster or a repository) as it may reach a terminal or a report:
//! control characters escaped (an ESC sequence could forge or erase a row), text-direction
//! overrides shown, and cut to a bound with a marker (a 1 MB message must not become 3 MB of
//! output).

use serde_json::Value;

/// The most characters of one outside string shown.
pub const MAX_CHARS: usize = 1000;

/// Whether `c` is shown escaped: a control character, a line or paragraph separator, a
/// text-direction override or isolate ("Trojan source"), or a byte-order mark.
pub fn escapes(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
        )
}

/// `text` made safe for a terminal and bounded: the characters [`escapes`] names as `\u{1b}`
/// (`\n` as `\n`: one line), and everything past [`MAX_CHARS`] replaced by a marker.
pub fn shown(text: &str) -> String {
    escape(text, Some(MAX_CHARS))
}

/// `text` with the characters [`escapes`] names escaped, whole (for names and messages the
/// tool itself bounds: spec paths, file names).
pub fn escaped(text: &str) -> String {
    if !text.chars().any(escapes) {
        return text.to_string();
    }
    escape(text, None)
}

/// The one escaping loop: each character [`escapes`] names as its escape, at most `max`
/// characters (then a marker saying how many bytes were cut).
fn escape(text: &str, max: Option<usize>) -> String {
    let mut out =
        String::with_capacity(text.len().min(max.unwrap_or(usize::MAX).saturating_add(40)));
    for (count, (i, c)) in text.char_indices().enumerate() {
        if Some(count) == max {
            out.push_str(&format!("… [{} more bytes cut]", text.len() - i));
            return out;
        }
        if escapes(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Every string in a JSON report cut to [`MAX_CHARS`] with the same marker (JSON escapes
/// control characters itself, so a JSON consumer still gets valid JSON with every character).
pub fn bound_json(v: &mut Value) {
    match v {
        Value::String(s) if s.chars().count() > MAX_CHARS => {
            let cut: usize = s.char_indices().nth(MAX_CHARS).map_or(s.len(), |(i, _)| i);
            let more = s.len() - cut;
            s.truncate(cut);
            s.push_str(&format!("… [{more} more bytes cut]"));
        }
        Value::Array(a) => a.iter_mut().for_each(bound_json),
        Value::Object(o) => o.values_mut().for_each(bound_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_bounds() {
        assert_eq!(shown("ok"), "ok");
        assert_eq!(shown("a\u{1b}[2Kb\nc"), "a\\u{1b}[2Kb\\nc");
        assert_eq!(shown("x\u{202E}y"), "x\\u{202e}y");
        assert_eq!(shown("a\u{2028}b\u{feff}"), "a\\u{2028}b\\u{feff}");
        assert_eq!(escaped("plain"), "plain");
        assert_eq!(escaped("a\tb\u{2066}"), "a\\tb\\u{2066}");
        let long = "é".repeat(MAX_CHARS + 10);
        let s = shown(&long);
        assert!(s.ends_with("… [20 more bytes cut]"), "{s}");
        assert_eq!(s.chars().filter(|c| *c == 'é').count(), MAX_CHARS);
        assert_eq!(escaped(&long), long);
        let mut v = serde_json::json!({"a": ["x".repeat(MAX_CHARS + 5)], "b": 1});
        bound_json(&mut v);
        assert!(v["a"][0]
            .as_str()
            .unwrap()
            .ends_with("… [5 more bytes cut]"));
    }
}
