use super::values::is_credential_key;
use super::*;

/// The content read as its path says.
fn scan(path: &str, bytes: &[u8]) -> Scanned {
    scan_blob(Syntax::of(path), bytes)
}

fn rules(path: &str, text: &str) -> Vec<(u32, &'static str, String)> {
    scan(path, text.as_bytes())
        .findings
        .into_iter()
        .map(|f| (f.line, f.rule.id(), f.key))
        .collect()
}

#[test]
fn secret_data_and_string_data() {
    let y = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\ndata:\n  password: aHVudGVyMg==\n  empty: \"\"\nstringData:\n  user: admin\n  ref: ${DB_USER}\n";
    assert_eq!(
        rules("a.yaml", y),
        vec![
            (7, "kubernetes-secret", "password".into()),
            (10, "kubernetes-secret", "user".into())
        ]
    );
    let f = scan("a.yaml", y.as_bytes()).findings;
    assert_eq!(f[0].object.as_deref(), Some("shop/db"));
    // data (base64) and stringData of the same value share a fingerprint.
    let s =
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: hunter2\n";
    assert_eq!(
        scan("b.yml", s.as_bytes()).findings[0].fingerprint,
        f[0].fingerprint
    );
}

#[test]
fn kustomize_literals() {
    let k = "secretGenerator:\n  - name: db\n    literals:\n      - password=S3cret\n      - user=${USER}\n";
    assert_eq!(
        rules("kustomization.yaml", k),
        vec![(4, "kubernetes-secret", "password".into())]
    );
    let f = scan("k.yaml", k.as_bytes()).findings;
    // The same value as a Secret's stringData: one fingerprint.
    let s = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: S3cret\n";
    assert_eq!(
        scan("s.yaml", s.as_bytes()).findings[0].fingerprint,
        f[0].fingerprint
    );
}

#[test]
fn false_friends() {
    let empty = "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\ndata: {}\n";
    assert!(rules("e.yaml", empty).is_empty());
    let vss = "apiVersion: secrets.hashicorp.com/v1beta1\nkind: VaultStaticSecret\nmetadata:\n  name: app-secret\nspec:\n  vaultAuthRef: webapp\n  type: kv-v2\n  mount: kvv2\n  path: webapp/config\n  destination:\n    name: app-secret\n    create: true\n";
    assert!(rules("v.yaml", vss).is_empty());
    let tmpl = "db:\n  password: \"{{ .Values.password }}\"\n  url: postgresql://{{username}}:{{password}}@db:5432/x\n  passwordFrom: env:DB_PASSWORD\n  apiToken: ${TOKEN}\n";
    assert!(rules("t.yaml", tmpl).is_empty());
    let sops = "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData:\n  password: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:x]\n  version: 3.9.0\n";
    assert!(rules("s.yaml", sops).is_empty());
}

#[test]
fn sops_plaintext() {
    let sops = "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData:\n  password: ENC[AES256_GCM,data:abc]\n  apiKey: plaintext-added-later\nsops:\n  version: 3.9.0\n";
    assert_eq!(
        rules("s.yaml", sops),
        vec![(6, "sops-unencrypted", "apiKey".into())]
    );
    let plain = "db:\n  host: ENC[AES256_GCM,data:abc]\n  user: bob\nsops: {version: 3.9.0}\n";
    assert_eq!(
        rules("p.yaml", plain),
        vec![(3, "sops-unencrypted", "user".into())]
    );
}

