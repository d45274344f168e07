//! Rate-limited logging: at most a few lines per key (an exporter) per interval, and a count of the lines
//! held back, so that one broken exporter cannot flood the log while its errors are still visible.
//!
//! The clock is passed in (nanoseconds), so `weir decode` limits by capture time and `weir serve` by the
//! wall clock.

use std::collections::HashMap;
use std::hash::Hash;

/// What to do with one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Log it; `suppressed` lines of this key were held back since the last logged one.
    Log {
        /// Lines held back before this one.
        suppressed: u64,
    },
    /// Hold it back (it is counted).
    Suppress,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: u64,
    logged: u32,
    suppressed: u64,
}

/// Allows `burst` lines per key in each `interval`.
#[derive(Debug)]
pub struct RateLimiter<K> {
    burst: u32,
    interval: u64,
    windows: HashMap<K, Window>,
    max_keys: usize,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// Keys tracked at once; past this, keys whose window has ended are forgotten, and lines of new keys
    /// are held back if none has.
    pub const MAX_KEYS: usize = 4096;

    /// At most `burst` lines per key in each `interval` nanoseconds.
    pub fn new(burst: u32, interval: u64) -> Self {
        Self {
            burst,
            interval,
            windows: HashMap::new(),
            max_keys: Self::MAX_KEYS,
        }
    }

    /// Decides about one line for `key` at time `now`.
    pub fn check(&mut self, key: &K, now: u64) -> Verdict {
        if !self.windows.contains_key(key) && self.windows.len() >= self.max_keys {
            let interval = self.interval;
            self.windows
                .retain(|_, w| now.saturating_sub(w.start) < interval || w.suppressed > 0);
            if self.windows.len() >= self.max_keys {
                return Verdict::Suppress;
            }
        }
        let w = self.windows.entry(key.clone()).or_insert(Window {
            start: now,
            logged: 0,
            suppressed: 0,
        });
        if now.saturating_sub(w.start) >= self.interval {
            w.start = now;
            w.logged = 0;
        }
        if w.logged < self.burst {
            w.logged += 1;
            Verdict::Log {
                suppressed: std::mem::take(&mut w.suppressed),
            }
        } else {
            w.suppressed += 1;
            Verdict::Suppress
        }
    }

    /// Lines held back and not yet reported, per key; resets them.
    pub fn take_suppressed(&mut self) -> Vec<(K, u64)> {
        self.windows
            .iter_mut()
            .filter(|(_, w)| w.suppressed > 0)
            .map(|(k, w)| (k.clone(), std::mem::take(&mut w.suppressed)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_a_burst_per_interval_and_counts_the_rest() {
        let mut r = RateLimiter::new(2, 10);
        assert_eq!(r.check(&"a", 0), Verdict::Log { suppressed: 0 });
        assert_eq!(r.check(&"a", 1), Verdict::Log { suppressed: 0 });
        assert_eq!(r.check(&"a", 2), Verdict::Suppress);
        assert_eq!(r.check(&"a", 3), Verdict::Suppress);
        assert_eq!(
            r.check(&"b", 3),
            Verdict::Log { suppressed: 0 },
            "keys are limited separately"
        );
        assert_eq!(r.check(&"a", 10), Verdict::Log { suppressed: 2 });
        assert_eq!(r.check(&"a", 11), Verdict::Log { suppressed: 0 });
        assert_eq!(r.check(&"a", 12), Verdict::Suppress);
        assert_eq!(r.take_suppressed(), vec![("a", 1)]);
        assert!(r.take_suppressed().is_empty());
    }

    #[test]
    fn bounds_the_keys_it_tracks() {
        let mut r = RateLimiter::new(1, 10);
        r.max_keys = 2;
        assert_eq!(r.check(&1, 0), Verdict::Log { suppressed: 0 });
        assert_eq!(r.check(&2, 0), Verdict::Log { suppressed: 0 });
        assert_eq!(r.check(&3, 5), Verdict::Suppress, "no window has ended yet");
        assert_eq!(
            r.check(&3, 10),
            Verdict::Log { suppressed: 0 },
            "ended windows are forgotten"
        );
        assert_eq!(r.windows.len(), 1);
    }
}
