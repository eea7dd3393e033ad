//! `vault-config/<cluster>/pipelines/`: for each pipeline of the spec, a ready Terraform
//! provider block (`auth_login_jwt`) and a CI job step that logs in with the job's own JWT.
//! GitHub Actions (`hashicorp/vault-action`) when the pipeline's issuer is GitHub's, else a
//! plain shell login as a GitLab CI job (`id_tokens`) shows it.

use super::{RenderError, Renderer};
use crate::model::Stack;
use crate::vault::side::jwt::{
    aws_creds_path, kv_read_path, pipeline_mount, pipeline_policy, PIPELINE_TOKEN_TTL,
};
use minijinja::Value;
use serde::Serialize;

/// GitHub Actions' token issuer.
pub(crate) const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// `vault/pipeline.tf.j2`, `vault/pipeline-github.yml.j2`, `vault/pipeline-shell.yml.j2`.
#[derive(Serialize)]
struct PipelineContext<'a> {
    name: &'a str,
    mount: String,
    role: &'a str,
    policy: String,
    login_path: String,
    audience: &'a str,
    token_ttl: &'a str,
    /// `key: value` of each bound claim.
    claims: Vec<String>,
    /// Every path the policy grants (kv data paths, then aws credentials).
    paths: Vec<String>,
    kv_paths: Vec<String>,
}

pub(super) fn snippets(r: &mut Renderer, stack: &Stack, dir: &str) -> Result<(), RenderError> {
    for p in &stack.pipelines {
        let mount = pipeline_mount(p);
        let kv_paths: Vec<String> = p.read.iter().map(|k| kv_read_path(k)).collect();
        let ctx = PipelineContext {
            name: &p.name,
            login_path: format!("auth/{mount}/login"),
            mount,
            role: &p.name,
            policy: pipeline_policy(p),
            audience: p.bound_audiences.first().map_or("", String::as_str),
            token_ttl: p.token_ttl.as_deref().unwrap_or(PIPELINE_TOKEN_TTL),
            claims: (p.bound_claims.iter())
                .map(|(k, v)| format!("{k}: {v}"))
                .collect(),
            paths: kv_paths
                .iter()
                .cloned()
                .chain(p.aws.iter().map(|a| aws_creds_path(a)))
                .collect(),
            kv_paths,
        };
        let github = [&p.discovery_url, &p.bound_issuer]
            .iter()
            .any(|u| u.as_deref().map(|u| u.trim_end_matches('/')) == Some(GITHUB_ISSUER));
        let ctx = Value::from_serialize(&ctx);
        r.file(
            format!("{dir}/pipelines/{}.tf", p.name),
            "vault/pipeline.tf.j2",
            ctx.clone(),
        )?;
        if github {
            r.file(
                format!("{dir}/pipelines/{}.github-actions.yml", p.name),
                "vault/pipeline-github.yml.j2",
                ctx,
            )?;
        } else {
            r.file(
                format!("{dir}/pipelines/{}.gitlab-ci.yml", p.name),
                "vault/pipeline-shell.yml.j2",
                ctx,
            )?;
        }
    }
    Ok(())
}
