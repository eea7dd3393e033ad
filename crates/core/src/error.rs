//! How a run ends ([`Exit`]) and the tool's failures ([`Error`]), each mapped to one exit status.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | ok |
//! | 1 | a check failed (verify found something not synced, commit refused a hand-edited file, ...) |
//! | 2 | usage or spec error: nothing was written or changed |
//! | 3 | environment: the cluster, Vault or Git is unreachable or forbids the call |
//! | 70 | a bug in kubectl-vault itself (e.g. a failing self-check of the rendered output) |
//!
//! A check that ran and failed, its report already printed, is not an error: the command
//! returns `Ok(Exit::CheckFailed)` and nothing more is written.
//!
//! An [`Error`] is data: its exit status, a message, an optional hint, the spec's diagnostics
//! when the spec is at fault, and the failure it came from. It is rendered once, at the exit
//! boundary, where the colour choice is known: as text (`message`, then `hint: …`) or as JSON.

use crate::spec::{SpecErrors, Style};

/// The exit status of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Ok = 0,
    CheckFailed = 1,
    Usage = 2,
    Environment = 3,
    Bug = 70,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// The underlying failure an error came from (an I/O, Git, Kubernetes or HTTP error) with its
/// own causes, kept for [`std::error::Error::source`] and for classifying by type rather than
/// by message.
pub type Source = anyhow::Error;

#[derive(Debug)]
pub struct Error {
    exit: Exit,
    message: String,
    hint: Option<String>,
    /// The spec's diagnostics (a spec error): rendered with their snippets, in colour on a
    /// terminal, by whoever prints the error.
    spec: Option<Box<SpecErrors>>,
    source: Option<Source>,
}

/// What stands between a message and its hint when an error is shown as text.
const HINT: &str = "\nhint: ";

impl Error {
    /// An error with `exit` and `message` (as it is: a hint is given with [`Error::with_hint`]).
    fn new(exit: Exit, message: impl Into<String>) -> Self {
        Error {
            exit,
            message: message.into(),
            hint: None,
            spec: None,
            source: None,
        }
    }

    /// Bad flags or a bad spec (exit 2): nothing was written or changed.
    pub fn usage(msg: impl Into<String>) -> Self {
        Error::new(Exit::Usage, msg)
    }
    /// A check ran and failed, with a message to print (e.g. a refused hand-edited file).
    pub fn check_failed(msg: impl Into<String>) -> Self {
        Error::new(Exit::CheckFailed, msg)
    }
    /// Something outside the tool is unreachable, failing or forbidding the call (exit 3).
    pub fn environment(msg: impl Into<String>) -> Self {
        Error::new(Exit::Environment, msg)
    }
    /// An environment error that keeps the failure it came from (the message already says
    /// what the user needs; the source is for callers that classify).
    pub fn environment_from(
        msg: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::environment(msg).with_source(source)
    }
    /// A bug in the tool (exit 70).
    pub fn bug(msg: impl Into<String>) -> Self {
        Error::new(Exit::Bug, msg)
    }
    /// The spec is not valid (exit 2): its diagnostics, with the summary line as the message.
    pub fn spec(errors: SpecErrors) -> Self {
        let mut e = Error::usage(errors.summary());
        e.spec = Some(Box::new(errors));
        e
    }

