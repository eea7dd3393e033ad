//! One module per subcommand, like the flux CLI's one file per command.

pub(crate) mod args;
pub(crate) mod commit;
pub(crate) mod completion;
pub(crate) mod configure;
pub(crate) mod generate;
pub(crate) mod import;
pub(crate) mod init;
pub(crate) mod operator;
pub(crate) mod scan;
pub(crate) mod schema;
pub(crate) mod verify;

use crate::core::duration;
use crate::error::Error;
use std::time::Duration;

/// A `--timeout`-style flag's value (Vault's duration grammar: 30s, 5m, 1h).
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    duration::Duration::parse(s, duration::Grammar::Vault)
        .map(duration::Duration::to_std)
        .ok_or_else(|| format!("`{s}` is not a duration (e.g. 30s, 5m, 1h)"))
}

/// The single-threaded runtime a command's kube and Vault calls run on.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::environment(format!("cannot start the async runtime: {e}")))
}
