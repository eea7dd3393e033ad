//! The pure half of `kubectl vault operator`: what the Vault pods' answers mean (status rows,
//! the summary line, the exit decision), the order in which pods are unsealed, the body of an
//! init request, and PGP public keys in the form Vault's API takes them. No I/O here: the pod
//! proxy edge ([`crate::edge::podproxy`]) fetches, the commands print.

use crate::model::Distribution;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The port the chart's Vault pods listen on (API).
pub const VAULT_PORT: u16 = 8200;

/// Most shares Vault's Shamir split allows.
pub const MAX_SHARES: u32 = 255;

/// The labels the chart puts on its server pods (the StatefulSet's selector), for the
/// release the tree deploys.
pub fn pod_selector(distribution: Distribution) -> String {
    distribution.pod_selector()
}

/// States Vault's Kubernetes service registration (`service_registration "kubernetes"`, which
/// the tree configures) keeps up to date on its own pod, as labels `vault-<state>` (OpenBao:
/// `openbao-<state>`, [`Distribution::pod_label`]).
pub const LABEL_SEALED: &str = "sealed";
pub const LABEL_ACTIVE: &str = "active";
pub const LABEL_INITIALIZED: &str = "initialized";

/// A Vault server pod as the pod list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultPod {
    pub name: String,
    /// `Running`, `Pending`, ...: only a running pod can be reached.
    pub phase: String,
    /// The service registration's `vault-sealed` label, when Vault has set it.
    pub sealed_label: Option<bool>,
    pub active_label: Option<bool>,
    pub initialized_label: Option<bool>,
    /// The UID of the pod's controller (`ownerReferences[controller=true]`), when that is a
    /// StatefulSet: who made the pod, not which labels it wears.
    pub controller_uid: Option<String>,
}

impl VaultPod {
    pub fn from_json(v: &Value) -> VaultPod {
        // The pods were listed by one chart's selector: its labels are the ones present.
        let label = |state: &str| {
            [Distribution::Vault, Distribution::Openbao]
                .into_iter()
                .find_map(|d| v["metadata"]["labels"][d.pod_label(state)].as_str())
                .and_then(|s| s.parse::<bool>().ok())
        };
        VaultPod {
            name: v["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            phase: v["status"]["phase"]
                .as_str()
                .unwrap_or("Unknown")
                .to_string(),
            sealed_label: label(LABEL_SEALED),
            active_label: label(LABEL_ACTIVE),
            initialized_label: label(LABEL_INITIALIZED),
            controller_uid: v["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|r| r["controller"] == true && r["kind"] == "StatefulSet")
                .and_then(|r| r["uid"].as_str())
                .map(str::to_string),
        }
    }

    pub fn running(&self) -> bool {
        self.phase == "Running"
    }
}

/// Pods by name in StatefulSet order: `vault-2` before `vault-10`.
/// The live Vault StatefulSet, as far as choosing its pods needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultStatefulSet {
    pub uid: String,
    pub replicas: u32,
}

impl VaultStatefulSet {
    pub fn from_json(v: &Value) -> Option<VaultStatefulSet> {
        Some(VaultStatefulSet {
            uid: v["metadata"]["uid"]
                .as_str()
                .filter(|u| !u.is_empty())?
                .to_string(),
            replicas: v["spec"]["replicas"]
                .as_u64()
                .unwrap_or(1)
                .min(u32::MAX as u64) as u32,
        })
    }
}

/// A pod wearing Vault's labels that is not one of the StatefulSet's, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impostor {
    pub name: String,
    pub why: String,
}

