//! `gitops`: the GitRepository, the Flux interval and the folders of the generated tree.

use super::rules::Checker;
use crate::spec::scan::shown;
use crate::spec::types::{ArgocdSpec, GitopsEngine, GitopsSpec, Spec};

pub(super) fn check(c: &mut Checker, g: &GitopsSpec) {
    if let Some(s) = &g.source_ref {
        c.dns_subdomain("gitops.sourceRef", s, "GitRepository name");
    }
    if let Some(i) = &g.interval {
        c.flux_duration("gitops.interval", i);
    }
    // Every root, the defaults included: `vaultConfig: clusters` collides with the default
    // `clusters` root as surely as with an explicit one.
    let mut seen: Vec<(&str, String, bool)> = Vec::new();
    for (field, value, default) in [
        ("clusters", &g.paths.clusters, "clusters"),
        ("infrastructure", &g.paths.infrastructure, "infrastructure"),
        ("apps", &g.paths.apps, "apps"),
        ("vaultConfig", &g.paths.vault_config, "vault-config"),
    ] {
        let explicit = value.is_some();
        let v = value.clone().unwrap_or_else(|| default.to_string());
        let path = format!("gitops.paths.{field}");
        if explicit && !is_folder(&v) {
            c.error(
                &path,
                format!("`{}` is not a usable folder", shown(&v)),
                "write a relative path inside the repository, e.g. `infrastructure` or `platform/vault` (not `.git`, `..` or an absolute path)",
            );
            continue;
        }
        for (other_field, other, other_explicit) in &seen {
            if !explicit && !other_explicit {
                continue;
            }
            if v == *other
                || v.starts_with(&format!("{other}/"))
                || other.starts_with(&format!("{v}/"))
            {
                let (at, shown_other) = if explicit {
                    (
                        path.clone(),
                        format!(
                            "gitops.paths.{other_field} (`{other}`{})",
                            if *other_explicit { "" } else { ", the default" }
                        ),
                    )
                } else {
                    (
                        format!("gitops.paths.{other_field}"),
                        format!("gitops.paths.{field} (`{v}`, the default)"),
                    )
                };
                let mine = if explicit { v.clone() } else { other.clone() };
                c.error(
                    &at,
                    format!("`{mine}` overlaps {shown_other}"),
                    "give each generated root its own folder: one inside another would be applied by Flux or pruned by the other",
                );
            }
        }
        seen.push((field, v, explicit));
    }
}

/// A folder inside the repository: relative, no `.`, `..` or `.git` segment, at most 255
/// characters of letters, digits, `-`, `_`, `.` and `/`.
fn is_folder(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 255
        && !v.starts_with('/')
        && !v.ends_with('/')
        && v.split('/')
            .all(|s| !s.is_empty() && s != "." && s != ".." && !s.eq_ignore_ascii_case(".git"))
        && v.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.' | '/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders() {
        for (v, ok) in [
            ("infrastructure", true),
            ("platform/vault", true),
            ("a.b/c_d-e", true),
            ("", false),
            ("/abs", false),
            ("a/", false),
            ("a//b", false),
            ("a/../b", false),
            ("./a", false),
            (".git", false),
            ("x/.GIT", false),
            ("a b", false),
        ] {
            assert_eq!(is_folder(v), ok, "{v:?}");
        }
    }
}

/// `gitops.engine`: Argo CD reads the tree from `repoURL` (required) at `targetRevision`, below
/// `path`; the Flux-only fields (`sourceRef`, `interval`, the controllers' `dependsOn`, which
/// name Flux Kustomizations) mean nothing there, and the Argo CD fields nothing to Flux.
pub(super) fn engine(c: &mut Checker, spec: &Spec) {
    let g = &spec.gitops;
    let argo = g.engine == Some(GitopsEngine::Argocd);
    if !argo {
        for (field, set) in [
            ("repoURL", g.repo_url.is_some()),
            ("targetRevision", g.target_revision.is_some()),
            ("path", g.path.is_some()),
            ("argocd", g.argocd.is_some()),
        ] {
            if set {
                c.error(
                    &format!("gitops.{field}"),
                    format!("`gitops.{field}` is for Argo CD, and the engine is Flux"),
                    "add `engine: argocd` under `gitops`, or remove the field (Flux reads the repository through `gitops.sourceRef`)",
                );
            }
        }
        return;
    }
    for (field, set) in [
        ("sourceRef", g.source_ref.is_some()),
        ("interval", g.interval.is_some()),
    ] {
        if set {
            c.error(
                &format!("gitops.{field}"),
                format!("`gitops.{field}` is for Flux, and the engine is Argo CD"),
                "remove it: Argo CD reads the repository at `gitops.repoURL` and polls it on its own schedule",
            );
        }
    }
    match &g.repo_url {
        None => c.error(
            "gitops",
            "`engine: argocd` needs `gitops.repoURL`",
            "add `repoURL: https://git.example.com/platform/gitops.git` (the repository as registered in Argo CD)",
        ),
        Some(url) if !is_repo_url(url) => c.error(
            "gitops.repoURL",
            format!("`{}` is not a Git repository URL", shown(url)),
            "write `https://host/path`, `ssh://git@host/path` or `git@host:path`, without credentials or spaces",
        ),
        Some(_) => {}
    }
    if let Some(r) = &g.target_revision {
        if !is_revision(r) {
            c.error(
                "gitops.targetRevision",
                format!("`{}` is not a Git revision", shown(r)),
                "write a branch, a tag or a commit, e.g. `main`, `v1.2.0` or `HEAD`",
            );
        }
    }
    if let Some(p) = &g.path {
        if !is_folder(p) {
            c.error(
                "gitops.path",
                format!("`{}` is not a usable folder", shown(p)),
                "write a relative path inside the repository, e.g. `gitops` (or leave it out for the root)",
            );
        }
    }
    if let Some(a) = &g.argocd {
        argocd(c, a);
    }
    for (field, deps) in [
        (
            "externalSecrets.dependsOn",
            spec.external_secrets.as_ref().map(|e| e.depends_on.len()),
        ),
        (
            "csiDriver.dependsOn",
            spec.csi_driver.as_ref().map(|d| d.depends_on.len()),
        ),
    ] {
        if deps.unwrap_or(0) > 0 {
            c.error(
                field,
                format!("`{field}` names Flux Kustomizations, and the engine is Argo CD"),
                "remove it: with Argo CD, order what installs the controller before this tree's waves (e.g. a lower sync wave in your own app-of-apps)",
            );
        }
    }
}

