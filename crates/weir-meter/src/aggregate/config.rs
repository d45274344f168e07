//! An aggregation cache's settings, with Cisco's defaults.

use std::time::Duration;

use thiserror::Error;

use super::scheme::Scheme;

/// The most entries a cache may be given: far more than Cisco's 524,288, and few enough that the slab's
/// `u32` slot numbers and the memory it takes (see [`AggregationCache::entry_bytes`]) stay reasonable.
///
/// [`AggregationCache::entry_bytes`]: super::AggregationCache::entry_bytes
pub const MAX_ENTRIES: usize = 1 << 24;

/// How one aggregation cache is set up (`ip flow-aggregation cache SCHEME` and its sub-commands).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AggregateConfig {
    /// The scheme.
    pub scheme: Scheme,
    /// Most aggregates held at once (`cache entries`); when full, the least recently updated one is
    /// exported early to make room. Default 4096.
    pub entries: usize,
    /// An aggregate no flow was added to for this long is exported (`cache timeout inactive`). Default 15 s.
    pub inactive_timeout: Duration,
    /// An aggregate this old is exported, however busy (`cache timeout active`). Default 30 min.
    pub active_timeout: Duration,
    /// Source prefixes are masked to at least this many bits (`mask source minimum`); only for schemes that
    /// keep the source prefix. Default 0: the route's mask.
    pub src_min_mask: u8,
    /// Destination prefixes are masked to at least this many bits (`mask destination minimum`); only for
    /// schemes that keep the destination prefix. Default 0: the route's mask.
    pub dst_min_mask: u8,
}

impl AggregateConfig {
    /// A cache of `scheme` with Cisco's defaults.
    pub const fn new(scheme: Scheme) -> Self {
        Self {
            scheme,
            entries: 4096,
            inactive_timeout: Duration::from_secs(15),
            active_timeout: Duration::from_secs(30 * 60),
            src_min_mask: 0,
            dst_min_mask: 0,
        }
    }

    /// Checks the settings against each other and the limits.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=MAX_ENTRIES).contains(&self.entries) {
            return Err(ConfigError::Entries(self.entries));
        }
        let keys = self.scheme.keys();
        for (mask, kept, side) in [
            (self.src_min_mask, keys.src_prefix, "source"),
            (self.dst_min_mask, keys.dst_prefix, "destination"),
        ] {
            if mask > 128 {
                return Err(ConfigError::MaskTooLong { side, mask });
            }
            if mask > 0 && !kept {
                return Err(ConfigError::MaskWithoutPrefix {
                    scheme: self.scheme,
                    side,
                });
            }
        }
        Ok(())
    }
}

/// Settings an aggregation cache cannot run with.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// An entry count of 0 or above [`MAX_ENTRIES`].
    #[error("cache entries {0} is not between 1 and {MAX_ENTRIES}")]
    Entries(usize),
    /// A minimum mask longer than any address.
    #[error("{side} minimum mask {mask} is longer than 128 bits")]
    MaskTooLong {
        /// `source` or `destination`.
        side: &'static str,
        /// The mask.
        mask: u8,
    },
    /// A minimum mask for a prefix the scheme does not keep (Cisco refuses the command too).
    #[error("the {scheme} scheme keeps no {side} prefix, so it takes no {side} minimum mask")]
    MaskWithoutPrefix {
        /// The scheme.
        scheme: Scheme,
        /// `source` or `destination`.
        side: &'static str,
    },
}
