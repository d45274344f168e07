//! The sFlow v5 agent of the simulated switch, as hsflowd or a switch's own agent sends: a flow sample
//! for each sampled packet (the first 128 bytes of its frame, with the switch, router and gateway
//! records), counter samples of every interface every 20 seconds, datagrams filled up to 1400 bytes and
//! sent within a second.
//!
//! Flow records come in from the traffic model already sampled (a record of a router sampling one in N
//! counts the packets it sampled), so each of a record's packets becomes one flow sample of its average
//! size, up to [`MAX_SAMPLES_PER_RECORD`]. The interface counters add up the traffic the samples stand
//! for.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};

use weir_flow::codes::{forwarding, proto};
use weir_flow::ndjson::display_ip;
use weir_flow::time::NANOS_PER_SEC;
use weir_flow::{FlowBatch, FlowRecord};
use weir_proto::sflow::{
    AsPathSegment, CounterData, CounterSample, CounterSampleHead, Datagram, DropReason, ExtendedGateway,
    ExtendedRouter, ExtendedSwitch, FlowData, FlowSample, FlowSampleHead, Header, HeaderProtocol, IfCounters,
    Interface, Sample, SampledHeader, SourceId, as_path,
};

use crate::synthetic::catalogue::LOCAL_AS;
use crate::synthetic::frame::{self, Packet, Transport};

/// Bytes of each sampled frame sent (hsflowd's default).
const HEADER_BYTES: usize = 128;
/// Largest datagram sent (hsflowd's default).
const MAX_DATAGRAM: usize = 1400;
/// Seconds between counter samples of an interface.
const POLL_INTERVAL: u64 = 20 * NANOS_PER_SEC;
/// Longest a sample waits for its datagram to fill.
const MAX_HOLD: u64 = NANOS_PER_SEC;
/// Flow samples made of one record at most: a long flow's many sampled packets would otherwise come out
/// as a burst of samples at once, where a switch sends them over the flow's life.
pub const MAX_SAMPLES_PER_RECORD: u64 = 8;
/// The Ethernet frame check sequence, which the frame length counts and the header leaves out.
const FCS: u32 = 4;
/// ifType of Ethernet interfaces (ethernetCsmacd).
const ETHERNET: u32 = 6;

/// What the agent sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentCounters {
    pub datagrams: u64,
    pub bytes: u64,
    pub flow_samples: u64,
    pub counter_samples: u64,
}

/// One interface's counters and its counter samples' sequence.
#[derive(Debug, Clone, Copy)]
struct Port {
    counters: IfCounters,
    sequence: u32,
}

/// The agent.
#[derive(Debug)]
pub struct SflowAgent {
    /// The datagram being filled: its header and the samples waiting.
    datagram: Datagram,
    /// When the switch booted, nanoseconds since the epoch.
    boot: u64,
    /// Flow sample sequence and sample pool of each data source (the input interface, by ifIndex).
    sources: HashMap<u32, (u32, u32)>,
    ports: HashMap<u32, Port>,
    next_poll: u64,
    /// When the oldest waiting sample came.
    held_since: u64,
    /// Buffers, reused.
    frame: Vec<u8>,
    out: Vec<u8>,
    counters: AgentCounters,
}

impl SflowAgent {
    /// The agent of a switch at `agent` with `interfaces` (ifIndex, speed in bits per second), up since
    /// `boot`, started at `now` (nanoseconds since the epoch).
    pub fn new(agent: IpAddr, interfaces: &[(u32, u64)], boot: u64, now: u64) -> SflowAgent {
        let ports = interfaces
            .iter()
            .map(|&(index, speed)| {
                let counters = IfCounters {
                    if_index: index,
                    if_type: ETHERNET,
                    if_speed: speed,
                    if_direction: 1,
                    if_status: 3,
                    ..IfCounters::default()
                };
                (
                    index,
                    Port {
                        counters,
                        sequence: 0,
                    },
                )
            })
            .collect();
        SflowAgent {
            datagram: Datagram {
                header: Header {
                    version: 5,
                    agent,
                    sub_agent_id: 0,
                    sequence: 0,
                    uptime_ms: 0,
                },
                samples: Vec::new(),
            },
            boot,
            sources: HashMap::new(),
            ports,
            next_poll: now,
            held_since: now,
            frame: Vec::with_capacity(HEADER_BYTES),
            out: Vec::with_capacity(MAX_DATAGRAM + 512),
            counters: AgentCounters::default(),
        }
    }

