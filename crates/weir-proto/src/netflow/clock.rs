//! The export clock of NetFlow v1 to v8: each header gives the exporter's uptime next to its wall-clock time,
//! and records stamp their first and last packets in uptime, so the pair turns stamps into times.

use super::wire::Wire;
use crate::error::DecodeError;
use crate::reader::Reader;

/// Nanoseconds in one millisecond.
const NANOS_PER_MS: i64 = 1_000_000;

/// The three clock fields every NetFlow v1, v5, v7 and v8 header carries, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ExportClock {
    /// Milliseconds since the exporter booted, when it sent the datagram.
    pub sys_uptime: u32,
    /// Seconds since the Unix epoch, when it sent the datagram.
    pub unix_secs: u32,
    /// Nanoseconds past `unix_secs`.
    pub unix_nsecs: u32,
}

impl Wire for ExportClock {
    const LEN: usize = 12;

    #[inline]
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            sys_uptime: r.u32()?,
            unix_secs: r.u32()?,
            unix_nsecs: r.u32()?,
        })
    }

    fn write(&self, out: &mut Vec<u8>) {
        self.sys_uptime.write(out);
        self.unix_secs.write(out);
        self.unix_nsecs.write(out);
    }
}

impl ExportClock {
    /// The clock of an exporter that has been up `sys_uptime` ms at `now` (nanoseconds since the epoch).
    pub fn at(now: u64, sys_uptime: u32) -> Self {
        Self {
            sys_uptime,
            unix_secs: (now / 1_000_000_000) as u32,
            unix_nsecs: (now % 1_000_000_000) as u32,
        }
    }

    /// When the datagram was sent, in nanoseconds since the epoch.
    #[inline]
    pub fn export_time(&self) -> u64 {
        u64::from(self.unix_secs) * 1_000_000_000 + u64::from(self.unix_nsecs)
    }

    /// Milliseconds from uptime stamp `at` to the export, signed.
    ///
    /// Taken modulo 2^32: uptime wraps after 49.7 days, and a flow that started just before the wrap
    /// (`at` = 0xffff_fff0 with `sys_uptime` = 0x10) started 32 ms before the export, not 49 days after it.
    /// Some exporters stamp the header a little before the last packets, so a stamp slightly ahead of the
    /// header's uptime is read as slightly after the export. Stamps more than 24.8 days from the export are
    /// ambiguous; no flow cache keeps a flow that long.
    #[inline]
    fn ms_before_export(&self, at: u32) -> i64 {
        i64::from(self.sys_uptime.wrapping_sub(at) as i32)
    }

    /// The time, in nanoseconds since the epoch, of uptime stamp `at` (0 if that would be before 1970).
    #[inline]
    pub fn time_of(&self, at: u32) -> u64 {
        let t = self.export_time() as i64 - self.ms_before_export(at) * NANOS_PER_MS;
        t.max(0) as u64
    }

    /// The uptime stamp of time `t` (nanoseconds since the epoch), to the millisecond: the inverse of
    /// [`time_of`](Self::time_of) for times within 24.8 days of the export.
    pub fn uptime_of(&self, t: u64) -> u32 {
        let before = (i128::from(self.export_time()) - i128::from(t)).div_euclid(i128::from(NANOS_PER_MS));
        // Modulo 2^32, like the uptime itself.
        self.sys_uptime.wrapping_sub(before as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLOCK: ExportClock = ExportClock {
        sys_uptime: 0x0000_0d35,
        unix_secs: 1_430_591_888,
        unix_nsecs: 280_328_000,
    };

    #[test]
    fn stamps_before_the_export_are_earlier() {
        let export = CLOCK.export_time();
        assert_eq!(export, 1_430_591_888_280_328_000);
        assert_eq!(CLOCK.time_of(0x0d35), export);
        assert_eq!(CLOCK.time_of(0x0d35 - 1000), export - 1_000_000_000);
    }

    #[test]
    fn stamps_from_before_an_uptime_wrap_are_just_before_the_export() {
        // softflowd stamps a flow that began at boot with uptime -1.
        assert_eq!(CLOCK.time_of(0xffff_ffff), CLOCK.export_time() - 3_382_000_000);
    }

    #[test]
    fn stamps_ahead_of_the_header_are_just_after_the_export() {
        assert_eq!(CLOCK.time_of(0x0d35 + 5), CLOCK.export_time() + 5_000_000);
    }

    #[test]
    fn times_before_the_epoch_are_zero() {
        let c = ExportClock {
            sys_uptime: 10_000,
            unix_secs: 1,
            unix_nsecs: 0,
        };
        assert_eq!(c.time_of(0), 0);
    }

    #[test]
    fn uptime_of_inverts_time_of() {
        for at in [0, 1, 0x0d35, 0x0d36, 0x7fff_0000, 0xffff_ffff] {
            assert_eq!(CLOCK.uptime_of(CLOCK.time_of(at)), at, "stamp {at:#x}");
        }
        // Any time at all gives some stamp, without overflow.
        let _ = (CLOCK.uptime_of(0), CLOCK.uptime_of(u64::MAX));
        let now = 1_700_000_000_123_456_789;
        let c = ExportClock::at(now, 42);
        assert_eq!(c.export_time(), now);
        assert_eq!(c.uptime_of(now - 2_000_000), 40);
    }

    #[test]
    fn reads_and_writes_the_same_bytes() {
        let bytes = [0, 0, 0x0d, 0x35, 0x55, 0x45, 0x19, 0x90, 0x10, 0xb5, 0x77, 0x40];
        let mut r = Reader::new(&bytes);
        let c = ExportClock::read(&mut r).unwrap();
        assert_eq!(c, CLOCK);
        assert!(r.is_empty());
        let mut out = Vec::new();
        c.write(&mut out);
        assert_eq!(out, bytes);
    }
}
