//! The Kubernetes side of the consumers other than the operator: the injector's kustomize
//! Component, the CSI driver's SecretProviderClasses, ESO's stores and ExternalSecrets, and
//! the controllers ESO and the CSI driver need (through Flux). The Vault side (role, policy,
//! engines) is the operator's, from the same model: the names agree by construction.

use super::{
    of, HelmReleaseContext, HelmRepositoryContext, NamedRef, NamespaceContext, RenderError,
    Renderer,
};
use crate::kinds::{self, CsiVaultObject};
use crate::model::{self, App, Consumer, DeclaredSecret, Source, Stack, StageKind};
use crate::tree::ObjectRef;
use minijinja::Value;
use serde::Serialize;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;

/// True when an app of the stack uses ESO.
pub fn uses_eso(stack: &Stack) -> bool {
    stack
        .apps
        .iter()
        .any(|a| matches!(a.consumer, Consumer::Eso(_)))
}

/// True when an app of the stack uses the CSI driver.
pub fn uses_csi(stack: &Stack) -> bool {
    stack
        .apps
        .iter()
        .any(|a| matches!(a.consumer, Consumer::Csi(_)))
}

/// The Vault chart's CSI provider values (only when an app uses the CSI driver).
///
/// The provider reaches Vault through the chart's CSI agent (`csi.agent`, on by default): the
/// chart points the provider's `VAULT_ADDR` at the agent's unix socket, and the
/// SecretProviderClasses name no `vaultAddress` that would bypass it. The agent (caching
/// leases, renewing them and the pods' tokens) talks to Vault at the operator's address, with
/// Vault's CA: flags on the command line win over the address the chart writes into its
/// config (`vault.<namespace>.svc`), which need not be the active node's or in Vault's
/// certificate. With TLS the pod mounts Vault's CA, and only it (`items: ca.crt`): the
/// DaemonSet runs on every node, which must not all hold Vault's server key (`tls.key`); the
/// chart mounts `csi.volumeMounts` into the provider and the agent alike.
pub fn vault_csi_values(stack: &Stack) -> Option<Json> {
    if !uses_csi(stack) {
        return None;
    }
    let mut agent_args = vec![format!("-address={}", stack.operator.address)];
    if stack.operator.skip_tls_verify {
        agent_args.push("-tls-skip-verify".into());
    } else if stack.vault.tls_secret.is_some() {
        agent_args.push(format!("-ca-cert={}/ca.crt", model::CSI_PROVIDER_TLS_DIR));
    }
    let mut csi = json!({"enabled": true, "agent": {"extraArgs": agent_args}});
    if let Some(tls) = &stack.vault.tls_secret {
        csi["volumes"] = json!([{"name": "vault-tls", "secret": {
            "secretName": tls,
            "items": [{"key": "ca.crt", "path": "ca.crt"}],
        }}]);
        csi["volumeMounts"] = json!([{
            "name": "vault-tls",
            "mountPath": model::CSI_PROVIDER_TLS_DIR,
            "readOnly": true,
        }]);
    }
    Some(csi)
}

/// The keys of ESO's chart values the tree decides: `externalSecrets.values` may not set them.
pub const ESO_OWNED_VALUES: [(&str, &str); 1] = [(
    "installCRDs",
    "write `externalSecrets.installCRDs` instead: the tree must know whether the chart installs the CRDs",
)];

/// The keys of the CSI driver's chart values the tree decides: `csiDriver.values` may not set
/// them.
pub const CSI_OWNED_VALUES: [(&str, &str); 3] = [
    (
        "syncSecret.enabled",
        "the tree turns it on exactly when an app mirrors its files into a Secret (`csi.secretObjects`)",
    ),
    (
        "enableSecretRotation",
        "the tree decides rotation with the apps' secrets",
    ),
    (
        "rotationPollInterval",
        "the tree derives it from the lifetimes the CSI apps read (a third of the shortest, never under the driver's 2m)",
    ),
];

