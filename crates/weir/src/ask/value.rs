//! Answer values as programs read them: exact numbers, RFC 3339 times, addresses as text. CSV, NDJSON
//! and the HTTP API all write them this way.

use weir_flow::ndjson::display_ip;
use weir_flow::time::Rfc3339;
use weir_query::backend::Value;

/// The value as JSON: numbers as numbers (a real that is not finite as `null`), everything else as
/// [`exact`] text, lists as arrays.
pub fn json_value(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::U64(n) => J::from(*n),
        Value::I64(n) => J::from(*n),
        Value::F64(x) => serde_json::Number::from_f64(*x).map_or(J::Null, J::Number),
        Value::Str(s) => J::from(s.as_str()),
        Value::Ip(_) | Value::Time(_) | Value::Bytes(_) => J::from(exact(v)),
        Value::List(items) => J::from(items.clone()),
    }
}

/// The value as text: exact numbers, RFC 3339 times, addresses as usually written, lists
/// space-separated, bytes in hex.
pub fn exact(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::U64(n) => n.to_string(),
        Value::I64(n) => n.to_string(),
        Value::F64(x) => x.to_string(),
        Value::Str(s) => s.clone(),
        Value::Ip(a) => display_ip(*a).to_string(),
        Value::Time(ns) => Rfc3339(*ns).to_string(),
        Value::List(items) => items.iter().map(u32::to_string).collect::<Vec<_>>().join(" "),
        Value::Bytes(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
    }
}
