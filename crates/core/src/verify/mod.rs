//! The pure half of `verify`: join what the spec declares with what the cluster holds and say,
//! per declared secret, whether it is synced or which link of the chain is broken.
//!
//! Chain per secret: Flux applied the commit → VaultConnection valid → the app's VaultAuth
//! valid and ServiceAccount present → the CR exists, matches what was generated, and VSO
//! reconciled its generation with healthy conditions → the destination Secret exists, is owned
//! by that CR, has the expected keys, and is fresh. Values are never read into the report:
//! only key names.

//!
//! - [`observe`]: what is read from the cluster;
//! - [`view`]: how an object is read: typed, lenient views (key names and digests of a
//!   Secret, never its values);
//! - this module: the verdicts, link by link, and the whole [`report()`];
//! - [`consumers`]: the chains of the consumers other than the operator (ESO, CSI, injector);
//! - [`presence`]: what the tree needs and does not create (a brought controller's CRDs, the
//!   user's Kustomizations it depends on, namespaces it does not create);
//! - [`report`](mod@report): the table and progress the user reads;
//! - [`fleet`]: several clusters' reports merged into one.

pub mod argocd;
pub mod backup;
pub mod consumers;
pub mod fleet;
pub mod observe;
pub mod presence;
pub mod report;
pub mod view;

use crate::duration::{Duration, Grammar};
use crate::model::{self, App, DeclaredSecret, Grant, SecretKind, Source, Stack};
pub use observe::{expected_specs, observe, ExpectedSpecs, ListQuery, Observed};
use observe::{index, ready};
pub use report::{columns, flux_line, pending, secret_cells, table, SECRET_HEADERS};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use view::{Certificate, Event, Named, Object, Secret};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FluxCheck {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SecretRow {
    pub namespace: String,
    pub secret: String,
    pub kind: String,
    pub source: String,
    pub status: SecretStatus,
    pub detail: String,
    /// Key names in the destination Secret (never values).
    pub keys: Vec<String>,
}

/// Where a secret stands: `Synced`, or the first broken link of the chain from the spec to
/// the Secret in the cluster (and, with `--vault`, to Vault).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum SecretStatus {
    Synced,
    /// The CR is not in the cluster and the GitOps engine (Flux or Argo CD) has not applied the commit.
    NotApplied,
    /// The app's VaultAuth is not valid.
    AuthInvalid,
    /// The CR is not in the cluster though Flux applied the commit.
    Missing,
    /// The CR in the cluster differs from what the spec generates.
    Drifted,
    /// VSO has not reconciled the CR's current generation.
    NotReconciled,
    /// VSO reconciled but did not sync.
    NotSynced,
    /// The destination Secret is not there.
    SecretMissing,
    /// The destination Secret is not owned by its CR.
    NotOwned,
    /// The destination Secret lacks keys it should hold.
    MissingKeys,
    /// The lease or certificate has expired (or is inside its renewal window).
    Expired,
    /// (`--vault`) the app's policy does not grant what the secret needs.
    PolicyDenied,
    /// (`--vault`) the Secret's data differs from what Vault holds.
    OutOfDate,
    /// (injector) no pod carries the agent's annotations, or the agent was not added.
    NotInjected,
    /// (csi) a pod mounts the SecretProviderClass, but the volume is not mounted.
    NotMounted,
}

impl SecretStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SecretStatus::Synced => "Synced",
            SecretStatus::NotApplied => "NotApplied",
            SecretStatus::AuthInvalid => "AuthInvalid",
            SecretStatus::Missing => "Missing",
            SecretStatus::Drifted => "Drifted",
            SecretStatus::NotReconciled => "NotReconciled",
            SecretStatus::NotSynced => "NotSynced",
            SecretStatus::SecretMissing => "SecretMissing",
            SecretStatus::NotOwned => "NotOwned",
            SecretStatus::MissingKeys => "MissingKeys",
            SecretStatus::Expired => "Expired",
            SecretStatus::PolicyDenied => "PolicyDenied",
            SecretStatus::OutOfDate => "OutOfDate",
            SecretStatus::NotInjected => "NotInjected",
            SecretStatus::NotMounted => "NotMounted",
        }
    }
}

