//! The consumers other than the operator (injector, CSI, ESO): what `generate` writes for
//! them is checked against the upstream CRDs (fixtures/crds/, copied byte for byte from the
//! reference: ESO v2.9.0, Secrets Store CSI driver v1.6.0), the way the API server would
//! check it: every field known, of its type and enum, every required field present.

use crate::support::common::*;
use crate::support::crd_schema::{crd_schema, schema_problems};
use serde_json::Value as Json;

/// The generated tree of `fixtures/<name>`.
fn generate(name: &str) -> std::collections::BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "-f",
        fixture(name).to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "generate failed: {}", stderr(&o));
    read_tree(&out)
}

#[test]
fn eso_and_csi_objects_match_the_upstream_crds() {
    let tree = generate("consumers.yaml");
    let mut checked = std::collections::BTreeMap::<String, usize>::new();
    let mut problems = vec![];
    for (path, content) in &tree {
        if !path.ends_with(".yaml") {
            continue;
        }
        for doc in serde_yaml::Deserializer::from_str(content) {
            let v: Json = serde::Deserialize::deserialize(doc).unwrap();
            let (Some(api), Some(kind)) = (v["apiVersion"].as_str(), v["kind"].as_str()) else {
                continue;
            };
            let Some((group, version)) = api.split_once('/') else {
                continue;
            };
            if !matches!(group, "external-secrets.io" | "secrets-store.csi.x-k8s.io") {
                continue;
            }
            problems.extend(schema_problems(
                &v,
                &crd_schema(group, kind, version),
                &format!("{path}: "),
            ));
            *checked.entry(kind.to_string()).or_default() += 1;
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(
        checked.into_iter().collect::<Vec<_>>(),
        [
            ("ClusterSecretStore".to_string(), 1),
            ("ExternalSecret".to_string(), 3),
            ("SecretProviderClass".to_string(), 3),
            ("SecretStore".to_string(), 2),
        ]
    );
}

/// The values of the Vault HelmRelease `generate` writes for `fixture_name`.
fn vault_release_values(fixture_name: &str) -> serde_yaml::Value {
    let tree = generate(fixture_name);
    let (_, release) = tree
        .iter()
        .find(|(p, body)| {
            p.ends_with(".yaml") && body.contains("kind: HelmRelease") && body.contains("server:")
        })
        .expect("the Vault HelmRelease");
    let doc: serde_yaml::Value = serde_yaml::from_str(release).unwrap();
    doc["spec"]["values"].clone()
}

/// The Vault chart's CSI provider runs on every node: it mounts Vault's CA (`ca.crt`) and
/// never the server's private key from the same Secret.
#[test]
fn the_csi_provider_mounts_only_vaults_ca() {
    let volumes = &vault_release_values("consumers.yaml")["csi"]["volumes"];
    let secret = &volumes[0]["secret"];
    assert_eq!(
        secret["items"][0]["key"].as_str(),
        Some("ca.crt"),
        "{volumes:?}"
    );
    assert_eq!(
        secret["items"].as_sequence().map(Vec::len),
        Some(1),
        "{volumes:?}"
    );
}

/// An HA Vault gets an HA injector: two replicas (the chart elects a leader among them).
#[test]
fn the_injector_of_an_ha_vault_runs_two_replicas() {
    let values = vault_release_values("production.yaml");
    assert_eq!(
        values["injector"]["replicas"].as_u64(),
        Some(2),
        "{values:?}"
    );
}

/// A Vault in this cluster serving plain HTTP behind a TLS proxy (operator.address https):
/// the ESO store trusts the CA the operator trusts (operator.caCertSecret), like the
/// VaultConnection does; before, the tree failed its own self-check (exit 70).
#[test]
fn an_eso_store_behind_a_tls_proxy_trusts_the_operator_s_ca() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("vault.yaml");
    let text = std::fs::read_to_string(fixture("bad/eso-https-proxy-without-ca.yaml"))
        .unwrap()
        .replace(
            "  address: https://vault.example.internal:8200\n",
            "  address: https://vault.example.internal:8200\n  caCertSecret: proxy-ca\n",
        )
        .replace("  # <-- error", "");
    std::fs::write(&spec, text).unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "-f",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "generate failed: {}", stderr(&o));
    let tree = read_tree(&out);
    let store: Json =
        serde_yaml::from_str(&tree["apps/dev/shop/api/secretstore-api.yaml"]).unwrap();
    let vault = &store["spec"]["provider"]["vault"];
    assert_eq!(vault["server"], "https://vault.example.internal:8200");
    assert_eq!(vault["caProvider"]["name"], "proxy-ca");
    assert_eq!(vault["caProvider"]["key"], "ca.crt");
    let connection = &tree["apps/dev/_vault-apps/vault-connection.yaml"];
    assert!(
        connection.contains("caCertSecretRef: proxy-ca"),
        "{connection}"
    );
}

