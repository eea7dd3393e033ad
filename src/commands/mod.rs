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