/// The External Secrets Operator's stage (`infrastructure/<cluster>/vault-external-secrets/`),
/// when the tree installs it: its namespace, the chart's repository and the release.
pub(super) fn render_external_secrets(r: &mut Renderer, stack: &Stack) -> Result<(), RenderError> {
    if !has_stage(stack, StageKind::ExternalSecrets) {
        return Ok(());
    }
    let dir = &stack.flux.paths.external_secrets;
    let eso = &stack.external_secrets;
    let mut files = vec![];
    r.object(
        of::<k8s_openapi::api::core::v1::Namespace>("", model::ESO_NAMESPACE),
        format!("{dir}/namespace.yaml"),
        "core/namespace.yaml.j2",
        NamespaceContext::kept(model::ESO_NAMESPACE),
    )?;
    files.push("namespace.yaml".to_string());
    let mut values = json!({"installCRDs": eso.install_crds});
    if eso.install_crds {
        // The chart's CRDs are templates: uninstalling the release (the tree stops installing
        // ESO, or Flux garbage-collects the HelmRelease while it moves between stages) would
        // delete them, with every ExternalSecret and, through their ownerReferences, every
        // Secret ESO wrote. Helm keeps a resource with this policy.
        values["crds"] = json!({"annotations": {"helm.sh/resource-policy": "keep"}});
    }
    release(
        r,
        &mut files,
        dir,
        &stack.flux.interval,
        Release {
            name: model::ESO_RELEASE,
            namespace: model::ESO_NAMESPACE,
            chart: model::ESO_RELEASE,
            version: &eso.chart_version,
            repository: &eso.chart_repository,
            values: with_user_values(values, eso.values.as_ref()),
        },
    )?;
    r.kustomization(dir, files)
}

/// The Secrets Store CSI driver's stage (`infrastructure/<cluster>/vault-csi-driver/`), when
/// the tree installs it: the chart's repository and the release, in Vault's namespace.
pub(super) fn render_csi_driver(r: &mut Renderer, stack: &Stack) -> Result<(), RenderError> {
    if !has_stage(stack, StageKind::CsiDriver) {
        return Ok(());
    }
    let dir = &stack.flux.paths.csi_driver;
    let csi = &stack.csi_driver;
    let mut files = vec![];
    let mirrors = stack
        .apps
        .iter()
        .any(|a| matches!(&a.consumer, Consumer::Csi(c) if c.secret_objects));
    release(
        r,
        &mut files,
        dir,
        &stack.flux.interval,
        Release {
            name: model::CSI_RELEASE,
            namespace: &stack.vault.namespace,
            chart: model::CSI_CHART,
            version: &csi.chart_version,
            repository: &csi.chart_repository,
            // Rotation re-reads the secrets at the poll derived from what the CSI apps read
            // (model::csi); secretObjects need the driver's Secret sync.
            values: with_user_values(
                json!({
                    "enableSecretRotation": true,
                    "rotationPollInterval": model::csi::go_duration(
                        model::csi::rotation_poll_of(stack).unwrap_or(model::csi::DRIVER_DEFAULT_POLL),
                    ),
                    "syncSecret": {"enabled": mirrors},
                }),
                csi.values.as_ref(),
            ),
        },
    )?;
    r.kustomization(dir, files)
}

fn has_stage(stack: &Stack, kind: StageKind) -> bool {
    stack.flux.stages.iter().any(|s| s.kind == kind)
}

/// The tree's values with the spec's merged over them (validation refused the keys the tree
/// decides, so what is merged only adds or tunes).
fn with_user_values(mut values: Json, user: Option<&Json>) -> Json {
    if let Some(user) = user {
        super::deep_merge(&mut values, user);
    }
    values
}

struct Release<'a> {
    name: &'a str,
    namespace: &'a str,
    chart: &'a str,
    version: &'a str,
    repository: &'a str,
    values: Json,
}

fn release(
    r: &mut Renderer,
    files: &mut Vec<String>,
    dir: &str,
    interval: &str,
    rel: Release,
) -> Result<(), RenderError> {
    r.object(
        of::<kinds::HelmRepository>(model::FLUX_NAMESPACE, rel.name),
        format!("{dir}/helmrepository.yaml"),
        "flux/helmrepository.yaml.j2",
        HelmRepositoryContext::of(rel.name, rel.repository),
    )?;
    files.push("helmrepository.yaml".to_string());
    r.object(
        of::<kinds::HelmRelease>(rel.namespace, rel.name),
        format!("{dir}/helmrelease.yaml"),
        "flux/helmrelease.yaml.j2",
        Value::from_serialize(HelmReleaseContext {
            name: rel.name,
            namespace: rel.namespace,
            release_name: rel.name,
            interval,
            chart: rel.chart,
            version: rel.version,
            repository: NamedRef {
                name: rel.name,
                namespace: model::FLUX_NAMESPACE,
            },
            crds: false,
            disable_wait: false,
            annotations: json!({}),
            values: rel.values,
        }),
    )?;
    files.push("helmrelease.yaml".to_string());
    Ok(())
}

