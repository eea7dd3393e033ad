//! `scan`'s pure half: which plaintext secrets one file's bytes hold.
//!
//! Not to be confused with [`super::spec::scan`] (the bounds check of a spec). The edge
//! (`crate::edge::git::history`) hands in each distinct blob once per [`Syntax`] its paths
//! read it as, and reports the result at each path; this module decides.
//!
//! Every file is text ([`scan_blob`]: UTF-16/32 with a BOM decoded, other bytes that are not
//! UTF-8 replaced); a YAML file is read document by document, a broken document losing only
//! what follows its error, a `List` (`kubectl get secrets -o yaml`) item by item.
//!
//! Rules ([`Rule`], in order of precedence: one finding per line, the most specific):
//! - in YAML: a Kubernetes `Secret` (`apiVersion: v1`) with a non-empty `data` / `stringData`
//!   value, a kustomize `secretGenerator`'s `literals` (`KEY=value`), a SOPS file (a top-level
//!   `sops:` block) holding a value that is not `ENC[…]` where SOPS would have encrypted it,
//!   and a high-entropy value under a credential-like key (`password`, `secret`, `token`,
//!   `apiKey`, … as the key's last word);
//! - in any text (`rules`): the token formats of cloud providers, forges, chat, payment and
//!   registry services, private keys, signed JWTs, Vault/OpenBao tokens, passwords in
//!   connection strings; in `KEY=value` files ([`Syntax::Env`]), values under credential-like
//!   keys. A keyword prefilter decides which of these run on a file.
//!
//! Not findings (false friends): manifests without values (VaultStaticSecret and the other
//! generated kinds), a Secret with empty data, SOPS `ENC[…]` values, references rather than
//! values (`${VAR}`, `$(VAR)`, `{{ template }}`, `<placeholder>`, `*****`), placeholders
//! (`changeme`, `example`, …), made-up tokens (`AKIAIOSFODNN7EXAMPLE`, `xxxx…`), password
//! hashes.
//!
//! A [`Finding`] never holds the value, nor any part of it: only its line, rule, key name and
//! a [`fingerprint`].
//!
//! The module's parts: `yaml` (the YAML rules), `rules` (the text rules, by family, and their
//! prefilter), `values` (what a value is: a reference, a placeholder, random enough), `text`
//! (bytes to text), `report` (findings grouped per secret and file, what was not read, whether
//! the run fails), `allow` (the allow-list and baselines), `sarif` (the SARIF 2.1.0 report).

mod allow;
mod report;
mod rules;
pub mod sarif;
mod text;
mod values;
mod yaml;

pub use allow::{baseline, AllowEntry, AllowList, Date};
pub use report::{fails, report, unallowed, Entry, Located, Seen, Shallow, Unread};
pub use text::shown_path;

/// Largest file content scanned (1 MiB): secrets live in manifests and config files. A larger
/// one is not read; it is named in the report ([`Unread::TooLarge`]) and fails the run.
pub const MAX_FILE: u64 = 1024 * 1024;

use sha2::{Digest, Sha256};

/// What kind of plaintext secret a finding is. The order is the order of precedence when
/// several rules find something on one line: the most specific first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    KubernetesSecret,
    SopsUnencrypted,
    GcpServiceAccount,
    PrivateKey,
    VaultToken,
    AwsSecretKey,
    AwsAccessKey,
    GithubToken,
    GitlabToken,
    SlackWebhook,
    SlackToken,
    StripeKey,
    NpmToken,
    PypiToken,
    GcpApiKey,
    AzureStorageKey,
    DockerConfigAuth,
    Jwt,
    BasicAuth,
    ConnectionString,
    CliPassword,
    EnvFile,
    HighEntropy,
}

impl Rule {
    /// Every rule, in order of precedence.
    pub const ALL: [Rule; 23] = [
        Rule::KubernetesSecret,
        Rule::SopsUnencrypted,
        Rule::GcpServiceAccount,
        Rule::PrivateKey,
        Rule::VaultToken,
        Rule::AwsSecretKey,
        Rule::AwsAccessKey,
        Rule::GithubToken,
        Rule::GitlabToken,
        Rule::SlackWebhook,
        Rule::SlackToken,
        Rule::StripeKey,
        Rule::NpmToken,
        Rule::PypiToken,
        Rule::GcpApiKey,
        Rule::AzureStorageKey,
        Rule::DockerConfigAuth,
        Rule::Jwt,
        Rule::BasicAuth,
        Rule::ConnectionString,
        Rule::CliPassword,
        Rule::EnvFile,
        Rule::HighEntropy,
    ];

