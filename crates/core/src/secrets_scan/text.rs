//! Bytes to text: a file's content whatever its encoding, a path whatever its bytes.

use std::borrow::Cow;

/// The text of a file's content. UTF-8 as it is (a BOM dropped); UTF-16 and UTF-32 with a BOM
/// (what PowerShell's `>` and Windows editors write) decoded; anything else (a Latin-1 byte, a
/// NUL, a binary file) read as UTF-8 with each invalid sequence replaced by U+FFFD, so that the
/// token formats (ASCII) in it are still found. Lines stay lines: a finding's line is the
/// file's.
pub(super) fn decode(bytes: &[u8]) -> Cow<'_, str> {
    // UTF-32LE's BOM starts with UTF-16LE's: it is tried first.
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE\0\0") {
        return Cow::Owned(utf32(rest, u32::from_le_bytes));
    }
    if let Some(rest) = bytes.strip_prefix(b"\0\0\xFE\xFF") {
        return Cow::Owned(utf32(rest, u32::from_be_bytes));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return Cow::Owned(utf16(rest, u16::from_le_bytes));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return Cow::Owned(utf16(rest, u16::from_be_bytes));
    }
    String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let mut s: String = char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    if !bytes.len().is_multiple_of(2) {
        s.push(char::REPLACEMENT_CHARACTER);
    }
    s
}

fn utf32(bytes: &[u8], unit: fn([u8; 4]) -> u32) -> String {
    let mut s: String = bytes
        .chunks_exact(4)
        .map(|c| {
            char::from_u32(unit([c[0], c[1], c[2], c[3]])).unwrap_or(char::REPLACEMENT_CHARACTER)
        })
        .collect();
    if !bytes.len().is_multiple_of(4) {
        s.push(char::REPLACEMENT_CHARACTER);
    }
    s
}

/// A path (Git's paths are bytes) as the report shows it, one to one: UTF-8 as it is, except a
/// backslash as `\\`; a byte that is not UTF-8 and an ASCII control character as `\xNN`; other
/// control and bidirectional formatting characters as `\u{NNNN}` (a file name cannot rewrite
/// the terminal or the CI log, nor reorder what is shown).
pub fn shown_path(raw: &[u8]) -> String {
    if let Ok(s) = std::str::from_utf8(raw) {
        if !s.chars().any(|c| c == '\\' || is_hidden(c)) {
            return s.to_string();
        }
    }
    let mut out = String::with_capacity(raw.len());
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
                c if is_hidden(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// `s` with its control and bidirectional formatting characters escaped (`\u{NNNN}`): text of
/// the repository shown in a terminal.
pub(super) fn escape_hidden(s: &str) -> String {
    if !s.chars().any(is_hidden) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if is_hidden(c) {
                format!("\\u{{{:04x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Control characters and the bidirectional formatting ones (which reorder what a terminal
/// shows).
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}
