//! `scan`'s measured coverage: a labelled corpus of a few hundred cases — every credential
//! format in the places GitOps repositories leak them, and the false friends those
//! repositories are full of — generated at test time (`gen`: public prefixes and random
//! bodies, so that no token-shaped string sits in this repository), written to a work tree
//! and scanned by the real binary. Recall and precision are counted per line: a secret is
//! found when a finding names its line; a finding on any other line is a false positive.
//!
//! `precision_and_recall` gates (at least 98% recall and 95% precision) and prints the
//! figures per rule. `detect_secrets_on_the_same_corpus` runs Yelp's detect-secrets (the
//! version scripts/test-deps.sh pins) on the same files and prints both side by side, as
//! docs/src/commands/scan.md shows them; its figures never fail the test.

mod gen;
mod negatives;
mod positives;

use crate::support::common::{bin, stderr, stdout};
use crate::support::servers::{find_tool, require};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One file of the corpus, and what it holds: the lines of each secret (first, last: a
/// private key spans its block) and the rule that should name it; none for a negative case.
pub(crate) struct Case {
    pub(crate) label: String,
    pub(crate) path: String,
    pub(crate) content: String,
    pub(crate) expect: Vec<(u32, u32, String)>,
}

impl Case {
    pub(crate) fn new(label: &str, path: &str, content: String, expect: &[(u32, &str)]) -> Case {
        Case {
            label: label.to_string(),
            path: path.to_string(),
            content,
            expect: expect
                .iter()
                .map(|(l, r)| (*l, *l, r.to_string()))
                .collect(),
        }
    }

    /// A case whose one secret spans lines `first..=last` (a private key, a key file): a
    /// finding on any of them names it.
    pub(crate) fn block(label: &str, path: &str, content: String, first: u32, last: u32) -> Case {
        Case {
            label: label.to_string(),
            path: path.to_string(),
            content,
            expect: vec![(first, last, label.to_string())],
        }
    }

    fn holds(&self, line: u32) -> bool {
        self.expect
            .iter()
            .any(|(a, b, _)| (*a..=*b).contains(&line))
    }
}

pub(crate) fn corpus() -> Vec<Case> {
    let mut r = gen::Rng::new(30);
    let mut cases = positives::cases(&mut r);
    cases.extend(negatives::cases(&mut r));
    cases
}

/// Each case in a folder of its own (`c042/apps/shop/values.yaml`), in a fresh Git work tree.
fn write(dir: &Path, cases: &[Case]) {
    git2::Repository::init(dir).unwrap();
    for (i, c) in cases.iter().enumerate() {
        let path = dir.join(format!("c{i:03}")).join(&c.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &c.content).unwrap();
    }
}

/// What a scanner reported: (case, line) → the rule or detector that named it.
type Reported = BTreeMap<(usize, u32), BTreeSet<String>>;

fn case_of(path: &str) -> usize {
    path.trim_start_matches("./")
        .strip_prefix('c')
        .and_then(|p| p.get(..3))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a path outside the corpus: {path}"))
}

/// `kubectl vault scan --no-history -o json` over the work tree.
fn ours(dir: &Path) -> Reported {
    let out = bin()
        .args([
            "scan",
            "--no-history",
            "-o",
            "json",
            "--exit-zero",
            "--repo",
        ])
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["unread"].as_array().map(Vec::len), Some(0), "{v}");
    let mut got = Reported::new();
    for f in v["findings"].as_array().unwrap() {
        let case = case_of(f["path"].as_str().unwrap());
        let line = f["line"].as_u64().unwrap() as u32;
        got.entry((case, line))
            .or_default()
            .insert(f["rule"].as_str().unwrap().to_string());
    }
    got
}

