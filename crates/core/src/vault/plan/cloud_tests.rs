//! The AWS engine's plan against snapshots answered as OpenBao's `aws` engine answers
//! (`config/root` without its secret key, roles with `credential_type` as text and the STS
//! lifetimes in seconds).

use super::*;
use crate::model;
use crate::spec::{self, validate};
use crate::vault::side as vault_side;
use serde_json::json;

const SPEC: &str = include_str!("../../../../../fixtures/cloud.yaml");

fn side_of(text: &str) -> VaultSide {
    let sourced = spec::parse("cloud.yaml", text.to_string()).unwrap();
    let findings = validate::check(&sourced.spec, &sourced.index);
    assert!(findings.errors.is_empty(), "{:?}", findings.errors);
    let spec = validate::typed(sourced.spec, &sourced.index).unwrap();
    vault_side::derive(&model::build(&spec, "cloud.yaml"))
}

/// Fills every read from `answer` (absent: `None`), in rounds.
fn planned(
    side: &VaultSide,
    options: &Options,
    answer: impl Fn(&str) -> Option<Value>,
) -> Result<Plan, Error> {
    let mut snapshot = Snapshot::default();
    loop {
        match plan(side, &snapshot, options)? {
            Planned::Plan(p) => return Ok(p),
            Planned::Needs(queries) => {
                for q in queries {
                    match q {
                        Query::Read(p) => {
                            let v = answer(&p);
                            snapshot.insert_read(p, v)
                        }
                        Query::List(p) => snapshot.insert_list(p, vec![]),
                    }
                }
            }
        }
    }
}

fn catalog_only(path: &str) -> Option<Value> {
    (path == "sys/plugins/catalog/secret/aws").then(|| json!({"name": "aws", "builtin": true}))
}

/// What the engine holds once the fixture's plan was applied, as it reads back.
fn applied(owner: &str, path: &str, region: &str) -> Option<Value> {
    match path {
        "sys/mounts" => Some(json!({"aws/": {"type": "aws", "description": owner}})),
        "aws/config/root" => Some(json!({
            "access_key": "KEYID", "region": region, "iam_endpoint": "", "sts_endpoint": "",
            "max_retries": -1, "username_template": "{{ printf \"vault-%s\" (random 20) }}",
        })),
        "aws/roles/deploy" => Some(json!({
            "credential_type": "iam_user",
            "policy_document": "{\"Statement\":[{\"Action\":[\"s3:GetObject\"],\"Effect\":\"Allow\",\"Resource\":[\"arn:aws:s3:::releases/*\"]}],\"Version\":\"2012-10-17\"}",
            "policy_arns": [], "role_arns": [], "iam_groups": [], "default_sts_ttl": 0, "max_sts_ttl": 0,
        })),
        "aws/roles/terraform" => Some(json!({
            "credential_type": "assumed_role", "policy_document": "", "policy_arns": [],
            "role_arns": ["arn:aws:iam::123456789012:role/terraform-deploy"],
            "default_sts_ttl": 900, "max_sts_ttl": 3600,
        })),
        _ => None,
    }
}

/// The changes to the AWS engine (the snapshots leave the rest of the Vault side empty).
fn aws_changes(plan: &Plan) -> usize {
    plan.changes()
        .filter(|s| s.path.starts_with("aws/") || s.path == "sys/mounts/aws")
        .count()
}

fn step<'a>(plan: &'a Plan, path: &str) -> &'a Step {
    plan.steps
        .iter()
        .find(|s| s.path == path)
        .unwrap_or_else(|| panic!("no step {path}: {:?}", plan.steps))
}

/// A fresh Vault: the mount, the root config (its keys only named, resolved when applying),
/// then the roles with the policy document as the compact JSON the engine stores.
#[test]
fn a_fresh_vault_gets_the_engine_its_root_config_by_reference_and_its_roles() {
    let side = side_of(SPEC);
    let plan = planned(&side, &Options::default(), catalog_only).unwrap();
    assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
    assert_eq!(step(&plan, "sys/mounts/aws").body["type"], "aws");
    let root = step(&plan, "aws/config/root");
    assert_eq!(root.action, Action::Create);
    assert_eq!(root.body, json!({"region": "eu-west-1"}));
    let sources: Vec<(&str, &str)> = (root.secrets.iter())
        .map(|s| (s.field.as_str(), s.source.as_str()))
        .collect();
    assert_eq!(
        sources,
        [
            ("access_key", "env:AWS_ROOT_ACCESS_KEY_ID"),
            ("secret_key", "env:AWS_ROOT_SECRET_ACCESS_KEY")
        ]
    );
    assert!(plan
        .steps
        .iter()
        .all(|s| s.path != "aws/config/rotate-root"));
    let deploy = step(&plan, "aws/roles/deploy");
    assert_eq!(deploy.body["credential_type"], "iam_user");
    assert_eq!(
        deploy.body["policy_document"],
        "{\"Statement\":[{\"Action\":[\"s3:GetObject\"],\"Effect\":\"Allow\",\"Resource\":[\"arn:aws:s3:::releases/*\"]}],\"Version\":\"2012-10-17\"}"
    );
    let terraform = step(&plan, "aws/roles/terraform");
    assert_eq!(terraform.body["default_sts_ttl"], 900);
    assert_eq!(terraform.body["max_sts_ttl"], 3600);
    // Each app's policy reads exactly its role's credentials.
    let grants: Vec<(String, Vec<String>)> = (side.policies.iter())
        .map(|p| {
            (
                p.name.clone(),
                p.grants.iter().map(|g| g.path.clone()).collect(),
            )
        })
        .collect();
    assert_eq!(
        grants,
        [
            (
                "dev-infra-planner".to_string(),
                vec!["aws/sts/terraform".to_string()]
            ),
            (
                "dev-shop-uploader".to_string(),
                vec!["aws/creds/deploy".to_string()]
            ),
        ]
    );
}

