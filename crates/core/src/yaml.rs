//! The one door to the YAML (de)serializer. `serde_yaml` is deprecated upstream; every use in
//! the crate goes through these names, so swapping it (for `serde_yaml_ng` or `serde-saphyr`)
//! is a change to this file alone. (Event-level parsing with positions — the spec's located
//! diagnostics and scan — uses `yaml-rust2`, a maintained crate.)

pub use serde_yaml::{from_str, to_string, Deserializer, Error, Location, Mapping, Value};
