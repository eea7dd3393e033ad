//! The edges: I/O only, no decisions. Each module talks to one outside thing and hands plain
//! data to the core ([`crate::core`]).

pub(crate) mod fs;
pub(crate) mod git;
pub mod kube;
pub(crate) mod podproxy;
pub(crate) mod vault;
