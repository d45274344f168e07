//! Values of `weir probe` options that need more than a number: durations, export formats and
//! aggregation caches.

use std::str::FromStr;
use std::time::Duration;

use thiserror::Error;
use weir_meter::aggregate::{AggregateConfig, Scheme};

/// A duration written `15s`, `30m`, `1h`, `500ms` or a bare number of seconds.
pub fn duration(s: &str) -> Result<Duration, String> {
    let (number, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (like 15s, 30m, 1h, 500ms)"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("`{s}` is out of range"))
}

/// The export format of a stream, as users name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// NetFlow v5 (IPv4 only; IPv6 flows are counted and skipped).
    V5,
    /// NetFlow v8 (aggregation caches only).
    V8,
    /// NetFlow v9.
    V9,
    /// IPFIX.
    Ipfix,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        <Format as clap::ValueEnum>::from_str(s, true)
            .map_err(|_| format!("unknown format `{s}` (v5, v8, v9, ipfix)"))
    }
}

/// One `--aggregate` option: a cache, its export format and where it sends.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateSpec {
    /// The cache's settings.
    pub config: AggregateConfig,
    /// How its records are exported: v8 unless the scheme has no v8 layout, then v9.
    pub format: Format,
    /// Destinations of its export datagrams (`host:port`).
    pub export: Vec<String>,
}

/// An `--aggregate` value that cannot be used; says which part and why.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("--aggregate `{spec}`: {reason}")]
pub struct AggregateSpecError {
    spec: String,
    reason: String,
}

impl FromStr for AggregateSpec {
    type Err = AggregateSpecError;

    /// `SCHEME[,entries=N][,inactive=DUR][,active=DUR][,src-mask=N][,dst-mask=N][,format=v8|v9|ipfix]
    /// [,export=HOST:PORT]...`, e.g. `prefix,dst-mask=16,export=127.0.0.1:9996`.
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let fail = |reason: String| AggregateSpecError {
            spec: spec.to_owned(),
            reason,
        };
        let mut parts = spec.split(',').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let scheme: Scheme = name
            .parse()
            .map_err(|e: weir_meter::aggregate::UnknownScheme| fail(e.to_string()))?;
        let mut config = AggregateConfig::new(scheme);
        let mut format = None;
        let mut export = Vec::new();
        for part in parts {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| fail(format!("`{part}` is not a setting (name=value)")))?;
            let number = |v: &str| {
                v.parse::<u64>()
                    .map_err(|_| fail(format!("{key}: `{v}` is not a number")))
            };
            match key {
                "entries" => config.entries = number(value)? as usize,
                "inactive" => {
                    config.inactive_timeout = duration(value).map_err(|e| fail(format!("inactive: {e}")))?
                }
                "active" => {
                    config.active_timeout = duration(value).map_err(|e| fail(format!("active: {e}")))?
                }
                "src-mask" => config.src_min_mask = u8::try_from(number(value)?).unwrap_or(u8::MAX),
                "dst-mask" => config.dst_min_mask = u8::try_from(number(value)?).unwrap_or(u8::MAX),
                "format" => format = Some(value.parse::<Format>().map_err(fail)?),
                "export" => export.push(value.to_owned()),
                _ => {
                    return Err(fail(format!(
                        "unknown setting `{key}` (entries, inactive, active, src-mask, dst-mask, format, export)"
                    )));
                }
            }
        }
        config.validate().map_err(|e| fail(e.to_string()))?;
        let format = match format {
            Some(Format::V5) => return Err(fail("aggregation caches export v8, v9 or ipfix, not v5".into())),
            Some(Format::V8) if scheme.v8().is_none() => {
                return Err(fail(format!(
                    "{} has no NetFlow v8 layout: use format=v9 or ipfix",
                    scheme.name()
                )));
            }
            Some(f) => f,
            None if scheme.v8().is_some() => Format::V8,
            None => Format::V9,
        };
        Ok(AggregateSpec {
            config,
            format,
            export,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_durations_with_units() {
        assert_eq!(duration("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("20"), Ok(Duration::from_secs(20)));
        assert_eq!(
            duration("5d").unwrap_err(),
            "`5d`: unknown unit `d` (ms, s, m, h)"
        );
        assert!(duration("fast").unwrap_err().contains("is not a duration"));
    }

    #[test]
    fn reads_aggregation_caches_with_their_settings() {
        let spec: AggregateSpec = "prefix,entries=1024,inactive=10s,dst-mask=16,export=127.0.0.1:9996"
            .parse()
            .unwrap();
        assert_eq!(spec.config.scheme, Scheme::Prefix);
        assert_eq!((spec.config.entries, spec.config.dst_min_mask), (1024, 16));
        assert_eq!(spec.config.inactive_timeout, Duration::from_secs(10));
        assert_eq!(
            (spec.format, spec.export),
            (Format::V8, vec!["127.0.0.1:9996".to_owned()])
        );
        let spec: AggregateSpec = "bgp-nexthop-tos".parse().unwrap();
        assert_eq!(spec.format, Format::V9);
    }

    #[test]
    fn refuses_bad_aggregation_caches_precisely() {
        let err = |s: &str| s.parse::<AggregateSpec>().unwrap_err().to_string();
        assert!(
            err("prefixes").starts_with("--aggregate `prefixes`: "),
            "{}",
            err("prefixes")
        );
        assert!(err("as,colour=red").contains("unknown setting `colour`"));
        assert!(err("as,entries=lots").contains("entries: `lots` is not a number"));
        assert!(err("as,format=v5").contains("not v5"));
        assert!(err("bgp-nexthop-tos,format=v8").contains("has no NetFlow v8 layout"));
        assert!(err("as,entries=0").starts_with("--aggregate `as,entries=0`: "));
    }
}
