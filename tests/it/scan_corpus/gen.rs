//! What the corpus is made of: a small deterministic random generator, and the credential
//! formats built from their public prefixes and a random body. Nothing token-shaped is written
//! in the source: every token is put together at test time (this repository scans its own
//! history, and so would any scanner run on it).

use base64::Engine;

pub(crate) const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const BASE32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const HEX: &str = "0123456789abcdef";
const DIGITS: &str = "0123456789";

/// splitmix64: the same corpus on every run and machine.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub(crate) fn of(&mut self, alphabet: &str, n: usize) -> String {
        let a = alphabet.as_bytes();
        (0..n).map(|_| a[self.below(a.len())] as char).collect()
    }

    pub(crate) fn alnum(&mut self, n: usize) -> String {
        self.of(ALNUM, n)
    }
    pub(crate) fn hex(&mut self, n: usize) -> String {
        self.of(HEX, n)
    }
    pub(crate) fn digits(&mut self, n: usize) -> String {
        // No leading zero: an id, not a padded number.
        let mut s = self.of("123456789", 1);
        s.push_str(&self.of(DIGITS, n - 1));
        s
    }
    pub(crate) fn b64(&mut self, n: usize) -> String {
        self.of(BASE64, n)
    }
    pub(crate) fn url_safe(&mut self, n: usize) -> String {
        self.of(URL_SAFE, n)
    }
    pub(crate) fn upper(&mut self, n: usize) -> String {
        self.of(UPPER_ALNUM, n)
    }

    /// A password as people choose them: words, digits and a sign.
    pub(crate) fn password(&mut self) -> String {
        const WORDS: &[&str] = &[
            "Harbor", "violet", "Tundra", "maple", "Quartz", "ember", "Falcon", "cobalt", "Meadow",
            "saffron", "Glacier", "orbit",
        ];
        let a = WORDS[self.below(WORDS.len())];
        let b = WORDS[self.below(WORDS.len())];
        let sign = ["!", "*", "-", "_", ".", "+"][self.below(6)];
        format!("{a}{sign}{b}{}", self.digits(3))
    }

    /// A generated password (a password manager's): 20 to 32 characters of letters, digits
    /// and signs.
    pub(crate) fn generated(&mut self) -> String {
        let n = 20 + self.below(13);
        self.of(
            "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#*+-_=",
            n,
        )
    }
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

// ---------------------------------------------------------------------------------------
// The formats, from their public prefixes.

pub(crate) fn github(r: &mut Rng, i: usize) -> String {
    match i % 6 {
        5 => format!("github_{}_{}_{}", "pat", r.alnum(22), r.alnum(59)),
        k => format!("gh{}_{}", ["p", "o", "u", "s", "r"][k], r.alnum(36)),
    }
}

pub(crate) fn gitlab(r: &mut Rng, i: usize) -> String {
    let body = r.url_safe(20).replace(['-', '_'], "x");
    match i % 4 {
        0 => format!("gl{}-{body}", "pat"),
        1 => format!(
            "gl{}-{}.01.{}",
            "pat",
            r.url_safe(27).replace('-', "q"),
            r.of("0123456789abcdefghijklmnopqrstuvwxyz", 7)
        ),
        2 => format!("gl{}-{body}", "dt"),
        _ => format!("gl{}-{body}", "rt"),
    }
}

pub(crate) fn slack_token(r: &mut Rng, i: usize) -> String {
    match i % 3 {
        0 => format!(
            "xox{}-{}-{}-{}",
            "b",
            r.digits(12),
            r.digits(13),
            r.alnum(24)
        ),
        1 => format!(
            "xox{}-{}-{}-{}-{}",
            "p",
            r.digits(11),
            r.digits(11),
            r.digits(12),
            r.hex(32)
        ),
        _ => format!(
            "xa{}-1-A{}-{}-{}",
            "pp",
            r.upper(10),
            r.digits(13),
            r.hex(64)
        ),
    }
}

pub(crate) fn slack_webhook(r: &mut Rng, _: usize) -> String {
    format!(
        "https://hooks.{}.com/services/T{}/B{}/{}",
        "slack",
        r.upper(8),
        r.upper(10),
        r.alnum(24)
    )
}

pub(crate) fn stripe(r: &mut Rng, i: usize) -> String {
    let n = [24, 99, 32][i % 3];
    format!("{}k_{}_{}", ["s", "r"][i % 2], "live", r.alnum(n))
}

pub(crate) fn npm(r: &mut Rng, _: usize) -> String {
    format!("np{}_{}", "m", r.alnum(36))
}

