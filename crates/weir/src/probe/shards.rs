//! The main cache split across threads: the packet loop parses packets and hands each to the shard its
//! flow key hashes to, in batches; every shard is a `Meter` of its own (with its share of the entries),
//! and the flows they expire come back to the packet loop for the pipeline, which stays single.
//!
//! Sharding by key keeps every packet of a flow in one cache, so the flows are those of one big cache. What
//! differs: each shard ages on its own packets' clock (and on the loop's ticks), and deterministic sampling
//! counts each shard's packets, so 1 in N holds per shard rather than over the whole stream.

use std::thread::JoinHandle;

use std::time::Duration;

use anyhow::Context as _;

use crossbeam_channel::{Receiver, RecvTimeoutError, Select, Sender, TrySendError, bounded};
use weir_flow::FlowRecord;
use weir_meter::cache::{CacheConfig, KeyField, KeySet};
use weir_meter::meter::{Meter, MeterStats};
use weir_meter::packet::Packet;
use weir_meter::sampling::Sampling;

/// Packets sent to a shard at once.
const BATCH: usize = 256;

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
    expired: Receiver<Vec<FlowRecord>>,
    /// Flows taken from the shards while waiting to hand them work, until `take_expired`.
    collected: Vec<FlowRecord>,
    threads: Vec<JoinHandle<Meter>>,
}

impl Shards {
    /// `n` shards, each a meter with `config.entries / n` entries; `records`: whether expired flows
    /// become records (see `Meter::keep_records`).
    pub fn start(n: usize, config: CacheConfig, sampling: Sampling, records: bool) -> anyhow::Result<Self> {
        let per_shard = CacheConfig {
            entries: config.entries.div_ceil(n),
            ..config
        };
        let (expired_tx, expired) = bounded(4 * n);
        let mut work = Vec::with_capacity(n);
        let mut threads = Vec::with_capacity(n);
        for i in 0..n {
            let mut meter = Meter::new(per_shard, sampling).context("main cache")?;
            meter.keep_records(records);
            let (tx, rx) = bounded::<Work>(8);
            let out = expired_tx.clone();
            let thread = std::thread::Builder::new()
                .name(format!("probe-shard-{i}"))
                .spawn(move || {
                    shard(&mut meter, &rx, &out);
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
            expired,
            collected: Vec::new(),
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

    /// Gives `work` to shard `i`. While the shard's queue is full, the flows shards expire are taken in,
    /// so a shard waiting to hand over its flows never waits for a loop that waits for it. The loop
    /// sleeps until either can go on: a shard that expires nothing (no records kept) never sends, so
    /// waiting for its flows with a timeout would idle the loop for the timeout each time.
    fn send(&mut self, i: usize, work: Work) {
        let work = match self.work[i].try_send(work) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => return,
            Err(TrySendError::Full(work)) => work,
        };
        let mut work = Some(work);
        while let Some(w) = work.take() {
            let mut select = Select::new();
            let to_shard = select.send(&self.work[i]);
            select.recv(&self.expired);
            let op = select.select();
            if op.index() == to_shard {
                // A shard that is gone has panicked; `finish` reports it.
                let _ = op.send(&self.work[i], w);
            } else {
                work = Some(w);
                if let Ok(flows) = op.recv(&self.expired) {
                    self.collected.extend_from_slice(&flows);
                }
            }
        }
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

    /// Appends the flows the shards have expired so far to `out`.
    pub fn take_expired(&mut self, out: &mut Vec<FlowRecord>) {
        out.append(&mut self.collected);
        while let Ok(flows) = self.expired.try_recv() {
            out.extend_from_slice(&flows);
        }
    }

    /// The shards' statistics, merged, once they have counted every packet handed over.
    pub fn stats(&mut self) -> Option<MeterStats> {
        self.send_pending();
        let mut merged: Option<MeterStats> = None;
        for i in 0..self.work.len() {
            let (tx, rx) = bounded(1);
            self.send(i, Work::Stats(tx));
            let stats = loop {
                match rx.recv_timeout(Duration::from_millis(1)) {
                    Ok(stats) => break stats,
                    Err(RecvTimeoutError::Disconnected) => return None,
                    Err(RecvTimeoutError::Timeout) => {
                        while let Ok(flows) = self.expired.try_recv() {
                            self.collected.extend_from_slice(&flows);
                        }
                    }
                }
            };
            match &mut merged {
                Some(m) => m.merge(&stats),
                None => merged = Some(stats),
            }
        }
        merged
    }

    /// Sends what is held, stops the shards, and gives back their meters (with their flows still in
    /// the cache) after collecting every expired flow into `out`.
    pub fn finish(mut self, out: &mut Vec<FlowRecord>) -> anyhow::Result<Vec<Meter>> {
        self.send_pending();
        self.work.clear();
        out.append(&mut self.collected);
        let mut meters = Vec::with_capacity(self.threads.len());
        for thread in self.threads {
            while !thread.is_finished() {
                if let Ok(flows) = self.expired.recv_timeout(Duration::from_millis(10)) {
                    out.extend_from_slice(&flows);
                }
            }
            meters.push(
                thread
                    .join()
                    .map_err(|_| anyhow::anyhow!("a shard thread panicked"))?,
            );
        }
        while let Ok(flows) = self.expired.try_recv() {
            out.extend_from_slice(&flows);
        }
        Ok(meters)
    }
}

/// One shard's loop, until the packet loop hangs up.
fn shard(meter: &mut Meter, work: &Receiver<Work>, expired: &Sender<Vec<FlowRecord>>) {
    for w in work {
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
        if !meter.expired().is_empty() {
            let flows = std::mem::take(meter.expired());
            if expired.send(flows).is_err() {
                return;
            }
        }
    }
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
    fn shards_without_records_count_every_flow_and_send_none_back() {
        let config = CacheConfig {
            entries: 4096,
            ..CacheConfig::default()
        };
        let mut shards = Shards::start(2, config, Sampling::Off, false).unwrap();
        // Far more batches than the shards' queues hold, so the loop waits on full queues that no
        // expired flow ever wakes it from.
        for i in 0..200_000u64 {
            let rec = tcp((i % 200) as u8, 1000 + (i / 200 % 10) as u16);
            shards.packet(&packet(1_000_000_000 + i * 1000, &rec));
        }
        let stats = shards.stats().unwrap();
        assert_eq!(stats.counters.packets, 200_000);
        let mut back = Vec::new();
        let meters = shards.finish(&mut back).unwrap();
        let mut flows = 0;
        for mut m in meters {
            m.flush();
            assert!(m.expired().is_empty());
            flows += m.stats().v4.counters.expired();
        }
        assert!(back.is_empty());
        assert_eq!(flows, 2000);
    }

    #[test]
    fn shards_meter_like_one_cache() {
        let config = CacheConfig {
            entries: 4096,
            ..CacheConfig::default()
        };
        let mut one = Meter::new(config, Sampling::Off).unwrap();
        let mut shards = Shards::start(3, config, Sampling::Off, true).unwrap();
        for i in 0..3000u64 {
            let rec = tcp((i % 50) as u8, 1000 + (i % 7) as u16);
            let p = packet(1_000_000_000 * (1 + i / 100), &rec);
            one.packet(&p);
            shards.packet(&p);
        }
        let stats = shards.stats().unwrap();
        assert_eq!(stats.counters.packets, 3000);
        let mut sharded = Vec::new();
        let meters = shards.finish(&mut sharded).unwrap();
        for mut m in meters {
            m.flush();
            sharded.append(m.expired());
        }
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
