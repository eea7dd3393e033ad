//! One module per subcommand, like the flux CLI's one file per command.

pub mod commit;
pub mod completion;
pub mod configure;
pub mod generate;
pub mod init;
pub mod operator;
pub mod schema;
pub mod verify;
