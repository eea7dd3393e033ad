//! `kubectl vault import`: a live Secret read from the fake API server is written to the real
//! OpenBao with check-and-set, the spec file gains the entry (comments and layout kept), the
//! generated VaultStaticSecret adopts the Secret, and verify then sees it synced and owned.

use crate::support::cluster_state;
use crate::support::common::*;
use crate::support::fake_apiserver::FakeApiServer;
use crate::support::servers::Bao;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Output;

const PASSWORD: &str = "Live-Imported-Pa55word";
const API_KEY: &str = "live-api-key-0f9e8d7c";

const SPEC: &str = "# The payments stack.
apiVersion: kubectl-vault/v1alpha1
kind: VaultStack
cluster: dev
vault:
  chart:
    version: 0.30.0
operator:
  chart:
    version: 1.4.1

apps:
  - name: payments          # the payments API
    namespace: payments
    secrets:
      - name: payments-tls-config
        kv: secret/payments/tls   # already in Vault
        refreshAfter: 30s

  # reports is next
  - name: reports
    namespace: reports
";

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

struct Setup {
    bao: Bao,
    fake: FakeApiServer,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    spec: PathBuf,
}

fn setup() -> Option<Setup> {
    let bao = Bao::start()?;
    let fake = FakeApiServer::start();
    // The Secret as someone applied it by hand (or from Git): no owner, no VSO labels.
    fake.add(json!({
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": "payments-config", "namespace": "payments"},
        "data": {"password": b64(PASSWORD), "api_key": b64(API_KEY)},
    }));
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = fake.write_kubeconfig(dir.path(), "dev");
    let spec = dir.path().join("vault.yaml");
    std::fs::write(&spec, SPEC).unwrap();
    Some(Setup {
        bao,
        fake,
        dir,
        kubeconfig,
        spec,
    })
}

impl Setup {
    /// `kubectl vault ARGS --kubeconfig K`, with the test's OpenBao (root token).
    fn kubectl_vault(&self, args: &[&str]) -> Output {
        bin()
            .args(args)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .env_remove("KUBECONFIG")
            .env("VAULT_ADDR", &self.bao.addr)
            .env("VAULT_TOKEN", &self.bao.token)
            .output()
            .unwrap()
    }

    /// `import` of the hand-made Secret to `kv_path` (`--to kv:KV_PATH`) with `extra`.
    fn import_to(&self, kv_path: &str, extra: &[&str]) -> Output {
        let to = format!("kv:{kv_path}");
        let mut args = vec![
            "import",
            "-f",
            self.spec.to_str().unwrap(),
            "--from-secret",
            "payments/payments-config",
            "--to",
            &to,
        ];
        args.extend_from_slice(extra);
        self.kubectl_vault(&args)
    }

    fn import(&self, extra: &[&str]) -> Output {
        self.import_to("secret/payments/config", extra)
    }
    fn stable(&self) -> insta::Settings {
        redactions(&[(self.dir.path(), "TMP")])
    }
    fn kv(&self) -> serde_json::Value {
        let (status, v) = self.bao.api("GET", "secret/data/payments/config", None);
        assert_eq!(status, 200, "{v}");
        v["data"].clone()
    }
}

fn assert_no_value(o: &Output) {
    let all = format!("{}{}", stdout(o), stderr(o));
    for v in [PASSWORD, API_KEY] {
        assert!(!all.contains(v), "a value was printed: {all}");
        assert!(
            !all.contains(&b64(v)),
            "a value was printed (base64): {all}"
        );
    }
}

fn diff(old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .to_string()
}

