//! The storage interface: what the query planner asks of a store, and what a store answers.
//!
//! A backend runs one SQL `SELECT` over one table and hands back rows of plain values. The planner writes
//! the SQL in the backend's [`Dialect`], so the embedded store (DataFusion over Parquet) and ClickHouse
//! answer the same questions through the same planner; neither this crate nor the planner knows how the
//! rows were computed.

use std::fmt;
use std::net::Ipv6Addr;

use thiserror::Error;

use crate::filter::Dialect;
use crate::plan::{Dim, Metric, Table};

/// A store the planner can query.
pub trait Backend: Send + Sync {
    /// The SQL flavour the backend speaks.
    fn dialect(&self) -> &dyn Dialect;

    /// Runs one `SELECT` over `table` restricted to `range`. The SQL carries the time condition itself;
    /// `range` is there so the backend can skip partitions and files outside it. Blocking.
    fn query(&self, table: &Table, range: TimeRange, sql: &str) -> Result<Rows, BackendError>;

    /// The keys of `dims` that may carry the most `metric` in `table` over `range`, with a bound that no
    /// other key's traffic there exceeds, when the backend keeps such lists (see [`HeavyKeys`]); `None`
    /// otherwise, and the planner ranks every key. Blocking.
    fn heavy_keys(&self, table: &Table, range: TimeRange, dims: &[Dim], metric: Metric) -> Option<HeavyKeys> {
        let _ = (table, range, dims, metric);
        None
    }
}

/// Candidates for a top-N: every key of some dimensions whose traffic over a range can exceed `bound` is among
/// `keys`. A top-N ranks only the candidates, and its answer stands when its last key has more than
/// `bound` (or `bound` is 0: the candidates are every key there is). A filter only lowers a key's traffic,
/// and so does the exporter's direction; in and out of one interface, a flow that comes back out of it
/// counts on both sides, so there the planner holds the answer to twice the bound.
#[derive(Debug, Clone, PartialEq)]
pub struct HeavyKeys {
    /// The candidates, each with one value per dimension.
    pub keys: Vec<Vec<Value>>,
    /// The most traffic (scaled as the metric is) any key outside `keys` can have.
    pub bound: u64,
}

/// A half-open time range `[from, to)` in nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeRange {
    /// First instant in the range.
    pub from: u64,
    /// First instant after the range.
    pub to: u64,
}

impl TimeRange {
    /// The range `[from, to)`.
    pub fn new(from: u64, to: u64) -> TimeRange {
        TimeRange { from, to }
    }

    /// Its length in nanoseconds (0 when `to` is not after `from`).
    pub fn len_ns(self) -> u64 {
        self.to.saturating_sub(self.from)
    }

    /// Whether the two ranges share an instant.
    pub fn overlaps(self, other: TimeRange) -> bool {
        self.from < other.to && other.from < self.to
    }

    /// The same range `by` nanoseconds earlier (clamped at the epoch).
    pub fn earlier(self, by: u64) -> TimeRange {
        TimeRange {
            from: self.from.saturating_sub(by),
            to: self.to.saturating_sub(by),
        }
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use weir_flow::time::Rfc3339;
        write!(f, "[{}, {})", Rfc3339(self.from), Rfc3339(self.to))
    }
}

/// The result of one query: named columns and rows of values, plus what the backend had to work around.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    /// Column names, as the SQL named them.
    pub columns: Vec<String>,
    /// Rows, each with one value per column.
    pub rows: Vec<Vec<Value>>,
    /// What the backend skipped or repaired to answer (e.g. a corrupt file it quarantined).
    pub warnings: Vec<String>,
}

