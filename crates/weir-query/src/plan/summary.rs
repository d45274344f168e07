//! Summary: flows, bytes and packets (scaled by sampling) with the first and last time seen, in all and
//! per exporter. One statement grouped by exporter; the total is their sum.
//!
//! In a rollup, times are those of the rows' buckets, so first and last seen are as fine as the table.

use weir_flow::Field;

use super::error::QueryError;
use super::exec::Exec;
use super::measure::Side;
use super::query::Metric;
use crate::backend::Value;

const METRICS: [Metric; 3] = [Metric::Flows, Metric::Bytes, Metric::Packets];

/// One exporter's line (or the total's).
struct Line {
    addr: Value,
    name: Value,
    first: u64,
    last: u64,
    /// Per metric, per side.
    counts: Vec<[u64; 2]>,
}

/// Runs the summary; returns its columns and rows.
pub fn run(x: &mut Exec<'_>) -> Result<(Vec<String>, Vec<Vec<Value>>), QueryError> {
    let s = x.sql;
    let (addr, time) = (s.col(Field::exporter_addr), s.col(Field::time_received));
    let sums: Vec<String> = METRICS
        .iter()
        .zip(["f", "b", "p"])
        .map(|(&m, alias)| s.sums(&s.traffic(m), None, alias))
        .collect();
    let sql = format!(
        "SELECT {addr}, MAX({}) AS n, MIN({time}) AS t0, MAX({time}) AS t1, {} {} GROUP BY {addr} ORDER BY {addr}",
        s.col(Field::exporter_name),
        sums.join(", "),
        s.source(x.table, x.range, None)
    );
    let sides = Side::of(s.query.direction);
    let rows = x.run(sql, 4 + METRICS.len() * sides.len())?;
    let mut lines = Vec::with_capacity(rows.len() + 1);
    for row in &rows {
        let mut counts = Vec::with_capacity(METRICS.len());
        for m in 0..METRICS.len() {
            let mut per_side = [0; 2];
            for (i, slot) in per_side.iter_mut().enumerate().take(sides.len()) {
                *slot = x.count(&row[4 + m * sides.len() + i])?;
            }
            counts.push(per_side);
        }
        lines.push(Line {
            addr: row[0].clone(),
            name: row[1].clone(),
            first: x.time(&row[2])?,
            last: x.time(&row[3])?,
            counts,
        });
    }
    let total = Line {
        addr: Value::Null,
        name: Value::Null,
        first: lines.iter().map(|l| l.first).min().unwrap_or(0),
        last: lines.iter().map(|l| l.last).max().unwrap_or(0),
        counts: (0..METRICS.len())
            .map(|m| {
                let mut sum = [0u64; 2];
                for l in &lines {
                    sum[0] = sum[0].saturating_add(l.counts[m][0]);
                    sum[1] = sum[1].saturating_add(l.counts[m][1]);
                }
                sum
            })
            .collect(),
    };
    let mut columns = vec!["exporter_addr".to_owned(), "exporter_name".to_owned()];
    if s.query.direction.is_some() {
        columns.push("direction".into());
    }
    columns.extend(["flows", "bytes", "packets", "first_seen", "last_seen"].map(String::from));
    let mut out = Vec::with_capacity((lines.len() + 1) * sides.len());
    for line in std::iter::once(&total).chain(&lines) {
        for (i, side) in sides.iter().enumerate() {
            let mut row = vec![line.addr.clone(), line.name.clone()];
            row.extend(side.label().map(|l| Value::Str(l.into())));
            row.extend(line.counts.iter().map(|c| side.count(c[i])));
            let seen = |t: u64| {
                if lines.is_empty() {
                    Value::Null
                } else {
                    Value::Time(t)
                }
            };
            row.extend([seen(line.first), seen(line.last)]);
            out.push(row);
        }
    }
    Ok((columns, out))
}
