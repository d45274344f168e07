//! Flow records as the world's routers export them.
//!
//! Each record is one direction of a conversation between a client and a server (records are
//! unidirectional, as NetFlow's are): a local customer and a remote server, a remote client and a local
//! server, two remote ends crossing the network in transit, or two local ends. The service decides the
//! protocol, the server's port and how many packets of what size each direction carries; a router that
//! samples one packet in N exports what its sampled packets add up to. Long conversations are cut by the
//! active timeout (60 s), idle ones end 15 s after their last packet, TCP ones mostly on FIN or RST.
//!
//! A record is built on the stack; strings and lists are interned once per batch, so nothing is allocated
//! per flow. When records are received, and from which router, is the caller's choice: `weir bench data`
//! spreads them over a day, `weir demo` sends them as the wall clock goes.

use std::net::Ipv6Addr;

use weir_flow::codes::{direction, end_reason, etype, forwarding, proto};
use weir_flow::time::NANOS_PER_SEC;
use weir_flow::{FlowBatch, FlowRecord, ListRef, Sym};

use super::catalogue::{LOCAL_AS, TOS, TRANSITS, Volume};
use super::random::{Rng, Weighted};
use super::world::{Endpoint, IFS_PER_ROUTER, REMOTE_ASES, Side, Text, World};

/// Longest a record covers; longer conversations are exported in slices.
const ACTIVE_TIMEOUT: u64 = 60 * NANOS_PER_SEC;
/// How long a router waits after a flow's last packet before it exports it.
const INACTIVE_TIMEOUT: u64 = 15 * NANOS_PER_SEC;
/// Share of conversations over IPv6.
const IPV6_SHARE: f64 = 0.14;
/// Share of records that are the server's answer rather than the client's request.
const RESPONSE_SHARE: f64 = 0.55;
/// Share of records of packets the router dropped.
const DROPPED_SHARE: f64 = 0.004;
/// 0.0.0.0 in the schema's address type.
const UNSPECIFIED_V4: Ipv6Addr = Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0);

/// Who talks to whom, and how often, relative to each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conversation {
    /// A local customer and a remote server.
    Outward,
    /// A remote client and a local server.
    Inward,
    /// Two remote ends, across the network.
    Transit,
    /// Two local ends.
    Internal,
}

const CONVERSATIONS: [(Conversation, f64); 4] = [
    (Conversation::Outward, 78.0),
    (Conversation::Inward, 13.0),
    (Conversation::Transit, 5.0),
    (Conversation::Internal, 4.0),
];

/// TCP flags of one sampled packet, with their shares: mostly acknowledgements, some data, a few
/// handshakes and ends.
const SAMPLED_FLAGS: [(u16, f64); 6] = [
    (0x10, 55.0),
    (0x18, 35.0),
    (0x11, 4.0),
    (0x02, 3.0),
    (0x12, 2.0),
    (0x04, 1.0),
];

/// Batch handles of the world's strings and lists, made when a batch first needs them.
#[derive(Debug)]
struct Handles {
    strings: Vec<u32>,
    /// AS paths by (transit provider or exchange, AS).
    paths: Vec<u32>,
    /// Communities by interface.
    communities: Vec<u32>,
}

/// A handle not made yet in this batch.
const NONE: u32 = u32::MAX;

impl Handles {
    fn new(world: &World) -> Handles {
        Handles {
            strings: vec![NONE; world.strings.len()],
            paths: vec![NONE; (TRANSITS.len() + 1) * REMOTE_ASES],
            communities: vec![NONE; world.interfaces.len()],
        }
    }

    /// Forgets every handle: the batch they pointed into was cleared.
    fn reset(&mut self) {
        self.strings.fill(NONE);
        self.paths.fill(NONE);
        self.communities.fill(NONE);
    }

    fn text(&mut self, batch: &mut FlowBatch, world: &World, t: Text) -> Sym {
        let h = &mut self.strings[t.0 as usize];
        if *h == NONE {
            *h = batch.intern(&world.strings[t.0 as usize]).0;
        }
        Sym(*h)
    }