#[test]
fn tokens_and_entropy() {
    // Token and key markers split in the source: no token- or key-shaped string is committed.
    let t = concat!(
        "vault_token: hv",
        "s.CAESIJ7q3xYbFzA0mEwO9lTqkTz1\naws: AKIA",
        "Q3VZ7RKJ2MPLN4TW\n",
        "dsn: postgres://app:S3cr3tPw@db:5432/app\nclientSecret: 9f8a7b6c5d4e3f2a1b0c\n",
        "low: changeme\npassword: changeme\nkey: |\n  -----BEGIN RSA PRIVATE",
        " KEY-----\n  MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n",
        "  -----END RSA PRIVATE KEY-----\n"
    );
    assert_eq!(
        rules("c.yaml", t),
        vec![
            (1, "vault-token", "vault_token".into()),
            (2, "aws-access-key", "aws".into()),
            (3, "connection-string", "dsn".into()),
            (4, "high-entropy", "clientSecret".into()),
            (8, "private-key", "pem".into()),
        ]
    );
    // Outside YAML only the token formats.
    assert_eq!(
        rules(
            "x.env",
            concat!("TOKEN=hv", "s.CAESIJ7q3xYbFzA0mEwO9lTqkTz1\n")
        )
        .len(),
        1
    );
    // A NUL does not make a file unreadable (23.6).
    assert_eq!(rules("bin", concat!("AKIA", "Q3VZ7RKJ2MPLN4TW\0")).len(), 1);
    // AWS's documented example key is not a finding.
    assert!(rules("doc.md", concat!("AKIA", "IOSFODNN7EXAMPLE\n")).is_empty());
    assert!(!is_credential_key("secretName"));
    // A Secret's name under a `…Secret` key (the Helm charts' convention) is not a secret.
    assert_eq!(
        rules(
            "v.yaml",
            "caCertSecret: unsealer-ca\nclientSecret: 9f8a7b-6c5d4e\n"
        ),
        vec![(2, "high-entropy", "clientSecret".into())]
    );
    assert!(is_credential_key("DB_PASSWORD"));
}

#[test]
fn fingerprint_holds_no_value_and_is_stable() {
    let a = fingerprint(Rule::KubernetesSecret, "password", b"hunter2");
    assert!(is_fingerprint(&a));
    assert_eq!(
        a,
        fingerprint(Rule::KubernetesSecret, "password", b"hunter2")
    );
    assert_ne!(
        a,
        fingerprint(Rule::KubernetesSecret, "password", b"hunter3")
    );
    let moved = "\n\napiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: hunter2\n";
    assert_eq!(
        scan("other/path.yaml", moved.as_bytes()).findings[0].fingerprint,
        a
    );
}

/// 23.5: nesting is bounded (the parser used to recurse once per level and overflow the
/// stack): what lies deeper is skipped and reported, the rest of the file is still read.
#[test]
fn nesting_is_bounded_and_reported() {
    // A credential-like key at the bottom: the YAML rules have something to look for.
    let block = format!("{}password: x\n", "- ".repeat(50_000));
    let s = scan("deep.yaml", block.as_bytes());
    assert_eq!(
        s.unparsed,
        Some(Unparsed {
            line: 1,
            reason: "nesting deeper than 64 levels".into()
        })
    );
    // Flow nesting stops the parser at 255 levels: reported too.
    let flow = format!("a: 1\ntoken: {}\n", "[".repeat(50_000));
    assert_eq!(
        scan("deep.json", flow.as_bytes()).unparsed.map(|u| u.line),
        Some(2)
    );
    // 65 levels beside a Secret's data: the data is found, the depth reported.
    let mut nested = String::from("apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: hunter2\nx:\n");
    for i in 1..=65 {
        nested.push_str(&format!("{}- \n", "  ".repeat(i)));
    }
    let s = scan("n.yaml", nested.as_bytes());
    assert_eq!(
        rules("n.yaml", &nested),
        vec![(5, "kubernetes-secret", "password".into())]
    );
    assert!(s.unparsed.is_some());
    // Not YAML by its name: not parsed, nothing to report.
    assert_eq!(scan("deep.txt", block.as_bytes()).unparsed, None);
    // Nothing the YAML rules look for (no Secret, generator, SOPS block or credential-like
    // key): not parsed, however deep, and nothing hidden.
    let plain = format!("{}x\n", "- ".repeat(50_000));
    assert_eq!(scan("deep.yaml", plain.as_bytes()).unparsed, None);
}