/// The files of one app for its consumer (the operator's are the caller's); returns the
/// entries of the app folder's kustomization.yaml.
pub(super) fn render_app(
    r: &mut Renderer,
    stack: &Stack,
    app: &App,
    dir: &str,
) -> Result<Vec<String>, RenderError> {
    match &app.consumer {
        Consumer::Operator => Ok(vec![]),
        Consumer::Injector(i) => {
            injector(r, stack, app, i, dir)?;
            // A Component is included by the user's own kustomization, never applied by Flux.
            Ok(vec![])
        }
        Consumer::Csi(c) => app
            .secrets
            .iter()
            .map(|s| secret_provider_class(r, stack, app, c, s, dir))
            .collect(),
        Consumer::Eso(e) => eso(r, stack, app, e, dir),
    }
}

/// The Vault API path a consumer reads for a secret (what the policy grants).
fn api_path(s: &DeclaredSecret) -> String {
    s.source.grant().path
}

/// Request arguments of a source that is written to (a certificate, a dynamic path with
/// params), as `key=value`.
fn request_args(s: &DeclaredSecret) -> Vec<(String, String)> {
    match (&s.source, &s.pki) {
        (Source::Pki { .. }, Some(p)) => {
            let mut args = vec![("common_name".to_string(), p.common_name.clone())];
            if !p.alt_names.is_empty() {
                args.push(("alt_names".into(), p.alt_names.join(",")));
            }
            if let Some(ttl) = &p.ttl {
                args.push(("ttl".into(), ttl.clone()));
            }
            args
        }
        (Source::Dynamic { params, .. }, _) => {
            params.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        }
        _ => vec![],
    }
}

// ---------- injector ----------

/// `injector/agent.ctmpl.j2`
#[derive(Serialize)]
struct AgentTemplateContext<'a> {
    path: String,
    args: Vec<String>,
    /// Where the secret's keys are in the response (`.Data.data` for kv v2).
    data: &'static str,
    keys: &'a [String],
    /// A certificate: PEM blocks, not an env file.
    pem: bool,
}

/// `injector/patch.yaml.j2`
#[derive(Serialize)]
struct PatchContext<'a> {
    /// `apps` or `batch` (every kind is at `v1`).
    group: &'a str,
    kind: &'a str,
    name: &'a str,
    annotations: BTreeMap<String, String>,
    service_account: &'a str,
    token_volume: &'a str,
    audience: &'a str,
}

const AGENT: &str = "vault.hashicorp.com";

fn injector(
    r: &mut Renderer,
    stack: &Stack,
    app: &App,
    i: &model::Injector,
    dir: &str,
) -> Result<(), RenderError> {
    let mut a = BTreeMap::new();
    let mut put = |k: &str, v: String| a.insert(format!("{AGENT}/{k}"), v);
    put("agent-inject", "true".into());
    if i.runs_to_completion() {
        // Only the init container: a sidecar agent never exits, so the Job's pod would never
        // complete (vault-k8s agent-inject/agent/agent.go: no sidecar when PrePopulateOnly;
        // hashicorp/vault-k8s#120).
        put("agent-pre-populate-only", "true".into());
    }
    put("role", app.role.clone());
    if let Some(ns) = &stack.vault_namespace {
        put("namespace", ns.clone());
    }
    put("auth-path", format!("auth/{}", stack.auth_mount));
    put("service", stack.operator.address.clone());
    put(
        "agent-service-account-token-volume-name",
        model::INJECTOR_TOKEN_VOLUME.into(),
    );
    if stack.operator.skip_tls_verify {
        put("tls-skip-verify", "true".into());
    } else if let Some(ca) = &app.ca_secret {
        // The injector mounts this Secret (from the pod's namespace) at /vault/tls.
        put("tls-secret", ca.name.clone());
        put("ca-cert", "/vault/tls/ca.crt".into());
    }
    for s in &app.secrets {
        put(&format!("agent-inject-secret-{}", s.name), api_path(s));
        let template = match &s.template {
            Some(t) => t.clone(),
            None => r.templates.render(
                "injector/agent.ctmpl.j2",
                Value::from_serialize(AgentTemplateContext {
                    path: api_path(s),
                    args: request_args(s)
                        .into_iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect(),
                    data: match &s.source {
                        Source::Kv { version: 2, .. } => ".Data.data",
                        _ => ".Data",
                    },
                    keys: &s.keys,
                    pem: matches!(s.source, Source::Pki { .. }),
                }),
            )?,
        };
        put(&format!("agent-inject-template-{}", s.name), template);
    }
    let component = format!("{dir}/{}", model::INJECTOR_COMPONENT);
    r.file(
        format!("{component}/kustomization.yaml"),
        "injector/kustomization.yaml.j2",
        Value::from_serialize(json!({
            "relative_hint": component,
            "group": i.group(),
            "kind": i.workload.kind,
            "name": i.workload.name,
        })),
    )?;
    r.file(
        format!("{component}/patch.yaml"),
        "injector/patch.yaml.j2",
        Value::from_serialize(PatchContext {
            group: i.group(),
            kind: &i.workload.kind,
            name: &i.workload.name,
            annotations: a,
            service_account: &app.service_account,
            token_volume: model::INJECTOR_TOKEN_VOLUME,
            audience: &app.audiences[0],
        }),
    )
}

