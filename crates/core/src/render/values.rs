//! The Helm values of the two charts: Vault's (with its raft `server.hcl`) and the operator's.

use super::consumers;
use crate::model::{self, Stack};
use serde::Serialize;
use serde_json::{json, Value as Json};

/// `vault/server.hcl.j2`
#[derive(Serialize)]
pub(super) struct VaultServerContext<'a> {
    ui: bool,
    tls_secret: Option<&'a str>,
    ha: bool,
    peers: Vec<String>,
    seal: Option<SealContext<'a>>,
    /// Where the chart puts the server's files (`/vault`, `/openbao`).
    home: &'static str,
    /// OpenBao's audit and initialize stanzas ([`super::server_config`]).
    stanzas: Vec<String>,
    /// `monitoring`: `prometheus_retention_time` of the `telemetry` stanza.
    telemetry: Option<&'a str>,
}

/// An auto-unseal `seal` stanza.
#[derive(Serialize)]
pub(super) struct SealContext<'a> {
    kind: &'a str,
    attributes: &'a [(String, String)],
}

pub(super) fn vault_server_context(stack: &Stack) -> VaultServerContext<'_> {
    let v = &stack.vault;
    // A single node has no peer to join; it is still raft, so that scaling up keeps the data.
    let peers: Vec<String> = (0..if v.ha() { v.replicas } else { 0 })
        .map(|i| {
            format!(
                "{}://{}-{i}.{}-internal:8200",
                v.scheme(),
                v.release(),
                v.release()
            )
        })
        .collect();
    VaultServerContext {
        ui: v.ui,
        tls_secret: v.tls_secret.as_deref(),
        ha: true,
        peers,
        seal: v.seal.as_ref().map(|s| SealContext {
            kind: &s.kind,
            attributes: &s.attributes,
        }),
        home: v.distribution.home(),
        stanzas: super::server_config::extra_stanzas(stack),
        telemetry: (stack.monitoring.as_ref()).map(|m| m.retention_time.as_str()),
    }
}

/// The sidecar that makes Vault reload its renewed certificate (`reload_script`, sent
/// SIGHUP through the pod's shared process namespace): the Vault image, the certificate
/// volume the chart mounts for Vault (`userconfig-<secret>`, read-only), nothing else.
fn tls_reload_container(v: &model::VaultServer, tls: &str, reload_script: &str) -> Json {
    let dir = v.distribution.userconfig(tls);
    json!({
        "name": "tls-reload",
        "image": v.reload_image,
        "command": ["/bin/sh", "-c", reload_script],
        "env": [
            {"name": "CERT_DIR", "value": dir},
            {"name": "INTERVAL", "value": "60"},
        ],
        "volumeMounts": [{"name": format!("userconfig-{tls}"), "mountPath": dir, "readOnly": true}],
        "securityContext": {
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "capabilities": {"drop": ["ALL"]},
        },
        "resources": {
            "requests": {"cpu": "5m", "memory": "8Mi"},
            "limits": {"memory": "32Mi"},
        },
    })
}

