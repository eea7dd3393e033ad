//! Package and image registries: npm tokens (and `.npmrc`'s `_authToken`), PyPI upload tokens,
//! Docker config `auths` entries.

use super::{re, Detector, Source};
use crate::secrets_scan::values::{is_placeholder, looks_fake};
use crate::secrets_scan::{Finding, Rule};
use std::sync::OnceLock;

pub(super) const DETECTORS: &[Detector] = &[
    Detector {
        rule: Rule::NpmToken,
        keywords: &["npm_", "_authtoken"],
        find: npm,
    },
    Detector {
        rule: Rule::PypiToken,
        keywords: &["pypi-ag"],
        find: pypi,
    },
    Detector {
        rule: Rule::DockerConfigAuth,
        keywords: &["auths"],
        find: docker_auths,
    },
];

fn npm(src: &Source, out: &mut Vec<Finding>) {
    static TOKEN: OnceLock<regex::Regex> = OnceLock::new();
    static RC: OnceLock<regex::Regex> = OnceLock::new();
    let token = TOKEN.get_or_init(|| re(r"\b(npm_[A-Za-z0-9]{36})\b"));
    let rc = RC.get_or_init(|| re(r#":_authToken\s*=\s*["']?([^\s"']{8,512})"#));
    for c in token.captures_iter(src.text) {
        let m = c.get(1).expect("group");
        if !looks_fake(&m.as_str()[4..]) {
            src.token(out, Rule::NpmToken, m.start(), m.as_str());
        }
    }
    for c in rc.captures_iter(src.text) {
        let m = c.get(1).expect("group");
        if !is_placeholder(m.as_str()) && !m.as_str().starts_with('$') {
            src.token(out, Rule::NpmToken, m.start(), m.as_str());
        }
    }
}

/// PyPI's and TestPyPI's upload tokens (macaroons: `pypi-` and the base64 of their issuer).
fn pypi(src: &Source, out: &mut Vec<Finding>) {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        re(r"\b(pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,})")
    });
    for c in re.captures_iter(src.text) {
        let m = c.get(1).expect("group");
        if !looks_fake(&m.as_str()[24..]) {
            src.token(out, Rule::PypiToken, m.start(), m.as_str());
        }
    }
}

/// A Docker config's `auths` entry with an `auth` (base64 of `user:password`) that holds a
/// password, in JSON (also escaped inside a string) or YAML.
fn docker_auths(src: &Source, out: &mut Vec<Finding>) {
    use base64::Engine;
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        re(r#"(?:^|[^A-Za-z0-9_])\\?"?auth\\?"?\s*:\s*\\?"?([A-Za-z0-9+/]{8,}={0,2})"#)
    });
    for c in re.captures_iter(src.text) {
        let m = c.get(1).expect("group");
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(m.as_str()) else {
            continue;
        };
        let Ok(pair) = String::from_utf8(raw) else {
            continue;
        };
        let Some((user, password)) = pair.split_once(':') else {
            continue;
        };
        if !user.is_empty() && password.len() >= 4 && !is_placeholder(password) {
            src.token(out, Rule::DockerConfigAuth, m.start(), &pair);
        }
    }
}
