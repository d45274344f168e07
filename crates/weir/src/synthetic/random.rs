//! The generator's randomness: a seeded stream, a hash that derives fixed properties from an identity, and
//! the skewed and weighted choices traffic is made of.
//!
//! Everything is a function of the seed, so the same seed writes the same flows. Fixed properties (which AS
//! an address belongs to, an AS's country) come from [`mix`] of the seed and the thing's number rather than
//! from the stream, so they stay the same however often and in whatever order the thing is drawn.

/// SplitMix64: one addition and a finaliser per number, full period, good enough for test data and fast.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A stream for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(mix(seed, 0x5eed))
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        finalise(self.0)
    }

    /// Uniform in `[0, 1)`.
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[0, n)`; 0 when `n` is 0 (Lemire's multiply-shift, without the rejection step: the bias is
    /// below 2^-32 for the small ranges used here).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    #[inline]
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `p`.
    #[inline]
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A Pareto-distributed value of minimum `xm` and shape `alpha` (a heavy tail: the smaller `alpha`, the
    /// heavier), capped at `cap`.
    #[inline]
    pub fn pareto(&mut self, xm: f64, alpha: f64, cap: f64) -> f64 {
        let u = 1.0 - self.unit();
        (xm / u.powf(1.0 / alpha)).min(cap)
    }
}

/// The SplitMix64 finaliser: a bijection of 64-bit values that spreads every input bit over the output.
#[inline]
fn finalise(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A hash of `(seed, x)`: the fixed random properties of thing number `x`.
#[inline]
pub fn mix(seed: u64, x: u64) -> u64 {
    finalise(seed ^ finalise(x.wrapping_add(0x632b_e59b_d9b4_e019)))
}

/// Zipf's law over ranks `1..=n` with exponent `s` (rank k drawn with probability proportional to
/// `k^-s`), sampled by rejection-inversion (Hörmann and Derflinger, 1996): constant time and no table, so a
/// million addresses cost nothing to set up.
#[derive(Debug, Clone, Copy)]
pub struct Zipf {
    n: f64,
    s: f64,
    h_x1: f64,
    h_n: f64,
    threshold: f64,
}

impl Zipf {
    /// Ranks `1..=n` (at least 1) with exponent `s` (above 0).
    pub fn new(n: u64, s: f64) -> Zipf {
        let n = n.max(1) as f64;
        let mut z = Zipf {
            n,
            s,
            h_x1: 0.0,
            h_n: 0.0,
            threshold: 0.0,
        };
        z.h_x1 = z.h_integral(1.5) - 1.0;
        z.h_n = z.h_integral(n + 0.5);
        z.threshold = 2.0 - z.h_integral_inverse(z.h_integral(2.5) - z.h(2.0));
        z
    }

    /// A rank, from 0 (the most frequent) to `n - 1`.
    pub fn sample(&self, rng: &mut Rng) -> u64 {
        loop {
            let u = self.h_n + rng.unit() * (self.h_x1 - self.h_n);
            let x = self.h_integral_inverse(u);
            let k = (x + 0.5).floor().clamp(1.0, self.n);
            if k - x <= self.threshold || u >= self.h_integral(k + 0.5) - self.h(k) {
                return k as u64 - 1;
            }
        }
    }

    fn h(&self, x: f64) -> f64 {
        (-self.s * x.ln()).exp()
    }

    fn h_integral(&self, x: f64) -> f64 {
        let log_x = x.ln();
        expm1_over_x((1.0 - self.s) * log_x) * log_x
    }

    fn h_integral_inverse(&self, x: f64) -> f64 {
        let t = (x * (1.0 - self.s)).max(-1.0);
        (ln1p_over_x(t) * x).exp()
    }
}

/// `ln(1 + x) / x`, continuous at 0.
fn ln1p_over_x(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        x.ln_1p() / x
    } else {
        1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x))
    }
}

/// `(e^x - 1) / x`, continuous at 0.
fn expm1_over_x(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        x.exp_m1() / x
    } else {
        1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x))
    }
}

/// A choice among a few items by weight: a cumulative table searched in order, which for a dozen items is
/// faster than anything cleverer.
#[derive(Debug, Clone)]
pub struct Weighted {
    cumulative: Vec<f64>,
}

impl Weighted {
    /// Items `0..weights.len()`, each with its (non-negative, not all zero) weight.
    pub fn new(weights: impl IntoIterator<Item = f64>) -> Weighted {
        let mut total = 0.0;
        let mut cumulative: Vec<f64> = weights
            .into_iter()
            .map(|w| {
                total += w.max(0.0);
                total
            })
            .collect();
        for c in &mut cumulative {
            *c /= total;
        }
        Weighted { cumulative }
    }

    /// An item drawn from the stream.
    #[inline]
    pub fn sample(&self, rng: &mut Rng) -> usize {
        self.pick(rng.unit())
    }

    /// The item at cumulative position `u` in `[0, 1)`: the same `u` always gives the same item, for
    /// properties derived with [`mix`].
    #[inline]
    pub fn pick(&self, u: f64) -> usize {
        self.cumulative
            .iter()
            .position(|&c| u < c)
            .unwrap_or(self.cumulative.len().saturating_sub(1))
    }
}

/// A hash turned into a uniform value in `[0, 1)`.
#[inline]
pub fn unit_of(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_ranks_follow_the_power_law() {
        let zipf = Zipf::new(1000, 1.0);
        let mut rng = Rng::new(3);
        let mut counts = vec![0u32; 1000];
        let draws = 400_000;
        for _ in 0..draws {
            counts[zipf.sample(&mut rng) as usize] += 1;
        }
        // P(rank k) = 1 / (k * H_1000), H_1000 = 7.4855.
        let expect = |k: f64| draws as f64 / (k * 7.4855);
        for (rank, count) in [(1, counts[0]), (2, counts[1]), (10, counts[9])] {
            let e = expect(f64::from(rank));
            assert!(
                (f64::from(count) - e).abs() < 0.05 * e,
                "rank {rank}: {count} draws, expected about {e:.0}"
            );
        }
        assert!(counts[999] > 0, "the last rank is drawn too");
    }

    #[test]
    fn zipf_stays_in_range_for_one_rank_and_steep_exponents() {
        let mut rng = Rng::new(5);
        let one = Zipf::new(1, 1.2);
        let steep = Zipf::new(50, 3.0);
        for _ in 0..10_000 {
            assert_eq!(one.sample(&mut rng), 0);
            assert!(steep.sample(&mut rng) < 50);
        }
    }

    #[test]
    fn weighted_choice_follows_weights_and_never_picks_a_zero_weight() {
        let w = Weighted::new([1.0, 0.0, 3.0]);
        let mut rng = Rng::new(9);
        let mut counts = [0u32; 3];
        for _ in 0..40_000 {
            counts[w.sample(&mut rng)] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!((9_000..11_000).contains(&counts[0]), "{counts:?}");
        assert_eq!(w.pick(0.999_999_9), 2);
    }

    #[test]
    fn same_seed_same_stream_and_below_stays_below() {
        let (mut a, mut b, mut c) = (Rng::new(1), Rng::new(1), Rng::new(2));
        let xs: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
        assert_eq!(xs, (0..100).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert_ne!(xs, (0..100).map(|_| c.next_u64()).collect::<Vec<_>>());
        assert!((0..10_000).all(|_| a.below(7) < 7));
        assert!((0..10_000).all(|_| (3..=5).contains(&a.range(3, 5))));
    }
}
