//! Questions about stored flows as people write them, in words: what `weir query`'s flags and the HTTP
//! API's parameters both say. One reading of those words into a [`Query`] keeps the command line and the
//! API answering the same question the same way, with the same errors.

mod range;
mod value;

use std::net::IpAddr;

use thiserror::Error;
use weir_query::backend::Value;
use weir_query::filter::{self, FilterError};
use weir_query::plan::{self, Agg, Direction, Flows, Kind, Metric, Order, Query, Series, TopN, Unit};

pub use value::{exact, json_value};

/// The kinds of question, as named on the command line (`--summary`) and in the API's paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// Flows, bytes and packets in all and per exporter.
    Summary,
    /// Packet size distribution.
    Sizes,
    /// The flows themselves.
    Flows,
    /// Traffic over time.
    Series,
    /// The keys with the most traffic.
    Top,
}

/// The words of a question; `None` leaves the default.
#[derive(Debug, Clone, Default)]
pub struct Words {
    /// The filter's text.
    pub filter: Option<String>,
    /// A duration back from `to` (`15m`, `1h`).
    pub since: Option<String>,
    /// Start of the range: RFC 3339, a date, nanoseconds or `now`.
    pub from: Option<String>,
    /// End of the range (not included). Default: now.
    pub to: Option<String>,
    /// Top-N dimensions, or the dimensions a series is split by.
    pub dims: Vec<String>,
    /// `bytes`, `packets` or `flows`.
    pub by: Option<String>,
    /// `total` or `rate`.
    pub unit: Option<String>,
    /// `total`, `avg`, `max` or `p95`.
    pub agg: Option<String>,
    /// Bucket width (`1m`, `300s`).
    pub step: Option<String>,
    /// Rows, series or flows.
    pub limit: Option<usize>,
    /// Whether a top-N has a row of every other key (default: yes).
    pub other: Option<bool>,
    /// Flow listings: `FIELD`, `FIELD:asc` or `FIELD:desc`.
    pub order: Option<String>,
    /// Flow listings: how many to skip.
    pub offset: Option<usize>,
    /// `IFINDEX`, `IFINDEX@EXPORTER` or `exporter`.
    pub direction: Option<String>,
    /// The earlier period to answer beside: a duration, or empty for the period just before.
    pub compare: Option<String>,
}

/// A word that cannot be read: which one (`since`, `filter`, `dims`), and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{param}: {message}")]
pub struct WordError {
    /// The parameter's name, without dashes.
    pub param: &'static str,
    /// What is wrong with it.
    pub message: String,
    /// Where in a filter: line and column, from 1.
    pub at: Option<(u32, u32)>,
}

impl WordError {
    fn new(param: &'static str, message: impl ToString) -> WordError {
        WordError {
            param,
            message: message.to_string(),
            at: None,
        }
    }
}

impl From<FilterError> for WordError {
    fn from(e: FilterError) -> WordError {
        WordError {
            param: "filter",
            at: Some((e.line, e.column)),
            message: e.to_string(),
        }
    }
}

/// The question `words` ask, of kind `ask`, at `now` (ns).
pub fn query(ask: Ask, words: &Words, now: u64) -> Result<Query, WordError> {
    let range = range::parse(
        words.since.as_deref(),
        words.from.as_deref(),
        words.to.as_deref(),
        now,
    )?;
    let mut query = Query::new(range, kind(ask, words)?);
    if let Some(text) = words.filter.as_deref().filter(|t| !t.trim().is_empty()) {
        query.filter = Some(filter::parse(text)?);
    }
    query.direction = words.direction.as_deref().map(direction).transpose()?;
    query.compare = match words.compare.as_deref() {
        None => None,
        Some("") => Some(range.len_ns().div_ceil(1_000_000_000)),
        Some(d) => Some(seconds("compare", d)?),
    };
    Ok(query)
}

fn kind(ask: Ask, w: &Words) -> Result<Kind, WordError> {
    let dims = w
        .dims
        .iter()
        .map(|d| plan::dim(d.trim()).map_err(|e| WordError::new("dims", e)))
        .collect::<Result<Vec<plan::Dim>, _>>()?;
    let by: Metric = parse_word("by", w.by.as_deref(), Metric::Bytes)?;
    let unit: Unit = parse_word("unit", w.unit.as_deref(), Unit::Total)?;
    let step = w.step.as_deref().map(|s| seconds("step", s)).transpose()?;
    let limit = w.limit.unwrap_or(if ask == Ask::Flows { 100 } else { 10 });
    if matches!(ask, Ask::Summary | Ask::Sizes | Ask::Flows) && !dims.is_empty() {
        return Err(WordError::new(
            "dims",
            "dimensions go with a top-N or a series, not with a summary, sizes or flows",
        ));
    }
    Ok(match ask {
        Ask::Summary => Kind::Summary,
        Ask::Sizes => Kind::Sizes,
        Ask::Flows => Kind::Flows(Flows {
            order: w.order.as_deref().map(order).transpose()?.unwrap_or_default(),
            limit,
            offset: w.offset.unwrap_or(0),
        }),
        Ask::Series => Kind::Series(Series {
            step,
            split: dims,
            limit,
            by,
            unit,
        }),
        Ask::Top if dims.is_empty() => {
            return Err(WordError::new("dims", "a top-N needs at least one dimension"));
        }
        Ask::Top => Kind::TopN(TopN {
            dims,
            by,
            unit,
            agg: parse_word("agg", w.agg.as_deref(), Agg::Total)?,
            step,
            limit,
            other: w.other.unwrap_or(true),
        }),
    })
}