    fn path(&mut self, batch: &mut FlowBatch, world: &World, r: usize, iface: usize, asn: usize) -> ListRef {
        let mut path = [0; 4];
        let n = world.as_path(r, iface, asn, &mut path);
        // Paths differ by the first hop only (the provider, or none over the exchange).
        let via = if n > 1 || path[0] != world.ases[asn].number {
            world.routers[r].transit
        } else {
            TRANSITS.len()
        };
        let h = &mut self.paths[via * REMOTE_ASES + asn];
        if *h == NONE {
            *h = batch.push_list(&path[..n]).0;
        }
        ListRef(*h)
    }

    fn communities(&mut self, batch: &mut FlowBatch, world: &World, r: usize, iface: usize) -> ListRef {
        let i = r * IFS_PER_ROUTER + iface;
        let h = &mut self.communities[i];
        if *h == NONE {
            *h = batch.push_list(&world.interfaces[i].communities).0;
        }
        ListRef(*h)
    }
}

/// Makes flow records of a world.
#[derive(Debug)]
pub struct Flows {
    world: World,
    rng: Rng,
    services: Weighted,
    conversations: Weighted,
    tos: Weighted,
    sampled_flags: Weighted,
    handles: Handles,
}

impl Flows {
    /// Records of `world`, drawn from the stream of `seed`.
    pub fn new(world: World, seed: u64) -> Flows {
        Flows {
            handles: Handles::new(&world),
            services: Weighted::new(world.services.iter().map(|s| s.weight)),
            world,
            rng: Rng::new(seed),
            conversations: Weighted::new(CONVERSATIONS.iter().map(|c| c.1)),
            tos: Weighted::new(TOS.iter().map(|t| t.1)),
            sampled_flags: Weighted::new(SAMPLED_FLAGS.iter().map(|f| f.1)),
        }
    }

    /// The network the flows cross.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The stream records are drawn from, for a caller that decides when and where they are received
    /// from the same seed.
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// Clears `batch` for new records, and forgets the strings and lists interned into it.
    pub fn clear(&mut self, batch: &mut FlowBatch) {
        batch.clear();
        self.handles.reset();
    }

    /// One record of a conversation picked at random, exported by router `r` and received at `time`
    /// (nanoseconds since the epoch).
    pub fn flow(&mut self, batch: &mut FlowBatch, r: usize, time: u64) -> FlowRecord {
        let Flows {
            world,
            rng,
            services,
            conversations,
            ..
        } = self;
        let world: &World = world;
        let v6 = rng.chance(IPV6_SHARE);
        let service_index = services.sample(rng);
        let service = world.services[service_index];
        let (client, server) = match CONVERSATIONS[conversations.sample(rng)].0 {
            Conversation::Outward => (world.local_client(rng, r, v6), world.remote(rng, v6)),
            Conversation::Inward => (world.remote(rng, v6), world.local_server(rng, r, v6)),
            Conversation::Transit => (world.remote(rng, v6), world.remote(rng, v6)),
            Conversation::Internal => (world.local_client(rng, r, v6), world.local_server(rng, r, v6)),
        };
        let response = rng.chance(RESPONSE_SHARE);
        let (src, dst) = if response {
            (server, client)
        } else {
            (client, server)
        };
        let mut rec = self.between(batch, r, time, &src, &dst);
        rec.app = self
            .handles
            .text(batch, &self.world, self.world.apps[service_index]);
        let Flows {
            world,
            rng,
            sampled_flags,
            ..
        } = self;
        let router = &world.routers[r];

        let tcp = service.proto == proto::TCP;
        rec.proto = match service.proto {
            proto::ICMP if v6 => proto::ICMPV6,
            p => p,
        };
        if tcp || service.proto == proto::UDP {
            let client_port = ephemeral(rng);
            let server_port = match service.port {
                0 => rng.range(1024, 49_151) as u16,
                p => p,
            };
            (rec.src_port, rec.dst_port) = if response {
                (server_port, client_port)
            } else {
                (client_port, server_port)
            };
        } else if service.proto == proto::ICMP {
            (rec.icmp_type, rec.icmp_code) = icmp(rng, v6, response);
        }

        let volume = if response {
            service.response
        } else {
            service.request
        };
        let c = counts(rng, &volume, router.sampling_rate);
        rec.packets = c.packets;
        rec.bytes = c.bytes;
        rec.flow_end_reason = c.end_reason;
        if tcp {
            let sampled = router.sampling_rate > 1;
            rec.tcp_flags = tcp_flags(rng, sampled_flags, &c, response, sampled);
            if sampled && c.end_reason == end_reason::END_OF_FLOW && rec.tcp_flags & 0x05 == 0 {
                // A sampled router sees the end of a flow only if it sampled the FIN or RST.
                rec.flow_end_reason = end_reason::IDLE_TIMEOUT;
            }
        } else if c.end_reason == end_reason::END_OF_FLOW {
            rec.flow_end_reason = end_reason::IDLE_TIMEOUT;
        }
        let wait = match rec.flow_end_reason {
            end_reason::IDLE_TIMEOUT => INACTIVE_TIMEOUT,
            _ => 0,
        } + rng.below(2 * NANOS_PER_SEC);
        // Routers stamp flows in milliseconds.
        let ms = NANOS_PER_SEC / 1000;
        rec.flow_end = time.saturating_sub(wait) / ms * ms;
        rec.flow_start = rec.flow_end.saturating_sub(c.duration / ms * ms);
        rec
    }

