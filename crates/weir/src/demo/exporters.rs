//! The simulated exporters: who they are (a router or switch, its export protocol and sampling, its
//! address), their sockets and encoders, and the thread that sends them the traffic model's records.
//!
//! Each exporter sends from a UDP socket bound to a loopback address of its own (127.0.0.11, .12, ...;
//! Linux routes all of 127.0.0.0/8 to the loopback interface), so the collector tells them apart by
//! address, as it does real exporters. NetFlow v9 and IPFIX datagrams are built by the probe's export
//! streams (templates, sampling and interface names in options data, sequence numbers), sFlow by
//! [`SflowAgent`]: what the collector receives is what Weir's own exporters send.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use tracing::{info, warn};
use weir_flow::time::NANOS_PER_SEC;
use weir_flow::{Field, FlowBatch, FlowRecord};
use weir_meter::export::{DEFAULT_FIELDS, ExportConfig, ExportFormat, Exporter};
use weir_meter::sampling::Sampling;

use super::sflow::SflowAgent;
use super::traffic::Traffic;
use crate::clock;
use crate::exposition::Exposition;
use crate::ratelimit::{RateLimiter, Verdict};
use crate::serve::metrics::Beside;
use crate::synthetic::catalogue::{RouterSpec, Vendor, router};
use crate::synthetic::world::{IFS_PER_ROUTER, World};

/// How often the exporters are given the records of the time gone by.
const TICK: Duration = Duration::from_millis(100);

/// The export protocol of a simulated exporter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    NetflowV9,
    Ipfix,
    Sflow,
}

impl Dialect {
    /// Its name, for the log.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::NetflowV9 => "NetFlow v9",
            Dialect::Ipfix => "IPFIX",
            Dialect::Sflow => "sFlow v5",
        }
    }

    /// The port collectors usually receive it on.
    fn port(self) -> u16 {
        match self {
            Dialect::NetflowV9 => 2055,
            Dialect::Ipfix => 4739,
            Dialect::Sflow => 6343,
        }
    }
}

/// One simulated exporter.
#[derive(Debug, Clone, Copy)]
pub struct Simulated {
    pub router: RouterSpec,
    pub dialect: Dialect,
    /// The address it sends from.
    pub source: Ipv4Addr,
}

/// The exporters: two border routers sampling (NetFlow v9 as Cisco sends it, IPFIX as Juniper does), an
/// unsampled core router (IPFIX) and a data centre switch (sFlow, VLANs).
pub const EXPORTERS: [Simulated; 4] = [
    Simulated {
        router: router("edge1.par1", Vendor::Cisco, 1000, 30.0),
        dialect: Dialect::NetflowV9,
        source: Ipv4Addr::new(127, 0, 0, 11),
    },
    Simulated {
        router: router("edge1.lon1", Vendor::Juniper, 2000, 15.0),
        dialect: Dialect::Ipfix,
        source: Ipv4Addr::new(127, 0, 0, 12),
    },
    Simulated {
        router: router("core1.par1", Vendor::Juniper, 1, 35.0),
        dialect: Dialect::Ipfix,
        source: Ipv4Addr::new(127, 0, 0, 13),
    },
    Simulated {
        router: RouterSpec {
            vlans: true,
            ..router("tor1.par2", Vendor::Juniper, 512, 20.0)
        },
        dialect: Dialect::Sflow,
        source: Ipv4Addr::new(127, 0, 0, 14),
    },
];

/// The routers of [`EXPORTERS`], for the traffic model.
pub fn routers() -> Vec<RouterSpec> {
    EXPORTERS.iter().map(|e| e.router).collect()
}

/// What the NetFlow v9 and IPFIX exporters put in each record besides the probe's default fields: whether
/// the packets were forwarded, and the BGP next hop.
const MORE_FIELDS: [Field; 2] = [Field::forwarding_status, Field::bgp_next_hop];

/// How an exporter turns records into datagrams.
#[derive(Debug)]
enum Encoder {
    Templated(Box<Exporter>),
    Sflow(Box<SflowAgent>),
}

