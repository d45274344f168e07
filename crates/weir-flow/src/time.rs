//! Timestamps: nanoseconds since the Unix epoch, printed as RFC 3339 in UTC.

use std::fmt;

/// Nanoseconds in one second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// Formats nanoseconds since the epoch as RFC 3339 UTC, with only as many fractional digits as needed
/// (`2024-03-01T12:00:00Z`, `2024-03-01T12:00:00.250Z`).
#[derive(Debug, Clone, Copy)]
pub struct Rfc3339(pub u64);

impl Rfc3339 {
    /// The longest form: `YYYY-MM-DDTHH:MM:SS.fffffffffZ` (years stay below 10000 in a `u64` of nanoseconds).
    pub const MAX_LEN: usize = 30;

    /// The formatted bytes in a stack buffer, and how many of them are used: the NDJSON writer copies them
    /// without going through `fmt`.
    pub fn to_bytes(self) -> ([u8; Self::MAX_LEN], usize) {
        let secs = self.0 / NANOS_PER_SEC;
        let nanos = (self.0 % NANOS_PER_SEC) as u32;
        let (y, m, d) = civil_from_days((secs / 86_400) as i64);
        let rem = (secs % 86_400) as u32;
        let mut b = *b"0000-00-00T00:00:00.000000000Z";
        let two = |b: &mut [u8], at: usize, v: u32| {
            b[at] = b'0' + (v / 10) as u8;
            b[at + 1] = b'0' + (v % 10) as u8;
        };
        let y = y.clamp(0, 9999) as u32;
        two(&mut b, 0, y / 100);
        two(&mut b, 2, y % 100);
        two(&mut b, 5, m);
        two(&mut b, 8, d);
        two(&mut b, 11, rem / 3600);
        two(&mut b, 14, rem / 60 % 60);
        two(&mut b, 17, rem % 60);
        if nanos == 0 {
            b[19] = b'Z';
            return (b, 20);
        }
        let mut digits = 9;
        let mut n = nanos;
        while n.is_multiple_of(10) {
            n /= 10;
            digits -= 1;
        }
        for i in (0..digits).rev() {
            b[20 + i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        b[20 + digits] = b'Z';
        (b, 21 + digits)
    }
}

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (bytes, len) = self.to_bytes();
        f.write_str(std::str::from_utf8(&bytes[..len]).map_err(|_| fmt::Error)?)
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Days since 1970-01-01 of a (year, month, day), the inverse of `civil_from_days`.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_with_trimmed_fraction() {
        assert_eq!(Rfc3339(0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Rfc3339(1_709_294_400_250_000_000).to_string(),
            "2024-03-01T12:00:00.25Z"
        );
        assert_eq!(
            Rfc3339(951_782_400 * NANOS_PER_SEC + 1).to_string(),
            "2000-02-29T00:00:00.000000001Z"
        );
    }

    #[test]
    fn days_round_trip() {
        for days in [-1000, 0, 11_016, 19_783, 30_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
