//! When flows are received: the day's traffic curve ([`shape`]) over the window asked for, with times
//! handed out in order so the output is sorted without sorting it.
//!
//! The window is cut into seconds, each weighted by the shape at that time of day; flow `k` of `n` is
//! received at the point where the cumulative weight reaches `(k + u) / n` of the total (`u` in `[0, 1)`).
//! That is the inverse of the traffic's distribution, walked forward with a cursor: constant time per flow.

use weir_flow::time::NANOS_PER_SEC;

use crate::synthetic::day::shape;

/// Receive times over a window, in order.
#[derive(Debug, Clone)]
pub struct Clock {
    start_ns: u64,
    /// `cumulative[s]`: the weight of the window's seconds before second `s`; one more entry than seconds.
    cumulative: Vec<f64>,
    flows: f64,
    cursor: usize,
}

impl Clock {
    /// `flows` flows received over `secs` seconds (at least 1) from `start_ns`.
    pub fn new(start_ns: u64, secs: u64, flows: u64) -> Clock {
        let secs = secs.max(1);
        let start = start_ns / NANOS_PER_SEC;
        let mut cumulative = Vec::with_capacity(secs as usize + 1);
        let mut total = 0.0;
        cumulative.push(0.0);
        for s in 0..secs {
            total += shape(start + s);
            cumulative.push(total);
        }
        Clock {
            start_ns,
            cumulative,
            flows: flows.max(1) as f64,
            cursor: 0,
        }
    }

    /// The receive time at position `at` (flow index plus a fraction) of the flows; calls must not go back.
    pub fn at(&mut self, at: f64) -> u64 {
        let seconds = self.cumulative.len() - 1;
        let target = (at / self.flows).clamp(0.0, 1.0) * self.cumulative[seconds];
        while self.cursor + 1 < seconds && self.cumulative[self.cursor + 1] <= target {
            self.cursor += 1;
        }
        let (lo, hi) = (self.cumulative[self.cursor], self.cumulative[self.cursor + 1]);
        let frac = ((target - lo) / (hi - lo)).clamp(0.0, 1.0 - 1e-9);
        self.start_ns + self.cursor as u64 * NANOS_PER_SEC + (frac * NANOS_PER_SEC as f64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIDNIGHT: u64 = 1_793_664_000 * NANOS_PER_SEC;

    #[test]
    fn evening_hours_receive_about_four_times_the_small_hours() {
        let flows = 1_000_000u64;
        let mut clock = Clock::new(MIDNIGHT, 86_400, flows);
        let mut per_hour = [0u32; 24];
        let mut last = 0;
        for k in 0..flows {
            let t = clock.at(k as f64 + 0.5);
            assert!(t >= last, "times go forward");
            last = t;
            per_hour[((t - MIDNIGHT) / 3600 / NANOS_PER_SEC) as usize] += 1;
        }
        let (night, evening) = (per_hour[4], per_hour[20]);
        let ratio = f64::from(evening) / f64::from(night);
        assert!((3.6..4.6).contains(&ratio), "20h {evening} vs 4h {night}");
        assert!(last < MIDNIGHT + 86_400 * NANOS_PER_SEC);
    }

    #[test]
    fn a_window_shorter_than_a_second_holds_every_flow() {
        let mut clock = Clock::new(MIDNIGHT, 0, 10);
        let times: Vec<u64> = (0..10).map(|k| clock.at(f64::from(k))).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert!(
            times
                .iter()
                .all(|&t| (MIDNIGHT..MIDNIGHT + NANOS_PER_SEC).contains(&t))
        );
    }
}