/// The pods the operator may talk to (unseal shares, tokens, init, snapshots): those whose
/// controller is the live Vault StatefulSet (by UID) and whose name is `vault-N`, N below its
/// replicas — labels alone are not enough (anyone who can create a pod in the namespace can
/// wear them). The others are named, to be warned about. In ordinal order.
pub fn own_pods(
    pods: Vec<VaultPod>,
    sts: &VaultStatefulSet,
    distribution: Distribution,
) -> (Vec<VaultPod>, Vec<Impostor>) {
    let release = distribution.release();
    let mut own = Vec::new();
    let mut others = Vec::new();
    for pod in pods {
        let ordinal = pod
            .name
            .strip_prefix(&format!("{release}-"))
            .filter(|n| {
                !n.is_empty()
                    && n.bytes().all(|b| b.is_ascii_digit())
                    && (n.len() == 1 || !n.starts_with('0'))
            })
            .and_then(|n| n.parse::<u32>().ok());
        let why = if pod.controller_uid.as_deref() != Some(sts.uid.as_str()) {
            Some("not created by the Vault StatefulSet".to_string())
        } else if ordinal.is_none_or(|n| n >= sts.replicas) {
            Some(format!(
                "not a pod name of the Vault StatefulSet ({release}-0 … {release}-{})",
                sts.replicas.saturating_sub(1)
            ))
        } else {
            None
        };
        match why {
            None => own.push(pod),
            Some(why) => others.push(Impostor {
                name: crate::outside::shown(&pod.name),
                why,
            }),
        }
    }
    (in_ordinal_order(own), others)
}

/// The one active node, or why there is none (`Ok(None)`) — two claiming it is an error, never
/// "the first one".
pub fn the_active(observed: &[PodObservation]) -> Result<Option<&PodObservation>, String> {
    let active: Vec<&PodObservation> = observed
        .iter()
        .filter(|o| o.leader.as_ref().is_some_and(|l| l.is_self))
        .collect();
    match active[..] {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        ref several => Err(format!(
            "{} pods claim to be the active Vault node ({}): a split brain or an impostor; nothing was sent",
            several.len(),
            several.iter().map(|o| o.pod.name.as_str()).collect::<Vec<_>>().join(", ")
        )),
    }
}

pub fn in_ordinal_order(mut pods: Vec<VaultPod>) -> Vec<VaultPod> {
    pods.sort_by_key(|p| ordinal_key(&p.name));
    pods
}

fn ordinal_key(name: &str) -> (String, u64) {
    match name.rsplit_once('-') {
        Some((base, n)) if n.parse::<u64>().is_ok() => (base.to_string(), n.parse().unwrap_or(0)),
        _ => (name.to_string(), 0),
    }
}

/// `GET /v1/sys/seal-status` (unauthenticated, answered sealed or not).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct SealStatus {
    #[serde(rename = "type", default)]
    pub seal_type: String,
    pub initialized: bool,
    pub sealed: bool,
    /// Threshold.
    #[serde(default)]
    pub t: u32,
    /// Shares.
    #[serde(default)]
    pub n: u32,
    #[serde(default)]
    pub progress: u32,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub recovery_seal: bool,
}

/// `GET /v1/sys/leader` (unauthenticated; an unsealed node only).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Leader {
    #[serde(default)]
    pub ha_enabled: bool,
    #[serde(default)]
    pub is_self: bool,
}

/// One server of `GET /v1/sys/storage/raft/configuration` (needs a token).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct RaftServer {
    pub node_id: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub leader: bool,
    #[serde(default)]
    pub voter: bool,
}

