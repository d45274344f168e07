//! Incidents the simulated network goes through now and then, so that the graphs have something to
//! find: a UDP flood on one local server (NTP or DNS amplification, or plain UDP from spoofed sources), or
//! a telnet scan of a customer network from one host.
//!
//! The first comes 20 to 50 seconds after the start, so that a new user sees one; then one every
//! interval (±20 %), each over before the next. Every router sees every incident (the traffic crosses the
//! border, the core and the server's switch), each through its own sampling: a router sampling one packet
//! in N exports what one in N packets add up to. Floods are sized to stand out in the bits graphs
//! (about 500 Mbit/s at the default rate, as much as the background at its peak), scans in the flow
//! counts (hundreds of SYNs a second, each a flow of its own).

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use weir_flow::codes::{end_reason, proto};
use weir_flow::ndjson::display_ip;
use weir_flow::time::NANOS_PER_SEC;
use weir_flow::{FlowBatch, FlowRecord};

use crate::synthetic::flows::{Flows, ephemeral};
use crate::synthetic::random::{Rng, Weighted, mix};
use crate::synthetic::world::{Endpoint, REMOTE_V4};

/// What happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// NTP servers answering `monlist` requests sent with the victim's address: 468-byte UDP packets
    /// from port 123.
    NtpAmplification,
    /// Open resolvers answering queries sent with the victim's address: full-size UDP packets from
    /// port 53.
    DnsAmplification,
    /// UDP packets from spoofed addresses all over the internet, to one port.
    UdpFlood,
    /// One host trying TCP port 23 (and 2323, as Mirai does) on addresses of a customer network, one
    /// SYN each.
    TelnetScan,
}

impl Kind {
    /// Its name, for the log.
    pub fn name(self) -> &'static str {
        match self {
            Kind::NtpAmplification => "NTP amplification",
            Kind::DnsAmplification => "DNS amplification",
            Kind::UdpFlood => "UDP flood",
            Kind::TelnetScan => "telnet scan",
        }
    }

    fn is_flood(self) -> bool {
        self != Kind::TelnetScan
    }

    /// The smallest and largest IP packet of a flood, bytes.
    fn sizes(self) -> (u64, u64) {
        match self {
            Kind::NtpAmplification => (468, 468),
            Kind::DnsAmplification => (1200, 1500),
            Kind::UdpFlood => (512, 1400),
            Kind::TelnetScan => (40, 40),
        }
    }
}

/// The incidents, floods first, with their shares; the first incident is a flood, which the bits graphs
/// show best.
const KINDS: [(Kind, f64); 4] = [
    (Kind::NtpAmplification, 1.0),
    (Kind::DnsAmplification, 1.0),
    (Kind::UdpFlood, 1.0),
    (Kind::TelnetScan, 2.0),
];

/// Bytes a second of a flood, and scan probes a second, for each record a second of the background
/// traffic at the day's peak: a flood about as large as the background at its peak, as each router sees
/// it.
const FLOOD_BYTES_PER_RATE: f64 = 60_000.0;
const SCAN_PPS_PER_RATE: f64 = 0.4;
/// Most records a second a router exports for a flood: its cache aggregates a source's packets into one
/// record per active timeout, so records grow with the sources, not with the packets.
const FLOOD_RECORDS_PER_SEC: f64 = 100.0;
/// How long incidents last, seconds, at most 70 % of the interval between them.
const FLOOD_SECS: (u64, u64) = (90, 180);
const SCAN_SECS: (u64, u64) = (120, 240);
/// When the first incident starts, seconds after the demo.
const FIRST_AFTER_SECS: (u64, u64) = (20, 50);
/// Longest a flood record covers: the routers' active timeout.
const ACTIVE_TIMEOUT: u64 = 60 * NANOS_PER_SEC;

/// An incident that just started, for the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    pub kind: Kind,
    /// The flood's victim, or the scanner.
    pub target: IpAddr,
    /// The flood's sources, or the scanned prefix.
    pub from: String,
    /// Packets a second, before sampling.
    pub pps: u64,
    pub duration: Duration,
}

impl fmt::Display for Started {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.duration.as_secs();
        match self.kind {
            Kind::TelnetScan => write!(
                f,
                "{} from {}: {} SYNs a second to TCP port 23 and 2323 of {}, for {secs} s",
                self.kind.name(),
                self.target,
                self.pps,
                self.from
            ),
            _ => write!(
                f,
                "{} towards {}: {} packets a second from {}, for {secs} s",
                self.kind.name(),
                self.target,
                self.pps,
                self.from
            ),
        }
    }
}

