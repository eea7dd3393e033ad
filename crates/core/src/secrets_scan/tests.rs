use super::yaml::is_credential_key;
use super::*;

fn rules(path: &str, text: &str) -> Vec<(u32, &'static str, String)> {
    scan_blob(path, text.as_bytes())
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
    let f = scan_blob("a.yaml", y.as_bytes()).findings;
    assert_eq!(f[0].object.as_deref(), Some("shop/db"));
    // data (base64) and stringData of the same value share a fingerprint.
    let s =
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: hunter2\n";
    assert_eq!(
        scan_blob("b.yml", s.as_bytes()).findings[0].fingerprint,
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
    let f = scan_blob("k.yaml", k.as_bytes()).findings;
    // The same value as a Secret's stringData: one fingerprint.
    let s = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: S3cret\n";
    assert_eq!(
        scan_blob("s.yaml", s.as_bytes()).findings[0].fingerprint,
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
        "s.CAESIJ7q3xYbFzA0mEwO9lTqkTz1\naws: AKIAIOSFODNN7EXAMPLE\n",
        "dsn: postgres://app:S3cr3tPw@db:5432/app\nclientSecret: 9f8a7b6c5d4e3f2a1b0c\n",
        "low: changeme\npassword: changeme\nkey: |\n  -----BEGIN RSA PRIVATE",
        " KEY-----\n  MIIBOgIBAAJBAK\n  -----END RSA PRIVATE KEY-----\n"
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
    assert!(rules("bin", "AKIAIOSFODNN7EXAMPLE\0").is_empty());
    assert!(!is_credential_key("secretName"));
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
        scan_blob("other/path.yaml", moved.as_bytes()).findings[0].fingerprint,
        a
    );
}

/// 23.5: nesting is bounded (the parser used to recurse once per level and overflow the
/// stack): what lies deeper is skipped and reported, the rest of the file is still read.
#[test]
fn nesting_is_bounded_and_reported() {
    let block = format!("{}x\n", "- ".repeat(50_000));
    let s = scan_blob("deep.yaml", block.as_bytes());
    assert_eq!(
        s.unparsed,
        Some(Unparsed {
            line: 1,
            reason: "nesting deeper than 64 levels".into()
        })
    );
    // Flow nesting stops the parser at 255 levels: reported too.
    let flow = format!("a: 1\nb: {}\n", "[".repeat(50_000));
    assert_eq!(
        scan_blob("deep.json", flow.as_bytes())
            .unparsed
            .map(|u| u.line),
        Some(2)
    );
    // 65 levels beside a Secret's data: the data is found, the depth reported.
    let mut nested = String::from("apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: hunter2\nx:\n");
    for i in 1..=65 {
        nested.push_str(&format!("{}- \n", "  ".repeat(i)));
    }
    let s = scan_blob("n.yaml", nested.as_bytes());
    assert_eq!(
        rules("n.yaml", &nested),
        vec![(5, "kubernetes-secret", "password".into())]
    );
    assert!(s.unparsed.is_some());
    // Not YAML by its name: not parsed, nothing to report.
    assert_eq!(scan_blob("deep.txt", block.as_bytes()).unparsed, None);
}
