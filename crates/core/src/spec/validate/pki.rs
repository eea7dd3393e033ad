//! `vaultConfig.pki`: each PKI mount, its root or intermediate CA, and its roles.

use super::rules::{is_url, Checker};
use crate::duration::{Duration, Grammar};
use crate::spec::types::{IntermediateCaSpec, PkiMountSpec, VaultConfigSpec};

/// `in_cluster`: the spec names no `operator.address`, so the default CA and CRL URLs are the
/// in-cluster Vault's.
pub(super) fn check(c: &mut Checker, vc: &VaultConfigSpec, in_cluster: bool) {
    for (name, pki) in &vc.pki {
        mount(c, vc, name, pki);
        urls(c, name, pki, in_cluster);
    }
}

/// `urls.base`: a URL clients can fetch the CA and CRL from; without it, in the cluster, a
/// warning that the certificates name an address outside clients cannot reach.
fn urls(c: &mut Checker, name: &str, pki: &PkiMountSpec, in_cluster: bool) {
    let base = format!("vaultConfig.pki.{name}");
    match &pki.urls {
        Some(u) => {
            let field = format!("{base}.urls.base");
            c.not_null(&field);
            if !is_url(&u.base, &["http", "https"]) || u.base.contains(['?', '#']) {
                c.error(
                    &field,
                    format!("`{}` is not a Vault address", crate::outside::shown(&u.base)),
                    "write the address clients reach Vault at, e.g. `https://vault.example.com:8200` (the CA is then at <base>/v1/<mount>/ca)",
                );
            }
        }
        None if in_cluster => c.warn(
            &base,
            format!("the certificates of pki mount `{name}` name the in-cluster Vault address for its CA and CRL: clients outside the cluster cannot fetch them"),
            format!("set `urls: {{base: https://vault.example.com:8200}}` on {base} to the address outside clients reach Vault at (or keep it, if only the cluster uses these certificates)"),
        ),
        None => {}
    }
}

/// `vaultConfig.pki.<name>`: the mount, its lifetimes and roles, its CA.
fn mount(c: &mut Checker, vc: &VaultConfigSpec, name: &str, pki: &PkiMountSpec) {
    let base = format!("vaultConfig.pki.{name}");
    c.vault_path(&base, name, "pki mount");
    if let Some(t) = &pki.max_lease_ttl {
        c.vault_duration(&format!("{base}.maxLeaseTtl"), t);
    }
    if let Some(ca) = &pki.root_ca {
        if let Some(t) = &ca.ttl {
            c.vault_duration(&format!("{base}.rootCA.ttl"), t);
        }
    }
    for (rname, role) in &pki.roles {
        let rbase = format!("{base}.roles.{rname}");
        c.vault_name(&rbase, rname, "pki role name");
        if let Some(t) = &role.max_ttl {
            c.vault_duration(&format!("{rbase}.maxTtl"), t);
        }
        key(c, &rbase, role.key_type.as_deref(), role.key_bits);
        if role.allowed_domains.is_empty() {
            c.error(
                &format!("{rbase}.allowedDomains"),
                "allowedDomains is empty",
                "list the domains certificates may be issued for, e.g. [svc.cluster.local]",
            );
        }
    }
    if let Some(t) = &pki.auto_tidy {
        for (field, value) in [
            ("interval", &t.interval),
            ("safetyBuffer", &t.safety_buffer),
        ] {
            if let Some(v) = value {
                c.vault_duration(&format!("{base}.autoTidy.{field}"), v);
            }
        }
    }
    if let Some(int) = &pki.intermediate_ca {
        intermediate(c, vc, name, pki, int);
    }
    c.vault_mount(&base, name, "pki mount");
    if let Some(ca) = &pki.intermediate_ca {
        c.text(
            &format!("{base}.intermediateCA.commonName"),
            &ca.common_name,
            64,
            "intermediate CA commonName",
        );
        c.vault_mount(
            &format!("{base}.intermediateCA.signedBy"),
            &ca.signed_by,
            "pki mount",
        );
    }
    if let Some(ca) = &pki.root_ca {
        c.not_null(&format!("{base}.rootCA.commonName"));
        c.text(
            &format!("{base}.rootCA.commonName"),
            &ca.common_name,
            64,
            "root CA commonName",
        );
    }
    for (rname, role) in &pki.roles {
        for (i, d) in role.allowed_domains.iter().enumerate() {
            c.host_name(
                &format!("{base}.roles.{rname}.allowedDomains[{i}]"),
                d,
                false,
                "allowed domain",
            );
        }
    }
}

