//! The edges: I/O only, no decisions. Each module talks to one outside thing and hands plain
//! data to the core ([`crate::core`]).

pub mod fs;
pub mod git;
pub mod kube;
pub mod podproxy;
pub mod vault;
