//! `kubectl vault scan` runs on CI with the repository's contents as input (issue 23): no
//! content crashes it, nothing it holds is skipped without saying so, no part of a value is
//! printed (keys included), and a history it did not see whole is said to be so.

use crate::scan::{commit, scan};
use crate::support::common::{stderr, stdout};
use git2::Repository;
use std::process::Output;

/// A Vault token built from pieces: no token-shaped literal in the source (this repository
/// scans itself).
fn token() -> String {
    format!("{}.{}", "hvs", "CAESIInputsTestTokenQ7mXk29Lpw4b")
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

/// `(rule, path)` of each finding.
fn found(v: &serde_json::Value) -> Vec<(String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The paths of a list of `{path, ...}` (`unread`, `unparsed`).
fn paths(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|x| x["path"].as_str().unwrap().to_string())
        .collect()
}

/// 23.5: 100 KB of nested YAML sequences (`- - - …`, 50,000 levels) overflowed the parser's
/// stack (exit 134), in the work tree or only in history. The nesting is bounded: the file is
/// reported as not parsed, and still scanned as text.
#[test]
fn deep_nesting_neither_crashes_the_scan_nor_hides_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    // A comment with a token (found as text), then the nesting.
    // (A credential-like key at the bottom: the YAML rules have something to look for.)
    let deep = format!("# {}\n{}password: x\n", token(), "- ".repeat(50_000));
    let c1 = commit(&repo, "master", None, 1, &[("old/deep.yaml", Some(&deep))]);
    commit(&repo, "master", Some(c1), 2, &[("old/deep.yaml", None)]);
    std::fs::write(dir.path().join("deep.yml"), &deep).unwrap();

    let out = scan(dir.path(), &["-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(
        found(&v),
        [
            ("vault-token".to_string(), "deep.yml".to_string()),
            ("vault-token".to_string(), "old/deep.yaml".to_string())
        ]
    );
    assert_eq!(paths(&v["unparsed"]), ["deep.yml", "old/deep.yaml"]);
    assert_eq!(v["unparsed"][0]["line"], 2);

    let out = scan(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(
            "not parsed as YAML (scanned as text): old/deep.yaml:2: nesting deeper than 64 levels"
        ),
        "{text}"
    );
    assert!(!text.contains(&token()), "{text}");
}

/// Commits `files` (byte paths and contents) on `master`, on top of `parent`.
fn commit_bytes(
    repo: &Repository,
    parent: Option<git2::Oid>,
    n: i64,
    files: &[(&[u8], &[u8])],
) -> git2::Oid {
    let sig =
        git2::Signature::new("Planter", "planter@example.com", &git2::Time::new(n, 0)).unwrap();
    let parent = parent.map(|p| repo.find_commit(p).unwrap());
    let base = match &parent {
        Some(p) => p.tree().unwrap(),
        None => repo
            .find_tree(repo.treebuilder(None).unwrap().write().unwrap())
            .unwrap(),
    };
    let mut b = git2::build::TreeUpdateBuilder::new();
    for (path, content) in files {
        b.upsert(*path, repo.blob(content).unwrap(), git2::FileMode::Blob);
    }
    let tree = repo
        .find_tree(b.create_updated(repo, &base).unwrap())
        .unwrap();
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(
        Some("refs/heads/master"),
        &sig,
        &sig,
        &format!("change {n}"),
        &tree,
        &parents,
    )
    .unwrap()
}

fn secret_yaml(name: &str, key: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: shop\nstringData:\n  {key}: {value}\n"
    )
}

/// 23.6: a content is judged under every path it is held at. A byte-identical copy of a
/// Secret at a path that is not YAML (`0-notes.txt`, sorting first) used to be the only path
/// the content was scanned under, and the Secret's own finding was lost.
#[test]
fn a_content_is_judged_at_every_path_it_is_held_at() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let s = secret_yaml("db", "password", "Copied-Secret-Value-1");
    commit_bytes(
        &repo,
        None,
        1,
        &[
            (b"0-notes.txt", s.as_bytes()),
            (b"apps/db-secret.yaml", s.as_bytes()),
        ],
    );
    // The same in the work tree (untracked, so not in the object database): judged per path too.
    let w = secret_yaml("local", "token", "Copied-Secret-Value-2");
    std::fs::write(dir.path().join("0-copy.txt"), &w).unwrap();
    std::fs::write(dir.path().join("local.yaml"), &w).unwrap();
    let out = scan(dir.path(), &["-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        found(&json(&out)),
        [
            (
                "kubernetes-secret".to_string(),
                "apps/db-secret.yaml".to_string()
            ),
            ("kubernetes-secret".to_string(), "local.yaml".to_string()),
        ]
    );
}

