//! The time range of a query as users give it: `--since 1h`, or `--from` and `--to` as RFC 3339 times,
//! dates or `now`.

use std::time::Duration;

use thiserror::Error;
use weir_flow::time::{NANOS_PER_SEC, Rfc3339};
use weir_query::backend::TimeRange;
use weir_query::filter::parse_time;

/// Why a time range was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RangeError {
    /// `--since` is not a duration.
    #[error("--since {text:?} is not a duration (e.g. 15m, 1h, 7d): {reason}")]
    Since {
        /// What was given.
        text: String,
        /// Why it was refused.
        reason: String,
    },
    /// `--from` or `--to` is not a time.
    #[error("--{flag} {reason}")]
    Time {
        /// `from` or `to`.
        flag: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// The range holds no instant.
    #[error("the range is empty: --from {from} is not before --to {to}")]
    Empty {
        /// The start, as given.
        from: String,
        /// The end, as given.
        to: String,
    },
}

/// The range `[from, to)` asked for, at `now` (ns). Without `--since` or `--from`, the last hour.
pub fn parse(
    since: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    now: u64,
) -> Result<TimeRange, RangeError> {
    let to_ns = match to {
        Some(t) => time("to", t, now)?,
        None => now,
    };
    let from_ns = match (since, from) {
        (Some(s), _) => {
            let d = humantime::parse_duration(s).map_err(|e| RangeError::Since {
                text: s.to_owned(),
                reason: e.to_string(),
            })?;
            to_ns.saturating_sub(nanos(d))
        }
        (None, Some(f)) => time("from", f, now)?,
        (None, None) => to_ns.saturating_sub(3600 * NANOS_PER_SEC),
    };
    if from_ns >= to_ns {
        return Err(RangeError::Empty {
            from: Rfc3339(from_ns).to_string(),
            to: Rfc3339(to_ns).to_string(),
        });
    }
    Ok(TimeRange::new(from_ns, to_ns))
}

/// A time as given: `now`, an RFC 3339 time, a date (its midnight UTC) or nanoseconds.
fn time(flag: &'static str, text: &str, now: u64) -> Result<u64, RangeError> {
    if text == "now" {
        return Ok(now);
    }
    parse_time(text).map_err(|reason| RangeError::Time { flag, reason })
}

/// A duration in nanoseconds, saturating.
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_764_000_000 * NANOS_PER_SEC;
    const HOUR: u64 = 3600 * NANOS_PER_SEC;

    #[test]
    fn since_counts_back_from_now_or_from_to() {
        assert_eq!(
            parse(Some("1h"), None, None, NOW),
            Ok(TimeRange::new(NOW - HOUR, NOW))
        );
        assert_eq!(
            parse(Some("90m"), None, Some("2024-03-01T12:00:00Z"), NOW).map(|r| r.len_ns()),
            Ok(90 * 60 * NANOS_PER_SEC)
        );
    }

    #[test]
    fn the_default_is_the_last_hour() {
        assert_eq!(parse(None, None, None, NOW), Ok(TimeRange::new(NOW - HOUR, NOW)));
    }

    #[test]
    fn from_and_to_take_times_dates_and_now() {
        let r = parse(None, Some("2024-03-01"), Some("2024-03-01T06:00:00+01:00"), NOW).unwrap();
        assert_eq!(r.len_ns(), 5 * HOUR);
        assert_eq!(
            parse(None, Some("2024-03-01"), Some("now"), NOW).map(|r| r.to),
            Ok(NOW)
        );
    }

    #[test]
    fn refuses_bad_and_empty_ranges() {
        assert!(matches!(
            parse(Some("an hour"), None, None, NOW),
            Err(RangeError::Since { .. })
        ));
        let e = parse(None, Some("yesterday"), None, NOW).unwrap_err();
        assert!(
            e.to_string().starts_with("--from `yesterday` is not a time"),
            "{e}"
        );
        let e = parse(None, Some("2024-03-02"), Some("2024-03-01"), NOW).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the range is empty: --from 2024-03-02T00:00:00Z is not before --to 2024-03-01T00:00:00Z"
        );
    }
}