/// An answer of Vault's (through a pod) that is not what the request returns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// The body does not parse as `what` (e.g. `a seal status`).
    #[error("not {what}: {message}")]
    NotA { what: &'static str, message: String },
    /// The init answer lacks a field.
    #[error("the init answer has no {0}")]
    InitLacks(&'static str),
}

fn not_a(what: &'static str) -> impl Fn(serde_json::Error) -> AnswerError {
    move |e| AnswerError::NotA {
        what,
        message: e.to_string(),
    }
}

pub fn parse_seal_status(body: &[u8]) -> Result<SealStatus, AnswerError> {
    serde_json::from_slice(body).map_err(not_a("a seal status"))
}

pub fn parse_leader(body: &[u8]) -> Result<Leader, AnswerError> {
    serde_json::from_slice(body).map_err(not_a("a leader status"))
}

pub fn parse_raft_configuration(body: &[u8]) -> Result<Vec<RaftServer>, AnswerError> {
    #[derive(Deserialize)]
    struct Answer {
        data: Data,
    }
    #[derive(Deserialize)]
    struct Data {
        config: Config,
    }
    #[derive(Deserialize)]
    struct Config {
        #[serde(default)]
        servers: Vec<RaftServer>,
    }
    serde_json::from_slice::<Answer>(body)
        .map(|a| a.data.config.servers)
        .map_err(not_a("a raft configuration"))
}

/// Vault's `{"errors": [...]}`, joined; the body's text when it is not that.
pub fn vault_errors(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        // What the pod answered is outside text: escaped and bounded for the terminal.
        Ok(v) if v["errors"].is_array() => crate::outside::shown(
            &v["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("; "),
        ),
        _ => String::from_utf8_lossy(body)
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect(),
    }
}

/// What was learnt from one pod.
#[derive(Debug, Clone)]
pub struct PodObservation {
    pub pod: VaultPod,
    /// The pod's seal status, or why it could not be read.
    pub seal: Result<SealStatus, SealUnknown>,
    /// Its HA answer (unsealed pods only).
    pub leader: Option<Leader>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum HaRole {
    Active,
    Standby,
    /// Sealed or unreachable: no role.
    None,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RaftRole {
    Voter,
    NonVoter,
    /// Not in the raft configuration.
    NotPeer,
    /// The configuration was not read (no VAULT_TOKEN, or no active node).
    Unknown,
}

impl RaftRole {
    fn as_str(self) -> &'static str {
        match self {
            RaftRole::Voter => "voter",
            RaftRole::NonVoter => "non-voter",
            RaftRole::NotPeer => "not a peer",
            RaftRole::Unknown => "?",
        }
    }
}

/// One row of `operator status`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PodRow {
    pub pod: String,
    pub initialized: Option<bool>,
    pub sealed: Option<bool>,
    /// Shares given so far toward the threshold, while sealed (`1/3`).
    pub unseal_progress: Option<String>,
    pub ha: HaRole,
    pub raft: RaftRole,
    pub leader: bool,
    pub version: Option<String>,
    /// Why the pod could not be read (not running, unreachable).
    pub error: Option<String>,
}

impl PodRow {
    pub fn unsealed(&self) -> bool {
        self.sealed == Some(false)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub namespace: String,
    pub pods: Vec<PodRow>,
    pub unsealed: usize,
    pub total: usize,
    pub leader: Option<String>,
    /// Raft voters (None: the raft configuration was not read).
    pub voters: Option<usize>,
    pub summary: String,
    /// Every pod initialised and unsealed.
    pub ok: bool,
}

/// The status rows and summary from what each pod answered and, when read, the raft
/// configuration.
pub fn status_report(
    namespace: &str,
    observed: &[PodObservation],
    raft: Option<&[RaftServer]>,
) -> StatusReport {
    let pods: Vec<PodRow> = observed
        .iter()
        .map(|o| {
            let raft_role = match raft {
                None => RaftRole::Unknown,
                Some(servers) => {
                    match servers.iter().find(|s| raft_server_is_pod(s, &o.pod.name)) {
                        Some(s) if s.voter => RaftRole::Voter,
                        Some(_) => RaftRole::NonVoter,
                        None => RaftRole::NotPeer,
                    }
                }
            };
            match &o.seal {
                Err(e) => PodRow {
                    pod: o.pod.name.clone(),
                    initialized: None,
                    sealed: None,
                    unseal_progress: None,
                    ha: HaRole::None,
                    raft: raft_role,
                    leader: false,
                    version: None,
                    error: Some(e.to_string()),
                },
                Ok(s) => {
                    let ha = match (&o.leader, s.sealed) {
                        (Some(l), false) if l.is_self => HaRole::Active,
                        (Some(_), false) => HaRole::Standby,
                        _ => HaRole::None,
                    };
                    PodRow {
                        pod: o.pod.name.clone(),
                        initialized: Some(s.initialized),
                        sealed: Some(s.sealed),
                        unseal_progress: (s.sealed && s.initialized && s.t > 0)
                            .then(|| format!("{}/{}", s.progress, s.t)),
                        ha,
                        raft: raft_role,
                        leader: ha == HaRole::Active,
                        version: (!s.version.is_empty()).then(|| s.version.clone()),
                        error: None,
                    }
                }
            }
        })
        .collect();
    let unsealed = pods.iter().filter(|p| p.unsealed()).count();
    let total = pods.len();
    let claiming: Vec<&str> = pods
        .iter()
        .filter(|p| p.leader)
        .map(|p| p.pod.as_str())
        .collect();
    // Two claiming the leadership is a problem to show, not "leader <the first>".
    let leader = match claiming[..] {
        [one] => Some(one.to_string()),
        _ => None,
    };
    let voters = raft.map(|servers| servers.iter().filter(|s| s.voter).count());
    let ok = total > 0
        && claiming.len() <= 1
        && pods
            .iter()
            .all(|p| p.initialized == Some(true) && p.unsealed());
    let mut summary = summary(&pods, unsealed, leader.as_deref(), voters);
    if claiming.len() > 1 {
        summary = summary.replacen(
            "no leader",
            &format!(
                "{} pods claim the leadership ({})",
                claiming.len(),
                claiming.join(", ")
            ),
            1,
        );
    }
    StatusReport {
        namespace: namespace.to_string(),
        pods,
        unsealed,
        total,
        leader,
        voters,
        summary,
        ok,
    }
}

/// `3/3 unsealed, leader vault-0, 3 raft voters`.
fn summary(
    pods: &[PodRow],
    unsealed: usize,
    leader: Option<&str>,
    voters: Option<usize>,
) -> String {
    if pods.is_empty() {
        return "no Vault server pods found".to_string();
    }
    let uninitialised = pods.iter().filter(|p| p.initialized == Some(false)).count();
    let mut parts = vec![format!("{unsealed}/{} unsealed", pods.len())];
    if uninitialised == pods.len() {
        parts.push("not initialised".to_string());
    } else if uninitialised > 0 {
        parts.push(format!("{uninitialised} not initialised"));
    }
    let unreachable = pods.iter().filter(|p| p.error.is_some()).count();
    if unreachable > 0 {
        parts.push(format!("{unreachable} unreachable"));
    }
    parts.push(match leader {
        Some(l) => format!("leader {l}"),
        None => "no leader".to_string(),
    });
    parts.push(match voters {
        Some(1) => "1 raft voter".to_string(),
        Some(n) => format!("{n} raft voters"),
        None => "raft voters unknown (set VAULT_TOKEN to read them)".to_string(),
    });
    parts.join(", ")
}

/// A raft server is a pod when its node id is the pod's name, or its address is the pod's
/// stable name (`vault-0.vault-internal:8201`, as the chart's cluster address reads).
fn raft_server_is_pod(s: &RaftServer, pod: &str) -> bool {
    s.node_id == pod
        || s.address
            .split(['.', ':'])
            .next()
            .is_some_and(|host| host == pod)
}

/// The status as a table and the summary line.
pub fn table(r: &StatusReport) -> String {
    let yes_no = |b: Option<bool>| match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    };
    let headers = ["POD", "INITIALISED", "SEALED", "HA", "RAFT", "VERSION"];
    let rows: Vec<[String; 6]> = r
        .pods
        .iter()
        .map(|p| {
            let sealed = match (&p.sealed, &p.unseal_progress) {
                (Some(true), Some(progress)) => format!("yes ({progress} shares)"),
                (s, _) => yes_no(*s).to_string(),
            };
            let ha = match (&p.error, p.ha) {
                (Some(e), _) => e.clone(),
                (None, HaRole::Active) => "active (leader)".to_string(),
                (None, HaRole::Standby) => "standby".to_string(),
                (None, HaRole::None) => "-".to_string(),
            };
            [
                p.pod.clone(),
                yes_no(p.initialized).to_string(),
                sealed,
                ha,
                p.raft.as_str().to_string(),
                p.version.clone().unwrap_or_else(|| "?".to_string()),
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(c.len());
        }
    }
    let line = |cells: [&str; 6]| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            l.push_str(&format!("{c:<w$}  ", w = widths[i]));
        }
        l.trim_end().to_string() + "\n"
    };
    let mut out = line(headers);
    for row in &rows {
        out.push_str(&line([
            &row[0], &row[1], &row[2], &row[3], &row[4], &row[5],
        ]));
    }
    out.push_str(&format!("\n{}\n", r.summary));
    out
}

