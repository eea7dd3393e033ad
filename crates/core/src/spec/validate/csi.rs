//! What the CSI apps' secrets cost and what the CSI driver can deliver (see `model::csi` for
//! the upstream behaviour this rests on): a certificate needs a lifetime the tree knows (the
//! driver's poll is derived from it), and `generate` says what each certificate and each set of
//! database credentials costs per pod and day; a mirrored TLS Secret holds the chain apart
//! from the certificate, which is said too; the Vault chart's CSI agent must stay on.

use super::rules::Checker;
use crate::model::csi::{go_duration, per_day, rotation_poll, CsiRead};
use crate::spec::types::{AppSpec, Consumer, SecretSpec, Spec};

/// The fields of Vault's certificate a kubernetes.io/tls mirror is made of: `tls.crt`,
/// `tls.key`, and `ca.crt` (the chain, as far as vault-csi-provider can give it).
const TLS_MIRROR_KEYS: [&str; 3] = ["certificate", "private_key", "issuing_ca"];

/// One secret of a CSI app, where it is.
struct Read<'a> {
    base: String,
    source: &'static str,
    read: CsiRead<'a>,
}

fn read_of(s: &SecretSpec) -> Option<(&'static str, CsiRead<'_>)> {
    match (&s.kv, &s.database, &s.dynamic, &s.pki) {
        (Some(_), None, None, None) => Some(("kv", CsiRead::Kv)),
        (None, Some(db), None, None) => Some((
            "database",
            CsiRead::Database {
                mount: &db.0.mount,
                role: &db.0.role,
            },
        )),
        (None, None, Some(_), None) => Some(("dynamic", CsiRead::Dynamic)),
        (None, None, None, Some(p)) => Some((
            "pki",
            CsiRead::Pki {
                mount: &p.0.mount,
                role: &p.0.role,
                ttl: s.ttl.as_deref(),
            },
        )),
        // No source or several: an error of its own already.
        _ => None,
    }
}

fn csi_apps(spec: &Spec) -> impl Iterator<Item = (usize, &AppSpec)> {
    spec.apps
        .iter()
        .enumerate()
        .filter(|(_, a)| a.consumer == Consumer::Csi)
}

/// Every check of this file, after the lifetimes' own (the warnings keep that order).
pub(super) fn check(c: &mut Checker, spec: &Spec) {
    let vc = spec.vault_config.as_ref();
    let mut reads = vec![];
    for (ai, app) in csi_apps(spec) {
        for (si, s) in app.secrets.iter().enumerate() {
            let base = format!("apps[{ai}].secrets[{si}]");
            if let Some((source, read)) = read_of(s) {
                reads.push(Read { base, source, read });
            }
        }
        mirror(c, ai, app);
    }
    if reads.is_empty() {
        return;
    }
    agent_stays_on(c, spec);
    let poll = rotation_poll(reads.iter().filter_map(|r| r.read.lifetime(vc)));
    for r in &reads {
        let at = format!("{}.{}", r.base, r.source);
        match r.read {
            CsiRead::Pki { .. } if r.read.lifetime(vc).is_none() => c.error(
                &at,
                "a certificate read through the CSI driver needs a lifetime this spec knows: the driver issues a new one at every rotation poll, which is derived from it",
                "set `ttl` (e.g. `ttl: 72h`), or declare the role in vaultConfig.pki with `maxTtl`",
            ),
            CsiRead::Pki { .. } => c.warn(
                &at,
                format!(
                    "each pod that mounts this certificate is issued a new one at every rotation poll of the CSI driver (rotationPollInterval {}, a third of the shortest lifetime the CSI apps read): about {} per pod per day, each stored by Vault until a tidy removes it; neither vault-csi-provider nor the Vault chart's CSI agent caches a certificate (Vault's answer carries no lease)",
                    go_duration(poll),
                    per_day(poll)
                ),
                "for one certificate per Secret, renewed before it expires, use consumer `operator` (VaultPKISecret) or cert-manager (`certManager`)",
            ),
            CsiRead::Database { .. } => {
                let made = match r.read.lifetime(vc) {
                    Some(l) => format!(
                        "when their lease reaches its maxTtl ({}): about {} per pod per day",
                        go_duration(l),
                        per_day(l)
                    ),
                    None => "when their lease ends (the role's maxTtl, which this spec does not declare)".into(),
                };
                c.warn(
                    &at,
                    format!(
                        "each pod that mounts these credentials logs in and gets a database user of its own; the Vault chart's CSI agent caches and renews them, so new ones are made only {made}, and again whenever the pod or the node's CSI provider restarts"
                    ),
                    "for one set of credentials per Secret, shared by the app's pods, use consumer `operator` (VaultDynamicSecret)",
                );
            }
            CsiRead::Kv | CsiRead::Dynamic => {}
        }
    }
}

/// A mirrored certificate (`kubernetes.io/tls`): the three fields it is made of are read, no
/// `ca_chain` (a list, which the provider writes as JSON), and the chain's place is said.
fn mirror(c: &mut Checker, ai: usize, app: &AppSpec) {
    let mirrored = app.csi.as_ref().is_some_and(|o| o.secret_objects);
    for (si, s) in app.secrets.iter().enumerate() {
        if s.pki.is_none() {
            continue;
        }
        let base = format!("apps[{ai}].secrets[{si}]");
        let keys = s.keys.as_deref().unwrap_or_default();
        if let Some(ki) = keys.iter().position(|k| k == "ca_chain") {
            c.error(
                &format!("{base}.keys[{ki}]"),
                "vault-csi-provider writes `ca_chain` (a list in Vault's answer) as JSON, not as PEM",
                "read `issuing_ca`, the issuing CA as PEM",
            );
        }
        if !mirrored {
            continue;
        }
        let missing: Vec<&str> = TLS_MIRROR_KEYS
            .iter()
            .copied()
            .filter(|k| s.keys.is_some() && !keys.iter().any(|x| x == k))
            .collect();
        if !missing.is_empty() {
            c.error(
                &format!("{base}.keys"),
                format!(
                    "the mirrored kubernetes.io/tls Secret is made of certificate (tls.crt), private_key (tls.key) and issuing_ca (ca.crt): keys lacks {}",
                    missing.join(", ")
                ),
                "add them to keys, or omit keys (these three are the default)",
            );
        }
        c.warn(
            &format!("apps[{ai}].csi.secretObjects"),
            format!(
                "the mirrored Secret `{}` holds the certificate alone in tls.crt and its issuing CA in ca.crt: vault-csi-provider writes one field of Vault's answer per file and cannot join them as VSO does, so a server that sends tls.crt alone fails clients that trust only the root",
                s.name
            ),
            "have the server send tls.crt followed by ca.crt (a chain of more intermediates than one is not in the mirror), or use consumer `operator`, whose tls.crt is the certificate and its chain",
        );
    }
}

/// The CSI apps go through the Vault chart's CSI agent: `vault.values` must not turn it off.
fn agent_stays_on(c: &mut Checker, spec: &Spec) {
    let enabled = spec
        .vault
        .values
        .as_ref()
        .and_then(|v| v.get("csi"))
        .and_then(|v| v.get("agent"))
        .and_then(|v| v.get("enabled"));
    let off = enabled.is_some_and(|e| e.as_bool() == Some(false) || e.as_str() == Some("false"));
    if off {
        c.error(
            "vault.values.csi.agent.enabled",
            "the CSI apps read through the Vault chart's CSI agent, which caches their database credentials and renews their leases and tokens: without it, every rotation poll would make each pod new credentials",
            "remove csi.agent.enabled from vault.values",
        );
    }
}