pub(crate) fn pypi(r: &mut Rng, _: usize) -> String {
    let n = 120 + r.below(60);
    format!("pypi-{}{}", "AgEIcHlwaS5vcmc", r.url_safe(n))
}

pub(crate) fn gcp_api_key(r: &mut Rng, _: usize) -> String {
    format!("AI{}{}", "za", r.url_safe(35))
}

pub(crate) fn vault(r: &mut Rng, i: usize) -> String {
    match i % 4 {
        0 => format!("hv{}.CAESI{}", "s", r.url_safe(86)),
        1 => format!("hv{}.{}", "s", r.alnum(24)),
        2 => format!("hv{}.AAAAAQ{}", "b", r.url_safe(120)),
        _ => {
            // The legacy form: `s.` and 24 characters, upper and lower case and a digit.
            let mut body = r.alnum(22);
            body.push_str(&r.of("ABCDEFGHJKLMNPQRSTUVWXYZ", 1));
            body.push_str(&r.of("0123456789", 1));
            format!("s.{body}")
        }
    }
}

pub(crate) fn aws_id(r: &mut Rng, i: usize) -> String {
    format!(
        "{}{}",
        ["AK", "AS"][i % 2].to_string() + "IA",
        r.of(BASE32, 16)
    )
}

pub(crate) fn aws_secret(r: &mut Rng) -> String {
    loop {
        let s = r.b64(40);
        if s.bytes().any(|b| b.is_ascii_uppercase())
            && s.bytes().any(|b| b.is_ascii_lowercase())
            && s.bytes().any(|b| b.is_ascii_digit())
        {
            return s;
        }
    }
}

pub(crate) fn jwt(r: &mut Rng, i: usize) -> String {
    let (alg, sig) = match i % 3 {
        0 => ("RS256", r.url_safe(342)),
        1 => ("HS256", r.url_safe(43)),
        _ => ("ES256", r.url_safe(86)),
    };
    let header = format!(r#"{{"alg":"{alg}","kid":"{}"}}"#, r.url_safe(43));
    let payload = match i % 2 {
        0 => format!(
            r#"{{"aud":["https://kubernetes.default.svc"],"exp":{},"iss":"https://kubernetes.default.svc","kubernetes.io":{{"namespace":"shop","serviceaccount":{{"name":"deployer","uid":"{}"}}}},"sub":"system:serviceaccount:shop:deployer"}}"#,
            1_900_000_000 + r.below(1000),
            uuid(r)
        ),
        _ => format!(
            r#"{{"iss":"https://auth.acme-corp.io","sub":"{}","scope":"deploy","iat":{}}}"#,
            r.alnum(12),
            1_700_000_000 + r.below(1000)
        ),
    };
    format!(
        "{}.{}.{sig}",
        b64url(header.as_bytes()),
        b64url(payload.as_bytes())
    )
}

pub(crate) fn uuid(r: &mut Rng) -> String {
    format!(
        "{}-{}-4{}-a{}-{}",
        r.hex(8),
        r.hex(4),
        r.hex(3),
        r.hex(3),
        r.hex(12)
    )
}

/// A private key block of `kind` (`RSA `, `EC `, ``, `OPENSSH `, `DSA `, `PGP `) with a body
/// of random base64 lines, as each is written.
pub(crate) fn private_key(r: &mut Rng, kind: &str, indent: &str) -> String {
    let block = if kind == "PGP " { " BLOCK" } else { "" };
    let mut s = format!("{indent}-----BEGIN {kind}PRIVATE {}{block}-----\n", "KEY");
    if kind == "PGP " {
        s.push_str(&format!("{indent}Version: GnuPG v2\n{indent}\n"));
    }
    let body = if kind == "OPENSSH " {
        // openssh-key-v1, cipher "none".
        let mut raw = b"openssh-key-v1\0\0\0\0\x04none\0\0\0\x04none".to_vec();
        raw.extend((0..380).map(|_| r.below(256) as u8));
        b64(&raw)
    } else {
        let lines = 4 + r.below(12);
        r.b64(64 * lines)
    };
    for chunk in body
        .as_bytes()
        .chunks(if kind == "OPENSSH " { 70 } else { 64 })
    {
        s.push_str(indent);
        s.push_str(std::str::from_utf8(chunk).unwrap());
        s.push('\n');
    }
    s.push_str(&format!(
        "{indent}-----END {kind}PRIVATE {}{block}-----\n",
        "KEY"
    ));
    s
}

/// The same key as a JSON string (`\n` escapes), one line.
pub(crate) fn private_key_escaped(r: &mut Rng) -> String {
    private_key(r, "", "").replace('\n', "\\n")
}
