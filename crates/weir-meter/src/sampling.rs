//! 1-in-N packet sampling before the cache, deterministic or random, as `ip flow-sampling` / `sampler` do.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// How packets are chosen for the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sampling {
    /// Every packet.
    #[default]
    Off,
    /// Every `n`th packet: the 1st, the (n+1)th, ...
    Deterministic(u32),
    /// Each packet with probability 1/`n`, from a generator seeded with `seed` (same seed, same choices).
    Random {
        /// One in this many.
        n: u32,
        /// Seed of the generator.
        seed: u64,
    },
}

impl Sampling {
    /// One packet in how many is kept (1 when off): the `sampling_rate` of the flows.
    pub fn rate(self) -> u32 {
        match self {
            Sampling::Off => 1,
            Sampling::Deterministic(n) | Sampling::Random { n, .. } => n,
        }
    }

    /// The NetFlow v5 header's sampling mode (1 deterministic, 2 random), 0 when off.
    pub fn mode(self) -> u8 {
        match self {
            Sampling::Off => 0,
            Sampling::Deterministic(_) => 1,
            Sampling::Random { .. } => 2,
        }
    }
}

/// A sampling setting that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("sampling `{0}`: expected `off`, `N`, `deterministic:N` or `random:N` with N from 1 to 65535")]
pub struct SamplingError(String);

impl FromStr for Sampling {
    type Err = SamplingError;

    /// `off`, `N` or `deterministic:N`, `random:N`. N is 1 to 65535, the most NetFlow v9 and IPFIX
    /// samplers announce in practice; NetFlow v5's 14-bit header field holds up to 16383, so a v5 export stream
    /// refuses larger rates rather than announce a wrong one.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || SamplingError(s.to_owned());
        let number = |n: &str| {
            n.parse::<u32>()
                .ok()
                .filter(|n| (1..=65535).contains(n))
                .ok_or_else(err)
        };
        match s.split_once(':') {
            _ if s == "off" => Ok(Sampling::Off),
            None => number(s).map(|n| {
                if n == 1 {
                    Sampling::Off
                } else {
                    Sampling::Deterministic(n)
                }
            }),
            Some(("deterministic", n)) => number(n).map(Sampling::Deterministic),
            Some(("random", n)) => number(n).map(|n| Sampling::Random { n, seed: 0x5eed_f10e }),
            Some(_) => Err(err()),
        }
    }
}

impl fmt::Display for Sampling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sampling::Off => f.write_str("off"),
            Sampling::Deterministic(n) => write!(f, "deterministic 1 in {n}"),
            Sampling::Random { n, .. } => write!(f, "random 1 in {n}"),
        }
    }
}

/// The running sampler.
#[derive(Debug, Clone)]
pub struct Sampler {
    sampling: Sampling,
    count: u32,
    state: u64,
}

impl Sampler {
    /// A sampler starting at its first packet.
    pub fn new(sampling: Sampling) -> Self {
        let state = match sampling {
            Sampling::Random { seed, .. } => seed | 1,
            _ => 1,
        };
        Sampler {
            sampling,
            count: 0,
            state,
        }
    }

    /// Whether the next packet goes to the cache.
    #[inline]
    pub fn take(&mut self) -> bool {
        match self.sampling {
            Sampling::Off => true,
            Sampling::Deterministic(n) => {
                let take = self.count == 0;
                self.count = if self.count + 1 == n { 0 } else { self.count + 1 };
                take
            }
            Sampling::Random { n, .. } => {
                // xorshift64*: fast, and good enough to pick packets; not for anything secret.
                self.state ^= self.state >> 12;
                self.state ^= self.state << 25;
                self.state ^= self.state >> 27;
                let r = self.state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32;
                r.is_multiple_of(u64::from(n))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_sampling_takes_every_nth_packet_from_the_first() {
        let mut s = Sampler::new(Sampling::Deterministic(3));
        let taken: Vec<bool> = (0..7).map(|_| s.take()).collect();
        assert_eq!(taken, [true, false, false, true, false, false, true]);
    }

    #[test]
    fn random_sampling_keeps_about_one_in_n_and_repeats_with_its_seed() {
        let sampling = Sampling::Random { n: 100, seed: 42 };
        let mut a = Sampler::new(sampling);
        let mut b = Sampler::new(sampling);
        let kept = (0..1_000_000).filter(|_| a.take()).count();
        assert!((9_500..10_500).contains(&kept), "{kept} of 1000000 at 1 in 100");
        let mut c = Sampler::new(sampling);
        let first: Vec<bool> = (0..1000).map(|_| b.take()).collect();
        let again: Vec<bool> = (0..1000).map(|_| c.take()).collect();
        assert_eq!(first, again);
    }

    #[test]
    fn parses_sampling_settings_and_refuses_bad_ones() {
        assert_eq!("off".parse(), Ok(Sampling::Off));
        assert_eq!("1".parse(), Ok(Sampling::Off));
        assert_eq!("100".parse(), Ok(Sampling::Deterministic(100)));
        assert_eq!("deterministic:10".parse(), Ok(Sampling::Deterministic(10)));
        assert!(matches!("random:10".parse(), Ok(Sampling::Random { n: 10, .. })));
        for bad in ["0", "random:0", "100000", "sometimes:3", "x"] {
            let err = bad.parse::<Sampling>().unwrap_err();
            assert!(err.to_string().starts_with(&format!("sampling `{bad}`")), "{err}");
        }
        assert_eq!(
            (Sampling::Deterministic(10).rate(), Sampling::Off.rate()),
            (10, 1)
        );
    }
}