#[test]
fn a_live_secret_moves_into_vault_and_behind_the_operator() {
    let Some(s) = setup() else { return };
    let o = s.import(&[]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_no_value(&o);
    let out = stdout(&o);
    s.stable()
        .bind(|| insta::assert_snapshot!("first_import", out));

    // Vault holds the keys, version 1 (created with cas=0).
    let kv = s.kv();
    assert_eq!(
        kv["data"],
        json!({"password": PASSWORD, "api_key": API_KEY})
    );
    assert_eq!(kv["metadata"]["version"], 1);

    // The spec gained exactly the entry, after the app's last secret; comments kept.
    let edited = std::fs::read_to_string(&s.spec).unwrap();
    assert!(!edited.contains(PASSWORD));
    insta::assert_snapshot!("spec_diff", diff(SPEC, &edited));

    // The generated VaultStaticSecret adopts the existing Secret.
    let vss = cluster_state::rendered_objects(&s.spec)
        .into_iter()
        .find(|o| o["kind"] == "VaultStaticSecret" && o["metadata"]["name"] == "payments-config")
        .expect("a VaultStaticSecret for the imported Secret");
    assert_eq!(vss["spec"]["destination"]["overwrite"], true);
    assert_eq!(vss["spec"]["destination"]["create"], true);
    assert_eq!(vss["spec"]["path"], "payments/config");
    let other = cluster_state::rendered_objects(&s.spec)
        .into_iter()
        .find(|o| {
            o["metadata"]["name"] == "payments-tls-config" && o["kind"] == "VaultStaticSecret"
        })
        .unwrap();
    assert!(other["spec"]["destination"].get("overwrite").is_none());

    // A second import refuses (exit 1): Vault and the spec stay as they are.
    let o = s.import(&[]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert_no_value(&o);
    let err = stderr(&o);
    s.stable()
        .bind(|| insta::assert_snapshot!("second_import_refused", err));
    assert_eq!(s.kv()["metadata"]["version"], 1);
    assert_eq!(std::fs::read_to_string(&s.spec).unwrap(), edited);

    // --force writes the next version (check-and-set on the current one); the spec is kept.
    let o = s.import(&["--force"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_no_value(&o);
    assert_eq!(s.kv()["metadata"]["version"], 2);
    assert_eq!(std::fs::read_to_string(&s.spec).unwrap(), edited);

    // VSO adopted the Secret: it is now owned by the VaultStaticSecret, and verify says synced.
    s.fake.remove("Secret", "payments", "payments-config");
    cluster_state::synced(&s.fake, &s.spec);
    let o = bin()
        .args(["verify", "-o", "json", "-f"])
        .arg(&s.spec)
        .arg("--kubeconfig")
        .arg(&s.kubeconfig)
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let row = report["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["secret"] == "payments-config")
        .expect("a row for the imported secret");
    assert_eq!(row["status"], "Synced", "{row}");

    // The GitOps repository still holds the old plaintext manifest: scan names it (and never
    // the values), so it can be removed and the history purged.
    let repo_dir = s.dir.path().join("fleet");
    let repo = git2::Repository::init(&repo_dir).unwrap();
    let manifest = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: payments-config\n  namespace: payments\ndata:\n  password: {}\n  api_key: {}\n",
        b64(PASSWORD),
        b64(API_KEY)
    );
    std::fs::create_dir_all(repo_dir.join("apps/payments")).unwrap();
    std::fs::write(repo_dir.join("apps/payments/secret.yaml"), manifest).unwrap();
    let mut index = repo.index().unwrap();
    index
        .add_path(Path::new("apps/payments/secret.yaml"))
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("t", "t@example.com").unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "secret", &tree, &[])
        .unwrap();
    let o = bin()
        .args(["scan", "-o", "json", "--repo"])
        .arg(&repo_dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_no_value(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let held: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {}",
                f["path"], f["secret"], f["key"], f["inWorkTree"]
            )
        })
        .collect();
    assert_eq!(
        held,
        [
            r#""apps/payments/secret.yaml" "payments/payments-config" "password" true"#,
            r#""apps/payments/secret.yaml" "payments/payments-config" "api_key" true"#,
        ]
    );
}

#[test]
fn refusals_change_nothing() {
    let Some(s) = setup() else { return };
    let run = |args: &[&str]| s.kubectl_vault(&[&["import"], args].concat());
    let spec = s.spec.to_str().unwrap();
    let cases: &[(&[&str], i32, &str)] = &[
        // No such Secret in the cluster.
        (
            &[
                "-f",
                spec,
                "--from-secret",
                "payments/nope",
                "--to",
                "kv:secret/x",
            ],
            2,
            "does not exist",
        ),
        // No app in that namespace.
        (
            &[
                "-f",
                spec,
                "--from-secret",
                "billing/payments-config",
                "--to",
                "kv:secret/x",
            ],
            2,
            "no app of the spec runs in namespace billing",
        ),
        // A name the spec already declares with another source.
        (
            &[
                "-f",
                spec,
                "--from-secret",
                "payments/payments-tls-config",
                "--to",
                "kv:secret/x",
            ],
            2,
            "already declares secret payments-tls-config",
        ),
        // Bad flags.
        (
            &[
                "-f",
                spec,
                "--from-secret",
                "payments",
                "--to",
                "kv:secret/x",
            ],
            2,
            "is not NAMESPACE/NAME",
        ),
        (
            &[
                "-f",
                spec,
                "--from-secret",
                "payments/payments-config",
                "--to",
                "secret/x",
            ],
            2,
            "is not kv:MOUNT/PATH",
        ),
    ];
    for (args, code, message) in cases {
        let o = run(args);
        assert_eq!(o.status.code(), Some(*code), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
        assert_no_value(&o);
    }
    assert_eq!(std::fs::read_to_string(&s.spec).unwrap(), SPEC);
    let (status, _) = s.bao.api("GET", "secret/data/x", None);
    assert_eq!(status, 404);
}

#[test]
fn a_layout_it_cannot_edit_gets_the_lines_to_add() {
    let Some(s) = setup() else { return };
    let flow = SPEC.replace(
        "    secrets:\n      - name: payments-tls-config\n        kv: secret/payments/tls   # already in Vault\n        refreshAfter: 30s\n",
        "    secrets: [{name: payments-tls-config, kv: secret/payments/tls}]\n",
    );
    std::fs::write(&s.spec, &flow).unwrap();
    let o = s.import(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_no_value(&o);
    assert_eq!(std::fs::read_to_string(&s.spec).unwrap(), flow);
    let out = stdout(&o);
    s.stable()
        .bind(|| insta::assert_snapshot!("lines_to_add", out));
}

#[test]
fn kv_version_1_refuses_an_existing_path_and_prints_the_long_form() {
    let Some(s) = setup() else { return };
    let (status, v) = s.bao.api(
        "POST",
        "sys/mounts/kv1",
        Some(json!({"type": "kv", "options": {"version": "1"}})),
    );
    assert!(status < 300, "{v}");
    let run = || s.import_to("kv1/payments/config", &["--kv-version", "1"]);
    let o = run();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_no_value(&o);
    let out = stdout(&o);
    s.stable().bind(|| insta::assert_snapshot!("kv_v1", out));
    let (_, v) = s.bao.api("GET", "kv1/payments/config", None);
    assert_eq!(v["data"], json!({"password": PASSWORD, "api_key": API_KEY}));
    // The spec is left alone (the long form is printed), and a second run refuses.
    assert_eq!(std::fs::read_to_string(&s.spec).unwrap(), SPEC);
    let o = run();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("kv-v1 kv1/payments/config already holds data"));
}

/// `--to` must be inside a kv mount of the version given: a kv v1 mount imported as v2 (the
/// default) and a path outside any kv mount (`sys/policies/acl/x`) are refused with nothing
/// written, naming the fix.
#[test]
fn the_target_must_be_a_kv_mount_of_the_right_version() {
    let Some(s) = setup() else { return };
    let (status, v) = s.bao.api(
        "POST",
        "sys/mounts/kv1",
        Some(json!({"type": "kv", "options": {"version": "1"}})),
    );
    assert!(status < 300, "{v}");
    let o = s.import_to("kv1/payments/config", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("kv1 is a kv version 1 mount, but --kv-version is 2"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("hint: pass --kv-version 1"),
        "{}",
        stderr(&o)
    );
    let (status, _) = s.bao.api("GET", "kv1/data/payments/config", None);
    assert_eq!(status, 404, "nothing written");
    let (status, _) = s.bao.api("GET", "kv1/payments/config", None);
    assert_eq!(status, 404, "nothing written");

    // Vault's own paths are refused by the spec check already; another engine's mount by
    // Vault's answer about the mount.
    let o = s.import_to("sys/policies/acl/x", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let (status, _) = s.bao.api("GET", "sys/policies/acl/x", None);
    assert_eq!(status, 404, "no policy written");
    let (status, v) = s
        .bao
        .api("POST", "sys/mounts/tr", Some(json!({"type": "transit"})));
    assert!(status < 300, "{v}");
    let o = s.import_to("tr/keys/x", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("is not inside a kv mount named tr (Vault: a `transit` mount"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_to_string(&s.spec).unwrap(), SPEC);
}

/// The spec is edited as an editor would: through a symbolic link to its target (the link
/// stays), keeping its mode.
#[test]
fn a_linked_read_only_spec_is_edited_in_place_through_the_link() {
    use std::os::unix::fs::PermissionsExt;
    let Some(mut s) = setup() else { return };
    let real = s.dir.path().join("specs/real.yaml");
    std::fs::create_dir_all(real.parent().unwrap()).unwrap();
    std::fs::rename(&s.spec, &real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o400)).unwrap();
    std::os::unix::fs::symlink(&real, &s.spec).unwrap();
    let link = s.spec.clone();
    s.spec = link.clone();
    let o = s.import(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "still a link"
    );
    let edited = std::fs::read_to_string(&real).unwrap();
    assert!(edited.contains("adopt: true"), "{edited}");
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o400);
}
