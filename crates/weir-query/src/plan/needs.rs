//! What a query needs of a table: the columns it filters, groups and sorts on, and whether only one row
//! per flow will do.

use weir_flow::Field;

use super::query::{Direction, Kind, Query};
use super::table::{FieldSet, Table};
use crate::filter::{CmpOp, Expr, Pred};

/// The columns a query reads as stored (not as sums), and whether it needs one row per flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// Columns filtered, grouped or sorted on.
    pub columns: FieldSet,
    /// Flows and sizes read each flow's own counters, which rollups sum away.
    pub raw: bool,
}

impl Needs {
    /// What `query` needs.
    pub fn of(query: &Query) -> Needs {
        let mut columns = FieldSet::default();
        columns.insert(Field::time_received);
        if let Some(f) = &query.filter {
            filter_columns(f.expr(), &mut columns);
        }
        match query.direction {
            Some(Direction::Interface { exporter, .. }) => {
                columns.insert(Field::in_if);
                columns.insert(Field::out_if);
                if exporter.is_some() {
                    columns.insert(Field::exporter_addr);
                }
            }
            Some(Direction::Exporter) => columns.insert(Field::flow_direction),
            None => {}
        }
        let raw = match &query.kind {
            Kind::Summary => {
                columns.insert(Field::exporter_addr);
                columns.insert(Field::exporter_name);
                false
            }
            Kind::TopN(t) => {
                t.dims
                    .iter()
                    .flat_map(|d| d.columns())
                    .for_each(|f| columns.insert(f));
                false
            }
            Kind::Series(s) => {
                s.split
                    .iter()
                    .flat_map(|d| d.columns())
                    .for_each(|f| columns.insert(f));
                false
            }
            Kind::Flows(f) => {
                columns.insert(f.order.field);
                true
            }
            Kind::Sizes => true,
        };
        Needs { columns, raw }
    }

    /// Whether `table` can answer: it has every column, and a rollup is not asked for single flows.
    pub fn met_by(&self, table: &Table) -> bool {
        (table.is_raw() || !self.raw) && self.columns.missing_from(table.columns).next().is_none()
    }
}

/// Adds the columns `expr` reads.
fn filter_columns(expr: &Expr, set: &mut FieldSet) {
    match expr {
        Expr::Any => {}
        Expr::Not(inner) => filter_columns(inner, set),
        Expr::And(items) | Expr::Or(items) => items.iter().for_each(|e| filter_columns(e, set)),
        Expr::Pred(p) => match p {
            Pred::Cmp { field, .. }
            | Pred::In { field, .. }
            | Pred::Addr { field, .. }
            | Pred::Str { field, .. }
            | Pred::StrIn { field, .. }
            | Pred::Glob { field, .. }
            | Pred::ListHas { field, .. } => set.insert(*field),
            Pred::Flags { .. } => {
                set.insert(Field::proto);
                set.insert(Field::tcp_flags);
            }
            Pred::Derived { .. } => {
                [Field::flow_start, Field::flow_end, Field::bytes, Field::packets]
                    .into_iter()
                    .for_each(|f| set.insert(f));
            }
        },
    }
}

/// Whether every test of `time_received` in `expr` selects whole rows of a table whose times are floored
/// to `resolution_ns`: only `>=` and `<` against a multiple of it do (`time_received < T` holds for a
/// floored row exactly when it holds for every flow the row sums).
pub fn time_tests_fit(expr: &Expr, resolution_ns: u64) -> bool {
    match expr {
        Expr::Any => true,
        Expr::Not(inner) => time_tests_fit(inner, resolution_ns),
        Expr::And(items) | Expr::Or(items) => items.iter().all(|e| time_tests_fit(e, resolution_ns)),
        Expr::Pred(Pred::Cmp {
            field: Field::time_received,
            op,
            value,
        }) => matches!(op, CmpOp::Ge | CmpOp::Lt) && value % resolution_ns.max(1) == 0,
        Expr::Pred(Pred::In {
            field: Field::time_received,
            ..
        }) => false,
        Expr::Pred(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::TimeRange;
    use crate::filter;

    fn needs(filter_text: &str, kind: Kind) -> Needs {
        let mut q = Query::new(TimeRange::new(0, 1), kind);
        q.filter = Some(filter::parse(filter_text).unwrap());
        Needs::of(&q)
    }

    #[test]
    fn filters_need_the_columns_they_test() {
        let n = needs("port 53 and flags S", Kind::Summary);
        for f in [
            Field::src_port,
            Field::dst_port,
            Field::proto,
            Field::tcp_flags,
            Field::exporter_addr,
        ] {
            assert!(n.columns.contains(f), "{f:?}");
        }
        assert!(!n.met_by(&Table::rollup("flows_1m", 60, None)));
        let n = needs("dst_as = 15169 and app = dns", Kind::Summary);
        assert!(n.met_by(&Table::rollup("flows_1m", 60, None)));
        assert!(
            needs("bps > 1M", Kind::Summary)
                .columns
                .contains(Field::flow_start)
        );
        assert!(!needs("bps > 1M", Kind::Summary).met_by(&Table::rollup("flows_1m", 60, None)));
    }

    #[test]
    fn single_flows_need_the_raw_table() {
        let n = needs("any", Kind::Sizes);
        assert!(n.raw && !n.met_by(&Table::rollup("flows_1m", 60, None)));
        assert!(n.met_by(&Table::raw(None)));
    }

    #[test]
    fn only_aligned_lower_and_strict_upper_time_bounds_fit_a_rollup() {
        let m = 60_000_000_000u64;
        let fits = |text: &str| time_tests_fit(filter::parse(text).unwrap().expr(), m);
        assert!(fits(
            "time_received >= 1970-01-01T00:01:00Z and time_received < 1970-01-01T00:03:00Z"
        ));
        assert!(!fits("time_received >= 1970-01-01T00:01:30Z"));
        assert!(!fits("time_received <= 1970-01-01T00:01:00Z"));
        assert!(!fits("time_received = 1970-01-01T00:01:00Z"));
        assert!(fits("proto tcp"));
    }
}
