//! [`Answer`]: what a query returns, as a table whose columns carry the schema's names.

use crate::backend::{TimeRange, Value};

/// The answer to one query.
///
/// Key columns carry schema names (`src_addr`, `dst_as`), so JSON output and the UI use the names users
/// type; measures are `bytes`, `packets`, `flows` for volumes and `bps`, `pps`, `fps` for rates; with a
/// direction, a `direction` column says `in` or `out` and traffic in is negative. A row whose key columns
/// are all `Null` is the "Other" row of a top-N or series (stored columns are never null), or the total
/// row of a summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, one value per column.
    pub rows: Vec<Vec<Value>>,
    /// The table that answered (`flows`, `flows_1m`, `flows_1h`).
    pub table: String,
    /// The range answered: the range asked, widened to whole buckets when the answer is in buckets.
    pub range: TimeRange,
    /// The bucket width in seconds, for series and for top-N by average, maximum or percentile.
    pub step: Option<u64>,
    /// What the store or the planner had to work around (a quarantined file, flows past retention).
    pub warnings: Vec<String>,
    /// The SQL statements run, in order.
    pub statements: Vec<String>,
    /// The same query over the earlier range, when `compare` asked for it.
    pub compare: Option<Box<Answer>>,
}

impl Answer {
    /// The index of the column called `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}
