//! Chat and payment services: Slack tokens and incoming webhooks, Stripe live keys.

use super::{re, Detector, Source};
use crate::secrets_scan::values::looks_fake;
use crate::secrets_scan::{Finding, Rule};
use std::sync::OnceLock;

pub(super) const DETECTORS: &[Detector] = &[
    Detector {
        rule: Rule::SlackWebhook,
        keywords: &["hooks.slack.com"],
        find: slack_webhooks,
    },
    Detector {
        rule: Rule::SlackToken,
        keywords: &["xox", "xapp-"],
        find: slack_tokens,
    },
    Detector {
        rule: Rule::StripeKey,
        keywords: &["sk_live_", "rk_live_"],
        find: stripe,
    },
];

/// Bot, user, app-level, workspace and configuration tokens: `xoxb-`, `xoxp-`, `xoxa-`,
/// `xoxr-`, `xoxs-`, `xoxo-`, `xoxe-`, `xoxe.xoxp-`, `xapp-`.
fn slack_tokens(src: &Source, out: &mut Vec<Finding>) {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        re(r"\b(xox[abposre]-[0-9]{6,15}(?:-[0-9]{6,15}){0,3}-[A-Za-z0-9]{16,64}|xapp-[0-9]-[A-Z0-9]{8,15}-[0-9]{8,15}-[a-f0-9]{32,80}|xoxe\.xox[bp]-[0-9]-[A-Za-z0-9]{100,200}|xoxe-[0-9]-[A-Za-z0-9]{100,200})\b")
    });
    for c in re.captures_iter(src.text) {
        let m = c.get(1).expect("group");
        let body = m.as_str().rsplit_once('-').map_or("", |(_, b)| b);
        if !looks_fake(body) {
            src.token(out, Rule::SlackToken, m.start(), m.as_str());
        }
    }
}

/// `https://hooks.slack.com/services/T…/B…/…` (and workflow and trigger URLs): the URL is the
/// credential.
fn slack_webhooks(src: &Source, out: &mut Vec<Finding>) {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        re(r"hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9_-]{6,24}/[A-Za-z0-9_-]{6,24}(?:/[A-Za-z0-9_-]{1,24})?/[A-Za-z0-9]{16,64})")
    });
    for c in re.captures_iter(src.text) {
        let m = c.get(0).expect("whole");
        let path = c.get(1).expect("group").as_str();
        let secret = path.rsplit('/').next().unwrap_or_default();
        if path.starts_with('T') && !looks_fake(secret) {
            src.token(out, Rule::SlackWebhook, m.start(), m.as_str());
        }
    }
}

fn stripe(src: &Source, out: &mut Vec<Finding>) {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| re(r"\b([sr]k_live_[0-9A-Za-z]{24,99})\b"));
    for c in re.captures_iter(src.text) {
        let m = c.get(1).expect("group");
        if !looks_fake(&m.as_str()[8..]) {
            src.token(out, Rule::StripeKey, m.start(), m.as_str());
        }
    }
}
