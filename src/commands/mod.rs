//! One module per subcommand, like the flux CLI's one file per command.

pub mod commit;
pub mod configure;
pub mod generate;
pub mod import;
pub mod init;
pub mod scan;
pub mod verify;
