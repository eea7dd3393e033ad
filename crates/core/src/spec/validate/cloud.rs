//! `vaultConfig.aws`: each AWS engine's root credentials (sources, never literals), endpoints
//! and roles, and the app secrets (`aws: MOUNT/ROLE`) that name them.

use super::rules::{is_url, Checker};
use crate::duration::{Duration, Grammar};
use crate::spec::diagnostic::did_you_mean;
use crate::spec::scan::shown;
use crate::spec::types::{
    AppSpec, AwsCredentialType, AwsSpec, AzureSpec, Consumer, GcpAccountSpec, GcpSecretType,
    GcpSpec, SecretSpec, VaultConfigSpec,
};

pub(super) fn check(c: &mut Checker, vc: &VaultConfigSpec) {
    for (name, a) in &vc.aws {
        aws(c, name, a);
    }
    for (name, g) in &vc.gcp {
        gcp(c, name, g);
    }
    for (name, a) in &vc.azure {
        azure(c, name, a);
    }
}

fn gcp(c: &mut Checker, name: &str, g: &GcpSpec) {
    let base = format!("vaultConfig.gcp.{name}");
    c.vault_path(&base, name, "gcp mount");
    c.vault_mount(&base, name, "gcp mount");
    c.not_null(&format!("{base}.credentialsFrom"));
    c.value_source(
        &format!("{base}.credentialsFrom"),
        &g.credentials_from,
        "credentialsFrom",
    );
    for (field, ttl) in [("ttl", &g.ttl), ("maxTtl", &g.max_ttl)] {
        if let Some(t) = ttl {
            c.vault_duration(&format!("{base}.{field}"), t);
        }
    }
    for (kind, accounts) in [
        ("rolesets", &g.rolesets),
        ("staticAccounts", &g.static_accounts),
    ] {
        for (aname, a) in accounts {
            gcp_account(
                c,
                &format!("{base}.{kind}.{aname}"),
                aname,
                kind == "rolesets",
                a,
            );
        }
    }
}

fn gcp_account(c: &mut Checker, base: &str, name: &str, roleset: bool, a: &GcpAccountSpec) {
    c.vault_name(base, name, "gcp roleset or static account name");
    match (roleset, &a.project, &a.service_account_email) {
        (true, None, _) => c.error(
            base,
            "a roleset needs `project`: the engine makes its service account there",
            "add `project: my-project`",
        ),
        (true, _, Some(_)) => c.error(
            &format!("{base}.serviceAccountEmail"),
            "a roleset makes its own service account",
            "remove serviceAccountEmail, or declare it under staticAccounts",
        ),
        (false, _, None) => c.error(
            base,
            "a static account needs `serviceAccountEmail`",
            "name the existing service account, e.g. ci@my-project.iam.gserviceaccount.com",
        ),
        (false, Some(_), _) => c.error(
            &format!("{base}.project"),
            "`project` applies to rolesets (a static account's project is its own)",
            "remove project",
        ),
        _ => {}
    }
    if roleset && a.bindings.is_empty() {
        c.error(
            base,
            "a roleset needs bindings: the IAM roles of its service account, by resource",
            "e.g. `bindings: {\"//cloudresourcemanager.googleapis.com/projects/my-project\": [roles/viewer]}`",
        );
    }
    for (resource, roles) in &a.bindings {
        if roles.is_empty() || resource.trim().is_empty() {
            c.error(
                &format!("{base}.bindings"),
                format!("binding `{}` names no role", shown(resource)),
                "list the IAM roles, e.g. [roles/viewer]",
            );
        }
    }
    if a.secret_type == GcpSecretType::ServiceAccountKey && !a.token_scopes.is_empty() {
        c.error(
            &format!("{base}.tokenScopes"),
            "tokenScopes applies to access tokens, not service account keys",
            "remove tokenScopes, or use `secretType: access_token`",
        );
    }
}

fn azure(c: &mut Checker, name: &str, a: &AzureSpec) {
    let base = format!("vaultConfig.azure.{name}");
    c.vault_path(&base, name, "azure mount");
    c.vault_mount(&base, name, "azure mount");
    for (field, value) in [
        ("subscriptionId", &a.subscription_id),
        ("tenantId", &a.tenant_id),
        ("clientId", &a.client_id),
    ] {
        c.not_null(&format!("{base}.{field}"));
        c.text(&format!("{base}.{field}"), value, 64, field);
    }
    c.not_null(&format!("{base}.clientSecretFrom"));
    c.value_source(
        &format!("{base}.clientSecretFrom"),
        &a.client_secret_from,
        "clientSecretFrom",
    );
    for (rname, r) in &a.roles {
        let rbase = format!("{base}.roles.{rname}");
        c.vault_name(&rbase, rname, "azure role name");
        if r.azure_roles.is_empty() {
            c.error(
                &format!("{rbase}.azureRoles"),
                "azureRoles is empty: the service principal would have no role",
                "e.g. `azureRoles: [{roleName: Reader, scope: /subscriptions/<id>/resourceGroups/<group>}]`",
            );
        }
        for (i, x) in r.azure_roles.iter().enumerate() {
            if !x.scope.starts_with('/') {
                c.error(
                    &format!("{rbase}.azureRoles[{i}].scope"),
                    format!("`{}` is not an Azure scope", shown(&x.scope)),
                    "write the resource id, e.g. /subscriptions/<id>/resourceGroups/<group>",
                );
            }
        }
        for (field, ttl) in [("ttl", &r.ttl), ("maxTtl", &r.max_ttl)] {
            if let Some(t) = ttl {
                c.vault_duration(&format!("{rbase}.{field}"), t);
            }
        }
    }
}

