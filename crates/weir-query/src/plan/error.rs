//! [`QueryError`]: a question that cannot be asked as put, or that the store could not answer.

use thiserror::Error;
use weir_flow::time::Rfc3339;

use crate::backend::BackendError;
use crate::filter::Hint;

/// Why a query has no answer. Everything but [`Backend`](QueryError::Backend) and
/// [`BadAnswer`](QueryError::BadAnswer) is found before any store is asked.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QueryError {
    /// `from` equals `to`: the range holds no instant.
    #[error("empty time range: it starts and ends at {}", Rfc3339(*.at))]
    EmptyRange {
        /// Where it starts and ends (ns).
        at: u64,
    },
    /// `to` is before `from`.
    #[error("time range ends at {} before it starts at {}", Rfc3339(*.to), Rfc3339(*.from))]
    ReversedRange {
        /// Start (ns).
        from: u64,
        /// End (ns).
        to: u64,
    },
    /// The range reaches past the last time the stores can hold (`i64::MAX` ns, in 2262).
    #[error("time range ends at {}, after the last time a store holds ({})", Rfc3339(*.to), Rfc3339(*.max))]
    RangeTooLate {
        /// End (ns).
        to: u64,
        /// The last time (ns).
        max: u64,
    },
    /// The bucket width is zero or gives too many buckets over the range.
    #[error("step of {step} s is too small for this range: at least {min} s (at most {max_points} points)")]
    StepTooSmall {
        /// The step asked for, seconds.
        step: u64,
        /// The smallest step this range allows, seconds.
        min: u64,
        /// The most buckets a query may have.
        max_points: u64,
    },
    /// A limit of zero.
    #[error("the {what} limit must be at least 1")]
    ZeroLimit {
        /// Which limit (`top-N`, `series split`, `flows`).
        what: &'static str,
    },
    /// A limit above what the planner allows.
    #[error("the {what} limit of {limit} is too large: at most {max}")]
    LimitTooLarge {
        /// Which limit.
        what: &'static str,
        /// The limit asked for.
        limit: usize,
        /// The largest allowed.
        max: usize,
    },
    /// An offset above what the planner allows.
    #[error("an offset of {offset} flows is too large: at most {max}")]
    OffsetTooLarge {
        /// The offset asked for.
        offset: usize,
        /// The largest allowed.
        max: usize,
    },
    /// A name that is no column of the schema.
    #[error("unknown field `{name}`{}", Hint(.suggestion.as_deref()))]
    UnknownField {
        /// The name.
        name: String,
        /// The nearest column name, when the name looks like a typo of it.
        suggestion: Option<&'static str>,
    },
    /// A column that cannot key a top-N or split a series (times, counters, lists).
    #[error("`{field}` is not a dimension and cannot be a {role}")]
    NotADimension {
        /// The column.
        field: &'static str,
        /// What it was asked to be (`top-N key`, `series split`).
        role: &'static str,
    },
    /// A top-N with no key.
    #[error("a top-N needs at least one dimension")]
    NoDimensions,
    /// A key naming one column twice.
    #[error("`{field}` appears twice in the {role}")]
    DuplicateDimension {
        /// The column.
        field: &'static str,
        /// Where (`top-N key`, `series split`).
        role: &'static str,
    },
    /// A key of more columns than allowed.
    #[error("a {role} of {count} dimensions is too many: at most {max}")]
    TooManyDimensions {
        /// Where.
        role: &'static str,
        /// Dimensions asked for.
        count: usize,
        /// The most allowed.
        max: usize,
    },
    /// A column flows cannot be sorted by (lists, bytes).
    #[error("flows cannot be sorted by `{field}`")]
    NotOrderable {
        /// The column.
        field: &'static str,
    },
    /// An option that does not apply to the kind of query.
    #[error("{option} does not apply to a {kind} query")]
    NotApplicable {
        /// The option (`direction`, `compare`).
        option: &'static str,
        /// The kind.
        kind: &'static str,
    },
    /// `compare` with an offset of zero.
    #[error("compare needs an offset of at least 1 s")]
    ZeroCompare,
    /// The table list has no raw table to fall back on.
    #[error("no raw table among the tables; every query may need it")]
    NoRawTable,
    /// The store failed.
    #[error("{table}: {source}")]
    Backend {
        /// The table queried.
        table: String,
        /// What the store said.
        source: BackendError,
    },
    /// The store's rows do not have the shape the SQL asks for.
    #[error("{table}: unexpected answer: {message}")]
    BadAnswer {
        /// The table queried.
        table: String,
        /// What was unexpected.
        message: String,
    },
}
