//! `kubectl vault scan`: a real repository whose history adds, changes and deletes plaintext
//! Secrets on two branches, with false friends beside them; exactly the planted ones are found,
//! with their commits, and no planted value is ever printed.

use crate::support::common::{bin, stderr, stdout};
use git2::{Oid, Repository, Signature, Time};
use std::path::Path;
use std::process::Output;

/// The planted Vault token, split in the source so that no token-shaped string is committed
/// (secret scanners, this tool's own `scan` of this repository included, would flag it).
const PLANTED_TOKEN: &str = concat!("hv", "s.CAESIPlantedVaultTokenXyZ8q4W7n2K");
/// The planted AWS key pair, split in the source for the same reason.
const PLANTED_AWS_ID: &str = concat!("AKIA", "PLANTEDQ7W3X9K2Z");
const PLANTED_AWS_SECRET: &str = concat!("wJalrXUtnFEMI/K7MDENG", "/bPxRfiCYPLANTEDKEY");

/// Every planted value, in every form it is written (the base64 of `data` too).
pub(crate) const PLANTED: &[&str] = &[
    "Pl4nted-DB-Passw0rd!",
    "Pl4nted-DB-Passw0rd-v2",
    "planted_user",
    PLANTED_TOKEN,
    "Planted-Url-Pw",
    PLANTED_AWS_ID,
    PLANTED_AWS_SECRET,
    "Planted-Untracked-Value",
    "Planted-Sops-Plain",
];

pub(crate) fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn secret(name: &str, field: &str, entries: &[(&str, &str)]) -> String {
    let mut s = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: shop\ntype: Opaque\n{field}:\n"
    );
    for (k, v) in entries {
        s.push_str(&format!("  {k}: {v}\n"));
    }
    s
}

/// The generated VSO manifest (a false friend: names and paths, no value).
const VSO: &str = "apiVersion: secrets.hashicorp.com/v1beta1\nkind: VaultStaticSecret\nmetadata:\n  name: db\n  namespace: shop\nspec:\n  vaultAuthRef: shop\n  type: kv-v2\n  mount: kvv2\n  path: shop/db\n  destination:\n    name: db\n    create: true\n";
const EMPTY: &str =
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: empty\n  namespace: shop\ndata: {}\n";
const SOPS: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\n  namespace: shop\nstringData:\n  token: ENC[AES256_GCM,data:q8Uv1w==,iv:abc=,tag:def=,type:str]\n  password_ref: ${API_PASSWORD}\nsops:\n  mac: ENC[AES256_GCM,data:zz==,iv:a=,tag:b=,type:str]\n  lastmodified: \"2026-01-01T00:00:00Z\"\n  version: 3.9.0\n";

pub(crate) struct Fixture {
    _dir: tempfile::TempDir,
    pub(crate) path: std::path::PathBuf,
    pub(crate) commits: Vec<Oid>,
}

/// Commits `changes` (path → Some(content) or None to delete) on top of `parent` at `branch`.
pub(crate) fn commit(
    repo: &Repository,
    branch: &str,
    parent: Option<Oid>,
    n: i64,
    changes: &[(&str, Option<&str>)],
) -> Oid {
    let sig = Signature::new(
        "Planter",
        "planter@example.com",
        &Time::new(1_700_000_000 + n, 0),
    )
    .unwrap();
    let parent = parent.map(|p| repo.find_commit(p).unwrap());
    let mut builder = git2::build::TreeUpdateBuilder::new();
    for (path, content) in changes {
        match content {
            Some(c) => {
                let blob = repo.blob(c.as_bytes()).unwrap();
                builder.upsert(*path, blob, git2::FileMode::Blob);
            }
            None => {
                builder.remove(*path);
            }
        }
    }
    let base = match &parent {
        Some(p) => p.tree().unwrap(),
        None => repo
            .find_tree(repo.treebuilder(None).unwrap().write().unwrap())
            .unwrap(),
    };
    let tree = repo
        .find_tree(builder.create_updated(repo, &base).unwrap())
        .unwrap();
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(
        Some(&format!("refs/heads/{branch}")),
        &sig,
        &sig,
        &format!("change {n}"),
        &tree,
        &parents,
    )
    .unwrap()
}

