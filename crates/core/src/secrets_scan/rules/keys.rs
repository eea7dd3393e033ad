//! Private keys (PEM, OpenSSH, PGP), JWTs with a signature, Vault / OpenBao tokens.

use super::{re, Detector, Source};
use crate::secrets_scan::values::{is_mixed, looks_fake};
use crate::secrets_scan::{fingerprint, Finding, Rule};
use std::sync::OnceLock;

pub(super) const DETECTORS: &[Detector] = &[
    Detector {
        rule: Rule::PrivateKey,
        keywords: &["private key"],
        find: private_keys,
    },
    Detector {
        rule: Rule::VaultToken,
        keywords: &["hvs.", "hvb.", "hvr."],
        find: vault_tokens,
    },
    Detector {
        rule: Rule::VaultToken,
        // The legacy `s.` form has no anchor a prefilter could use: its pattern always runs
        // (the regex engine's own literal search finds `s.`, `b.`, `r.`).
        keywords: &[],
        find: legacy_vault_tokens,
    },
    Detector {
        rule: Rule::Jwt,
        keywords: &["eyj"],
        find: jwts,
    },
];

/// Fewest base64 characters a private key's body has (a 256-bit EC key has about 160).
const MIN_KEY_BODY: usize = 40;

fn private_keys(src: &Source, out: &mut Vec<Finding>) {
    static BEGIN: OnceLock<regex::Regex> = OnceLock::new();
    let begin = BEGIN.get_or_init(|| re(r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----"));
    let text = src.text;
    let mut next = 0;
    for c in begin.captures_iter(text) {
        let m = c.get(0).expect("whole match");
        if m.start() < next || c[1].contains("ENCRYPTED") {
            continue;
        }
        let rest = &text[m.end()..];
        let line_end = rest.find('\n').unwrap_or(rest.len());
        let end = rest.find("-----END ");
        let line = src.line_at(m.start());
        // The whole block is the value, as it was always fingerprinted: its lines from BEGIN to
        // END (or the end of the file), each trimmed. A one-line block (a JSON string's `\n`
        // escapes) is its line.
        let (material, value) = match end {
            Some(e) if e < line_end => (&rest[..e], format!("{}\n", clean(line))),
            _ => {
                let first = src.line_of(m.start());
                let last = match end {
                    Some(e) => src.line_of(m.end() + e),
                    None => src.line_of(text.len()),
                };
                let range = src.lines_range(first, last);
                let mut value = String::new();
                for l in text[range.clone()].lines() {
                    value.push_str(clean(l));
                    value.push('\n');
                }
                (
                    &rest[..end.unwrap_or(rest.len()).min(range.end - m.end())],
                    value,
                )
            }
        };
        next = m.end() + end.map(|e| e + 9).unwrap_or(rest.len());
        if !is_key_material(&c[1], material) {
            continue;
        }
        out.push(Finding::new(
            src.line_of(m.start()),
            Rule::PrivateKey,
            super::key_of(line).unwrap_or("pem"),
            None,
            value.as_bytes(),
            fingerprint(Rule::PrivateKey, "pem", value.as_bytes()),
        ));
    }
}

fn clean(line: &str) -> &str {
    line.trim().trim_start_matches(['|', '"', '\''])
}

/// Whether what lies between BEGIN and END is a key: enough base64, not elided (`...`,
/// `<your key>`), not encrypted (a legacy `Proc-Type: 4,ENCRYPTED` header, an OpenSSH key
/// with a cipher).
fn is_key_material(kind: &str, material: &str) -> bool {
    let material = material.replace("\\n", "\n").replace("\\r", "");
    if material.contains("ENCRYPTED") {
        return false;
    }
    let mut b64 = String::new();
    for l in material.lines() {
        let l = l.trim().trim_matches(['"', '\'', '|', ',']);
        if l.contains(':') {
            continue;
        }
        b64.extend(
            l.chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')),
        );
    }
    let lower = material.to_ascii_lowercase();
    if b64.len() < MIN_KEY_BODY
        || ["...", "\u{2026}", "<", "xxxx", "your key", "example"]
            .iter()
            .any(|p| lower.contains(p))
    {
        return false;
    }
    if kind.trim() == "OPENSSH" {
        return !openssh_encrypted(&b64);
    }
    true
}

/// An OpenSSH private key (`openssh-key-v1`) whose cipher is not `none`.
fn openssh_encrypted(b64: &str) -> bool {
    use base64::Engine;
    let b64 = b64.trim_end_matches('=');
    let Ok(bytes) = base64::engine::general_purpose::STANDARD_NO_PAD.decode(b64) else {
        return false;
    };
    let Some(rest) = bytes.strip_prefix(b"openssh-key-v1\0") else {
        return false;
    };
    let Some(len) = rest.get(..4) else {
        return false;
    };
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
    rest.get(4..4 + len).is_some_and(|cipher| cipher != b"none")
}

fn vault_tokens(src: &Source, out: &mut Vec<Finding>) {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        re(r"(?:^|[^A-Za-z0-9_.])(hv[sbr]\.[A-Za-z0-9_-]{24,})(?:$|[^A-Za-z0-9_.-])")
    });
    for c in re.captures_iter(src.text) {
        let t = c.get(1).expect("group");
        if !looks_fake(&t.as_str()[4..]) {
            src.token(out, Rule::VaultToken, t.start(), t.as_str());
        }
    }
}

fn legacy_vault_tokens(src: &Source, out: &mut Vec<Finding>) {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re =
        RE.get_or_init(|| re(r"(?:^|[^A-Za-z0-9_.])([sbr]\.[A-Za-z0-9]{24})(?:$|[^A-Za-z0-9_.-])"));
    for c in re.captures_iter(src.text) {
        let t = c.get(1).expect("group");
        // Random base62: upper and lower case and a digit (an identifier such as
        // `s.handleRequestWithTimeout` has no digit).
        let body = &t.as_str()[2..];
        if is_mixed(body) && !looks_fake(body) {
            src.token(out, Rule::VaultToken, t.start(), t.as_str());
        }
    }
}

fn jwts(src: &Source, out: &mut Vec<Finding>) {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        re(r"\b(eyJ[A-Za-z0-9_-]{8,})\.(eyJ[A-Za-z0-9_-]{8,})\.([A-Za-z0-9_-]{16,})")
    });
    for c in re.captures_iter(src.text) {
        let t = c.get(0).expect("whole");
        if is_signed_jwt(&c[1], &c[2], &c[3]) {
            src.token(out, Rule::Jwt, t.start(), t.as_str());
        }
    }
}

/// A JWT whose header names a signing algorithm (not `none`) and whose payload is JSON, not a
/// documentation sample (jwt.io's, or issued by an example domain).
fn is_signed_jwt(header: &str, payload: &str, signature: &str) -> bool {
    let (Some(h), Some(p)) = (b64url_json(header), b64url_json(payload)) else {
        return false;
    };
    let alg = h.get("alg").and_then(|a| a.as_str()).unwrap_or("none");
    let p = p.to_string().to_ascii_lowercase();
    !alg.eq_ignore_ascii_case("none")
        && p.starts_with('{')
        && !["john doe", "example.com", "example.org", "example.net"]
            .iter()
            .any(|s| p.contains(s))
        && !looks_fake(signature)
}

fn b64url_json(s: &str) -> Option<serde_json::Value> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use base64::Engine;
    const E: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let bytes = E.decode(s.trim_end_matches('=')).ok()?;
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .filter(|v| v.is_object())
}