/// The YAML rules run on a text only when it names what they look for; the check reads keys
/// in block and flow mappings and JSON alike.
#[test]
fn yaml_is_parsed_only_when_it_may_hold_something() {
    for (text, parsed) in [
        ("kind: Deployment\nenv:\n  - name: DB_PASSWORD\n    valueFrom: {secretKeyRef: {name: db, key: password}}\n", false),
        ("image: app:1.0\nreplicas: 2\n", false),
        ("db:\n  password: x\n", true),
        ("{\"a\": {\"apiKey\": \"x\"}}\n", true),
        ("a: {b: 1, client-secret: x}\n", true),
        ("kind: Secret\n", true),
        ("secretGenerator: []\n", true),
        ("sops: {}\n", true),
    ] {
        assert_eq!(yaml::may_hold(text), parsed, "{text}");
    }
}

/// 23.6: `kubectl get secrets -o yaml` writes a `List` of Secrets (and the API a `SecretList`
/// whose items name no kind): each item is a Secret, not a guess of the entropy rule.
#[test]
fn list_items_are_secrets() {
    let list = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: db\n    namespace: shop\n  data:\n    password: aHVudGVyMg==\n    port: NTQzMg==\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: cm}\n  data: {password: hunter2}\nmetadata:\n  resourceVersion: \"\"\n";
    assert_eq!(
        rules("secrets.yaml", list),
        vec![
            (10, "kubernetes-secret", "password".into()),
            (11, "kubernetes-secret", "port".into())
        ]
    );
    let f = scan("secrets.yaml", list.as_bytes()).findings;
    assert_eq!(f[0].object.as_deref(), Some("shop/db"));
    // The same value as a Secret of its own: one fingerprint.
    let one =
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: hunter2\n";
    assert_eq!(
        scan("s.yaml", one.as_bytes()).findings[0].fingerprint,
        f[0].fingerprint
    );
    let raw = r#"{"apiVersion": "v1", "kind": "SecretList", "items": [{"metadata": {"name": "x"}, "data": {"token": "aHVudGVyMg=="}}]}"#;
    assert_eq!(
        rules("raw.json", raw),
        vec![(1, "kubernetes-secret", "token".into())]
    );
}

/// 23.6: each document of a stream is read on its own: a broken one loses only itself (and
/// keeps what was read before its error).
#[test]
fn a_broken_document_does_not_hide_the_others() {
    let s = "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringData:\n  password: first-one\n  broken: [unclosed\n---\nkey: {{ template }} more: x: y\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\nstringData:\n  password: second-one\n";
    assert_eq!(
        rules("multi.yaml", s),
        vec![
            (5, "kubernetes-secret", "password".into()),
            (14, "kubernetes-secret", "password".into())
        ]
    );
    // `---` inside a line, or followed by text, is not a marker.
    let docs = yaml::documents("a: x---\n--- b\n---x: 1\n...\n---\n");
    assert_eq!(
        docs,
        [(0, "a: x---\n"), (1, "--- b\n---x: 1\n...\n"), (4, "---\n")]
    );
}

/// 23.6: contents that are not UTF-8 are text too: UTF-16 and UTF-32 with a BOM decoded,
/// anything else read with its invalid bytes replaced. Lines are the file's.
#[test]
fn every_encoding_is_text() {
    let secret =
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: hunter2\n";
    let utf8 = scan("s.yaml", secret.as_bytes()).findings;
    let encode16 = |be: bool| {
        let mut v = if be {
            vec![0xfe, 0xff]
        } else {
            vec![0xff, 0xfe]
        };
        for u in secret.encode_utf16() {
            v.extend(if be { u.to_be_bytes() } else { u.to_le_bytes() });
        }
        v
    };
    let encode32 = |be: bool| {
        let mut v = if be {
            vec![0, 0, 0xfe, 0xff]
        } else {
            vec![0xff, 0xfe, 0, 0]
        };
        for c in secret.chars() {
            v.extend(if be {
                (c as u32).to_be_bytes()
            } else {
                (c as u32).to_le_bytes()
            });
        }
        v
    };
    for bytes in [
        encode16(false),
        encode16(true),
        encode32(false),
        encode32(true),
    ] {
        assert_eq!(scan("s.yaml", &bytes).findings, utf8);
    }
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend(secret.as_bytes());
    assert_eq!(scan("s.yaml", &bom).findings, utf8);
    // A Latin-1 byte and a NUL: the token formats still found, on their line.
    let token = concat!("hv", "s.CAESIJ7q3xYbFzA0mEwO9lTqkTz1");
    let latin1 = [b"caf\xe9 \0\n".as_slice(), token.as_bytes()].concat();
    assert_eq!(rules_of(&latin1), vec![(2, "vault-token")]);
    // An odd UTF-16 tail does not lose the rest.
    let mut odd = vec![0xff, 0xfe];
    for u in format!("x: {token}\n").encode_utf16() {
        odd.extend(u.to_le_bytes());
    }
    odd.push(b'x');
    assert_eq!(rules_of(&odd), vec![(1, "vault-token")]);
}