/// 23.6: what used to be skipped silently while counted as scanned: names that are not UTF-8
/// (a folder and a file, in history and in the work tree), UTF-16 with a BOM (PowerShell's
/// `>`), a Latin-1 byte, a NUL byte.
#[test]
fn names_and_contents_that_are_not_utf8_are_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let line = format!("TOKEN={}\n", token());
    let mut utf16 = vec![0xff, 0xfe];
    for u in format!("# PowerShell\r\n{line}").encode_utf16() {
        utf16.extend(u.to_le_bytes());
    }
    let mut latin1 = b"# caf\xe9\n".to_vec();
    latin1.extend(line.as_bytes());
    let mut nul = line.as_bytes().to_vec();
    nul.extend(b"\0\x01\x02 binary tail\n");
    let c1 = commit_bytes(
        &repo,
        None,
        1,
        &[
            (b"caf\xe9/t\xf6ken.env", line.as_bytes()),
            (b"utf16.env", &utf16),
            (b"latin1.env", &latin1),
            (b"nul.bin", &nul),
        ],
    );
    // The history only: each content changed in the next commit.
    commit_bytes(
        &repo,
        Some(c1),
        2,
        &[
            (b"caf\xe9/t\xf6ken.env", b"gone\n"),
            (b"utf16.env", b"gone\n"),
            (b"latin1.env", b"gone\n"),
            (b"nul.bin", b"gone\n"),
        ],
    );
    // A work-tree file whose name is not UTF-8 (untracked), in a UTF-16 Secret manifest.
    let manifest = secret_yaml("ps", "password", "Utf16-Secret-Value");
    let mut utf16_yaml = vec![0xff, 0xfe];
    for u in manifest.encode_utf16() {
        utf16_yaml.extend(u.to_le_bytes());
    }
    use std::os::unix::ffi::OsStrExt;
    std::fs::write(
        dir.path()
            .join(std::ffi::OsStr::from_bytes(b"secr\xe8t.yaml")),
        &utf16_yaml,
    )
    .unwrap();

    let out = scan(dir.path(), &["-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json(&out);
    let mut got = found(&v);
    got.sort();
    assert_eq!(
        got,
        [
            (
                "kubernetes-secret".to_string(),
                r"secr\xe8t.yaml".to_string()
            ),
            (
                "vault-token".to_string(),
                r"caf\xe9/t\xf6ken.env".to_string()
            ),
            ("vault-token".to_string(), "latin1.env".to_string()),
            ("vault-token".to_string(), "nul.bin".to_string()),
            ("vault-token".to_string(), "utf16.env".to_string()),
        ]
    );
    // The line is the line in the decoded text.
    let utf = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "utf16.env")
        .unwrap();
    assert_eq!(utf["line"], 2);
    assert!(!stdout(&out).contains(&token()));
}

