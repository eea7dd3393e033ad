//! The AWS secrets engine (`vaultConfig.aws`, docs/src/cloud-engines.md) against what this
//! machine has: the real OpenBao CLI and server, which have no `aws` engine (OpenBao 2.x
//! ships the cloud engines as external plugins; `plugin not found in the catalog: aws`). So
//! the tests prove that `configure` and `configure.sh` stop before any write on such a Vault
//! with no key in their output, that the script's JSON body on stdin carries any key
//! literally, and what the tree and the script render. Issuing and revoking credentials
//! through a real engine is untested here (the planner's reads and writes are unit-tested
//! against answers shaped as the engine's source gives them: crates/core/src/vault/plan/
//! cloud_tests.rs).

use crate::support::common::*;
use crate::support::servers::Bao;
use crate::support::vault_fakes::{run_script, vault_state, VaultCli};
use crate::support::vault_setup::{configure, SpecDir};
use serde_json::json;
use std::path::Path;

const REVIEWER_JWT: &str = "reviewer-jwt-for-tests";

/// A Vault outside the cluster with one AWS engine whose keys come from the environment,
/// and two apps: an IAM user's keys for the operator, an assumed role's for the injector.
fn spec(ca: &Path, k8s_host: &str) -> String {
    format!(
        r#"apiVersion: kubectl-vault/v1alpha1
kind: VaultStack
cluster: lab
vault:
  chart: {{version: 0.30.0}}
  tls: vault-tls
  injector: true
operator:
  chart: {{version: 0.10.0}}
apps:
  - name: uploader
    namespace: shop
    secrets:
      - name: uploader-aws
        aws: aws/deploy
  - name: planner
    namespace: infra
    consumer: injector
    secrets:
      - name: terraform-aws
        aws: aws/terraform
vaultConfig:
  kubernetesAuth:
    mount: kubernetes
    host: {k8s_host}
    caCertFrom: file:{ca}
    disableLocalCaJwt: true
    tokenReviewer: {{mode: serviceAccount, jwtFrom: env:TEST_REVIEWER_JWT}}
  aws:
    aws:
      accessKeyFrom: env:TEST_AWS_ACCESS_KEY
      secretKeyFrom: file:{keyfile}
      iamEndpoint: http://127.0.0.1:9/iam
      stsEndpoint: http://127.0.0.1:9/sts
      rotateRoot: true
      roles:
        deploy:
          credentialType: iam_user
          policyDocument: {{Version: "2012-10-17", Statement: [{{Effect: Allow, Action: ["s3:GetObject"], Resource: ["*"]}}]}}
        terraform:
          credentialType: assumed_role
          roleArns: ["arn:aws:iam::000000000000:role/terraform-deploy"]
          defaultTtl: 15m
"#,
        ca = ca.display(),
        keyfile = ca.with_file_name("aws-secret-key").display(),
    )
}

/// A value made at run time, never a literal in the source (the self-scan reads it).
fn made_up(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}{:x}{:x}", nanos, std::process::id())
}

/// OpenBao here has no `aws` engine: `configure` says so and changes nothing, the script
/// stops the same way (exit 3) before its first write, and neither shows a key.
#[test]
fn a_vault_without_the_aws_engine_is_left_unchanged_by_configure_and_the_script() {
    let Some(bao) = Bao::start() else { return };
    let Some(cli) = VaultCli::new() else { return };
    // What this machine's OpenBao answers when asked for the engine.
    let (status, answer) = bao.api("POST", "sys/mounts/aws", Some(json!({"type": "aws"})));
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer
            .to_string()
            .contains("plugin not found in the catalog: aws"),
        "{answer}"
    );

    let setup = SpecDir::new(REVIEWER_JWT, |_, ca, host| spec(ca, host));
    let access_key = made_up("test-access-");
    let secret_key = made_up("test-secret-");
    std::fs::write(setup.dir.path().join("aws-secret-key"), &secret_key).unwrap();
    let env = [
        ("TEST_AWS_ACCESS_KEY", access_key.as_str()),
        ("TEST_REVIEWER_JWT", REVIEWER_JWT),
    ];
    let before = vault_state(&bao, "kubernetes");

    let out = configure(&bao, &setup.spec_path, &[], &env);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("no `aws` secrets engine"), "{text}");
    assert!(text.contains("nothing was changed"), "{text}");
    assert!(!text.contains(&access_key) && !text.contains(&secret_key));
    assert_eq!(vault_state(&bao, "kubernetes"), before);

    let script = setup.dir.path().join("configure.sh");
    let printed = configure(&bao, &setup.spec_path, &["--script"], &env);
    ok("configure --script", &printed);
    std::fs::write(&script, printed.stdout).unwrap();
    let ran = run_script(&script, &cli, &bao, &env);
    let text = format!("{}{}", stdout(&ran), stderr(&ran));
    assert_eq!(ran.status.code(), Some(3), "{text}");
    assert!(
        text.contains("no aws secrets engine in its plugin catalog"),
        "{text}"
    );
    assert!(!text.contains(&access_key) && !text.contains(&secret_key));
    for call in cli.calls() {
        assert!(
            call.iter()
                .all(|a| !a.contains(&access_key) && !a.contains(&secret_key)),
            "a key on a command line: {call:?}"
        );
        assert!(
            !matches!(
                call.first().map(String::as_str),
                Some("write" | "auth" | "secrets" | "policy")
            ),
            "the script wrote before stopping: {call:?}"
        );
    }
    assert_eq!(vault_state(&bao, "kubernetes"), before);
}

