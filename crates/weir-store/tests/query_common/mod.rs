//! Flows with known sums, written as a store directory (raw table and both rollups) with the writer's own
//! conversion, rollup and file writing, and the expected answers computed straight from the flows.

// Each test file uses a part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};

use weir_flow::{ColumnRef, Field, FlowBatch, FlowRecord, codes, ipv4};
use weir_query::backend::Value;
use weir_query::plan::Table;
use weir_store::engine::{Embedded, EngineConfig};
use weir_store::layout::{FileName, Granularity};
use weir_store::rollup::Rollup;
use weir_store::{convert, files, schema};

pub const S: u64 = 1_000_000_000;
pub const MINUTE: u64 = 60 * S;
pub const HOUR: u64 = 60 * MINUTE;
/// 2026-11-22T00:00:00Z: the flows are received over the three hours from here.
pub const T0: u64 = 1_795_305_600_000_000_000;
/// Nothing is received in `[GAP.0, GAP.1)`, so buckets there are empty.
pub const GAP: (u64, u64) = (T0 + 60 * MINUTE, T0 + 75 * MINUTE);
/// A time after all the flows, from which every table still keeps them.
pub const NOW: u64 = T0 + 24 * HOUR;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

pub const EXPORTERS: [([u8; 4], &str); 3] = [
    ([192, 0, 2, 254], "edge-1"),
    ([192, 0, 2, 253], "edge-2"),
    ([198, 51, 100, 254], "core-1"),
];

