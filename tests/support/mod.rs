//! Test support: the fake API server and cluster states shaped as VSO and Flux write them.
#![allow(dead_code)]

pub mod cluster_state;
pub mod fake_apiserver;