    /// The rule's stable name (output, JSON, SARIF, fingerprints).
    pub fn id(self) -> &'static str {
        self.meta().0
    }

    /// The rule's name in SARIF (`KubernetesSecret`).
    pub fn name(self) -> String {
        self.id()
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect()
    }

    /// One sentence: what the rule finds.
    pub fn summary(self) -> &'static str {
        self.meta().1
    }

    /// What to do about a finding of the rule.
    pub fn help(self) -> &'static str {
        self.meta().2
    }

    fn meta(self) -> (&'static str, &'static str, &'static str) {
        const ROTATE: &str = "Revoke or rotate the credential at its issuer, remove it from the repository (and its history: see the purging-history page), and keep it in Vault instead.";
        match self {
            Rule::KubernetesSecret => ("kubernetes-secret", "A plaintext value in a Kubernetes Secret's data or stringData, or a kustomize secretGenerator literal.", "Move the Secret into Vault (kubectl vault import) and let the Vault Secrets Operator create it; rotate the value, then purge it from the history."),
            Rule::SopsUnencrypted => ("sops-unencrypted", "A value left in plaintext in a SOPS-encrypted file, where SOPS would have encrypted it.", "Encrypt the file again with sops (sops --encrypt --in-place), rotate the value, then purge it from the history."),
            Rule::GcpServiceAccount => ("gcp-service-account", "A Google Cloud service-account key file (type service_account) with its private key.", ROTATE),
            Rule::PrivateKey => ("private-key", "A private key that is not encrypted: PEM (RSA, EC, DSA, PKCS#8), OpenSSH, PGP.", ROTATE),
            Rule::VaultToken => ("vault-token", "A Vault or OpenBao token (hvs., hvb., hvr., or the legacy s., b., r. forms).", "Revoke the token (vault token revoke -accessor) and remove it from the repository and its history."),
            Rule::AwsSecretKey => ("aws-secret-key", "An AWS secret access key: under a key that names it, or beside an access key id.", ROTATE),
            Rule::AwsAccessKey => ("aws-access-key", "An AWS access key id (AKIA, ASIA); its secret key is likely near it.", ROTATE),
            Rule::GithubToken => ("github-token", "A GitHub token: personal access token (classic ghp_, fine-grained github_pat_), OAuth, app or refresh token.", ROTATE),
            Rule::GitlabToken => ("gitlab-token", "A GitLab token: personal, project or group access token (glpat-), deploy, runner, feed, CI job, agent or OAuth application secret.", ROTATE),
            Rule::SlackWebhook => ("slack-webhook", "A Slack incoming webhook URL (hooks.slack.com/services/...): whoever holds it can post to the channel.", ROTATE),
            Rule::SlackToken => ("slack-token", "A Slack bot, user, app-level, workspace or configuration token (xoxb-, xoxp-, xapp-, ...).", ROTATE),
            Rule::StripeKey => ("stripe-key", "A Stripe live secret or restricted key (sk_live_, rk_live_).", ROTATE),
            Rule::NpmToken => ("npm-token", "An npm access token (npm_), or an .npmrc _authToken.", ROTATE),
            Rule::PypiToken => ("pypi-token", "A PyPI or TestPyPI upload token (pypi-AgEIcHlwaS5vcmc...).", ROTATE),
            Rule::GcpApiKey => ("gcp-api-key", "A Google Cloud API key (AIza...).", ROTATE),
            Rule::AzureStorageKey => ("azure-storage-key", "An Azure storage account key (AccountKey=) or a Service Bus / Event Hubs shared access key in a connection string.", ROTATE),
            Rule::DockerConfigAuth => ("docker-config-auth", "A registry password in a Docker config's auths (auth: base64 of user:password).", ROTATE),
            Rule::Jwt => ("jwt", "A signed JSON Web Token (a Kubernetes service-account token, an OIDC token).", "Revoke the token or the key that signed it if it is still valid, and remove it from the repository and its history."),
            Rule::BasicAuth => ("basic-auth", "An HTTP Authorization: Basic header with a password (base64 of user:password).", ROTATE),
            Rule::ConnectionString => ("connection-string", "A password in a connection string: a URL's user:password@, its ?password=, or key=value forms (Server=...;Password=..., host=... password=...).", ROTATE),
            Rule::CliPassword => ("cli-password", "A password on a command line: curl -u user:password, --password value, --password=value (also --token, --api-key, --secret).", ROTATE),
            Rule::EnvFile => ("env-file", "A value under a credential-like key in a .env, properties, INI, TOML or tfvars file (kustomize secretGenerator envs files too).", ROTATE),
            Rule::HighEntropy => ("high-entropy", "In YAML, a random-looking value (at least 8 characters, 3 bits of entropy per character) under a credential-like key (password, secret, token, apiKey, ...).", ROTATE),
        }
    }
}

/// One plaintext secret in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// 1-based line of the value (of the key for block values).
    pub line: u32,
    pub rule: Rule,
    /// The key the value sits under (a Secret's data key, a YAML key), or the token kind for a
    /// token outside YAML (`pem`, `url`, ...).
    pub key: String,
    /// `namespace/name` of the Kubernetes Secret holding it, for [`Rule::KubernetesSecret`]
    /// and SOPS-encrypted Secrets.
    pub object: Option<String>,
    pub fingerprint: String,
}

impl Finding {
    /// A finding of `rule` for `value` under `key`, in `object`. The key and the object are
    /// the repository's text and are shown as [`shown`] says.
    pub(super) fn new(
        line: u32,
        rule: Rule,
        key: &str,
        object: Option<&str>,
        value: &[u8],
        fingerprint: String,
    ) -> Finding {
        Finding {
            line,
            rule,
            key: shown(key, rule, value),
            object: object.map(|o| shown(o, rule, value)),
            fingerprint,
        }
    }
}