pub(crate) fn planted() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fleet");
    let repo = Repository::init(&path).unwrap();
    repo.set_head("refs/heads/main").unwrap();
    let db1 = secret(
        "db",
        "stringData",
        &[
            ("password", "Pl4nted-DB-Passw0rd!"),
            ("username", "planted_user"),
        ],
    );
    let c1 = commit(
        &repo,
        "main",
        None,
        1,
        &[
            ("apps/shop/db-secret.yaml", Some(&db1)),
            ("apps/shop/vaultstaticsecret-db.yaml", Some(VSO)),
            ("apps/shop/empty-secret.yaml", Some(EMPTY)),
            ("secrets/api.sops.yaml", Some(SOPS)),
            ("README.md", Some("# fleet\n")),
        ],
    );
    let db2 = secret(
        "db",
        "data",
        &[
            ("password", &b64("Pl4nted-DB-Passw0rd-v2")),
            ("username", &b64("planted_user")),
        ],
    );
    let config = &format!("app:\n  apiToken: {PLANTED_TOKEN}\n  databaseUrl: postgres://app:Planted-Url-Pw@db.shop.svc:5432/app\n  templateUrl: postgres://{{{{username}}}}:{{{{password}}}}@db:5432/app\n  secretName: db\n");
    let c2 = commit(
        &repo,
        "main",
        Some(c1),
        2,
        &[
            ("apps/shop/db-secret.yaml", Some(&db2)),
            ("config/app.yaml", Some(config)),
        ],
    );
    let c3 = commit(
        &repo,
        "main",
        Some(c2),
        3,
        &[("apps/shop/db-secret.yaml", None)],
    );
    // A second branch, from the first commit: an AWS key pair, and a SOPS file edited by hand.
    let aws = format!("aws:\n  accessKeyId: {PLANTED_AWS_ID}\n  secretAccessKey: {PLANTED_AWS_SECRET}\n  region: eu-west-1\n");
    let sops_edited = SOPS.replace(
        "  password_ref: ${API_PASSWORD}\n",
        "  password_ref: ${API_PASSWORD}\n  extra: Planted-Sops-Plain\n",
    );
    let c4 = commit(
        &repo,
        "feature",
        Some(c1),
        4,
        &[
            ("apps/feature/aws.yaml", Some(&aws)),
            ("secrets/api.sops.yaml", Some(&sops_edited)),
        ],
    );
    // The work tree is main's, plus an untracked plaintext Secret.
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .unwrap();
    std::fs::create_dir_all(path.join("local")).unwrap();
    std::fs::write(
        path.join("local/dev-secret.yaml"),
        secret("dev", "data", &[("token", &b64("Planted-Untracked-Value"))]),
    )
    .unwrap();
    Fixture {
        _dir: dir,
        path,
        commits: vec![c1, c2, c3, c4],
    }
}

pub(crate) fn scan(repo: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("scan")
        .arg("--repo")
        .arg(repo)
        .args(extra)
        .output()
        .unwrap()
}

/// No planted value, nor its base64, in anything the run printed.
pub(crate) fn assert_no_value(o: &Output) {
    let all = format!("{}{}", stdout(o), stderr(o));
    for v in PLANTED {
        assert!(!all.contains(v), "a planted value was printed: {v}");
        assert!(
            !all.contains(&b64(v)),
            "a planted value was printed (base64): {v}"
        );
    }
}