/// 23.6: what cannot be read is named and counted (table and JSON) and fails the run unless
/// `--exit-zero`: a file over 1 MiB (in the work tree, and only in history), a blob missing
/// from the object database (as in a partial clone). Files over 1 MiB used to be skipped with
/// exit 0; a missing blob stopped the whole scan (exit 3).
#[test]
fn what_cannot_be_read_is_named_and_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let big = "# padding line, no secret here\n".repeat(40_000);
    let c1 = commit_bytes(
        &repo,
        None,
        1,
        &[
            (b"history/big.log", big.as_bytes()),
            (b"lost.yaml", b"kind: ConfigMap\n"),
        ],
    );
    commit_bytes(
        &repo,
        Some(c1),
        2,
        &[
            (b"history/big.log", b"small\n"),
            (b"lost.yaml", b"kind: Other\n"),
        ],
    );
    // Remove one blob from the object database (a partial clone has none of the old ones).
    let lost = repo.blob(b"kind: ConfigMap\n").unwrap().to_string();
    std::fs::remove_file(
        dir.path()
            .join(".git/objects")
            .join(&lost[..2])
            .join(&lost[2..]),
    )
    .unwrap();
    std::fs::write(dir.path().join("big.txt"), &big).unwrap();

    let out = scan(dir.path(), &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(text.starts_with("0 findings"), "{text}");
    assert!(text.contains(", 3 files not read"), "{text}");
    assert!(text.contains("not read: big.txt: over 1 MiB\n"), "{text}");
    assert!(
        text.contains("not read: history/big.log: over 1 MiB\n"),
        "{text}"
    );
    assert!(
        text.contains("not read: lost.yaml: not in the object database"),
        "{text}"
    );

    let out = scan(dir.path(), &["-o", "json", "--exit-code"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(
        paths(&v["unread"]),
        ["big.txt", "history/big.log", "lost.yaml"]
    );
    assert_eq!(v["scanned"]["unread"], 3);

    let out = scan(dir.path(), &["--exit-zero"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// 23.7: a token that is the key of its line (a YAML key, an `AKIA…:secret` line, a Secret's
/// data key) used to be printed in full in the KEY column and in JSON. No part of a detected
/// value is printed, keys included: such a key is shown as a placeholder.
#[test]
fn a_token_that_is_a_key_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let vault = [
        format!("{}.{}", "hvs", "CAESIKeyOfItsLineR8kTq2Wz1"),
        format!("{}.{}", "hvs", "CAESIKeyOfItsLineM3vPx7Jd2"),
        format!("{}.{}", "hvs", "CAESIKeyOfItsLineH5nYc9Fb3"),
    ];
    let aws = format!("{}{}", "AKIA", "KEYOFITSLINE0001");
    let tokens_yaml = format!(
        "tokens:\n  {}: admin\ninline: {{{}: admin}}\n",
        vault[0], vault[1]
    );
    let creds = format!("{aws}:not-shown-either\n");
    let secret = secret_yaml("api", &vault[2], "Value-Under-A-Token-Key");
    let same = secret_yaml("same", "Key-Equal-To-Value", "Key-Equal-To-Value");
    commit_bytes(
        &repo,
        None,
        1,
        &[
            (b"tokens.yaml", tokens_yaml.as_bytes()),
            (b"creds.txt", creds.as_bytes()),
            (b"secret.yaml", secret.as_bytes()),
            (b"same.yaml", same.as_bytes()),
        ],
    );
    for args in [&[][..], &["-o", "json"][..]] {
        let out = scan(dir.path(), args);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let all = format!("{}{}", stdout(&out), stderr(&out));
        for v in vault.iter().chain([&aws]) {
            assert!(!all.contains(v.as_str()), "a token was printed: {all}");
            assert!(
                !all.contains(&v[4..16]),
                "part of a token was printed: {all}"
            );
        }
        assert!(!all.contains("Key-Equal-To-Value"), "{all}");
        assert!(all.contains("<redacted: vault-token>"), "{all}");
        assert!(all.contains("<redacted: aws-access-key>"), "{all}");
        assert!(all.contains("<redacted: kubernetes-secret>"), "{all}");
    }
    let v = json(&scan(dir.path(), &["-o", "json"]));
    let mut keys: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["key"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            ("creds.txt", "<redacted: aws-access-key>"),
            ("same.yaml", "<redacted: kubernetes-secret>"),
            ("secret.yaml", "<redacted: vault-token>"),
            ("tokens.yaml", "<redacted: vault-token>"),
            ("tokens.yaml", "inline"),
        ]
        .map(|(p, k)| (p.to_string(), k.to_string()))
    );
}

/// The real `git`, isolated from the developer's configuration; panics when it fails.
fn git(home: &std::path::Path, args: &[&str]) {
    let o = std::process::Command::new("git")
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "git {args:?}: {}", stderr(&o));
}

/// 23.8: a shallow clone (the default CI checkout) was scanned silently as if it were the whole
/// history. The report says it is shallow, names its boundary commits and how many parents were
/// not fetched, and the run fails unless `--allow-shallow` (or `--exit-zero`).
#[test]
fn a_shallow_history_is_said_and_fails_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let repo = Repository::init(&src).unwrap();
    repo.set_head("refs/heads/master").unwrap();
    let old = secret_yaml("db", "password", "Older-Than-The-Clone");
    let c1 = commit(&repo, "master", None, 1, &[("old-secret.yaml", Some(&old))]);
    let c2 = commit(&repo, "master", Some(c1), 2, &[("old-secret.yaml", None)]);
    let c3 = commit(
        &repo,
        "master",
        Some(c2),
        3,
        &[("README.md", Some("# x\n"))],
    );
    let clone = dir.path().join("clone");
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &format!("file://{}", src.display()),
            clone.to_str().unwrap(),
        ],
    );

    let out = scan(&clone, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    let short = &c3.to_string()[..12];
    assert!(
        text.contains(&format!(
            "history is shallow: it ends at 1 commit ({short}) whose 1 parent was not fetched"
        )),
        "{text}"
    );
    assert!(text.contains("--allow-shallow"), "{text}");

    let out = scan(&clone, &["-o", "json", "--exit-code"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["shallow"], true);
    assert_eq!(v["shallowBoundary"], serde_json::json!([c3.to_string()]));
    assert_eq!(v["shallowMissingParents"], 1);

    // Allowed: the run passes, and still says so.
    let out = scan(&clone, &["--allow-shallow"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("history is shallow"),
        "{}",
        stdout(&out)
    );
    assert_eq!(scan(&clone, &["--exit-zero"]).status.code(), Some(0));
    // The work tree alone does not look at the history.
    assert_eq!(scan(&clone, &["--no-history"]).status.code(), Some(0));

    // The whole history: not shallow, and the old Secret is found.
    let out = scan(&src, &["-o", "json"]);
    let v = json(&out);
    assert_eq!(v["shallow"], false);
    assert_eq!(
        found(&v),
        [(
            "kubernetes-secret".to_string(),
            "old-secret.yaml".to_string()
        )]
    );
}
