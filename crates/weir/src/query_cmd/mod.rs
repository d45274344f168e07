//! `weir query`: questions about stored flows from the command line, in the filter language nfdump users
//! know, answered as a table, CSV or NDJSON.
//!
//! The command only turns flags into a [`Query`]; the planner in `weir-query` picks the table and writes
//! the SQL, and the embedded store runs it, so the HTTP API gives the same answers to the same questions.

mod progress;
mod render;

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Args;
use weir_query::plan::{self, Query};

use weir_store::StoreConfig;
use weir_store::engine::{Embedded, EngineConfig};

use crate::ask::{self, Ask, Words};
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
    /// Top-N by this dimension or tuple of dimensions (`dst_addr`, `src_as,dst_as`, or networks:
    /// `src_net,dst_net` for subnet pairs); with --series, the series are split by it.
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
        let ask = if self.summary {
            Ask::Summary
        } else if self.sizes {
            Ask::Sizes
        } else if self.flows {
            Ask::Flows
        } else if self.series {
            Ask::Series
        } else if self.top.is_empty() {
            bail!("say what to ask: --top DIM, --series, --flows, --summary or --sizes");
        } else {
            Ask::Top
        };
        let words = Words {
            filter: Some(self.filter.join(" ")),
            since: self.since.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            dims: self.top.clone(),
            by: Some(self.by.clone()),
            unit: self.rate.then(|| "rate".to_owned()),
            agg: Some(self.agg.clone()),
            step: self.step.clone(),
            limit: self.limit,
            other: Some(!self.no_other),
            order: self.order.clone(),
            offset: Some(self.offset),
            direction: self.direction.clone(),
            compare: self.compare.clone(),
        };
        ask::query(ask, &words, now).map_err(|e| {
            let flag = match e.param {
                "filter" => return anyhow::anyhow!("bad filter: {}", e.message),
                "dims" => "top",
                other => other,
            };
            anyhow::anyhow!("--{flag}: {}", e.message)
        })
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
    ask::label_other(&query.kind, &answer.columns, &mut rows);
    ask::show_macs(&answer.columns, &mut rows);
    let mut out = io::stdout().lock();
    render::write(&mut out, args.format, &answer.columns, &rows)?;
    // Where the answer came from goes to standard error, so that CSV and JSON stay clean on standard output.
    eprintln!("({} rows from {}, {})", rows.len(), answer.table, answer.range);
    out.flush()?;
    Ok(())
}