/// An incident under way.
#[derive(Debug, Clone)]
struct Incident {
    kind: Kind,
    start: u64,
    end: u64,
    /// The flood's victim (local), or the scanner (remote).
    target: Endpoint,
    /// The destination port of a plain UDP flood.
    port: u16,
    /// The router whose customer network a scan sweeps.
    site: usize,
    /// Packets a second, before sampling.
    pps: f64,
    /// The flood's sources: `sources` remote addresses from popularity rank `first_source` on.
    first_source: u64,
    sources: u64,
    /// Records owed to each router: the fraction a call could not make whole.
    owed: Vec<f64>,
}

/// The schedule of incidents, and the one under way.
#[derive(Debug)]
pub struct Incidents {
    every: Option<u64>,
    rng: Rng,
    kinds: Weighted,
    next: u64,
    current: Option<Incident>,
    /// Incidents started so far.
    started: u64,
    /// Background records a second at the day's peak, which incidents are sized by.
    peak_rate: f64,
}

impl Incidents {
    /// One incident every `every` (none for `None`) from `start` (nanoseconds since the epoch), drawn
    /// from `seed`, sized for background traffic of `peak_rate` records a second at its peak.
    pub fn new(seed: u64, every: Option<Duration>, start: u64, peak_rate: f64) -> Incidents {
        let mut rng = Rng::new(mix(seed, 0x1ac1));
        let first = rng.range(FIRST_AFTER_SECS.0, FIRST_AFTER_SECS.1);
        Incidents {
            every: every.map(|d| d.as_nanos() as u64),
            rng,
            kinds: Weighted::new(KINDS.iter().map(|k| k.1)),
            next: start + first * NANOS_PER_SEC,
            current: None,
            started: 0,
            peak_rate,
        }
    }

    /// Adds the records of the incident under way between `from` and `now` (nanoseconds since the epoch)
    /// to `out[r]` for router `r`, starting the next incident when its time has come; returns it when one
    /// started.
    pub fn advance(
        &mut self,
        flows: &mut Flows,
        batch: &mut FlowBatch,
        from: u64,
        now: u64,
        out: &mut [Vec<FlowRecord>],
    ) -> Option<Started> {
        let every = self.every?;
        let mut started = None;
        if self.current.is_none() && now >= self.next {
            let incident = self.start(flows, self.next, every);
            let jitter = 0.8 + 0.4 * self.rng.unit();
            self.next = incident.start + (every as f64 * jitter) as u64;
            started = Some(self.describe(flows, &incident));
            self.current = Some(incident);
        }
        if let Some(incident) = &mut self.current {
            let (a, b) = (from.max(incident.start), now.min(incident.end));
            if b > a {
                records(&mut self.rng, incident, flows, batch, b - a, now, out);
            }
            if now >= incident.end {
                self.current = None;
            }
        }
        started
    }

    /// A new incident starting at `at`.
    fn start(&mut self, flows: &Flows, at: u64, every: u64) -> Incident {
        let rng = &mut self.rng;
        let kind = if self.started == 0 {
            KINDS[rng.below(3) as usize].0
        } else {
            KINDS[self.kinds.sample(rng)].0
        };
        self.started += 1;
        let world = flows.world();
        let routers = world.routers.len();
        let (secs, pps, target, sources) = if kind.is_flood() {
            let victim = world.local_server(rng, 0, false);
            let sources = match kind {
                Kind::UdpFlood => rng.range(20_000, 60_000),
                _ => rng.range(800, 4_000),
            };
            let (small, large) = kind.sizes();
            let pps = self.peak_rate * FLOOD_BYTES_PER_RATE * 2.0 / (small + large) as f64;
            (FLOOD_SECS, pps, victim, sources)
        } else {
            // A scanner among the addresses nobody else talks to.
            let scanner = world.remote_at(rng.range(REMOTE_V4 / 2, REMOTE_V4 - 1), false);
            (SCAN_SECS, self.peak_rate * SCAN_PPS_PER_RATE, scanner, 1)
        };
        let longest = (every as f64 * 0.7) as u64;
        let duration = (rng.range(secs.0, secs.1) * NANOS_PER_SEC).min(longest);
        Incident {
            kind,
            start: at,
            end: at + duration,
            target,
            port: rng.range(1024, 65_535) as u16,
            site: rng.below(routers as u64) as usize,
            pps,
            first_source: rng.below(REMOTE_V4),
            sources,
            owed: vec![0.0; routers],
        }
    }

