//! `gitops`: the GitRepository, the Flux interval and the folders of the generated tree.

use super::rules::Checker;
use crate::spec::scan::shown;
use crate::spec::types::GitopsSpec;

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
