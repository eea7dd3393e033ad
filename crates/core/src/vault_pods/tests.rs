//! The unit tests of the Vault pods' core: choosing the StatefulSet's own pods, statuses,
//! init plans and answers.

mod own_pods {
    use super::super::*;

    fn pod(name: &str, owner: Option<&str>) -> VaultPod {
        let mut v = serde_json::json!({"metadata": {"name": name}, "status": {"phase": "Running"}});
        if let Some(uid) = owner {
            v["metadata"]["ownerReferences"] = serde_json::json!([
                {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "vault", "uid": uid, "controller": true}
            ]);
        }
        VaultPod::from_json(&v)
    }

    #[test]
    fn only_the_statefulsets_own_pods_are_talked_to() {
        let sts = VaultStatefulSet {
            uid: "u-1".into(),
            replicas: 3,
        };
        let (own, others) = own_pods(
            vec![
                pod("vault-2", Some("u-1")),
                pod("vault-0", Some("u-1")),
                pod("vault-1", None),        // labels, no owner
                pod("vault-3", Some("u-1")), // above replicas
                pod("aaa-0", Some("u-1")),   // not a pod name of the set
                pod("vault-01", Some("u-1")),
                pod("vault-1", Some("u-2")), // another StatefulSet's
            ],
            &sts,
            Distribution::Vault,
        );
        assert_eq!(
            own.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["vault-0", "vault-2"]
        );
        assert_eq!(others.len(), 5, "{others:?}");
        assert!(others
            .iter()
            .any(|i| i.name == "aaa-0" && i.why.contains("not a pod name")));
    }
}

mod status {
    use super::super::*;

    fn pod(name: &str) -> VaultPod {
        VaultPod {
            name: name.into(),
            phase: "Running".into(),
            sealed_label: None,
            active_label: None,
            initialized_label: None,
            controller_uid: Some("sts-uid".into()),
        }
    }

    fn seal(initialized: bool, sealed: bool, progress: u32) -> SealStatus {
        SealStatus {
            seal_type: "shamir".into(),
            initialized,
            sealed,
            t: 3,
            n: 5,
            progress,
            version: "2.7.2".into(),
            recovery_seal: false,
        }
    }

    fn obs(name: &str, s: SealStatus, is_self: Option<bool>) -> PodObservation {
        PodObservation {
            pod: pod(name),
            seal: Ok(s),
            leader: is_self.map(|is_self| Leader {
                ha_enabled: true,
                is_self,
            }),
        }
    }

    #[test]
    fn summary_of_a_healthy_cluster_and_of_a_sealed_pod() {
        let raft: Vec<RaftServer> = ["vault-0", "vault-1", "vault-2"]
            .iter()
            .map(|n| RaftServer {
                node_id: n.to_string(),
                address: format!("{n}.vault-internal:8201"),
                leader: *n == "vault-0",
                voter: true,
            })
            .collect();
        let healthy = [
            obs("vault-0", seal(true, false, 0), Some(true)),
            obs("vault-1", seal(true, false, 0), Some(false)),
            obs("vault-2", seal(true, false, 0), Some(false)),
        ];
        let r = status_report("vault", &healthy, Some(&raft));
        assert_eq!(r.summary, "3/3 unsealed, leader vault-0, 3 raft voters");
        assert!(r.ok);
        let sealed = [
            obs("vault-0", seal(true, false, 0), Some(true)),
            obs("vault-1", seal(true, true, 1), None),
            obs("vault-2", seal(true, false, 0), Some(false)),
        ];
        let r = status_report("vault", &sealed, None);
        assert!(!r.ok);
        assert_eq!(r.pods[1].unseal_progress.as_deref(), Some("1/3"));
        // Two pods claiming the leadership: not ok, said so, no "leader <the first>".
        let split = [
            obs("vault-0", seal(true, false, 0), Some(true)),
            obs("vault-1", seal(true, false, 0), Some(true)),
        ];
        let two = status_report("vault", &split, None);
        assert!(!two.ok);
        assert_eq!(two.leader, None);
        assert!(
            two.summary
                .contains("2 pods claim the leadership (vault-0, vault-1)"),
            "{}",
            two.summary
        );
        assert!(the_active(&split).is_err());
        assert_eq!(the_active(&healthy).unwrap().unwrap().pod.name, "vault-0");
        assert_eq!(
            r.summary,
            "2/3 unsealed, leader vault-0, raft voters unknown (set VAULT_TOKEN to read them)"
        );
    }

    #[test]
    fn unseal_order_puts_the_initialised_pod_first_then_statefulset_order() {
        let o = [
            obs("vault-10", seal(false, true, 0), None),
            obs("vault-2", seal(false, true, 0), None),
            obs("vault-1", seal(true, true, 0), None),
            obs("vault-0", seal(true, false, 0), Some(true)),
        ];
        assert_eq!(unseal_order(&o), ["vault-1", "vault-2", "vault-10"]);
    }

    #[test]
    fn init_plan_checks_numbers_and_writes_recovery_fields_for_auto_unseal() {
        let mut p = InitPlan {
            shares: 5,
            threshold: 3,
            pgp_keys: vec![],
            root_token_pgp_key: None,
            recovery: false,
        };
        assert_eq!(p.check(), Ok(()));
        assert_eq!(
            p.request_body(),
            serde_json::json!({"secret_shares": 5, "secret_threshold": 3})
        );
        p.recovery = true;
        assert_eq!(
            p.request_body(),
            serde_json::json!({"recovery_shares": 5, "recovery_threshold": 3})
        );
        p.threshold = 6;
        assert!(p.check().is_err());
        p.threshold = 1;
        assert!(p.check().is_err());
        p.threshold = 3;
        p.pgp_keys = vec!["a".into()];
        assert!(p
            .check()
            .unwrap_err()
            .to_string()
            .contains("one key per share"));
    }

    #[test]
    fn pgp_keys_armored_base64_or_binary_become_base64_of_the_binary_key() {
        let binary = vec![0x99, 0x01, 0x0d, 0x04, 0x65];
        let b64 = base64::engine::general_purpose::STANDARD.encode(&binary);
        assert_eq!(pgp_public_key(&binary).unwrap(), b64);
        assert_eq!(pgp_public_key(b64.as_bytes()).unwrap(), b64);
        let armored = format!(
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\nComment: test\n\n{b64}\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n"
        );
        assert_eq!(pgp_public_key(armored.as_bytes()).unwrap(), b64);
        assert!(pgp_public_key(b"hello world").is_err());
    }

    #[test]
    fn seal_link_names_sealed_pods() {
        let mut a = pod("vault-0");
        a.sealed_label = Some(false);
        a.active_label = Some(true);
        let mut b = pod("vault-1");
        b.sealed_label = Some(true);
        assert_eq!(
            seal_link(&[a.clone()]),
            (true, "1/1 unsealed, leader vault-0".to_string())
        );
        let (ok, detail) = seal_link(&[b, a]);
        assert!(!ok);
        assert!(
            detail.contains("sealed (or not reporting): vault-1"),
            "{detail}"
        );
    }

    #[test]
    fn scrub_removes_secrets() {
        assert_eq!(
            scrub("bad key abcdef here", &["abcdef"]),
            "bad key [REDACTED] here"
        );
    }
}
