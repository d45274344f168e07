//! Time buckets: the automatic step, and ranges widened to whole buckets.
//!
//! Buckets start at multiples of the step counted from the Unix epoch, as both engines' bucketing
//! functions count them, so a bucket of a rollup table is always whole.

use weir_flow::time::NANOS_PER_SEC;

use crate::backend::TimeRange;

/// The most buckets a query may have.
pub const MAX_POINTS: u64 = 5_000;

/// The most points an automatic step aims for.
const TARGET_POINTS: u64 = 300;

/// Steps a person reads easily, in seconds; between neighbours there is a factor of at most 3.5, so the
/// automatic step gives about 100 to 300 points.
const NICE_STEPS: &[u64] = &[
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800,
    604_800,
];

/// The smallest readable step (at least `min` seconds, a multiple of it) that cuts `range` into at most
/// 300 buckets. Past a week, whole weeks.
pub fn auto_step(range: TimeRange, min: u64) -> u64 {
    let min = min.max(1);
    let secs = range.len_ns().div_ceil(NANOS_PER_SEC);
    NICE_STEPS
        .iter()
        .copied()
        .filter(|s| s % min == 0)
        .find(|s| secs.div_ceil(*s) <= TARGET_POINTS)
        .unwrap_or_else(|| {
            let week = 604_800;
            let weeks = secs.div_ceil(TARGET_POINTS).div_ceil(week).max(1);
            let step = weeks * week;
            step.div_ceil(min) * min
        })
}

/// `range` widened outwards to whole buckets of `step` seconds.
pub fn align(range: TimeRange, step: u64) -> TimeRange {
    let ns = step.saturating_mul(NANOS_PER_SEC);
    TimeRange {
        from: range.from / ns * ns,
        to: range.to.div_ceil(ns).saturating_mul(ns),
    }
}

/// How many buckets of `step` seconds cover `range` once widened.
pub fn points(range: TimeRange, step: u64) -> u64 {
    align(range, step).len_ns() / step.saturating_mul(NANOS_PER_SEC).max(1)
}

/// The smallest step that keeps `range` within [`MAX_POINTS`] buckets, however it is aligned.
pub fn min_step(range: TimeRange) -> u64 {
    range
        .len_ns()
        .div_ceil(NANOS_PER_SEC)
        .div_ceil(MAX_POINTS - 1)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: u64 = 3600 * NANOS_PER_SEC;

    #[test]
    fn automatic_steps_give_one_to_three_hundred_readable_points() {
        let cases = [
            (H, 1, 15),
            (24 * H, 1, 300),
            (7 * 24 * H, 1, 3600),
            (30 * 24 * H, 1, 10_800),
            (365 * 24 * H, 1, 172_800),
            (H, 60, 60),
            (24 * H, 3600, 3600),
        ];
        for (len, min, want) in cases {
            let r = TimeRange::new(0, len);
            let step = auto_step(r, min);
            assert_eq!(step, want, "range {len} ns, min {min}");
            assert!(points(r, step) <= 300, "{step}");
        }
        let decade = TimeRange::new(0, 3650 * 24 * H);
        assert_eq!(auto_step(decade, 1) % 604_800, 0);
        assert!(points(decade, auto_step(decade, 1)) <= 300);
    }

    #[test]
    fn ranges_widen_to_whole_buckets() {
        let r = TimeRange::new(90 * NANOS_PER_SEC, 150 * NANOS_PER_SEC + 1);
        assert_eq!(
            align(r, 60),
            TimeRange::new(60 * NANOS_PER_SEC, 180 * NANOS_PER_SEC)
        );
        assert_eq!(points(r, 60), 2);
        let exact = TimeRange::new(0, H);
        assert_eq!(align(exact, 60), exact);
    }

    #[test]
    fn the_smallest_step_keeps_any_alignment_within_the_limit() {
        let r = TimeRange::new(NANOS_PER_SEC / 2, 24 * H + NANOS_PER_SEC / 2);
        let min = min_step(r);
        assert!(points(r, min) <= MAX_POINTS);
        assert!(points(r, min - 1) > MAX_POINTS - 2);
    }
}