/// One of a small set of words (`bytes`, `rate`, `p95`), or `default` when none is given.
fn parse_word<T>(param: &'static str, text: Option<&str>, default: T) -> Result<T, WordError>
where
    T: std::str::FromStr,
    T::Err: ToString,
{
    text.map_or(Ok(default), |t| t.parse().map_err(|e| WordError::new(param, e)))
}

/// `5m`, or a bare number of seconds (`300`), as whole seconds.
fn seconds(param: &'static str, text: &str) -> Result<u64, WordError> {
    let d = text
        .parse::<u64>()
        .map(std::time::Duration::from_secs)
        .or_else(|_| humantime::parse_duration(text))
        .map_err(|_| WordError::new(param, format!("{text:?} is not a duration (e.g. 1m, 5m, 1h)")))?;
    if d.as_secs() == 0 || d.subsec_nanos() != 0 {
        return Err(WordError::new(
            param,
            format!("{text:?} must be a whole number of seconds, at least 1"),
        ));
    }
    Ok(d.as_secs())
}

/// `time_received:asc`, `bytes`.
fn order(text: &str) -> Result<Order, WordError> {
    let (name, dir) = text.split_once(':').unwrap_or((text, "desc"));
    let descending = match dir {
        "desc" => true,
        "asc" => false,
        _ => {
            return Err(WordError::new(
                "order",
                format!("{text:?}: the direction is `asc` or `desc`"),
            ));
        }
    };
    Ok(Order {
        field: plan::field(name).map_err(|e| WordError::new("order", e))?,
        descending,
    })
}

/// `7`, `7@192.0.2.1` or `exporter`.
fn direction(text: &str) -> Result<Direction, WordError> {
    if text == "exporter" {
        return Ok(Direction::Exporter);
    }
    let (index, exporter) = match text.split_once('@') {
        Some((i, e)) => (i, Some(e)),
        None => (text, None),
    };
    let index = index.parse::<u32>().map_err(|_| {
        WordError::new(
            "direction",
            format!("{text:?}: expected an interface index (`7`, `7@192.0.2.1`) or `exporter`"),
        )
    })?;
    let exporter = exporter
        .map(|e| {
            e.parse::<IpAddr>().map_err(|_| {
                WordError::new("direction", format!("{text:?}: {e:?} is not an exporter address"))
            })
        })
        .transpose()?
        .map(|ip| match ip {
            IpAddr::V4(v4) => v4.to_ipv6_mapped(),
            IpAddr::V6(v6) => v6,
        });
    Ok(Direction::Interface { index, exporter })
}

/// Names the "Other" row of a top-N or the "Other" series of a split series: the planner gives it no key
/// (every key column null, which no stored flow has), and a blank first column reads as a missing value.
pub fn label_other(kind: &Kind, columns: &[String], rows: &mut [Vec<Value>]) {
    let dims = match kind {
        Kind::TopN(t) => &t.dims,
        Kind::Series(s) => &s.split,
        _ => return,
    };
    let at: Vec<usize> = dims
        .iter()
        .filter_map(|d| columns.iter().position(|c| c == d.name()))
        .collect();
    let Some(&first) = at.first() else { return };
    for row in rows {
        if at.iter().all(|&i| matches!(row.get(i), Some(Value::Null))) {
            row[first] = Value::Str("Other".into());
        }
    }
}

/// Writes MAC addresses as people read them (`00:1b:21:3c:4d:5e`): the store keeps them in the low 48 bits
/// of an integer, which is not how anyone recognises one.
pub fn show_macs(columns: &[String], rows: &mut [Vec<Value>]) {
    let macs: Vec<usize> = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| weir_flow::Column::by_name(c).is_some_and(|c| c.kind == weir_flow::Kind::Mac))
        .map(|(i, _)| i)
        .collect();
    for row in rows {
        for &i in &macs {
            if let Some(Value::U64(m)) = row.get(i) {
                row[i] = Value::Str(weir_flow::ndjson::display_mac(*m));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_764_000_000_000_000_000;

    fn words() -> Words {
        Words::default()
    }

    #[test]
    fn the_rows_without_a_key_are_named_other_in_top_n_and_series_only() {
        let columns: Vec<String> = ["time_received", "proto", "dst_port", "bytes"]
            .map(String::from)
            .into();
        let rows = || {
            vec![
                vec![Value::Time(0), Value::U64(6), Value::U64(443), Value::U64(9)],
                vec![Value::Time(0), Value::Null, Value::Null, Value::U64(1)],
            ]
        };
        let series = Kind::Series(Series {
            step: None,
            split: vec![weir_flow::Field::proto.into(), weir_flow::Field::dst_port.into()],
            limit: 1,
            by: Metric::Bytes,
            unit: Unit::Total,
        });
        let mut r = rows();
        label_other(&series, &columns, &mut r);
        assert_eq!(r[1][1], Value::Str("Other".into()));
        assert_eq!((&r[0], &r[1][2]), (&rows()[0], &Value::Null));
        let mut r = rows();
        label_other(&Kind::Summary, &columns, &mut r);
        assert_eq!(r, rows());
    }

    #[test]
    fn reads_every_word_of_a_top_n() {
        let w = Words {
            filter: Some("proto tcp".into()),
            since: Some("2h".into()),
            dims: vec!["src_as".into(), " dst_as".into()],
            by: Some("Packets".into()),
            unit: Some("rate".into()),
            agg: Some("p95".into()),
            step: Some("5m".into()),
            limit: Some(3),
            other: Some(false),
            direction: Some("7@192.0.2.1".into()),
            compare: Some("1d".into()),
            ..words()
        };
        let q = query(Ask::Top, &w, NOW).unwrap();
        assert_eq!(q.range.len_ns(), 2 * 3600 * 1_000_000_000);
        assert!(q.filter.is_some());
        assert_eq!(q.compare, Some(86_400));
        assert_eq!(
            q.direction,
            Some(Direction::Interface {
                index: 7,
                exporter: Some("::ffff:192.0.2.1".parse().unwrap())
            })
        );
        assert_eq!(
            q.kind,
            Kind::TopN(TopN {
                dims: vec![weir_flow::Field::src_as.into(), weir_flow::Field::dst_as.into()],
                by: Metric::Packets,
                unit: Unit::Rate,
                agg: Agg::P95,
                step: Some(300),
                limit: 3,
                other: false,
            })
        );
    }

    #[test]
    fn steps_are_durations_or_bare_seconds() {
        assert_eq!(seconds("step", "300"), Ok(300));
        assert_eq!(seconds("step", "5m"), Ok(300));
        assert_eq!(seconds("step", "0").unwrap_err().param, "step");
        assert_eq!(seconds("step", "1500ms").unwrap_err().param, "step");
    }

    #[test]
    fn macs_are_shown_as_macs() {
        let columns: Vec<String> = ["src_mac", "bytes"].map(String::from).into();
        let mut rows = vec![vec![Value::U64(0x001b_213c_4d5e), Value::U64(7)]];
        show_macs(&columns, &mut rows);
        assert_eq!(rows[0], [Value::Str("00:1b:21:3c:4d:5e".into()), Value::U64(7)]);
    }

    #[test]
    fn defaults_make_a_question_of_the_last_hour() {
        let q = query(Ask::Flows, &words(), NOW).unwrap();
        assert_eq!(q.range.to, NOW);
        assert_eq!(
            q.kind,
            Kind::Flows(Flows {
                order: Order::default(),
                limit: 100,
                offset: 0
            })
        );
        let q = query(
            Ask::Series,
            &Words {
                compare: Some(String::new()),
                ..words()
            },
            NOW,
        )
        .unwrap();
        assert_eq!(q.compare, Some(3600), "the period just before");
    }

    #[test]
    fn errors_name_the_word_and_where_a_filter_goes_wrong() {
        let err = |ask, w: Words| query(ask, &w, NOW).unwrap_err();
        let e = err(Ask::Top, words());
        assert_eq!(
            (e.param, e.message.as_str()),
            ("dims", "a top-N needs at least one dimension")
        );
        let e = err(
            Ask::Top,
            Words {
                dims: vec!["dst_contry".into()],
                ..words()
            },
        );
        assert_eq!(e.param, "dims");
        assert!(e.message.contains("did you mean `dst_country`"), "{e}");
        let e = err(
            Ask::Summary,
            Words {
                filter: Some("proto tcp and\n  dst prot 80".into()),
                ..words()
            },
        );
        assert_eq!((e.param, e.at), ("filter", Some((2, 7))), "{e}");
        let e = err(
            Ask::Summary,
            Words {
                dims: vec!["proto".into()],
                ..words()
            },
        );
        assert_eq!(e.param, "dims");
        for (w, param) in [
            (
                Words {
                    by: Some("octets".into()),
                    ..words()
                },
                "by",
            ),
            (
                Words {
                    step: Some("0s".into()),
                    ..words()
                },
                "step",
            ),
            (
                Words {
                    order: Some("bytes:up".into()),
                    ..words()
                },
                "order",
            ),
            (
                Words {
                    direction: Some("eth0".into()),
                    ..words()
                },
                "direction",
            ),
            (
                Words {
                    direction: Some("7@router".into()),
                    ..words()
                },
                "direction",
            ),
            (
                Words {
                    compare: Some("yesterday".into()),
                    ..words()
                },
                "compare",
            ),
            (
                Words {
                    since: Some("an hour".into()),
                    ..words()
                },
                "since",
            ),
        ] {
            assert_eq!(err(Ask::Flows, w).param, param);
        }
    }
}
