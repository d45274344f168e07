//! `weir bench data`: a reproducible day of flow records from a made-up but realistic network, for
//! measuring the store and queries beside other engines on the same data, and collectors on the same
//! export stream.
//!
//! Ten routers (five sampled border routers, five unsampled inside) export flows between a local network
//! (AS 64500, customer and server addresses per site) and about five thousand remote ASes; addresses,
//! ASes and services are skewed the way real traffic is (Zipf), byte and packet counts are heavy-tailed,
//! and flows are received over a day's traffic curve, in time order. The same seed gives the same flows.

mod catalogue;
mod clock;
mod generator;
mod pcap;
mod random;
mod world;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use clap::{ArgGroup, Args};
use weir_flow::FlowBatch;
use weir_flow::time::{NANOS_PER_SEC, days_from_civil};

use crate::flow_output::write_ndjson;
use generator::Generator;
use pcap::PcapOutput;

/// Flows per batch.
const BATCH_ROWS: usize = 65_536;

/// Arguments of `weir bench data`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("output").required(true).args(["ndjson", "pcap"])))]
pub struct DataArgs {
    /// Flows to make.
    #[arg(long, default_value_t = 1_000_000)]
    flows: u64,
    /// Seed of the generator: the same seed makes the same flows.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// When the window of receive times starts: an RFC 3339 time in UTC, or a date.
    #[arg(long, value_name = "TIME", default_value = "2026-11-02T00:00:00Z", value_parser = parse_start)]
    start: u64,
    /// Length of the window, hours.
    #[arg(long, default_value_t = 24.0)]
    hours: f64,
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
    Ndjson(Box<dyn Write>, String),
    Pcap(Box<PcapOutput>),
}

/// Makes the flows and writes them.
pub fn run(args: &DataArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.hours.is_finite() && args.hours > 0.0 && args.hours <= 24.0 * 366.0,
        "--hours must be above 0 and at most a year, not {}",
        args.hours
    );
    let secs = (args.hours * 3600.0).round().max(1.0) as u64;
    let started = Instant::now();
    let mut generator = Generator::new(args.seed, args.flows, args.start, secs);
    let mut output = match (&args.ndjson, &args.pcap) {
        (Some(path), _) if path == Path::new("-") => {
            Output::Ndjson(Box::new(BufWriter::new(io::stdout().lock())), "stdout".into())
        }
        (Some(path), _) => {
            let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            Output::Ndjson(
                Box::new(BufWriter::with_capacity(1 << 20, file)),
                path.display().to_string(),
            )
        }
        (None, Some(path)) => Output::Pcap(Box::new(PcapOutput::create(
            path,
            generator.world(),
            args.flows,
            args.start,
            secs,
        )?)),
        (None, None) => anyhow::bail!("say where the flows go: --ndjson FILE or --pcap FILE"),
    };
    let mut batch = FlowBatch::with_capacity(BATCH_ROWS);
    while generator.fill(&mut batch, BATCH_ROWS) > 0 {
        match &mut output {
            Output::Ndjson(w, name) => {
                write_ndjson(w, &batch).with_context(|| format!("cannot write {name}"))?
            }
            Output::Pcap(p) => p.write(&batch)?,
        }
    }
    let what = match output {
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
                args.pcap.as_deref().unwrap_or(Path::new("")).display()
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

/// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]Z` (UTC) as nanoseconds since the epoch.
fn parse_start(text: &str) -> Result<u64, String> {
    let bad = || format!("{text:?} is not a time in UTC like 2026-11-02 or 2026-11-02T00:00:00Z");
    let num = |s: &str| -> Result<u32, String> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    let (date, time) = match text.split_once(['T', 't', ' ']) {
        Some((d, t)) => (d, Some(t.strip_suffix(['Z', 'z']).ok_or_else(bad)?)),
        None => (text, None),
    };
    let mut d = date.splitn(3, '-');
    let (y, m, day) = match (d.next(), d.next(), d.next()) {
        (Some(y), Some(m), Some(day)) if y.len() == 4 => (num(y)?, num(m)?, num(day)?),
        _ => return Err(bad()),
    };
    let mut secs = 0;
    if let Some(time) = time {
        let parts: Vec<&str> = time.split(':').collect();
        let (h, min, s) = match parts[..] {
            [h, min] => (num(h)?, num(min)?, 0),
            [h, min, s] => (num(h)?, num(min)?, num(s)?),
            _ => return Err(bad()),
        };
        if h > 23 || min > 59 || s > 59 {
            return Err(bad());
        }
        secs = u64::from(h * 3600 + min * 60 + s);
    }
    let days_in_month = match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return Err(bad()),
    };
    if y < 1970 || day == 0 || day > days_in_month {
        return Err(bad());
    }
    let days = days_from_civil(i64::from(y), m, day) as u64;
    Ok((days * 86_400 + secs) * NANOS_PER_SEC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_start_times_in_utc_and_refuses_the_rest() {
        assert_eq!(parse_start("2026-11-02"), Ok(1_793_577_600 * NANOS_PER_SEC));
        assert_eq!(
            parse_start("2026-11-02T00:00:00Z"),
            Ok(1_793_577_600 * NANOS_PER_SEC)
        );
        assert_eq!(
            parse_start("2024-02-29T13:05Z"),
            Ok(1_709_211_900 * NANOS_PER_SEC)
        );
        for bad in [
            "2026-11-02T00:00:00+01:00",
            "2025-02-29",
            "2026-13-01",
            "26-11-02",
            "2026-11-02T24:00Z",
            "",
        ] {
            assert!(parse_start(bad).is_err(), "{bad}");
        }
    }
}
