//! JWT/OIDC auth written by `configure` (`vaultConfig.admin`, `pipelines`), proven by logging
//! in to a real OpenBao with JWTs signed at test time by a key made at test time.

use crate::support::common::*;
use crate::support::jwt_signer::Signer;
use crate::support::servers::Bao;
use crate::support::vault_setup::{assert_no_work, configure};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const ISSUER: &str = "https://idp.example.test";

/// A stack with one app (so that the `apps-kv` kv-v2 mount exists), kubernetes auth for a
/// Vault outside the cluster, and `tail` appended (under `vaultConfig`, or after it).
fn write_spec(dir: &Path, tail: &str) -> PathBuf {
    let ca = crate::support::cluster_state::ca_file(dir);
    let spec = format!(
        r#"apiVersion: kubectl-vault/v1alpha1
kind: VaultStack
cluster: lab
vault:
  chart: {{version: 0.30.0}}
  tls: vault-tls
operator:
  chart: {{version: 0.10.0}}
apps:
  - name: api
    namespace: shop
    secrets:
      - name: api-config
        kv: apps-kv/shop/api
vaultConfig:
  kubernetesAuth:
    host: https://127.0.0.1:1
    caCertFrom: file:{ca}
    disableLocalCaJwt: true
    tokenReviewer: {{mode: client}}
{tail}"#,
        ca = ca.display()
    );
    let path = dir.join("vault.yaml");
    std::fs::write(&path, spec).unwrap();
    path
}

/// The public key as a YAML block scalar item, indented for a list under `indent` spaces.
fn pem_item(pem: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let body: String = pem.lines().map(|l| format!("{pad}    {l}\n")).collect();
    format!("{pad}- |\n{body}")
}

fn login(bao: &Bao, mount: &str, role: &str, jwt: &str) -> (u16, Value) {
    bao.api_as(
        "",
        "POST",
        &format!("auth/{mount}/login"),
        Some(json!({"role": role, "jwt": jwt})),
    )
}