impl std::fmt::Display for SecretStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl SecretRow {
    pub fn synced(&self) -> bool {
        self.status == SecretStatus::Synced
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub cluster: String,
    pub revision: Option<String>,
    pub flux: Vec<FluxCheck>,
    pub secrets: Vec<SecretRow>,
    pub synced: usize,
    pub total: usize,
    pub ok: bool,
    /// The GitOps engine whose checks come first (`Flux`, `Argo CD`), as the summary names it.
    #[serde(skip)]
    pub engine: &'static str,
}

/// Flux: every stage's Kustomization, and the HelmReleases of Vault, the operator and the
/// consumers' controllers the tree installs.
pub fn check_flux(stack: &Stack, observed: &Observed, revision: Option<&str>) -> Vec<FluxCheck> {
    let mut out = Vec::new();
    let ks = index(&observed.kustomizations);
    // A cluster that runs no Vault has no Vault stage and no Vault release: said as such.
    let deploy = stack.vault.deploy;
    if !deploy {
        out.push(FluxCheck {
            kind: "Vault".into(),
            namespace: String::new(),
            name: String::new(),
            ok: true,
            detail: format!(
                "this cluster runs no Vault (uses {}{})",
                stack.operator.address,
                match &stack.vault.fleet {
                    Some(model::FleetVault::Shared { host: Some(h) }) =>
                        format!(", run by cluster {h}"),
                    _ => String::new(),
                }
            ),
        });
    }
    if stack.flux.engine == crate::spec::types::GitopsEngine::Argocd {
        out.extend(argocd::checks(stack, &observed.applications, revision));
        return out;
    }
    for name in stack.flux.stages.iter().map(|s| &s.name) {
        let (ok, detail) = match ks.get(&(model::FLUX_NAMESPACE, name.as_str())) {
            None => (
                false,
                "not found: the commit is not applied yet (is the GitRepository reconciled?)"
                    .to_string(),
            ),
            Some(k) => match ready(k) {
                Err(e) => (false, e.to_string()),
                Ok(()) => {
                    let applied = k
                        .status
                        .last_applied_revision
                        .as_deref()
                        .unwrap_or_default();
                    match revision {
                        Some(rev) if !revision_matches(applied, rev) => (
                            false,
                            format!("applied revision {applied}, expected {rev}: Flux has not reconciled the commit yet"),
                        ),
                        _ => (true, format!("Ready at {applied}")),
                    }
                }
            },
        };
        out.push(FluxCheck {
            kind: "Kustomization".into(),
            namespace: model::FLUX_NAMESPACE.into(),
            name: name.clone(),
            ok,
            detail,
        });
    }
    let hr = index(&observed.helmreleases);
    let releases = [
        (&stack.vault.namespace, stack.vault.release()),
        (&stack.operator.namespace, model::OPERATOR_RELEASE),
    ];
    for (ns, name) in (releases.into_iter())
        .filter(|(_, n)| deploy || *n != stack.vault.release())
        .filter(|(_, n)| stack.operator.installed() || *n != model::OPERATOR_RELEASE)
    {
        let (ok, detail) = match hr.get(&(ns.as_str(), name)) {
            None => (false, "not found".to_string()),
            Some(h) => match ready(h) {
                Ok(()) => (true, "Ready".into()),
                Err(e) => (false, e.to_string()),
            },
        };
        out.push(FluxCheck {
            kind: "HelmRelease".into(),
            namespace: ns.clone(),
            name: name.into(),
            ok,
            detail,
        });
    }
    out.extend(consumers::flux_checks(stack, observed));
    out
}

/// The seal link: a Ready VaultConnection does not prove Vault is unsealed. Read from the
/// pods' `vault-sealed` labels (no request to Vault); no link when no pod is listed (the
/// HelmRelease check already reports a Vault that is not deployed).
pub fn seal_check(stack: &Stack, observed: &Observed) -> Option<FluxCheck> {
    if observed.vault_pods.is_empty() {
        return None;
    }
    let (ok, detail) = crate::vault_pods::seal_link(&observed.vault_pods);
    Some(FluxCheck {
        kind: "VaultPods".into(),
        namespace: stack.vault.namespace.clone(),
        name: stack.vault.release().into(),
        ok,
        detail,
    })
}

/// cert-manager's Vault issuer: present and `Ready` (cert-manager could log in to Vault).
pub fn check_issuer(stack: &Stack, observed: &Observed) -> Vec<FluxCheck> {
    use crate::spec::types::IssuerKind;
    let Some(cm) = &stack.cert_manager else {
        return vec![];
    };
    let (kind, namespace) = match cm.kind {
        IssuerKind::Issuer => ("Issuer", cm.service_account_namespace.as_str()),
        IssuerKind::ClusterIssuer => ("ClusterIssuer", ""),
    };
    let found = observed.issuers.iter().find(|i| {
        i.kind.as_deref().is_none_or(|k| k == kind) && i.name_of() == (namespace, cm.name.as_str())
    });
    let (ok, detail) = match found {
        None => (
            false,
            "not found (is cert-manager installed, and the apps stage applied?)".to_string(),
        ),
        Some(i) => match ready(i) {
            Ok(()) => (true, "Ready".into()),
            Err(e) => (false, e.to_string()),
        },
    };
    vec![FluxCheck {
        kind: kind.into(),
        namespace: namespace.into(),
        name: cm.name.clone(),
        ok,
        detail,
    }]
}

/// `main@sha1:3f9c2a7…` matches `3f9c2a7` (a prefix of the sha) or the full revision.
pub fn revision_matches(applied: &str, expected: &str) -> bool {
    let sha = applied.rsplit(':').next().unwrap_or(applied);
    let sha = sha.rsplit('@').next().unwrap_or(sha);
    !expected.is_empty()
        && (applied == expected
            || sha.starts_with(expected)
            || expected.starts_with(sha) && sha.len() >= 7)
}

/// Why the CA Secret the VaultConnection names cannot be used; `None` when it can.
fn ca_secret_problem(stack: &Stack, name: &str, listed: &[Secret]) -> Option<String> {
    let ns = &stack.operator.namespace;
    let found = listed
        .iter()
        .find(|s| s.metadata.name == name && s.metadata.namespace == ns.as_str());
    match found {
        None => Some(format!(
            "the CA Secret {ns}/{name} it trusts does not exist (create it with key ca.crt, or set vault.tlsIssuer so the tree carries the CA there)"
        )),
        Some(s) if s.data.get("ca.crt").is_none_or(|d| d.blank) => Some(format!(
            "the CA Secret {ns}/{name} it trusts has no ca.crt key"
        )),
        Some(_) => None,
    }
}

/// For a cluster that runs no Vault: which Vault its VaultConnection could not use (a
/// shared Vault unreachable from here is not this cluster's own Vault being down).
fn elsewhere(stack: &Stack) -> String {
    if stack.vault.deploy {
        return String::new();
    }
    let whose = match &stack.vault.fleet {
        Some(model::FleetVault::Shared { host: Some(h) }) => {
            format!("the shared Vault run by cluster {h}")
        }
        Some(model::FleetVault::Shared { host: None }) => "the fleet's shared Vault".into(),
        _ => "the Vault outside this cluster".into(),
    };
    format!(
        "; {whose} at {} is unreachable or not trusted from this cluster",
        stack.operator.address
    )
}

/// Checks every declared secret (of apps in `namespace`, when given).
pub fn check_secrets(
    stack: &Stack,
    expected: &ExpectedSpecs,
    observed: &Observed,
    flux_ok: bool,
    namespace: Option<&str>,
    now: i64,
) -> Vec<SecretRow> {
    let connections = index(&observed.vaultconnections);
    let auths = index(&observed.vaultauths);
    let sas = index(&observed.serviceaccounts);
    let statics = index(&observed.staticsecrets);
    let dynamics = index(&observed.dynamicsecrets);
    let pkis = index(&observed.pkisecrets);
    let secrets = index(&observed.secrets);
    // The latest Warning event per involved object.
    let mut warnings: HashMap<(&str, &str, &str), &Event> = HashMap::new();
    for e in &observed.events {
        if e.type_.as_deref() != Some("Warning") {
            continue;
        }
        let o = &e.involved_object;
        let key = (o.kind.as_str(), o.namespace.as_str(), o.name.as_str());
        let newer = warnings.get(&key).is_none_or(|old| e.time() >= old.time());
        if newer {
            warnings.insert(key, e);
        }
    }

    let connection_problem =
        match connections.get(&(stack.operator.namespace.as_str(), model::VAULT_CONNECTION)) {
            None => Some(format!(
                "VaultConnection {}/{} not found",
                stack.operator.namespace,
                model::VAULT_CONNECTION
            )),
            Some(c) if c.status.valid != Some(true) => Some(format!(
                "VaultConnection {}/{} is not valid{}{}",
                stack.operator.namespace,
                model::VAULT_CONNECTION,
                c.condition("Ready")
                    .map(|c| format!(": {}", c.text()))
                    .unwrap_or_default(),
                elsewhere(stack)
            )),
            _ => None,
        };
    // A CA Secret that is missing (or has no ca.crt) is the cause the VaultConnection's own
    // error does not name: VSO only reports that it cannot reach or trust Vault.
    let connection_problem = match (&stack.operator.ca_cert_secret, connection_problem) {
        (Some(ca), Some(p)) => Some(match ca_secret_problem(stack, ca, &observed.ca_secrets) {
            Some(cause) => format!("{p}; cause: {cause}"),
            None => p,
        }),
        (_, p) => p,
    };

    let mut rows = Vec::new();
    for app in stack
        .apps
        .iter()
        .filter(|a| namespace.is_none_or(|n| a.namespace == n))
    {
        if let Some(consumer_rows) = consumers::rows(stack, app, expected, observed, flux_ok) {
            rows.extend(consumer_rows);
            continue;
        }
        let app_problem = app_problem(app, &auths, &sas);
        for s in &app.secrets {
            let kind = s.source.kind();
            let mut row = SecretRow {
                namespace: s.namespace.clone(),
                secret: s.name.clone(),
                kind: kind.kind().into(),
                source: s.source.describe(),
                status: SecretStatus::Synced,
                detail: String::new(),
                keys: vec![],
            };
            let crs = match kind {
                SecretKind::Static => &statics,
                SecretKind::Dynamic => &dynamics,
                SecretKind::Pki => &pkis,
            };
            let warning = warnings
                .get(&(kind.kind(), s.namespace.as_str(), s.name.as_str()))
                .map(|e| format!("; latest warning: {}: {}", e.reason, e.message))
                .unwrap_or_default();
            let result = (|| -> Result<String, (SecretStatus, String)> {
                let cr = match crs.get(&(s.namespace.as_str(), s.name.as_str())) {
                    Some(cr) => *cr,
                    None if !flux_ok => return Err((SecretStatus::NotApplied, format!("{} not found, and {engine} has not applied the commit (see the {engine} checks)", kind.kind(), engine = stack.flux.engine.name()))),
                    None => return Err((SecretStatus::Missing, format!("{} {}/{} not found in the cluster", kind.kind(), s.namespace, s.name))),
                };
                if let Some(p) = &connection_problem {
                    return Err((SecretStatus::AuthInvalid, p.clone()));
                }
                if let Some(p) = &app_problem {
                    return Err((SecretStatus::AuthInvalid, p.clone()));
                }
                if let Some(want) =
                    expected.get(&(kind.kind().to_string(), s.namespace.clone(), s.name.clone()))
                {
                    let drift = drifted_fields(want, &cr.spec, "spec");
                    if !drift.is_empty() {
                        return Err((
                            SecretStatus::Drifted,
                            format!(
                                "the CR differs from what kubectl-vault generated: {}",
                                drift.join("; ")
                            ),
                        ));
                    }
                }
                let generation = cr.metadata.generation.unwrap_or(0);
                let seen = cr.status.last_generation.unwrap_or(-1);
                if seen != generation {
                    return Err((SecretStatus::NotReconciled, format!("VSO has not reconciled generation {generation} yet (last seen {seen}){warning}")));
                }
                for t in ["Ready", "SecretSynced", "Healthy"] {
                    if let Some(c) = cr.condition(t) {
                        if !c.is_true() {
                            return Err((
                                SecretStatus::NotSynced,
                                format!("{t}={}: {}{warning}", c.status_text(), c.text()),
                            ));
                        }
                    }
                }
                if !cr.status.conditions.is_empty() && cr.condition("SecretSynced").is_none() {
                    return Err((
                        SecretStatus::NotSynced,
                        format!("VSO has not reported SecretSynced yet{warning}"),
                    ));
                }
                if kind == SecretKind::Pki && cr.status.valid == Some(false) {
                    return Err((
                        SecretStatus::NotSynced,
                        format!(
                            "VaultPKISecret is not valid: {}{warning}",
                            cr.status.error.as_deref().unwrap_or_default()
                        ),
                    ));
                }
                let secret = secrets
                    .get(&(s.namespace.as_str(), s.name.as_str()))
                    .ok_or((
                        SecretStatus::SecretMissing,
                        format!(
                            "Secret {}/{} not found (VSO writes it on sync){warning}",
                            s.namespace, s.name
                        ),
                    ))?;
                check_owner(secret, cr, kind)?;
                let keys = secret.keys();
                check_keys(s, secret, &keys)?;
                check_fresh(s, cr, secret, now)
            })();
            match result {
                Ok(detail) => row.detail = detail,
                Err((status, detail)) => {
                    row.status = status;
                    row.detail = detail;
                }
            }
            if let Some(secret) = secrets.get(&(s.namespace.as_str(), s.name.as_str())) {
                row.keys = secret.keys();
            }
            rows.push(row);
        }
    }
    rows
}

fn app_problem(
    app: &App,
    auths: &HashMap<(&str, &str), &Object>,
    sas: &HashMap<(&str, &str), &Object>,
) -> Option<String> {
    match auths.get(&(app.namespace.as_str(), app.vault_auth.as_str())) {
        None => {
            return Some(format!(
                "VaultAuth {}/{} not found",
                app.namespace, app.vault_auth
            ))
        }
        Some(a) if a.status.valid != Some(true) => {
            let why = a
                .status
                .error
                .clone()
                .filter(|e| !e.is_empty())
                .or_else(|| a.condition("Ready").map(|c| c.text()))
                .unwrap_or_else(|| "no status yet".into());
            return Some(format!(
                "VaultAuth {}/{} is not valid: {why}",
                app.namespace, app.vault_auth
            ));
        }
        _ => {}
    }
    if !sas.contains_key(&(app.namespace.as_str(), app.service_account.as_str())) {
        return Some(format!(
            "ServiceAccount {}/{} not found",
            app.namespace, app.service_account
        ));
    }
    None
}

/// Fields of `want` that `have` lacks or holds differently (API-server defaults are ignored).
pub fn drifted_fields(want: &Value, have: &Value, path: &str) -> Vec<String> {
    match (want, have) {
        (Value::Object(w), Value::Object(h)) => w
            .iter()
            .flat_map(|(k, wv)| {
                drifted_fields(wv, h.get(k).unwrap_or(&Value::Null), &format!("{path}.{k}"))
            })
            .collect(),
        (w, h) if w == h => vec![],
        (w, h) => vec![format!("{path}: want {}, have {}", short(w), short(h))],
    }
}

/// A value as a drift detail shows it: at most 80 characters (cut at a character boundary,
/// whatever the value's script), control characters escaped by JSON.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        let cut: String = s.chars().take(77).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// VSO's owner labels and an ownerReference to this very CR (uid match).
fn check_owner(
    secret: &Secret,
    cr: &Object,
    kind: SecretKind,
) -> Result<(), (SecretStatus, String)> {
    let uid = cr.metadata.uid.as_str();
    let labels = &secret.metadata.labels;
    let mut missing = Vec::new();
    for (k, v) in [
        ("app.kubernetes.io/managed-by", "hashicorp-vso"),
        ("app.kubernetes.io/component", "secret-sync"),
        ("app.kubernetes.io/name", "vault-secrets-operator"),
    ] {
        if labels.get(k).map(String::as_str) != Some(v) {
            missing.push(format!("{k}={v}"));
        }
    }
    if labels
        .get("secrets.hashicorp.com/vso-ownerRefUID")
        .map(String::as_str)
        != Some(uid)
    {
        missing.push("secrets.hashicorp.com/vso-ownerRefUID=<the CR's uid>".into());
    }
    if !missing.is_empty() {
        return Err((
            SecretStatus::NotOwned,
            format!(
                "the Secret lacks VSO's owner labels ({}): another writer owns it?",
                missing.join(", ")
            ),
        ));
    }
    owner_ref(secret, kind.kind(), uid)
}

/// An ownerReference from the Secret to the `kind` object of this `uid`.
pub(crate) fn owner_ref(
    secret: &Secret,
    kind: &str,
    uid: &str,
) -> Result<(), (SecretStatus, String)> {
    let owned = secret
        .metadata
        .owner_references
        .iter()
        .any(|r| r.uid.as_deref() == Some(uid) && r.kind.as_deref() == Some(kind));
    if !owned {
        return Err((
            SecretStatus::NotOwned,
            format!("the Secret has no ownerReference to this {kind} (uid {uid})"),
        ));
    }
    Ok(())
}

/// `MissingKeys`: the keys the Secret lacks, and the ones it has.
pub(crate) fn missing_keys(missing: &[impl AsRef<str>], keys: &[String]) -> (SecretStatus, String) {
    let missing: Vec<&str> = missing.iter().map(AsRef::as_ref).collect();
    (
        SecretStatus::MissingKeys,
        format!(
            "the Secret lacks {} (has: {})",
            missing.join(", "),
            if keys.is_empty() {
                "nothing".to_string()
            } else {
                keys.join(", ")
            }
        ),
    )
}

fn check_keys(
    s: &DeclaredSecret,
    secret: &Secret,
    keys: &[String],
) -> Result<(), (SecretStatus, String)> {
    let has = |k: &str| keys.iter().any(|x| x == k);
    let missing: Vec<&str> = match &s.source {
        Source::Kv { .. } => {
            if keys.iter().any(|k| k != "_raw") {
                vec![]
            } else {
                vec!["<any key besides _raw>"]
            }
        }
        Source::Database { .. } => ["username", "password"]
            .into_iter()
            .filter(|k| !has(k))
            .collect(),
        Source::Pki { .. } => ["tls.crt", "tls.key"]
            .into_iter()
            .filter(|k| !has(k))
            .collect(),
        Source::Cloud { keys, .. } => keys.iter().copied().filter(|k| !has(k)).collect(),
        Source::Dynamic { .. } => {
            if keys.is_empty() {
                vec!["<any key>"]
            } else {
                vec![]
            }
        }
    };
    if !missing.is_empty() {
        return Err(missing_keys(&missing, keys));
    }
    if matches!(s.source, Source::Pki { .. })
        && secret.type_.as_deref() != Some("kubernetes.io/tls")
    {
        return Err((
            SecretStatus::MissingKeys,
            format!(
                "the Secret has type {}, expected kubernetes.io/tls",
                secret.type_shown()
            ),
        ));
    }
    Ok(())
}

fn check_fresh(
    s: &DeclaredSecret,
    cr: &Object,
    secret: &Secret,
    now: i64,
) -> Result<String, (SecretStatus, String)> {
    match &s.source {
        Source::Database { .. } | Source::Dynamic { .. } | Source::Cloud { .. } => {
            let renewed = cr.status.last_renewal_time.unwrap_or(0);
            let duration = cr.status.secret_lease.duration.unwrap_or(0);
            if duration > 0 && renewed + duration < now {
                return Err((SecretStatus::Expired, format!(
                    "the lease ran out {}s ago (renewed at {renewed}, duration {duration}s): VSO is not renewing it",
                    now - renewed - duration
                )));
            }
            Ok(if duration > 0 {
                format!("lease valid for {}s more", renewed + duration - now)
            } else {
                "synced".into()
            })
        }
        Source::Pki { .. } => {
            let offset = s
                .pki
                .as_ref()
                .and_then(|p| p.expiry_offset.as_deref())
                .and_then(|o| Duration::parse(o, Grammar::Vso))
                .map_or(0, Duration::whole_seconds);
            let certificate = secret
                .data
                .get("tls.crt")
                .and_then(|d| d.certificate.clone())
                .unwrap_or_else(|| view::certificate(&[]));
            let not_after = match certificate {
                Certificate::NotAfter(t) => t,
                Certificate::Invalid(e) => {
                    return Err((
                        SecretStatus::MissingKeys,
                        format!("tls.crt is not a valid certificate: {e}"),
                    ))
                }
                Certificate::NotPem(e) => {
                    return Err((
                        SecretStatus::MissingKeys,
                        format!("tls.crt is not PEM: {e}"),
                    ))
                }
            };
            if not_after <= now {
                return Err((
                    SecretStatus::Expired,
                    format!(
                        "the certificate expired {}s ago and was not renewed",
                        now - not_after
                    ),
                ));
            }
            if not_after - offset <= now {
                return Err((SecretStatus::Expired, format!("the certificate is inside its expiryOffset ({}s left): VSO should have renewed it", not_after - now)));
            }
            Ok(format!(
                "certificate valid for {}h more",
                (not_after - now) / 3600
            ))
        }
        Source::Kv { .. } => Ok("synced".into()),
    }
}

/// The whole report.
pub fn report(
    stack: &Stack,
    expected: &ExpectedSpecs,
    observed: &Observed,
    revision: Option<&str>,
    namespace: Option<&str>,
    now: i64,
) -> Report {
    let mut flux = check_flux(stack, observed, revision);
    let flux_ok = flux.iter().all(|f| f.ok);
    let seal_ok = seal_check(stack, observed).is_none_or(|link| {
        let ok = link.ok;
        flux.push(link);
        ok
    });
    let backup_ok = backup::check(stack, &observed.cron_jobs, now).is_none_or(|link| {
        let ok = link.ok;
        flux.push(link);
        ok
    });
    // The issuer is not on any secret's chain: it fails the report, not the secrets.
    let mut issuer = check_issuer(stack, observed);
    // What the tree needs and does not create: named, without changing any secret's row.
    issuer.extend(presence::check(stack, observed, namespace));
    let issuer_ok = issuer.iter().all(|f| f.ok);
    flux.extend(issuer);
    // Nor is an item the cluster sent that could not be read at all.
    let readable = observed.unreadable.is_empty();
    flux.extend(observed.unreadable.iter().map(|u| FluxCheck {
        kind: "Unreadable".into(),
        namespace: String::new(),
        name: format!("{} #{}", u.list, u.index + 1),
        ok: false,
        detail: format!(
            "could not read this item of the {} list: {}",
            u.list, u.error
        ),
    }));
    let mut secrets = check_secrets(stack, expected, observed, flux_ok, namespace, now);
    presence::explain_rows(&mut secrets, observed);
    if !flux_ok {
        let first = flux.iter().find(|f| !f.ok).expect("a failing check");
        let engine = stack.flux.engine.name();
        for r in secrets.iter_mut().filter(|r| r.synced()) {
            r.status = SecretStatus::NotApplied;
            r.detail = format!(
                "synced, but {engine} is not done: {} {}: {}",
                first.kind, first.name, first.detail
            );
        }
    }
    let synced = secrets.iter().filter(|r| r.synced()).count();
    let total = secrets.len();
    Report {
        cluster: stack.cluster.clone(),
        revision: revision.map(str::to_string),
        ok: flux_ok && seal_ok && backup_ok && issuer_ok && readable && synced == total,
        flux,
        secrets,
        synced,
        total,
        engine: stack.flux.engine.name(),
    }
}

/// (`--vault`) The capabilities Vault's `sys/capabilities` answer grants on `path` (under
/// `data`, or at the top level as older servers answer).
pub fn granted<'a>(answer: &'a Value, path: &str) -> Vec<&'a str> {
    answer["data"][path]
        .as_array()
        .or(answer[path].as_array())
        .map(|a| a.iter().filter_map(|c| c.as_str()).collect())
        .unwrap_or_default()
}