/// What an exporter sent, as it says at the end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    pub datagrams: u64,
    pub bytes: u64,
    /// Flow records (NetFlow, IPFIX) or flow samples (sFlow): what the collector decodes as flows.
    pub flows: u64,
    /// sFlow counter samples.
    pub counter_samples: u64,
    /// Datagrams the socket refused.
    pub send_errors: u64,
}

/// One exporter, with its socket.
#[derive(Debug)]
struct Running {
    spec: Simulated,
    socket: UdpSocket,
    encoder: Encoder,
    send_errors: u64,
}

impl Running {
    /// Encodes `records` (whose lists are in `batch`) at `now` and sends the datagrams they fill to
    /// `target`.
    fn send(
        &mut self,
        batch: &FlowBatch,
        records: &[FlowRecord],
        now: u64,
        target: SocketAddr,
        errors: &mut RateLimiter<Ipv4Addr>,
    ) {
        let Running {
            spec,
            socket,
            encoder,
            send_errors,
        } = self;
        let mut emit = |d: &[u8]| {
            if let Err(e) = socket.send_to(d, target) {
                *send_errors += 1;
                if let Verdict::Log { suppressed } = errors.check(&spec.source, now) {
                    warn!(exporter = spec.router.name, error = %e, suppressed, "A demo exporter cannot send.");
                }
            }
        };
        match encoder {
            Encoder::Templated(e) => {
                e.export(records, now, &mut emit);
                e.tick(now, &mut emit);
            }
            Encoder::Sflow(a) => a.export(batch, records, now, &mut emit),
        }
    }

    /// Sends what waits, at `now`.
    fn flush(&mut self, now: u64, target: SocketAddr) {
        let Running { socket, encoder, .. } = self;
        // Nothing is left to retry with once the demo stops, so a failed send here is only counted.
        let mut failed = 0;
        let mut emit = |d: &[u8]| failed += u64::from(socket.send_to(d, target).is_err());
        match encoder {
            Encoder::Templated(e) => e.flush(now, &mut emit),
            Encoder::Sflow(a) => a.flush(now, &mut emit),
        }
        self.send_errors += failed;
    }

    fn sent(&self) -> Sent {
        let (datagrams, bytes, flows, counter_samples) = match &self.encoder {
            Encoder::Templated(e) => {
                let c = e.counters();
                (c.datagrams, c.bytes, c.flows, 0)
            }
            Encoder::Sflow(a) => {
                let c = a.counters();
                (c.datagrams, c.bytes, c.flow_samples, c.counter_samples)
            }
        };
        Sent {
            datagrams,
            bytes,
            flows,
            counter_samples,
            send_errors: self.send_errors,
        }
    }
}

/// What the exporters sent so far, for `/metrics`: the exporters' thread publishes it every tick.
#[derive(Debug)]
pub struct SentStats {
    /// Per exporter, in [`EXPORTERS`]' order: [`Sent`]'s counters.
    exporters: Vec<[AtomicU64; 5]>,
    /// Incidents started.
    incidents: AtomicU64,
}

impl SentStats {
    fn publish(&self, i: usize, s: Sent) {
        let values = [s.datagrams, s.bytes, s.flows, s.counter_samples, s.send_errors];
        for (a, v) in self.exporters[i].iter().zip(values) {
            a.store(v, Ordering::Relaxed);
        }
    }
}

impl Beside for SentStats {
    /// The counters, labelled by exporter and dialect.
    fn render(&self, e: &mut Exposition) {
        const FAMILIES: [(&str, &str); 5] = [
            (
                "weir_demo_sent_datagrams_total",
                "Datagrams a demo exporter sent.",
            ),
            (
                "weir_demo_sent_bytes_total",
                "Bytes of datagrams a demo exporter sent.",
            ),
            (
                "weir_demo_sent_flows_total",
                "Flow records (NetFlow, IPFIX) or flow samples (sFlow) a demo exporter sent.",
            ),
            (
                "weir_demo_sent_counter_samples_total",
                "sFlow counter samples a demo exporter sent.",
            ),
            (
                "weir_demo_send_errors_total",
                "Datagrams a demo exporter's socket refused.",
            ),
        ];
        for (f, (name, help)) in FAMILIES.iter().enumerate() {
            e.family(name, "counter", help);
            for (spec, counters) in EXPORTERS.iter().zip(&self.exporters) {
                let labels = [("exporter", spec.router.name), ("dialect", spec.dialect.name())];
                e.sample(name, &labels, counters[f].load(Ordering::Relaxed));
            }
        }
        let name = "weir_demo_incidents_total";
        e.family(name, "counter", "Incidents (floods, scans) the demo started.");
        e.sample(name, &[], self.incidents.load(Ordering::Relaxed));
    }
}