/// One value of a result row.
///
/// Stores keep columns non-nullable, so `Null` only appears where the SQL made it (an aggregate over no
/// rows) or where the planner marks a row that is not one key (the "Other" row of a top-N).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value.
    Null,
    /// An unsigned integer (counters, ports, interface indexes, MACs in their low 48 bits).
    U64(u64),
    /// A signed integer (traffic in a given direction: in is negative).
    I64(i64),
    /// A real number (rates, averages, fractions).
    F64(f64),
    /// A string.
    Str(String),
    /// An address (IPv4 is IPv4-mapped).
    Ip(Ipv6Addr),
    /// A time, in nanoseconds since the Unix epoch.
    Time(u64),
    /// A list of `u32` (AS path, communities).
    List(Vec<u32>),
    /// Opaque bytes (`extra_fields`).
    Bytes(Vec<u8>),
}

impl Value {
    /// The value as an unsigned integer, if it is a non-negative integer or a time.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U64(v) | Value::Time(v) => Some(v),
            Value::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as a real number, if it is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::U64(v) => Some(v as f64),
            Value::I64(v) => Some(v as f64),
            Value::F64(v) => Some(v),
            _ => None,
        }
    }
}

/// A query a backend could not answer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{kind}{}: {message}", At(.file.as_deref()))]
pub struct BackendError {
    /// What went wrong.
    pub kind: BackendErrorKind,
    /// The file at fault, relative to the store's directory, when one is known.
    pub file: Option<String>,
    /// The engine's or the system's own words.
    pub message: String,
}

impl BackendError {
    /// An error of `kind` with `message`, about no file in particular.
    pub fn new(kind: BackendErrorKind, message: impl Into<String>) -> BackendError {
        BackendError {
            kind,
            file: None,
            message: message.into(),
        }
    }

    /// The same error, about `file`.
    pub fn in_file(mut self, file: impl Into<String>) -> BackendError {
        self.file = Some(file.into());
        self
    }
}

/// Formats the optional file of an error.
struct At<'a>(Option<&'a str>);

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(file) => write!(f, " in {file}"),
            None => Ok(()),
        }
    }
}

/// The kinds of [`BackendError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendErrorKind {
    /// A stored file is damaged and could not be set aside.
    Corrupt,
    /// Reading or listing the store failed.
    Io,
    /// The engine refused or failed the query (a bug in the SQL the planner wrote, or in the engine).
    Engine,
    /// The answer would be larger than the backend will hold.
    TooLarge,
    /// The query ran past its time limit.
    Timeout,
}

impl fmt::Display for BackendErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BackendErrorKind::Corrupt => "corrupt data",
            BackendErrorKind::Io => "storage error",
            BackendErrorKind::Engine => "query engine error",
            BackendErrorKind::TooLarge => "answer too large",
            BackendErrorKind::Timeout => "query timed out",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_their_file_when_known() {
        let e = BackendError::new(BackendErrorKind::Corrupt, "bad footer");
        assert_eq!(e.to_string(), "corrupt data: bad footer");
        let e = e.in_file("flows/2026-11-22/13/part-0000000000000007.parquet");
        assert_eq!(
            e.to_string(),
            "corrupt data in flows/2026-11-22/13/part-0000000000000007.parquet: bad footer"
        );
    }

    #[test]
    fn ranges_are_half_open() {
        let r = TimeRange::new(10, 20);
        assert!(r.overlaps(TimeRange::new(19, 30)));
        assert!(!r.overlaps(TimeRange::new(20, 30)));
        assert!(!r.overlaps(TimeRange::new(0, 10)));
        assert_eq!(r.len_ns(), 10);
        assert_eq!(r.earlier(15), TimeRange::new(0, 5));
    }

    #[test]
    fn integers_convert_only_when_they_fit() {
        assert_eq!(Value::I64(-1).as_u64(), None);
        assert_eq!(Value::I64(7).as_u64(), Some(7));
        assert_eq!(Value::Time(9).as_u64(), Some(9));
        assert_eq!(Value::Str("1".into()).as_f64(), None);
        assert_eq!(Value::U64(3).as_f64(), Some(3.0));
    }
}
