//! `vaultConfig.audit`: one audit device (the form earlier specs wrote) or a list of them.

use super::*;

/// `vaultConfig.audit`: one device (a map, as before) or a list of devices, each at its own
/// path. Vault refuses every request it cannot write to at least one device: a second device
/// (`stdout`, or a socket to a collector) keeps it serving when a file's volume is full.
#[derive(Debug, Clone)]
pub enum AuditConfig {
    /// `audit: {type, path, options}`.
    One(AuditSpec),
    /// `audit: [{type, path, options}, …]`.
    Many(Vec<AuditSpec>),
}

impl AuditConfig {
    /// Each device with the spec path of its fields (`vaultConfig.audit` or
    /// `vaultConfig.audit[i]`).
    pub fn devices(&self) -> Vec<(String, &AuditSpec)> {
        match self {
            AuditConfig::One(a) => vec![("vaultConfig.audit".to_string(), a)],
            AuditConfig::Many(list) => list
                .iter()
                .enumerate()
                .map(|(i, a)| (format!("vaultConfig.audit[{i}]"), a))
                .collect(),
        }
    }
}

impl<'de> Deserialize<'de> for AuditConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AuditConfig;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "an audit device (`{{type, path, options}}`) or a list of them"
                )
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                AuditSpec::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(AuditConfig::One)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Vec::<AuditSpec>::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(AuditConfig::Many)
            }
        }
        d.deserialize_any(V)
    }
}

/// One device (a map) or a list of them, as [`AuditConfig`]'s `Deserialize` reads them.
impl JsonSchema for AuditConfig {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AuditConfig".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let one = generator.subschema_for::<AuditSpec>();
        schemars::json_schema!({
            "description": "One audit device, or a list of devices each at its own path (a second device, e.g. `stdout` or a socket, keeps Vault serving when a file's volume is full).",
            "oneOf": [
                one,
                {"type": "array", "items": one, "minItems": 1},
            ]
        })
    }
}