// ---------- csi ----------

/// `csi/secretproviderclass.yaml.j2`
#[derive(Serialize)]
struct SpcContext<'a> {
    name: &'a str,
    namespace: &'a str,
    app: &'a str,
    role: &'a str,
    /// The chart's CSI provider (`vault`, `openbao`) and its auth mount parameter.
    provider: &'static str,
    mount_parameter: &'static str,
    /// `vaultNamespace` (`openbaoNamespace` for OpenBao's provider).
    namespace_parameter: &'static str,
    auth_mount: &'a str,
    audience: &'a str,
    /// The provider's `objects` parameter: YAML, one object per key.
    objects: String,
    mirror: Option<MirrorContext>,
    labels: &'a BTreeMap<String, String>,
    annotations: &'a BTreeMap<String, String>,
    /// `vaultNamespace`.
    vault_namespace: Option<&'a str>,
}

#[derive(Serialize)]
struct MirrorContext {
    #[serde(rename = "type")]
    secret_type: String,
    data: Vec<kinds::SecretObjectData>,
}

fn secret_provider_class(
    r: &mut Renderer,
    stack: &Stack,
    app: &App,
    c: &model::Csi,
    s: &DeclaredSecret,
    dir: &str,
) -> Result<String, RenderError> {
    let args: BTreeMap<String, Json> = request_args(s)
        .into_iter()
        .map(|(k, v)| (k, Json::String(v)))
        .collect();
    let objects: Vec<CsiVaultObject> = s
        .keys
        .iter()
        .map(|k| CsiVaultObject {
            object_name: k.clone(),
            secret_path: api_path(s),
            secret_key: k.clone(),
            method: (!args.is_empty()).then(|| "PUT".to_string()),
            secret_args: (!args.is_empty()).then(|| args.clone()),
        })
        .collect();
    let objects = crate::yaml::to_string(&objects).map_err(|e| RenderError::Yaml(e.to_string()))?;
    let pki = matches!(s.source, Source::Pki { .. });
    let mirror = c.secret_objects.then(|| MirrorContext {
        secret_type: if pki {
            "kubernetes.io/tls".into()
        } else {
            s.secret_type.clone().unwrap_or_else(|| "Opaque".into())
        },
        data: s
            .keys
            .iter()
            .map(|k| kinds::SecretObjectData {
                object_name: k.clone(),
                // A TLS Secret's keys, where the certificate's fields are mirrored.
                key: match (pki, k.as_str()) {
                    (true, "certificate") => "tls.crt".into(),
                    (true, "private_key") => "tls.key".into(),
                    (true, "issuing_ca") => "ca.crt".into(),
                    _ => k.clone(),
                },
            })
            .collect(),
    });
    let file = format!("secretproviderclass-{}.yaml", s.name);
    r.object(
        ObjectRef::new("SecretProviderClass", &s.namespace, &s.name),
        format!("{dir}/{file}"),
        "csi/secretproviderclass.yaml.j2",
        Value::from_serialize(SpcContext {
            name: &s.name,
            namespace: &s.namespace,
            app: &app.name,
            role: &app.role,
            provider: stack.vault.distribution.csi_provider(),
            mount_parameter: stack.vault.distribution.csi_mount_parameter(),
            namespace_parameter: stack.vault.distribution.csi_namespace_parameter(),
            auth_mount: &stack.auth_mount,
            audience: &app.audiences[0],
            objects,
            mirror,
            labels: &s.labels,
            annotations: &s.annotations,
            vault_namespace: stack.vault_namespace.as_deref(),
        }),
    )?;
    Ok(file)
}

