//! What a value is: a reference, a placeholder, a hash, a credential-like key's, random enough.
//! Every rule asks these before it reports a value.

/// Empty, null, a boolean, or a reference to a value kept elsewhere: `${VAR}`, `$(VAR)`,
/// `{{ template }}`, `{name}` (a format string's), `<placeholder>`, `*****`.
pub(super) fn is_empty_or_reference(v: &str) -> bool {
    let t = v.trim();
    t.is_empty()
        || matches!(t, "~" | "null" | "true" | "false")
        || t.contains("${")
        || t.contains("$(")
        || t.contains("{{")
        || (t.starts_with('<') && t.ends_with('>'))
        || has_format_placeholder(t)
        || t.chars()
            .all(|c| c == '*' || c == 'x' || c == 'X' || c == '.')
}

/// A format string's placeholder in `t`: `{name}`, `{0}`, `{}` (Rust, Python, .NET).
fn has_format_placeholder(t: &str) -> bool {
    t.match_indices('{').any(|(i, _)| {
        let rest = &t[i + 1..];
        rest.find('}').is_some_and(|end| {
            rest[..end]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':'))
        })
    })
}

/// A value written to be replaced, not a secret: [`is_empty_or_reference`], a word such as
/// `changeme`, `password`, `example`, `<…>` anywhere in it, runs of `x` or `*`, a printf
/// directive, one character repeated.
pub(super) fn is_placeholder(v: &str) -> bool {
    let t = v.trim().trim_matches(['"', '\'']);
    if is_empty_or_reference(t) {
        return true;
    }
    let lower = t.to_ascii_lowercase();
    const WHOLE: &[&str] = &[
        "password",
        "passwd",
        "pass",
        "pwd",
        "secret",
        "token",
        "apikey",
        "api_key",
        "none",
        "nil",
        "undefined",
        "empty",
        "default",
        "value",
        "string",
        "foo",
        "bar",
        "foobar",
        "test",
        "mypassword",
        "mysecret",
        "secretpassword",
    ];
    const PARTS: &[&str] = &[
        "example",
        "changeme",
        "change_me",
        "change-me",
        "changeit",
        "placeholder",
        "dummy",
        "redacted",
        "replaceme",
        "replace_me",
        "replace-me",
        "your_",
        "your-",
        "yourpassword",
        "yoursecret",
        "yourtoken",
        "xxxxxx",
        "******",
        "...",
        "\u{2026}",
        "%s",
        "%(",
        "%v",
        "todo",
        "fixme",
    ];
    WHOLE.contains(&lower.as_str())
        || PARTS.iter().any(|p| lower.contains(p))
        || t.find('<').is_some_and(|i| t[i..].contains('>'))
        || t.chars().all(|c| t.starts_with(c))
}

/// The random part of a token looks made up: few distinct characters, a run of one character,
/// an alphabet or counting sequence, or a word such as `example`, `fake`, `dummy`. A random
/// base62 body of 16 characters or more holds none of these but with negligible probability.
pub(super) fn looks_fake(body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    let distinct = {
        let mut seen = [false; 128];
        body.bytes()
            .filter(|b| {
                let i = (*b & 0x7f) as usize;
                !std::mem::replace(&mut seen[i], true)
            })
            .count()
    };
    const PARTS: &[&str] = &[
        "example",
        "sample",
        "dummy",
        "fake",
        "placeholder",
        "xxxxxx",
        "000000",
        "111111",
        "0123456",
        "123456",
        "abcdef",
        "your",
        "redacted",
    ];
    (body.len() >= 16 && distinct < 8) || PARTS.iter().any(|p| lower.contains(p))
}

/// A password hash (crypt's `$id$…`: bcrypt, SHA-crypt, argon2, yescrypt), not a password.
pub(super) fn is_crypt_hash(v: &str) -> bool {
    let t = v.trim();
    [
        "$2a$", "$2b$", "$2y$", "$2x$", "$5$", "$6$", "$argon2", "$y$", "$apr1$", "$1$",
    ]
    .iter()
    .any(|p| t.starts_with(p))
        && t.len() >= 20
}

/// SOPS's encrypted value.
pub(super) fn is_encrypted(v: &str) -> bool {
    v.starts_with("ENC[") && v.ends_with(']')
}

/// A key whose last word names a credential (`password`, `DB_PASSWORD`, `clientSecret`,
/// `api-key`, `SECRET_KEY_BASE`), not a key that refers to one (`secretName`, `passwordFrom`,
/// `tokenPath`).
pub(crate) fn is_credential_key(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    const ENDINGS: &[&str] = &[
        "password",
        "passwd",
        "pwd",
        "pass",
        "secret",
        "token",
        "apikey",
        "accesskey",
        "secretkey",
        "privatekey",
        "credential",
        "credentials",
        "passphrase",
        "authkey",
        "secretkeybase",
    ];
    ENDINGS.iter().any(|e| k.ends_with(e))
        && !["bypass", "compass"].iter().any(|e| k.ends_with(e))
        // `checksum/secret`, `secretDigest`: a hash of a secret, public by design.
        && !["checksum", "digest", "hash", "fingerprint"]
            .iter()
            .any(|w| k.contains(w))
}

/// A key ending in `secret` whose value is a Kubernetes object's name made of words
/// (`caCertSecret: unsealer-ca`, `existingSecret: app-credentials`): the name of a Secret,
/// the Helm charts' convention, not a secret.
pub(super) fn names_a_secret(key: &str, value: &str) -> bool {
    let k = key.to_ascii_lowercase();
    let v = value.trim();
    k.ends_with("secret")
        && !v.is_empty()
        && v.len() <= 63
        && v.split('-')
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
}

/// Shortest value the entropy rule considers.
const ENTROPY_MIN_LEN: usize = 8;
/// Shannon entropy (bits per character) from which a value under a credential-like key counts
/// as a secret: `changeme` (2.75) does not, `S3cr3t-Pa55w0rd` (3.7) and random tokens do.
const ENTROPY_MIN_BITS: f64 = 3.0;

/// A value random enough to be a secret under a credential-like key.
pub(super) fn is_high_entropy(v: &str) -> bool {
    let v = v.trim();
    let letters_only = v.chars().all(|c| c.is_ascii_alphabetic());
    if v.chars().count() < ENTROPY_MIN_LEN
        // A word or a name (`apiToken`, `password`: what ESO's `secretKey` holds), not random.
        || (letters_only && v.len() < 16)
        || v.chars().any(char::is_whitespace)
        || is_placeholder(v)
        || is_encrypted(v)
        || is_crypt_hash(v)
    {
        return false;
    }
    shannon(v) >= ENTROPY_MIN_BITS
}

/// Shannon entropy in bits per character.
pub(super) fn shannon(v: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut n = 0usize;
    for c in v.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
        n += 1;
    }
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / n as f64;
            -p * p.log2()
        })
        .sum()
}

/// Holds an upper-case letter, a lower-case letter and a digit (or `/`, `+`): what a random
/// base64 or base62 string of 20 characters or more holds but for negligible odds, and what
/// hex digests, words and identifiers lack.
pub(super) fn is_mixed(v: &str) -> bool {
    v.bytes().any(|b| b.is_ascii_uppercase())
        && v.bytes().any(|b| b.is_ascii_lowercase())
        && v.bytes()
            .any(|b| b.is_ascii_digit() || b == b'/' || b == b'+')
}
