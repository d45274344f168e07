//! What can be asked: a time range, a filter, and one kind of question, with the options every traffic
//! question shares.

use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

use weir_flow::Field;

use super::dim::Dim;
use crate::backend::TimeRange;
use crate::filter::Filter;

/// One question about the flows of a time range.
#[derive(Debug, Clone)]
pub struct Query {
    /// The flows received in this range (by `time_received`).
    pub range: TimeRange,
    /// Only the flows this filter selects; `None` selects every flow.
    pub filter: Option<Filter>,
    /// The question.
    pub kind: Kind,
    /// Traffic queries (summary, top-N, series): split traffic into what came in and what went out.
    pub direction: Option<Direction>,
    /// Traffic queries: the same question over the range this many seconds earlier, answered beside.
    pub compare: Option<u64>,
}

impl Query {
    /// A question about `range` with no filter and no options.
    pub fn new(range: TimeRange, kind: Kind) -> Query {
        Query {
            range,
            filter: None,
            kind,
            direction: None,
            compare: None,
        }
    }
}

/// The kinds of question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Flows, bytes and packets in all and per exporter, with the first and last time seen.
    Summary,
    /// The keys with the most traffic.
    TopN(TopN),
    /// Traffic over time, in buckets, optionally split by key.
    Series(Series),
    /// The flows themselves, every column.
    Flows(Flows),
    /// How packets are distributed by size (Cisco's `show ip cache flow` buckets).
    Sizes,
}

impl Kind {
    /// The kind's name in messages.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Summary => "summary",
            Kind::TopN(_) => "top-N",
            Kind::Series(_) => "series",
            Kind::Flows(_) => "flows",
            Kind::Sizes => "sizes",
        }
    }
}

/// A top-N question: which values of `dims` carried the most traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopN {
    /// The key: one dimension or a tuple of them.
    pub dims: Vec<Dim>,
    /// What is ranked.
    pub by: Metric,
    /// Volumes or rates.
    pub unit: Unit,
    /// How a key's traffic over the range becomes one number.
    pub agg: Agg,
    /// For `avg`, `max` and `p95`: the bucket width in seconds; `None` picks one as a series would.
    pub step: Option<u64>,
    /// How many keys.
    pub limit: usize,
    /// Whether to add a row for the traffic of every other key.
    pub other: bool,
}

/// A time series: traffic per bucket, in all or per key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    /// Bucket width in seconds; `None` picks one that gives 100 to 300 points.
    pub step: Option<u64>,
    /// Split by these dimensions (the `limit` keys with the most traffic over the range, and "Other").
    /// Empty: one series of all traffic.
    pub split: Vec<Dim>,
    /// How many keys when split.
    pub limit: usize,
    /// What is counted.
    pub by: Metric,
    /// Volumes per bucket or rates.
    pub unit: Unit,
}

/// A listing of flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flows {
    /// Sort order.
    pub order: Order,
    /// How many flows.
    pub limit: usize,
    /// How many to skip first.
    pub offset: usize,
}

/// A sort order on one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    /// The column.
    pub field: Field,
    /// Largest first.
    pub descending: bool,
}

impl Default for Order {
    /// The newest flows first.
    fn default() -> Order {
        Order {
            field: Field::time_received,
            descending: true,
        }
    }
}

/// What traffic is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Bytes, scaled by the sampling rate (as bits in rates).
    Bytes,
    /// Packets, scaled by the sampling rate.
    Packets,
    /// Flow records, as the `flows` column counts them (an aggregate stands for several). Not scaled: a
    /// sampled flow record does not stand for `sampling_rate` flows.
    Flows,
}

/// Volumes or rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Bytes, packets or flows.
    Total,
    /// Bits, packets or flows per second.
    Rate,
}

/// How a key's traffic over time becomes one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Agg {
    /// Everything over the range.
    Total,
    /// The average bucket (buckets without traffic count as zero).
    Avg,
    /// The largest bucket.
    Max,
    /// The 95th percentile of the buckets (buckets without traffic count as zero): with the buckets sorted,
    /// the top 5 % (rounded down) are dropped and the largest left is taken, as burstable billing does.
    P95,
}

/// How traffic is split into what came in and what went out. Traffic in is reported negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Through one interface: in when `in_if` is `index`, out when `out_if` is; only the flows of
    /// `exporter` when one is named (interface indexes are per exporter).
    Interface {
        /// The interface index.
        index: u32,
        /// The exporter the interface belongs to.
        exporter: Option<Ipv6Addr>,
    },
    /// As the exporter says in `flow_direction`: ingress is in, egress is out, flows without one are left
    /// out.
    Exporter,
}

/// A word of a query's text that names nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownWord {
    /// What was being named (`metric`, `unit`, `aggregate`).
    pub what: &'static str,
    /// The word.
    pub word: String,
    /// The words that are known.
    pub known: &'static [&'static str],
}

impl fmt::Display for UnknownWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} `{}`; one of {}",
            self.what,
            self.word,
            self.known.join(", ")
        )
    }
}

impl std::error::Error for UnknownWord {}

/// Reads one of `table`'s words, case-insensitively.
fn word<T: Copy>(
    what: &'static str,
    s: &str,
    known: &'static [&'static str],
    table: &[(&str, T)],
) -> Result<T, UnknownWord> {
    table
        .iter()
        .find(|(w, _)| w.eq_ignore_ascii_case(s))
        .map(|&(_, v)| v)
        .ok_or_else(|| UnknownWord {
            what,
            word: s.to_owned(),
            known,
        })
}

impl FromStr for Metric {
    type Err = UnknownWord;

    fn from_str(s: &str) -> Result<Metric, UnknownWord> {
        const KNOWN: &[&str] = &["bytes", "packets", "flows"];
        let table = [
            ("bytes", Metric::Bytes),
            ("packets", Metric::Packets),
            ("flows", Metric::Flows),
        ];
        word("metric", s, KNOWN, &table)
    }
}

impl FromStr for Unit {
    type Err = UnknownWord;

    fn from_str(s: &str) -> Result<Unit, UnknownWord> {
        const KNOWN: &[&str] = &["total", "rate"];
        word("unit", s, KNOWN, &[("total", Unit::Total), ("rate", Unit::Rate)])
    }
}

impl FromStr for Agg {
    type Err = UnknownWord;

    fn from_str(s: &str) -> Result<Agg, UnknownWord> {
        const KNOWN: &[&str] = &["total", "avg", "max", "p95"];
        let table = [
            ("total", Agg::Total),
            ("avg", Agg::Avg),
            ("max", Agg::Max),
            ("p95", Agg::P95),
        ];
        word("aggregate", s, KNOWN, &table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_read_case_insensitively_and_list_the_known_ones() {
        assert_eq!("Bytes".parse::<Metric>(), Ok(Metric::Bytes));
        assert_eq!("RATE".parse::<Unit>(), Ok(Unit::Rate));
        assert_eq!("p95".parse::<Agg>(), Ok(Agg::P95));
        let e = "p99".parse::<Agg>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown aggregate `p99`; one of total, avg, max, p95"
        );
    }
}