// ---------- eso ----------

/// `eso/secretstore.yaml.j2`
#[derive(Serialize)]
struct StoreContext<'a> {
    kind: &'a str,
    name: String,
    /// Empty for a ClusterSecretStore.
    namespace: &'a str,
    app: &'a str,
    /// A ClusterSecretStore's one namespace (its service account's and CA's).
    limit_namespace: Option<&'a str>,
    server: &'a str,
    mount: &'a str,
    version: String,
    auth_mount: &'a str,
    role: &'a str,
    service_account: &'a str,
    audiences: &'a [String],
    ca_secret: Option<&'a str>,
    /// `vaultNamespace`.
    vault_namespace: Option<&'a str>,
}

/// `eso/externalsecret.yaml.j2`
#[derive(Serialize)]
struct ExternalSecretContext<'a> {
    name: &'a str,
    namespace: &'a str,
    app: &'a str,
    refresh_interval: &'a str,
    store_kind: &'a str,
    store: String,
    path: &'a str,
    keys: &'a [String],
    #[serde(rename = "type")]
    secret_type: Option<&'a str>,
    labels: &'a BTreeMap<String, String>,
    annotations: &'a BTreeMap<String, String>,
}

/// ESO's default refresh interval, written out.
const ESO_REFRESH: &str = "1h";

fn eso(
    r: &mut Renderer,
    stack: &Stack,
    app: &App,
    e: &model::Eso,
    dir: &str,
) -> Result<Vec<String>, RenderError> {
    let mut files = vec![];
    let kind = if e.cluster_store {
        "ClusterSecretStore"
    } else {
        "SecretStore"
    };
    let store_name = |name: &str| {
        if e.cluster_store {
            model::cluster_store_name(&app.namespace, name)
        } else {
            name.to_string()
        }
    };
    for st in &e.stores {
        let name = store_name(&st.name);
        let file = format!("{}-{}.yaml", kind.to_lowercase(), st.name);
        let namespace = if e.cluster_store { "" } else { &app.namespace };
        r.object(
            ObjectRef::new(kind, namespace, &name),
            format!("{dir}/{file}"),
            "eso/secretstore.yaml.j2",
            Value::from_serialize(StoreContext {
                kind,
                name: name.clone(),
                namespace,
                app: &app.name,
                limit_namespace: e.cluster_store.then_some(app.namespace.as_str()),
                server: &stack.operator.address,
                mount: &st.mount,
                version: format!("v{}", st.version),
                auth_mount: &stack.auth_mount,
                role: &app.role,
                service_account: &app.service_account,
                audiences: &app.audiences,
                ca_secret: app.ca_secret.as_ref().map(|c| c.name.as_str()),
                vault_namespace: stack.vault_namespace.as_deref(),
            }),
        )?;
        files.push(file);
    }
    for s in &app.secrets {
        let Source::Kv { mount, path, .. } = &s.source else {
            return Err(RenderError::Model(format!(
                "secret {}: consumer eso reads kv only (a validation bug)",
                s.name
            )));
        };
        let store = e.store(mount).ok_or_else(|| {
            RenderError::Model(format!("secret {}: no store for mount {mount}", s.name))
        })?;
        let file = format!("externalsecret-{}.yaml", s.name);
        r.object(
            ObjectRef::new("ExternalSecret", &s.namespace, &s.name),
            format!("{dir}/{file}"),
            "eso/externalsecret.yaml.j2",
            Value::from_serialize(ExternalSecretContext {
                name: &s.name,
                namespace: &s.namespace,
                app: &app.name,
                refresh_interval: s.refresh_after.as_deref().unwrap_or(ESO_REFRESH),
                store_kind: kind,
                store: store_name(&store.name),
                path,
                keys: &s.keys,
                secret_type: s.secret_type.as_deref(),
                labels: &s.labels,
                annotations: &s.annotations,
            }),
        )?;
        files.push(file);
    }
    Ok(files)
}
