//! Ranking keys by their traffic, in the engine: only the top keys come back.
//!
//! By total, one grouped sum. By maximum or 95th percentile over buckets, the engine first sums each
//! key's traffic per bucket; the maximum is then a `MAX`, and the percentile the bucket ranked
//! [`p95_rank`] from the top by `ROW_NUMBER()`: a key with fewer busy buckets than that rank has a
//! percentile of zero, which is what zero-filling its empty buckets would give. An average over buckets
//! ranks as the total does (it is the total divided by the number of buckets).
//!
//! With a direction, keys rank by the sum of both directions' values.
//!
//! A comparison with an earlier period answers for the keys of the period asked about ([`for_keys`]): the
//! same statement, narrowed to those keys, so that each row can be set beside its earlier value.
//!
//! Grouping every key of a busy field (a day's or an hour's addresses: hundreds of thousands) is most of a
//! top-N's time. When the backend keeps lists of each file's heaviest keys ([`HeavyKeys`]), a top-N by
//! total of such keys (addresses, subnet pairs) first ranks only those candidates: one pass that tests each
//! row against sets instead of grouping it. The answer stands when its last key has more traffic than any
//! other key can have; otherwise (a narrow filter, a field without lists) every key is ranked, as without
//! lists.

use super::dim::Dim;
use super::error::QueryError;
use super::exec::Exec;
use super::measure::{Side, p95_rank};
use super::pack::Packed;
use super::query::{Agg, Direction, Metric};
use super::step::points;
use crate::backend::{HeavyKeys, Value};

/// A key and its value per side (volumes, before any rate or average).
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// One value per dimension.
    pub key: Vec<Value>,
    /// The value on each side (only the first is used without a direction).
    pub value: [u64; 2],
}

/// The `limit` keys of `dims` with the most `metric` by `agg`, largest first (ties by key, ascending).
pub fn rank(
    x: &mut Exec<'_>,
    dims: &[Dim],
    metric: Metric,
    agg: Agg,
    limit: usize,
) -> Result<Vec<Ranked>, QueryError> {
    if let Some(top) = among_heavy(x, dims, metric, agg, limit)? {
        return Ok(top);
    }
    ranked(x, dims, metric, agg, limit, None)
}

/// [`rank`] among the backend's heavy keys, when the top keys are sure to be among them; `None` when
/// that does not apply or the answer cannot be trusted.
fn among_heavy(
    x: &mut Exec<'_>,
    dims: &[Dim],
    metric: Metric,
    agg: Agg,
    limit: usize,
) -> Result<Option<Vec<Ranked>>, QueryError> {
    // A total (or an average, which ranks as the total).
    if !matches!(agg, Agg::Total | Agg::Avg) || limit == 0 {
        return Ok(None);
    }
    let Some(HeavyKeys { keys, bound }) = x.heavy_keys(dims, metric) else {
        return Ok(None);
    };
    if keys.is_empty() {
        return Ok(None);
    }
    // Rows whose every value is one of the candidates' (a superset of the candidates' rows, for keys of
    // several dimensions: every key in it is ranked exactly).
    let mut only = Vec::with_capacity(dims.len());
    for (i, &dim) in dims.iter().enumerate() {
        let mut literals = keys
            .iter()
            .map(|k| x.sql.literal(dim, k.get(i)?))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| x.bad("a heavy key of the wrong type"))?;
        literals.sort_unstable();
        literals.dedup();
        only.push(format!("{} IN ({})", x.sql.dim(dim), literals.join(", ")));
    }
    let only = only.join(" AND ");
    let top = ranked(x, dims, metric, agg, limit, Some(&only))?;
    // In and out of one interface, a flow that comes back out of it counts on both sides.
    let bound = match x.sql.query.direction {
        Some(Direction::Interface { .. }) => bound.saturating_mul(2),
        _ => bound,
    };
    let last = |r: &Ranked| r.value[0].saturating_add(r.value[1]);
    let sure = bound == 0 || (top.len() == limit && top.last().is_some_and(|r| last(r) > bound));
    Ok(sure.then_some(top))
}