/// The exporters and the traffic they send.
#[derive(Debug)]
pub struct Exporters {
    running: Vec<Running>,
    traffic: Traffic,
    stats: Arc<SentStats>,
}

impl Exporters {
    /// Binds every exporter's socket, and sets up its encoder for `traffic`'s network at `now`
    /// (nanoseconds since the epoch).
    pub fn bind(traffic: Traffic, now: u64) -> anyhow::Result<Exporters> {
        let world = traffic.world();
        let mut running = Vec::with_capacity(EXPORTERS.len());
        for (r, spec) in EXPORTERS.iter().enumerate() {
            let socket = UdpSocket::bind((spec.source, 0)).with_context(|| {
                format!(
                    "cannot send from {} (a loopback address of its own for exporter {}): on systems \
                     other than Linux, add it to the loopback interface first",
                    spec.source, spec.router.name
                )
            })?;
            // Up for a few days to a few weeks, so that v9's 32-bit uptime in milliseconds does not wrap.
            let boot = now.saturating_sub((3 + 5 * r as u64) * 86_400 * NANOS_PER_SEC);
            running.push(Running {
                spec: *spec,
                socket,
                encoder: encoder(spec, world, r, boot, now)?,
                send_errors: 0,
            });
        }
        let stats = Arc::new(SentStats {
            exporters: running.iter().map(|_| Default::default()).collect(),
            incidents: AtomicU64::new(0),
        });
        Ok(Exporters {
            running,
            traffic,
            stats,
        })
    }

    /// What the exporters sent so far, as they publish it.
    pub fn stats(&self) -> Arc<SentStats> {
        self.stats.clone()
    }

    /// Sends the traffic to `targets` (one per exporter) every [`TICK`] until `stop` says so or is
    /// dropped, then sends what waits and logs what each exporter sent; on its own thread.
    pub fn spawn(mut self, targets: Vec<SocketAddr>, stop: Receiver<()>) -> anyhow::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name("weir-demo".into())
            .spawn(move || {
                let mut out = vec![Vec::new(); self.running.len()];
                let mut errors = RateLimiter::new(1, 60 * NANOS_PER_SEC);
                while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(TICK) {
                    let now = clock::now();
                    let (batch, started) = self.traffic.advance(now, &mut out);
                    if let Some(incident) = started {
                        self.stats.incidents.fetch_add(1, Ordering::Relaxed);
                        info!(kind = incident.kind.name(), target = %incident.target, "Incident: {incident}.");
                    }
                    let exporters = self.running.iter_mut().zip(&out).zip(&targets).enumerate();
                    for (i, ((e, records), &target)) in exporters {
                        e.send(batch, records, now, target, &mut errors);
                        self.stats.publish(i, e.sent());
                    }
                }
                let now = clock::now();
                for (i, (e, &target)) in self.running.iter_mut().zip(&targets).enumerate() {
                    e.flush(now, target);
                    let s = e.sent();
                    self.stats.publish(i, s);
                    info!(
                        exporter = e.spec.router.name,
                        dialect = e.spec.dialect.name(),
                        datagrams = s.datagrams,
                        bytes = s.bytes,
                        flows = s.flows,
                        counter_samples = s.counter_samples,
                        send_errors = s.send_errors,
                        "Demo exporter stopped."
                    );
                }
            })
            .context("cannot start the demo's exporters")
    }

    /// The exporters, with the address each sends from.
    pub fn specs(&self) -> impl Iterator<Item = &Simulated> {
        self.running.iter().map(|e| &e.spec)
    }

    /// Records a second the exporters send together at `now`, incidents aside.
    pub fn rate_at(&self, now: u64) -> f64 {
        self.traffic.rate_at(now)
    }
}