fn aws(c: &mut Checker, name: &str, a: &AwsSpec) {
    let base = format!("vaultConfig.aws.{name}");
    c.vault_path(&base, name, "aws mount");
    c.vault_mount(&base, name, "aws mount");
    for (field, value) in [
        ("accessKeyFrom", &a.access_key_from),
        ("secretKeyFrom", &a.secret_key_from),
    ] {
        c.not_null(&format!("{base}.{field}"));
        c.value_source(&format!("{base}.{field}"), value, field);
    }
    if let Some(r) = &a.region {
        c.text(&format!("{base}.region"), r, 64, "region");
    }
    for (field, url) in [
        ("iamEndpoint", &a.iam_endpoint),
        ("stsEndpoint", &a.sts_endpoint),
    ] {
        if let Some(u) = url {
            if !is_url(u, &["https", "http"]) {
                c.error(
                    &format!("{base}.{field}"),
                    format!("`{}` is not an endpoint URL", shown(u)),
                    "write the endpoint's URL, e.g. https://iam.amazonaws.com (unset: AWS's own)",
                );
            }
        }
    }
    for (rname, r) in &a.roles {
        let rbase = format!("{base}.roles.{rname}");
        c.vault_name(&rbase, rname, "aws role name");
        c.not_null(&format!("{rbase}.credentialType"));
        let kind = r.credential_type;
        let has_policy = r.policy_document.is_some() || !r.policy_arns.is_empty();
        if let Some(doc) = &r.policy_document {
            let object = match doc {
                serde_json::Value::String(s) => serde_json::from_str::<serde_json::Value>(s)
                    .ok()
                    .is_some_and(|v| v.is_object()),
                v => v.is_object(),
            };
            if !object {
                c.error(
                    &format!("{rbase}.policyDocument"),
                    "policyDocument is not an IAM policy document (a JSON object)",
                    "write it as a map (`Version: \"2012-10-17\"`, `Statement: [...]`) or as its JSON text",
                );
            }
        }
        match kind {
            AwsCredentialType::IamUser | AwsCredentialType::FederationToken if !has_policy => {
                c.error(
                    &format!("{rbase}.credentialType"),
                    format!("a {} role needs policyDocument or policyArns", kind.as_str()),
                    "name what the credentials may do: an inline policyDocument, or managed policyArns",
                )
            }
            AwsCredentialType::AssumedRole if r.role_arns.is_empty() => c.error(
                &format!("{rbase}.roleArns"),
                "an assumed_role role needs roleArns",
                "list the ARNs of the IAM roles it may assume, e.g. arn:aws:iam::123456789012:role/deploy",
            ),
            _ => {}
        }
        if kind != AwsCredentialType::AssumedRole && !r.role_arns.is_empty() {
            c.error(
                &format!("{rbase}.roleArns"),
                format!(
                    "roleArns applies to assumed_role only, not {}",
                    kind.as_str()
                ),
                "remove roleArns, or use `credentialType: assumed_role`",
            );
        }
        for (field, ttl) in [("defaultTtl", &r.default_ttl), ("maxTtl", &r.max_ttl)] {
            let Some(t) = ttl else { continue };
            c.vault_duration(&format!("{rbase}.{field}"), t);
            if !kind.is_sts() {
                c.error(
                    &format!("{rbase}.{field}"),
                    format!("{field} applies to STS credentials (assumed_role, federation_token), not iam_user"),
                    "an IAM user's lease is the mount's: remove it (the user is deleted when its lease ends)",
                );
            }
        }
        let secs = |t: &Option<String>| {
            t.as_deref()
                .and_then(|t| Duration::parse(t, Grammar::Vault))
                .map(Duration::whole_seconds)
        };
        if let (Some(d), Some(m)) = (secs(&r.default_ttl), secs(&r.max_ttl)) {
            if d > m {
                c.error(
                    &format!("{rbase}.defaultTtl"),
                    "defaultTtl is longer than maxTtl",
                    "make defaultTtl at most maxTtl",
                );
            }
        }
        for (i, arn) in r.policy_arns.iter().chain(&r.role_arns).enumerate() {
            if !arn.starts_with("arn:") {
                let (field, j) = if i < r.policy_arns.len() {
                    ("policyArns", i)
                } else {
                    ("roleArns", i - r.policy_arns.len())
                };
                c.error(
                    &format!("{rbase}.{field}[{j}]"),
                    format!("`{}` is not an ARN", shown(arn)),
                    "write the full ARN, e.g. arn:aws:iam::aws:policy/ReadOnlyAccess",
                );
            }
        }
    }
}