/// A key or an object's name as a report may show it. No part of a detected value is shown,
/// keys included: a key holding a token (`hvs.…: admin`, an `AKIA…:secret` line, a Secret's data
/// key) or the finding's own value (`user: user`) is shown as `<redacted: RULE>`, the rule
/// of the token it holds or of the finding. Control and bidirectional characters are escaped.
fn shown(s: &str, rule: Rule, value: &[u8]) -> String {
    if let Some(token) = rules::token_in(s) {
        return format!("<redacted: {}>", token.id());
    }
    let value = String::from_utf8_lossy(value);
    let value = value.trim();
    if !value.is_empty() && (s == value || (value.chars().count() >= 4 && s.contains(value))) {
        return format!("<redacted: {}>", rule.id());
    }
    text::escape_hidden(s)
}

/// The finding's identity: hex of SHA-256 over the rule, the key and SHA-256 of the value,
/// cut to 24 hex digits (96 bits). It does not depend on the path, the line or the commit, so
/// it stays the same when a file is moved, reformatted or the secret is copied to another
/// commit; it changes when the value changes (a rotated secret is a new finding). It holds no
/// part of the value; like any hash of a value, it lets someone who guesses a weak password
/// confirm the guess, so treat scan reports as internal.
pub fn fingerprint(rule: Rule, key: &str, value: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"kubectl-vault scan v1\n");
    h.update(rule.id().as_bytes());
    h.update(b"\n");
    h.update(key.as_bytes());
    h.update(b"\n");
    h.update(Sha256::digest(value));
    hex::encode(&h.finalize()[..12])
}

/// Whether `s` looks like a fingerprint (allow-list entries).
pub fn is_fingerprint(s: &str) -> bool {
    s.len() == 24
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// What one file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scanned {
    /// Sorted by line, one finding per line at most.
    pub findings: Vec<Finding>,
    /// Where its YAML could not be parsed (it was scanned as text all the same).
    pub unparsed: Option<Unparsed>,
}

impl Scanned {
    /// Nothing found and nothing to report.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty() && self.unparsed.is_none()
    }
}

/// Where and why a YAML file was not parsed (in full).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Unparsed {
    /// 1-based.
    pub line: u32,
    pub reason: String,
}

/// How a file's content is read, as its path says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Syntax {
    /// `.yaml`, `.yml`, `.json` (any case): the YAML rules and the text rules.
    Yaml,
    /// `KEY=value` files: `.env`, `.env.*`, `*.env`, `.envrc`, `*.properties`, `*.ini`,
    /// `*.toml`, `*.cfg`, `*.conf`, `*.tf`, `*.tfvars`, `*.hcl` (any case; not `*.example`,
    /// `*.sample`, `*.template`, `*.tpl`, `*.dist`): values under credential-like keys, and
    /// the text rules.
    Env,
    /// Anything else: the text rules (token formats, connection strings).
    Text,
}

impl Syntax {
    /// Every syntax.
    pub const ALL: [Syntax; 3] = [Syntax::Yaml, Syntax::Env, Syntax::Text];

    pub fn of(path: &str) -> Syntax {
        let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
        let ends = |xs: &[&str]| xs.iter().any(|x| name.ends_with(x));
        if ends(&[".yaml", ".yml", ".json"]) {
            Syntax::Yaml
        } else if ends(&[".example", ".sample", ".template", ".tpl", ".dist"]) {
            Syntax::Text
        } else if name == ".env"
            || name == ".envrc"
            || name.starts_with(".env.")
            || ends(&[
                ".env",
                ".properties",
                ".ini",
                ".toml",
                ".cfg",
                ".conf",
                ".tfvars",
                ".tf",
                ".hcl",
            ])
        {
            Syntax::Env
        } else {
            Syntax::Text
        }
    }

    /// Its index in [`Syntax::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The findings in one file's content, read as `syntax`. Every content is text: UTF-8, UTF-16
/// or UTF-32 with a BOM, anything else read as UTF-8 with what is not replaced (a Latin-1 byte,
/// a NUL, a binary file). Sorted by line, one finding per line at most.
pub fn scan_blob(syntax: Syntax, bytes: &[u8]) -> Scanned {
    let text = text::decode(bytes);
    let text = text.as_ref();
    let mut out = Vec::new();
    let mut unparsed = None;
    if syntax == Syntax::Yaml {
        unparsed = yaml::findings(text, &mut out);
    }
    rules::findings(text, syntax, &mut out);
    // One finding per line, the most specific rule (in `Rule`'s order): a Secret's data over
    // a token format, a token format over the entropy guess.
    out.sort_by(|a, b| (a.line, a.rule, &a.key).cmp(&(b.line, b.rule, &b.key)));
    out.dedup_by_key(|f| f.line);
    Scanned {
        findings: out,
        unparsed,
    }
}

#[cfg(test)]
mod tests;
