//! The JWT/OIDC part of `configure.sh` (`vaultConfig.admin`, `pipelines`): built from the
//! same [`JwtMethod`]s `configure` plans from. Roles and groups are written as JSON on stdin
//! (their `bound_claims` and `metadata` are maps, which `key=value` cannot carry); the OIDC
//! client secret reaches Vault on stdin, never on a command line.

use super::jwt::{JwtMethod, GROUP_OWNER_KEY};
use super::script::{script_secret, vault_arg, ScriptSecret};
use serde::Serialize;
use serde_json::json;

#[derive(Serialize)]
pub(super) struct ScriptJwt {
    mount: String,
    method_type: &'static str,
    auth_path: String,
    config_path: String,
    /// `key=value` arguments of the config write.
    config_args: Vec<String>,
    client_secret: Option<ScriptSecret>,
    roles: Vec<ScriptJson>,
    groups: Vec<ScriptGroup>,
}

/// A write of a JSON body: `vault write PATH - <<'DELIMITER'`.
#[derive(Serialize)]
pub(super) struct ScriptJson {
    path: String,
    json: String,
    delimiter: String,
}

#[derive(Serialize)]
pub(super) struct ScriptGroup {
    body: ScriptJson,
    /// `name=<alias>` and `alias_name=<alias>`.
    name_arg: String,
    alias_arg: String,
}

fn json_write(path: String, body: serde_json::Value) -> ScriptJson {
    let json = serde_json::to_string_pretty(&body).expect("a JSON value");
    ScriptJson {
        path,
        delimiter: super::script::heredoc_delimiter(&json),
        json,
    }
}

/// The script's view of the methods; each secret's check goes into `checks`.
pub(super) fn methods(jwt: &[JwtMethod], owner: &str, checks: &mut Vec<String>) -> Vec<ScriptJwt> {
    jwt.iter()
        .enumerate()
        .map(|(i, m)| {
            let c = &m.config;
            let mut config_args = Vec::new();
            let mut arg = |k: &str, v: &Option<String>| {
                if let Some(v) = v {
                    config_args.push(vault_arg(k, v));
                }
            };
            arg("oidc_discovery_url", &c.discovery_url);
            arg("jwks_url", &c.jwks_url);
            arg("bound_issuer", &c.bound_issuer);
            arg("oidc_client_id", &c.client_id);
            for k in &c.pubkeys {
                config_args.push(vault_arg("jwt_validation_pubkeys", k));
            }
            let client_secret = c.client_secret_from.as_ref().map(|source| {
                let s = script_secret(
                    source,
                    &format!("oidc_client_secret_{}", i + 1),
                    &format!("the OIDC client secret of auth method {}/ (clientSecretFrom)", m.mount),
                );
                checks.push(s.check.clone());
                s
            });
            let roles = m
                .roles
                .iter()
                .map(|r| {
                    let mut body = json!({
                        "role_type": r.role_type,
                        "bound_audiences": r.bound_audiences,
                        "user_claim": r.user_claim,
                        "bound_claims": r.bound_claims,
                        "bound_claims_type": r.bound_claims_type,
                        "token_policies": r.token_policies,
                        "token_ttl": r.token_ttl,
                    });
                    if let Some(g) = &r.groups_claim {
                        body["groups_claim"] = json!(g);
                    }
                    if r.role_type == "oidc" {
                        body["allowed_redirect_uris"] = json!(r.allowed_redirect_uris);
                    }
                    json_write(format!("auth/{}/role/{}", m.mount, r.name), body)
                })
                .collect();
            let groups = m
                .groups
                .iter()
                .map(|g| ScriptGroup {
                    body: json_write(
                        JwtMethod::group_path(g),
                        json!({"type": "external", "policies": g.policies, "metadata": {GROUP_OWNER_KEY: owner}}),
                    ),
                    name_arg: vault_arg("name", &g.alias),
                    alias_arg: vault_arg("alias_name", &g.alias),
                })
                .collect();
            ScriptJwt {
                mount: m.mount.clone(),
                method_type: m.method_type,
                auth_path: format!("sys/auth/{}", m.mount),
                config_path: format!("auth/{}/config", m.mount),
                config_args,
                client_secret,
                roles,
                groups,
            }
        })
        .collect()
}
