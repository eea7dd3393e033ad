//! What an app secret of a cloud engine reads: the path under the mount (by the kind of
//! credentials its role hands out) and the keys of the engine's answer.

use super::apps::{CloudEngine, Source};
use crate::spec::types::{GcpSecretType, VaultConfigSpec};

/// `aws: MOUNT/ROLE`: an IAM user's keys at `creds/ROLE`; STS credentials (an assumed role, a
/// federation token) at `sts/ROLE`, with their session token.
pub(super) fn aws(mount: &str, role: &str, vc: Option<&VaultConfigSpec>) -> Source {
    let sts = vc
        .and_then(|vc| vc.aws.get(mount))
        .and_then(|m| m.roles.get(role))
        .is_some_and(|r| r.credential_type.is_sts());
    Source::Cloud {
        engine: CloudEngine::Aws,
        mount: mount.into(),
        role: role.into(),
        path: format!("{}/{role}", if sts { "sts" } else { "creds" }),
        keys: if sts {
            &["access_key", "secret_key", "security_token"]
        } else {
            &["access_key", "secret_key"]
        },
    }
}

/// `gcp: MOUNT/NAME` (a roleset) or `gcp: MOUNT/static-account/NAME`: an access token at
/// `…/NAME/token`, or a service account key at `…/NAME/key`.
pub(super) fn gcp(mount: &str, role: &str, vc: Option<&VaultConfigSpec>) -> Source {
    let m = vc.and_then(|vc| vc.gcp.get(mount));
    let (kind, account) = match role.strip_prefix("static-account/") {
        Some(name) => (
            "static-account",
            m.and_then(|m| m.static_accounts.get(name)),
        ),
        None => ("roleset", m.and_then(|m| m.rolesets.get(role))),
    };
    let name = role.strip_prefix("static-account/").unwrap_or(role);
    let key = account.is_some_and(|a| a.secret_type == GcpSecretType::ServiceAccountKey);
    Source::Cloud {
        engine: CloudEngine::Gcp,
        mount: mount.into(),
        role: role.into(),
        path: format!("{kind}/{name}/{}", if key { "key" } else { "token" }),
        keys: if key {
            &["private_key_data", "key_algorithm", "key_type"]
        } else {
            &["token", "expires_at_seconds", "token_ttl"]
        },
    }
}

/// `azure: MOUNT/ROLE`: a service principal's client id and secret at `creds/ROLE`.
pub(super) fn azure(mount: &str, role: &str) -> Source {
    Source::Cloud {
        engine: CloudEngine::Azure,
        mount: mount.into(),
        role: role.into(),
        path: format!("creds/{role}"),
        keys: &["client_id", "client_secret"],
    }
}
