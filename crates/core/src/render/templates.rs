//! The minijinja templates: compiled into the binary, optionally overridden from a folder.

use super::RenderError;
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior, Value};
use std::collections::BTreeMap;

/// Every template the tool uses, by name. An installed plugin needs no files beside it.
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "flux/kustomization.yaml.j2",
        include_str!("../../../../templates/flux/kustomization.yaml.j2"),
    ),
    (
        "flux/helmrepository.yaml.j2",
        include_str!("../../../../templates/flux/helmrepository.yaml.j2"),
    ),
    (
        "flux/helmrelease.yaml.j2",
        include_str!("../../../../templates/flux/helmrelease.yaml.j2"),
    ),
    (
        "core/namespace.yaml.j2",
        include_str!("../../../../templates/core/namespace.yaml.j2"),
    ),
    (
        "core/certificate.yaml.j2",
        include_str!("../../../../templates/core/certificate.yaml.j2"),
    ),
    (
        "core/serviceaccount.yaml.j2",
        include_str!("../../../../templates/core/serviceaccount.yaml.j2"),
    ),
    (
        "core/token-review.yaml.j2",
        include_str!("../../../../templates/core/token-review.yaml.j2"),
    ),
    (
        "kustomize/kustomization.yaml.j2",
        include_str!("../../../../templates/kustomize/kustomization.yaml.j2"),
    ),
    (
        "vso/_destination.j2",
        include_str!("../../../../templates/vso/_destination.j2"),
    ),
    (
        "vso/vaultconnection.yaml.j2",
        include_str!("../../../../templates/vso/vaultconnection.yaml.j2"),
    ),
    (
        "vso/vaultauth.yaml.j2",
        include_str!("../../../../templates/vso/vaultauth.yaml.j2"),
    ),
    (
        "vso/vaultstaticsecret.yaml.j2",
        include_str!("../../../../templates/vso/vaultstaticsecret.yaml.j2"),
    ),
    (
        "vso/vaultdynamicsecret.yaml.j2",
        include_str!("../../../../templates/vso/vaultdynamicsecret.yaml.j2"),
    ),
    (
        "vso/vaultpkisecret.yaml.j2",
        include_str!("../../../../templates/vso/vaultpkisecret.yaml.j2"),
    ),
    (
        "eso/secretstore.yaml.j2",
        include_str!("../../../../templates/eso/secretstore.yaml.j2"),
    ),
    (
        "eso/externalsecret.yaml.j2",
        include_str!("../../../../templates/eso/externalsecret.yaml.j2"),
    ),
    (
        "csi/secretproviderclass.yaml.j2",
        include_str!("../../../../templates/csi/secretproviderclass.yaml.j2"),
    ),
    (
        "injector/kustomization.yaml.j2",
        include_str!("../../../../templates/injector/kustomization.yaml.j2"),
    ),
    (
        "injector/patch.yaml.j2",
        include_str!("../../../../templates/injector/patch.yaml.j2"),
    ),
    (
        "injector/agent.ctmpl.j2",
        include_str!("../../../../templates/injector/agent.ctmpl.j2"),
    ),
    (
        "vault/server.hcl.j2",
        include_str!("../../../../templates/vault/server.hcl.j2"),
    ),
    (
        "vault/tls-reload.sh.j2",
        include_str!("../../../../templates/vault/tls-reload.sh.j2"),
    ),
    (
        "vault/configure.sh.j2",
        include_str!("../../../../templates/vault/configure.sh.j2"),
    ),
    (
        "vault/backup.sh.j2",
        include_str!("../../../../templates/vault/backup.sh.j2"),
    ),
    (
        "vault/backup-upload.sh.j2",
        include_str!("../../../../templates/vault/backup-upload.sh.j2"),
    ),
    (
        "vault/backup-pvc.yaml.j2",
        include_str!("../../../../templates/vault/backup-pvc.yaml.j2"),
    ),
    (
        "vault/backup-cronjob.yaml.j2",
        include_str!("../../../../templates/vault/backup-cronjob.yaml.j2"),
    ),
    (
        "argocd/application.yaml.j2",
        include_str!("../../../../templates/argocd/application.yaml.j2"),
    ),
    (
        "argocd/argocd-cm-patch.yaml.j2",
        include_str!("../../../../templates/argocd/argocd-cm-patch.yaml.j2"),
    ),
    (
        "vault/pipeline.tf.j2",
        include_str!("../../../../templates/vault/pipeline.tf.j2"),
    ),
    (
        "vault/pipeline-github.yml.j2",
        include_str!("../../../../templates/vault/pipeline-github.yml.j2"),
    ),
    (
        "vault/pipeline-shell.yml.j2",
        include_str!("../../../../templates/vault/pipeline-shell.yml.j2"),
    ),
    (
        "certmanager/issuer.yaml.j2",
        include_str!("../../../../templates/certmanager/issuer.yaml.j2"),
    ),
    (
        "certmanager/token-request.yaml.j2",
        include_str!("../../../../templates/certmanager/token-request.yaml.j2"),
    ),
    (
        "monitoring/servicemonitor.yaml.j2",
        include_str!("../../../../templates/monitoring/servicemonitor.yaml.j2"),
    ),
    (
        "monitoring/prometheusrule.yaml.j2",
        include_str!("../../../../templates/monitoring/prometheusrule.yaml.j2"),
    ),
    (
        "monitoring/dashboard.yaml.j2",
        include_str!("../../../../templates/monitoring/dashboard.yaml.j2"),
    ),
    (
        "monitoring/audit-shipping.yaml.j2",
        include_str!("../../../../templates/monitoring/audit-shipping.yaml.j2"),
    ),
];

