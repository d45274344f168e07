//! `GET /api/v1/fields`: the schema, for the UI's dimension pickers and filter completion.

use serde_json::{Value as J, json};
use weir_flow::{COLUMNS, Kind};

/// Every column: its name, kind, whether it is a dimension (a key for top-N and splits) and whether the
/// rollups keep it (questions about it are answered fastest), and what it holds.
pub fn fields() -> J {
    let fields: Vec<J> = COLUMNS
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "kind": kind(c.kind),
                "dimension": c.dimension,
                "rollup": c.rollup,
                "doc": c.doc.trim(),
            })
        })
        .collect();
    json!({ "fields": fields })
}

/// The kind's name as the API documents it.
fn kind(k: Kind) -> &'static str {
    match k {
        Kind::Time => "time",
        Kind::Ip => "ip",
        Kind::Mac => "mac",
        Kind::Str => "string",
        Kind::U32List => "list",
        Kind::Bytes => "bytes",
        Kind::U8 | Kind::U16 | Kind::U32 | Kind::U64 => "integer",
    }
}
