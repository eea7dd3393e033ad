//! `vaultConfig.admin` and `pipelines`: the JWT/OIDC auth methods `configure` writes. Each
//! method takes its keys from one place, each role is bound (an audience; a pipeline also by
//! claims, exactly unless `boundClaimsType: glob`), and pipelines sharing a mount (or sharing
//! it with the admin method) agree on its settings.

use super::rules::{is_url, Checker};
use super::*;
use crate::model::defaults::default_auth_mount;
use crate::vault::side::connection_name;
use crate::vault::side::jwt::{admin_mount, pipeline_mount};
use std::collections::BTreeMap;

/// A method's key settings, to compare the sections that share a mount.
type Keys<'a> = (
    Option<&'a str>,
    Option<&'a str>,
    Vec<&'a str>,
    Option<&'a str>,
);

pub(super) fn check(c: &mut Checker, spec: &Spec) {
    let k8s_mount = (spec.vault_config.as_ref())
        .and_then(|vc| vc.kubernetes_auth.as_ref())
        .and_then(|k| k.mount.clone())
        .unwrap_or_else(|| default_auth_mount(&spec.cluster));
    let mut methods: BTreeMap<String, (String, Keys)> = BTreeMap::new();
    let mut admin_role: Option<(String, String)> = None;
    if let Some(a) = spec.vault_config.as_ref().and_then(|vc| vc.admin.as_ref()) {
        let base = "vaultConfig.admin";
        admin(c, base, a);
        let mount = admin_mount(a);
        mount_name(c, base, a.mount.is_some(), &mount, &k8s_mount);
        let keys = (
            a.discovery_url.as_deref(),
            a.jwks_url.as_deref(),
            a.validation_pubkeys.iter().map(|k| k.trim()).collect(),
            a.bound_issuer.as_deref(),
        );
        // A pipeline on an OIDC mount cannot log in with a job's JWT's settings: its own.
        let keys = match a.method {
            JwtMethodType::Jwt => keys,
            JwtMethodType::Oidc => (Some("(oidc)"), None, vec![], None),
        };
        methods.insert(mount.clone(), (base.to_string(), keys));
        admin_role = Some((mount, a.role.clone().unwrap_or_else(|| "admin".into())));
    }
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, p) in spec.pipelines.iter().enumerate() {
        let base = format!("pipelines[{i}]");
        c.vault_name(&format!("{base}.name"), &p.name, "pipeline name");
        if let Some(first) = names.insert(&p.name, i) {
            c.error(
                &format!("{base}.name"),
                format!(
                    "pipeline `{}` is declared twice (also pipelines[{first}])",
                    p.name
                ),
                "give each pipeline its own name: it names its Vault role and policy",
            );
        }
        pipeline(c, &base, p);
        let mount = pipeline_mount(p);
        mount_name(c, &base, p.mount.is_some(), &mount, &k8s_mount);
        if admin_role.as_ref() == Some(&(mount.clone(), p.name.clone())) {
            c.error(
                &format!("{base}.name"),
                format!("`{}` is the admins' role on {mount}/", p.name),
                "give the pipeline another name, or vaultConfig.admin another `role`",
            );
        }
        let keys: Keys = (
            p.discovery_url.as_deref(),
            p.jwks_url.as_deref(),
            p.validation_pubkeys.iter().map(|k| k.trim()).collect(),
            p.bound_issuer.as_deref(),
        );
        match methods.get(&mount) {
            Some((other, theirs)) if *theirs != keys => c.error(
                &format!("{base}.mount"),
                format!("auth mount {mount}/ is also {other}'s, with other settings (keys, issuer or type)"),
                "pipelines of one issuer share a mount with the same discoveryUrl, jwksUrl, validationPubkeys and boundIssuer; give this one its own `mount`",
            ),
            Some(_) => {}
            None => {
                methods.insert(mount, (base.clone(), keys));
            }
        }
    }
}

fn mount_name(c: &mut Checker, base: &str, written: bool, mount: &str, k8s: &str) {
    let path = format!("{base}.mount");
    if written {
        c.vault_path(&path, mount, "auth mount");
    }
    if mount == k8s {
        c.error(
            &path,
            format!("auth mount {mount}/ is the kubernetes auth method's"),
            "choose another mount for the JWT/OIDC method, e.g. `jwt` or `oidc`",
        );
    }
}

