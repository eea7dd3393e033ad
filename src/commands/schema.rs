//! `kubectl vault schema`: the spec's JSON Schema (both kinds), for editors and CI.

use crate::error::Error;
use crate::term::Term;
use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct SchemaArgs {}

/// The schema as printed: pretty JSON, one trailing newline (the shipped file is this output).
pub(crate) fn text() -> String {
    let schema = crate::core::spec::schema::json_schema();
    serde_json::to_string_pretty(&schema).expect("a schema serializes") + "\n"
}

pub(crate) fn run(_args: SchemaArgs, term: &Term) -> Result<(), Error> {
    term.out(text())
}