/// The template set: the embedded templates, with any overrides laid over them.
pub struct Templates {
    env: Environment<'static>,
}

impl Default for Templates {
    fn default() -> Self {
        Templates::with_overrides(BTreeMap::new()).expect("embedded templates compile")
    }
}

impl Templates {
    /// `overrides` maps template names (e.g. `vso/vaultauth.yaml.j2`) to their text.
    /// An override of an unknown name is an error, so a typo in a file name is not ignored.
    pub fn with_overrides(overrides: BTreeMap<String, String>) -> Result<Self, RenderError> {
        for name in overrides.keys() {
            if !EMBEDDED.iter().any(|(n, _)| n == name) {
                return Err(RenderError::UnknownOverride {
                    name: name.clone(),
                    known: EMBEDDED.iter().map(|(n, _)| n.to_string()).collect(),
                });
            }
        }
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        // minijinja would JSON-escape `*.yaml.j2` output; quoting is explicit here (`| q`).
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.add_filter("q", yaml_scalar);
        env.add_filter("sh", shell_quote);
        env.add_filter("vault_arg", |value: Value, key: String| {
            crate::vault::side::vault_arg(&key, &scalar_text(&value))
        });
        env.add_filter("comment", |value: Value| {
            crate::vault::side::shell_comment(&scalar_text(&value))
        });
        env.add_filter("to_yaml", to_yaml);
        // A Go string literal (consul-template's): JSON's escapes are Go's.
        env.add_filter("go", |value: Value| {
            serde_json::to_string(&scalar_text(&value)).expect("strings serialize")
        });
        for (name, text) in EMBEDDED {
            let source = overrides
                .get(*name)
                .cloned()
                .unwrap_or_else(|| text.to_string());
            env.add_template_owned(name.to_string(), source)
                .map_err(|e| RenderError::template(name, &e))?;
        }
        Ok(Templates { env })
    }

    pub fn render(&self, name: &str, ctx: Value) -> Result<String, RenderError> {
        let t = self
            .env
            .get_template(name)
            .map_err(|e| RenderError::template(name, &e))?;
        let mut out = t.render(ctx).map_err(|e| RenderError::template(name, &e))?;
        if !out.ends_with('\n') {
            out.push('\n');
        }
        Ok(out)
    }
}

/// A YAML scalar: plain when that reads back as the same string, double-quoted otherwise.
fn yaml_scalar(value: Value) -> Result<String, Error> {
    if let Some(s) = value.as_str() {
        return Ok(yaml_quote(s));
    }
    if value.is_number() || value.kind() == minijinja::value::ValueKind::Bool {
        return Ok(value.to_string());
    }
    Err(Error::new(
        ErrorKind::InvalidOperation,
        format!("q: cannot write {value} as a YAML scalar"),
    ))
}

pub fn yaml_quote(s: &str) -> String {
    let plain_safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '.' || c == '/')
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n" | "~"
        );
    if plain_safe {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("strings serialize")
    }
}

/// A single shell word.
fn shell_quote(value: Value) -> String {
    crate::vault::side::shell_word(&scalar_text(&value))
}

/// A string as itself, anything else as minijinja prints it.
fn scalar_text(value: &Value) -> String {
    value
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| value.to_string())
}

fn to_yaml(value: Value) -> Result<String, Error> {
    let json: serde_json::Value = serde_json::to_value(&value)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    let text = crate::yaml::to_string(&json)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    Ok(text.trim_end().to_string())
}
