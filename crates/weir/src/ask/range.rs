//! The time range of a query as users give it: `since` 1h, or `from` and `to` as RFC 3339 times, dates
//! or `now`.

use std::time::Duration;

use weir_flow::time::{NANOS_PER_SEC, Rfc3339};
use weir_query::backend::TimeRange;
use weir_query::filter::parse_time;

use super::WordError;

/// The range `[from, to)` asked for, at `now` (ns). Without `since` or `from`, the last hour.
pub fn parse(
    since: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    now: u64,
) -> Result<TimeRange, WordError> {
    let to_ns = match to {
        Some(t) => time("to", t, now)?,
        None => now,
    };
    let from_ns = match (since, from) {
        (Some(s), _) => {
            let d = humantime::parse_duration(s).map_err(|e| {
                WordError::new(
                    "since",
                    format!("{s:?} is not a duration (e.g. 15m, 1h, 7d): {e}"),
                )
            })?;
            to_ns.saturating_sub(nanos(d))
        }
        (None, Some(f)) => time("from", f, now)?,
        (None, None) => to_ns.saturating_sub(3600 * NANOS_PER_SEC),
    };
    if from_ns >= to_ns {
        return Err(WordError::new(
            "from",
            format!(
                "the range is empty: {} is not before {}",
                Rfc3339(from_ns),
                Rfc3339(to_ns)
            ),
        ));
    }
    Ok(TimeRange::new(from_ns, to_ns))
}

/// A time as given: `now`, an RFC 3339 time, a date (its midnight UTC) or nanoseconds.
fn time(param: &'static str, text: &str, now: u64) -> Result<u64, WordError> {
    if text == "now" {
        return Ok(now);
    }
    parse_time(text).map_err(|reason| WordError::new(param, reason))
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
        assert_eq!(
            parse(Some("an hour"), None, None, NOW).unwrap_err().param,
            "since"
        );
        let e = parse(None, Some("yesterday"), None, NOW).unwrap_err();
        assert!(
            e.to_string().starts_with("from: `yesterday` is not a time"),
            "{e}"
        );
        let e = parse(None, Some("2024-03-02"), Some("2024-03-01"), NOW).unwrap_err();
        assert_eq!(
            e.to_string(),
            "from: the range is empty: 2024-03-02T00:00:00Z is not before 2024-03-01T00:00:00Z"
        );
    }
}
