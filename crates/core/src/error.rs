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

/// The underlying failure an error came from (an I/O, Git, Kubernetes or HTTP error), kept
/// for [`std::error::Error::source`] and for classifying by type rather than by message.
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags or a bad spec. The message is already formatted for the user (diagnostics included).
    #[error("{0}")]
    Usage(String),
    /// A check ran and failed, with a message to print (e.g. a refused hand-edited file).
    #[error("{0}")]
    CheckFailed(String),
    /// Something outside the tool is unreachable, failing or forbidding the call.
    #[error("{message}")]
    Environment {
        message: String,
        #[source]
        source: Option<Source>,
    },
    /// A bug in the tool.
    #[error("internal error (a bug in kubectl-vault, please report it): {0}")]
    Bug(String),
}

impl Error {
    pub fn usage(msg: impl Into<String>) -> Self {
        Error::Usage(msg.into())
    }
    pub fn check_failed(msg: impl Into<String>) -> Self {
        Error::CheckFailed(msg.into())
    }
    pub fn environment(msg: impl Into<String>) -> Self {
        Error::Environment {
            message: msg.into(),
            source: None,
        }
    }
    /// An environment error that keeps the failure it came from (the message already says
    /// what the user needs; the source is for callers that classify).
    pub fn environment_from(
        msg: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Environment {
            message: msg.into(),
            source: Some(Box::new(source)),
        }
    }
    pub fn bug(msg: impl Into<String>) -> Self {
        Error::Bug(msg.into())
    }

    pub fn exit(&self) -> Exit {
        match self {
            Error::CheckFailed(_) => Exit::CheckFailed,
            Error::Usage(_) => Exit::Usage,
            Error::Environment { .. } => Exit::Environment,
            Error::Bug(_) => Exit::Bug,
        }
    }

    pub fn exit_code(&self) -> u8 {
        self.exit().code()
    }

    /// The error as JSON, for `-o json` (printed on stdout so a CI job parsing stdout sees
    /// why the run failed): `{"ok": false, "error": {"exitCode", "kind", "message", "hint"}}`.
    pub fn to_json(&self) -> serde_json::Value {
        let kind = match self {
            Error::Usage(_) => "usage",
            Error::CheckFailed(_) => "checkFailed",
            Error::Environment { .. } => "environment",
            Error::Bug(_) => "internal",
        };
        // Diagnostics may carry colour for the terminal; JSON carries none.
        let text = strip_ansi(&self.to_string());
        let (message, hint) = match text.split_once("\nhint: ") {
            Some((m, h)) => (m.trim_end(), Some(h.trim_end())),
            None => (text.trim_end(), None),
        };
        serde_json::json!({
            "ok": false,
            "error": {"exitCode": self.exit_code(), "kind": kind, "message": message, "hint": hint},
        })
    }

    /// True when the error is, at its root, a closed pipe (the reader went away).
    pub fn is_broken_pipe(&self) -> bool {
        let mut cause = std::error::Error::source(self);
        while let Some(e) = cause {
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return true;
            }
            cause = e.source();
        }
        false
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `text` without ANSI colour sequences (`ESC [ … m`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
