//! The tool's failures and the exit code each one maps to.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | ok |
//! | 1 | a check failed (verify found something not synced, commit refused a hand-edited file, ...) |
//! | 2 | usage or spec error: nothing was written or changed |
//! | 3 | environment: the cluster, Vault or Git is unreachable or forbids the call |
//! | 70 | a bug in kubectl-vault itself (e.g. a failing self-check of the rendered output) |

use std::fmt;

#[derive(Debug)]
pub enum Error {
    /// Bad flags or a bad spec. The message is already formatted for the user (diagnostics included).
    Usage(String),
    /// A check ran and failed; the report has already been printed or is in the message.
    CheckFailed(String),
    /// Something outside the tool is unreachable, failing or forbidding the call.
    Environment(String),
    /// A bug in the tool.
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
        Error::Environment(msg.into())
    }
    pub fn bug(msg: impl Into<String>) -> Self {
        Error::Bug(msg.into())
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::CheckFailed(_) => 1,
            Error::Usage(_) => 2,
            Error::Environment(_) => 3,
            Error::Bug(_) => 70,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) | Error::CheckFailed(m) | Error::Environment(m) => f.write_str(m),
            Error::Bug(m) => write!(
                f,
                "internal error (a bug in kubectl-vault, please report it): {m}"
            ),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
