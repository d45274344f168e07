//! The packet size distribution of `show ip cache flow`, in Cisco's buckets.

pub use weir_flow::codes::packet_size::BUCKETS;

/// Packets counted by size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PacketSizes {
    counts: [u64; BUCKETS.len()],
}

/// The bucket of an IP packet of `len` bytes.
#[inline]
pub fn bucket(len: u32) -> usize {
    if len <= 576 {
        (len.saturating_sub(1) / 32) as usize
    } else if len <= 1024 {
        18
    } else {
        (19 + (len - 1025) / 512).min(BUCKETS.len() as u32 - 1) as usize
    }
}

impl PacketSizes {
    /// Counts one packet of `len` bytes.
    #[inline]
    pub fn add(&mut self, len: u32) {
        self.counts[bucket(len)] += 1;
    }

    /// Packets counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Packets per bucket, in [`BUCKETS`] order.
    pub fn counts(&self) -> &[u64; BUCKETS.len()] {
        &self.counts
    }

    /// Adds another distribution's counts.
    pub fn merge(&mut self, other: &PacketSizes) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_go_to_the_first_bucket_at_least_their_size() {
        let cases = [
            (1, 0),
            (32, 0),
            (33, 1),
            (64, 1),
            (65, 2),
            (576, 17),
            (577, 18),
            (1024, 18),
            (1025, 19),
            (1500, 19),
            (1536, 19),
            (1537, 20),
            (4608, 25),
            (9000, 25),
            (0, 0),
        ];
        for (len, expected) in cases {
            assert_eq!(bucket(len), expected, "{len} bytes");
            assert!(
                len > 4608 || len == 0 || len <= BUCKETS[expected],
                "{len} above bucket bound"
            );
        }
        let mut sizes = PacketSizes::default();
        [40, 40, 1500].into_iter().for_each(|l| sizes.add(l));
        assert_eq!((sizes.total(), sizes.counts()[1], sizes.counts()[19]), (3, 2, 1));
    }
}
