//! Allow-lists teams can live with: an entry may carry a reason and an expiry date (an expired
//! entry allows nothing, is reported, and fails the run), the first format (bare fingerprints)
//! still reads, and `--baseline FILE` writes every current finding as an allow-list — never a
//! value, never over an existing file without `--force`, never half written.

use crate::scan::{assert_no_value, planted, scan, PLANTED};
use crate::support::common::{redactions, stderr, stdout};
use serde_json::Value;

fn json(o: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

fn fingerprints(v: &Value) -> Vec<(String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["key"].as_str().unwrap().to_string(),
                x["fingerprint"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn reasons_and_expiry_dates() {
    let f = planted();
    let all = fingerprints(&json(&scan(&f.path, &["-o", "json"])));
    let fp = |key: &str| all.iter().find(|(k, _)| k == key).unwrap().1.clone();
    let (user, token) = (fp("username"), fp("apiToken"));
    let allow = f.path.join(".kubectl-vault-allow");
    std::fs::write(
        &allow,
        format!(
            "# reviewed\n{user}  rule=kubernetes-secret  path=\"apps/shop/db-secret.yaml\"  reason=\"a user name, not a secret # really\"  expires=2999-12-31\n\
             {token}  expires=2001-02-03  reason=\"rotated; purge planned\"  # renewed once\n"
        ),
    )
    .unwrap();
    let out = scan(&f.path, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_no_value(&out);
    let text = stdout(&out);
    // The live entry allows; the expired one allows nothing and is named (never its reason).
    assert!(text.contains("8 findings"), "{text}");
    assert!(
        text.contains("; 1 allowed by the allow-list, 1 of its entries expired\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "allow-list: .kubectl-vault-allow:3: {token} expired on 2001-02-03; it allows nothing now\n"
        )),
        "{text}"
    );
    assert!(!text.contains("rotated"), "{text}");
    redactions(&[(&f.path, "repo")]).bind(|| insta::assert_snapshot!("expired", text));
    let v = json(&scan(&f.path, &["-o", "json"]));
    assert_eq!(
        v["expiredAllowEntries"],
        serde_json::json!([{"file": ".kubectl-vault-allow", "line": 3, "fingerprint": token, "expires": "2001-02-03"}])
    );
    // An expired entry fails the run even when every finding is allowed otherwise.
    let rest: String = all
        .iter()
        .filter(|(k, _)| k != "apiToken")
        .map(|(_, f)| format!("{f}\n"))
        .collect();
    std::fs::write(&allow, format!("{rest}{token} expires=2001-02-03\n")).unwrap();
    let out = scan(&f.path, &["-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    assert_eq!(scan(&f.path, &["--exit-zero"]).status.code(), Some(0));
    // Renewed: exit 0.
    std::fs::write(&allow, format!("{rest}{token} expires=2999-01-01\n")).unwrap();
    let out = scan(&f.path, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    // What is wrong is named by file and line, never echoed.
    for (line, said) in [
        (
            format!("{token} expires=2027-02-30"),
            "expires is not a date (YYYY-MM-DD)",
        ),
        (format!("{token} owner=ops"), "an unknown field"),
        (
            format!("{token} reason=\"not closed"),
            "a quoted value is not closed",
        ),
        (
            format!("{token} reviewed"),
            "not `field=value` after the fingerprint",
        ),
        (
            format!("{token} reason=a reason=b"),
            "a field is given twice",
        ),
    ] {
        std::fs::write(&allow, format!("# ok\n{line}\n")).unwrap();
        let out = scan(&f.path, &["--no-history"]);
        assert_eq!(out.status.code(), Some(2), "{line}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(".kubectl-vault-allow:2: "), "{err}");
        assert!(err.contains(said), "{line}: {err}");
        assert!(
            !err.contains("owner") && !err.contains("not closed\""),
            "{err}"
        );
        if said.starts_with("an unknown") {
            let dirs = [(f.path.as_path(), "repo")];
            redactions(&dirs).bind(|| insta::assert_snapshot!("allow_unknown_field", err));
        }
    }
}

#[test]
fn a_baseline_allows_every_current_finding() {
    let f = planted();
    let file = f.path.parent().unwrap().join("baseline.txt");
    let out = scan(&f.path, &["--baseline", file.to_str().unwrap()]);
    // The report is the next run's with the baseline as its allow-list: nothing left.
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_no_value(&out);
    let text = stdout(&out);
    assert!(text.contains("0 findings"), "{text}");
    assert!(text.contains("; 9 allowed by the allow-list\n"), "{text}");
    assert!(
        text.contains("baseline: 9 fingerprints written to "),
        "{text}"
    );
    let dirs = [(f.path.parent().unwrap(), "tmp")];
    redactions(&dirs).bind(|| insta::assert_snapshot!("baseline_report", text));
    let written = std::fs::read_to_string(&file).unwrap();
    for v in PLANTED {
        assert!(!written.contains(v), "a value in the baseline: {written}");
    }
    insta::with_settings!({filters => vec![(r"\d{4}-\d\d-\d\d", "[DATE]")]}, {
        insta::assert_snapshot!("baseline", written);
    });
    // It is an allow-list.
    let out = scan(&f.path, &["--allow", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    // Never over an existing file without --force; the file is left as it was.
    let out = scan(&f.path, &["--baseline", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the file exists; nothing was written"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("hint: pass --force"),
        "{}",
        stderr(&out)
    );
    redactions(&dirs).bind(|| insta::assert_snapshot!("baseline_exists", stderr(&out)));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), written);
    // A symbolic link is a file that exists too: never followed.
    let target = f.path.parent().unwrap().join("elsewhere.txt");
    std::fs::write(&target, "mine\n").unwrap();
    let link = f.path.parent().unwrap().join("link.txt");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = scan(&f.path, &["--baseline", link.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    // --force replaces (the link itself, not its target), and keeps the reasons and expiry
    // dates of the current allow-list's entries.
    let all = fingerprints(&json(&scan(&f.path, &["-o", "json"])));
    let token = &all.iter().find(|(k, _)| k == "apiToken").unwrap().1;
    std::fs::write(
        f.path.join(".kubectl-vault-allow"),
        format!("{token} expires=2999-06-30 reason=\"reviewed: a test token\"\n0123456789abcdef01234567 reason=\"stale\"\n"),
    )
    .unwrap();
    let out = scan(
        &f.path,
        &[
            "--baseline",
            link.to_str().unwrap(),
            "--force",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("baseline: 9 fingerprints written"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "mine\n");
    let replaced = std::fs::read_to_string(&link).unwrap();
    assert!(
        replaced.contains(&format!("{token}  rule=vault-token  path=\"config/app.yaml\"  expires=2999-06-30  reason=\"reviewed: a test token\"\n")),
        "{replaced}"
    );
    assert!(!replaced.contains("stale"), "{replaced}");
    // --force without --baseline is a usage error.
    assert_eq!(scan(&f.path, &["--force"]).status.code(), Some(2));
}
