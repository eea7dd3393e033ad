//! PKI mounts: a CA only where asked and where the mount has no issuer yet, the mount's
//! URLs, and its roles (changed with `PATCH`: a role's `POST` resets every field it does not
//! carry).

use super::fields::{Field, Write};
use super::{Action, Intermediate, Planner};
use crate::vault::side::Ca;
use serde_json::{json, Value};

pub(super) fn mounts(p: &mut Planner) {
    let side = p.side;
    for pki in &side.pki {
        let exists = p.mount_exists(&pki.mount);
        let owned = p.mount_owned(&pki.mount);
        // The mount's default issuer, as the script checks it (`config/issuers`).
        let has_issuer = pki.ca.is_some()
            && exists
            && p.read
                .read(&format!("{}/config/issuers", pki.mount))
                .is_some_and(|c| c["default"].as_str().is_some_and(|d| !d.is_empty()));
        // Where clients find the CA and its CRL, named in the certificates the mount issues:
        // before the CA, so that a root's URLs are in the intermediates it signs.
        let path = format!("{}/config/urls", pki.mount);
        let named: Vec<Field> = (pki.urls.settings().iter())
            .map(|(name, s)| Field::setting(name, s))
            .collect();
        p.mount_setting(
            &pki.mount,
            exists,
            format!("CA URLs of {}/", pki.mount),
            path.clone(),
            &named,
            |r| r.read(&path),
        );
        match &pki.ca {
            None => {}
            Some(_) if has_issuer => {
                let (path, which) = match &pki.ca {
                    Some(Ca::Intermediate(_)) => ("intermediate/generate/internal", "intermediate"),
                    _ => ("root/generate/internal", "root"),
                };
                p.step(
                    Action::Unchanged,
                    format!("issuer in {}/ (exists; no new {which} CA)", pki.mount),
                    format!("{}/{path}", pki.mount),
                    Value::Null,
                );
            }
            Some(Ca::Root(ca)) => {
                let mut body = json!({"common_name": ca.common_name});
                if let Some(t) = &ca.ttl {
                    body["ttl"] = json!(t);
                }
                p.step(
                    Action::Create,
                    format!("root CA \"{}\" in {}/", ca.common_name, pki.mount),
                    format!("{}/root/generate/internal", pki.mount),
                    body,
                );
            }
            Some(Ca::Intermediate(ca)) => {
                let mut sign_body = json!({
                    "common_name": ca.common_name,
                    "format": "pem_bundle",
                    "max_path_length": ca.max_path_length,
                });
                if let Some(t) = &ca.ttl {
                    sign_body["ttl"] = json!(t);
                }
                let step = p.step(
                    Action::Create,
                    format!(
                        "intermediate CA \"{}\" in {}/, signed by the root CA of {}/",
                        ca.common_name, pki.mount, ca.signed_by
                    ),
                    format!("{}/intermediate/generate/internal", pki.mount),
                    json!({"common_name": ca.common_name}),
                );
                step.intermediate = Some(Intermediate {
                    sign_path: format!("{}/root/sign-intermediate", ca.signed_by),
                    sign_body,
                    set_signed_path: format!("{}/intermediate/set-signed", pki.mount),
                });
            }
        }
        // Auto-tidy: expired and revoked certificates leave storage on a schedule.
        let path = format!("{}/config/auto-tidy", pki.mount);
        let named: Vec<Field> = (pki.auto_tidy.settings().iter())
            .map(|(name, s)| Field::setting(name, s))
            .collect();
        p.mount_setting(
            &pki.mount,
            exists,
            format!("auto-tidy of {}/", pki.mount),
            path.clone(),
            &named,
            |r| r.read(&path),
        );
        for r in &pki.roles {
            let path = format!("{}/roles/{}", pki.mount, r.name);
            let current = if exists { p.read.read(&path) } else { None };
            let named: Vec<Field> = r
                .settings()
                .iter()
                .map(|(name, s)| Field::setting(name, s))
                .collect();
            p.converge(
                format!("pki role {path}"),
                path,
                &named,
                current,
                owned,
                Write::Patch,
            );
        }
    }
}