/// Values for the `vault` chart, or the `openbao` chart, whose keys used here are the same
/// (each checked against its chart's values.schema.json).
pub(super) fn vault_values(stack: &Stack, server_hcl: &str, reload_script: &str) -> Json {
    let v = &stack.vault;
    let mut server = json!({
        "dataStorage": {"enabled": true, "size": "10Gi"},
    });
    let s = server.as_object_mut().expect("object");
    // Always the chart's HA mode with raft, also for one replica (single-node raft): scaling
    // up later joins the new nodes to the same data, and `vault-active` exists for VSO.
    s.insert("standalone".into(), json!({"enabled": false}));
    let mut ha = json!({
        "enabled": true,
        "replicas": v.replicas,
        "raft": {"enabled": true, "setNodeId": true, "config": server_hcl},
    });
    if !v.ha() {
        // The chart's budget for one replica is maxUnavailable 0: no node could ever drain.
        ha["disruptionBudget"] = json!({"enabled": false});
    }
    s.insert("ha".into(), ha);
    if !v.anti_affinity {
        s.insert("affinity".into(), json!(""));
    }
    if v.audit_storage {
        s.insert("auditStorage".into(), json!({"enabled": true}));
    }
    if stack.monitoring.is_some() && model::audit::writes_stdout(&stack.vault_config) {
        // What a log shipper selects the pods whose stdout carries audit events by
        // (`vault-config/<cluster>/audit-shipping.yaml`).
        s.insert(
            "extraLabels".into(),
            json!({model::audit::AUDIT_STDOUT_LABEL: "stdout"}),
        );
    }
    // Secrets mounted at /vault/userconfig/<name>/: Vault's certificate, the unsealer's CA.
    let mut volumes: Vec<&str> = v.tls_secret.iter().map(String::as_str).collect();
    if let Some(ca) = v.seal.as_ref().and_then(|s| s.ca_cert_secret.as_deref()) {
        if !volumes.contains(&ca) {
            volumes.push(ca);
        }
    }
    if !volumes.is_empty() {
        let volumes: Vec<Json> = (volumes.iter())
            .map(|name| json!({"type": "secret", "name": name}))
            .collect();
        s.insert("extraVolumes".into(), Json::Array(volumes));
    }
    if let Some(tls) = &v.tls_secret {
        // Vault reads its certificate at start and on SIGHUP only: a renewed one is picked up
        // by the sidecar's SIGHUP, without a restart (which would need a manual unseal).
        s.insert("shareProcessNamespace".into(), json!(true));
        s.insert(
            "extraContainers".into(),
            json!([tls_reload_container(v, tls, reload_script)]),
        );
        s.insert(
            "extraEnvironmentVars".into(),
            json!({v.distribution.ca_env(): format!("{}/ca.crt", v.distribution.userconfig(tls))}),
        );
    }
    let mut values = json!({
        "global": {"enabled": true, "tlsDisable": v.tls_secret.is_none()},
        // With an HA Vault, the injector is HA too: two replicas (the chart elects a leader
        // for its certificate work), so one node's loss does not leave pods without their
        // agent. The webhook keeps the chart's failurePolicy Ignore: Fail would block the
        // creation of every pod the webhook sees while the injector is down, the injector's
        // own replacement included (docs: consumers.md).
        "injector": if v.injector {
            let mut injector =
                json!({"enabled": true, "authPath": format!("auth/{}", stack.auth_mount)});
            if v.replicas > 1 {
                injector["replicas"] = json!(2);
            }
            injector
        } else {
            json!({"enabled": false})
        },
        "ui": {"enabled": v.ui},
        "server": server,
    });
    if let Some(csi) = consumers::vault_csi_values(stack) {
        values["csi"] = csi;
    }
    if let Some(user) = &v.values {
        deep_merge(&mut values, user);
    }
    values
}

/// Values for the `vault-secrets-operator` chart.
pub(super) fn operator_values(stack: &Stack) -> Json {
    let o = &stack.operator;
    // One VaultConnection: the tree's own (apps/vault-connection.yaml), not also the chart's.
    let mut values = json!({
        "defaultVaultConnection": {"enabled": false},
    });
    if let Some(cc) = &o.client_cache {
        let mut encryption = json!({
            "enabled": true,
            "vaultConnectionRef": model::VAULT_CONNECTION,
            "keyName": cc.key_name,
            "transitMount": cc.transit_mount,
            "method": "kubernetes",
            "mount": stack.auth_mount,
            "kubernetes": {
                "role": cc.role,
                "serviceAccount": o.service_account,
                "tokenAudiences": cc.audiences,
            },
        });
        if let Some(ns) = &stack.vault_namespace {
            encryption["namespace"] = json!(ns);
        }
        values.as_object_mut().expect("object").insert(
            "controller".into(),
            json!({"manager": {"clientCache": {
                "persistenceModel": "direct-encrypted",
                "storageEncryption": encryption,
            }}}),
        );
    }
    values
}

/// Maps merge key by key; anything else in `overlay` replaces what is in `base`.
pub fn deep_merge(base: &mut Json, overlay: &Json) {
    match (base, overlay) {
        (Json::Object(b), Json::Object(o)) => {
            for (k, v) in o {
                deep_merge(b.entry(k.clone()).or_insert(Json::Null), v);
            }
        }
        (b, o) => *b = o.clone(),
    }
}
