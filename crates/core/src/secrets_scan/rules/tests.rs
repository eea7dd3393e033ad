use super::*;

/// Every detector's pattern compiles and runs: a text with every keyword triggers them all.
#[test]
fn every_detector_runs() {
    let all: String = detectors()
        .iter()
        .flat_map(|d| d.keywords.iter())
        .map(|k| format!("{k}\n"))
        .collect();
    assert!(triggered(&all).iter().all(|on| *on));
    let mut out = Vec::new();
    findings(&all, Syntax::Env, &mut out);
    // Keywords alone are not findings.
    assert!(out.is_empty(), "{out:?}");
    // A text with none runs only the detectors without keywords.
    let on = triggered("apiVersion: v1\nkind: ConfigMap\n");
    let always: Vec<bool> = detectors().iter().map(|d| d.keywords.is_empty()).collect();
    assert_eq!(on, always);
}

fn found(path: &str, text: &str) -> Vec<(u32, &'static str)> {
    crate::secrets_scan::scan_blob(Syntax::of(path), text.as_bytes())
        .findings
        .into_iter()
        .map(|f| (f.line, f.rule.id()))
        .collect()
}

/// A private key is its block: found at its BEGIN line, one-line (JSON `\n` escapes) too; a key
/// that is encrypted, elided or a header alone is not one.
#[test]
fn private_keys_are_blocks() {
    let begin = |kind: &str| format!("-----BEGIN {kind}PRIVATE {}-----", "KEY");
    let end = |kind: &str| format!("-----END {kind}PRIVATE {}-----", "KEY");
    let body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj";
    let block = format!("{}\n{body}\n{body}\n{}\n", begin("RSA "), end("RSA "));
    assert_eq!(found("k.pem", &block), [(1, "private-key")]);
    let one_line = format!(
        "{{\"key\": \"{}\\n{body}\\n{}\\n\"}}\nother: line\n",
        begin(""),
        end("")
    );
    assert_eq!(found("k.json", &one_line), [(1, "private-key")]);
    for not_a_key in [
        format!("{}\n...\n{}\n", begin("RSA "), end("RSA ")),
        format!("{}\n<your key here>\n{}\n", begin(""), end("")),
        format!(
            "{}\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,AB12\n\n{body}\n{}\n",
            begin("RSA "),
            end("RSA ")
        ),
        format!("{}\n{body}\n{}\n", begin("ENCRYPTED "), end("ENCRYPTED ")),
        format!("see {} in the docs\n", begin("EC ")),
    ] {
        assert_eq!(found("k.pem", &not_a_key), [], "{not_a_key}");
    }
    // An OpenSSH key with a cipher is encrypted; with `none` it is not.
    let openssh = |cipher: &[u8]| {
        use base64::Engine;
        let mut raw = b"openssh-key-v1\0".to_vec();
        raw.extend((cipher.len() as u32).to_be_bytes());
        raw.extend(cipher);
        raw.extend([7u8; 120]);
        let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
        format!("{}\n{b64}\n{}\n", begin("OPENSSH "), end("OPENSSH "))
    };
    assert_eq!(found("id", &openssh(b"none")), [(1, "private-key")]);
    assert_eq!(found("id", &openssh(b"aes256-ctr")), []);
}

/// The AWS secret key: under its name, or a few lines from an id; not a hex digest beside an id,
/// nor AWS's documented example.
#[test]
fn aws_pairs() {
    let id = concat!("AKIA", "Q3VZ7RKJ2MPLN4TW");
    let secret = concat!("h5Zk/8QwP1v", "Ls3Rt+9Xy2Ab4Cd6Ef7Gh8Ij0KlMn");
    assert_eq!(
        found("c.txt", &format!("{id}\nsomething\n{secret}\n")),
        [(1, "aws-access-key"), (3, "aws-secret-key")]
    );
    assert_eq!(
        found("c.txt", &format!("{secret}\n")),
        [],
        "a bare 40-character string is not known to be AWS's"
    );
    assert_eq!(
        found("c.sh", &format!("export AWS_SECRET_ACCESS_KEY={secret}\n")),
        [(1, "aws-secret-key")]
    );
    let sha = "3f786850e387550fdab836ed7e6dc881de23001b";
    assert_eq!(
        found("c.txt", &format!("{id}\n{sha}\n")),
        [(1, "aws-access-key")]
    );
    let example = concat!("wJalrXUtnFEMI/K7MDENG/bPxRfiCY", "EXAMPLEKEY");
    assert_eq!(
        found("c.txt", &format!("aws_secret_access_key = {example}\n")),
        []
    );
}

/// Connection strings: a `/` in the password, an empty user, JDBC and key=value forms; a port
/// and a path, references and placeholders are not passwords.
#[test]
fn connection_strings() {
    // Put together here, so that this file holds no connection string with a password.
    let pw = "Zq8RtW2mK";
    for (text, n) in [
        (format!("u: postgres://app:Ab3/{pw}@db:5432/app\n"), 1),
        (format!("u: redis://:{pw}@redis:6379/0\n"), 1),
        (
            format!("u: jdbc:postgresql://db/app?user=app&password={pw}\n"),
            1,
        ),
        (
            format!("u: Server=db;Database=app;User Id=app;Password={pw};\n"),
            1,
        ),
        (format!("u: host=db user=app password={pw} dbname=app\n"), 1),
        (
            "u: https://api.acme.io:8443/v1/users/ops@acme.io\n".into(),
            0,
        ),
        ("u: postgres://app:${DB_PASSWORD}@db/app\n".into(), 0),
        ("u: postgres://USER:PASSWORD@HOST/db\n".into(), 0),
        ("u: fmt.Sprintf(\"postgres://%s:%s@%s/app\")\n".into(), 0),
        ("u: postgres://{user}:{password}@db/app\n".into(), 0),
    ] {
        assert_eq!(found("a.txt", &text).len(), n, "{text}");
    }
}