/// The pods `unseal` works on, in order: initialised pods first (the one that holds the
/// cluster, as after `init`, then the raft leader's peers), each group in StatefulSet order
/// (`vault-0` first), so that the leader is unsealed before the pods that join it. Pods already
/// unsealed or unreachable are left out.
pub fn unseal_order(observed: &[PodObservation]) -> Vec<String> {
    let mut sealed: Vec<(&VaultPod, bool)> = observed
        .iter()
        .filter_map(|o| match &o.seal {
            Ok(s) if s.sealed => Some((&o.pod, s.initialized)),
            _ => None,
        })
        .collect();
    sealed.sort_by_key(|(p, initialized)| (!initialized, ordinal_key(&p.name)));
    sealed.into_iter().map(|(p, _)| p.name.clone()).collect()
}

/// Whether the cluster uses recovery shares (an auto-unseal seal) rather than unseal shares.
pub fn uses_recovery_shares(spec_auto_unseal: bool, status: &SealStatus) -> bool {
    spec_auto_unseal
        || status.recovery_seal
        || (!status.seal_type.is_empty() && status.seal_type != "shamir")
}

/// Why `operator init`'s numbers cannot work (the flags' fault: a usage error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InitPlanError {
    #[error("--key-shares {shares}: must be between 1 and {}", MAX_SHARES)]
    Shares { shares: u32 },
    #[error("--key-threshold {threshold}: must be between 1 and --key-shares ({shares})")]
    Threshold { threshold: u32, shares: u32 },
    /// `what`: `key` or `recovery`.
    #[error("--key-threshold 1 with {shares} {what} shares: Vault needs a threshold of at least 2 when there is more than one share")]
    ThresholdOfOne { shares: u32, what: &'static str },
    #[error("--pgp-keys names {keys} key(s) but --key-shares is {shares}: one key per share")]
    PgpKeys { keys: usize, shares: u32 },
}

