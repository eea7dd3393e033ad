use super::*;
use crate::header;
use std::collections::BTreeMap;

const SPEC: &str = "vault.yaml";

/// A file generated for `cluster`.
fn ours(cluster: &str, body: &str) -> String {
    header::stamp(body, cluster, None)
}

/// A file generated for `cluster`, then edited by hand.
fn edited(cluster: &str, body: &str) -> String {
    ours(cluster, body) + "# a hand edit\n"
}

/// A file generated before headers named a cluster.
fn legacy(body: &str) -> String {
    format!(
        "{} 0.0.1 from {SPEC}. Do not edit: change the spec and run kubectl vault generate.\n# kubectl-vault-sha256: {}\n{body}",
        header::MARKER,
        header::sha256_hex(body.as_bytes())
    )
}

/// A fake blob id: what the text hashes to (Git's own hashing is the edge's).
fn id(text: &str) -> BlobId {
    BlobId(header::sha256_hex(text.as_bytes()))
}

/// A repository as the edge would read it: the branch's files, the work tree's differing
/// files (`None`: deleted) and the index's staged ones (`None`: staged deletion).
#[derive(Default)]
struct Repo {
    committed: Vec<(&'static str, String)>,
    work_tree: Vec<(&'static str, Option<String>)>,
    staged: Vec<(&'static str, Option<String>)>,
}

struct Case {
    name: &'static str,
    /// The generated tree: path and text.
    tree: Vec<(&'static str, String)>,
    repo: Repo,
    /// The changes, in path order.
    changes: Vec<(Action, &'static str)>,
    /// The conflicts: path and a part of the reason.
    conflicts: Vec<(&'static str, &'static str)>,
}

const ROOTS: [&str; 2] = ["clusters/homelab", "apps"];

/// Runs the planner to the end, answering its queries as the edge would.
fn run(case: &Case) -> (Plan, usize) {
    let tree = Tree {
        files: case
            .tree
            .iter()
            .map(|(p, t)| (p.to_string(), t.clone()))
            .collect(),
        objects: BTreeMap::new(),
    };
    let roots: Vec<String> = ROOTS.iter().map(|r| r.to_string()).collect();
    let clusters = vec!["homelab".to_string()];
    let options = Options {
        roots: &roots,
        clusters: &clusters,
    };
    let committed: BTreeMap<&str, &String> =
        case.repo.committed.iter().map(|(p, t)| (*p, t)).collect();
    let work_tree: BTreeMap<&str, &Option<String>> =
        case.repo.work_tree.iter().map(|(p, t)| (*p, t)).collect();
    let staged: BTreeMap<&str, &Option<String>> =
        case.repo.staged.iter().map(|(p, t)| (*p, t)).collect();

    let folders = folders(&tree, &roots);
    let mut snapshot = RepoSnapshot {
        committed: committed
            .iter()
            .filter(|(p, _)| folders.iter().any(|f| p.starts_with(f.as_str())))
            .map(|(p, t)| (p.to_string(), id(t)))
            .collect(),
        wanted: tree.files.iter().map(|(p, t)| (p.clone(), id(t))).collect(),
        ..Default::default()
    };
    for path in work_tree.keys().chain(staged.keys()) {
        snapshot.dirty.insert(
            path.to_string(),
            Dirty {
                staged: staged.contains_key(path),
                index_blob: staged.get(path).and_then(|t| t.as_deref().map(id)),
            },
        );
    }
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds < 5, "{}: the planner keeps asking", case.name);
        match plan(&tree, &snapshot, &options) {
            Planned::Plan(p) => return (p, rounds),
            Planned::Needs(queries) => {
                for q in queries {
                    match q {
                        Query::Committed(p) => {
                            assert!(
                                snapshot.committed.contains_key(&p),
                                "{}: asked for {p}, which the branch does not hold",
                                case.name
                            );
                            let text = committed.get(p.as_str()).map(|t| t.to_string());
                            snapshot.insert_committed_text(p, text);
                        }
                        Query::WorkTree(p) => {
                            assert!(
                                snapshot.dirty.contains_key(&p),
                                "{}: asked for the work tree's {p}, which is clean",
                                case.name
                            );
                            let text = match work_tree.get(p.as_str()) {
                                Some(t) => t.as_ref().cloned(),
                                None => committed.get(p.as_str()).map(|t| t.to_string()),
                            };
                            snapshot.insert_work_tree_text(p, text);
                        }
                    }
                }
            }
        }
    }
}

fn cases() -> Vec<Case> {
    let ks = "clusters/homelab/vault.yaml";
    let app = "apps/web/app/vaultauth.yaml";
    let new = ours("homelab", "kind: VaultAuth\nnew: true\n");
    let old = ours("homelab", "kind: VaultAuth\nnew: false\n");
    vec![
        Case {
            name: "a new file is added",
            tree: vec![(app, new.clone())],
            repo: Repo::default(),
            changes: vec![(Action::Add, app)],
            conflicts: vec![],
        },
        Case {
            name: "an unchanged file is left alone",
            tree: vec![(app, new.clone())],
            repo: Repo {
                committed: vec![(app, new.clone())],
                ..Default::default()
            },
            changes: vec![],
            conflicts: vec![],
        },
        Case {
            name: "an older generated file of this cluster is updated",
            tree: vec![(app, new.clone())],
            repo: Repo {
                committed: vec![(app, old.clone())],
                ..Default::default()
            },
            changes: vec![(Action::Update, app)],
            conflicts: vec![],
        },
        Case {
            name: "a file the tool did not write is a conflict",
            tree: vec![(app, new.clone())],
            repo: Repo {
                committed: vec![(app, "kind: VaultAuth\n".into())],
                ..Default::default()
            },
            changes: vec![(Action::Update, app)],
            conflicts: vec![(app, "was not generated by kubectl-vault")],
        },
        Case {
            name: "another cluster's file is refused (without --force)",
            tree: vec![(app, new.clone())],
            repo: Repo {
                committed: vec![(app, ours("production", "kind: VaultAuth\n"))],
                ..Default::default()
            },
            changes: vec![(Action::Update, app)],
            conflicts: vec![(
                app,
                "was generated for cluster production, not for this spec's cluster",
            )],
        },
        Case {
            name: "a committed hand edit is a conflict",
            tree: vec![(app, new.clone())],
            repo: Repo {
                committed: vec![(app, edited("homelab", "kind: VaultAuth\n"))],
                ..Default::default()
            },
            changes: vec![(Action::Update, app)],
            conflicts: vec![(app, "edited by hand after kubectl-vault generated it (committed)")],
        },
        Case {
            name: "an uncommitted hand edit is a conflict, also when the branch is current",
            tree: vec![(app, new.clone())],
            repo: Repo {
                committed: vec![(app, new.clone())],
                work_tree: vec![(app, Some(edited("homelab", "kind: VaultAuth\n")))],
                ..Default::default()
            },
            changes: vec![],
            conflicts: vec![(
                app,
                "edited by hand after kubectl-vault generated it (uncommitted)",
            )],
        },
        Case {
            name: "an older generated version in the work tree is a conflict",
            tree: vec![(app, new.clone())],
            repo: Repo {
                committed: vec![(app, ours("homelab", "kind: VaultAuth\nnewer: 1\n"))],
                work_tree: vec![(app, Some(old.clone()))],
                ..Default::default()
            },
            changes: vec![(Action::Update, app)],
            conflicts: vec![(app, "has uncommitted changes (an older generated version)")],
        },
        Case {
            name: "uncommitted text nobody generated is a conflict",
            tree: vec![(app, new.clone())],
            repo: Repo {
                work_tree: vec![(app, Some("scratch\n".into()))],
                ..Default::default()
            },
            changes: vec![(Action::Add, app)],
            conflicts: vec![(app, "uncommitted changes that kubectl-vault did not write")],
        },
        Case {
            name: "the work tree already holding the new file is no conflict",
            tree: vec![(app, new.clone())],
            repo: Repo {
                committed: vec![(app, old.clone())],
                work_tree: vec![(app, Some(new.clone()))],
                ..Default::default()
            },
            changes: vec![(Action::Update, app)],
            conflicts: vec![],
        },
        Case {
            name: "staged changes are a conflict",
            tree: vec![(app, new.clone())],
            repo: Repo {
                committed: vec![(app, old.clone())],
                staged: vec![(app, Some("staged\n".into()))],
                ..Default::default()
            },
            changes: vec![(Action::Update, app)],
            conflicts: vec![(app, "has staged changes: commit them, or unstage them with `git restore --staged -- apps/web/app/vaultauth.yaml`")],
        },
        Case {
            name: "exactly the planned blob staged (a run killed after the index) is no conflict",
            tree: vec![(app, new.clone())],
            repo: Repo {
                committed: vec![(app, old.clone())],
                work_tree: vec![(app, Some(new.clone()))],
                staged: vec![(app, Some(new.clone()))],
            },
            changes: vec![(Action::Update, app)],
            conflicts: vec![],
        },
        Case {
            name: "a stale file of this cluster inside the roots is pruned",
            tree: vec![(ks, new.clone())],
            repo: Repo {
                committed: vec![(ks, new.clone()), (app, old.clone())],
                ..Default::default()
            },
            changes: vec![(Action::Remove, app)],
            conflicts: vec![],
        },
        Case {
            name: "a stale file from before headers named a cluster is pruned",
            tree: vec![(ks, new.clone())],
            repo: Repo {
                committed: vec![(app, legacy("kind: VaultAuth\n"))],
                ..Default::default()
            },
            changes: vec![(Action::Remove, app), (Action::Add, ks)],
            conflicts: vec![],
        },
        Case {
            name: "stale files outside the roots, another cluster's or not generated stay",
            tree: vec![(ks, new.clone())],
            repo: Repo {
                committed: vec![
                    ("apps-other/x.yaml", old.clone()),
                    ("clusters/homelab-2/x.yaml", old.clone()),
                    ("apps/web/other.yaml", ours("production", "kind: X\n")),
                    ("apps/web/mine.yaml", "kind: X\n".into()),
                    ("apps", old.clone()),
                ],
                ..Default::default()
            },
            changes: vec![(Action::Add, ks)],
            conflicts: vec![],
        },
        Case {
            name: "a stale file edited by hand is removed only with --force",
            tree: vec![(ks, new.clone())],
            repo: Repo {
                committed: vec![(ks, new.clone()), (app, edited("homelab", "kind: X\n"))],
                ..Default::default()
            },
            changes: vec![(Action::Remove, app)],
            conflicts: vec![(app, "edited by hand after kubectl-vault generated it (committed)")],
        },
        Case {
            name: "a stale file edited in the work tree is a conflict",
            tree: vec![(ks, new.clone())],
            repo: Repo {
                committed: vec![(ks, new.clone()), (app, old.clone())],
                work_tree: vec![(app, Some(edited("homelab", "kind: X\n")))],
                ..Default::default()
            },
            changes: vec![(Action::Remove, app)],
            conflicts: vec![(
                app,
                "edited by hand after kubectl-vault generated it (uncommitted)",
            )],
        },
        Case {
            name: "a stale file already deleted in the work tree is removed without conflict",
            tree: vec![(ks, new.clone())],
            repo: Repo {
                committed: vec![(ks, new.clone()), (app, old.clone())],
                work_tree: vec![(app, None)],
                ..Default::default()
            },
            changes: vec![(Action::Remove, app)],
            conflicts: vec![],
        },
        Case {
            name: "a foreign file both committed and edited is reported once",
            tree: vec![(app, new.clone())],
            repo: Repo {
                committed: vec![(app, "kind: VaultAuth\n".into())],
                work_tree: vec![(app, Some("kind: VaultAuth\nmore: 1\n".into()))],
                ..Default::default()
            },
            changes: vec![(Action::Update, app)],
            conflicts: vec![(app, "was not generated by kubectl-vault")],
        },
    ]
}

#[test]
fn plans_follow_ownership_staleness_and_hand_edits() {
    for case in cases() {
        let (plan, _) = run(&case);
        let changes: Vec<(Action, &str)> = plan
            .changes
            .iter()
            .map(|c| (c.action, c.path.as_str()))
            .collect();
        assert_eq!(changes, case.changes, "{}: changes", case.name);
        assert_eq!(
            plan.conflicts.len(),
            case.conflicts.len(),
            "{}: conflicts {:?}",
            case.name,
            plan.conflicts
        );
        for (c, (path, reason)) in plan.conflicts.iter().zip(&case.conflicts) {
            assert_eq!(c.path, *path, "{}", case.name);
            assert!(
                c.reason.contains(reason),
                "{}: `{}` lacks `{reason}`",
                case.name,
                c.reason
            );
        }
        for c in &plan.changes {
            let wanted = case.tree.iter().find(|(p, _)| *p == c.path);
            assert_eq!(
                c.new.as_deref(),
                wanted.map(|(_, t)| t.as_str()),
                "{}",
                case.name
            );
        }
    }
}

#[test]
fn a_change_carries_what_the_branch_held_and_a_conflict_what_would_be_lost() {
    let app = "apps/web/app/vaultauth.yaml";
    let new = ours("homelab", "kind: VaultAuth\nnew: true\n");
    let hand = edited("homelab", "kind: VaultAuth\n");
    let (plan, _) = run(&Case {
        name: "contents",
        tree: vec![(app, new.clone())],
        repo: Repo {
            committed: vec![(app, hand.clone())],
            ..Default::default()
        },
        changes: vec![],
        conflicts: vec![],
    });
    assert_eq!(plan.changes[0].old.as_deref(), Some(hand.as_str()));
    assert_eq!(plan.conflicts[0].current, hand);
    assert_eq!(plan.conflicts[0].wanted, new);
}

#[test]
fn committed_texts_are_read_only_when_their_blobs_differ() {
    let app = "apps/web/app/vaultauth.yaml";
    let same = ours("homelab", "kind: VaultAuth\n");
    let tree = Tree {
        files: [(app.to_string(), same.clone())].into(),
        objects: BTreeMap::new(),
    };
    let roots = vec!["apps".to_string()];
    let clusters = vec!["homelab".to_string()];
    let snapshot = RepoSnapshot {
        committed: [(app.to_string(), id(&same))].into(),
        wanted: [(app.to_string(), id(&same))].into(),
        ..Default::default()
    };
    let options = Options {
        roots: &roots,
        clusters: &clusters,
    };
    match plan(&tree, &snapshot, &options) {
        Planned::Plan(p) => assert_eq!(p, Plan::default()),
        Planned::Needs(q) => panic!("asked for {q:?}"),
    }
    assert_eq!(folders(&tree, &roots), ["apps"]);
}

#[test]
fn commit_summaries_name_the_objects_of_removed_files_from_their_text() {
    let removed = Change {
        path: "apps/web/app/vaultstaticsecret-db.yaml".into(),
        action: Action::Remove,
        old: Some(
            "# header\nkind: VaultStaticSecret\nmetadata:\n  name: db\n  namespace: web\n".into(),
        ),
        new: None,
    };
    let kustomization = Change {
        path: "apps/web/kustomization.yaml".into(),
        action: Action::Remove,
        old: Some("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nmetadata:\n  name: x\n".into()),
        new: None,
    };
    let described = describe(&[removed, kustomization], &BTreeMap::new());
    assert_eq!(
        described[&Action::Remove],
        [("VaultStaticSecret".to_string(), "db".to_string())]
    );
}
