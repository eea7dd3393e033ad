//! What each consumer can read and which options apply to it (the Vault side is the same
//! for every consumer, so only the Kubernetes side is checked here).

use super::rules::{is_dns_subdomain, is_secret_key, Checker, INJECTOR_WORKLOAD_KINDS};
use crate::spec::scan::shown;
use crate::spec::types::{AppSpec, Consumer, SecretSpec, Spec, TokenReviewerMode};
use std::collections::{BTreeMap, BTreeSet};

/// The agent's annotation keys are `vault.hashicorp.com/agent-inject-template-<secret>`: the
/// name part of a key is at most 63 characters.
const INJECTOR_ANNOTATION_NAME: &str = "agent-inject-template-";

/// The fields of Vault's answer to a certificate request that the agent writes as PEM.
const PKI_FIELDS: [&str; 4] = ["certificate", "private_key", "issuing_ca", "ca_chain"];

/// The injector's agents (`tls-secret`) and ESO's stores (`caProvider`) read Vault's CA from a
/// Secret in the app's own namespace. With `vault.tlsIssuer` the tree makes it; otherwise
/// nothing does, and every such namespace is named (not only the operator's).
fn ca_in_the_apps_namespace(c: &mut Checker, spec: &Spec, base: &str, app: &AppSpec) {
    use crate::model::defaults::{DEFAULT_OPERATOR_NAMESPACE, DEFAULT_VAULT_NAMESPACE};
    use crate::spec::types::TlsSpec;
    let TlsSpec::Secret(tls) = &spec.vault.tls else {
        return;
    };
    let operator = &spec.operator;
    if spec.vault.tls_issuer.is_some() || operator.skip_tls_verify {
        return;
    }
    if !matches!(app.consumer, Consumer::Injector | Consumer::Eso) {
        return;
    }
    let vault_ns = spec
        .vault
        .namespace
        .as_deref()
        .unwrap_or(DEFAULT_VAULT_NAMESPACE);
    let operator_ns = operator
        .namespace
        .as_deref()
        .unwrap_or(DEFAULT_OPERATOR_NAMESPACE);
    let ca = operator.ca_cert_secret.as_deref();
    if app.namespace == vault_ns || (app.namespace == operator_ns && ca.is_some()) {
        return;
    }
    let name = ca.unwrap_or(tls);
    let reader = if app.consumer == Consumer::Injector {
        "the injected agents read"
    } else {
        "its ESO store reads"
    };
    c.warn(
        &format!("{base}.namespace"),
        format!(
            "{reader} Vault's CA from Secret `{}` (key ca.crt) in namespace `{}`, which this tree does not create",
            shown(name),
            shown(&app.namespace)
        ),
        format!(
            "create it there before the app syncs (e.g. `kubectl -n {} create secret generic {} --from-file=ca.crt=vault-ca.pem`, or with trust-manager), or set vault.tlsIssuer and the tree makes it",
            shown(&app.namespace),
            shown(name)
        ),
    );
}

