//! Sizes: how packets are distributed by size, in the buckets of Cisco's `show ip cache flow`.
//!
//! A flow's packets are all counted at its average size (bytes / packets, truncated), as the flow
//! records are all there is; each flow weighs its packets scaled by sampling. The engine groups by that
//! size (capped just past the last bucket, so at most a few thousand groups); the buckets are filled here
//! from the one list of edges the probe uses too.

use weir_flow::Field;
use weir_flow::codes::packet_size::BUCKETS;

use super::error::QueryError;
use super::exec::Exec;
use super::query::Metric;
use crate::backend::Value;

/// Runs the distribution; returns its columns and rows, one per bucket.
pub fn run(x: &mut Exec<'_>) -> Result<(Vec<String>, Vec<Vec<Value>>), QueryError> {
    let s = x.sql;
    let (bytes, packets) = (s.col(Field::bytes), s.col(Field::packets));
    let mut size = String::new();
    s.d.int_quotient(&mut size, &bytes, &packets);
    let mut past_last = String::new();
    s.d.unsigned(&mut past_last, u64::from(BUCKETS[BUCKETS.len() - 1]) + 1);
    let sql = format!(
        "SELECT CASE WHEN {size} > {past_last} THEN {past_last} ELSE {size} END AS s, {} {} GROUP BY s",
        s.sums(&s.traffic(Metric::Packets), None, "v"),
        s.source(x.table, x.range, Some(&format!("{packets} > 0"))),
    );
    let rows = x.run(sql, 2)?;
    let mut counts = [0u64; BUCKETS.len()];
    for row in &rows {
        let size = x.count(&row[0])?;
        let i = BUCKETS
            .partition_point(|&edge| u64::from(edge) < size)
            .min(BUCKETS.len() - 1);
        counts[i] = counts[i].saturating_add(x.count(&row[1])?);
    }
    let total = counts.iter().fold(0u64, |a, &b| a.saturating_add(b));
    let columns = ["packet_size_max", "packets", "fraction"]
        .map(String::from)
        .to_vec();
    let rows = BUCKETS
        .iter()
        .zip(counts)
        .map(|(&edge, n)| {
            let fraction = if total == 0 { 0.0 } else { n as f64 / total as f64 };
            vec![Value::U64(edge.into()), Value::U64(n), Value::F64(fraction)]
        })
        .collect();
    Ok((columns, rows))
}