/// `KEY=value` files are read as such by their names; a template is not one.
#[test]
fn env_files_by_name() {
    for (path, syntax) in [
        (".env", Syntax::Env),
        ("apps/.env.production", Syntax::Env),
        ("overlays/prod/secrets.env", Syntax::Env),
        ("application.properties", Syntax::Env),
        ("infra/main.tf", Syntax::Env),
        ("prod.tfvars", Syntax::Env),
        (".env.example", Syntax::Text),
        ("secrets.env.sample", Syntax::Text),
        ("values.yaml", Syntax::Yaml),
        ("README.md", Syntax::Text),
    ] {
        assert_eq!(Syntax::of(path), syntax, "{path}");
    }
    let env = "# db\nexport DB_PASSWORD='Harbor!maple123' # prod\nDB_PASSWORD_FILE=/run/secrets/db\nAPI_TOKEN=${TOKEN}\nSECRET=changeme\nTOKEN_TTL=3600\n";
    assert_eq!(found(".env", env), [(2, "env-file")]);
    assert_eq!(found("notes.txt", env), []);
}

/// JWTs: signed ones, not `alg: none` nor jwt.io's sample.
#[test]
fn jwts() {
    use base64::Engine;
    let e = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let sig = "Qm9vdHN0cmFwVG9rZW5TaWduYXR1cmVYWVo1234";
    let signed = format!(
        "{}.{}.{sig}",
        e(r#"{"alg":"RS256"}"#),
        e(r#"{"sub":"system:serviceaccount:a:b"}"#)
    );
    assert_eq!(found("t.txt", &format!("token: {signed}\n")), [(1, "jwt")]);
    let none = format!(
        "{}.{}.{sig}",
        e(r#"{"alg":"none"}"#),
        e(r#"{"sub":"x12345678"}"#)
    );
    assert_eq!(found("t.txt", &format!("token: {none}\n")), []);
    let sample = format!(
        "{}.{}.{sig}",
        e(r#"{"alg":"HS256","typ":"JWT"}"#),
        e(r#"{"sub":"1234567890","name":"John Doe"}"#)
    );
    assert_eq!(found("t.txt", &format!("token: {sample}\n")), []);
}

/// Made-up tokens (documentation's `xxxx`, `0000`, `EXAMPLE`) are not findings; each format's
/// real shape is.
#[test]
fn made_up_tokens_are_not_findings() {
    let fake = [
        format!("gh{}_{}", "p", "x".repeat(36)),
        format!("AKIA{}", "IOSFODNN7EXAMPLE"),
        format!(
            "https://hooks.{}.com/services/T00000000/B00000000/{}",
            "slack",
            "X".repeat(24)
        ),
        format!("sk_{}_{}", "live", "0".repeat(24)),
        format!("hv{}.{}", "s", "EXAMPLEEXAMPLEEXAMPLEEXAMPLE"),
    ];
    for f in fake {
        assert_eq!(found("d.md", &format!("use {f} here\n")), [], "{f}");
    }
    let real = [
        (
            format!("gh{}_{}", "p", "Zq8RtW2mKv4Lp9Xy3Ab7Cd1Ef5Gh6Ij0KlMn"),
            "github-token",
        ),
        (
            format!("gl{}-{}", "pat", "Zq8RtW2mKv4Lp9Xy3Ab7"),
            "gitlab-token",
        ),
        (
            format!(
                "xox{}-{}-{}-{}",
                "b", "123456789012", "2345678901234", "Zq8RtW2mKv4Lp9Xy3Ab7Cd1E"
            ),
            "slack-token",
        ),
        (
            format!("sk_{}_{}", "live", "Zq8RtW2mKv4Lp9Xy3Ab7Cd1E"),
            "stripe-key",
        ),
        (
            format!("np{}_{}", "m", "Zq8RtW2mKv4Lp9Xy3Ab7Cd1Ef5Gh6Ij0KlMn"),
            "npm-token",
        ),
        (
            format!("AI{}{}", "za", "SyZq8RtW2mKv4Lp9Xy3Ab7Cd1Ef5Gh6Ij0K"),
            "gcp-api-key",
        ),
    ];
    for (t, rule) in real {
        assert_eq!(
            found("d.md", &format!("use {t} here\n")),
            [(1, rule)],
            "{t}"
        );
    }
}

/// A user and a group (`docker run -u 1000:1000`) are not a password; Terraform expressions are
/// not literals.
#[test]
fn commands_and_expressions() {
    assert_eq!(
        found(
            "run.sh",
            "docker run -u 1000:1000 app\ndocker exec -u app:app x sh\n"
        ),
        []
    );
    let pw = "Zq8RtW2mK";
    assert_eq!(
        found("run.sh", &format!("curl -u admin:{pw} https://x\n")),
        [(1, "cli-password")]
    );
    let tf = "resource \"x\" \"y\" {\n  password = var.db_password\n  secret = random_password.db.result\n  token = file(\"t.txt\")\n}\n";
    assert_eq!(found("main.tf", tf), []);
    assert_eq!(
        found("main.tf", &format!("password = \"{pw}\"\n")),
        [(1, "env-file")]
    );
}
