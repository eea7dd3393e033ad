//! The planner against snapshots made by hand.

use super::*;
use crate::model;
use crate::spec::{self, validate};
use crate::vault::side as vault_side;
use serde_json::json;

fn side() -> VaultSide {
    let text = include_str!("../../../../../fixtures/example.yaml").to_string();
    let sourced = spec::parse("example.yaml", text).unwrap();
    assert!(validate::check(&sourced.spec, &sourced.index)
        .errors
        .is_empty());
    let spec = validate::typed(sourced.spec, &sourced.index).unwrap();
    vault_side::derive(&model::build(&spec, "example.yaml"))
}

/// An intermediate whose mount sorts before its root's is still planned after the root
/// (the root must exist to sign it), carries the sign and set-signed writes, and is left
/// alone once its mount has a default issuer.
#[test]
fn an_intermediate_is_planned_after_its_root_and_only_without_an_issuer() {
    let text = include_str!("../../../../../fixtures/pki-intermediate.yaml")
        .replace("pki_int", "a_int")
        .replace(
            "    pki:\n      maxLeaseTtl: 87600h",
            "    z_root:\n      maxLeaseTtl: 87600h",
        )
        .replace("signedBy: pki", "signedBy: z_root");
    let sourced = spec::parse("pki.yaml", text).unwrap();
    let findings = validate::check(&sourced.spec, &sourced.index);
    assert!(findings.errors.is_empty(), "{:?}", findings.errors);
    let spec = validate::typed(sourced.spec, &sourced.index).unwrap();
    let side = vault_side::derive(&model::build(&spec, "pki.yaml"));
    let mounts: Vec<&str> = side.pki.iter().map(|p| p.mount.as_str()).collect();
    assert_eq!(mounts, ["z_root", "a_int"]);

    let planned = |issuer: Option<&str>| {
        let mut snapshot = Snapshot::default();
        loop {
            match plan(&side, &snapshot, &Options::default()).unwrap() {
                Planned::Plan(p) => break p,
                Planned::Needs(queries) => {
                    for q in queries {
                        match q {
                            Query::Read(p) if p == "sys/mounts" && issuer.is_some() => {
                                snapshot.insert_read(p, Some(json!({"a_int/": {"type": "pki"}, "z_root/": {"type": "pki"}})))
                            }
                            Query::Read(p) if p == "a_int/config/issuers" => snapshot
                                .insert_read(p, issuer.map(|d| json!({"default": d}))),
                            Query::Read(p) => snapshot.insert_read(p, None),
                            Query::List(p) => snapshot.insert_list(p, vec![]),
                        }
                    }
                }
            }
        }
    };
    let fresh = planned(None);
    let at = |plan: &Plan, path: &str| {
        plan.steps
            .iter()
            .position(|s| s.path == path)
            .unwrap_or_else(|| panic!("no step {path}"))
    };
    assert!(
        at(&fresh, "z_root/root/generate/internal")
            < at(&fresh, "a_int/intermediate/generate/internal")
    );
    let step = &fresh.steps[at(&fresh, "a_int/intermediate/generate/internal")];
    assert_eq!(step.action, Action::Create);
    assert_eq!(
        step.intermediate,
        Some(Intermediate {
            sign_path: "z_root/root/sign-intermediate".into(),
            sign_body: json!({"common_name": "Lab Intermediate CA", "format": "pem_bundle", "max_path_length": 0, "ttl": "43800h"}),
            set_signed_path: "a_int/intermediate/set-signed".into(),
        })
    );
    let signed = planned(Some("0b5e6d7a"));
    let step = &signed.steps[at(&signed, "a_int/intermediate/generate/internal")];
    assert_eq!(step.action, Action::Unchanged);
    assert!(step.intermediate.is_none());
}

/// The planner asks for what it lacks, rounds end, and an empty Vault means create all.
#[test]
fn an_empty_vault_is_planned_from_a_snapshot_filled_in_rounds() {
    let side = side();
    let options = Options::default();
    let mut snapshot = Snapshot::default();
    let mut rounds = vec![];
    let planned = loop {
        match plan(&side, &snapshot, &options).unwrap() {
            Planned::Plan(p) => break p,
            Planned::Needs(queries) => {
                assert!(rounds.len() < 5, "the rounds end");
                for q in &queries {
                    match q {
                        Query::Read(p) => snapshot.insert_read(p.clone(), None),
                        Query::List(p) => snapshot.insert_list(p.clone(), vec![]),
                    }
                }
                rounds.push(queries);
            }
        }
    };
    assert_eq!(
        rounds[0][..2],
        [
            Query::Read("sys/mounts".into()),
            Query::Read("sys/auth".into())
        ]
    );
    assert!(planned.conflicts.is_empty());
    assert!(
        planned.steps.iter().all(|s| s.action == Action::Create),
        "{:?}",
        planned.steps
    );
    // Planning again from the same snapshot reads nothing and plans the same.
    let Planned::Plan(again) = plan(&side, &snapshot, &options).unwrap() else {
        panic!("a complete snapshot needs no reads")
    };
    assert_eq!(again.steps.len(), planned.steps.len());
}

/// Fills every read the planner asks for from `answer` (absent: `None`), in rounds.
fn planned_with(side: &VaultSide, answer: impl Fn(&str) -> Option<Value>) -> Plan {
    let mut snapshot = Snapshot::default();
    loop {
        match plan(side, &snapshot, &Options::default()).unwrap() {
            Planned::Plan(p) => break p,
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

/// A PKI role of ours that differs in one named field is patched with that field alone (a
/// role's POST would reset what the spec does not name), and the plan says which field.
#[test]
fn a_role_that_differs_in_one_field_is_patched_with_that_field_only() {
    let side = side();
    let owner = side.owner.clone();
    let plan = planned_with(&side, |path| match path {
        "sys/mounts" => Some(json!({"pki_int/": {"type": "pki", "description": owner}})),
        "pki_int/roles/internal-tls" => Some(json!({
            "allowed_domains": ["svc.cluster.local"], "allow_subdomains": true,
            "allow_bare_domains": false, "max_ttl": 172800,
            "require_cn": false, "allow_ip_sans": false,
        })),
        _ => None,
    });
    let step = plan
        .steps
        .iter()
        .find(|s| s.path == "pki_int/roles/internal-tls")
        .unwrap();
    assert_eq!(step.action, Action::Update);
    assert_eq!(step.method, Method::Patch);
    assert_eq!(step.body, json!({"max_ttl": 259200}));
    assert_eq!(step.changes, [Change::new("max_ttl", "48h → 72h")]);
    assert!(describe(&plan).contains(
        "update     pki role pki_int/roles/internal-tls\n             max_ttl: 48h → 72h\n"
    ));
}
