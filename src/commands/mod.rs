//! One module per subcommand, like the flux CLI's one file per command.

pub mod commit;
pub mod completion;
pub mod configure;
pub mod generate;
pub mod import;
pub mod init;
pub mod operator;
pub mod scan;
pub mod schema;
pub mod verify;

use crate::core::duration;
use crate::error::Error;
use std::time::Duration;

/// A `--timeout`-style flag's value (Vault's duration grammar: 30s, 5m, 1h).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    duration::Duration::parse(s, duration::Grammar::Vault)
        .map(duration::Duration::to_std)
        .ok_or_else(|| format!("`{s}` is not a duration (e.g. 30s, 5m, 1h)"))
}

/// The single-threaded runtime a command's kube and Vault calls run on.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::environment(format!("cannot start the async runtime: {e}")))
}
