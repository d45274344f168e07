//! `--pcap`: the flows as the routers would export them, in NetFlow v9 datagrams in a capture, for
//! `weir replay` to send to collectors.
//!
//! Each router is one export stream (its own source id, its sampling announced in options records, an IPv4
//! and an IPv6 template, datagrams filled up to a 1500-byte MTU) built by the probe's exporter, so the
//! datagrams are those Weir itself sends. Each run of records the generator made for one router at one
//! time goes out at once, as a router's cache expiry would send it.
//!
//! The capture's packet times are not the flows' times: they are spread evenly, by flow, over the window,
//! so the capture's pace is a constant `flows / window` flows per second and `weir replay --speed S`
//! sends S times that. The datagrams' own export times (and the flows' start and end) keep the generated
//! day's times.

use std::fs::File;
use std::io::{self, BufWriter};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use pcap_file::pcap::{PcapPacket, PcapWriter};
use weir_flow::time::NANOS_PER_SEC;
use weir_flow::{FlowBatch, FlowRecord, ndjson::display_ip};
use weir_meter::export::{ExportConfig, ExportFormat, Exporter};
use weir_meter::sampling::Sampling;

use crate::capture::encap;
use crate::synthetic::world::World;

/// Where the datagrams are addressed (a documentation address; `weir replay` sends wherever it is told).
const COLLECTOR: &str = "192.0.2.250:2055";
/// The routers' uptime when the window starts: 30 days, so their 32-bit millisecond clocks do not wrap in
/// the windows asked for.
const UPTIME_AT_START: u64 = 30 * 86_400 * NANOS_PER_SEC;

/// What was written.
#[derive(Debug, Default, Clone, Copy)]
pub struct Written {
    pub flows: u64,
    pub datagrams: u64,
    pub bytes: u64,
}

/// The capture being written.
#[derive(Debug)]
pub struct PcapOutput {
    path: PathBuf,
    writer: PcapWriter<BufWriter<File>>,
    /// One export stream per router, by `observation_domain - 1`.
    streams: Vec<(Exporter, SocketAddr)>,
    collector: SocketAddr,
    /// Capture time of flow `k`: `start_ns + k * step`.
    start_ns: u64,
    step: f64,
    /// The run being collected: records of one router at one time.
    run: Vec<FlowRecord>,
    written: Written,
}

impl PcapOutput {
    /// A capture at `path` for `flows` flows of `world` over `secs` seconds from `start_ns`.
    pub fn create(path: &Path, world: &World, flows: u64, start_ns: u64, secs: u64) -> anyhow::Result<Self> {
        let writer = encap::create_capture(path)?;
        let mut streams = Vec::with_capacity(world.routers.len());
        for (i, router) in world.routers.iter().enumerate() {
            let mut config = ExportConfig::new(ExportFormat::V9);
            config.domain = router.domain;
            config.max_hold_ns = 0;
            if router.sampling_rate > 1 {
                config.sampling = Sampling::Random {
                    n: router.sampling_rate,
                    seed: 0,
                };
            }
            let exporter = Exporter::new(config, start_ns.saturating_sub(UPTIME_AT_START))
                .context("cannot set up a router's export stream")?;
            let from = SocketAddr::new(display_ip(router.addr), 50_000 + i as u16);
            streams.push((exporter, from));
        }
        Ok(PcapOutput {
            path: path.to_owned(),
            writer,
            streams,
            collector: COLLECTOR.parse().context("the collector address")?,
            start_ns,
            step: secs.max(1) as f64 * NANOS_PER_SEC as f64 / flows.max(1) as f64,
            run: Vec::with_capacity(64),
            written: Written::default(),
        })
    }

    /// Exports the flows of `batch`.
    pub fn write(&mut self, batch: &FlowBatch) -> anyhow::Result<()> {
        for i in 0..batch.len() {
            let Some(flow) = batch.row(i) else { break };
            if let Some(first) = self.run.first()
                && (first.observation_domain, first.time_received)
                    != (flow.observation_domain, flow.time_received)
            {
                self.send_run()?;
            }
            self.run.push(flow);
        }
        Ok(())
    }

    /// Sends what is left and closes the file.
    pub fn finish(mut self) -> anyhow::Result<Written> {
        self.send_run()?;
        let path = self.path;
        self.writer
            .into_writer()
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(self.written)
    }

    /// Sends the run collected so far as its router's datagrams.
    fn send_run(&mut self) -> anyhow::Result<()> {
        let Some(first) = self.run.first() else {
            return Ok(());
        };
        let now = first.time_received;
        let at = self.start_ns + (self.written.flows as f64 * self.step) as u64;
        let stream = first.observation_domain as usize - 1;
        let (exporter, from) = self
            .streams
            .get_mut(stream)
            .with_context(|| format!("no router has source id {}", stream + 1))?;
        let (writer, collector, written) = (&mut self.writer, self.collector, &mut self.written);
        let mut failed: Option<io::Error> = None;
        exporter.export(&self.run, now, &mut |datagram: &[u8]| {
            if failed.is_some() {
                return;
            }
            let Some(packet) = encap::ip_udp(*from, collector, datagram) else {
                failed = Some(io::Error::other("a datagram larger than UDP carries"));
                return;
            };
            let packet = PcapPacket::new(Duration::from_nanos(at), packet.len() as u32, &packet);
            match writer.write_packet(&packet) {
                Ok(_) => {
                    written.datagrams += 1;
                    written.bytes += datagram.len() as u64;
                }
                Err(e) => failed = Some(io::Error::other(e)),
            }
        });
        if let Some(e) = failed {
            return Err(e).with_context(|| format!("cannot write {}", self.path.display()));
        }
        self.written.flows += self.run.len() as u64;
        self.run.clear();
        Ok(())
    }
}
