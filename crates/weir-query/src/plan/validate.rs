//! Checks a query before any store is asked, so every mistake comes back as a precise [`QueryError`].

use std::collections::HashSet;

use weir_flow::{FIELDS, Field, Kind as ColumnKind};

use super::dim::Dim;
use super::error::QueryError;
use super::query::{Agg, Kind, Query};
use super::step::{MAX_POINTS, min_step, points};
use crate::filter::suggest;

/// The most keys a top-N may list.
pub const MAX_TOP: usize = 1_000;
/// The most keys a series may be split into (besides "Other").
pub const MAX_SPLIT: usize = 50;
/// The most flows a listing may return at once.
pub const MAX_FLOWS: usize = 100_000;
/// The most flows a listing may skip.
pub const MAX_OFFSET: usize = 1_000_000;
/// The most dimensions in one key.
pub const MAX_DIMS: usize = 6;

/// The schema field called `name` (any ASCII case), or an error with the nearest name.
///
/// ```
/// use weir_query::plan::{QueryError, field};
///
/// assert_eq!(field("DST_AS"), Ok(weir_flow::Field::dst_as));
/// let e = field("dst_contry").unwrap_err();
/// assert_eq!(e.to_string(), "unknown field `dst_contry`; did you mean `dst_country`?");
/// ```
pub fn field(name: &str) -> Result<Field, QueryError> {
    FIELDS
        .iter()
        .copied()
        .find(|f| f.column().name.eq_ignore_ascii_case(name))
        .ok_or_else(|| QueryError::UnknownField {
            name: name.to_owned(),
            suggestion: suggest::nearest(name, FIELDS.iter().map(|f| f.column().name)),
        })
}

/// Checks everything about `query` that can be checked without a store.
pub fn validate(query: &Query) -> Result<(), QueryError> {
    let r = query.range;
    if r.from == r.to {
        return Err(QueryError::EmptyRange { at: r.from });
    }
    if r.to < r.from {
        return Err(QueryError::ReversedRange {
            from: r.from,
            to: r.to,
        });
    }
    let max = i64::MAX as u64;
    if r.to > max {
        return Err(QueryError::RangeTooLate { to: r.to, max });
    }
    let traffic = matches!(query.kind, Kind::Summary | Kind::TopN(_) | Kind::Series(_));
    if query.direction.is_some() && !traffic {
        return Err(QueryError::NotApplicable {
            option: "direction",
            kind: query.kind.name(),
        });
    }
    match query.compare {
        Some(_) if matches!(query.kind, Kind::Flows(_)) => {
            return Err(QueryError::NotApplicable {
                option: "compare",
                kind: query.kind.name(),
            });
        }
        Some(0) => return Err(QueryError::ZeroCompare),
        _ => {}
    }
    match &query.kind {
        Kind::Summary | Kind::Sizes => Ok(()),
        Kind::TopN(t) => {
            if t.dims.is_empty() {
                return Err(QueryError::NoDimensions);
            }
            dimensions(&t.dims, "top-N key")?;
            limit("top-N", t.limit, MAX_TOP)?;
            match t.step {
                Some(step) if t.agg != Agg::Total => check_step(query, step),
                _ => Ok(()),
            }
        }
        Kind::Series(s) => {
            dimensions(&s.split, "series split")?;
            if !s.split.is_empty() {
                limit("series split", s.limit, MAX_SPLIT)?;
            }
            s.step.map_or(Ok(()), |step| check_step(query, step))
        }
        Kind::Flows(f) => {
            let col = f.order.field.column();
            if matches!(col.kind, ColumnKind::U32List | ColumnKind::Bytes) {
                return Err(QueryError::NotOrderable { field: col.name });
            }
            limit("flows", f.limit, MAX_FLOWS)?;
            if f.offset > MAX_OFFSET {
                return Err(QueryError::OffsetTooLarge {
                    offset: f.offset,
                    max: MAX_OFFSET,
                });
            }
            Ok(())
        }
    }
}

/// Dimensions of a key: each a dimension (a derived one, or a dimension column), none twice, not too many.
fn dimensions(dims: &[Dim], role: &'static str) -> Result<(), QueryError> {
    if dims.len() > MAX_DIMS {
        return Err(QueryError::TooManyDimensions {
            role,
            count: dims.len(),
            max: MAX_DIMS,
        });
    }
    let mut seen = HashSet::new();
    for d in dims {
        if let Dim::Field(f) = d
            && !f.column().dimension
        {
            return Err(QueryError::NotADimension {
                field: d.name(),
                role,
            });
        }
        if !seen.insert(*d) {
            return Err(QueryError::DuplicateDimension {
                field: d.name(),
                role,
            });
        }
    }
    Ok(())
}

fn limit(what: &'static str, limit: usize, max: usize) -> Result<(), QueryError> {
    match limit {
        0 => Err(QueryError::ZeroLimit { what }),
        l if l > max => Err(QueryError::LimitTooLarge { what, limit, max }),
        _ => Ok(()),
    }
}

fn check_step(query: &Query, step: u64) -> Result<(), QueryError> {
    if step == 0 || points(query.range, step) > MAX_POINTS {
        return Err(QueryError::StepTooSmall {
            step,
            min: min_step(query.range),
            max_points: MAX_POINTS,
        });
    }
    Ok(())
}