    /// The same error with `hint` (what to do about it).
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    /// The same error, keeping the failure it came from.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(anyhow::Error::new(source));
        self
    }

    pub fn exit(&self) -> Exit {
        self.exit
    }
    pub fn exit_code(&self) -> u8 {
        self.exit.code()
    }
    /// What went wrong, one or more lines, no hint.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// What to do about it.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
    /// The spec's diagnostics, when the spec is at fault.
    pub fn spec_errors(&self) -> Option<&SpecErrors> {
        self.spec.as_deref()
    }

    /// The error as the terminal shows it: the spec's diagnostics (in `style`) or the
    /// message, then the hint.
    pub fn render(&self, style: Style) -> String {
        if let Some(spec) = &self.spec {
            return spec.render_as(style);
        }
        let mut out = match self.exit {
            Exit::Bug => format!(
                "internal error (a bug in kubectl-vault, please report it): {}",
                self.message
            ),
            _ => self.message.clone(),
        };
        if let Some(hint) = &self.hint {
            out.push_str(HINT);
            out.push_str(hint);
        }
        out
    }

    /// The error as JSON, for `-o json` (printed on stdout so a CI job parsing stdout sees
    /// why the run failed): `{"ok": false, "error": {"exitCode", "kind", "message", "hint"}}`,
    /// plus `diagnostics` (file, line, column, severity, message, hint) for a spec error.
    pub fn to_json(&self) -> serde_json::Value {
        let kind = match self.exit {
            Exit::Usage => "usage",
            Exit::CheckFailed => "checkFailed",
            Exit::Environment => "environment",
            Exit::Bug | Exit::Ok => "internal",
        };
        let message = match &self.spec {
            // One line per diagnostic (and its hint), then the summary line.
            Some(spec) => spec.render_as(Style::Short).trim_end().to_string(),
            None => self.message.trim_end().to_string(),
        };
        let mut error = serde_json::json!({
            "exitCode": self.exit_code(),
            "kind": kind,
            "message": message,
        });
        if let Some(hint) = &self.hint {
            error["hint"] = serde_json::Value::String(hint.trim_end().to_string());
        }
        serde_json::json!({"ok": false, "error": error})
    }

    /// True when the error is, at its root, a closed pipe (the reader went away).
    pub fn is_broken_pipe(&self) -> bool {
        self.source.as_ref().is_some_and(|source| {
            source.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            })
        })
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(Style::Human { color: false }))
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_and_hint_are_kept_apart_and_rendered_together() {
        let e = Error::usage("VAULT_ADDR is not set").with_hint("export VAULT_ADDR=…");
        assert_eq!(e.message(), "VAULT_ADDR is not set");
        assert_eq!(e.hint(), Some("export VAULT_ADDR=…"));
        assert_eq!(
            e.to_string(),
            "VAULT_ADDR is not set\nhint: export VAULT_ADDR=…"
        );
        let e = Error::environment("no route").with_hint("check the address");
        assert_eq!(e.to_string(), "no route\nhint: check the address");
        assert_eq!(e.exit_code(), 3);
        // A message is kept whole, whatever it holds (outside text may say `hint:` too).
        let e = Error::environment("Vault said: x\nhint: y");
        assert_eq!(e.message(), "Vault said: x\nhint: y");
        assert_eq!(e.hint(), None);
    }

    #[test]
    fn json_has_a_hint_only_when_there_is_one() {
        let v = Error::check_failed("2 secrets not synced").to_json();
        assert_eq!(v["ok"], false);
        assert_eq!(v["error"]["exitCode"], 1);
        assert_eq!(v["error"]["kind"], "checkFailed");
        assert!(v["error"].get("hint").is_none(), "{v}");
        let v = Error::bug("the tree failed its self-check").to_json();
        assert_eq!(v["error"]["kind"], "internal");
        assert_eq!(v["error"]["exitCode"], 70);
    }

    #[test]
    fn a_bug_says_so() {
        assert_eq!(
            Error::bug("x").to_string(),
            "internal error (a bug in kubectl-vault, please report it): x"
        );
    }
}

#[cfg(test)]
mod source_tests {
    use super::*;

    #[test]
    fn the_source_chain_is_kept_and_a_closed_pipe_is_found_in_it() {
        let io = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "reader went away");
        let e = Error::environment_from("cannot write to stdout", io);
        assert!(e.is_broken_pipe());
        let source = std::error::Error::source(&e).expect("kept");
        assert_eq!(source.to_string(), "reader went away");
        assert!(!Error::environment("no route").is_broken_pipe());
    }
}
