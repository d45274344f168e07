//! `GET /api/v1/fields`: the schema, for the UI's dimension pickers and filter completion.

use serde_json::{Value as J, json};
use weir_flow::{COLUMNS, Kind};
use weir_query::plan::DERIVED;

/// Every column: its name, kind, whether it is a dimension (a key for top-N and splits), whether the
/// rollups keep it (questions about it are answered fastest), that filters can test it, and what it holds;
/// then the dimensions made from columns (networks), which only key and split.
pub fn fields() -> J {
    let columns = COLUMNS.iter().map(|c| {
        json!({
            "name": c.name,
            "kind": kind(c.kind),
            "dimension": c.dimension,
            "rollup": c.rollup,
            "filter": true,
            "doc": c.doc.trim(),
        })
    });
    let derived = DERIVED.iter().map(|(d, doc)| {
        json!({
            "name": d.name(),
            "kind": "network",
            "dimension": true,
            "rollup": false,
            "filter": false,
            "doc": doc,
        })
    });
    json!({ "fields": columns.chain(derived).collect::<Vec<_>>() })
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