impl From<InitPlanError> for crate::error::Error {
    fn from(e: InitPlanError) -> Self {
        crate::error::Error::usage(e.to_string())
    }
}

/// Why a pod's seal status is not known (a row of `operator status`, not a failure of the run).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealUnknown {
    /// The pod is not running: its phase.
    #[error("not running ({0})")]
    NotRunning(String),
    /// Vault answered, but not 200: the status and Vault's errors.
    #[error("Vault answered {status}: {message}")]
    Refused { status: u16, message: String },
    /// The API server could not reach the pod.
    #[error("unreachable: {0}")]
    Unreachable(String),
    #[error(transparent)]
    Answer(#[from] AnswerError),
}

/// What `operator init` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitPlan {
    pub shares: u32,
    pub threshold: u32,
    /// Base64 of each share's binary PGP public key (empty: plaintext shares).
    pub pgp_keys: Vec<String>,
    pub root_token_pgp_key: Option<String>,
    /// Recovery shares (auto-unseal) instead of unseal shares.
    pub recovery: bool,
}

impl InitPlan {
    /// Checks the numbers as Vault's Shamir split will (so a refusal comes before any call).
    pub fn check(&self) -> Result<(), InitPlanError> {
        let what = if self.recovery { "recovery" } else { "key" };
        if self.shares == 0 || self.shares > MAX_SHARES {
            return Err(InitPlanError::Shares {
                shares: self.shares,
            });
        }
        if self.threshold == 0 || self.threshold > self.shares {
            return Err(InitPlanError::Threshold {
                threshold: self.threshold,
                shares: self.shares,
            });
        }
        if self.shares > 1 && self.threshold == 1 {
            return Err(InitPlanError::ThresholdOfOne {
                shares: self.shares,
                what,
            });
        }
        if !self.pgp_keys.is_empty() && self.pgp_keys.len() != self.shares as usize {
            return Err(InitPlanError::PgpKeys {
                keys: self.pgp_keys.len(),
                shares: self.shares,
            });
        }
        Ok(())
    }

