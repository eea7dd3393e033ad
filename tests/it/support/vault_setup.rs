//! The setup the tests against a real OpenBao share: a spec for a Vault outside the cluster
//! (kubernetes auth reviewing tokens at a fake TokenReview endpoint, a cluster CA file), and
//! `configure` run with the test's environment only.

use super::cluster_state::ca_file;
use super::common::bin;
use super::servers::Bao;
use super::vault_fakes::FakeTokenReview;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A temporary folder holding `vault.yaml` and the cluster CA it names, and the fake
/// TokenReview endpoint it points kubernetes auth at.
pub struct SpecDir {
    pub reviews: FakeTokenReview,
    pub dir: tempfile::TempDir,
    pub spec_path: PathBuf,
    pub spec: String,
}

impl SpecDir {
    /// Starts a TokenReview endpoint that accepts `reviewer_jwt` as the reviewer, and writes
    /// `spec(folder, cluster CA file, endpoint URL)` as `vault.yaml`.
    pub fn new(reviewer_jwt: &str, spec: impl FnOnce(&Path, &Path, &str) -> String) -> SpecDir {
        let reviews = FakeTokenReview::start(Some(reviewer_jwt.into()));
        let dir = tempfile::tempdir().unwrap();
        let spec_path = dir.path().join("vault.yaml");
        let spec = spec(dir.path(), &ca_file(dir.path()), &reviews.url);
        std::fs::write(&spec_path, &spec).unwrap();
        SpecDir {
            reviews,
            dir,
            spec_path,
            spec,
        }
    }
}

/// `kubectl vault configure -f <spec> <extra>` against `bao` with its root token and `env`
/// (later entries win; an empty value removes the variable); no Vault namespace or CA from
/// the caller's environment.
pub fn configure(bao: &Bao, spec: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = bin();
    c.args(["configure", "-f", spec.to_str().unwrap()])
        .args(extra)
        .env("VAULT_ADDR", &bao.addr)
        .env("VAULT_TOKEN", &bao.token)
        .env_remove("VAULT_NAMESPACE")
        .env_remove("VAULT_CACERT");
    for (k, v) in env {
        if v.is_empty() {
            c.env_remove(k);
        } else {
            c.env(k, v);
        }
    }
    c.output().unwrap()
}

/// Asserts that `o`, the output of `configure --dry-run` after `after`, finds everything as
/// the spec says.
pub fn assert_no_work(o: &Output, after: &str) {
    assert!(
        o.status.success() && super::common::stdout(o).contains("nothing to do"),
        "after {after}, configure still has work:\n{}{}",
        super::common::stdout(o),
        super::common::stderr(o)
    );
}