#[test]
fn finds_exactly_the_planted_secrets_with_their_commits() {
    let f = planted();
    let out = scan(&f.path, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_no_value(&out);
    insta::assert_snapshot!("table", stdout(&out));

    let out = scan(&f.path, &["-o", "json", "--exit-code"]);
    assert_eq!(out.status.code(), Some(1));
    assert_no_value(&out);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let mut got: Vec<String> = findings
        .iter()
        .map(|x| {
            let commits: Vec<String> = x["commits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    let id = c.as_str().unwrap();
                    let i = f.commits.iter().position(|o| o.to_string() == id).unwrap();
                    format!("c{}", i + 1)
                })
                .collect();
            format!(
                "{} {} {} [{}] worktree={}",
                x["rule"].as_str().unwrap(),
                x["path"].as_str().unwrap(),
                x["key"].as_str().unwrap(),
                commits.join(","),
                x["inWorkTree"]
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            "aws-access-key apps/feature/aws.yaml accessKeyId [c4] worktree=false",
            "aws-secret-key apps/feature/aws.yaml secretAccessKey [c4] worktree=false",
            "connection-string config/app.yaml databaseUrl [c2] worktree=true",
            "kubernetes-secret apps/shop/db-secret.yaml password [c1] worktree=false",
            "kubernetes-secret apps/shop/db-secret.yaml password [c2] worktree=false",
            // The same username, base64 in c2: one finding, introduced by both commits.
            "kubernetes-secret apps/shop/db-secret.yaml username [c1,c2] worktree=false",
            "kubernetes-secret local/dev-secret.yaml token [] worktree=true",
            "sops-unencrypted secrets/api.sops.yaml extra [c4] worktree=false",
            "vault-token config/app.yaml apiToken [c2] worktree=true",
        ]
    );
    insta::assert_snapshot!("json", stdout(&out));
}

#[test]
fn the_allow_list_suppresses_reviewed_findings() {
    let f = planted();
    let out = scan(&f.path, &["-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let fingerprints: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["key"].as_str().unwrap().to_string(),
                x["fingerprint"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let username = &fingerprints
        .iter()
        .find(|(k, _)| k == "username")
        .unwrap()
        .1;
    // The default allow-list at the repository's root, with comments.
    std::fs::write(
        f.path.join(".kubectl-vault-allow"),
        format!("# reviewed 2026-11-23: a user name, not a secret\n{username}  # db username\n"),
    )
    .unwrap();
    let out = scan(&f.path, &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(!text.contains(username.as_str()), "{text}");
    assert!(text.contains("8 findings"), "{text}");
    assert!(text.contains("1 allowed by the allow-list"), "{text}");

    // Everything allowed (through --allow): exit 0.
    let all: String = fingerprints.iter().map(|(_, f)| format!("{f}\n")).collect();
    let allow = f.path.join("..").join("all-allowed.txt");
    std::fs::write(&allow, all).unwrap();
    let out = scan(&f.path, &["--allow", allow.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    insta::assert_snapshot!("all_allowed", stdout(&out));

    // --exit-zero reports without failing.
    let out = scan(&f.path, &["--exit-zero"]);
    assert_eq!(out.status.code(), Some(0));

    // A broken allow-list is a usage error naming file and line, never the line's content.
    std::fs::write(&allow, "# ok\nnot-a-fingerprint\n").unwrap();
    let out = scan(&f.path, &["--allow", allow.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("all-allowed.txt:2: not a scan fingerprint"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains("not-a-fingerprint"),
        "{}",
        stderr(&out)
    );
}

/// The committed allow-list is the repository's content, which scan runs on in CI: a symbolic
/// link (to a token file, /proc/self/environ) is refused without reading it, a FIFO does not
/// hang the scan, and nothing of what is there reaches the output.
#[test]
fn a_committed_allow_list_that_is_a_link_or_a_fifo_is_refused_unread() {
    let f = planted();
    let secret_file = f.path.parent().unwrap().join("token-file");
    // Split in the source, so that no token-shaped string is committed.
    let token = format!("{}.{}", "hvs", "CAESIJ-not-for-the-log-0123456789abcdef");
    std::fs::write(&secret_file, format!("{token}\n")).unwrap();
    let allow = f.path.join(".kubectl-vault-allow");
    std::os::unix::fs::symlink(&secret_file, &allow).unwrap();
    let out = scan(&f.path, &["--no-history"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is a symbolic link"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("CAESIJ") && !stdout(&out).contains("CAESIJ"));

    std::fs::remove_file(&allow).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(&allow)
        .status()
        .unwrap();
    assert!(status.success());
    let started = std::time::Instant::now();
    let out = scan(&f.path, &["--no-history"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not a regular file"),
        "{}",
        stderr(&out)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn work_tree_only_and_a_clean_repository() {
    let f = planted();
    let out = scan(&f.path, &["--no-history", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_no_value(&out);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let paths: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "config/app.yaml",
            "config/app.yaml",
            "local/dev-secret.yaml"
        ]
    );

    // Only false friends: nothing found, exit 0.
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    commit(
        &repo,
        "master",
        None,
        1,
        &[
            ("a/vss.yaml", Some(VSO)),
            ("a/empty.yaml", Some(EMPTY)),
            ("a/api.sops.yaml", Some(SOPS)),
        ],
    );
    let out = scan(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(
        stdout(&out),
        "0 findings (0 in the work tree, 0 only in history); 1 commit, 3 file contents scanned\n"
    );

    // A file over 1 MiB is not read: named and counted, and the run fails (23.6).
    let mut big = format!("{PLANTED_AWS_ID}\n").repeat(60_000);
    big.push('\n');
    std::fs::write(dir.path().join("big.txt"), big).unwrap();
    let out = scan(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains(", 1 file not read\nnot read: big.txt: over 1 MiB\n"),
        "{}",
        stdout(&out)
    );
    assert_no_value(&out);

    // Not a repository: exit 2.
    let out = scan(&dir.path().join(".git").join("objects"), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// The project passes its own scanner, history included: every finding in this repository is
/// reviewed and allow-listed in `.kubectl-vault-allow` (test values, documentation and
/// upstream examples). A checkout without its Git history (a source archive) is not scanned.
#[test]
fn this_repository_passes_its_own_scan_with_history() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    if !root.join(".git").exists() {
        return;
    }
    // A shallow checkout (CI's default in many systems) scans what it has, knowingly.
    let shallow = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--is-shallow-repository"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "true");
    let mut scan = bin();
    scan.args(["scan", "--repo"]).arg(root);
    if shallow {
        scan.arg("--allow-shallow");
    }
    let o = scan.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}