/// `n` flows received over three hours from [`T0`] (none in [`GAP`]), every one at its own nanosecond, with
/// every column filled with a spread of realistic values.
pub fn flows(n: usize) -> FlowBatch {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut batch = FlowBatch::with_capacity(n);
    let span = 3 * HOUR - (GAP.1 - GAP.0);
    let v6 = |last: u16| Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last);
    for i in 0..n as u64 {
        let mut t = T0 + i * (span / n as u64) + rng.below(span / n as u64 / 2);
        if t >= GAP.0 {
            t += GAP.1 - GAP.0;
        }
        let (exporter, exporter_name) = rng.pick(&EXPORTERS);
        let v4 = rng.below(5) > 0;
        let src_addr = match (v4, rng.below(3)) {
            (true, 0) => ipv4([10, rng.below(4) as u8, rng.below(256) as u8, rng.below(256) as u8]),
            (true, _) => ipv4([192, 0, 2, 1 + rng.below(20) as u8]),
            (false, _) => v6(1 + rng.below(10) as u16),
        };
        let dst_addr = match (v4, rng.below(4)) {
            (true, 0) => ipv4([10, 1, rng.below(256) as u8, rng.below(256) as u8]),
            (true, 1) => ipv4([192, 0, 2, 7]),
            (true, _) => ipv4([198, 51, 100, 1 + rng.below(30) as u8]),
            (false, _) => Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1 + rng.below(5) as u16),
        };
        let proto = rng.pick(&[6, 6, 6, 17, 17, 1]);
        let dst_port = match proto {
            1 => 0,
            _ => {
                let alt = 8080 + rng.below(3) as u16;
                rng.pick(&[53, 443, 443, 80, 22, alt])
            }
        };
        let app = match dst_port {
            53 => "dns",
            443 => "https",
            80 | 8080..=8082 => "http",
            _ => "",
        };
        // A 32-bit private AS among them, so that keys using every bit of the column are read back whole.
        let dst_as = rng.pick(&[15169, 13335, 64500, 64501, 64502, 4_200_000_000]);
        let packets = match rng.below(40) {
            0 => 0,
            1..=20 => 1 + rng.below(10),
            _ => 1 + rng.below(2000),
        };
        let size = rng.pick(&[40, 52, 64, 120, 576, 577, 1000, 1400, 1500, 9000]) + rng.below(10);
        let duration = rng.pick(&[0, 1, 1500, 30_000, 60_000]) * 1_000_000 + rng.below(1000);
        // Flows of even hours are stamped in whole milliseconds, as routers do, so that their files store
        // flow times in milliseconds; the others' in nanoseconds.
        let whole_ms = ((t - T0) / HOUR).is_multiple_of(2);
        let (duration, flow_end) = if whole_ms {
            (duration / 1_000_000 * 1_000_000, (t / 1_000_000 - 1) * 1_000_000)
        } else {
            (duration, t - 1_000_000)
        };
        let in_if = 1 + rng.below(4) as u32;
        let out_if = 1 + (in_if + rng.below(3) as u32) % 4;
        let path = match rng.below(3) {
            0 => vec![],
            1 => vec![3356, dst_as],
            _ => vec![174, 3356, dst_as],
        };
        let communities = match rng.below(3) {
            0 => vec![],
            1 => vec![(65000 << 16) | 100],
            _ => vec![(65000 << 16) | 200, (65001 << 16) | 300],
        };
        let countries = ["JP", "US", "FR", ""];
        let domains = ["www.example.com", "ns1.example.net", "it's.example.org", ""];
        let flow_direction = rng.pick(&[
            codes::direction::UNKNOWN,
            codes::direction::INGRESS,
            codes::direction::EGRESS,
        ]);
        let rec = FlowRecord {
            time_received: t,
            flow_start: flow_end - duration,
            flow_end,
            exporter_addr: ipv4(exporter),
            exporter_name: batch.intern(exporter_name),
            observation_domain: rng.below(3) as u32,
            sampling_rate: rng.pick(&[1, 10, 100]),
            in_if,
            out_if,
            in_if_name: batch.intern(&format!("xe-0/0/{in_if}")),
            out_if_name: batch.intern(&format!("et-1/0/{out_if}")),
            in_if_speed: 10_000_000_000,
            out_if_speed: 100_000_000_000,
            in_if_boundary: rng.below(3) as u8,
            out_if_boundary: rng.below(3) as u8,
            flow_direction,
            forwarding_status: rng.pick(&[codes::forwarding::FORWARDED, codes::forwarding::DROPPED]),
            etype: if v4 {
                codes::etype::IPV4
            } else {
                codes::etype::IPV6
            },
            proto,
            src_addr,
            dst_addr,
            src_port: {
                let high = 1024 + rng.below(60_000) as u16;
                rng.pick(&[53, 443, high])
            },
            dst_port,
            src_mask: rng.pick(&[0, 8, 24]),
            dst_mask: rng.pick(&[0, 16, 24]),
            tos: rng.pick(&[0, 0x10, 0xb8]),
            tcp_flags: if proto == 6 { rng.below(64) as u16 } else { 0 },
            icmp_type: if proto == 1 { rng.pick(&[0, 8]) } else { 0 },
            icmp_code: 0,
            vlan: rng.pick(&[0, 100, 200]),
            src_mac: rng.pick(&[0x0011_2233_4455, 0x0011_2233_4456]),
            dst_mac: rng.pick(&[0x00aa_bbcc_ddee, 0x00aa_bbcc_ddef]),
            next_hop: ipv4([192, 0, 2, rng.pick(&[1, 2])]),
            bgp_next_hop: ipv4([203, 0, 113, rng.pick(&[1, 2])]),
            src_as: rng.pick(&[0, 64496, 64497]),
            dst_as,
            dst_as_path: batch.push_list(&path),
            dst_communities: batch.push_list(&communities),
            src_country: batch.intern(rng.pick(&countries)),
            dst_country: batch.intern(rng.pick(&countries)),
            src_as_name: batch.intern("EXAMPLE-AS"),
            dst_as_name: batch.intern(if dst_as == 15169 { "GOOGLE" } else { "OTHER" }),
            src_domain: batch.intern(rng.pick(&domains)),
            dst_domain: batch.intern(rng.pick(&domains)),
            app: batch.intern(app),
            threat: batch.intern(if rng.below(50) == 0 { "botnet" } else { "" }),
            flow_end_reason: 1 + rng.below(3) as u8,
            bytes: packets * size,
            packets,
            flows: rng.pick(&[1, 1, 1, 3]),
            extra_fields: weir_flow::Blob::EMPTY,
        };
        batch.push(&rec);
    }
    batch
}

/// A store directory removed when dropped.
#[derive(Debug)]
pub struct Dir(pub PathBuf);