    /// What the agent sent so far.
    pub fn counters(&self) -> AgentCounters {
        self.counters
    }

    /// Takes the sampled packets of `flows` (whose lists are in `batch`) at `now`, and hands every
    /// datagram they fill to `emit`.
    pub fn export(
        &mut self,
        batch: &FlowBatch,
        flows: &[FlowRecord],
        now: u64,
        emit: &mut impl FnMut(&[u8]),
    ) {
        for rec in flows {
            for _ in 0..rec.packets.clamp(1, MAX_SAMPLES_PER_RECORD) {
                let sample = self.flow_sample(batch, rec);
                self.push(sample, now, emit);
                self.counters.flow_samples += 1;
            }
        }
        self.tick(now, emit);
    }

    /// Sends the counter samples when their time has come, and the waiting samples once they have waited
    /// long enough. Call it about once a second.
    pub fn tick(&mut self, now: u64, emit: &mut impl FnMut(&[u8])) {
        if now >= self.next_poll {
            self.next_poll = now + POLL_INTERVAL;
            let mut indexes: Vec<u32> = self.ports.keys().copied().collect();
            indexes.sort_unstable();
            for index in indexes {
                if let Some(port) = self.ports.get_mut(&index) {
                    port.sequence = port.sequence.wrapping_add(1);
                    let sample = Sample::Counter(CounterSample {
                        head: CounterSampleHead {
                            expanded: false,
                            sequence: port.sequence,
                            source: SourceId {
                                kind: SourceId::IF_INDEX,
                                index,
                            },
                            sampling_interval: 0,
                        },
                        records: vec![CounterData::Generic(port.counters)],
                    });
                    self.push(sample, now, emit);
                    self.counters.counter_samples += 1;
                }
            }
        }
        if now.saturating_sub(self.held_since) >= MAX_HOLD {
            self.flush(now, emit);
        }
    }

    /// Sends the waiting samples now.
    pub fn flush(&mut self, now: u64, emit: &mut impl FnMut(&[u8])) {
        if !self.datagram.samples.is_empty() {
            self.send(now, emit);
        }
    }

    /// Adds a sample to the datagram, sending the datagram first if the sample would not fit in it.
    fn push(&mut self, sample: Sample, now: u64, emit: &mut impl FnMut(&[u8])) {
        if self.datagram.samples.is_empty() {
            self.held_since = now;
        }
        self.datagram.samples.push(sample);
        if self.encode(now) > MAX_DATAGRAM && self.datagram.samples.len() > 1 {
            let last = self.datagram.samples.pop();
            self.send(now, emit);
            self.held_since = now;
            self.datagram.samples.extend(last);
        }
    }

    /// Encodes the datagram into `out`; its length.
    fn encode(&mut self, now: u64) -> usize {
        self.datagram.header.uptime_ms = ((now.saturating_sub(self.boot)) / 1_000_000) as u32;
        self.out.clear();
        // Every value the agent puts in a sample fits its field, so encoding cannot fail; a sample that
        // did not would leave the datagram empty, and it would not be sent.
        if self.datagram.write(&mut self.out).is_err() {
            self.out.clear();
        }
        self.out.len()
    }

    fn send(&mut self, now: u64, emit: &mut impl FnMut(&[u8])) {
        if self.encode(now) > 0 {
            emit(&self.out);
            self.counters.datagrams += 1;
            self.counters.bytes += self.out.len() as u64;
            self.datagram.header.sequence = self.datagram.header.sequence.wrapping_add(1);
        }
        self.datagram.samples.clear();
    }