/// The values of `keys` (of `dims`), in their order; a key without traffic has zero.
pub fn for_keys(
    x: &mut Exec<'_>,
    dims: &[Dim],
    metric: Metric,
    agg: Agg,
    keys: &[Vec<Value>],
) -> Result<Vec<Ranked>, QueryError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let only = keys
        .iter()
        .map(|k| x.sql.key_match(dims, k))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| x.bad("a key value of the wrong type"))?
        .join(" OR ");
    let found = ranked(x, dims, metric, agg, keys.len(), Some(&format!("({only})")))?;
    Ok(keys
        .iter()
        .map(|key| Ranked {
            value: found.iter().find(|r| &r.key == key).map_or([0, 0], |r| r.value),
            key: key.clone(),
        })
        .collect())
}

/// [`rank`] over the rows `only` selects.
fn ranked(
    x: &mut Exec<'_>,
    dims: &[Dim],
    metric: Metric,
    agg: Agg,
    limit: usize,
    only: Option<&str>,
) -> Result<Vec<Ranked>, QueryError> {
    let s = x.sql;
    let packed = Packed::of(dims);
    let (select, keys) = match &packed {
        Some(p) => (p.select(&s), p.key(&s)),
        None => (s.key_select(dims), s.key_names(dims)),
    };
    let traffic = s.traffic(metric);
    let from = s.source(x.table, x.range, only);
    let order = format!("ORDER BY {} DESC NULLS LAST, {keys} LIMIT {limit}", s.score("a"));
    let step = x.step.unwrap_or(1);
    let per_bucket = || {
        format!(
            "SELECT {select}, {} AS t, {} {from} GROUP BY {keys}, t",
            s.bucket(step),
            s.sums(&traffic, None, "v")
        )
    };
    let sql = match agg {
        Agg::Total | Agg::Avg => {
            format!(
                "SELECT {select}, {} {from} GROUP BY {keys} {order}",
                s.sums(&traffic, None, "a")
            )
        }
        Agg::Max => format!(
            "SELECT {keys}, {} FROM ({}) AS b GROUP BY {keys} {order}",
            s.per_side("a", |side| format!("MAX({})", s.alias("v", side))),
            per_bucket()
        ),
        Agg::P95 => {
            let rank = p95_rank(points(x.range, step));
            let numbered = s.per_side("r", |side| {
                format!(
                    "ROW_NUMBER() OVER (PARTITION BY {keys} ORDER BY {} DESC NULLS LAST)",
                    s.alias("v", side)
                )
            });
            let values = s.aliases("v");
            format!(
                "SELECT {keys}, {} FROM (SELECT {keys}, {values}, {numbered} FROM ({}) AS b) AS w GROUP BY {keys} {order}",
                s.per_side("a", |side| format!(
                    "MAX(CASE WHEN {} = {rank} THEN {} END)",
                    s.alias("r", side),
                    s.alias("v", side)
                )),
                per_bucket()
            )
        }
    };
    let sql = match &packed {
        Some(p) => {
            let order = format!("ORDER BY {} DESC NULLS LAST, {}", s.score("a"), s.key_names(dims));
            p.unpack(&s, &sql, &s.aliases("a"), &order)
        }
        None => sql,
    };
    let sides = Side::of(s.query.direction).len();
    let rows = x.run(sql, dims.len() + sides)?;
    rows.into_iter()
        .map(|row| {
            let mut value = [0; 2];
            for (i, v) in value.iter_mut().enumerate().take(sides) {
                *v = x.count(&row[dims.len() + i])?;
            }
            let mut key = row;
            key.truncate(dims.len());
            if key.contains(&Value::Null) {
                return Err(x.bad("a key with a null value"));
            }
            Ok(Ranked { key, value })
        })
        .collect()
}
