//! Fuzz bodies, kept in the crate so that normal builds compile them and the test suite runs them over the
//! committed corpus (`fuzz/fuzz_targets/filter.rs` calls these).

use weir_flow::{FlowBatch, FlowRecord};

use crate::filter::{self, ClickHouse, DataFusion};

/// Parses arbitrary text as a filter. Checks the parser's promises: no panic; a filter that parses prints
/// in a form that parses back to the same expression, compiles to SQL in both dialects, and evaluates.
pub fn filter(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(f) = filter::parse(&text) else { return };
    let printed = f.to_string();
    let again = filter::parse(&printed).unwrap_or_else(|e| panic!("`{printed}` does not parse back: {e}"));
    assert_eq!(again.expr(), f.expr(), "`{text}` printed as `{printed}`");
    assert!(!f.to_sql(&DataFusion).is_empty());
    assert!(!f.to_sql(&ClickHouse).is_empty());
    let batch = FlowBatch::new();
    let _ = f.matches(&FlowRecord::default(), &batch);
}