    /// One sampled packet of `rec`, and its share of the interface counters.
    fn flow_sample(&mut self, batch: &FlowBatch, rec: &FlowRecord) -> Sample {
        let (src, dst) = (display_ip(rec.src_addr), display_ip(rec.dst_addr));
        let transport = match rec.proto {
            proto::TCP => Transport::Tcp {
                src_port: rec.src_port,
                dst_port: rec.dst_port,
                flags: rec.tcp_flags as u8,
            },
            proto::UDP => Transport::Udp {
                src_port: rec.src_port,
                dst_port: rec.dst_port,
            },
            proto::ICMP | proto::ICMPV6 => Transport::Icmp {
                kind: rec.icmp_type,
                code: rec.icmp_code,
            },
            proto::GRE => Transport::Gre,
            other => Transport::Other(other),
        };
        let (ip_header, transport_header) = (
            if src.is_ipv6() { 40 } else { 20 },
            match transport {
                Transport::Tcp { .. } => 20,
                Transport::Udp { .. } | Transport::Icmp { .. } => 8,
                Transport::Gre => 4,
                Transport::Other(_) => 0,
            },
        );
        let ip_length = (rec.bytes / rec.packets.max(1)).max(ip_header + transport_header);
        let packet = Packet {
            src,
            dst,
            tos: rec.tos,
            vlan: (rec.vlan != 0).then_some(rec.vlan),
            transport,
            ip_payload: (ip_length - ip_header) as usize,
        };
        let frame_length = frame::write(&packet, HEADER_BYTES, &mut self.frame) as u32 + FCS;

        let rate = rec.sampling_rate.max(1);
        let (sequence, pool) = self.sources.entry(rec.in_if).or_default();
        *sequence = sequence.wrapping_add(1);
        *pool = pool.wrapping_add(rate);
        let head = FlowSampleHead {
            expanded: false,
            sequence: *sequence,
            source: SourceId {
                kind: SourceId::IF_INDEX,
                index: rec.in_if,
            },
            sampling_rate: rate,
            sample_pool: *pool,
            drops: 0,
            input: Interface {
                format: 0,
                value: rec.in_if,
            },
            output: if forwarding::status(rec.forwarding_status) == forwarding::DROPPED {
                Interface {
                    format: 1,
                    value: DropReason::UNKNOWN.0,
                }
            } else {
                Interface {
                    format: 0,
                    value: rec.out_if,
                }
            },
        };
        let seen = u64::from(rate);
        let octets = u64::from(frame_length) * seen;
        if let Some(p) = self.ports.get_mut(&head.input.value) {
            p.counters.in_octets = p.counters.in_octets.wrapping_add(octets);
            p.counters.in_unicast = p.counters.in_unicast.wrapping_add(rate);
        }
        if let Some(p) = self
            .ports
            .get_mut(&rec.out_if)
            .filter(|_| head.output.format == 0)
        {
            p.counters.out_octets = p.counters.out_octets.wrapping_add(octets);
            p.counters.out_unicast = p.counters.out_unicast.wrapping_add(rate);
        }

        let known = |a: Ipv6Addr| Some(display_ip(a)).filter(|ip| !ip.is_unspecified());
        let path = batch.list(rec.dst_as_path);
        let as_path = if path.is_empty() {
            vec![rec.dst_as]
        } else {
            path.to_vec()
        };
        let records = vec![
            FlowData::RawHeader(SampledHeader {
                protocol: HeaderProtocol::ETHERNET,
                frame_length,
                stripped: FCS,
                header: self.frame.clone(),
            }),
            FlowData::Switch(ExtendedSwitch {
                src_vlan: rec.vlan.into(),
                dst_vlan: rec.vlan.into(),
                ..ExtendedSwitch::default()
            }),
            FlowData::Router(ExtendedRouter {
                next_hop: known(rec.next_hop),
                src_mask_len: rec.src_mask.into(),
                dst_mask_len: rec.dst_mask.into(),
            }),
            FlowData::Gateway(ExtendedGateway {
                next_hop: known(rec.bgp_next_hop),
                as_number: LOCAL_AS,
                src_as: rec.src_as,
                src_peer_as: rec.src_as,
                as_path: vec![AsPathSegment {
                    kind: as_path::AS_SEQUENCE,
                    asns: as_path,
                }],
                communities: batch.list(rec.dst_communities).to_vec(),
                local_pref: 100,
            }),
        ];
        Sample::Flow(FlowSample { head, records })
    }
}

