//! Forge tokens: GitHub (classic and fine-grained personal access tokens, OAuth, app, refresh
//! tokens) and GitLab (personal, project and group access tokens, deploy, runner, feed, CI job,
//! agent, OAuth application, SCIM tokens, runner registration tokens).

use super::{re, Detector, Source};
use crate::secrets_scan::values::looks_fake;
use crate::secrets_scan::{Finding, Rule};
use std::sync::OnceLock;

pub(super) const DETECTORS: &[Detector] = &[
    Detector {
        rule: Rule::GithubToken,
        keywords: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
        find: github,
    },
    Detector {
        rule: Rule::GitlabToken,
        keywords: &[
            "glpat-",
            "gldt-",
            "glrt-",
            "glptt-",
            "glft-",
            "glsoat-",
            "glcbt-",
            "glimt-",
            "glagent-",
            "gloas-",
            "glffct-",
            "gr1348941",
        ],
        find: gitlab,
    },
];

fn github(src: &Source, out: &mut Vec<Finding>) {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        re(r"\b(gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b")
    });
    for c in re.captures_iter(src.text) {
        let m = c.get(1).expect("group");
        let body = m.as_str().rsplit_once('_').map_or("", |(_, b)| b);
        if !looks_fake(body) {
            src.token(out, Rule::GithubToken, m.start(), m.as_str());
        }
    }
}

fn gitlab(src: &Source, out: &mut Vec<Finding>) {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        re(r"\b((?:glpat|gldt|glrt|glptt|glft|glsoat|glcbt|glimt|glagent|gloas|glffct)-[A-Za-z0-9_.-]{20,300}|GR1348941[A-Za-z0-9_-]{20,})")
    });
    for c in re.captures_iter(src.text) {
        let m = c.get(1).expect("group");
        // A sentence's full stop is not part of the token.
        let token = m.as_str().trim_end_matches(['.', '-']);
        let body = token
            .strip_prefix("GR1348941")
            .or_else(|| token.split_once('-').map(|(_, b)| b))
            .unwrap_or(token);
        if body.len() >= 20 && !looks_fake(body) {
            src.token(out, Rule::GitlabToken, m.start(), token);
        }
    }
}