/// The script sends the root keys as a JSON body on stdin (`vault write PATH -`): its
/// `json_string` keeps any value literal, quotes and backslashes included, and the real CLI
/// reads the body it makes.
#[test]
fn the_scripts_json_body_carries_the_keys_literally() {
    let Some(bao) = Bao::start() else { return };
    let Some(cli) = VaultCli::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("cloud.yaml");
    std::fs::copy(fixture("cloud.yaml"), &spec).unwrap();
    let printed = run(&["configure", "--script", "-f", spec.to_str().unwrap()]);
    ok("configure --script", &printed);
    let script = stdout(&printed);
    let start = script.find("json_string() {").expect("json_string");
    let end = start + script[start..].find("\n}\n").unwrap() + 3;
    let function = &script[start..end];
    // The same pipe as the script's, into a kv mount the test reads back.
    assert_eq!(
        bao.api("POST", "sys/mounts/kv1", Some(json!({"type": "kv"})))
            .0,
        204
    );
    let access = format!("{}\"q\\b'{}", made_up("a"), "$(x)");
    let secret = format!("{} \\\\ \"{}", made_up("s"), "`y`");
    let body = format!(
        "{function}printf '{{\"access_key\":%s,\"secret_key\":%s}}' \"$(json_string \"$K1\")\" \"$(json_string \"$K2\")\" | vault write -- kv1/root - region=eu-west-1\n"
    );
    let file = dir.path().join("pipe.sh");
    std::fs::write(&file, body).unwrap();
    let ran = run_script(&file, &cli, &bao, &[("K1", &access), ("K2", &secret)]);
    ok("the script's pipe", &ran);
    let read = bao.api("GET", "kv1/root", None).1;
    assert_eq!(read["data"]["access_key"], access.as_str());
    assert_eq!(read["data"]["secret_key"], secret.as_str());
    assert_eq!(read["data"]["region"], "eu-west-1");
    for call in cli.calls() {
        assert!(
            call.iter()
                .all(|a| !a.contains(&access) && !a.contains(&secret)),
            "{call:?}"
        );
    }
}

/// What `generate` and the script make of an AWS engine: a VaultDynamicSecret at `creds/ROLE`
/// (an IAM user) for the operator, the injector reading `sts/ROLE` (an assumed role), each
/// app's policy reading exactly its role's path, the CSI driver reading the keys the engine
/// returns; the script pinned.
#[test]
fn the_tree_and_the_script_of_an_aws_engine() {
    let out = tempfile::tempdir().unwrap();
    let o = run(&[
        "generate",
        "-f",
        fixture("cloud.yaml").to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
    ]);
    ok("generate", &o);
    let tree = read_tree(out.path());
    let vds = &tree["apps/dev/shop/uploader/vaultdynamicsecret-uploader-aws.yaml"];
    assert!(vds.contains("kind: VaultDynamicSecret"), "{vds}");
    assert!(
        vds.contains("  mount: aws\n  path: creds/deploy\n"),
        "{vds}"
    );
    let patch = &tree["apps/dev/infra/planner/vault-agent/patch.yaml"];
    assert!(
        patch.contains("vault.hashicorp.com/agent-inject-secret-terraform-aws: aws/sts/terraform"),
        "{patch}"
    );
    let policy = &tree["vault-config/dev/policies/dev-shop-uploader.hcl"];
    assert!(
        policy.ends_with("path \"aws/creds/deploy\" {\n  capabilities = [\"read\"]\n}\n"),
        "{policy}"
    );
    assert!(tree["vault-config/dev/policies/dev-infra-planner.hcl"]
        .ends_with("path \"aws/sts/terraform\" {\n  capabilities = [\"read\"]\n}\n"));

    let script = run(&[
        "configure",
        "--script",
        "-f",
        fixture("cloud.yaml").to_str().unwrap(),
    ]);
    ok("configure --script", &script);
    insta::assert_snapshot!("cloud_engines_script", stdout(&script));

    // The CSI driver mounts one file per key the engine returns.
    let text = std::fs::read_to_string(fixture("cloud.yaml"))
        .unwrap()
        .replace("    consumer: injector\n", "    consumer: csi\n");
    let spec = out.path().join("csi.yaml");
    std::fs::write(&spec, text).unwrap();
    let csi_out = out.path().join("tree");
    let o = run(&[
        "generate",
        "-f",
        spec.to_str().unwrap(),
        "--out",
        csi_out.to_str().unwrap(),
    ]);
    ok("generate (csi)", &o);
    let tree = read_tree(&csi_out);
    let spc = tree
        .iter()
        .find(|(k, _)| k.contains("secretproviderclass"))
        .map(|(_, v)| v)
        .expect("a SecretProviderClass");
    for key in ["access_key", "secret_key", "security_token"] {
        assert!(spc.contains(&format!("secretKey: {key}")), "{key}: {spc}");
    }
    assert!(spc.contains("secretPath: aws/sts/terraform"), "{spc}");
}