    /// The part of a record that the path decides, for a packet from `src` to `dst` crossing router `r`,
    /// received at `time`: the exporter, addresses and their prefixes, ASes and their names and
    /// countries, interfaces, next hops, AS path and communities, whether it was forwarded, and a type of
    /// service. The caller adds what the conversation decides (protocol, ports, counts, times).
    pub fn between(
        &mut self,
        batch: &mut FlowBatch,
        r: usize,
        time: u64,
        src: &Endpoint,
        dst: &Endpoint,
    ) -> FlowRecord {
        let Flows {
            world,
            rng,
            handles,
            tos,
            ..
        } = self;
        let world: &World = world;
        let router = &world.routers[r];
        let v6 = src.addr.to_ipv4_mapped().is_none();
        let in_if = world.attachment(src);
        let mut out_if = world.attachment(dst);
        if out_if == in_if {
            out_if = world.other(in_if);
        }
        let dropped = rng.chance(DROPPED_SHARE);

        let mut rec = FlowRecord {
            time_received: time,
            exporter_addr: router.addr,
            exporter_name: handles.text(batch, world, router.name),
            observation_domain: router.domain,
            sampling_rate: router.sampling_rate,
            // Flows are metered on the boundary both ways: what leaves for a remote AS is the egress of
            // the uplink, everything else the ingress of where it came in.
            flow_direction: match (&src.side, &dst.side) {
                (Side::Local { .. }, Side::Remote { .. }) if router.direction == direction::INGRESS => {
                    direction::EGRESS
                }
                _ => router.direction,
            },
            etype: if v6 { etype::IPV6 } else { etype::IPV4 },
            src_addr: src.addr,
            dst_addr: dst.addr,
            src_mask: src.mask,
            dst_mask: dst.mask,
            tos: TOS[tos.sample(rng)].0,
            flows: 1,
            ..FlowRecord::default()
        };
        if let Some(t) = src.threat.or(dst.threat) {
            rec.threat = handles.text(batch, world, t);
        }
        for (e, as_field, name, country) in [
            (src, &mut rec.src_as, &mut rec.src_as_name, &mut rec.src_country),
            (dst, &mut rec.dst_as, &mut rec.dst_as_name, &mut rec.dst_country),
        ] {
            let (number, n, c) = match e.side {
                Side::Local { .. } => (LOCAL_AS, world.local_name, world.local_country),
                Side::Remote { asn } => {
                    let a = &world.ases[asn];
                    (a.number, a.name, a.country)
                }
            };
            *as_field = number;
            *name = handles.text(batch, world, n);
            *country = handles.text(batch, world, c);
        }

        let input = world.interface(r, in_if);
        rec.in_if = input.index;
        rec.in_if_name = handles.text(batch, world, input.name);
        rec.in_if_speed = input.speed;
        rec.in_if_boundary = input.boundary;
        rec.vlan = input.vlan;
        if !v6 {
            // An IPv4 record without a next hop says 0.0.0.0, as routers write it.
            rec.next_hop = UNSPECIFIED_V4;
            rec.bgp_next_hop = UNSPECIFIED_V4;
        }
        if dropped {
            rec.forwarding_status = forwarding::DROPPED | rng.range(1, 3) as u8;
        } else {
            let output = world.interface(r, out_if);
            rec.forwarding_status = forwarding::FORWARDED;
            rec.out_if = output.index;
            rec.out_if_name = handles.text(batch, world, output.name);
            rec.out_if_speed = output.speed;
            rec.out_if_boundary = output.boundary;
            if rec.vlan == 0 {
                rec.vlan = output.vlan;
            }
            rec.next_hop = if v6 {
                output.next_hop_v6
            } else {
                output.next_hop_v4
            };
            if output.boundary == 1 {
                rec.bgp_next_hop = rec.next_hop;
                rec.dst_communities = handles.communities(batch, world, r, out_if);
                if let Side::Remote { asn } = dst.side {
                    rec.dst_as_path = handles.path(batch, world, r, out_if, asn);
                }
            }
        }
        rec
    }
}

