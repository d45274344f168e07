//! The daily traffic curve: a trough before dawn, a peak in the evening, about four times the trough, as
//! a residential network sees it. Times are UTC.

/// Relative traffic at each hour of the day (UTC), as a residential network sees it; linear in between.
const DAY: [f64; 24] = [
    0.55, 0.42, 0.32, 0.26, 0.23, 0.24, 0.30, 0.42, 0.55, 0.63, 0.68, 0.72, 0.76, 0.76, 0.75, 0.76, 0.80,
    0.86, 0.92, 0.97, 1.00, 1.00, 0.90, 0.72,
];

/// Relative traffic at `secs` seconds since the epoch: at most 1 (the evening peak), at least 0.23.
pub fn shape(secs: u64) -> f64 {
    let of_day = (secs % 86_400) as f64 / 3600.0;
    let hour = of_day.floor() as usize % 24;
    let frac = of_day - of_day.floor();
    DAY[hour] * (1.0 - frac) + DAY[(hour + 1) % 24] * frac
}