    fn describe(&self, flows: &Flows, i: &Incident) -> Started {
        let from = match i.kind {
            Kind::TelnetScan => {
                let (net, len) = flows.world().site_v4(i.site);
                format!("{net}/{len}")
            }
            Kind::UdpFlood => format!("{} spoofed addresses", i.sources),
            _ => format!("{} reflectors", i.sources),
        };
        Started {
            kind: i.kind,
            target: display_ip(i.target.addr),
            from,
            pps: i.pps as u64,
            duration: Duration::from_nanos(i.end - i.start),
        }
    }
}

/// The records of `span` nanoseconds of `incident`, received at `now`, into `out[r]` for router `r`.
fn records(
    rng: &mut Rng,
    incident: &mut Incident,
    flows: &mut Flows,
    batch: &mut FlowBatch,
    span: u64,
    now: u64,
    out: &mut [Vec<FlowRecord>],
) {
    let secs = span as f64 / NANOS_PER_SEC as f64;
    let ms = NANOS_PER_SEC / 1000;
    for (r, list) in out.iter_mut().enumerate() {
        let rate = f64::from(flows.world().routers[r].sampling_rate.max(1));
        // Packets this router samples a second, and how many records they make.
        let sampled = incident.pps / rate;
        let per_sec = if incident.kind.is_flood() {
            sampled.min(FLOOD_RECORDS_PER_SEC)
        } else {
            sampled
        };
        let due = per_sec * secs + incident.owed[r];
        let whole = due.floor();
        incident.owed[r] = due - whole;
        // Sampled packets per record, on average: a whole part and the chance of one more.
        let per_record = sampled / per_sec;
        for _ in 0..whole as u64 {
            let packets = (per_record.floor() as u64 + u64::from(rng.chance(per_record.fract()))).max(1);
            let end = (now - rng.below(2 * NANOS_PER_SEC)) / ms * ms;
            let rec = if incident.kind.is_flood() {
                let source = flows
                    .world()
                    .remote_at(incident.first_source + rng.below(incident.sources), false);
                let mut rec = flows.between(batch, r, now, &source, &incident.target);
                let (src_port, dst_port) = match incident.kind {
                    Kind::NtpAmplification => (123, ephemeral(rng)),
                    Kind::DnsAmplification => (53, ephemeral(rng)),
                    _ => (ephemeral(rng), incident.port),
                };
                let (small, large) = incident.kind.sizes();
                let size = rng.range(small, large);
                rec.proto = proto::UDP;
                (rec.src_port, rec.dst_port) = (src_port, dst_port);
                rec.packets = packets;
                rec.bytes = packets * size;
                rec.flow_end_reason = end_reason::ACTIVE_TIMEOUT;
                rec.flow_start = end.saturating_sub(ACTIVE_TIMEOUT).max(incident.start / ms * ms);
                rec
            } else {
                let host = rng.below(1 << 18) as u32;
                let dst = flows.world().local_host(incident.site, host);
                let mut rec = flows.between(batch, r, now, &incident.target, &dst);
                rec.proto = proto::TCP;
                rec.src_port = ephemeral(rng);
                rec.dst_port = if rng.chance(0.1) { 2323 } else { 23 };
                rec.tcp_flags = 0x02;
                rec.packets = 1;
                rec.bytes = 40;
                rec.flow_end_reason = end_reason::IDLE_TIMEOUT;
                rec.flow_start = end;
                rec
            };
            list.push(FlowRecord { flow_end: end, ..rec });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::demo::testing::{MIDNIGHT as START, ROUTERS};
    use crate::synthetic::catalogue::SERVICES;
    use crate::synthetic::world::World;

    /// What `seconds` of incidents every `every` seconds make, in steps of 500 ms: the incidents that
    /// started (with when), and the records by router.
    fn run(seed: u64, every: u64, seconds: u64) -> (Vec<(u64, Started)>, Vec<Vec<FlowRecord>>) {
        let mut flows = Flows::new(World::new(seed, &ROUTERS, SERVICES), seed);
        let mut incidents = Incidents::new(seed, Some(Duration::from_secs(every)), START, 1000.0);
        let mut batch = FlowBatch::new();
        let mut started = Vec::new();
        let mut records = vec![Vec::new(); 2];
        let step = NANOS_PER_SEC / 2;
        for k in 1..=seconds * 2 {
            let now = START + k * step;
            if let Some(s) = incidents.advance(&mut flows, &mut batch, now - step, now, &mut records) {
                started.push((now, s));
            }
        }
        (started, records)
    }

    #[test]
    fn the_first_comes_within_a_minute_then_one_every_interval() {
        let (started, _) = run(1, 300, 3600);
        let secs: Vec<u64> = started.iter().map(|(t, _)| (t - START) / NANOS_PER_SEC).collect();
        assert!((20..=51).contains(&secs[0]), "{secs:?}");
        assert!(started[0].1.kind.is_flood(), "the first is a flood");
        assert!((10..=14).contains(&secs.len()), "{secs:?}");
        for (w, (_, s)) in secs.windows(2).zip(&started) {
            assert!((240..=361).contains(&(w[1] - w[0])), "{secs:?}");
            assert!(s.duration.as_secs() <= 210, "over before the next: {s}");
        }
        let kinds: HashSet<&str> = started.iter().map(|(_, s)| s.kind.name()).collect();
        assert!(kinds.len() >= 3, "{kinds:?}");
    }

    #[test]
    fn none_without_an_interval() {
        let mut flows = Flows::new(World::new(1, &ROUTERS, SERVICES), 1);
        let mut incidents = Incidents::new(1, None, START, 1000.0);
        let mut records = vec![Vec::new(); 2];
        let now = START + 600 * NANOS_PER_SEC;
        let started = incidents.advance(&mut flows, &mut FlowBatch::new(), START, now, &mut records);
        assert_eq!(started, None);
        assert!(records.iter().all(Vec::is_empty));
    }

    #[test]
    fn a_flood_comes_from_many_sources_to_one_destination_at_its_rate() {
        let (started, records) = run(2, 600, 300);
        let flood = &started[0].1;
        assert!(flood.kind.is_flood(), "{flood}");
        for (r, list) in records.iter().enumerate() {
            let rate = u64::from(ROUTERS[r].sampling_rate);
            let victims: HashSet<_> = list.iter().map(|f| f.dst_addr).collect();
            assert_eq!(victims.len(), 1, "one victim");
            assert_eq!(display_ip(list[0].dst_addr), flood.target);
            assert!(list.iter().all(|f| f.proto == proto::UDP));
            let sources: HashSet<_> = list.iter().map(|f| f.src_addr).collect();
            assert!(sources.len() > 500, "{} sources at router {r}", sources.len());
            let packets: u64 = list.iter().map(|f| f.packets * rate).sum();
            let want = flood.pps * flood.duration.as_secs();
            let off = packets.abs_diff(want) as f64 / want as f64;
            assert!(off < 0.05, "router {r}: {packets} packets, want {want}");
        }
    }

    #[test]
    fn a_telnet_scan_sends_syns_from_one_source_to_many_destinations() {
        let (started, records) = run(3, 60, 1200);
        let scans: Vec<&Started> = started
            .iter()
            .map(|(_, s)| s)
            .filter(|s| s.kind == Kind::TelnetScan)
            .collect();
        assert!(!scans.is_empty(), "no scan in 20 incidents");
        let scan = scans[0];
        let probes: Vec<&FlowRecord> = records[1]
            .iter()
            .filter(|f| display_ip(f.src_addr) == scan.target)
            .collect();
        assert!(
            probes
                .iter()
                .all(|f| f.proto == proto::TCP && f.tcp_flags == 0x02 && f.packets == 1)
        );
        assert!(probes.iter().all(|f| matches!(f.dst_port, 23 | 2323)));
        let targets: HashSet<_> = probes.iter().map(|f| f.dst_addr).collect();
        let want = scan.pps * scan.duration.as_secs();
        assert!(
            targets.len() as u64 > want * 9 / 10,
            "{} of {want}",
            targets.len()
        );
    }

    #[test]
    fn the_same_seed_makes_the_same_incidents() {
        let a = run(5, 120, 900);
        assert_eq!(a, run(5, 120, 900));
        assert_ne!(a.0, run(6, 120, 900).0);
    }
}