    /// The body of `PUT /v1/sys/init`.
    pub fn request_body(&self) -> Value {
        let mut body = serde_json::Map::new();
        let (shares, threshold, keys) = if self.recovery {
            ("recovery_shares", "recovery_threshold", "recovery_pgp_keys")
        } else {
            ("secret_shares", "secret_threshold", "pgp_keys")
        };
        body.insert(shares.into(), self.shares.into());
        body.insert(threshold.into(), self.threshold.into());
        if !self.pgp_keys.is_empty() {
            body.insert(keys.into(), self.pgp_keys.clone().into());
        }
        if let Some(k) = &self.root_token_pgp_key {
            body.insert("root_token_pgp_key".into(), k.clone().into());
        }
        Value::Object(body)
    }
}

/// What `PUT /v1/sys/init` answered, as printed once.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct InitResult {
    /// `unseal` or `recovery`.
    pub share_kind: &'static str,
    /// Base64: the shares, or their PGP messages.
    pub shares: Vec<String>,
    pub threshold: u32,
    pub shares_encrypted: bool,
    pub root_token: String,
    pub root_token_encrypted: bool,
}

pub fn parse_init_answer(body: &[u8], plan: &InitPlan) -> Result<InitResult, AnswerError> {
    let v: Value = serde_json::from_slice(body).map_err(not_a("an init answer"))?;
    let key = if plan.recovery {
        "recovery_keys_base64"
    } else {
        "keys_base64"
    };
    let shares: Vec<String> = v[key]
        .as_array()
        .ok_or(AnswerError::InitLacks(key))?
        .iter()
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect();
    let root_token = v["root_token"]
        .as_str()
        .ok_or(AnswerError::InitLacks("root_token"))?
        .to_string();
    Ok(InitResult {
        share_kind: if plan.recovery { "recovery" } else { "unseal" },
        shares,
        threshold: plan.threshold,
        shares_encrypted: !plan.pgp_keys.is_empty(),
        root_token,
        root_token_encrypted: plan.root_token_pgp_key.is_some(),
    })
}

/// The init result as text: one line per share, then the root token.
pub fn init_text(r: &InitResult, key_names: &[String]) -> String {
    let mut out = String::new();
    let kind = if r.share_kind == "recovery" {
        "Recovery key"
    } else {
        "Unseal key"
    };
    for (i, s) in r.shares.iter().enumerate() {
        match key_names.get(i).filter(|_| r.shares_encrypted) {
            Some(name) => out.push_str(&format!(
                "{kind} {} (PGP-encrypted for {name}): {s}\n",
                i + 1
            )),
            None => out.push_str(&format!("{kind} {}: {s}\n", i + 1)),
        }
    }
    out.push_str(&format!(
        "Root token{}: {}\n",
        if r.root_token_encrypted {
            " (PGP-encrypted)"
        } else {
            ""
        },
        r.root_token
    ));
    out
}