/// The key a role's certificates get: a type Vault knows, and a size that type has.
fn key(c: &mut Checker, rbase: &str, key_type: Option<&str>, bits: Option<u32>) {
    const TYPES: [&str; 4] = ["rsa", "ec", "ed25519", "any"];
    if let Some(t) = key_type {
        if !TYPES.contains(&t) {
            c.error(
                &format!("{rbase}.keyType"),
                format!(
                    "`{}` is not a key type Vault knows",
                    crate::outside::shown(t)
                ),
                "write rsa, ec, ed25519 or any",
            );
            return;
        }
    }
    let Some(bits) = bits else { return };
    let sizes: &[u32] = match key_type.unwrap_or("rsa") {
        "rsa" => &[2048, 3072, 4096, 8192],
        "ec" => &[224, 256, 384, 521],
        _ => &[],
    };
    if !sizes.contains(&bits) {
        let t = key_type.unwrap_or("rsa");
        c.error(
            &format!("{rbase}.keyBits"),
            format!("keyBits {bits} is not a size of an {t} key"),
            if sizes.is_empty() {
                format!("drop keyBits: an {t} key has no size to choose")
            } else {
                format!(
                    "write one of {}{}",
                    sizes
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    if key_type.is_none() {
                        " (keyType is rsa unless named)"
                    } else {
                        ""
                    }
                )
            },
        );
    }
}

/// `intermediateCA`: signed by another mount of `vaultConfig.pki` that has a `rootCA` (so
/// chains are one level deep and can have no cycle), for no longer than that root lives.
fn intermediate(
    c: &mut Checker,
    vc: &VaultConfigSpec,
    name: &str,
    pki: &PkiMountSpec,
    int: &IntermediateCaSpec,
) {
    let seconds = |d: &str| Duration::parse(d, Grammar::Vault).map(Duration::as_secs_f64);
    let base = format!("vaultConfig.pki.{name}.intermediateCA");
    if pki.root_ca.is_some() {
        c.error(
            &base,
            format!("pki mount `{name}` declares both rootCA and intermediateCA"),
            "a mount has one CA: keep rootCA (self-signed) or intermediateCA (signed by another mount's root)",
        );
        return;
    }
    c.not_null(&format!("{base}.signedBy"));
    c.not_null(&format!("{base}.commonName"));
    if let Some(t) = &int.ttl {
        c.vault_duration(&format!("{base}.ttl"), t);
    }
    let field = format!("{base}.signedBy");
    let roots: Vec<&str> = vc
        .pki
        .iter()
        .filter(|(_, p)| p.root_ca.is_some())
        .map(|(n, _)| n.as_str())
        .collect();
    let hint = if roots.is_empty() {
        "declare a root mount with `rootCA: {commonName: ...}` under vaultConfig.pki and name it here".to_string()
    } else {
        format!("name a pki mount with a rootCA: {}", roots.join(", "))
    };
    if int.signed_by == name {
        c.error(
            &field,
            format!("pki mount `{name}` cannot be signed by itself"),
            hint,
        );
        return;
    }
    let Some(root_mount) = vc.pki.get(&int.signed_by) else {
        c.error(
            &field,
            format!(
                "pki mount `{}` is not declared in vaultConfig.pki",
                int.signed_by
            ),
            hint,
        );
        return;
    };
    let Some(root_ca) = &root_mount.root_ca else {
        c.error(
            &field,
            format!(
                "pki mount `{}` has no rootCA: only a root CA signs an intermediate here",
                int.signed_by
            ),
            hint,
        );
        return;
    };
    // Vault refuses to sign past the root's own expiry or its mount's maximum lease.
    let limit = [root_ca.ttl.as_deref(), root_mount.max_lease_ttl.as_deref()]
        .into_iter()
        .flatten()
        .filter_map(|d| seconds(d).map(|s| (d, s)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    if let (Some(ttl), Some((shown, max))) = (int.ttl.as_deref().and_then(seconds), limit) {
        if ttl > max {
            c.error(
                &format!("{base}.ttl"),
                format!(
                    "the intermediate CA would outlive its root: ttl is longer than the {shown} of pki mount `{}`",
                    int.signed_by
                ),
                format!("make ttl at most {shown}, e.g. half of it"),
            );
        }
    }
}
