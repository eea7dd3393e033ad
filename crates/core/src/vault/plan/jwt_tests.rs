//! The JWT/OIDC planner against snapshots made by hand: what exists and is foreign is a
//! conflict, an alias on another accessor is moved, the OIDC client secret goes with the
//! config, and a method of another type stops the plan.

use super::*;
use crate::model;
use crate::spec::{self, validate};
use crate::vault::side as vault_side;
use serde_json::json;

const OWNER: &str = "managed by kubectl-vault for cluster dev";

fn side() -> VaultSide {
    let text = include_str!("../../../../../fixtures/pipelines.yaml").to_string();
    let sourced = spec::parse("pipelines.yaml", text).unwrap();
    let findings = validate::check(&sourced.spec, &sourced.index);
    assert!(findings.errors.is_empty(), "{:?}", findings.errors);
    let spec = validate::typed(sourced.spec, &sourced.index).unwrap();
    vault_side::derive(&model::build(&spec, "pipelines.yaml"))
}

/// Plans against `vault` (path → data; every other read absent, every list empty).
fn planned(vault: &[(&str, Value)]) -> Result<Plan, Error> {
    let side = side();
    let mut snapshot = Snapshot::default();
    loop {
        match plan(&side, &snapshot, &Options::default())? {
            Planned::Plan(p) => return Ok(p),
            Planned::Needs(queries) => {
                for q in queries {
                    match q {
                        Query::Read(p) => {
                            let data = vault.iter().find(|(k, _)| *k == p).map(|(_, v)| v.clone());
                            snapshot.insert_read(p, data)
                        }
                        Query::List(p) => snapshot.insert_list(p, vec![]),
                    }
                }
            }
        }
    }
}

fn step<'a>(plan: &'a Plan, what: &str) -> &'a Step {
    plan.steps
        .iter()
        .find(|s| s.what.starts_with(what))
        .unwrap_or_else(|| panic!("no step {what}: {}", describe(plan)))
}

#[test]
fn a_fresh_vault_gets_methods_configs_roles_groups_and_aliases_filled_at_apply_time() {
    let plan = planned(&[]).unwrap();
    let config = step(&plan, "oidc auth config oidc/");
    assert_eq!(config.action, Action::Create);
    assert_eq!(config.secrets.len(), 1);
    assert_eq!(config.secrets[0].field, "oidc_client_secret");
    assert_eq!(config.secrets[0].source, "env:VAULT_OIDC_CLIENT_SECRET");
    assert!(
        config.body.get("oidc_client_secret").is_none(),
        "never in the plan"
    );
    let alias = step(&plan, "group alias vault-admins on oidc/");
    assert_eq!(alias.path, "identity/group-alias");
    assert_eq!(alias.body, json!({"name": "vault-admins"}));
    assert_eq!(
        alias.fills,
        [
            Fill {
                field: "mount_accessor".into(),
                path: "sys/auth".into(),
                pointer: "/oidc~1/accessor".into()
            },
            Fill {
                field: "canonical_id".into(),
                path: "identity/group/name/oidc-vault-admins".into(),
                pointer: "/id".into()
            },
        ]
    );
    let role = step(&plan, "jwt role terraform-deploy on jwt/");
    assert_eq!(
        role.body["bound_claims"]["repository"],
        "octo-org/infrastructure"
    );
    assert_eq!(role.body["token_ttl"], 900);
}

#[test]
fn a_foreign_group_is_a_conflict_and_an_alias_on_another_accessor_is_moved() {
    let auth = json!({"oidc/": {"type": "oidc", "accessor": "auth_oidc_1", "description": OWNER}});
    let group = |owner: &str, accessor: &str| {
        json!({"id": "g-1", "type": "external", "policies": ["admin"], "metadata": {"managed-by": owner},
            "alias": {"id": "a-1", "name": "vault-admins", "mount_accessor": accessor}})
    };
    let plan = planned(&[
        ("sys/auth", auth.clone()),
        (
            "identity/group/name/oidc-vault-admins",
            group(OWNER, "auth_oidc_1"),
        ),
    ])
    .unwrap();
    assert_eq!(
        step(&plan, "identity group oidc-vault-admins").action,
        Action::Unchanged
    );
    assert_eq!(
        step(&plan, "group alias vault-admins").action,
        Action::Unchanged
    );

    let plan = planned(&[
        ("sys/auth", auth.clone()),
        (
            "identity/group/name/oidc-vault-admins",
            group(OWNER, "auth_old"),
        ),
    ])
    .unwrap();
    let alias = step(&plan, "group alias vault-admins");
    assert_eq!(alias.action, Action::Update);
    assert_eq!(alias.path, "identity/group-alias/id/a-1");
    assert_eq!(alias.fills.len(), 2);

    let mut foreign = group("someone else", "auth_oidc_1");
    foreign["policies"] = json!(["root-ish"]);
    let plan = planned(&[
        ("sys/auth", auth),
        ("identity/group/name/oidc-vault-admins", foreign),
    ])
    .unwrap();
    assert!(
        plan.conflicts
            .iter()
            .any(|c| c.starts_with("identity group oidc-vault-admins")),
        "{:?}",
        plan.conflicts
    );
    assert!(!plan
        .steps
        .iter()
        .any(|s| s.what.starts_with("group alias vault-admins")));
}

#[test]
fn a_method_of_another_type_at_the_mount_stops_the_plan() {
    let auth = json!({"oidc/": {"type": "userpass", "accessor": "x", "description": ""}});
    let e = planned(&[("sys/auth", auth)]).unwrap_err();
    assert!(
        e.message().contains("auth method oidc/ exists with type"),
        "{}",
        e.message()
    );
}
