//! What is measured and how it is reported: scaled volumes, rates, and the sign of a direction.

use weir_flow::time::NANOS_PER_SEC;

use super::query::{Direction, Metric, Unit};
use crate::backend::Value;

/// The traffic of one direction, or of both together when the query has no direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Everything (no direction asked).
    All,
    /// Traffic in: reported negative.
    In,
    /// Traffic out: reported positive.
    Out,
}

impl Side {
    /// The sides a query reports: both directions when it has one, else everything.
    pub fn of(direction: Option<Direction>) -> &'static [Side] {
        match direction {
            Some(_) => &[Side::In, Side::Out],
            None => &[Side::All],
        }
    }

    /// The value of the `direction` column.
    pub fn label(self) -> Option<&'static str> {
        match self {
            Side::All => None,
            Side::In => Some("in"),
            Side::Out => Some("out"),
        }
    }

    /// A volume on this side: unsigned without a direction, signed (in negative) with one, so a column
    /// holds one type.
    pub fn count(self, v: u64) -> Value {
        let signed = i64::try_from(v).unwrap_or(i64::MAX);
        match self {
            Side::All => Value::U64(v),
            Side::In => Value::I64(-signed),
            Side::Out => Value::I64(signed),
        }
    }

    /// A real number on this side (in negative).
    pub fn real(self, v: f64) -> Value {
        match self {
            Side::In => Value::F64(-v),
            Side::All | Side::Out => Value::F64(v),
        }
    }
}

/// The column name of a measure: the metric's own for volumes, `bps`, `pps` or `fps` for rates.
pub fn name(metric: Metric, unit: Unit) -> &'static str {
    match (unit, metric) {
        (Unit::Total, Metric::Bytes) => "bytes",
        (Unit::Total, Metric::Packets) => "packets",
        (Unit::Total, Metric::Flows) => "flows",
        (Unit::Rate, Metric::Bytes) => "bps",
        (Unit::Rate, Metric::Packets) => "pps",
        (Unit::Rate, Metric::Flows) => "fps",
    }
}

/// `volume` spread over `ns` nanoseconds, per second: bits for bytes.
pub fn rate(metric: Metric, volume: u64, ns: u64) -> f64 {
    let per_unit = if metric == Metric::Bytes { 8.0 } else { 1.0 };
    if ns == 0 {
        return 0.0;
    }
    volume as f64 * per_unit * NANOS_PER_SEC as f64 / ns as f64
}

/// The largest bucket left once the top 5 % of `n` buckets (rounded down) are dropped, as a rank from the
/// top counting from 1.
pub fn p95_rank(n: u64) -> u64 {
    n / 20 + 1
}

/// The 95th percentile of `values` zero-filled to `n` buckets (see [`p95_rank`]).
pub fn p95(mut values: Vec<u64>, n: u64) -> u64 {
    values.sort_unstable_by(|a, b| b.cmp(a));
    let rank = p95_rank(n) as usize;
    values.get(rank - 1).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_95th_percentile_drops_the_top_twentieth_rounded_down() {
        assert_eq!(p95_rank(1), 1);
        assert_eq!(p95_rank(19), 1);
        assert_eq!(p95_rank(20), 2);
        assert_eq!(p95_rank(100), 6);
        let hundred: Vec<u64> = (1..=100).collect();
        assert_eq!(p95(hundred, 100), 95);
        assert_eq!(
            p95(vec![7, 9], 39),
            7,
            "one of 39 buckets dropped: the second largest"
        );
        assert_eq!(
            p95(vec![7, 9], 40),
            0,
            "two of 40 dropped: the third largest is an empty bucket"
        );
    }

    #[test]
    fn rates_are_bits_for_bytes() {
        assert_eq!(rate(Metric::Bytes, 1000, 2 * NANOS_PER_SEC), 4000.0);
        assert_eq!(rate(Metric::Packets, 1000, 2 * NANOS_PER_SEC), 500.0);
        assert_eq!(rate(Metric::Flows, 1, 0), 0.0);
    }

    #[test]
    fn traffic_in_is_negative() {
        assert_eq!(Side::In.count(5), Value::I64(-5));
        assert_eq!(Side::Out.count(5), Value::I64(5));
        assert_eq!(Side::All.count(5), Value::U64(5));
        assert_eq!(Side::In.real(1.5), Value::F64(-1.5));
    }
}