#[cfg(test)]
mod tests {
    use weir_flow::codes::{direction, etype};
    use weir_flow::ipv4;
    use weir_proto::{Decoder, Dialect, DomainKey};

    use super::*;

    const AGENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 14));
    const NOW: u64 = 1_793_577_600 * NANOS_PER_SEC;
    const PORTS: [(u32, u64); 2] = [(530, 100_000_000_000), (560, 10_000_000_000)];

    /// A TCP flow of three sampled packets of 1000 bytes on VLAN 120, to a remote AS.
    fn tcp(batch: &mut FlowBatch) -> FlowRecord {
        FlowRecord {
            etype: etype::IPV4,
            sampling_rate: 512,
            in_if: 560,
            out_if: 530,
            forwarding_status: forwarding::FORWARDED,
            proto: proto::TCP,
            src_addr: ipv4([100, 64, 1, 2]),
            dst_addr: ipv4([203, 0, 113, 9]),
            src_port: 40_000,
            dst_port: 443,
            src_mask: 22,
            dst_mask: 24,
            tos: 0x28,
            tcp_flags: 0x18,
            vlan: 120,
            next_hop: ipv4([198, 51, 100, 1]),
            bgp_next_hop: ipv4([198, 51, 100, 1]),
            src_as: LOCAL_AS,
            dst_as: 13_335,
            dst_as_path: batch.push_list(&[3356, 13_335]),
            dst_communities: batch.push_list(&[64_500 << 16 | 100]),
            packets: 3,
            bytes: 3000,
            flows: 1,
            ..FlowRecord::default()
        }
    }

    /// An ICMPv6 echo reply from a remote host, and a dropped UDP packet.
    fn others(batch: &mut FlowBatch) -> [FlowRecord; 2] {
        let base = tcp(batch);
        let icmp = FlowRecord {
            etype: etype::IPV6,
            in_if: 530,
            out_if: 560,
            proto: proto::ICMPV6,
            src_addr: "2a02:1::5".parse().unwrap(),
            dst_addr: "2001:db8:1::7".parse().unwrap(),
            src_port: 0,
            dst_port: 0,
            tcp_flags: 0,
            icmp_type: 129,
            next_hop: Ipv6Addr::UNSPECIFIED,
            bgp_next_hop: Ipv6Addr::UNSPECIFIED,
            src_as: 13_335,
            dst_as: LOCAL_AS,
            dst_as_path: batch.push_list(&[]),
            dst_communities: batch.push_list(&[]),
            packets: 1,
            bytes: 104,
            ..base
        };
        let dropped = FlowRecord {
            forwarding_status: forwarding::DROPPED | 2,
            proto: proto::UDP,
            dst_port: 53,
            tcp_flags: 0,
            packets: 1,
            bytes: 80,
            ..base
        };
        [icmp, dropped]
    }

    #[test]
    fn every_sampled_packet_decodes_back_with_its_headers_and_paths() {
        let mut batch = FlowBatch::new();
        let mut flows = vec![tcp(&mut batch)];
        flows.extend(others(&mut batch));
        let mut agent = SflowAgent::new(AGENT, &PORTS, NOW - 86_400 * NANOS_PER_SEC, NOW);
        let mut datagrams = Vec::new();
        agent.export(&batch, &flows, NOW, &mut |d| datagrams.push(d.to_vec()));
        agent.flush(NOW, &mut |d| datagrams.push(d.to_vec()));

        let mut decoder = Decoder::default();
        let mut got = FlowBatch::new();
        for d in &datagrams {
            assert!(d.len() <= MAX_DATAGRAM, "{} bytes", d.len());
            let o = decoder.decode(AGENT, NOW, d, &mut got);
            assert_eq!(o.error, None);
        }
        let got: Vec<FlowRecord> = (0..got.len()).filter_map(|i| got.row(i)).collect();
        assert_eq!(got.len(), 5, "three samples of the TCP flow, one of each other");
        for g in &got[..3] {
            assert_eq!((g.src_addr, g.dst_addr), (flows[0].src_addr, flows[0].dst_addr));
            assert_eq!((g.src_port, g.dst_port, g.proto), (40_000, 443, proto::TCP));
            assert_eq!((g.tcp_flags, g.tos, g.vlan), (0x18, 0x28, 120));
            assert_eq!((g.in_if, g.out_if, g.sampling_rate), (560, 530, 512));
            assert_eq!((g.src_mask, g.dst_mask), (22, 24));
            assert_eq!((g.src_as, g.dst_as), (LOCAL_AS, 13_335));
            assert_eq!(g.next_hop, flows[0].next_hop);
            assert_eq!(
                (g.bytes, g.packets, g.flow_direction),
                (1000, 1, direction::INGRESS)
            );
        }
        let icmp = &got[3];
        assert_eq!(
            (icmp.proto, icmp.icmp_type, icmp.bytes),
            (proto::ICMPV6, 129, 104)
        );
        assert_eq!((icmp.src_addr, icmp.dst_as), (flows[1].src_addr, LOCAL_AS));
        assert_eq!(forwarding::status(got[4].forwarding_status), forwarding::DROPPED);

        let key = DomainKey {
            exporter: AGENT,
            dialect: Dialect::Sflow,
            domain: 0,
        };
        let (_, domain) = decoder.domains().find(|(k, _)| **k == key).unwrap();
        let c = &domain.counters;
        assert_eq!((c.records, c.counter_samples, c.sequence_gaps), (5, 2, 0));
        assert_eq!(
            agent.counters(),
            AgentCounters {
                datagrams: datagrams.len() as u64,
                bytes: datagrams.iter().map(|d| d.len() as u64).sum(),
                flow_samples: 5,
                counter_samples: 2,
            }
        );
    }

    #[test]
    fn interface_counters_add_up_what_the_samples_stand_for_every_twenty_seconds() {
        let mut batch = FlowBatch::new();
        let flows = [tcp(&mut batch)];
        let mut agent = SflowAgent::new(AGENT, &PORTS, NOW - NANOS_PER_SEC, NOW);
        let mut datagrams = Vec::new();
        agent.tick(NOW, &mut |d| datagrams.push(d.to_vec()));
        agent.export(&batch, &flows, NOW + NANOS_PER_SEC, &mut |d| {
            datagrams.push(d.to_vec())
        });
        agent.tick(NOW + 10 * NANOS_PER_SEC, &mut |d| datagrams.push(d.to_vec()));
        assert_eq!(
            agent.counters().counter_samples,
            2,
            "not polled again before 20 s"
        );
        agent.tick(NOW + 20 * NANOS_PER_SEC, &mut |d| datagrams.push(d.to_vec()));
        agent.flush(NOW + 20 * NANOS_PER_SEC, &mut |d| datagrams.push(d.to_vec()));
        assert_eq!(agent.counters().counter_samples, 4);

        let mut decoder = Decoder::default();
        let mut got = FlowBatch::new();
        for d in &datagrams {
            decoder.decode(AGENT, NOW, d, &mut got);
        }
        let (_, domain) = decoder.domains().next().unwrap();
        let state = domain.sflow_state().unwrap();
        let source = SourceId {
            kind: SourceId::IF_INDEX,
            index: 560,
        };
        let input = state.interface(source, 560).unwrap().counters;
        // Three samples of 1000-byte IP packets in 1022-byte frames (Ethernet, VLAN tag, FCS), one in 512.
        assert_eq!((input.in_octets, input.in_unicast), (3 * 1022 * 512, 3 * 512));
        assert_eq!((input.if_speed, input.if_status), (10_000_000_000, 3));
        let source = SourceId {
            kind: SourceId::IF_INDEX,
            index: 530,
        };
        let output = state.interface(source, 530).unwrap().counters;
        assert_eq!(output.out_octets, 3 * 1022 * 512);
    }
}