/// `gitops.argocd`: a destination Argo CD can name, its namespace, an AppProject name.
fn argocd(c: &mut Checker, a: &ArgocdSpec) {
    if let Some(d) = &a.destination {
        if !is_destination(d) {
            c.error(
                "gitops.argocd.destination",
                format!("`{}` is not an Argo CD destination", shown(d)),
                "write `in-cluster`, the cluster's name as registered in Argo CD (`argocd cluster list`), or its API server URL `https://host[:port]`",
            );
        }
    }
    if let Some(ns) = &a.namespace {
        c.dns_label("gitops.argocd.namespace", ns, "namespace name");
    }
    if let Some(p) = &a.project {
        c.dns_subdomain("gitops.argocd.project", p, "AppProject name");
    }
}

/// `in-cluster`, an `https://`/`http://` URL with a host, or a registered cluster name: at
/// most 253 printable characters without blanks.
pub(crate) fn is_destination(v: &str) -> bool {
    if v.is_empty() || v.len() > 253 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    for scheme in ["https://", "http://"] {
        if let Some(rest) = v.strip_prefix(scheme) {
            let host = rest.split('/').next().unwrap_or_default();
            return !host.is_empty() && !host.contains('@');
        }
    }
    !v.contains("://")
}

/// `https://host/...`, `http://host/...`, `ssh://host/...` or scp-like `user@host:path`; no
/// credentials in an http(s) URL, no whitespace or control characters, at most 2,048 bytes.
fn is_repo_url(v: &str) -> bool {
    if v.is_empty() || v.len() > 2048 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    for scheme in ["https://", "http://", "ssh://"] {
        if let Some(rest) = v.strip_prefix(scheme) {
            let host = rest.split('/').next().unwrap_or_default();
            let credentials = scheme != "ssh://" && host.contains('@');
            return !host.is_empty() && !credentials && rest.len() > host.len() + 1;
        }
    }
    // scp-like: user@host:path
    match v.split_once(':') {
        Some((user_host, path)) => {
            let (user, host) = user_host.split_once('@').unwrap_or(("", ""));
            !user.is_empty() && !host.is_empty() && !path.is_empty() && !host.contains('/')
        }
        None => false,
    }
}

/// A branch, tag or commit: git's ref-name rules, briefly (no space, `..`, `~^:?*[\\`, or a
/// leading `-` or `/`), at most 255 characters.
fn is_revision(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 255
        && !v.starts_with(['-', '/'])
        && !v.ends_with(['/', '.'])
        && !v.contains("..")
        && !v.contains("@{")
        && !v
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c))
}

#[cfg(test)]
mod engine_tests {
    use super::*;

    #[test]
    fn repo_urls() {
        for ok in [
            "https://github.com/acme/gitops.git",
            "ssh://git@github.com/acme/gitops.git",
            "git@github.com:acme/gitops.git",
        ] {
            assert!(is_repo_url(ok), "{ok}");
        }
        for bad in [
            "",
            "github.com/acme/gitops",
            concat!("https://user", ":", "x@github.com/acme/gitops"),
            "https://github.com",
            "https://github.com/acme gitops",
            "git@:path",
        ] {
            assert!(!is_repo_url(bad), "{bad}");
        }
    }

    #[test]
    fn destinations() {
        for ok in [
            "in-cluster",
            "production",
            "https://api.prod.example.com:6443",
            "arn:aws:eks:eu-west-1:123456789012:cluster/prod",
        ] {
            assert!(is_destination(ok), "{ok}");
        }
        for bad in ["", "a b", "https://", "ssh://host/x", "https://u@host"] {
            assert!(!is_destination(bad), "{bad}");
        }
    }

    #[test]
    fn revisions() {
        for ok in ["HEAD", "main", "release/1.2", "v1.2.0", "0123abcd"] {
            assert!(is_revision(ok), "{ok}");
        }
        for bad in ["", "-x", "a..b", "a b", "a~1", "x/", "a:b"] {
            assert!(!is_revision(bad), "{bad}");
        }
    }
}