/// A GCP access token has no lease (it lives an hour): VSO reads a secret without a lease
/// once and never again unless `refreshAfter` says when.
pub(super) fn unleased(
    c: &mut Checker,
    sbase: &str,
    app: &AppSpec,
    s: &SecretSpec,
    vc: Option<&VaultConfigSpec>,
) {
    let Some(g) = &s.gcp else { return };
    if app.consumer != Consumer::Operator || s.refresh_after.is_some() {
        return;
    }
    let m = vc.and_then(|vc| vc.gcp.get(&g.0.mount));
    let account = match g.0.role.strip_prefix("static-account/") {
        Some(name) => m.and_then(|m| m.static_accounts.get(name)),
        None => m.and_then(|m| m.rolesets.get(&g.0.role)),
    };
    if account.is_some_and(|a| a.secret_type == GcpSecretType::AccessToken) {
        c.warn(
            &format!("{sbase}.gcp"),
            "a GCP access token has no lease and expires after an hour: VSO reads a secret without a lease once and does not refresh it",
            "add `refreshAfter: 45m` (or use `secretType: service_account_key`, which is leased)",
        );
    }
}

/// An app secret's `gcp: MOUNT/NAME` or `azure: MOUNT/ROLE`: declared in `vaultConfig`.
fn other_secret(c: &mut Checker, base: &str, s: &SecretSpec, vc: Option<&VaultConfigSpec>) {
    let (field, mount, role, declared): (&str, &str, &str, Option<Vec<String>>) =
        match (&s.gcp, &s.azure) {
            (Some(g), _) => (
                "gcp",
                &g.0.mount,
                &g.0.role,
                vc.and_then(|vc| vc.gcp.get(&g.0.mount)).map(|m| {
                    (m.rolesets.keys().cloned())
                        .chain(
                            m.static_accounts
                                .keys()
                                .map(|k| format!("static-account/{k}")),
                        )
                        .collect()
                }),
            ),
            (_, Some(a)) => (
                "azure",
                &a.0.mount,
                &a.0.role,
                vc.and_then(|vc| vc.azure.get(&a.0.mount))
                    .map(|m| m.roles.keys().cloned().collect()),
            ),
            _ => return,
        };
    let path = format!("{base}.{field}");
    c.vault_path(&path, mount, &format!("{field} mount"));
    c.vault_path(&path, role, &format!("{field} role"));
    match declared {
        None => c.error(
            &path,
            format!("{field} mount `{mount}` is not declared in vaultConfig.{field}"),
            format!("add `{mount}:` under vaultConfig.{field}, or fix the mount name"),
        ),
        Some(names) if !names.iter().any(|n| n == role) => c.error(
            &path,
            format!("`{role}` is not declared in vaultConfig.{field}.{mount}"),
            match did_you_mean(role, names.iter().map(String::as_str)) {
                Some(best) => format!("did you mean `{mount}/{best}`?"),
                None => format!("declare it under vaultConfig.{field}.{mount}"),
            },
        ),
        _ => {}
    }
}

/// An app secret's `aws: MOUNT/ROLE`: declared in `vaultConfig.aws`.
pub(super) fn secret(c: &mut Checker, base: &str, s: &SecretSpec, vc: Option<&VaultConfigSpec>) {
    other_secret(c, base, s, vc);
    let Some(a) = &s.aws else { return };
    let a = &a.0;
    let path = format!("{base}.aws");
    c.vault_path(&path, &a.mount, "aws mount");
    c.vault_name(&path, &a.role, "aws role name");
    let declared = vc.and_then(|vc| vc.aws.get(&a.mount));
    match declared {
        None => c.error(
            &path,
            format!("aws mount `{}` is not declared in vaultConfig.aws", a.mount),
            format!(
                "add `{}:` under vaultConfig.aws with its accessKeyFrom, secretKeyFrom and roles, or fix the mount name",
                a.mount
            ),
        ),
        Some(m) if !m.roles.contains_key(&a.role) => c.error(
            &path,
            format!(
                "role `{}` is not declared in vaultConfig.aws.{}.roles",
                a.role, a.mount
            ),
            match did_you_mean(&a.role, m.roles.keys().map(String::as_str)) {
                Some(best) => format!("did you mean `{}/{best}`?", a.mount),
                None => "declare the role with its credentialType".to_string(),
            },
        ),
        _ => {}
    }
}
