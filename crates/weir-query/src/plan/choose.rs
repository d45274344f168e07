//! Which table answers: the coarsest one that gives the same answer as the raw table would.
//!
//! A rollup gives the raw table's answer when it has every column the query filters, groups and sorts on,
//! when its time buckets fall whole inside the query's range (the range's ends, or the step, are
//! multiples of its resolution), when the filter's tests of `time_received` cut between its buckets, and
//! when it still keeps the range. Coarser tables have fewer rows to read, so the coarsest such table wins;
//! when none fits, the raw table answers.

use weir_flow::time::NANOS_PER_SEC;

use super::error::QueryError;
use super::needs::{Needs, time_tests_fit};
use super::query::Query;
use super::step::{align, auto_step};
use super::table::Table;
use crate::backend::TimeRange;

/// How a query is cut into time buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Buckets {
    /// It is not: one answer over the whole range, whose ends must then fall on a table's bucket edges.
    None,
    /// Buckets of this many seconds.
    Fixed(u64),
    /// Buckets of a readable width giving 100 to 300 points, never finer than the table.
    Auto,
}

/// The table that answers, over what range, in what buckets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice<'t> {
    /// The table.
    pub table: &'t Table,
    /// The range asked, widened to whole buckets when there are buckets.
    pub range: TimeRange,
    /// The bucket width in seconds, when there are buckets.
    pub step: Option<u64>,
    /// Said when the raw table answers for a range it no longer keeps whole.
    pub warning: Option<String>,
}