/// A Vault without the engine in its catalog (OpenBao 2.x) stops the plan: nothing is written.
#[test]
fn a_vault_without_the_aws_engine_stops_before_any_write() {
    let side = side_of(SPEC);
    let err = planned(&side, &Options::default(), |_| None).unwrap_err();
    assert_eq!(err.exit_code(), 3);
    assert!(
        err.message().contains("no `aws` secrets engine"),
        "{}",
        err.message()
    );
}

/// What the engine reads back after the apply plans nothing.
#[test]
fn a_second_run_against_what_was_written_changes_nothing() {
    let side = side_of(SPEC);
    let owner = side.owner.clone();
    let plan = planned(&side, &Options::default(), |p| {
        applied(&owner, p, "eu-west-1")
    })
    .unwrap();
    assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
    assert_eq!(aws_changes(&plan), 0, "{}", describe(&plan));
}

/// The root config is written whole by the engine: an update carries the keys again and what
/// the spec does not name as Vault holds it. With rotateRoot the key is Vault's alone: a
/// difference is a conflict until `--reset-connection`, which sends the keys and rotates again.
#[test]
fn a_changed_root_config_is_written_whole_and_with_rotate_root_only_on_reset() {
    let side = side_of(SPEC);
    let owner = side.owner.clone();
    let answer = |p: &str| applied(&owner, p, "us-east-1");
    let plan = planned(&side, &Options::default(), answer).unwrap();
    let root = step(&plan, "aws/config/root");
    assert_eq!(root.action, Action::Update);
    assert_eq!(
        root.changes,
        [Change::new("region", "us-east-1 → eu-west-1")]
    );
    assert_eq!(root.body["region"], "eu-west-1");
    assert_eq!(root.body["max_retries"], -1);
    assert!(root.body["username_template"].is_string());
    assert!(
        root.body.get("access_key").is_none(),
        "keys only by reference"
    );
    assert_eq!(root.secrets.len(), 2);

    let rotating = side_of(&SPEC.replace(
        "      region: eu-west-1\n",
        "      region: eu-west-1\n      rotateRoot: true\n",
    ));
    let plan = planned(&rotating, &Options::default(), answer).unwrap();
    assert_eq!(plan.conflicts.len(), 1, "{}", describe(&plan));
    assert!(plan.conflicts[0].contains("--reset-connection"));
    let reset = Options {
        reset_connections: true,
        ..Options::default()
    };
    let plan = planned(&rotating, &reset, answer).unwrap();
    assert!(plan.conflicts.is_empty());
    let at = |path: &str| plan.steps.iter().position(|s| s.path == path).unwrap();
    assert_eq!(step(&plan, "aws/config/root").secrets.len(), 2);
    assert!(at("aws/config/root") < at("aws/config/rotate-root"));
    // Unchanged and not reset: never sent again, never rotated again.
    let same = planned(&rotating, &Options::default(), |p| {
        applied(&owner, p, "eu-west-1")
    })
    .unwrap();
    assert_eq!(aws_changes(&same), 0, "{}", describe(&same));
}

/// A fresh engine with rotateRoot: the root key is rotated right after the root config.
#[test]
fn rotate_root_follows_the_first_root_config() {
    let side = side_of(&SPEC.replace(
        "      region: eu-west-1\n",
        "      region: eu-west-1\n      rotateRoot: true\n",
    ));
    let plan = planned(&side, &Options::default(), catalog_only).unwrap();
    let paths: Vec<&str> = plan.steps.iter().map(|s| s.path.as_str()).collect();
    let root = paths.iter().position(|p| *p == "aws/config/root").unwrap();
    assert_eq!(paths[root + 1], "aws/config/rotate-root");
}

const GCP_AZURE: &str = include_str!("../../../../../fixtures/cloud-gcp-azure.yaml");

fn gcp_azure_catalog(path: &str) -> Option<Value> {
    matches!(
        path,
        "sys/plugins/catalog/secret/gcp" | "sys/plugins/catalog/secret/azure"
    )
    .then(|| json!({"builtin": false}))
}

