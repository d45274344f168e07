//! `weir demo`: `weir serve` with simulated exporters beside it, so that one command shows live traffic.
//!
//! ```text
//! traffic model (made-up network, daily curve, incidents) ──records──> exporters (v9, IPFIX, sFlow)
//!     ──UDP from 127.0.0.11, .12, ...──> weir serve (receiver, decoders, store, HTTP) in this process
//! ```
//! The exporters go through the real path: datagrams on the loopback interface to the collector's own
//! sockets, decoded and stored like any exporter's. The collector starts first; once its sockets are
//! bound, the exporters start on a thread of their own, aimed at them. A signal stops the exporters
//! first (they send what waits), then the collector, which drains and flushes as it always does.
//!
//! - [`traffic`]: what the network sends as the wall clock goes (from [`crate::synthetic`]).
//! - [`incidents`]: floods and scans now and then.
//! - [`exporters`]: the simulated routers and switch, their sockets and encoders, the sending thread.
//! - [`sflow`]: the switch's sFlow agent.

mod exporters;
mod incidents;
mod sflow;
mod traffic;

/// What the tests of the traffic model share: a small network and when it starts.
#[cfg(test)]
mod testing {
    use weir_flow::time::NANOS_PER_SEC;

    use crate::synthetic::catalogue::{RouterSpec, Vendor, router};

    /// 2026-11-02T00:00:00Z.
    pub const MIDNIGHT: u64 = 1_793_577_600 * NANOS_PER_SEC;
    /// A sampled border router exporting three records for every one of an unsampled core router.
    pub const ROUTERS: [RouterSpec; 2] = [
        router("edge1", Vendor::Cisco, 1000, 3.0),
        router("core1", Vendor::Juniper, 1, 1.0),
    ];
}

use std::path::Path;
use std::time::Duration;

use clap::Args;
use crossbeam_channel::bounded;
use tracing::info;

use crate::clock;
use crate::serve::{self, Listening, ServeArgs, StopBeside};
use exporters::Exporters;
use traffic::Traffic;

/// Where the demo keeps its store unless told otherwise: apart from a real collector's.
const DATA_DIR: &str = "weir-demo-data";

/// Arguments of `weir demo`: those of `weir serve`, and what the simulated network does.
#[derive(Debug, Args)]
#[command(mut_arg("data", |a| a.help("The store's directory. Default: weir-demo-data, even when --config names one")))]
pub struct DemoArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// Flow records a second the simulated exporters send together at the day's peak (20:00 UTC); the
    /// daily curve brings it down to about a quarter before dawn.
    #[arg(long, value_name = "FLOWS_PER_SEC", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    rate: u32,
    /// Time between incidents (a UDP flood or a telnet scan), give or take a fifth; the first comes
    /// within the first minute.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = incident_interval)]
    incident_every: Duration,
    /// No incidents.
    #[arg(long)]
    no_incidents: bool,
    /// Seed of the simulated network: the same seed makes the same addresses, ASes and incidents.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Parses `--incident-every`: a duration of at least 30 s.
fn incident_interval(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| e.to_string())?;
    if d < Duration::from_secs(30) {
        return Err("incidents need at least 30s between them".into());
    }
    Ok(d)
}

/// Runs `weir demo` until SIGINT or SIGTERM.
pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let mut serve = args.serve.clone();
    serve.default_data(Path::new(DATA_DIR));
    let now = clock::now();
    let every = (!args.no_incidents).then_some(args.incident_every);
    let traffic = Traffic::new(args.seed, &exporters::routers(), args.rate, every, now);
    // The exporters' addresses are bound before the collector starts, so that a system without them
    // fails before anything else happens.
    let exporters = Exporters::bind(traffic, now)?;
    let (rate, peak) = (exporters.rate_at(now), args.rate);
    serve::run_beside(
        &serve,
        move |listening: &Listening| -> anyhow::Result<StopBeside> {
            let targets = exporters::targets(&listening.udp)?;
            for (e, to) in exporters.specs().zip(&targets) {
                info!(
                    exporter = e.router.name,
                    dialect = e.dialect.name(),
                    sampling = format!("1:{}", e.router.sampling_rate),
                    from = %e.source,
                    to = %to,
                    "Simulating an exporter."
                );
            }
            let incidents = match every {
                Some(d) => format!(
                    "an incident every {}, the first within a minute",
                    humantime::format_duration(d)
                ),
                None => "no incidents".into(),
            };
            match listening.http {
                Some(http) => info!(
                    ui = %format_args!("http://{http}/"),
                    metrics = %format_args!("http://{http}/metrics"),
                    "Demo: {} simulated exporters send about {rate:.0} flows/s now ({peak} at the day's \
                     peak, 20:00 UTC), {incidents}.",
                    targets.len()
                ),
                None => info!(
                    "Demo: {} simulated exporters send about {rate:.0} flows/s now ({peak} at the day's \
                 peak, 20:00 UTC), {incidents}.",
                    targets.len()
                ),
            }
            let _ = listening.metrics.beside.set(exporters.stats());
            let (stop, stopped) = bounded::<()>(0);
            let thread = exporters.spawn(targets, stopped)?;
            Ok(Box::new(move || {
                drop(stop);
                if thread.join().is_err() {
                    tracing::warn!("The demo's exporters panicked.");
                }
            }))
        },
    )
}