#[test]
fn the_schema_check_catches_what_the_api_server_would_refuse() {
    let schema = crd_schema("external-secrets.io", "ExternalSecret", "v1");
    let bad: Json = serde_json::json!({
        "apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
        "spec": {"secretStoreRef": {"kind": "VaultStore", "name": "x"},
                 "target": {"name": "x", "creationPolicy": "Owner"},
                 "dataFrom": [{"extract": {}}], "refreshInterval": "1h", "tlsSecretRef": "x"}
    });
    assert_eq!(
        schema_problems(&bad, &schema, ""),
        [
            ".spec.dataFrom[0].extract: required field \"key\" is missing",
            ".spec.secretStoreRef.kind: \"VaultStore\" is not one of [String(\"SecretStore\"), String(\"ClusterSecretStore\")]",
            ".spec.tlsSecretRef: unknown field",
        ]
    );
}

// ---------- verify follows each consumer's chain (the fake API server) ----------

mod verify {
    use crate::support::cluster_state::{self, uid_of, REVISION};
    use crate::support::common::*;
    use crate::support::fake_apiserver::FakeApiServer;
    use base64::Engine;
    use serde_json::{json, Value};

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    fn ready(status: &str, reason: &str, message: &str) -> Value {
        json!({"conditions": [{"type": "Ready", "status": status, "reason": reason, "message": message,
               "lastTransitionTime": "2026-11-01T00:00:00Z"}], "refreshTime": "2026-11-01T00:00:00Z"})
    }

    /// The consumers fixture with everything working: VSO as in the other verify tests, ESO
    /// synced its ExternalSecrets, the CSI driver mounted the volumes of one pod (and mirrored
    /// the Secrets), and the injector added the agent to the checkout pod.
    struct Setup {
        fake: FakeApiServer,
        _dir: tempfile::TempDir,
        kubeconfig: std::path::PathBuf,
    }

