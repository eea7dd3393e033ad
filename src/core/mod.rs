//! The pure core: from the spec's text to the rendered tree, the Vault side, the Vault plan and
//! verify's verdicts. Nothing here reads or writes files, starts processes or talks to a network;
//! the edges ([`crate::edge`]) do that and hand the results in.

pub mod duration;
pub mod fleet;
pub mod fleet_report;
pub mod header;
pub mod kinds;
pub mod model;
pub mod operator;
pub mod render;
pub mod secrets_scan;
pub mod selfcheck;
pub mod spec;
pub mod tree;
pub mod vault_plan;
pub mod vault_side;
pub mod verify;
pub mod verify_consumers;
pub mod versions;