/// (`--vault`) `PolicyDenied` when the app's policy lacks a capability the secret's grant
/// needs; `have` is what Vault reports the policy grants on the grant's path.
pub fn policy_verdict(
    policy: &str,
    grant: &Grant,
    have: &[&str],
) -> Option<(SecretStatus, String)> {
    let missing: Vec<&str> = grant
        .capabilities
        .iter()
        .copied()
        .filter(|c| !have.contains(c) && !have.contains(&"root"))
        .collect();
    (!missing.is_empty()).then(|| {
        (
            SecretStatus::PolicyDenied,
            format!(
                "policy {policy} does not grant {} on {} (Vault: {have:?})",
                missing.join("+"),
                grant.path,
            ),
        )
    })
}

/// (`--vault`) A synced kv Secret against the data Vault holds at `path` (`None`: nothing).
pub fn kv_verdict(
    path: &str,
    vault_data: Option<&Value>,
    secret: &Secret,
) -> (SecretStatus, String) {
    match vault_data {
        None => (
            SecretStatus::OutOfDate,
            format!("Vault has no data at {path}"),
        ),
        Some(d) => match compare_kv(d, secret) {
            Ok(()) => (
                SecretStatus::Synced,
                "synced; data matches Vault (SHA-256)".into(),
            ),
            Err(e) => (SecretStatus::OutOfDate, e.to_string()),
        },
    }
}

