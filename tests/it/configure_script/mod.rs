//! The generated `configure.sh` (and `configure --script`) against a real OpenBao, run as a user
//! runs it: twice on a fresh Vault, after `configure` and before it, through a pipe; and with
//! shell metacharacters in every spec field, against a stub `vault` that records its argv.

use crate::support::common::*;

mod hostile;
mod real_vault;

/// The script a user reviews (or pipes to bash), pinned whole for the richest fixture.
#[test]
fn the_script_as_printed() {
    let o = bin()
        .args([
            "configure",
            "-f",
            fixture("example.yaml").to_str().unwrap(),
            "--script",
        ])
        .env_remove("VAULT_ADDR")
        .env_remove("VAULT_TOKEN")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    redactions(&[(&fixture(""), "FIXTURES")])
        .bind(|| insta::assert_snapshot!("script_example", stdout(&o)));
}