/// What one record counts.
#[derive(Debug, Clone, Copy)]
struct Counts {
    /// Packets the router exported (sampled ones when it samples).
    packets: u64,
    bytes: u64,
    duration: u64,
    end_reason: u8,
    /// Packets that went by (before sampling).
    seen: u64,
    /// The record is a slice of a longer conversation.
    sliced: bool,
}

/// Packets, bytes and duration of one direction of a conversation at a router sampling one in `rate`.
fn counts(rng: &mut Rng, v: &Volume, rate: u32) -> Counts {
    let mut seen = rng.pareto(v.xm, v.alpha, v.cap).floor().max(1.0) as u64;
    // Gaps between packets, log-uniform from 0.2 ms to 300 ms.
    let gap = (rng.unit() * (3e8f64 / 2e5).ln()).exp() * 2e5;
    let mut duration = ((seen - 1) as f64 * gap) as u64;
    let sliced = duration >= ACTIVE_TIMEOUT;
    if sliced {
        duration = ACTIVE_TIMEOUT - rng.below(NANOS_PER_SEC);
        seen = (duration as f64 / gap) as u64 + 1;
    }
    let rate = u64::from(rate.max(1));
    let packets = if rate == 1 { seen } else { 1 + seen / rate };
    let size = rng.range(u64::from(v.size.0), u64::from(v.size.1));
    let end_reason = if sliced {
        end_reason::ACTIVE_TIMEOUT
    } else if rng.chance(0.9) {
        end_reason::END_OF_FLOW
    } else {
        end_reason::IDLE_TIMEOUT
    };
    Counts {
        packets,
        bytes: packets * size,
        duration: if packets == 1 { 0 } else { duration },
        end_reason,
        seen,
        sliced,
    }
}

/// TCP flags OR-ed over a record's packets.
fn tcp_flags(rng: &mut Rng, sampled_flags: &Weighted, c: &Counts, response: bool, sampled: bool) -> u16 {
    if sampled {
        let mut flags = 0;
        for _ in 0..c.packets.min(4) {
            flags |= SAMPLED_FLAGS[sampled_flags.sample(rng)].0;
        }
        return flags;
    }
    match (c.seen, c.sliced, c.end_reason) {
        // A lone SYN (a scan, or a server that did not answer), answered by SYN-ACK or RST.
        (1, _, _) if response => {
            if rng.chance(0.7) {
                0x12
            } else {
                0x14
            }
        }
        (1, _, _) => 0x02,
        (_, true, _) => {
            if rng.chance(0.8) {
                0x18
            } else {
                0x10
            }
        }
        (_, _, end_reason::END_OF_FLOW) => {
            if rng.chance(0.1) {
                0x1e
            } else {
                0x1b
            }
        }
        _ => 0x1a,
    }
}

/// A client's source port: Linux's ephemeral range or the IANA one Windows and macOS use.
pub fn ephemeral(rng: &mut Rng) -> u16 {
    if rng.chance(0.6) {
        rng.range(32_768, 60_999) as u16
    } else {
        rng.range(49_152, 65_535) as u16
    }
}

/// ICMP or ICMPv6 type and code: echo requests and replies, some unreachables and time exceeded.
fn icmp(rng: &mut Rng, v6: bool, response: bool) -> (u8, u8) {
    let pick = rng.below(100);
    match (v6, pick) {
        (false, 0..=4) => (3, 3),
        (false, 5..=6) => (11, 0),
        (false, _) if response => (0, 0),
        (false, _) => (8, 0),
        (true, 0..=4) => (1, 4),
        (true, 5..=6) => (3, 0),
        (true, _) if response => (129, 0),
        (true, _) => (128, 0),
    }
}
