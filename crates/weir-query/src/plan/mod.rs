//! The query planner: questions about stored flows turned into SQL for a [`Backend`], and the rows it
//! returns turned into answers.
//!
//! A [`Query`] is a time range, an optional [filter](crate::filter), and one [`Kind`] of question:
//! a [summary](Kind::Summary), a [top-N](TopN), a [series](Series), a [listing of flows](Flows) or the
//! [packet size distribution](Kind::Sizes). Traffic is reported scaled by each flow's sampling rate.
//!
//! [`run`] checks the query ([`QueryError`] says what is wrong before any store is asked), chooses the
//! [`Table`] that answers (the coarsest rollup that gives the raw table's answer, see [`choose`]), writes
//! the SQL in the backend's [`Dialect`](crate::filter::Dialect) and runs it. Work that is cheap only
//! on the small results — zero-filling empty buckets, "Other" rows, rates, signs of directions — is done
//! here, so every backend answers alike; everything that reads many rows (grouping, ranking, percentiles
//! over buckets) is done in the engine, so only the top keys come back.

mod answer;
mod choose;
mod dim;
mod error;
mod exec;
mod flows;
mod measure;
mod needs;
mod pack;
mod query;
mod rank;
mod series;
mod sizes;
mod sql;
mod step;
mod summary;
mod table;
mod top;
mod validate;

use std::time::{SystemTime, UNIX_EPOCH};

use weir_flow::time::NANOS_PER_SEC;

pub use answer::Answer;
pub use choose::{Buckets, Choice, choose};
pub use dim::{
    DEFAULT_V4_PREFIX, DEFAULT_V6_PREFIX, DERIVED, Dim, NET_KEY_LEN, dim, net, net_from_key, net_key,
    parse_net,
};
pub use error::QueryError;
pub use query::{Agg, Direction, Flows, Kind, Metric, Order, Query, Series, TopN, Unit, UnknownWord};
pub use step::{MAX_POINTS, auto_step};
pub use table::{FieldSet, HOUR_RETENTION, MINUTE_RETENTION, RAW_RETENTION, Table};
pub use validate::{MAX_DIMS, MAX_FLOWS, MAX_OFFSET, MAX_SPLIT, MAX_TOP, field, validate};

use crate::backend::{Backend, Value};
use exec::{Answered, Exec};
use sql::Sql;

/// Answers `query` from `tables` (which must include the raw table) through `backend`.
pub fn run(backend: &dyn Backend, tables: &[Table], query: &Query) -> Result<Answer, QueryError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    run_at(backend, tables, query, now)
}

/// [`run`] as if it were `now` (ns since the epoch), which decides what each table still keeps.
pub fn run_at(
    backend: &dyn Backend,
    tables: &[Table],
    query: &Query,
    now: u64,
) -> Result<Answer, QueryError> {
    validate(query)?;
    let (mut answer, keys) = answer(backend, tables, query, now, None)?;
    if let Some(offset) = query.compare {
        let mut earlier = query.clone();
        earlier.range = query.range.earlier(offset.saturating_mul(NANOS_PER_SEC));
        earlier.compare = None;
        let (compare, _) = self::answer(backend, tables, &earlier, now, Some(&keys))?;
        answer.compare = Some(Box::new(compare));
    }
    Ok(answer)
}

/// Answers one checked query, without its comparison; a top-N or split series answers for `keys` when
/// given (the keys of the period it is compared with) instead of its own top ones, which it returns.
fn answer(
    backend: &dyn Backend,
    tables: &[Table],
    query: &Query,
    now: u64,
    keys: Option<&[Vec<Value>]>,
) -> Result<(Answer, Vec<Vec<Value>>), QueryError> {
    let buckets = match &query.kind {
        Kind::TopN(t) if t.agg != Agg::Total => t.step.map_or(Buckets::Auto, Buckets::Fixed),
        Kind::Series(s) => s.step.map_or(Buckets::Auto, Buckets::Fixed),
        _ => Buckets::None,
    };
    let choice = choose(tables, query, buckets, now)?;
    let sql = Sql {
        d: backend.dialect(),
        query,
    };
    let mut x = Exec::new(backend, choice, sql);
    let answered = match &query.kind {
        Kind::Summary => Answered::unkeyed(summary::run(&mut x)?),
        Kind::TopN(t) => top::run(&mut x, t, keys)?,
        Kind::Series(s) => series::run(&mut x, s, keys)?,
        Kind::Flows(f) => Answered::unkeyed(flows::run(&mut x, f)?),
        Kind::Sizes => Answered::unkeyed(sizes::run(&mut x)?),
    };
    Ok((x.answer(answered.columns, answered.rows), answered.keys))
}
