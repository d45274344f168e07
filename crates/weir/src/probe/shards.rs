//! The main cache split across threads: the packet loop parses packets and hands each to the shard its
//! flow key hashes to, in batches; every shard is a `Meter` of its own (with its share of the entries),
//! and sends the flows it expires, with its clock, to the pipeline's thread (see `cache`).
//!
//! Sharding by key keeps every packet of a flow in one cache, so the flows are those of one big cache. What
//! differs: each shard ages on its own packets' clock (and on the loop's ticks), and deterministic sampling
//! counts each shard's packets, so 1 in N holds per shard rather than over the whole stream.

use std::thread::JoinHandle;

use anyhow::Context as _;

use crossbeam_channel::{Receiver, Sender, bounded};
use weir_flow::FlowRecord;
use weir_meter::cache::{CacheConfig, KeyField, KeySet};
use weir_meter::meter::{Meter, MeterStats};
use weir_meter::packet::Packet;
use weir_meter::sampling::Sampling;

/// Packets sent to a shard at once.
const BATCH: usize = 256;

/// Flows a shard expired, and its clock then (nanoseconds since the epoch, the packets' clock). A tick
/// sends one even without flows, so that the pipeline's timers run while no flow expires.
#[derive(Debug)]
pub struct Expired {
    /// The flows.
    pub flows: Vec<FlowRecord>,
    /// The shard's clock.
    pub now_ns: u64,
}

/// What the packet loop asks of a shard.
#[derive(Debug)]
enum Work {
    Packets(Vec<Packet>),
    /// Move the clock (no packet came for a while).
    Tick(u64),
    /// Send back the statistics.
    Stats(Sender<MeterStats>),
}

/// The shards, as the packet loop sees them.
#[derive(Debug)]
pub struct Shards {
    key: KeySet,
    work: Vec<Sender<Work>>,
    pending: Vec<Vec<Packet>>,
    threads: Vec<JoinHandle<Meter>>,
}

impl Shards {
    /// `n` shards, each a meter with `config.entries / n` entries. With `expired`, expired flows become
    /// records and go there; without, they are only counted (see `Meter::keep_records`).
    pub fn start(
        n: usize,
        config: CacheConfig,
        sampling: Sampling,
        expired: Option<Sender<Expired>>,
    ) -> anyhow::Result<Self> {
        let per_shard = CacheConfig {
            entries: config.entries.div_ceil(n),
            ..config
        };
        let mut work = Vec::with_capacity(n);
        let mut threads = Vec::with_capacity(n);
        for i in 0..n {
            let mut meter = Meter::new(per_shard, sampling).context("main cache")?;
            meter.keep_records(expired.is_some());
            let (tx, rx) = bounded::<Work>(8);
            let out = expired.clone();
            let thread = std::thread::Builder::new()
                .name(format!("probe-shard-{i}"))
                .spawn(move || {
                    shard(&mut meter, &rx, out.as_ref());
                    meter
                })
                .context("cannot start a shard thread")?;
            work.push(tx);
            threads.push(thread);
        }
        Ok(Shards {
            key: config.key,
            work,
            pending: vec![Vec::with_capacity(BATCH); n],
            threads,
        })
    }

    /// Hands a packet to its shard.
    pub fn packet(&mut self, p: &Packet) {
        let i = shard_of(p, self.key, self.work.len());
        let batch = &mut self.pending[i];
        batch.push(*p);
        if batch.len() == BATCH {
            let full = std::mem::replace(batch, Vec::with_capacity(BATCH));
            self.send(i, Work::Packets(full));
        }
    }

    /// Gives `work` to shard `i`, waiting for room in its queue. A shard that is gone has panicked;
    /// `finish` reports it.
    fn send(&mut self, i: usize, work: Work) {
        let _ = self.work[i].send(work);
    }

    /// Sends every held packet.
    fn send_pending(&mut self) {
        for i in 0..self.pending.len() {
            if !self.pending[i].is_empty() {
                let batch = std::mem::take(&mut self.pending[i]);
                self.send(i, Work::Packets(batch));
            }
        }
    }

    /// Sends every held packet, and moves the shards' clocks to `now_ns`.
    pub fn tick(&mut self, now_ns: u64) {
        self.send_pending();
        for i in 0..self.work.len() {
            self.send(i, Work::Tick(now_ns));
        }
    }