/// A POSIX shell variable name (`^[A-Za-z_][A-Za-z0-9_]*$`): what the agent's env file may
/// `export` (the same rule is in its template, for the keys of a whole response).
fn is_shell_name(k: &str) -> bool {
    let mut chars = k.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The app's consumer and its options (`injector`, `csi`, `eso`).
pub(super) fn app(c: &mut Checker, spec: &Spec, base: &str, app: &AppSpec) {
    let consumer = app.consumer;
    ca_in_the_apps_namespace(c, spec, base, app);
    if consumer == Consumer::Injector && !spec.vault.injector.unwrap_or(false) {
        c.error(
            &format!("{base}.consumer"),
            "consumer `injector` needs the Vault Agent injector, but vault.injector is off",
            "set `vault.injector: true` (the Vault chart then runs the injector), or choose another consumer",
        );
    }
    if consumer == Consumer::Eso && spec.operator.skip_tls_verify {
        // ESO's Vault provider has no option to skip certificate verification (its
        // SecretStore takes `caBundle` or `caProvider` only), so a store for an https Vault
        // must trust a CA.
        c.error(
            &format!("{base}.consumer"),
            "consumer `eso` cannot skip verifying Vault's certificate (ESO's Vault provider has no such option), but operator.skipTLSVerify is set",
            "trust Vault's CA instead (operator.caCertSecret or vault.tlsIssuer) and remove operator.skipTLSVerify, or choose another consumer for this app",
        );
    }
    if consumer == Consumer::Eso
        && spec.vault.deploys()
        && matches!(spec.vault.tls, crate::spec::types::TlsSpec::Disabled)
        && (spec.operator.address.as_deref()).is_some_and(|a| a.starts_with("https://"))
        && spec.operator.ca_cert_secret.is_none()
        && !spec.operator.skip_tls_verify
    {
        // This cluster's Vault serves plain HTTP, so the https address is another server
        // (a TLS proxy, a Vault elsewhere): only operator.caCertSecret can name its CA.
        c.error(
            &format!("{base}.consumer"),
            "consumer `eso` trusts Vault's certificate through a CA Secret: operator.address is https but this cluster's Vault has `tls: false` and operator.caCertSecret names no CA",
            "name the Secret (key ca.crt) holding the CA of the certificate served at operator.address with operator.caCertSecret (a copy is expected in the app's namespace), or use the in-cluster http address",
        );
    }
    let client_review = spec
        .vault_config
        .as_ref()
        .and_then(|vc| vc.kubernetes_auth.as_ref())
        .and_then(|k| k.token_reviewer.as_ref())
        .is_some_and(|r| r.mode == TokenReviewerMode::Client);
    if client_review && matches!(consumer, Consumer::Injector | Consumer::Csi) {
        c.error(
            &format!("{base}.consumer"),
            format!("consumer `{}` logs in with a token of one audience, but vaultConfig.kubernetesAuth.tokenReviewer mode `client` needs the API server's audience in it too", consumer.as_str()),
            "use tokenReviewer mode `serviceAccount`, or consumer `operator` or `eso` for this app",
        );
    }
    for (field, owner, present) in [
        ("injector", Consumer::Injector, app.injector.is_some()),
        ("csi", Consumer::Csi, app.csi.is_some()),
        ("eso", Consumer::Eso, app.eso.is_some()),
    ] {
        if present && consumer != owner {
            c.error(
                &format!("{base}.{field}"),
                format!(
                    "`{field}` options apply to consumer `{}`, but this app's consumer is `{}`",
                    owner.as_str(),
                    consumer.as_str()
                ),
                format!("write `consumer: {}`, or remove `{field}`", owner.as_str()),
            );
        }
    }
    if let Some(w) = app.injector.as_ref().and_then(|i| i.workload.as_deref()) {
        match w.split_once('/') {
            Some((kind, name))
                if INJECTOR_WORKLOAD_KINDS.contains(&kind) && is_dns_subdomain(name) => {}
            _ => c.error(
                &format!("{base}.injector.workload"),
                format!(
                    "`{}` is not a workload the injector patch can annotate",
                    shown(w)
                ),
                format!(
                    "write `Kind/name` with Kind one of {}, e.g. `Deployment/webapp`",
                    INJECTOR_WORKLOAD_KINDS.join(", ")
                ),
            ),
        }
    }
}

/// What the app's consumer can do with one of its secrets (at `sbase`).
pub(super) fn secret(c: &mut Checker, sbase: &str, app: &AppSpec, s: &SecretSpec) {
    let consumer = app.consumer;
    let source = s.sources_written().first().copied().unwrap_or("kv");
    if consumer == Consumer::Eso && source != "kv" {
        c.error(
            &format!("{sbase}.{source}"),
            format!("consumer `eso` cannot read {} {source} secret: ESO's Vault provider reads kv only, and its VaultDynamicSecret generator is not something kubectl-vault generates or checks", if source.starts_with('a') { "an" } else { "a" }),
            "use consumer `operator`, `csi` or `injector` for this app, or move the secret to an app that does",
        );
    }
    if consumer == Consumer::Eso {
        if let Some(kv) = &s.kv {
            if kv.0.path.starts_with(&format!("{}/", kv.0.mount)) {
                c.error(
                    &format!("{sbase}.kv"),
                    format!("ESO strips a leading `{}/` from a key in a store of mount `{}`: it would read `{}` instead", kv.0.mount, kv.0.mount, &kv.0.path[kv.0.mount.len() + 1..]),
                    "rename the path in Vault, or use consumer `operator`",
                );
            }
        }
    }
    if consumer == Consumer::Csi && s.keys.is_none() && (s.kv.is_some() || s.dynamic.is_some()) {
        c.error(
            &format!("{sbase}.name"),
            "the CSI driver mounts one file per key, and this secret's keys are not known",
            "list them, e.g. `keys: [username, password]`",
        );
    }
    if let Some(keys) = &s.keys {
        if consumer == Consumer::Operator {
            c.error(
                &format!("{sbase}.keys"),
                "`keys` applies to consumers csi, eso and injector: VSO copies every key",
                "remove `keys`",
            );
        }
        if keys.is_empty() {
            c.error(
                &format!("{sbase}.keys"),
                "keys is empty",
                "omit it, or list at least one key",
            );
        }
        // The injector's default template: an env file of the keys (a variable each), or
        // the PEM blocks of a certificate (a field of Vault's answer each).
        let agent_default = consumer == Consumer::Injector && s.template.is_none();
        let mut seen = BTreeSet::new();
        for (ki, k) in keys.iter().enumerate() {
            if !is_secret_key(k) {
                c.error(
                    &format!("{sbase}.keys[{ki}]"),
                    format!("`{}` is not a valid key", shown(k)),
                    "a key names a file and a Secret key: letters, digits, `-`, `_` and `.`, at most 253 characters, not `.` or `..`",
                );
            } else if !seen.insert(k.as_str()) {
                c.error(
                    &format!("{sbase}.keys[{ki}]"),
                    format!("key `{k}` is listed twice"),
                    "list each key once",
                );
            } else if agent_default && source == "pki" && !PKI_FIELDS.contains(&k.as_str()) {
                c.error(
                    &format!("{sbase}.keys[{ki}]"),
                    format!("`{k}` is not a field of Vault's certificate: the agent would write nothing for it"),
                    format!("list some of {}", PKI_FIELDS.join(", ")),
                );
            } else if agent_default && source != "pki" && !is_shell_name(k) {
                c.error(
                    &format!("{sbase}.keys[{ki}]"),
                    format!("key `{k}` is not a shell variable name: the agent's env file defines one variable per key"),
                    "list keys of letters, digits and `_`, not starting with a digit (rename the key in Vault), or write your own `template` for this secret",
                );
            }
        }
    }
    if s.template.is_some() && consumer != Consumer::Injector {
        c.error(
            &format!("{sbase}.template"),
            "`template` applies to consumer `injector` only",
            "remove `template`",
        );
    }
    if let Some(t) = &s.template {
        if t.trim().is_empty() || t.len() > 16 * 1024 {
            c.error(
                &format!("{sbase}.template"),
                "template must be a non-empty agent template of at most 16 KiB",
                "omit it for the default env-file template",
            );
        }
    }
    if consumer != Consumer::Operator {
        let word = consumer.as_str();
        if !s.rollout.is_empty() {
            c.error(
                &format!("{sbase}.rollout[0]"),
                format!("rollout restarts are done by VSO; consumer `{word}` has none"),
                "remove `rollout`, or use consumer `operator`",
            );
        }
        if s.refresh_after.is_some() && consumer != Consumer::Eso {
            c.error(
                &format!("{sbase}.refreshAfter"),
                format!(
                    "refreshAfter does not apply to consumer `{word}`: it renews leases itself"
                ),
                "remove `refreshAfter`",
            );
        }
        if s.expiry_offset.is_some() {
            c.error(
                &format!("{sbase}.expiryOffset"),
                format!("expiryOffset is VSO's; consumer `{word}` has none"),
                "remove `expiryOffset`",
            );
        }
    }
    // Where no Kubernetes Secret is written, its type, labels and annotations have
    // nothing to land on.
    let writes_secret = match consumer {
        Consumer::Operator | Consumer::Eso => true,
        Consumer::Csi => app.csi.as_ref().is_some_and(|o| o.secret_objects),
        Consumer::Injector => false,
    };
    if !writes_secret {
        for (field, present) in [
            ("type", s.secret_type.is_some()),
            ("labels", !s.labels.is_empty()),
            ("annotations", !s.annotations.is_empty()),
        ] {
            if present {
                c.error(
                    &format!("{sbase}.{field}"),
                    format!("consumer `{}` writes no Kubernetes Secret here: `{field}` has nothing to apply to", consumer.as_str()),
                    if consumer == Consumer::Csi {
                        "set `csi: {secretObjects: true}` to mirror the files into a Secret, or remove it"
                    } else {
                        "remove it"
                    },
                );
            }
        }
    }
    if consumer == Consumer::Injector && s.name.len() + INJECTOR_ANNOTATION_NAME.len() > 63 {
        c.error(
            &format!("{sbase}.name"),
            format!("the agent's annotation `vault.hashicorp.com/{INJECTOR_ANNOTATION_NAME}{}` would be longer than 63 characters", s.name),
            format!("use a secret name of at most {} characters", 63 - INJECTOR_ANNOTATION_NAME.len()),
        );
    }
}

/// ESO reads each kv mount through a store named after the app: those names must be
/// object names, and distinct.
pub(super) fn eso_stores(c: &mut Checker, base: &str, app: &AppSpec) {
    if app.consumer != Consumer::Eso {
        return;
    }
    let mounts: Vec<&str> = app
        .secrets
        .iter()
        .filter_map(|s| s.kv.as_ref().map(|kv| kv.0.mount.as_str()))
        .collect();
    let names = crate::model::eso_store_names(&app.name, &mounts);
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (mount, name) in &names {
        if !is_dns_subdomain(name) || name.len() + app.namespace.len() + 1 > 253 {
            c.error(
                &format!("{base}.name"),
                format!("the SecretStore name `{name}` for kv mount `{mount}` is not a valid object name"),
                "ESO needs one store per kv mount, named `<app>.<mount>`: use mounts of lower-case letters, digits, `-`, `_` and `/`",
            );
        } else if let Some(other) = seen.insert(name, mount) {
            c.error(
                &format!("{base}.name"),
                format!(
                    "kv mounts `{other}` and `{mount}` would both get the SecretStore `{name}`"
                ),
                "read these mounts from two apps",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_shell_name;

    #[test]
    fn shell_names() {
        for (k, ok) in [
            ("api_key", true),
            ("_x", true),
            ("A1", true),
            ("a", true),
            ("", false),
            ("1a", false),
            ("api-key", false),
            ("tls.crt", false),
            ("x;touch PWNED;y", false),
            ("é", false),
            ("a b", false),
        ] {
            assert_eq!(is_shell_name(k), ok, "{k:?}");
        }
    }
}