/// What the GCP and Azure engines read back after the fixture's plan: bindings as a map of
/// roles by resource, Azure role assignments with the role id the engine resolved.
fn gcp_azure_applied(owner: &str, path: &str) -> Option<Value> {
    match path {
        "sys/mounts" => Some(json!({
            "gcp/": {"type": "gcp", "description": owner},
            "azure/": {"type": "azure", "description": owner},
        })),
        "gcp/config" => Some(json!({"ttl": 3600, "max_ttl": 14400})),
        "gcp/roleset/viewer" => Some(json!({
            "secret_type": "access_token", "service_account_project": "my-project",
            "service_account_email": "vaultviewer-123@my-project.iam.gserviceaccount.com",
            "bindings": {"//cloudresourcemanager.googleapis.com/projects/my-project": ["roles/viewer"]},
            "token_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
        })),
        "gcp/static-account/ci" => Some(json!({
            "secret_type": "service_account_key",
            "service_account_email": "ci@my-project.iam.gserviceaccount.com",
            "service_account_project": "my-project",
            "bindings": {"//cloudresourcemanager.googleapis.com/projects/my-project": ["roles/storage.objectViewer"]},
        })),
        "azure/config" => Some(json!({
            "subscription_id": "00000000-0000-0000-0000-000000000001",
            "tenant_id": "00000000-0000-0000-0000-000000000002",
            "client_id": "00000000-0000-0000-0000-000000000003",
            "environment": "",
        })),
        "azure/roles/reader" => Some(json!({
            "azure_roles": [{
                "role_id": "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/acdd72a7",
                "role_name": "Reader",
                "scope": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/shop",
            }],
            "ttl": 3600, "max_ttl": 14400,
        })),
        _ => None,
    }
}

fn gcp_azure_changes(plan: &Plan) -> Vec<String> {
    plan.changes()
        .filter(|s| {
            s.path.starts_with("gcp/")
                || s.path.starts_with("azure/")
                || s.path.starts_with("sys/mounts/")
        })
        .map(|s| s.path.clone())
        .collect()
}

/// GCP and Azure: a fresh Vault gets the engines, their configs (the secret by reference,
/// the GCP key rotated right after), the rolesets, static accounts and roles; what the engines
/// read back plans nothing; the policies read exactly the token, key or creds path.
#[test]
fn gcp_and_azure_are_created_then_left_alone() {
    let side = side_of(GCP_AZURE);
    let fresh = planned(&side, &Options::default(), gcp_azure_catalog).unwrap();
    assert_eq!(
        gcp_azure_changes(&fresh),
        [
            "sys/mounts/azure",
            "sys/mounts/gcp",
            "gcp/config",
            "gcp/config/rotate-root",
            "gcp/roleset/viewer",
            "gcp/static-account/ci",
            "azure/config",
            "azure/roles/reader",
        ]
    );
    let gcp = step(&fresh, "gcp/config");
    assert_eq!(gcp.body, json!({"ttl": 3600, "max_ttl": 14400}));
    assert_eq!(gcp.secrets[0].field, "credentials");
    assert_eq!(
        gcp.secrets[0].source,
        "file:/run/secrets/gcp-vault-key.json"
    );
    let azure = step(&fresh, "azure/config");
    assert!(azure.body.get("client_secret").is_none());
    assert_eq!(azure.secrets[0].source, "env:AZURE_VAULT_CLIENT_SECRET");
    assert_eq!(
        step(&fresh, "gcp/roleset/viewer").body["bindings"],
        "{\"resource\":{\"//cloudresourcemanager.googleapis.com/projects/my-project\":{\"roles\":[\"roles/viewer\"]}}}"
    );
    let grants: Vec<String> = (side.policies.iter())
        .flat_map(|p| p.grants.iter().map(|g| g.path.clone()))
        .collect();
    assert_eq!(
        grants,
        [
            "azure/creds/reader",
            "gcp/roleset/viewer/token",
            "gcp/static-account/ci/key"
        ]
    );

    let owner = side.owner.clone();
    let again = planned(&side, &Options::default(), |p| gcp_azure_applied(&owner, p)).unwrap();
    assert!(again.conflicts.is_empty(), "{:?}", again.conflicts);
    assert!(gcp_azure_changes(&again).is_empty(), "{}", describe(&again));

    // A binding changed by hand is put back, and the plan shows it in the canonical form.
    let changed = planned(&side, &Options::default(), |p| {
        let mut v = gcp_azure_applied(&owner, p)?;
        if p == "gcp/roleset/viewer" {
            v["bindings"] = json!({"//cloudresourcemanager.googleapis.com/projects/my-project": ["roles/editor"]});
        }
        Some(v)
    })
    .unwrap();
    assert_eq!(gcp_azure_changes(&changed), ["gcp/roleset/viewer"]);
    assert!(
        describe(&changed).contains("roles/editor"),
        "{}",
        describe(&changed)
    );
}