/// Exactly one source of signing keys, each URL and key well formed.
fn keys(c: &mut Checker, base: &str, discovery: Option<&str>, jwks: Option<&str>, pems: &[String]) {
    let count = [discovery.is_some(), jwks.is_some(), !pems.is_empty()]
        .iter()
        .filter(|b| **b)
        .count();
    if count != 1 {
        c.error(
            base,
            "needs exactly one of discoveryUrl, jwksUrl and validationPubkeys",
            "name where the issuer's signing keys are: its OIDC discovery URL, its JWKS URL, or its PEM public keys",
        );
    }
    for (field, url) in [("discoveryUrl", discovery), ("jwksUrl", jwks)] {
        if let Some(u) = url {
            if !is_url(u, &["https", "http"]) {
                c.error(
                    &format!("{base}.{field}"),
                    format!("`{u}` is not an http(s) URL"),
                    "write the URL, e.g. `https://token.actions.githubusercontent.com`",
                );
            }
        }
    }
    for (i, pem) in pems.iter().enumerate() {
        let path = format!("{base}.validationPubkeys[{i}]");
        let first = pem.trim().lines().next().unwrap_or_default();
        if first.contains("PRIVATE KEY") {
            c.error(
                &path,
                "this is a private key",
                "write the issuer's PUBLIC key (`openssl pkey -pubout`); a private key must never be in the spec",
            );
        } else if !matches!(
            first,
            "-----BEGIN PUBLIC KEY-----"
                | "-----BEGIN RSA PUBLIC KEY-----"
                | "-----BEGIN CERTIFICATE-----"
        ) {
            c.error(
                &path,
                "not a PEM public key",
                "write a PEM block starting with `-----BEGIN PUBLIC KEY-----` (as a `|` block)",
            );
        }
    }
}

fn admin(c: &mut Checker, base: &str, a: &AdminSpec) {
    keys(
        c,
        base,
        a.discovery_url.as_deref(),
        a.jwks_url.as_deref(),
        &a.validation_pubkeys,
    );
    if let Some(r) = &a.role {
        c.vault_name(&format!("{base}.role"), r, "role name");
    }
    if let Some(t) = &a.token_ttl {
        c.vault_duration(&format!("{base}.tokenTtl"), t);
    }
    match a.method {
        JwtMethodType::Oidc => {
            if a.discovery_url.is_none() {
                c.error(
                    &format!("{base}.discoveryUrl"),
                    "type oidc needs discoveryUrl",
                    "an OIDC login finds the provider's endpoints by discovery: write its issuer URL",
                );
            }
            for (field, missing) in [
                ("clientId", a.client_id.is_none()),
                ("clientSecretFrom", a.client_secret_from.is_none()),
                ("allowedRedirectUris", a.allowed_redirect_uris.is_empty()),
            ] {
                if missing {
                    c.error(
                        &format!("{base}.{field}"),
                        format!("type oidc needs {field}"),
                        "register Vault as a client of the provider: its client id, the secret (`env:NAME` or `file:PATH`), and the redirect URIs (`https://VAULT/ui/vault/auth/oidc/oidc/callback`, `http://localhost:8250/oidc/callback` for the CLI)",
                    );
                }
            }
            if let Some(s) = &a.client_secret_from {
                c.value_source(&format!("{base}.clientSecretFrom"), s, "clientSecretFrom");
            }
            for (i, u) in a.allowed_redirect_uris.iter().enumerate() {
                if !is_url(u, &["https", "http"]) {
                    c.error(
                        &format!("{base}.allowedRedirectUris[{i}]"),
                        format!("`{u}` is not an http(s) URL"),
                        "write the callback URL, e.g. `http://localhost:8250/oidc/callback`",
                    );
                }
            }
        }
        JwtMethodType::Jwt => {
            for (field, set) in [
                ("clientId", a.client_id.is_some()),
                ("clientSecretFrom", a.client_secret_from.is_some()),
                ("allowedRedirectUris", !a.allowed_redirect_uris.is_empty()),
            ] {
                if set {
                    c.error(
                        &format!("{base}.{field}"),
                        format!("{field} is for type oidc"),
                        "remove it, or write `type: oidc`",
                    );
                }
            }
            if a.bound_audiences.is_empty() {
                c.error(
                    &format!("{base}.boundAudiences"),
                    "type jwt needs boundAudiences",
                    "name the `aud` the issuer puts in tokens meant for Vault: without it any token of the issuer would do",
                );
            }
        }
    }
    let mount = admin_mount(a);
    let mut groups: BTreeMap<String, &str> = BTreeMap::new();
    let all = (a.admin_groups.iter().map(|g| ("adminGroups", g)))
        .chain(a.operator_groups.iter().map(|g| ("operatorGroups", g)));
    for (i, (field, g)) in all.enumerate() {
        let at = match field {
            "adminGroups" => i,
            _ => i - a.admin_groups.len(),
        };
        let path = format!("{base}.{field}[{at}]");
        c.text(&path, g, 256, "group name");
        let name = connection_name(&format!("{mount}-{g}"));
        match groups.get(&name) {
            Some(other) if *other != g.as_str() => c.error(
                &path,
                format!("groups `{other}` and `{g}` would both be identity group {name}"),
                "Vault names the identity group after the claim value with `/` and other characters made `-`: these two cannot both be mapped",
            ),
            _ => {
                groups.insert(name, g);
            }
        }
    }
    if a.admin_groups.is_empty() && a.operator_groups.is_empty() {
        c.error(
            &format!("{base}.adminGroups"),
            "no group maps to a policy",
            "list the values of the groups claim whose members administer Vault (adminGroups) or watch it (operatorGroups)",
        );
    }
    for (i, d) in a.extra_denies.iter().enumerate() {
        let bare = d.trim_end_matches('*').trim_end_matches('/');
        c.vault_path(&format!("{base}.extraDenies[{i}]"), bare, "policy path");
    }
}