/// `detect-secrets scan --all-files` (its default plugins and filters) over the same files.
fn detect_secrets(tool: &Path, dir: &Path) -> Reported {
    let out = std::process::Command::new(tool)
        .args(["scan", "--all-files"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let mut got = Reported::new();
    for (path, found) in v["results"].as_object().unwrap() {
        for f in found.as_array().unwrap() {
            let line = f["line_number"].as_u64().unwrap() as u32;
            got.entry((case_of(path), line))
                .or_default()
                .insert(f["type"].as_str().unwrap().to_string());
        }
    }
    got
}

/// Found and missed secrets, per label (the rule that should name it) and in all.
#[derive(Default)]
struct Score {
    /// label → (secrets, found on their line by any rule, found by the labelled rule)
    per_label: BTreeMap<String, (usize, usize, usize)>,
    /// rule → findings on lines holding no secret
    false_per_rule: BTreeMap<String, usize>,
    /// negative-case label → findings
    false_per_case: BTreeMap<String, usize>,
    found: usize,
    missed: usize,
    false_positives: usize,
    missed_list: Vec<String>,
}

impl Score {
    fn recall(&self) -> f64 {
        self.found as f64 / (self.found + self.missed) as f64
    }
    fn precision(&self) -> f64 {
        self.found as f64 / (self.found + self.false_positives).max(1) as f64
    }
}

fn score(cases: &[Case], got: &Reported) -> Score {
    let mut s = Score::default();
    for (i, c) in cases.iter().enumerate() {
        for (first, last, rule) in &c.expect {
            let e = s.per_label.entry(rule.clone()).or_default();
            e.0 += 1;
            let named: Vec<&BTreeSet<String>> = got
                .range((i, *first)..=(i, *last))
                .map(|(_, rules)| rules)
                .collect();
            if named.is_empty() {
                s.missed += 1;
                s.missed_list
                    .push(format!("c{i:03} {} line {first}: {rule}", c.path));
                continue;
            }
            s.found += 1;
            e.1 += 1;
            if named.iter().any(|rules| rules.contains(rule)) {
                e.2 += 1;
            }
        }
    }
    for ((i, line), rules) in got {
        if cases[*i].holds(*line) {
            continue;
        }
        s.false_positives += 1;
        for r in rules {
            *s.false_per_rule.entry(r.clone()).or_default() += 1;
        }
        *s.false_per_case
            .entry(format!("c{i:03} {} line {line}", cases[*i].label))
            .or_default() += 1;
    }
    s
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

#[test]
fn precision_and_recall() {
    let cases = corpus();
    let positives = cases.iter().filter(|c| !c.expect.is_empty()).count();
    assert!(
        positives >= 200 && cases.len() - positives >= 200,
        "{positives} of {}",
        cases.len()
    );
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &cases);
    let s = score(&cases, &ours(dir.path()));
    println!("| rule | secrets | found | found by this rule | false positives |");
    println!("|---|---|---|---|---|");
    for (label, (n, any, rule)) in &s.per_label {
        let fp = s.false_per_rule.get(label).copied().unwrap_or(0);
        println!("| {label} | {n} | {any} | {rule} | {fp} |");
    }
    println!(
        "{} cases ({positives} positive), {} secrets: recall {}, precision {} ({} found, {} missed, {} false positives)",
        cases.len(),
        s.found + s.missed,
        pct(s.recall()),
        pct(s.precision()),
        s.found,
        s.missed,
        s.false_positives
    );
    for m in &s.missed_list {
        println!("missed: {m}");
    }
    for (case, n) in &s.false_per_case {
        println!("false positive: {case} ({n})");
    }
    assert!(
        s.recall() >= 0.98,
        "recall {} is under 98%",
        pct(s.recall())
    );
    assert!(
        s.precision() >= 0.95,
        "precision {} is under 95%",
        pct(s.precision())
    );
    // Each rule finds its own: a secret found by another rule than its own is counted found,
    // but no rule may lean on the others for most of its cases.
    for (label, (n, _, rule)) in &s.per_label {
        if label.starts_with("unsupported") {
            continue;
        }
        assert!(
            *rule * 10 >= *n * 9,
            "{label}: {rule} of {n} found by its own rule"
        );
    }
    // The figures the docs publish are these.
    let docs = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/src/commands/scan.md"),
    )
    .unwrap();
    let row = format!(
        "| all ({} secrets, {} cases) | {} | {} |",
        s.found + s.missed,
        cases.len(),
        pct(s.recall()),
        pct(s.precision())
    );
    assert!(
        docs.contains(&row),
        "docs/src/commands/scan.md does not show this run's figures; its table's first row should start with:\n{row}"
    );
}

#[test]
fn detect_secrets_on_the_same_corpus() {
    let Some(tool) = require(
        find_tool("DETECT_SECRETS", "detect-secrets"),
        "Yelp's detect-secrets",
    ) else {
        return;
    };
    let cases = corpus();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &cases);
    let us = score(&cases, &ours(dir.path()));
    let them = score(&cases, &detect_secrets(&tool, dir.path()));
    let version = std::process::Command::new(&tool)
        .arg("--version")
        .output()
        .map(|o| stdout(&o).trim().to_string())
        .unwrap_or_default();
    println!(
        "| corpus | kubectl vault scan: recall | precision | detect-secrets {version}: recall | precision |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| all ({} secrets, {} cases) | {} | {} | {} | {} |",
        us.found + us.missed,
        cases.len(),
        pct(us.recall()),
        pct(us.precision()),
        pct(them.recall()),
        pct(them.precision())
    );
    println!();
    println!("| secrets of the kind | kubectl vault scan | detect-secrets {version} |");
    println!("|---|---|---|");
    for (label, (n, found, _)) in &us.per_label {
        let theirs = them.per_label.get(label).map_or(0, |t| t.1);
        println!("| {label} | {found} of {n} | {theirs} of {n} |");
    }
    println!(
        "| false positives (lines holding no secret) | {} | {} |",
        us.false_positives, them.false_positives
    );
    for (case, n) in &them.false_per_case {
        println!("detect-secrets false positive: {case} ({n})");
    }
}