/// GCP and Azure, not in this machine's OpenBao either: their configs, rolesets, static
/// accounts and roles as the script writes them (each engine's own secret on stdin), pinned,
/// and what the apps read (token, key and creds paths).
#[test]
fn the_script_and_the_tree_of_gcp_and_azure_engines() {
    let spec = fixture("cloud-gcp-azure.yaml");
    let script = run(&["configure", "--script", "-f", spec.to_str().unwrap()]);
    ok("configure --script", &script);
    let text = stdout(&script);
    assert!(text.contains("| vault write -- gcp/config ttl=1h max_ttl=4h credentials=-\n"));
    assert!(text.contains(" client_secret=-\n"));
    insta::assert_snapshot!("cloud_engines_gcp_azure_script", text);

    let out = tempfile::tempdir().unwrap();
    let o = run(&[
        "generate",
        "-f",
        spec.to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
    ]);
    ok("generate", &o);
    let tree = read_tree(out.path());
    for (file, path) in [
        (
            "reporter-gcp",
            "  mount: gcp\n  path: roleset/viewer/token\n",
        ),
        (
            "reporter-gcp-ci",
            "  mount: gcp\n  path: static-account/ci/key\n",
        ),
        ("reporter-azure", "  mount: azure\n  path: creds/reader\n"),
    ] {
        let vds = &tree[&format!("apps/dev/shop/reporter/vaultdynamicsecret-{file}.yaml")];
        assert!(vds.contains(path), "{vds}");
    }
    assert!(!stderr(&o).contains("GCP access token"), "{}", stderr(&o));

    // Without refreshAfter, VSO would read the unleased access token once: a warning.
    let text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("        refreshAfter: 45m", "        # no refreshAfter");
    let bare = out.path().join("bare.yaml");
    std::fs::write(&bare, text).unwrap();
    let o = run(&[
        "generate",
        "-f",
        bare.to_str().unwrap(),
        "--out",
        out.path().join("t").to_str().unwrap(),
    ]);
    ok("generate (no refreshAfter)", &o);
    assert!(
        stderr(&o).contains("apps[0].secrets[0].gcp: a GCP access token has no lease"),
        "{}",
        stderr(&o)
    );
}

/// This machine's OpenBao has neither the `gcp` nor the `azure` engine: `configure` names the
/// first it lacks and changes nothing (their configuration cannot be written and read back
/// here).
#[test]
fn a_vault_without_the_gcp_engine_is_left_unchanged() {
    let Some(bao) = Bao::start() else { return };
    for engine in ["gcp", "azure"] {
        let (status, answer) = bao.api(
            "POST",
            &format!("sys/mounts/{engine}"),
            Some(json!({"type": engine})),
        );
        assert_eq!(status, 400, "{answer}");
        assert!(
            answer
                .to_string()
                .contains(&format!("plugin not found in the catalog: {engine}")),
            "{answer}"
        );
    }
    let before = vault_state(&bao, "kubernetes-dev");
    let secret = made_up("test-azure-");
    let out = configure(
        &bao,
        &fixture("cloud-gcp-azure.yaml"),
        &[],
        &[("AZURE_VAULT_CLIENT_SECRET", secret.as_str())],
    );
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("no `gcp` secrets engine"), "{text}");
    assert!(!text.contains(&secret));
    assert_eq!(vault_state(&bao, "kubernetes-dev"), before);
}