/// Recounts the synced rows after a later check (`--vault`) changed some.
pub fn recount(report: &mut Report) {
    report.synced = report.secrets.iter().filter(|r| r.synced()).count();
    report.ok = report.ok && report.synced == report.total;
}

/// The keys whose values differ between Vault and the Secret (compared by hash, never shown).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("differs from Vault in key(s) {} (compared by SHA-256)", keys.join(", "))]
pub struct KvMismatch {
    pub keys: Vec<String>,
}

/// Compares the kv data in Vault with the Secret VSO wrote, by SHA-256 of each value (never the
/// values themselves). Keys VSO adds (`_raw`) are ignored.
pub fn compare_kv(vault_data: &Value, secret: &Secret) -> Result<(), KvMismatch> {
    use sha2::{Digest, Sha256};
    let hash = |b: &[u8]| hex::encode(Sha256::digest(b));
    let want: BTreeMap<String, String> = vault_data
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let text = v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string());
                    (k.clone(), hash(text.as_bytes()))
                })
                .collect()
        })
        .unwrap_or_default();
    let have: BTreeMap<String, String> = secret
        .data
        .iter()
        .filter(|(k, _)| k.as_str() != "_raw")
        .map(|(k, d)| (k.clone(), d.sha256.clone()))
        .collect();
    let mut differ: Vec<String> = want
        .keys()
        .chain(have.keys())
        .filter(|k| want.get(*k) != have.get(*k))
        .cloned()
        .collect();
    differ.sort();
    differ.dedup();
    if differ.is_empty() {
        Ok(())
    } else {
        Err(KvMismatch { keys: differ })
    }
}
