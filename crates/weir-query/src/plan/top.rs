//! Top-N: the keys with the most traffic, and optionally an "Other" row for the rest.
//!
//! The engine ranks the keys ([`rank`](super::rank)). "Other" is everything else: by total or average, the
//! grand total less the top keys'; by maximum or percentile, the buckets' totals less the top keys' share
//! of each bucket (one grouped statement), zero-filled and aggregated like a key's.

use std::collections::HashMap;

use super::error::QueryError;
use super::exec::{Answered, Exec};
use super::measure::{self, Side, p95};
use super::query::{Agg, TopN, Unit};
use super::rank::{Ranked, for_keys, rank};
use super::step::points;
use crate::backend::Value;

/// Runs the top-N, for its own top keys or for `fixed` ones (those of the period it is compared with);
/// returns its columns, its rows and the keys it answered for.
pub fn run(x: &mut Exec<'_>, t: &TopN, fixed: Option<&[Vec<Value>]>) -> Result<Answered, QueryError> {
    let top = match fixed {
        Some(keys) => for_keys(x, &t.dims, t.by, t.agg, keys)?,
        None => rank(x, &t.dims, t.by, t.agg, t.limit)?,
    };
    // With fixed keys, the rest may hold traffic however few keys there are.
    let other = if t.other && (fixed.is_some() || top.len() == t.limit) {
        Some(other(x, t, &top)?)
    } else {
        t.other.then_some([0, 0])
    };
    let s = x.sql;
    let sides = Side::of(s.query.direction);
    let step = x.step.unwrap_or(1);
    let n = points(x.range, step);
    let step_ns = step * weir_flow::time::NANOS_PER_SEC;
    let value = |side: Side, v: u64| match (t.agg, t.unit) {
        (Agg::Total | Agg::Max | Agg::P95, Unit::Total) => side.count(v),
        (Agg::Total, Unit::Rate) => side.real(measure::rate(t.by, v, x.range.len_ns())),
        (Agg::Avg, Unit::Total) => side.real(v as f64 / n as f64),
        (Agg::Avg, Unit::Rate) => side.real(measure::rate(t.by, v, n * step_ns)),
        (Agg::Max | Agg::P95, Unit::Rate) => side.real(measure::rate(t.by, v, step_ns)),
    };
    let mut columns: Vec<String> = t.dims.iter().map(|d| d.name().to_owned()).collect();
    if s.query.direction.is_some() {
        columns.push("direction".into());
    }
    columns.push(measure::name(t.by, t.unit).into());
    let mut rows = Vec::with_capacity((top.len() + 1) * sides.len());
    let nulls = vec![Value::Null; t.dims.len()];
    let keyed = top.iter().map(|r| (&r.key, r.value));
    for (key, v) in keyed.chain(other.iter().map(|v| (&nulls, *v))) {
        for (i, &side) in sides.iter().enumerate() {
            let mut row = key.clone();
            row.extend(side.label().map(|l| Value::Str(l.into())));
            row.push(value(side, v[i]));
            rows.push(row);
        }
    }
    let keys = top.into_iter().map(|r| r.key).collect();
    Ok(Answered { columns, rows, keys })
}

/// The "Other" value on each side.
fn other(x: &mut Exec<'_>, t: &TopN, top: &[Ranked]) -> Result<[u64; 2], QueryError> {
    let s = x.sql;
    let sides = Side::of(s.query.direction);
    let traffic = s.traffic(t.by);
    let from = s.source(x.table, x.range, None);
    if matches!(t.agg, Agg::Total | Agg::Avg) {
        let rows = x.run(
            format!("SELECT {} {from}", s.sums(&traffic, None, "a")),
            sides.len(),
        )?;
        let mut out = [0; 2];
        for (i, o) in out.iter_mut().enumerate().take(sides.len()) {
            let all = match rows.first() {
                Some(row) => x.count(&row[i])?,
                None => 0,
            };
            let listed = top.iter().map(|r| r.value[i]).fold(0u64, u64::saturating_add);
            *o = all.saturating_sub(listed);
        }
        return Ok(out);
    }
    let in_top = top
        .iter()
        .map(|r| s.key_match(&t.dims, &r.key))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| x.bad("a key value of the wrong type"))?
        .join(" OR ");
    let step = x.step.unwrap_or(1);
    let sql = format!(
        "SELECT {} AS t, {}, {} {from} GROUP BY t",
        s.bucket(step),
        s.sums(&traffic, None, "v"),
        s.sums(&traffic, Some(&in_top), "w"),
    );
    let rows = x.run(sql, 1 + 2 * sides.len())?;
    let mut buckets: HashMap<u64, [u64; 2]> = HashMap::with_capacity(rows.len());
    for row in &rows {
        let mut rest = [0; 2];
        for (i, r) in rest.iter_mut().enumerate().take(sides.len()) {
            *r = x
                .count(&row[1 + i])?
                .saturating_sub(x.count(&row[1 + sides.len() + i])?);
        }
        buckets.insert(x.time(&row[0])?, rest);
    }
    let n = points(x.range, step);
    let mut out = [0; 2];
    for (i, o) in out.iter_mut().enumerate().take(sides.len()) {
        let values: Vec<u64> = buckets.values().map(|v| v[i]).collect();
        *o = match t.agg {
            Agg::Max => values.into_iter().max().unwrap_or(0),
            _ => p95(values, n),
        };
    }
    Ok(out)
}
