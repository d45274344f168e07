//! How a flow cache is sized and aged, checked before the first packet.

use thiserror::Error;

use super::key::KeySet;

const SECOND: u64 = 1_000_000_000;

/// Settings of one flow cache. Timeouts are in nanoseconds of the packets' own clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// Most flows held at once (`ip flow-cache entries`; Cisco's default is 4096).
    pub entries: usize,
    /// A flow with no packet for this long is expired (`ip flow-cache timeout inactive`, default 15 s).
    pub inactive_ns: u64,
    /// A flow alive this long is expired even if packets keep coming (`timeout active`, default 30 min);
    /// its next packet starts a new entry.
    pub active_ns: u64,
    /// How often the ager walks the cache, on the packets' clock (default 1 s).
    pub ager_interval_ns: u64,
    /// Fill level, in percent, above which emergency aging shortens the inactive timeout (default 90).
    pub emergency_percent: u8,
    /// Which fields make the key.
    pub key: KeySet,
    /// Interface index recorded as the flows' input interface.
    pub in_if: u32,
    /// Interface index recorded as the flows' output interface.
    pub out_if: u32,
    /// Direction recorded in the flows (see `weir_flow::codes::direction`).
    pub direction: u8,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            entries: 4096,
            inactive_ns: 15 * SECOND,
            active_ns: 30 * 60 * SECOND,
            ager_interval_ns: SECOND,
            emergency_percent: 90,
            key: KeySet::TRADITIONAL,
            in_if: 0,
            out_if: 0,
            direction: weir_flow::codes::direction::INGRESS,
        }
    }
}

/// The ranges settings must fall in.
pub mod limits {
    /// Fewest entries: fewer would make every flow a cache-full eviction.
    pub const MIN_ENTRIES: usize = 16;
    /// Most entries: slot numbers are 32-bit.
    pub const MAX_ENTRIES: usize = 1 << 28;
    /// Shortest inactive timeout, 1 s (Cisco allows 10 s).
    pub const MIN_INACTIVE_S: u64 = 1;
    /// Longest inactive timeout, 1 h (Cisco allows 600 s).
    pub const MAX_INACTIVE_S: u64 = 3600;
    /// Shortest active timeout, 1 s (Cisco allows 1 min).
    pub const MIN_ACTIVE_S: u64 = 1;
    /// Longest active timeout, 24 h (Cisco allows 60 min).
    pub const MAX_ACTIVE_S: u64 = 86_400;
}

/// A setting out of its range.
#[derive(Debug, Error, PartialEq)]
pub enum ConfigError {
    /// The entry count is out of range.
    #[error("cache entries {0} out of range {min}..={max}", min = limits::MIN_ENTRIES, max = limits::MAX_ENTRIES)]
    Entries(usize),
    /// The inactive timeout is out of range.
    #[error(
        "inactive timeout {0} s out of range {min}..={max} s",
        min = limits::MIN_INACTIVE_S,
        max = limits::MAX_INACTIVE_S
    )]
    Inactive(f64),
    /// The active timeout is out of range.
    #[error("active timeout {0} s out of range {min}..={max} s", min = limits::MIN_ACTIVE_S, max = limits::MAX_ACTIVE_S)]
    Active(f64),
    /// The ager would run less often than flows time out, or never.
    #[error("ager interval {0} s must be above 0 and at most the inactive timeout")]
    AgerInterval(f64),
    /// The emergency threshold is not a fill percentage below 100.
    #[error("emergency aging threshold {0} % must be between 50 and 99")]
    Emergency(u8),
}

fn secs(ns: u64) -> f64 {
    ns as f64 / SECOND as f64
}

impl CacheConfig {
    /// Refuses settings out of range, naming the setting and the range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(limits::MIN_ENTRIES..=limits::MAX_ENTRIES).contains(&self.entries) {
            return Err(ConfigError::Entries(self.entries));
        }
        if !(limits::MIN_INACTIVE_S * SECOND..=limits::MAX_INACTIVE_S * SECOND).contains(&self.inactive_ns) {
            return Err(ConfigError::Inactive(secs(self.inactive_ns)));
        }
        if !(limits::MIN_ACTIVE_S * SECOND..=limits::MAX_ACTIVE_S * SECOND).contains(&self.active_ns) {
            return Err(ConfigError::Active(secs(self.active_ns)));
        }
        if self.ager_interval_ns == 0 || self.ager_interval_ns > self.inactive_ns {
            return Err(ConfigError::AgerInterval(secs(self.ager_interval_ns)));
        }
        if !(50..=99).contains(&self.emergency_percent) {
            return Err(ConfigError::Emergency(self.emergency_percent));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_settings_out_of_range_by_name() {
        assert_eq!(CacheConfig::default().validate(), Ok(()));
        let cases = [
            (
                CacheConfig {
                    entries: 3,
                    ..Default::default()
                },
                "cache entries 3 out of range 16..=268435456",
            ),
            (
                CacheConfig {
                    inactive_ns: 0,
                    ..Default::default()
                },
                "inactive timeout 0 s out of range 1..=3600 s",
            ),
            (
                CacheConfig {
                    active_ns: 100_000 * SECOND,
                    ..Default::default()
                },
                "active timeout 100000 s out of range 1..=86400 s",
            ),
            (
                CacheConfig {
                    ager_interval_ns: 20 * SECOND,
                    ..Default::default()
                },
                "ager interval 20 s must be above 0 and at most the inactive timeout",
            ),
            (
                CacheConfig {
                    emergency_percent: 100,
                    ..Default::default()
                },
                "emergency aging threshold 100 % must be between 50 and 99",
            ),
        ];
        for (config, message) in cases {
            assert_eq!(config.validate().unwrap_err().to_string(), message);
        }
    }
}