    fn synced() -> Setup {
        let fake = FakeApiServer::start();
        let spec = fixture("consumers.yaml");
        cluster_state::synced(&fake, &spec);
        // ESO: Ready, and the Secret it owns.
        for (ns, name, data) in [
            (
                "billing",
                "billing-config",
                json!({"url": b64("https://billing")}),
            ),
            (
                "billing",
                "billing-legacy",
                json!({"password": b64("hunter2-legacy")}),
            ),
            (
                "reports",
                "reports-config",
                json!({"dsn": b64("reports-dsn")}),
            ),
        ] {
            fake.modify("ExternalSecret", ns, name, |o| {
                o["status"] = ready("True", "SecretSynced", "secret synced")
            });
            let uid = uid_of(&fake, "ExternalSecret", ns, name);
            fake.add(json!({
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": name, "namespace": ns,
                    "labels": {"reconcile.external-secrets.io/managed": "true"},
                    "ownerReferences": [{"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "name": name, "uid": uid, "controller": true}]},
                "data": data,
            }));
        }
        // CSI: pod search-0 mounts the three classes; the driver mirrors them.
        for (name, keys) in [
            ("search-db", vec!["username", "password"]),
            ("search-tls", vec!["tls.crt", "tls.key", "ca.crt"]),
            ("search-api", vec!["token"]),
        ] {
            fake.add(json!({
                "apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClassPodStatus",
                "metadata": {"name": format!("search-0-search-{name}"), "namespace": "search"},
                "status": {"mounted": true, "podName": "search-0", "secretProviderClassName": name,
                           "targetPath": "/var/lib/kubelet/pods/x/volumes/kubernetes.io~csi/secrets/mount"},
            }));
            let data: serde_json::Map<String, Value> = keys
                .iter()
                .map(|k| (k.to_string(), json!(b64("v"))))
                .collect();
            fake.add(json!({
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": name, "namespace": "search",
                    "labels": {"secrets-store.csi.k8s.io/managed": "true"}},
                "data": data,
            }));
        }
        // Injector: the checkout pod carries the Component's annotations and the agent.
        fake.add(checkout_pod(true, true));
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = fake.write_kubeconfig(dir.path(), "shop");
        Setup {
            fake,
            _dir: dir,
            kubeconfig,
        }
    }

    fn checkout_pod(injected: bool, agent_ready: bool) -> Value {
        let mut annotations = serde_json::Map::new();
        for s in ["checkout-db", "checkout-stripe", "checkout-legacy"] {
            annotations.insert(
                format!("vault.hashicorp.com/agent-inject-secret-{s}"),
                json!("x"),
            );
        }
        annotations.insert("vault.hashicorp.com/agent-inject".into(), json!("true"));
        let mut containers = vec![json!({"name": "api", "image": "shop/checkout:1"})];
        let mut init = vec![];
        if injected {
            containers.push(json!({"name": "vault-agent", "image": "hashicorp/vault:1.19"}));
            init.push(json!({"name": "vault-agent-init", "image": "hashicorp/vault:1.19"}));
        }
        let agent_state = if agent_ready {
            json!({"running": {"startedAt": "2026-11-01T00:00:00Z"}})
        } else {
            json!({"waiting": {"reason": "CrashLoopBackOff"}})
        };
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "checkout-api-7d9f-abcde", "namespace": "shop", "annotations": annotations},
            "spec": {"serviceAccountName": "checkout", "containers": containers, "initContainers": init},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "api", "ready": true, "state": {"running": {}}},
                {"name": "vault-agent", "ready": agent_ready, "state": agent_state},
            ]},
        })
    }

    impl Setup {
        /// `verify` of fixtures/consumers.yaml at the fake's revision, with `extra`.
        fn verify(&self, extra: &[&str]) -> std::process::Output {
            let revision = ["--revision", &REVISION[..7]];
            verify(
                &fixture("consumers.yaml"),
                &self.kubeconfig,
                &[&revision[..], extra].concat(),
            )
        }

        fn table(&self) -> String {
            stdout(&self.verify(&[]))
        }

        fn json(&self) -> (Option<i32>, Value) {
            let o = self.verify(&["-o", "json"]);
            let v: Value = serde_json::from_slice(&o.stdout)
                .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&o), stderr(&o)));
            (o.status.code(), v)
        }

        /// The JSON report of a check that fails (exit 1).
        fn failed(&self) -> Value {
            let (code, v) = self.json();
            assert_eq!(code, Some(1), "{v}");
            v
        }
    }

    fn row<'a>(report: &'a Value, secret: &str) -> (&'a str, &'a str, &'a str) {
        let r = report["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["secret"] == secret)
            .unwrap_or_else(|| panic!("no row {secret}"));
        (
            r["kind"].as_str().unwrap(),
            r["status"].as_str().unwrap(),
            r["detail"].as_str().unwrap(),
        )
    }

    #[test]
    fn every_consumer_synced_with_one_list_per_kind() {
        let s = synced();
        let (code, v) = s.json();
        let table: Vec<String> = v["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {}: {}",
                    r["namespace"], r["secret"], r["kind"], r["status"], r["detail"]
                )
            })
            .collect();
        assert_eq!(code, Some(0), "{table:#?}\n{:#?}", v["flux"]);
        let flux: Vec<String> = v["flux"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("{} {}/{}", f["kind"], f["namespace"], f["name"]))
            .collect();
        for stage in [
            "vault-external-secrets",
            "vault-csi-driver",
            "vault-namespaces",
            "vault-apps-injector",
            "vault-apps-csi",
            "vault-apps-eso",
        ] {
            assert!(
                flux.contains(&format!("\"Kustomization\" \"flux-system\"/\"{stage}\"")),
                "{flux:?}"
            );
        }
        assert!(
            flux.contains(&"\"HelmRelease\" \"external-secrets\"/\"external-secrets\"".to_string()),
            "{flux:?}"
        );
        assert!(
            flux.contains(&"\"HelmRelease\" \"vault\"/\"csi-secrets-store\"".to_string()),
            "{flux:?}"
        );
        assert_eq!(row(&v, "billing-config").0, "ExternalSecret");
        assert_eq!(
            row(&v, "search-tls"),
            ("SecretProviderClass", "Synced", "mounted in 1 pod(s)")
        );
        assert_eq!(
            row(&v, "checkout-db"),
            ("Pod", "Synced", "the agent runs in 1 pod(s)")
        );
        assert_eq!(row(&v, "catalog-config").0, "VaultStaticSecret");
        // The operator's 10 lists, its CA Secret and the Vault pods, then one per consumer
        // kind: the same whatever the number of secrets.
        assert_eq!(v["apiRequests"], 18, "{:#?}", s.fake.requests());
        let out = v.to_string();
        assert!(!out.contains("hunter2") && !out.contains(&b64("hunter2-legacy")));
        insta::assert_snapshot!("verify_table_all_consumers_synced", s.table());
    }

    #[test]
    fn an_external_secret_that_is_not_ready_names_eso_s_reason() {
        let s = synced();
        s.fake
            .modify("ExternalSecret", "billing", "billing-config", |o| {
                o["status"] = ready(
                    "False",
                    "SecretSyncedError",
                    "could not get secret data from provider: permission denied",
                )
            });
        let v = s.failed();
        assert_eq!(
            row(&v, "billing-config"),
            (
                "ExternalSecret",
                "NotSynced",
                "Ready=False: SecretSyncedError: could not get secret data from provider: permission denied"
            )
        );
        assert_eq!(row(&v, "billing-legacy").1, "Synced");
    }

    #[test]
    fn an_external_secret_s_secret_missing_or_not_owned() {
        let s = synced();
        s.fake.remove("Secret", "billing", "billing-legacy");
        s.fake.modify("Secret", "reports", "reports-config", |o| {
            o["metadata"]["ownerReferences"] = json!([])
        });
        let (_, v) = s.json();
        assert_eq!(row(&v, "billing-legacy").1, "SecretMissing");
        assert_eq!(row(&v, "reports-config").1, "NotOwned");
    }

    #[test]
    fn a_missing_or_unmounted_secret_provider_class() {
        let s = synced();
        s.fake.remove("SecretProviderClass", "search", "search-db");
        s.fake.modify(
            "SecretProviderClassPodStatus",
            "search",
            "search-0-search-search-api",
            |o| o["status"]["mounted"] = json!(false),
        );
        let v = s.failed();
        assert_eq!(
            row(&v, "search-db"),
            (
                "SecretProviderClass",
                "Missing",
                "SecretProviderClass search/search-db not found in the cluster"
            )
        );
        assert_eq!(row(&v, "search-api").1, "NotMounted");
        assert_eq!(row(&v, "search-tls").1, "Synced");
        insta::assert_snapshot!("verify_table_csi_problems", s.table());
    }

    #[test]
    fn a_drifted_secret_provider_class() {
        let s = synced();
        s.fake
            .modify("SecretProviderClass", "search", "search-tls", |o| {
                o["spec"]["parameters"]["roleName"] = json!("someone-else")
            });
        let (_, v) = s.json();
        let (_, status, detail) = row(&v, "search-tls");
        assert_eq!(status, "Drifted");
        assert!(detail.contains("spec.parameters.roleName"), "{detail}");
    }

    #[test]
    fn injector_pods_without_the_patch_or_the_agent() {
        let s = synced();
        s.fake.remove("Pod", "shop", "checkout-api-7d9f-abcde");
        let v = s.failed();
        let (_, status, detail) = row(&v, "checkout-stripe");
        assert_eq!(status, "NotInjected");
        assert!(
            detail.contains("apps/shop/shop/checkout/vault-agent"),
            "{detail}"
        );

        s.fake.add(checkout_pod(false, false));
        let (_, v) = s.json();
        let (_, status, detail) = row(&v, "checkout-stripe");
        assert_eq!(status, "NotInjected");
        assert!(detail.contains("no vault-agent container"), "{detail}");

        s.fake.remove("Pod", "shop", "checkout-api-7d9f-abcde");
        s.fake.add(checkout_pod(true, false));
        let (_, v) = s.json();
        assert_eq!(
            row(&v, "checkout-db"),
            ("Pod", "NotSynced", "the vault-agent of pod checkout-api-7d9f-abcde is not ready: CrashLoopBackOff (see its log: login or template errors)")
        );
    }
}