fn strings(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn admins_log_in_with_a_jwt_and_get_exactly_their_groups_policies() {
    let (Some(bao), Some(signer)) = (Bao::start(), Signer::new()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let tail = format!(
        "  admin:\n    type: jwt\n    boundIssuer: {ISSUER}\n    boundAudiences: [vault]\n    userClaim: email\n    groupsClaim: groups\n    adminGroups: [vault-admins]\n    operatorGroups: [vault-operators]\n    validationPubkeys:\n{}",
        pem_item(&signer.public_pem, 6)
    );
    let spec = write_spec(dir.path(), &tail);
    let o = configure(&bao, &spec, &[], &[]);
    ok("configure", &o);
    assert_no_work(&configure(&bao, &spec, &["--dry-run"], &[]), "configure");

    let claims = |aud: &str, groups: &[&str]| json!({"iss": ISSUER, "sub": "u-1", "email": "alice@example.test", "aud": aud, "groups": groups});
    // An admin: the admin policy, through the group; nothing on the token itself.
    let (status, admin) = login(
        &bao,
        "jwt",
        "admin",
        &signer.sign(claims("vault", &["vault-admins", "staff"])),
    );
    assert_eq!(status, 200, "{admin}");
    assert_eq!(
        strings(&admin["auth"]["identity_policies"]),
        ["admin"],
        "{admin}"
    );
    assert_eq!(
        strings(&admin["auth"]["token_policies"]),
        ["default"],
        "{admin}"
    );
    let token = admin["auth"]["client_token"].as_str().unwrap().to_string();
    // The admin token administers: it writes a policy…
    let (status, body) = bao.api_as(
        &token,
        "POST",
        "sys/policies/acl/written-by-an-admin",
        Some(json!({"policy": "path \"kv/data/x\" { capabilities = [\"read\"] }"})),
    );
    assert_eq!(status, 204, "{body}");
    // …but neither reads raw storage nor starts a root token generation.
    let (status, body) = bao.api_as(&token, "GET", "sys/raw/core/mounts", None);
    assert_eq!(status, 403, "sys/raw: {body}");
    // Root token generation: OpenBao answers its endpoints 405 here, for root as well (they
    // are not token-authenticated: unseal keys are the guard); the admin policy denies them
    // anyway, as it does raw storage.
    let (status, caps) = bao.api_as(
        &token,
        "POST",
        "sys/capabilities-self",
        Some(json!({"paths": ["sys/raw/core/mounts", "sys/generate-root/attempt", "sys/policies/acl/x"]})),
    );
    assert_eq!(status, 200, "{caps}");
    assert_eq!(strings(&caps["data"]["sys/raw/core/mounts"]), ["deny"]);
    assert_eq!(
        strings(&caps["data"]["sys/generate-root/attempt"]),
        ["deny"]
    );
    assert!(strings(&caps["data"]["sys/policies/acl/x"]).contains(&"sudo".to_string()));

    // An operator: read-only status, no secrets, no policy writes.
    let (status, op) = login(
        &bao,
        "jwt",
        "admin",
        &signer.sign(claims("vault", &["vault-operators"])),
    );
    assert_eq!(status, 200, "{op}");
    assert_eq!(
        strings(&op["auth"]["identity_policies"]),
        ["operator"],
        "{op}"
    );
    let op_token = op["auth"]["client_token"].as_str().unwrap().to_string();
    assert_eq!(bao.api_as(&op_token, "GET", "sys/mounts", None).0, 200);
    assert_eq!(
        bao.api_as(&op_token, "GET", "apps-kv/data/shop/api", None)
            .0,
        403
    );
    assert_eq!(
        bao.api_as(
            &op_token,
            "POST",
            "sys/policies/acl/nope",
            Some(json!({"policy": ""}))
        )
        .0,
        403
    );

    // A group that maps to nothing: a token with no admin policy.
    let (status, other) = login(
        &bao,
        "jwt",
        "admin",
        &signer.sign(claims("vault", &["staff"])),
    );
    assert_eq!(status, 200, "{other}");
    assert!(
        strings(&other["auth"]["policies"]) == ["default"],
        "{other}"
    );

    // The wrong audience: no token at all.
    let (status, body) = login(
        &bao,
        "jwt",
        "admin",
        &signer.sign(claims("another-app", &["vault-admins"])),
    );
    assert!(matches!(status, 400 | 403), "{status} {body}");
    assert!(body["auth"].is_null(), "{body}");
    // A JWT signed by another key: refused.
    let stranger = Signer::new().unwrap();
    let (status, body) = login(
        &bao,
        "jwt",
        "admin",
        &stranger.sign(claims("vault", &["vault-admins"])),
    );
    assert!(matches!(status, 400 | 403), "{status} {body}");

    // The operators' group dropped from the spec: its identity group (and alias) and the
    // operator policy are cleaned up; a group someone made by hand stays.
    let (status, body) = bao.api(
        "POST",
        "identity/group/name/by-hand",
        Some(json!({"type": "external", "policies": ["default"]})),
    );
    assert!(matches!(status, 200 | 204), "{body}");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(
        &spec,
        text.replace("    operatorGroups: [vault-operators]\n", ""),
    )
    .unwrap();
    let o = configure(&bao, &spec, &[], &[]);
    ok("configure", &o);
    let out = stdout(&o);
    assert!(
        out.contains("deleted  identity group jwt-vault-operators (no longer in the spec)"),
        "{out}"
    );
    assert!(
        out.contains("deleted  policy operator (no longer in the spec)"),
        "{out}"
    );
    assert_eq!(bao.api("GET", "identity/group/name/by-hand", None).0, 200);
    let (status, op) = login(
        &bao,
        "jwt",
        "admin",
        &signer.sign(claims("vault", &["vault-operators"])),
    );
    assert_eq!(status, 200, "{op}");
    assert_eq!(strings(&op["auth"]["policies"]), ["default"], "{op}");
    assert_no_work(&configure(&bao, &spec, &["--dry-run"], &[]), "the clean-up");
}

#[test]
fn a_pipeline_with_the_right_claims_reads_exactly_its_paths_and_no_other_job_logs_in() {
    let (Some(bao), Some(signer)) = (Bao::start(), Signer::new()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let keys = pem_item(&signer.public_pem, 4);
    let tail = format!(
        r#"pipelines:
  - name: deploy
    boundIssuer: {ISSUER}
    boundAudiences: [https://vault.example.test]
    boundClaims: {{repository: octo-org/app, ref: refs/heads/main}}
    read: [apps-kv/ci/deploy]
    aws: [aws/terraform-deploy]
    validationPubkeys:
{keys}  - name: nightly
    boundIssuer: {ISSUER}
    boundAudiences: [https://vault.example.test]
    boundClaims: {{repository: octo-org/app, workflow: nightly}}
    read: [apps-kv/data/ci/nightly]
    validationPubkeys:
{keys}"#
    );
    let spec = write_spec(dir.path(), &tail);
    let o = configure(&bao, &spec, &[], &[]);
    ok("configure", &o);
    assert_no_work(&configure(&bao, &spec, &["--dry-run"], &[]), "configure");
    for path in ["ci/deploy", "ci/neighbour"] {
        let (status, body) = bao.api(
            "POST",
            &format!("apps-kv/data/{path}"),
            Some(json!({"data": {"who": path}})),
        );
        assert_eq!(status, 200, "{body}");
    }
    let claims = |repository: &str, git_ref: &str| {
        json!({"iss": ISSUER, "aud": "https://vault.example.test", "sub": format!("repo:{repository}:ref:{git_ref}"),
            "repository": repository, "ref": git_ref})
    };
    let (status, job) = login(
        &bao,
        "jwt",
        "deploy",
        &signer.sign(claims("octo-org/app", "refs/heads/main")),
    );
    assert_eq!(status, 200, "{job}");
    assert_eq!(
        strings(&job["auth"]["token_policies"]),
        ["default", "pipeline-deploy"],
        "{job}"
    );
    assert_eq!(
        strings(&job["auth"]["identity_policies"]),
        Vec::<String>::new(),
        "{job}"
    );
    assert_eq!(job["auth"]["lease_duration"], 900, "a short token: {job}");
    let token = job["auth"]["client_token"].as_str().unwrap();
    let (status, secret) = bao.api_as(token, "GET", "apps-kv/data/ci/deploy", None);
    assert_eq!(status, 200, "{secret}");
    assert_eq!(secret["data"]["data"]["who"], "ci/deploy");
    assert_eq!(
        bao.api_as(token, "GET", "apps-kv/data/ci/neighbour", None)
            .0,
        403
    );
    assert_eq!(
        bao.api_as(token, "GET", "apps-kv/data/shop/api", None).0,
        403
    );
    let (_, caps) = bao.api_as(
        token,
        "POST",
        "sys/capabilities-self",
        Some(json!({"paths": ["aws/creds/terraform-deploy", "aws/creds/other"]})),
    );
    assert_eq!(
        strings(&caps["data"]["aws/creds/terraform-deploy"]),
        ["read"]
    );
    assert_eq!(strings(&caps["data"]["aws/creds/other"]), ["deny"]);

    // Another repository, another branch, another pipeline's role: no token.
    for (role, jwt) in [
        (
            "deploy",
            signer.sign(claims("octo-org/fork", "refs/heads/main")),
        ),
        (
            "deploy",
            signer.sign(claims("octo-org/app", "refs/heads/feature")),
        ),
        (
            "nightly",
            signer.sign(claims("octo-org/app", "refs/heads/main")),
        ),
    ] {
        let (status, body) = login(&bao, "jwt", role, &jwt);
        assert!(matches!(status, 400 | 403), "{role}: {status} {body}");
        assert!(body["auth"].is_null(), "{body}");
    }

    // Field by field: a setting the spec does not name, set by hand, stays; a changed one is
    // the only change the plan lists and writes.
    let (status, body) = bao.api(
        "POST",
        "auth/jwt/role/deploy",
        // (a role's write must name its type: Vault takes an unnamed one as oidc)
        Some(json!({"role_type": "jwt", "token_max_ttl": "2h"})),
    );
    assert_eq!(status, 204, "{body}");
    assert_no_work(
        &configure(&bao, &spec, &["--dry-run"], &[]),
        "a hand-set token_max_ttl",
    );
    let changed = std::fs::read_to_string(&spec).unwrap().replacen(
        "ref: refs/heads/main}",
        "ref: refs/heads/release}\n    tokenTtl: 5m",
        1,
    );
    std::fs::write(&spec, changed).unwrap();
    let o = configure(&bao, &spec, &["--dry-run"], &[]);
    ok("configure --dry-run", &o);
    let plan = stdout(&o);
    let changes: Vec<&str> = plan
        .lines()
        .filter(|l| !l.starts_with("unchanged") && !l.starts_with("Vault at"))
        .collect();
    assert_eq!(
        changes,
        [
            "update     jwt role deploy on jwt/ (pipeline deploy)",
            "             bound_claims: {ref: refs/heads/main, repository: octo-org/app} → {ref: refs/heads/release, repository: octo-org/app}",
            "             token_ttl: 15m → 5m",
            "plan: 0 to create, 1 to update, 0 to delete, 10 already as wanted",
            "dry run: nothing was changed",
        ],
        "{plan}"
    );
    ok("configure", &configure(&bao, &spec, &[], &[]));
    assert_no_work(&configure(&bao, &spec, &["--dry-run"], &[]), "the update");
    let (_, role) = bao.api("GET", "auth/jwt/role/deploy", None);
    assert_eq!(role["data"]["token_max_ttl"], 7200, "{role}");
    assert_eq!(role["data"]["token_ttl"], 300, "{role}");
    let (status, _) = login(
        &bao,
        "jwt",
        "deploy",
        &signer.sign(claims("octo-org/app", "refs/heads/main")),
    );
    assert!(matches!(status, 400 | 403), "main is no longer bound");
    let (status, _) = login(
        &bao,
        "jwt",
        "deploy",
        &signer.sign(claims("octo-org/app", "refs/heads/release")),
    );
    assert_eq!(status, 200);

    // A pipeline dropped from the spec: its role and its policy are cleaned up.
    let text = std::fs::read_to_string(&spec).unwrap();
    let cut = text.find("  - name: nightly").unwrap();
    std::fs::write(&spec, &text[..cut]).unwrap();
    let o = configure(&bao, &spec, &[], &[]);
    ok("configure", &o);
    let out = stdout(&o);
    assert!(
        out.contains("deleted  jwt role nightly on jwt/ (no longer in the spec)"),
        "{out}"
    );
    assert!(
        out.contains("deleted  policy pipeline-nightly (no longer in the spec)"),
        "{out}"
    );
    assert_eq!(bao.api("GET", "auth/jwt/role/nightly", None).0, 404);
    assert_no_work(&configure(&bao, &spec, &["--dry-run"], &[]), "the clean-up");
}

/// `configure --script | bash` against `bao`, with `bao` as the CLI.
fn run_script(bao: &Bao, spec: &Path) -> std::process::Output {
    let cli = std::env::var("BAO_BIN").unwrap_or_else(|_| "bao".into());
    let cmd = format!(
        "'{}' configure --script -f '{}' | bash",
        env!("CARGO_BIN_EXE_kubectl-vault"),
        spec.display()
    );
    std::process::Command::new("bash")
        .args(["-o", "pipefail", "-c", &cmd])
        .env("HOME", test_home())
        .env("VAULT_CLI", cli)
        .env("VAULT_ADDR", &bao.addr)
        .env("VAULT_TOKEN", &bao.token)
        .env_remove("VAULT_NAMESPACE")
        .output()
        .unwrap()
}

/// configure.sh writes what `configure` plans: after the script, `configure` has nothing to
/// do, the script runs clean again, and the admin and the pipeline log in.
#[test]
fn the_script_writes_the_same_jwt_methods_as_configure() {
    let (Some(bao), Some(signer)) = (Bao::start(), Signer::new()) else {
        return;
    };
    if std::env::var_os("BAO_BIN").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tail = format!(
        "  admin:\n    type: jwt\n    boundIssuer: {ISSUER}\n    boundAudiences: [vault]\n    adminGroups: [vault-admins]\n    validationPubkeys:\n{}pipelines:\n  - name: deploy\n    boundIssuer: {ISSUER}\n    boundAudiences: [vault]\n    boundClaims: {{repository: octo-org/app}}\n    read: [apps-kv/ci/deploy]\n    validationPubkeys:\n{}",
        pem_item(&signer.public_pem, 6),
        pem_item(&signer.public_pem, 4)
    );
    let spec = write_spec(dir.path(), &tail);
    ok("configure --script | bash", &run_script(&bao, &spec));
    assert_no_work(&configure(&bao, &spec, &["--dry-run"], &[]), "the script");
    ok("configure --script | bash, again", &run_script(&bao, &spec));
    assert_no_work(
        &configure(&bao, &spec, &["--dry-run"], &[]),
        "the script, again",
    );
    let claims = json!({"iss": ISSUER, "aud": "vault", "sub": "alice", "groups": ["vault-admins"], "repository": "octo-org/app"});
    let (status, admin) = login(&bao, "jwt", "admin", &signer.sign(claims.clone()));
    assert_eq!(status, 200, "{admin}");
    assert_eq!(
        strings(&admin["auth"]["identity_policies"]),
        ["admin"],
        "{admin}"
    );
    let (status, job) = login(&bao, "jwt", "deploy", &signer.sign(claims));
    assert_eq!(status, 200, "{job}");
    assert_eq!(
        strings(&job["auth"]["token_policies"]),
        ["default", "pipeline-deploy"]
    );
}

/// The generated vault-config folder of `fixtures/pipelines.yaml`: the policies, configure.sh
/// with its OIDC and JWT methods, and each pipeline's Terraform block and CI step.
#[test]
fn pipeline_snippets_and_the_script_are_generated_beside_the_policies() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "-f",
        fixture("pipelines.yaml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    ok("generate", &o);
    let tree = read_tree(&out);
    let vault_config: std::collections::BTreeMap<String, String> = tree
        .into_iter()
        .filter(|(path, _)| path.starts_with("vault-config/"))
        .collect();
    let names: Vec<&str> = vault_config.keys().map(String::as_str).collect();
    assert!(
        names.contains(&"vault-config/dev/pipelines/terraform-deploy.tf"),
        "{names:?}"
    );
    assert!(names.contains(&"vault-config/dev/pipelines/terraform-deploy.github-actions.yml"));
    assert!(names.contains(&"vault-config/dev/pipelines/gitlab-release.gitlab-ci.yml"));
    for (path, text) in &vault_config {
        if path.ends_with(".yml") {
            let parsed: Result<serde_yaml::Value, _> = serde_yaml::from_str(text);
            assert!(parsed.is_ok(), "{path} is not YAML: {parsed:?}");
        }
    }
    redactions(&[])
        .bind(|| insta::assert_snapshot!("pipelines_vault_config", tree_text(&vault_config)));
}

/// `configure --dry-run` on a fresh Vault lists the methods, configs, roles and groups (the
/// OIDC client secret is read before planning, and shown nowhere).
#[test]
fn the_plan_names_each_method_role_and_group() {
    let Some(bao) = Bao::start() else {
        return;
    };
    let spec = fixture("pipelines.yaml");
    let secret = "client-secret-for-tests";
    let o = configure(
        &bao,
        &spec,
        &["--dry-run"],
        &[("VAULT_OIDC_CLIENT_SECRET", secret)],
    );
    ok("configure --dry-run", &o);
    assert!(!stdout(&o).contains(secret) && !stderr(&o).contains(secret));
    redactions(&[]).bind(|| insta::assert_snapshot!("pipelines_plan", stdout(&o)));
    // Without the secret nothing is planned as applied: the run stops before the first change.
    let o = configure(&bao, &spec, &[], &[("VAULT_OIDC_CLIENT_SECRET", "")]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("VAULT_OIDC_CLIENT_SECRET"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        bao.api("GET", "sys/auth/oidc", None).0,
        400,
        "nothing was written"
    );
}
