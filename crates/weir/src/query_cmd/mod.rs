//! `weir query`: questions about stored flows from the command line, in the filter language nfdump users
//! know, answered as a table, CSV or NDJSON.
//!
//! The command only turns flags into a [`Query`]; the planner in `weir-query` picks the table and writes
//! the SQL, and the embedded store runs it, so the HTTP API gives the same answers to the same questions.

mod progress;
mod range;
mod render;

use std::io::{self, Write};
use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Args;
use weir_flow::Field;
use weir_query::backend::Value;
use weir_query::filter;
use weir_query::plan::{self, Agg, Direction, Flows, Kind, Metric, Order, Query, Series, TopN, Unit};

use weir_store::StoreConfig;
use weir_store::engine::{Embedded, EngineConfig};

use crate::clock::now;
use render::Format;

/// Arguments of `weir query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Filter, in nfdump's language and more (`proto tcp and dst port 443`, `dst_country = JP`); the words
    /// are joined, so quoting is optional.
    #[arg(value_name = "FILTER")]
    filter: Vec<String>,
    /// The store's directory. Default: the one `--config` names, else weir-data.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// The `weir serve` settings file, for the store's directory and its tables' retention (which decides
    /// the table a question is answered from).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The flows received in this last stretch of time (`15m`, `1h`, `7d`). Default: 1h.
    #[arg(long, value_name = "DURATION", conflicts_with = "from")]
    since: Option<String>,
    /// Start of the range: RFC 3339 (`2026-11-22T13:00:00Z`), a date, or nanoseconds.
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// End of the range (not included). Default: now.
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
    /// Top-N by this dimension or tuple of dimensions (`dst_addr`, `src_as,dst_as`); with --series, the
    /// series are split by it.
    #[arg(long, value_name = "DIM[,DIM...]", value_delimiter = ',')]
    top: Vec<String>,
    /// What traffic is ranked or counted by.
    #[arg(long, value_name = "bytes|packets|flows", default_value = "bytes")]
    by: String,
    /// Rates (bits, packets or flows per second) instead of volumes.
    #[arg(long)]
    rate: bool,
    /// Top-N: how each key's traffic over time becomes one number: total, avg, max or p95 of the buckets.
    #[arg(long, value_name = "total|avg|max|p95", default_value = "total")]
    agg: String,
    /// How many rows (top-N), series (--series with --top) or flows (--flows). Default: 10, or 100 flows.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Top-N: leave out the row of every other key.
    #[arg(long)]
    no_other: bool,
    /// Traffic over time, in buckets (split by --top if given).
    #[arg(long, group = "kind")]
    series: bool,
    /// Bucket width for --series and for --agg avg/max/p95 (`1m`, `5m`, `1h`). Default: automatic.
    #[arg(long, value_name = "DURATION")]
    step: Option<String>,
    /// List the flows themselves, newest first.
    #[arg(long, group = "kind")]
    flows: bool,
    /// --flows: sort by this column, `FIELD` or `FIELD:asc`/`FIELD:desc`.
    #[arg(long, value_name = "FIELD[:asc|:desc]")]
    order: Option<String>,
    /// --flows: skip this many first.
    #[arg(long, value_name = "N", default_value_t = 0)]
    offset: usize,
    /// Flows, bytes, packets, first and last seen, in all and per exporter.
    #[arg(long, group = "kind")]
    summary: bool,
    /// The packet size distribution, in the buckets of `show ip cache flow`.
    #[arg(long, group = "kind")]
    sizes: bool,
    /// Split traffic into in (negative) and out (positive) through interface IFINDEX, of one exporter if
    /// given (`7@192.0.2.1`), or `exporter` for the direction the exporter reports.
    #[arg(long, value_name = "IFINDEX[@EXPORTER]|exporter")]
    direction: Option<String>,
    /// Answer the same question for the period this long before (`1d`, `7d`) beside; no value: the period
    /// just before.
    #[arg(long, value_name = "DURATION", num_args = 0..=1, default_missing_value = "")]
    compare: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

impl QueryArgs {
    /// The question these arguments ask, at `now`.
    fn query(&self, now: u64) -> anyhow::Result<Query> {
        let range = range::parse(
            self.since.as_deref(),
            self.from.as_deref(),
            self.to.as_deref(),
            now,
        )?;
        let kind = self.kind()?;
        let mut query = Query::new(range, kind);
        let text = self.filter.join(" ");
        if !text.trim().is_empty() {
            query.filter = Some(filter::parse(&text).map_err(|e| anyhow::anyhow!("bad filter: {e}"))?);
        }
        query.direction = self.direction.as_deref().map(direction).transpose()?;
        query.compare = match self.compare.as_deref() {
            None => None,
            Some("") => Some(range.len_ns().div_ceil(1_000_000_000)),
            Some(d) => Some(seconds("--compare", d)?),
        };
        Ok(query)
    }