// ---------- the Vault side is the operator's: real OpenBao ----------

mod vault_side {
    use crate::support::common::*;
    use crate::support::servers::Bao;
    use crate::support::vault_fakes::{login, sa_jwt};
    use crate::support::vault_setup::{configure, SpecDir};
    use serde_json::{json, Value};

    const REVIEWER_JWT: &str = "reviewer-jwt-for-consumer-tests";

    /// An injector app, a CSI app and an ESO app over kv v2, kv v1 and PKI.
    fn spec(ca_file: &std::path::Path, k8s_host: &str) -> String {
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
  - name: agent
    namespace: shop
    consumer: injector
    secrets:
      - name: agent-config
        kv: apps-kv/shop/agent
      - name: agent-legacy
        kv: {{mount: legacy-kv, path: shop/agent, version: 1}}
  - name: mounted
    namespace: shop
    consumer: csi
    serviceAccount: mounted-sa
    secrets:
      - name: mounted-config
        kv: apps-kv/shop/mounted
        keys: [api_key]
      - name: mounted-tls
        pki: pki/shop
        commonName: mounted.shop.svc.cluster.local
  - name: synced
    namespace: billing
    consumer: eso
    audiences: [eso-audience]
    secrets:
      - name: synced-config
        kv: apps-kv/billing/synced
      - name: synced-legacy
        kv: {{mount: legacy-kv, path: billing/synced, version: 1}}
vaultConfig:
  kubernetesAuth:
    mount: kubernetes
    host: {k8s_host}
    caCertFrom: file:{ca}
    disableLocalCaJwt: true
    tokenReviewer: {{mode: serviceAccount, jwtFrom: env:TEST_REVIEWER_JWT}}
  pki:
    pki:
      maxLeaseTtl: 87600h
      rootCA: {{commonName: Lab Root CA, ttl: 87600h}}
      roles:
        shop:
          allowedDomains: [shop.svc.cluster.local]
          allowSubdomains: true
          maxTtl: 72h
"#,
            ca = ca_file.display()
        )
    }

    /// Every generated document, parsed.
    fn documents(spec: &std::path::Path) -> Vec<(String, Value)> {
        let g = kubectl_vault::pipeline::generate(spec, &Default::default()).expect("generate");
        g.rendered
            .files
            .iter()
            .filter(|f| f.path.ends_with(".yaml"))
            .flat_map(|f| {
                serde_yaml::Deserializer::from_str(&f.body)
                    .map(|d| (f.path.clone(), serde::Deserialize::deserialize(d).unwrap()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn find<'a>(docs: &'a [(String, Value)], kind: &str, name: &str) -> &'a Value {
        docs.iter()
            .map(|(_, d)| d)
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name}"))
    }

    /// The role, the auth mount and the audience a consumer's generated objects use, and the
    /// service account that logs in: the Kubernetes side says who logs in, Vault must agree.
    struct Login {
        namespace: &'static str,
        service_account: String,
        role: String,
        mount: String,
        audience: String,
    }

    #[test]
    fn each_consumer_logs_in_as_generated_and_reads_exactly_its_paths() {
        let Some(bao) = Bao::start() else { return };
        let setup = SpecDir::new(REVIEWER_JWT, |_, ca, k8s_host| spec(ca, k8s_host));
        let spec_path = &setup.spec_path;
        let o = configure(&bao, spec_path, &[], &[("TEST_REVIEWER_JWT", REVIEWER_JWT)]);
        assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
        for (path, body) in [
            ("apps-kv/data/shop/agent", json!({"data": {"k": "a"}})),
            (
                "apps-kv/data/shop/mounted",
                json!({"data": {"api_key": "m"}}),
            ),
            ("apps-kv/data/billing/synced", json!({"data": {"k": "s"}})),
            ("apps-kv/data/shop/other", json!({"data": {"k": "o"}})),
            ("legacy-kv/shop/agent", json!({"k": "l"})),
            ("legacy-kv/billing/synced", json!({"k": "l"})),
        ] {
            assert!(bao.api("POST", path, Some(body)).0 < 300, "{path}");
        }
        let docs = documents(spec_path);

        // injector: the patch's annotations and its projected token.
        let patch = &docs
            .iter()
            .find(|(p, _)| p.ends_with("/agent/vault-agent/patch.yaml"))
            .unwrap()
            .1["spec"]["template"];
        let a = &patch["metadata"]["annotations"];
        let injector = Login {
            namespace: "shop",
            service_account: patch["spec"]["serviceAccountName"].as_str().unwrap().into(),
            role: a["vault.hashicorp.com/role"].as_str().unwrap().into(),
            mount: a["vault.hashicorp.com/auth-path"]
                .as_str()
                .unwrap()
                .strip_prefix("auth/")
                .unwrap()
                .into(),
            audience: patch["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]
                ["audience"]
                .as_str()
                .unwrap()
                .into(),
        };
        let injector_reads: Vec<(String, &str, Option<Value>)> = a
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.starts_with("vault.hashicorp.com/agent-inject-secret-"))
            .map(|(_, v)| (v.as_str().unwrap().to_string(), "GET", None))
            .collect();

        // csi: the SecretProviderClass's parameters and objects.
        let mut csi_reads = vec![];
        let mut csi = None;
        for name in ["mounted-config", "mounted-tls"] {
            let p = &find(&docs, "SecretProviderClass", name)["spec"]["parameters"];
            csi = Some(Login {
                namespace: "shop",
                service_account: "mounted-sa".into(),
                role: p["roleName"].as_str().unwrap().into(),
                mount: p["vaultKubernetesMountPath"].as_str().unwrap().into(),
                audience: p["audience"].as_str().unwrap().into(),
            });
            let objects: Vec<Value> = serde_yaml::from_str(p["objects"].as_str().unwrap()).unwrap();
            for o in objects {
                let method = if o["method"] == "PUT" { "PUT" } else { "GET" };
                let args = (!o["secretArgs"].is_null()).then(|| o["secretArgs"].clone());
                csi_reads.push((o["secretPath"].as_str().unwrap().to_string(), method, args));
            }
        }
        let csi = csi.unwrap();

        // eso: the stores' auth and paths, and the ExternalSecrets' keys.
        let mut eso_reads = vec![];
        let mut eso = None;
        for (store, secret) in [
            ("synced.apps-kv", "synced-config"),
            ("synced.legacy-kv", "synced-legacy"),
        ] {
            let v = &find(&docs, "SecretStore", store)["spec"]["provider"]["vault"];
            let k = &v["auth"]["kubernetes"];
            eso = Some(Login {
                namespace: "billing",
                service_account: k["serviceAccountRef"]["name"].as_str().unwrap().into(),
                role: k["role"].as_str().unwrap().into(),
                mount: k["mountPath"].as_str().unwrap().into(),
                audience: k["serviceAccountRef"]["audiences"][0]
                    .as_str()
                    .unwrap()
                    .into(),
            });
            let key = find(&docs, "ExternalSecret", secret)["spec"]["dataFrom"][0]["extract"]
                ["key"]
                .as_str()
                .unwrap()
                .to_string();
            // What ESO's Vault provider requests: MOUNT/data/KEY (v2) or MOUNT/KEY (v1).
            let mount = v["path"].as_str().unwrap();
            let path = if v["version"] == "v2" {
                format!("{mount}/data/{key}")
            } else {
                format!("{mount}/{key}")
            };
            eso_reads.push((path, "GET", None));
        }
        let eso = eso.unwrap();
        assert_eq!(eso.audience, "eso-audience");

        let all: Vec<String> = [&injector_reads, &csi_reads, &eso_reads]
            .iter()
            .flat_map(|r| r.iter().map(|(p, _, _)| p.clone()))
            .collect();
        for (who, reads) in [
            (&injector, &injector_reads),
            (&csi, &csi_reads),
            (&eso, &eso_reads),
        ] {
            let (status, token) = login(
                &bao,
                &who.mount,
                &who.role,
                &sa_jwt(who.namespace, &who.service_account, &[&who.audience]),
            );
            assert_eq!(
                status, 200,
                "{} cannot log in as {}",
                who.service_account, who.role
            );
            let token = token.unwrap();
            // Another service account, or another audience, cannot use the role.
            assert_eq!(
                login(
                    &bao,
                    &who.mount,
                    &who.role,
                    &sa_jwt(who.namespace, "default", &[&who.audience])
                )
                .0,
                403
            );
            assert_eq!(
                login(
                    &bao,
                    &who.mount,
                    &who.role,
                    &sa_jwt(who.namespace, &who.service_account, &["other"])
                )
                .0,
                403
            );
            for (path, method, args) in reads.iter() {
                let (status, body) = bao.api_as(&token, method, path, args.clone());
                assert_eq!(status, 200, "{} {method} {path}: {body}", who.role);
            }
            // Every other app's path is denied, and so is a sibling.
            let mine: Vec<&String> = reads.iter().map(|(p, _, _)| p).collect();
            for other in all.iter().filter(|p| !mine.contains(p)) {
                let method = if other.contains("/issue/") {
                    "PUT"
                } else {
                    "GET"
                };
                let body = (method == "PUT")
                    .then(|| json!({"common_name": "mounted.shop.svc.cluster.local"}));
                assert_eq!(
                    bao.api_as(&token, method, other, body).0,
                    403,
                    "{} reads {other}",
                    who.role
                );
            }
            assert_eq!(
                bao.api_as(&token, "GET", "apps-kv/data/shop/other", None).0,
                403
            );
        }
    }
}

/// The injector's Component, included by a user's own kustomization, patches the workload as
/// the real kustomize (`kubectl kustomize`) builds it.
#[test]
fn the_injector_component_patches_the_user_s_deployment_with_real_kustomize() {
    use crate::support::servers::{find_tool, require};
    let Some(kubectl) = require(find_tool("KUBECTL", "kubectl"), "kubectl") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gitops");
    let o = run(&[
        "generate",
        "-f",
        fixture("consumers.yaml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The user's workload, elsewhere in the repository.
    let workload = out.join("workloads/checkout");
    std::fs::create_dir_all(&workload).unwrap();
    std::fs::write(
        workload.join("deployment.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: checkout-api\n  namespace: shop\nspec:\n  selector:\n    matchLabels: {app: checkout}\n  template:\n    metadata:\n      labels: {app: checkout}\n      annotations: {prometheus.io/scrape: \"true\"}\n    spec:\n      containers:\n        - name: api\n          image: shop/checkout:1\n      volumes:\n        - name: cache\n          emptyDir: {}\n",
    )
    .unwrap();
    std::fs::write(
        workload.join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\ncomponents:\n  - ../../apps/shop/shop/checkout/vault-agent\n",
    )
    .unwrap();
    let o = std::process::Command::new(kubectl)
        .args(["kustomize", workload.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let built: Json = serde_yaml::from_slice(&o.stdout).unwrap();
    let t = &built["spec"]["template"];
    let a = &t["metadata"]["annotations"];
    assert_eq!(a["vault.hashicorp.com/agent-inject"], "true");
    assert_eq!(a["vault.hashicorp.com/role"], "shop-checkout");
    assert_eq!(a["vault.hashicorp.com/auth-path"], "auth/kubernetes");
    assert_eq!(
        a["vault.hashicorp.com/agent-inject-secret-checkout-stripe"],
        "kvv2/data/checkout/stripe"
    );
    assert_eq!(
        a["prometheus.io/scrape"], "true",
        "the user's own annotations stay"
    );
    assert_eq!(t["spec"]["serviceAccountName"], "checkout");
    let volumes: Vec<&str> = t["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        volumes.len(),
        2,
        "{volumes:?}: merged by name, the user's kept"
    );
    assert!(volumes.contains(&"cache") && volumes.contains(&"vault-token"));
    assert_eq!(t["spec"]["containers"][0]["name"], "api");
}