    /// The shards' statistics, merged, once they have counted every packet handed over; `None` if a
    /// shard has stopped.
    pub fn stats(&mut self) -> Option<MeterStats> {
        self.send_pending();
        let mut merged: Option<MeterStats> = None;
        for i in 0..self.work.len() {
            let (tx, rx) = bounded(1);
            self.send(i, Work::Stats(tx));
            let stats = rx.recv().ok()?;
            match &mut merged {
                Some(m) => m.merge(&stats),
                None => merged = Some(stats),
            }
        }
        merged
    }

    /// Sends what is held, moves the clocks to `now_ns`, and stops the shards: each expires every flow
    /// it holds, sends them on, and stops. Gives their final statistics, merged.
    pub fn finish(mut self, now_ns: u64) -> anyhow::Result<MeterStats> {
        self.tick(now_ns);
        self.work.clear();
        let mut merged: Option<MeterStats> = None;
        for thread in self.threads {
            let mut meter = thread
                .join()
                .map_err(|_| anyhow::anyhow!("a shard thread panicked"))?;
            let stats = meter.stats();
            match &mut merged {
                Some(m) => m.merge(&stats),
                None => merged = Some(stats),
            }
        }
        merged.ok_or_else(|| anyhow::anyhow!("no shard"))
    }
}

/// One shard's loop, until the packet loop hangs up; then every flow left is expired and sent on.
fn shard(meter: &mut Meter, work: &Receiver<Work>, expired: Option<&Sender<Expired>>) {
    let send =
        |flows: Vec<FlowRecord>, now_ns| expired.is_none_or(|tx| tx.send(Expired { flows, now_ns }).is_ok());
    for w in work {
        let tick = matches!(w, Work::Tick(_));
        match w {
            Work::Packets(packets) => {
                for p in &packets {
                    meter.packet(p);
                }
            }
            Work::Tick(now) => meter.tick(now),
            Work::Stats(reply) => {
                let _ = reply.send(meter.stats());
            }
        }
        // Without records nothing is sent, and the packets waiting for their entries keep waiting.
        if expired.is_some() {
            let (flows, now) = meter.expired_at();
            if (tick || !flows.is_empty()) && !send(std::mem::take(flows), now) {
                return;
            }
        }
    }
    let (_, now) = meter.expired_at();
    let _ = meter.flush_with(|flows| {
        if send(std::mem::take(flows), now) {
            Ok(())
        } else {
            Err(())
        }
    });
}