fn pipeline(c: &mut Checker, base: &str, p: &PipelineSpec) {
    keys(
        c,
        base,
        p.discovery_url.as_deref(),
        p.jwks_url.as_deref(),
        &p.validation_pubkeys,
    );
    if p.bound_audiences.is_empty() {
        c.error(
            &format!("{base}.boundAudiences"),
            "a pipeline needs boundAudiences",
            "name the `aud` the CI provider puts in the job's token for Vault (GitHub Actions: the `jwtGithubAudience` of vault-action; GitLab: the `aud` of `id_tokens`)",
        );
    }
    if p.bound_claims.is_empty() {
        c.error(
            &format!("{base}.boundClaims"),
            "a pipeline needs boundClaims: without them any job of the issuer could use its role",
            "bind the role to the job's identity, e.g. `{repository: octo-org/app, ref: refs/heads/main}` (GitHub) or `{project_path: group/app, ref_protected: \"true\"}` (GitLab)",
        );
    }
    let glob = match p.bound_claims_type.as_deref() {
        None | Some("string") => false,
        Some("glob") => true,
        Some(other) => {
            c.error(
                &format!("{base}.boundClaimsType"),
                format!("`{other}` is not a bound claims type"),
                "write `string` (exact match, the default) or `glob`",
            );
            true
        }
    };
    for (k, v) in &p.bound_claims {
        if v.trim().is_empty() {
            c.error(
                &format!("{base}.boundClaims.{k}"),
                "an empty claim value",
                "write the value the claim must have",
            );
        }
        if !glob && v.contains('*') {
            c.error(
                &format!("{base}.boundClaims.{k}"),
                format!("`{v}` has a wildcard, but claims are matched exactly"),
                "write the exact value; only with `boundClaimsType: glob` does `*` match anything (and then it matches any repository or branch it can)",
            );
        }
    }
    if let Some(t) = &p.token_ttl {
        c.vault_duration(&format!("{base}.tokenTtl"), t);
    }
    if p.read.is_empty() && p.aws.is_empty() {
        c.error(
            &format!("{base}.read"),
            "the pipeline reads nothing",
            "list the kv paths it reads (`kv/data/app/config` or `kv/app/config`) or the aws roles it uses (`aws/deploy`)",
        );
    }
    for (i, r) in p.read.iter().enumerate() {
        c.vault_path(&format!("{base}.read[{i}]"), r, "kv path");
        if !r.contains('/') {
            c.error(
                &format!("{base}.read[{i}]"),
                format!("`{r}` names a mount only"),
                "write a secret's path: `MOUNT/PATH` (a kv v2 mount) or `MOUNT/data/PATH`",
            );
        }
    }
    for (i, a) in p.aws.iter().enumerate() {
        c.vault_path(&format!("{base}.aws[{i}]"), a, "aws role");
        if !a.contains('/') {
            c.error(
                &format!("{base}.aws[{i}]"),
                format!("`{a}` is not `mount/role`"),
                "write the aws engine's mount and role, e.g. `aws/terraform-deploy`",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::spec::{self, validate};

    const BASE: &str = "apiVersion: kubectl-vault/v1alpha1\nkind: VaultStack\ncluster: lab\nvault:\n  chart: {version: 0.30.0}\n  tls: vault-tls\noperator:\n  chart: {version: 0.10.0}\n";

    /// The errors of BASE + `tail`, as `path: message`.
    fn errors(tail: &str) -> Vec<String> {
        let sourced = spec::parse("vault.yaml", format!("{BASE}{tail}")).unwrap();
        validate::check(&sourced.spec, &sourced.index)
            .errors
            .iter()
            .map(|d| format!("{}: {}", d.path, d.message))
            .collect()
    }

    const PIPELINE: &str = "  - name: deploy\n    discoveryUrl: https://token.actions.githubusercontent.com\n    boundAudiences: [https://github.com/octo-org]\n    read: [kv/app/config]\n";

    #[test]
    fn a_pipeline_bound_by_claims_passes() {
        let ok = format!("pipelines:\n{PIPELINE}    boundClaims: {{repository: octo-org/app}}\n");
        assert_eq!(errors(&ok), Vec::<String>::new());
        let glob = format!("pipelines:\n{PIPELINE}    boundClaims: {{ref: refs/heads/*}}\n    boundClaimsType: glob\n");
        assert_eq!(errors(&glob), Vec::<String>::new());
    }

    #[test]
    fn a_pipeline_any_job_could_use_is_refused() {
        let e = errors(&format!("pipelines:\n{PIPELINE}"));
        assert_eq!(
            e,
            ["pipelines[0].boundClaims: a pipeline needs boundClaims: without them any job of the issuer could use its role"]
        );
        let e = errors(&format!(
            "pipelines:\n{PIPELINE}    boundClaims: {{ref: refs/heads/*}}\n"
        ));
        assert_eq!(
            e,
            ["pipelines[0].boundClaims.ref: `refs/heads/*` has a wildcard, but claims are matched exactly"]
        );
    }

    #[test]
    fn two_pipelines_with_one_name_or_one_mount_with_two_issuers_are_refused() {
        let bound = "    boundClaims: {repository: octo-org/app}\n";
        let twice = format!("pipelines:\n{PIPELINE}{bound}{PIPELINE}{bound}");
        assert_eq!(
            errors(&twice),
            ["pipelines[1].name: pipeline `deploy` is declared twice (also pipelines[0])"]
        );
        let other = PIPELINE.replace("deploy", "other").replace(
            "https://token.actions.githubusercontent.com",
            "https://gitlab.example.com",
        );
        let e = errors(&format!("pipelines:\n{PIPELINE}{bound}{other}{bound}"));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("pipelines[1].mount: auth mount jwt/ is also pipelines[0]'s"),
            "{e:?}"
        );
    }

    #[test]
    fn a_pipeline_on_the_admin_oidc_mount_is_refused() {
        let admin = "vaultConfig:\n  admin:\n    type: oidc\n    mount: sso\n    discoveryUrl: https://idp.example.com\n    clientId: vault\n    clientSecretFrom: env:OIDC_SECRET\n    allowedRedirectUris: [http://localhost:8250/oidc/callback]\n    adminGroups: [vault-admins]\n";
        assert_eq!(errors(admin), Vec::<String>::new());
        let e = errors(&format!(
            "{admin}pipelines:\n{PIPELINE}    mount: sso\n    boundClaims: {{repository: octo-org/app}}\n"
        ));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("is also vaultConfig.admin's"), "{e:?}");
    }

    #[test]
    fn a_pipeline_named_as_the_admin_role_on_its_mount_and_clashing_groups_are_refused() {
        let admin = "vaultConfig:\n  admin:\n    type: jwt\n    jwksUrl: https://idp.example.com/keys\n    boundAudiences: [vault]\n    adminGroups: [team/a, team-a]\n";
        let pipeline = PIPELINE
            .replace("name: deploy", "name: admin")
            .replace(
                "discoveryUrl: https://token.actions.githubusercontent.com",
                "jwksUrl: https://idp.example.com/keys",
            )
            .replace("[https://github.com/octo-org]", "[vault]");
        let e = errors(&format!(
            "{admin}pipelines:\n{pipeline}    boundClaims: {{repository: octo-org/app}}\n"
        ));
        assert_eq!(
            e,
            [
                "vaultConfig.admin.adminGroups[1]: groups `team/a` and `team-a` would both be identity group jwt-team-a",
                "pipelines[0].name: `admin` is the admins' role on jwt/",
            ],
            "{e:?}"
        );
    }

    #[test]
    fn an_admin_method_needs_its_keys_audience_groups_and_no_literal_secret() {
        let e = errors("vaultConfig:\n  admin:\n    type: jwt\n    jwksUrl: https://idp.example.com/keys\n    discoveryUrl: https://idp.example.com\n    clientSecretFrom: hunter2\n");
        assert_eq!(
            e,
            [
                "vaultConfig.admin: needs exactly one of discoveryUrl, jwksUrl and validationPubkeys",
                "vaultConfig.admin.clientSecretFrom: clientSecretFrom is for type oidc",
                "vaultConfig.admin.boundAudiences: type jwt needs boundAudiences",
                "vaultConfig.admin.adminGroups: no group maps to a policy",
            ]
        );
        let e = errors("vaultConfig:\n  admin:\n    type: oidc\n    discoveryUrl: https://idp.example.com\n    clientId: vault\n    clientSecretFrom: hunter2\n    allowedRedirectUris: [http://localhost:8250/oidc/callback]\n    adminGroups: [a]\n");
        assert_eq!(
            e,
            ["vaultConfig.admin.clientSecretFrom: clientSecretFrom must be `env:NAME` or `file:PATH`"]
        );
    }
}
