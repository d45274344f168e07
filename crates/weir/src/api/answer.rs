//! [`Answer`]s as JSON: columns, rows of values (numbers as numbers, addresses and times as text), and
//! where the answer came from.

use serde_json::{Value as J, json};
use weir_flow::time::Rfc3339;
use weir_query::plan::Answer;

use crate::ask::json_value;

/// The answer as the API's JSON object.
pub fn json(a: &Answer) -> J {
    let rows: Vec<J> = a
        .rows
        .iter()
        .map(|r| J::Array(r.iter().map(json_value).collect()))
        .collect();
    json!({
        "columns": a.columns,
        "rows": rows,
        "table": a.table,
        "range": {
            "from": Rfc3339(a.range.from).to_string(),
            "to": Rfc3339(a.range.to).to_string(),
        },
        "step": a.step,
        "warnings": a.warnings,
        "compare": a.compare.as_deref().map(json),
    })
}