impl Dir {
    pub fn new(name: &str) -> Dir {
        let path = std::env::temp_dir().join(format!("weir-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temporary directory");
        Dir(path)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The flows of `batch` split by the partition of `granularity` they fall in.
fn partitions(batch: &FlowBatch, granularity: Granularity) -> Vec<(u64, FlowBatch)> {
    let mut parts: Vec<(u64, FlowBatch)> = Vec::new();
    for i in 0..batch.len() {
        let t = batch.cols.time_received[i];
        let start = granularity.start(t);
        let at = match parts.iter().position(|(s, _)| *s == start) {
            Some(at) => at,
            None => {
                parts.push((start, FlowBatch::new()));
                parts.len() - 1
            }
        };
        parts[at].1.push_from(batch, i);
    }
    parts
}

/// Writes `batch` as a store in `dir`: the raw table in hourly partitions, each partition's flows in
/// `parts` files (as successive flushes would), and the two rollups of the same flows.
pub fn write_store(dir: &Path, batch: &FlowBatch, parts: usize) {
    let mut seq = 0;
    let mut next_name = || {
        seq += 1;
        FileName::Part(seq).to_string()
    };
    for (start, flows) in partitions(batch, Granularity::Hour) {
        let part_dir = dir.join("flows").join(Granularity::Hour.dir(start));
        std::fs::create_dir_all(&part_dir).expect("partition directory");
        let per_part = flows.len().div_ceil(parts.max(1));
        for chunk in 0..parts.max(1) {
            let mut piece = FlowBatch::new();
            for i in chunk * per_part..((chunk + 1) * per_part).min(flows.len()) {
                piece.push_from(&flows, i);
            }
            if piece.is_empty() {
                continue;
            }
            let rb = convert::to_record_batch(&piece).expect("record batch");
            files::write_file(part_dir.join(next_name()), schema::raw_schema(), &[rb]).expect("raw part");
        }
    }
    for table in Table::defaults().iter().filter(|t| !t.is_raw()) {
        let resolution = table.resolution_ns();
        let granularity = Granularity::for_resolution(resolution);
        let table_schema = schema::table_schema(table);
        for (start, flows) in partitions(batch, granularity) {
            let mut rollup = Rollup::new(resolution, table_schema.clone());
            rollup.add_flows(&flows);
            let rb = rollup.finish().expect("rollup");
            let part_dir = dir.join(&table.name).join(granularity.dir(start));
            std::fs::create_dir_all(&part_dir).expect("partition directory");
            files::write_file(part_dir.join(next_name()), table_schema.clone(), &[rb]).expect("rollup part");
        }
    }
}

/// A store of `batch` in a fresh directory, and the engine over it.
pub fn store(name: &str, batch: &FlowBatch, parts: usize) -> (Dir, Embedded) {
    let dir = Dir::new(name);
    write_store(&dir.0, batch, parts);
    let engine = Embedded::with_config(&dir.0, EngineConfig::default(), Table::defaults()).expect("engine");
    (dir, engine)
}

/// Every flow of `batch`.
pub fn records(batch: &FlowBatch) -> Vec<FlowRecord> {
    (0..batch.len()).filter_map(|i| batch.row(i)).collect()
}

/// The value of `field` in `rec` (a flow of `batch`) as the engine returns it.
pub fn value(batch: &FlowBatch, rec: &FlowRecord, field: Field) -> Value {
    // A one-row batch gives the field's column by name; its string and list handles still point into
    // `batch`'s pools.
    let mut one = FlowBatch::new();
    one.push(rec);
    match one.cols.get(field) {
        ColumnRef::Ip(v) => Value::Ip(v[0]),
        ColumnRef::Str(v) => Value::Str(batch.str(v[0]).to_owned()),
        ColumnRef::U8(v) => Value::U64(v[0].into()),
        ColumnRef::U16(v) => Value::U64(v[0].into()),
        ColumnRef::U32(v) => Value::U64(v[0].into()),
        ColumnRef::U64(v) | ColumnRef::Mac(v) => Value::U64(v[0]),
        ColumnRef::Time(v) => Value::Time(v[0]),
        ColumnRef::U32List(v) => Value::List(batch.list(v[0]).to_vec()),
        ColumnRef::Bytes(v) => Value::Bytes(batch.blob(v[0]).to_vec()),
    }
}

/// Scaled traffic of one flow.
pub fn bytes(r: &FlowRecord) -> u64 {
    r.bytes * u64::from(r.sampling_rate)
}

/// Scaled packets of one flow.
pub fn packets(r: &FlowRecord) -> u64 {
    r.packets * u64::from(r.sampling_rate)
}

/// A key's text, to group by in tests (values are not hashable).
pub fn key_text(key: &[Value]) -> String {
    format!("{key:?}")
}

/// Sums of `amount` per key of `dims`, with each key's values.
pub fn sums_by(
    batch: &FlowBatch,
    flows: &[FlowRecord],
    dims: &[Field],
    amount: impl Fn(&FlowRecord) -> u64,
) -> HashMap<String, (Vec<Value>, u64)> {
    let mut out: HashMap<String, (Vec<Value>, u64)> = HashMap::new();
    for r in flows {
        let key: Vec<Value> = dims.iter().map(|&d| value(batch, r, d)).collect();
        out.entry(key_text(&key)).or_insert((key, 0)).1 += amount(r);
    }
    out
}
