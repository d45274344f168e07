//! Series: traffic per time bucket, in all or split by key.
//!
//! Split, the engine first ranks keys by their total over the range; then one statement sums each bucket
//! by slot, where a `CASE` numbers the top keys 1 to N and puts every other flow in slot 0, "Other" (for a
//! key of one dimension, or of narrow integers packed in one, a `CASE key WHEN …` the engine looks up,
//! [`Sql::slot_lookup`]). Every bucket of the range is in the answer, with zero where nothing was seen,
//! for every key (and for "Other" when anything fell there).

use std::collections::HashMap;

use weir_flow::time::NANOS_PER_SEC;

use super::dim::Dim;
use super::error::QueryError;
use super::exec::{Answered, Exec};
use super::measure::{self, Side};
use super::pack::Packed;
use super::query::{Agg, Series, Unit};
use super::rank::rank;
use super::sql::Sql;
use crate::backend::Value;

/// Runs the series, split by its own top keys or by `fixed` ones (those of the period it is compared
/// with); returns its columns, its rows and the keys it is split by.
pub fn run(x: &mut Exec<'_>, q: &Series, fixed: Option<&[Vec<Value>]>) -> Result<Answered, QueryError> {
    let s = x.sql;
    let step = x.step.unwrap_or(1);
    let step_ns = step * NANOS_PER_SEC;
    let sides = Side::of(s.query.direction);
    let traffic = s.traffic(q.by);
    let from = s.source(x.table, x.range, None);
    let from_named = s.derived_source(&q.split, &from);
    let keys: Vec<Vec<Value>> = if q.split.is_empty() {
        Vec::new()
    } else if let Some(keys) = fixed {
        keys.to_vec()
    } else {
        rank(x, &q.split, q.by, Agg::Total, q.limit)?
            .into_iter()
            .map(|r| r.key)
            .collect()
    };
    let sql = if q.split.is_empty() {
        format!(
            "SELECT {} AS t, 0 AS s, {} {from} GROUP BY t",
            s.bucket(step),
            s.sums(&traffic, None, "v")
        )
    } else if keys.is_empty() {
        return Ok(Answered {
            columns: columns(x, q),
            rows: Vec::new(),
            keys,
        });
    } else {
        let slot = match q.split.as_slice() {
            &[dim] => s.slot_lookup(dim, &keys),
            dims => match Packed::of(dims) {
                Some(p) => p.slot_lookup(&s, &keys),
                None => slot_tests(s, dims, &keys),
            },
        }
        .ok_or_else(|| x.bad("a key value of the wrong type"))?;
        format!(
            "SELECT {} AS t, {slot} AS s, {} {from_named} GROUP BY t, s",
            s.bucket(step),
            s.sums(&traffic, None, "v")
        )
    };
    let rows = x.run(sql, 2 + sides.len())?;
    // (bucket, slot) -> per side.
    let mut cells: HashMap<(u64, usize), [u64; 2]> = HashMap::with_capacity(rows.len());
    let mut other_seen = false;
    for row in &rows {
        let t = x.time(&row[0])?;
        let slot = x.count(&row[1])? as usize;
        if slot > keys.len() {
            return Err(x.bad(format!("slot {slot} of {} keys", keys.len())));
        }
        let mut v = [0; 2];
        for (i, c) in v.iter_mut().enumerate().take(sides.len()) {
            *c = x.count(&row[2 + i])?;
        }
        other_seen |= slot == 0 && v.iter().any(|&c| c > 0);
        cells.insert((t, slot), v);
    }
    // Slots in answer order: the keys by rank, then "Other" (or, unsplit, the one series).
    let mut slots: Vec<(usize, Vec<Value>)> = keys
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, k)| (i + 1, k))
        .collect();
    if q.split.is_empty() || other_seen {
        slots.push((0, vec![Value::Null; q.split.len()]));
    }
    let mut out = Vec::new();
    let mut t = x.range.from;
    while t < x.range.to {
        for (slot, key) in &slots {
            let v = cells.get(&(t, *slot)).copied().unwrap_or([0, 0]);
            for (i, &side) in sides.iter().enumerate() {
                let mut row = Vec::with_capacity(key.len() + 3);
                row.push(Value::Time(t));
                row.extend(key.iter().cloned());
                row.extend(side.label().map(|l| Value::Str(l.into())));
                row.push(match q.unit {
                    Unit::Total => side.count(v[i]),
                    Unit::Rate => side.real(measure::rate(q.by, v[i], step_ns)),
                });
                out.push(row);
            }
        }
        t += step_ns;
    }
    Ok(Answered {
        columns: columns(x, q),
        rows: out,
        keys,
    })
}

fn columns(x: &Exec<'_>, q: &Series) -> Vec<String> {
    let mut columns = vec!["time_received".to_owned()];
    columns.extend(q.split.iter().map(|d| d.name().to_owned()));
    if x.sql.query.direction.is_some() {
        columns.push("direction".into());
    }
    columns.push(measure::name(q.by, q.unit).into());
    columns
}

/// `CASE WHEN <key 1> THEN 1 … ELSE 0 END`: the slot of a row's key of several dimensions among `keys`.
fn slot_tests(s: Sql<'_>, dims: &[Dim], keys: &[Vec<Value>]) -> Option<String> {
    let mut slot = String::from("CASE");
    for (i, key) in keys.iter().enumerate() {
        let m = s.key_match_named(dims, key)?;
        slot.push_str(&format!(" WHEN {m} THEN {}", i + 1));
    }
    slot.push_str(" ELSE 0 END");
    Some(slot)
}