/// The encoder of exporter `spec`, router `r` of `world`, up since `boot`, at `now`.
fn encoder(spec: &Simulated, world: &World, r: usize, boot: u64, now: u64) -> anyhow::Result<Encoder> {
    let interfaces = (0..IFS_PER_ROUTER).map(|k| world.interface(r, k));
    let format = match spec.dialect {
        Dialect::NetflowV9 => ExportFormat::V9,
        Dialect::Ipfix => ExportFormat::Ipfix,
        Dialect::Sflow => {
            let ports: Vec<(u32, u64)> = interfaces.map(|i| (i.index, i.speed)).collect();
            let agent = SflowAgent::new(IpAddr::V4(spec.source), &ports, boot, now);
            return Ok(Encoder::Sflow(Box::new(agent)));
        }
    };
    let mut config = ExportConfig::new(format);
    config.domain = world.routers[r].domain;
    config.fields = Some(DEFAULT_FIELDS.iter().chain(&MORE_FIELDS).copied().collect());
    if spec.router.sampling_rate > 1 {
        config.sampling = Sampling::Random {
            n: spec.router.sampling_rate,
            seed: 0,
        };
    }
    config.interface_names = interfaces
        .map(|i| (i.index, world.strings[i.name.0 as usize].to_string()))
        .collect();
    let exporter = Exporter::new(config, boot)
        .with_context(|| format!("cannot set up the export of {}", spec.router.name))?;
    Ok(Encoder::Templated(Box::new(exporter)))
}

/// Where each exporter sends: the collector's UDP address on the port usual for its protocol if the
/// collector listens there, else its first address; an unspecified address means this host's loopback.
pub fn targets(listening: &[SocketAddr]) -> anyhow::Result<Vec<SocketAddr>> {
    // The exporters send from IPv4 loopback addresses: IPv6-only addresses cannot hear them.
    let usable: Vec<SocketAddr> = listening
        .iter()
        .filter(|a| a.is_ipv4() || a.ip().is_unspecified())
        .map(|&a| {
            if a.ip().is_unspecified() {
                SocketAddr::new(Ipv4Addr::LOCALHOST.into(), a.port())
            } else {
                a
            }
        })
        .collect();
    let Some(&first) = usable.first() else {
        anyhow::bail!(
            "the demo's exporters send from IPv4 loopback addresses, and the collector listens on none \
             they can reach: give --listen an IPv4 address (127.0.0.1:2055, 0.0.0.0:2055) or [::]"
        );
    };
    Ok(EXPORTERS
        .iter()
        .map(|e| {
            usable
                .iter()
                .copied()
                .find(|a| a.port() == e.dialect.port())
                .unwrap_or(first)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn each_protocol_goes_to_its_usual_port_when_the_collector_listens_there() {
        let got = targets(&addrs(&["0.0.0.0:2055", "0.0.0.0:4739", "[::]:6343"])).unwrap();
        let want = addrs(&[
            "127.0.0.1:2055",
            "127.0.0.1:4739",
            "127.0.0.1:4739",
            "127.0.0.1:6343",
        ]);
        assert_eq!(got, want);
        let one = targets(&addrs(&["[::1]:2055", "127.0.0.1:9995"])).unwrap();
        assert_eq!(
            one,
            addrs(&["127.0.0.1:9995"; 4]),
            "an address they cannot reach is skipped"
        );
    }

    #[test]
    fn refuses_a_collector_the_exporters_cannot_reach() {
        let e = targets(&addrs(&["[::1]:2055"])).unwrap_err();
        assert!(e.to_string().contains("IPv4"), "{e}");
    }

    #[test]
    fn exporters_have_addresses_of_their_own_and_every_protocol_is_there() {
        let sources: std::collections::HashSet<_> = EXPORTERS.iter().map(|e| e.source).collect();
        assert_eq!(sources.len(), EXPORTERS.len());
        assert!(EXPORTERS.iter().all(|e| e.source.is_loopback()));
        for (dialect, rate) in [
            (Dialect::NetflowV9, 1000),
            (Dialect::Ipfix, 1),
            (Dialect::Sflow, 512),
        ] {
            assert!(
                EXPORTERS
                    .iter()
                    .any(|e| e.dialect == dialect && e.router.sampling_rate == rate),
                "{dialect:?} 1:{rate}"
            );
        }
    }
}
