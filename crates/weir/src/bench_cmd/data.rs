//! `weir bench data`: a reproducible day of flow records from a made-up but realistic network, for
//! measuring the store and queries beside other engines on the same data, and collectors on the same
//! export stream.
//!
//! Ten routers (five sampled border routers, five unsampled inside) export flows between a local network
//! (AS 64500, customer and server addresses per site) and about five thousand remote ASes; addresses,
//! ASes and services are skewed the way real traffic is (Zipf), byte and packet counts are heavy-tailed,
//! and flows are received over a day's traffic curve, in time order. The same seed gives the same flows.

mod clock;
mod generator;
mod parquet;
mod pcap;
mod store;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use clap::{ArgGroup, Args};
use weir_flow::FlowBatch;
use weir_flow::time::NANOS_PER_SEC;
use weir_query::filter::parse_time;
use weir_query::plan::Table;

use crate::flow_output::write_ndjson;
use generator::Generator;
use parquet::ParquetOutput;
use pcap::PcapOutput;
use store::StoreOutput;

/// Flows per batch.
const BATCH_ROWS: usize = 65_536;

/// Arguments of `weir bench data`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("output").required(true).args(["out", "parquet", "ndjson", "pcap"])))]
pub struct DataArgs {
    /// Flows to make.
    #[arg(long, default_value_t = 1_000_000)]
    flows: u64,
    /// Seed of the generator: the same seed makes the same flows.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// When the window of receive times starts: RFC 3339 (`2026-11-02T00:00:00Z`), a date (its midnight
    /// UTC), or nanoseconds since the epoch.
    #[arg(long, value_name = "TIME", default_value = "2026-11-02T00:00:00Z", value_parser = parse_time)]
    start: u64,
    /// Length of the window, hours.
    #[arg(long, default_value_t = 24.0)]
    hours: f64,
    /// Write the flows into a new embedded store in this directory (raw table and rollups), for
    /// `weir query --data DIR`.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// With --out: the store's tables from this `weir serve` settings file (its `[[store.rollups]]`), so
    /// that the store is laid out as that collector's would be.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Write the flows as one Parquet file of the store's raw schema, for other engines.
    #[arg(long, value_name = "FILE")]
    parquet: Option<PathBuf>,
    /// Write the flows as NDJSON into this file (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    ndjson: Option<PathBuf>,
    /// Write the flows as the routers export them: NetFlow v9 datagrams in a capture, spread evenly over
    /// the window, for `weir replay`.
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
}

/// Where the flows go.
enum Output {
    Store(Box<StoreOutput>),
    Parquet(Box<ParquetOutput>),
    Ndjson(Box<dyn Write>, String),
    Pcap(Box<PcapOutput>),
}

/// The store's tables: those of the settings file, else the defaults.
fn tables(config: Option<&Path>) -> anyhow::Result<Vec<Table>> {
    Ok(match config {
        Some(path) => crate::serve::load_config(path)?.store.unwrap_or_default().tables,
        None => Table::defaults(),
    })
}

/// Makes the flows and writes them.
pub fn run(args: &DataArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.hours.is_finite() && args.hours > 0.0 && args.hours <= 24.0 * 366.0,
        "--hours must be above 0 and at most a year, not {}",
        args.hours
    );
    anyhow::ensure!(
        args.config.is_none() || args.out.is_some(),
        "--config says how a store is laid out: it goes with --out"
    );
    let secs = (args.hours * 3600.0).round().max(1.0) as u64;
    let started = Instant::now();
    let mut generator = Generator::new(args.seed, args.flows, args.start, secs);
    let mut output = if let Some(dir) = &args.out {
        Output::Store(Box::new(StoreOutput::create(
            dir,
            tables(args.config.as_deref())?,
            args.start.saturating_add(secs.saturating_mul(NANOS_PER_SEC)),
        )?))
    } else if let Some(path) = &args.parquet {
        Output::Parquet(Box::new(ParquetOutput::create(path)?))
    } else if let Some(path) = &args.pcap {
        Output::Pcap(Box::new(PcapOutput::create(
            path,
            generator.world(),
            args.flows,
            args.start,
            secs,
        )?))
    } else {
        match &args.ndjson {
            Some(path) if path == Path::new("-") => {
                Output::Ndjson(Box::new(BufWriter::new(io::stdout().lock())), "stdout".into())
            }
            Some(path) => {
                let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
                let w = BufWriter::with_capacity(1 << 20, file);
                Output::Ndjson(Box::new(w), path.display().to_string())
            }
            None => anyhow::bail!("say where the flows go: --out, --parquet, --ndjson or --pcap"),
        }
    };
    let mut batch = FlowBatch::with_capacity(BATCH_ROWS);
    while generator.fill(&mut batch, BATCH_ROWS) > 0 {
        match &mut output {
            Output::Store(s) => s.write(&batch)?,
            Output::Parquet(p) => p.write(&batch)?,
            Output::Ndjson(w, name) => {
                write_ndjson(w, &batch).with_context(|| format!("cannot write {name}"))?
            }
            Output::Pcap(p) => p.write(&batch)?,
        }
    }
    let what = match output {
        Output::Store(s) => {
            let acknowledged = s.finish()?;
            format!(
                "into the store in {} ({acknowledged} acknowledged)",
                shown(&args.out)
            )
        }
        Output::Parquet(p) => {
            let (_, bytes) = p.finish()?;
            format!("as Parquet to {} ({bytes} bytes)", shown(&args.parquet))
        }
        Output::Ndjson(mut w, name) => {
            w.flush().with_context(|| format!("cannot write {name}"))?;
            format!("as NDJSON to {name}")
        }
        Output::Pcap(p) => {
            let written = p.finish()?;
            format!(
                "in {} NetFlow v9 datagrams ({} bytes) to {}",
                written.datagrams,
                written.bytes,
                shown(&args.pcap)
            )
        }
    };
    let took = started.elapsed().as_secs_f64().max(1e-9);
    eprintln!(
        "Wrote {} flows {what} in {took:.1} s ({:.0} flows/s).",
        generator.made(),
        generator.made() as f64 / took
    );
    Ok(())
}

/// A path given on the command line, for messages.
fn shown(path: &Option<PathBuf>) -> String {
    path.as_deref().unwrap_or(Path::new("")).display().to_string()
}
