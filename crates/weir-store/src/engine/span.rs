//! A table whose files hold rows of a known span of receive times: the conditions of a statement's time
//! range that every one of its rows meets are dropped rather than evaluated row by row.
//!
//! Every file lies in the partition of its rows' receive times, so the files listed for a range hold only
//! rows of their partitions' span. A question over whole partitions (a day, an hour ending on the hour)
//! asks `time_received >= from AND time_received < to` of rows that all meet it; DataFusion would decode the
//! receive time of every row and compare it twice, which was a fifth of a day's top-N on one column.
//! Conditions the span does not settle (at the partitions at the edges of a range) go to the table as usual.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{ScanArgs, ScanResult, Session, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;

use crate::schema::TIME;

/// `inner`, whose rows all have a receive time in `[start, end)` (nanoseconds).
#[derive(Debug)]
pub(super) struct Spanned {
    inner: Arc<dyn TableProvider>,
    start: i64,
    end: i64,
}

impl Spanned {
    pub(super) fn new(inner: Arc<dyn TableProvider>, start: u64, end: u64) -> Spanned {
        let ns = |t: u64| i64::try_from(t).unwrap_or(i64::MAX);
        Spanned {
            inner,
            start: ns(start),
            end: ns(end),
        }
    }

    /// Whether every row meets `filter`: a comparison of the receive time with a time that the span
    /// settles.
    fn always(&self, filter: &Expr) -> bool {
        let Expr::BinaryExpr(BinaryExpr { left, op, right }) = filter else {
            return false;
        };
        let (Expr::Column(column), Expr::Literal(ScalarValue::TimestampNanosecond(Some(t), None), _)) =
            (left.as_ref(), right.as_ref())
        else {
            return false;
        };
        if column.name != TIME || self.start >= self.end {
            return false;
        }
        match op {
            Operator::GtEq => *t <= self.start,
            Operator::Gt => *t < self.start,
            Operator::Lt => *t >= self.end,
            Operator::LtEq => *t >= self.end - 1,
            _ => false,
        }
    }

    /// The filters the span does not settle, for the table to apply.
    fn unsettled(&self, filters: &[Expr]) -> Vec<Expr> {
        filters.iter().filter(|f| !self.always(f)).cloned().collect()
    }
}

#[async_trait]
impl TableProvider for Spanned {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let kept = self.unsettled(filters);
        self.inner.scan(state, projection, &kept, limit).await
    }

    async fn scan_with_args<'a>(&self, state: &dyn Session, args: ScanArgs<'a>) -> Result<ScanResult> {
        let kept = self.unsettled(args.filters().unwrap_or(&[]));
        let args = ScanArgs::default()
            .with_projection(args.projection())
            .with_filters(Some(&kept))
            .with_limit(args.limit())
            .with_statistics_requests(args.statistics_requests());
        self.inner.scan_with_args(state, args).await
    }

    /// The conditions every row meets are exact (DataFusion drops them from the plan, and `scan` does not
    /// pass them on); the rest are whatever the table makes of them.
    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        let mut answers = self.inner.supports_filters_pushdown(filters)?;
        for (answer, filter) in answers.iter_mut().zip(filters) {
            if self.always(filter) {
                *answer = TableProviderFilterPushDown::Exact;
            }
        }
        Ok(answers)
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, RecordBatch, TimestampNanosecondArray, UInt64Array};
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use datafusion::datasource::MemTable;
    use datafusion::prelude::SessionContext;

    use super::*;

    const HOUR: i64 = 3_600_000_000_000;

    /// A session with `flows` holding one row every minute of the hour from `HOUR` to `2 * HOUR`, declared
    /// to span that hour.
    fn session() -> SessionContext {
        let schema = Arc::new(Schema::new(vec![
            Field::new(TIME, DataType::Timestamp(TimeUnit::Nanosecond, None), false),
            Field::new("bytes", DataType::UInt64, false),
        ]));
        let times: Vec<i64> = (0..60).map(|m| HOUR + m * 60_000_000_000).collect();
        let rows = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(TimestampNanosecondArray::from(times)),
                Arc::new(UInt64Array::from_iter_values(1..=60)),
            ],
        )
        .unwrap();
        let inner = Arc::new(MemTable::try_new(schema, vec![vec![rows]]).unwrap());
        let ctx = SessionContext::new();
        ctx.register_table(
            "flows",
            Arc::new(Spanned::new(inner, HOUR as u64, 2 * HOUR as u64)),
        )
        .unwrap();
        ctx
    }

    /// The sum of bytes in `[from, to)`, and whether the plan still compares receive times.
    async fn ask(from: i64, to: i64) -> (u64, bool) {
        let ctx = session();
        let sql = format!(
            "SELECT SUM(bytes) AS b FROM flows WHERE {TIME} >= to_timestamp_nanos({from}) \
             AND {TIME} < to_timestamp_nanos({to})"
        );
        let frame = ctx.sql(&sql).await.unwrap();
        let plan = frame.clone().create_physical_plan().await.unwrap();
        let shown = datafusion::physical_plan::displayable(plan.as_ref())
            .indent(true)
            .to_string();
        let rows = frame.collect().await.unwrap();
        let sum = rows[0].column(0).as_any().downcast_ref::<UInt64Array>().unwrap();
        (
            if sum.is_null(0) { 0 } else { sum.value(0) },
            shown.contains(TIME),
        )
    }

    #[tokio::test]
    async fn a_range_covering_the_span_compares_no_time() {
        assert_eq!(ask(HOUR, 2 * HOUR).await, (1830, false));
        assert_eq!(ask(0, 5 * HOUR).await, (1830, false));
    }

    #[tokio::test]
    async fn conditions_inside_the_span_are_still_evaluated() {
        // From the 30th minute: rows 31 to 60.
        assert_eq!(ask(HOUR + 30 * 60_000_000_000, 2 * HOUR).await, (1365, true));
        // Up to the 10th minute: rows 1 to 10.
        assert_eq!(ask(0, HOUR + 10 * 60_000_000_000).await, (55, true));
        assert_eq!(ask(2 * HOUR, 3 * HOUR).await, (0, true), "after the span: no row");
    }
}