/// Why a file is not a PGP public key Vault can encrypt to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PgpKeyError {
    #[error("not a PGP public key (export it with `gpg --export NAME > key.gpg` or `gpg --export --armor NAME > key.asc`)")]
    NotAKey,
    #[error("empty")]
    Empty,
    #[error("the armored key's data is not base64: {0}")]
    Armor(String),
}

/// A PGP public key file as Vault's API takes it: base64 of the binary key. Accepts what the
/// vault CLI accepts: an ASCII-armored key, base64 of a binary key, or a binary key.
pub fn pgp_public_key(bytes: &[u8]) -> Result<String, PgpKeyError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let text = std::str::from_utf8(bytes).ok().map(str::trim);
    let binary = match text {
        Some(t) if t.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----") => dearmor(t)?,
        Some(t) if !t.is_empty() => {
            let joined: String = t.split_whitespace().collect();
            match b64.decode(joined.as_bytes()) {
                Ok(b) => b,
                Err(_) => bytes.to_vec(),
            }
        }
        _ => bytes.to_vec(),
    };
    // A public-key packet (tag 6): old format 0x98..0x9b, new format 0xc6.
    match binary.first() {
        Some(b) if (0x98..=0x9b).contains(b) || *b == 0xc6 => Ok(b64.encode(&binary)),
        Some(_) => Err(PgpKeyError::NotAKey),
        None => Err(PgpKeyError::Empty),
    }
}

/// The binary packets of an ASCII-armored block (RFC 4880 §6.2): the base64 lines between the
/// armor headers' blank line and the checksum (`=XXXX`) or END line.
fn dearmor(text: &str) -> Result<Vec<u8>, PgpKeyError> {
    let mut lines = text.lines().map(str::trim).skip(1);
    // Armor headers (`Version: ...`, `Comment: ...`) end at the first blank line; a block
    // without headers starts its data at once.
    let mut data = String::new();
    let mut in_headers = true;
    for line in lines.by_ref() {
        if line.starts_with("-----END") {
            break;
        }
        if in_headers {
            if line.is_empty() {
                in_headers = false;
                continue;
            }
            if line.contains(": ") {
                continue;
            }
            in_headers = false;
        }
        if line.starts_with('=') {
            break;
        }
        data.push_str(line);
    }
    base64::engine::general_purpose::STANDARD
        .decode(data.as_bytes())
        .map_err(|e| PgpKeyError::Armor(e.to_string()))
}

/// `text` with every secret replaced by `[REDACTED]`: messages from Vault or the API server
/// are printed, shares and tokens never are.
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(*s, "[REDACTED]");
    }
    out
}

/// The seal link of `verify`, from the pods' service-registration labels (no request to Vault):
/// `(ok, detail)`.
pub fn seal_link(pods: &[VaultPod]) -> (bool, String) {
    if pods.is_empty() {
        return (
            false,
            "no Vault server pods found (is the HelmRelease installed?)".to_string(),
        );
    }
    let pods = in_ordinal_order(pods.to_vec());
    let sealed: Vec<&str> = pods
        .iter()
        .filter(|p| p.sealed_label != Some(false))
        .map(|p| p.name.as_str())
        .collect();
    let unsealed = pods.len() - sealed.len();
    if sealed.is_empty() {
        let leader = pods
            .iter()
            .find(|p| p.active_label == Some(true))
            .map(|p| format!(", leader {}", p.name))
            .unwrap_or_default();
        return (true, format!("{unsealed}/{} unsealed{leader}", pods.len()));
    }
    let uninitialised = pods.iter().all(|p| p.initialized_label == Some(false));
    let hint = if uninitialised {
        "not initialised: run `kubectl vault operator init`, then `operator unseal`"
    } else {
        "run `kubectl vault operator unseal`"
    };
    (
        false,
        format!(
            "{unsealed}/{} unsealed; sealed (or not reporting): {}; {hint}",
            pods.len(),
            sealed.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests;