    fn kind(&self) -> anyhow::Result<Kind> {
        let dims = self
            .top
            .iter()
            .map(|d| plan::field(d.trim()))
            .collect::<Result<Vec<Field>, _>>()?;
        let by: Metric = self.by.parse()?;
        let unit = if self.rate { Unit::Rate } else { Unit::Total };
        let step = self.step.as_deref().map(|s| seconds("--step", s)).transpose()?;
        let limit = self.limit.unwrap_or(if self.flows { 100 } else { 10 });
        if (self.summary || self.sizes || self.flows) && !dims.is_empty() {
            bail!("--top goes with a top-N or --series, not with --summary, --sizes or --flows");
        }
        Ok(if self.summary {
            Kind::Summary
        } else if self.sizes {
            Kind::Sizes
        } else if self.flows {
            let order = match &self.order {
                Some(o) => order(o)?,
                None => Order::default(),
            };
            Kind::Flows(Flows {
                order,
                limit,
                offset: self.offset,
            })
        } else if self.series {
            Kind::Series(Series {
                step,
                split: dims,
                limit,
                by,
                unit,
            })
        } else if dims.is_empty() {
            bail!("say what to ask: --top DIM, --series, --flows, --summary or --sizes");
        } else {
            Kind::TopN(TopN {
                dims,
                by,
                unit,
                agg: self.agg.parse::<Agg>()?,
                step,
                limit,
                other: !self.no_other,
            })
        })
    }
}

/// `--step 5m` as whole seconds.
fn seconds(flag: &str, text: &str) -> anyhow::Result<u64> {
    let d = humantime::parse_duration(text)
        .with_context(|| format!("{flag} {text:?} is not a duration (e.g. 1m, 5m, 1h)"))?;
    if d.as_secs() == 0 || d.subsec_nanos() != 0 {
        bail!("{flag} {text:?} must be a whole number of seconds, at least 1");
    }
    Ok(d.as_secs())
}

/// `time_received:asc`, `bytes`.
fn order(text: &str) -> anyhow::Result<Order> {
    let (name, dir) = text.split_once(':').unwrap_or((text, "desc"));
    let descending = match dir {
        "desc" => true,
        "asc" => false,
        _ => bail!("--order {text:?}: the direction is `asc` or `desc`"),
    };
    Ok(Order {
        field: plan::field(name)?,
        descending,
    })
}

/// `7`, `7@192.0.2.1` or `exporter`.
fn direction(text: &str) -> anyhow::Result<Direction> {
    if text == "exporter" {
        return Ok(Direction::Exporter);
    }
    let (index, exporter) = match text.split_once('@') {
        Some((i, e)) => (i, Some(e)),
        None => (text, None),
    };
    let index = index.parse::<u32>().with_context(|| {
        format!("--direction {text:?}: expected an interface index (`7`, `7@192.0.2.1`) or `exporter`")
    })?;
    let exporter = exporter
        .map(|e| {
            e.parse::<IpAddr>()
                .with_context(|| format!("--direction {text:?}: {e:?} is not an exporter address"))
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
fn label_other(kind: &Kind, columns: &[String], rows: &mut [Vec<Value>]) {
    let dims = match kind {
        Kind::TopN(t) => &t.dims,
        Kind::Series(s) => &s.split,
        _ => return,
    };
    let at: Vec<usize> = dims
        .iter()
        .filter_map(|d| columns.iter().position(|c| c == d.column().name))
        .collect();
    let Some(&first) = at.first() else { return };
    for row in rows {
        if at.iter().all(|&i| matches!(row.get(i), Some(Value::Null))) {
            row[first] = Value::Str("Other".into());
        }
    }
}

/// Runs `weir query`.
pub fn run(args: &QueryArgs) -> anyhow::Result<()> {
    let query = args.query(now())?;
    let store_config = match &args.config {
        Some(path) => crate::serve::load_config(path)?.store.unwrap_or_default(),
        None => StoreConfig::default(),
    };
    let dir = args.data.as_ref().unwrap_or(&store_config.dir);
    if !dir.is_dir() {
        bail!("no store at {} (give the directory with --data)", dir.display());
    }
    let store = Embedded::with_config(dir, EngineConfig::default(), store_config.tables)
        .with_context(|| format!("cannot open the store at {}", dir.display()))?;
    let tables = store.tables();
    let answer = progress::while_running(|| plan::run(&store, &tables, &query))?;
    for warning in &answer.warnings {
        eprintln!("weir: warning: {warning}");
    }
    let mut rows = answer.rows;
    label_other(&query.kind, &answer.columns, &mut rows);
    let mut out = io::stdout().lock();
    render::write(&mut out, args.format, &answer.columns, &rows)?;
    // Where the answer came from goes to standard error, so that CSV and JSON stay clean on standard output.
    eprintln!("({} rows from {}, {})", rows.len(), answer.table, answer.range);
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
            split: vec![Field::proto, Field::dst_port],
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
}
