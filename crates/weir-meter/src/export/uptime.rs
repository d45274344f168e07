//! The probe's uptime, which NetFlow v5, v8 and v9 headers carry and their records are stamped in.
//!
//! The probe "boots" at `start_ns` (for a capture, its first packet), and uptime is counted on the packets'
//! clock, so a capture exports the same datagrams however fast it is read. Uptime is 32-bit milliseconds
//! and wraps after 49.7 days, as a router's does; collectors take stamps modulo 2^32.

const MS: u64 = 1_000_000;
const SECOND: u64 = 1_000_000_000;

/// Uptime in milliseconds at `at` (nanoseconds since the epoch), wrapped at 2^32; 0 before the start.
pub(crate) fn uptime_ms(start_ns: u64, at: u64) -> u32 {
    (at.saturating_sub(start_ns) / MS) as u32
}

/// The instant a NetFlow v9 header is stamped at, for a datagram built at `now`: the next whole second.
///
/// The header has seconds and uptime but no fraction of a second, and collectors place uptime stamps by
/// the difference between the two, so both must name the same instant. That instant cannot be earlier than
/// the last packets of the datagram's flows: a stamp ahead of the header's uptime reads as 49 days old. So
/// the header names the next whole second (or `now` when it is one), and its uptime is the uptime then.
pub(crate) fn v9_header_instant(now: u64) -> u64 {
    now.div_ceil(SECOND).saturating_mul(SECOND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_wraps_at_two_to_the_32_milliseconds() {
        let start = 1_000 * SECOND;
        assert_eq!(uptime_ms(start, start + 1_500 * MS), 1_500);
        assert_eq!(uptime_ms(start, start - 1), 0, "before the start");
        assert_eq!(uptime_ms(start, start + ((1 << 32) + 7) * MS), 7);
    }

    #[test]
    fn v9_headers_name_the_next_whole_second() {
        assert_eq!(v9_header_instant(5 * SECOND), 5 * SECOND);
        assert_eq!(v9_header_instant(5 * SECOND + 1), 6 * SECOND);
        assert_eq!(
            v9_header_instant(u64::MAX),
            u64::MAX,
            "saturates rather than overflows"
        );
    }
}