fn rules_of(bytes: &[u8]) -> Vec<(u32, &'static str)> {
    scan("f.txt", bytes)
        .findings
        .into_iter()
        .map(|f| (f.line, f.rule.id()))
        .collect()
}

#[test]
fn paths_are_shown_one_to_one() {
    assert_eq!(shown_path(b"apps/db.yaml"), "apps/db.yaml");
    assert_eq!(shown_path(b"caf\xc3\xa9/t\xf6ken"), r"café/t\xf6ken");
    assert_eq!(shown_path(b"a\\xf6"), r"a\\xf6");
    assert_eq!(shown_path(b"evil\x1b[2J\nname"), r"evil\x1b[2J\x0aname");
    assert_eq!(
        shown_path("rtl\u{202e}txt.exe".as_bytes()),
        r"rtl\u{202e}txt.exe"
    );
}

/// 23.7: no part of a detected value is shown, keys included.
#[test]
fn keys_holding_a_value_are_redacted() {
    let token = concat!("hv", "s.CAESIJ7q3xYbFzA0mEwO9lTqkTz1");
    let aws = concat!("AKIA", "Q3VZ7RKJ2MPLN4TW");
    let keys = |path: &str, text: &str| -> Vec<(u32, String)> {
        scan(path, text.as_bytes())
            .findings
            .into_iter()
            .map(|f| (f.line, f.key))
            .collect()
    };
    let y = format!("tokens:\n  {token}: admin\nother: {{{token}: admin}}\n");
    assert_eq!(
        keys("t.yaml", &y),
        vec![(2, "<redacted: vault-token>".into()), (3, "other".into())]
    );
    assert_eq!(
        keys("c.txt", &format!("{aws}:secret\n")),
        vec![(1, "<redacted: aws-access-key>".into())]
    );
    let s = format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: {aws}}}\nstringData:\n  {token}: v4lue\n  user: user\n  admin-password: admin\n  pw: hunter2\n");
    let f = scan("s.yaml", s.as_bytes()).findings;
    let aws_name = Some("<redacted: aws-access-key>".to_string());
    let shown: Vec<(u32, String, Option<String>)> = f
        .iter()
        .map(|f| (f.line, f.key.clone(), f.object.clone()))
        .collect();
    assert_eq!(
        shown,
        [
            // The name holds a token: found as one, on its line.
            (3, "metadata".into(), None),
            (5, "<redacted: vault-token>".into(), aws_name.clone()),
            (6, "<redacted: kubernetes-secret>".into(), aws_name.clone()),
            (7, "<redacted: kubernetes-secret>".into(), aws_name.clone()),
            (8, "pw".into(), aws_name),
        ]
    );
    // The fingerprint is the key's, not the placeholder's: allow-lists keep working.
    assert_eq!(
        f[4].fingerprint,
        fingerprint(Rule::KubernetesSecret, "pw", b"hunter2")
    );
    // Control characters in a key are escaped.
    let esc = "db:\n  \"\\e[2Jpassword\": S3cr3t-Pa55w0rd\n";
    assert_eq!(
        keys("e.yaml", esc),
        vec![(2, "\\u{001b}[2Jpassword".into())]
    );
}