/// Chooses the table for `query` cut into `buckets`, at `now` (ns).
pub fn choose<'t>(
    tables: &'t [Table],
    query: &Query,
    buckets: Buckets,
    now: u64,
) -> Result<Choice<'t>, QueryError> {
    let raw = tables.iter().find(|t| t.is_raw()).ok_or(QueryError::NoRawTable)?;
    let needs = Needs::of(query);
    let mut rollups: Vec<&Table> = tables
        .iter()
        .filter(|t| !t.is_raw() && needs.met_by(t))
        .filter(|t| {
            query
                .filter
                .as_ref()
                .is_none_or(|f| time_tests_fit(f.expr(), t.resolution_ns()))
        })
        .collect();
    // Coarsest first, and of rollups at one resolution the one keeping fewest columns: it has fewest rows.
    rollups.sort_by_key(|t| (std::cmp::Reverse(t.resolution_ns()), t.columns.len()));
    let range = query.range;
    let (table, range, step) = match buckets {
        Buckets::None => {
            let fits = |t: &&Table| {
                let res = t.resolution_ns();
                range.from.is_multiple_of(res) && range.to.is_multiple_of(res) && t.keeps(range.from, now)
            };
            (rollups.iter().copied().find(fits).unwrap_or(raw), range, None)
        }
        Buckets::Fixed(step) => {
            let range = align(range, step);
            let fits = |t: &&Table| {
                (step * NANOS_PER_SEC).is_multiple_of(t.resolution_ns()) && t.keeps(range.from, now)
            };
            (
                rollups.iter().copied().find(fits).unwrap_or(raw),
                range,
                Some(step),
            )
        }
        Buckets::Auto => {
            let nice = auto_step(range, 1);
            let keeps = |t: &Table, step: u64| t.keeps(align(range, step).from, now);
            let fine_enough = rollups
                .iter()
                .copied()
                .find(|t| (nice * NANOS_PER_SEC).is_multiple_of(t.resolution_ns()) && keeps(t, nice));
            let coarser = || {
                let mut finest_first = rollups.clone();
                finest_first.sort_by_key(|t| (t.resolution_ns(), t.columns.len()));
                finest_first.into_iter().find_map(|t| {
                    let step = auto_step(range, t.resolution.unwrap_or(1));
                    keeps(t, step).then_some((t, step))
                })
            };
            let (table, step) = match fine_enough {
                Some(t) => (t, nice),
                None if !keeps(raw, nice) => coarser().unwrap_or((raw, nice)),
                None => (raw, nice),
            };
            (table, align(range, step), Some(step))
        }
    };
    let warning = (table.is_raw() && !table.keeps(range.from, now)).then(|| {
        let days = table.retention.unwrap_or(0) / 86_400;
        format!(
            "the range starts before the {} days the `{}` table keeps: older flows are not counted",
            days, table.name
        )
    });
    Ok(Choice {
        table,
        range,
        step,
        warning,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter;
    use crate::plan::query::{Kind, Series};
    use crate::plan::table::{HOUR_RETENTION, MINUTE_RETENTION, RAW_RETENTION};

    const S: u64 = NANOS_PER_SEC;
    const DAY: u64 = 86_400 * S;
    /// A "now" far enough from the epoch for every retention.
    const NOW: u64 = 1000 * DAY;

    fn query(from: u64, to: u64, filter_text: &str) -> Query {
        let mut q = Query::new(TimeRange::new(from, to), Kind::Summary);
        q.filter = Some(filter::parse(filter_text).unwrap());
        q
    }

    fn chosen(q: &Query, buckets: Buckets) -> (String, Option<u64>) {
        let tables = Table::defaults();
        let c = choose(&tables, q, buckets, NOW).unwrap();
        (c.table.name.clone(), c.step)
    }

    #[test]
    fn whole_hours_go_to_the_hour_rollup_and_whole_minutes_to_the_minute_one() {
        let from = NOW - DAY;
        assert_eq!(chosen(&query(from, NOW, "any"), Buckets::None).0, "traffic_1h");
        assert_eq!(
            chosen(&query(from + 60 * S, NOW, "any"), Buckets::None).0,
            "traffic_1m"
        );
        assert_eq!(chosen(&query(from + S, NOW, "any"), Buckets::None).0, "flows");
    }

    #[test]
    fn filters_on_columns_rollups_drop_go_to_the_raw_table() {
        let from = NOW - DAY;
        assert_eq!(
            chosen(&query(from, NOW, "dst_as = 15169"), Buckets::None).0,
            "flows_1h"
        );
        assert_eq!(chosen(&query(from, NOW, "port 443"), Buckets::None).0, "flows");
        assert_eq!(
            chosen(&query(from, NOW, "bytes > 1000"), Buckets::None).0,
            "flows"
        );
        let ragged = "time_received >= 1970-01-01T00:00:30Z";
        assert_eq!(chosen(&query(from, NOW, ragged), Buckets::None).0, "flows");
    }

    #[test]
    fn steps_pick_the_coarsest_table_that_divides_them() {
        let q = query(NOW - DAY, NOW, "any");
        assert_eq!(
            chosen(&q, Buckets::Fixed(7200)),
            ("traffic_1h".into(), Some(7200))
        );
        assert_eq!(chosen(&q, Buckets::Fixed(300)), ("traffic_1m".into(), Some(300)));
        assert_eq!(chosen(&q, Buckets::Fixed(30)), ("flows".into(), Some(30)));
        assert_eq!(chosen(&q, Buckets::Auto), ("traffic_1m".into(), Some(300)));
        let hour = query(NOW - 3600 * S, NOW, "any");
        assert_eq!(chosen(&hour, Buckets::Auto), ("flows".into(), Some(15)));
    }

    #[test]
    fn retention_moves_old_ranges_to_coarser_tables() {
        let old = NOW - (RAW_RETENTION + 1) * S;
        let q = query(old - 3600 * S, old, "any");
        assert_eq!(chosen(&q, Buckets::Auto), ("traffic_1m".into(), Some(60)));
        let older = NOW - (MINUTE_RETENTION + 1) * S;
        let q = query(older - 3600 * S, older, "any");
        assert_eq!(chosen(&q, Buckets::Auto), ("traffic_1h".into(), Some(3600)));
        assert_eq!(chosen(&q, Buckets::Fixed(60)).0, "flows");
    }

    #[test]
    fn the_narrowest_rollup_that_keeps_the_columns_answers() {
        let from = NOW - DAY;
        assert_eq!(
            chosen(&query(from, NOW, "proto 6"), Buckets::None).0,
            "traffic_1h"
        );
        assert_eq!(chosen(&query(from, NOW, "in if 3"), Buckets::None).0, "flows_1h");
        let q = query(from, NOW, "app = dns");
        assert_eq!(chosen(&q, Buckets::Fixed(60)).0, "traffic_1m");
        let q = query(from, NOW, "src as 15169");
        assert_eq!(chosen(&q, Buckets::Fixed(60)).0, "flows_1m");
    }

    #[test]
    fn the_raw_table_past_its_retention_says_so() {
        let tables = Table::defaults();
        let oldest = NOW - (HOUR_RETENTION + 1) * S;
        let q = query(oldest - DAY, oldest, "port 80");
        let c = choose(&tables, &q, Buckets::None, NOW).unwrap();
        assert_eq!(c.table.name, "flows");
        assert!(c.warning.unwrap().contains("15 days"));
        assert!(
            choose(&tables, &query(NOW - DAY, NOW, "port 80"), Buckets::None, NOW)
                .unwrap()
                .warning
                .is_none()
        );
    }

    #[test]
    fn a_table_list_without_raw_is_refused() {
        let tables = [Table::rollup("flows_1m", 60, None)];
        let q = Query::new(
            TimeRange::new(0, 60 * S),
            Kind::Series(Series {
                step: None,
                split: vec![],
                limit: 10,
                by: crate::plan::query::Metric::Bytes,
                unit: crate::plan::query::Unit::Total,
            }),
        );
        assert_eq!(
            choose(&tables, &q, Buckets::Auto, NOW),
            Err(QueryError::NoRawTable)
        );
    }
}