/// The shard of a packet: a hash of the fields of its key, so every packet of a flow goes to one shard.
fn shard_of(p: &Packet, key: KeySet, n: usize) -> usize {
    let mut h: u64 = 0;
    let mut mix = |v: u64| h = (h ^ v).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29);
    if key.has(KeyField::SrcAddr) {
        let a = u128::from(p.src_addr);
        mix(a as u64);
        mix((a >> 64) as u64);
    }
    if key.has(KeyField::DstAddr) {
        let a = u128::from(p.dst_addr);
        mix(a as u64);
        mix((a >> 64) as u64);
    }
    let ports = u64::from(if key.has(KeyField::SrcPort) { p.src_port } else { 0 }) << 16
        | u64::from(if key.has(KeyField::DstPort) { p.dst_port } else { 0 });
    let small = u64::from(if key.has(KeyField::Proto) { p.proto } else { 0 })
        | u64::from(if key.has(KeyField::Tos) { p.tos } else { 0 }) << 8
        | u64::from(if key.has(KeyField::Vlan) { p.vlan } else { 0 }) << 16;
    mix(ports << 32 | small);
    if key.has(KeyField::SrcMac) {
        mix(p.src_mac);
    }
    if key.has(KeyField::DstMac) {
        mix(p.dst_mac);
    }
    (((h >> 32) * n as u64) >> 32) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_flow::codes::{etype, proto};
    use weir_flow::ipv4;
    use weir_proto::packet::Summary;

    fn tcp(host: u8, sport: u16) -> FlowRecord {
        FlowRecord {
            etype: etype::IPV4,
            src_addr: ipv4([10, 0, 0, host]),
            dst_addr: ipv4([192, 0, 2, 1]),
            src_port: sport,
            dst_port: 443,
            proto: proto::TCP,
            ..FlowRecord::default()
        }
    }

    /// The packet a record was parsed from: 100 bytes of IP at `ts_ns`.
    fn packet(ts_ns: u64, rec: &FlowRecord) -> Packet {
        let summary = Summary {
            ip_len: 100,
            ..Summary::default()
        };
        Packet::new(ts_ns, rec, &summary, 114)
    }

    #[test]
    fn packets_of_one_key_go_to_one_shard_and_keys_spread() {
        let key = KeySet::TRADITIONAL;
        let a = tcp(1, 1000);
        let with_other_fields = FlowRecord {
            tcp_flags: 0x18,
            src_mac: 7,
            ..a
        };
        assert_eq!(
            shard_of(&packet(0, &a), key, 4),
            shard_of(&packet(0, &with_other_fields), key, 4)
        );
        let mut counts = [0; 4];
        for host in 0..=255u8 {
            for port in 1000..1016 {
                counts[shard_of(&packet(0, &tcp(host, port)), key, 4)] += 1;
            }
        }
        assert!(counts.iter().all(|&c| (800..1250).contains(&c)), "{counts:?}");
        // Ports outside the key do not split a flow across shards.
        let by_address = KeySet::parse("src_addr,dst_addr").unwrap();
        assert_eq!(
            shard_of(&packet(0, &tcp(1, 1)), by_address, 4),
            shard_of(&packet(0, &tcp(1, 2)), by_address, 4)
        );
    }

    #[test]
    fn shards_without_records_count_every_flow() {
        let config = CacheConfig {
            entries: 4096,
            ..CacheConfig::default()
        };
        let mut shards = Shards::start(2, config, Sampling::Off, None).unwrap();
        // Far more batches than the shards' queues hold.
        for i in 0..200_000u64 {
            let rec = tcp((i % 200) as u8, 1000 + (i / 200 % 10) as u16);
            shards.packet(&packet(1_000_000_000 + i * 1000, &rec));
        }
        let stats = shards.stats().unwrap();
        assert_eq!(stats.counters.packets, 200_000);
        let last = 1_000_000_000 + 200_000 * 1000;
        let stats = shards.finish(last).unwrap();
        assert_eq!(stats.v4.counters.expired(), 2000, "every flow expired at the end");
    }

    #[test]
    fn shards_meter_like_one_cache_and_send_every_flow_on() {
        let config = CacheConfig {
            entries: 4096,
            ..CacheConfig::default()
        };
        let mut one = Meter::new(config, Sampling::Off).unwrap();
        let (tx, rx) = bounded(4);
        let mut shards = Shards::start(3, config, Sampling::Off, Some(tx)).unwrap();
        // The pipeline's side: takes what the shards send, as it comes.
        let taker = std::thread::spawn(move || {
            let mut flows = Vec::new();
            let mut clock = 0;
            for batch in rx {
                clock = clock.max(batch.now_ns);
                flows.extend(batch.flows);
            }
            (flows, clock)
        });
        let mut last = 0;
        for i in 0..3000u64 {
            let rec = tcp((i % 50) as u8, 1000 + (i % 7) as u16);
            let p = packet(1_000_000_000 * (1 + i / 100), &rec);
            last = p.ts_ns;
            one.packet(&p);
            shards.packet(&p);
        }
        let stats = shards.stats().unwrap();
        assert_eq!(stats.counters.packets, 3000);
        shards.finish(last + 5).unwrap();
        let (mut sharded, clock) = taker.join().unwrap();
        assert_eq!(clock, last + 5, "the last flows go on at the loop's clock");
        one.tick(last + 5);
        one.flush();
        let mut single = std::mem::take(one.expired());
        let order = |f: &FlowRecord| (f.src_addr, f.src_port, f.flow_start);
        sharded.sort_by_key(order);
        single.sort_by_key(order);
        let summary = |v: &[FlowRecord]| {
            v.iter()
                .map(|f| (order(f), f.packets, f.bytes))
                .collect::<Vec<_>>()
        };
        assert_eq!(summary(&sharded), summary(&single));
    }
}
