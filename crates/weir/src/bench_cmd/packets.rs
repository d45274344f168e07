//! `weir bench packets`: a reproducible packet capture of realistic traffic, for measuring and testing the
//! probe beside other meters (softflowd, nfdump's tools) on the same file.
//!
//! A fixed number of flows is in progress at any time; each packet belongs to one of them, picked at random
//! (uniformly, so a large flow count really keeps that many flows active). TCP flows open with SYN and end
//! with FIN or, now and then, RST, and a new flow takes the finished one's place; UDP (DNS, NTP, QUIC),
//! ICMP echo, GRE and some IPv6 and VLAN-tagged traffic are mixed in. Frames are written cut at 128 bytes,
//! as a header-only capture would be, with the original length kept.

use std::fs::File;
use std::io::BufWriter;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, TsResolution};

use crate::synthetic;
use crate::synthetic::frame::{Packet, Transport};

/// Bytes of each frame written to the file.
const SNAPLEN: usize = 128;

/// Arguments of `weir bench packets`.
#[derive(Debug, Args)]
pub struct PacketsArgs {
    /// Capture file to write (pcap, nanosecond timestamps).
    #[arg(long)]
    out: PathBuf,
    /// Packets to write.
    #[arg(long, default_value_t = 1_000_000)]
    packets: u64,
    /// Flows in progress at any time.
    #[arg(long, default_value_t = 10_000)]
    flows: u32,
    /// Seconds of traffic the packets are spread over.
    #[arg(long, default_value_t = 60.0)]
    seconds: f64,
    /// Seed of the generator: the same seed writes the same file.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Capture start, seconds since the Unix epoch.
    #[arg(long, default_value_t = 1_767_225_600)]
    start: u64,
}

/// A small, fast generator (xorshift64*); the file is a benchmark input, not a secret.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        (self.next() >> 32) % n
    }
}

/// What kind of conversation a flow is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tcp,
    Udp,
    Icmp,
    Gre,
}

/// One flow in progress.
#[derive(Debug, Clone, Copy)]
struct Flow {
    kind: Kind,
    ipv6: bool,
    vlan: Option<u16>,
    src: u32,
    dst: u32,
    sport: u16,
    dport: u16,
    /// Packets still to send; the last one of a TCP flow carries FIN or RST.
    left: u32,
    /// Packets sent so far.
    sent: u32,
    rst: bool,
}

impl Flow {
    fn new(rng: &mut Rng) -> Flow {
        let pick = rng.below(100);
        let (kind, dport) = match pick {
            0..=44 => (Kind::Tcp, 443),
            45..=59 => (Kind::Tcp, 80),
            60..=62 => (Kind::Tcp, 22),
            63..=64 => (Kind::Tcp, 25),
            65 => (Kind::Tcp, 23),
            66..=69 => (Kind::Tcp, 1024 + rng.below(60_000) as u16),
            70..=84 => (Kind::Udp, 53),
            85..=87 => (Kind::Udp, 123),
            88..=94 => (Kind::Udp, 443),
            95..=97 => (Kind::Icmp, 0x0800),
            _ => (Kind::Gre, 0),
        };
        let left = match kind {
            Kind::Tcp => 3 + rng.below(40) as u32,
            Kind::Udp if dport == 443 => 2 + rng.below(30) as u32,
            Kind::Udp => 1 + rng.below(2) as u32,
            Kind::Icmp => 1 + rng.below(5) as u32,
            Kind::Gre => 1 + rng.below(20) as u32,
        };
        // Clients in 10/8, servers in a smaller pool, skewed towards the first addresses.
        let pool = 1 + rng.below(50_000);
        let server = rng.below(pool) as u32;
        Flow {
            kind,
            ipv6: rng.below(10) == 0,
            vlan: (rng.below(5) == 0).then(|| 100 + rng.below(4) as u16),
            src: 0x0a00_0000 | rng.below(1 << 20) as u32,
            dst: 0xc633_0000 | server,
            sport: match kind {
                Kind::Tcp | Kind::Udp => 1024 + rng.below(64_000) as u16,
                _ => 0,
            },
            dport,
            left,
            sent: 0,
            rst: rng.below(20) == 0,
        }
    }

    /// The IP payload length and TCP flags of the next packet.
    fn next_packet(&mut self, rng: &mut Rng) -> (usize, u8) {
        const FIN: u8 = 0x01;
        const SYN: u8 = 0x02;
        const RST: u8 = 0x04;
        const PSH: u8 = 0x08;
        const ACK: u8 = 0x10;
        let first = self.sent == 0;
        let last = self.left == 1;
        self.sent += 1;
        self.left -= 1;
        match self.kind {
            Kind::Tcp if first => (20, SYN),
            Kind::Tcp if last && self.rst => (20, RST | ACK),
            Kind::Tcp if last => (20, FIN | ACK),
            Kind::Tcp if rng.below(3) == 0 => (20, ACK),
            Kind::Tcp => (20 + [536, 1460, 1200, 300][rng.below(4) as usize], PSH | ACK),
            Kind::Udp if self.dport == 53 => (8 + 30 + rng.below(200) as usize, 0),
            Kind::Udp if self.dport == 123 => (8 + 48, 0),
            Kind::Udp => (8 + 1200 + rng.below(150) as usize, 0),
            Kind::Icmp => (8 + 56, 0),
            Kind::Gre => (4 + 100 + rng.below(1300) as usize, 0),
        }
    }
}

/// Writes the Ethernet frame of one packet into `frame`, returning the frame's length on the wire.
fn frame(flow: &Flow, payload_len: usize, flags: u8, frame: &mut Vec<u8>) -> usize {
    let addr = |a: u32| -> IpAddr {
        if flow.ipv6 {
            Ipv6Addr::from(0x2001_0db8_u128 << 96 | u128::from(a)).into()
        } else {
            Ipv4Addr::from(a).into()
        }
    };
    let transport = match flow.kind {
        Kind::Tcp => Transport::Tcp {
            src_port: flow.sport,
            dst_port: flow.dport,
            flags,
        },
        Kind::Udp => Transport::Udp {
            src_port: flow.sport,
            dst_port: flow.dport,
        },
        Kind::Icmp => Transport::Icmp {
            kind: if flow.ipv6 { 128 } else { 8 },
            code: 0,
        },
        Kind::Gre => Transport::Gre,
    };
    let packet = Packet {
        src: addr(flow.src),
        dst: addr(flow.dst),
        tos: 0,
        vlan: flow.vlan,
        transport,
        ip_payload: payload_len,
    };
    synthetic::frame::write(&packet, SNAPLEN, frame)
}

/// Writes the capture and reports what it holds.
pub fn run(args: &PacketsArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.flows > 0, "--flows must be at least 1");
    anyhow::ensure!(args.seconds > 0.0, "--seconds must be above 0");
    let started = Instant::now();
    let file = File::create(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let header = PcapHeader {
        snaplen: SNAPLEN as u32,
        datalink: DataLink::ETHERNET,
        ts_resolution: TsResolution::NanoSecond,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(BufWriter::with_capacity(1 << 20, file), header)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let mut rng = Rng(args.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut flows: Vec<Flow> = (0..args.flows).map(|_| Flow::new(&mut rng)).collect();
    let mut buf = Vec::with_capacity(SNAPLEN + 64);
    let step_ns = (args.seconds * 1e9 / args.packets.max(1) as f64) as u64;
    let start_ns = args.start * 1_000_000_000;
    let mut finished = 0u64;
    for i in 0..args.packets {
        let slot = rng.below(u64::from(args.flows)) as usize;
        let (payload, flags) = flows[slot].next_packet(&mut rng);
        let wire = frame(&flows[slot], payload, flags, &mut buf);
        let ts = start_ns + i * step_ns;
        let packet = PcapPacket::new(std::time::Duration::from_nanos(ts), wire as u32, &buf);
        w.write_packet(&packet)
            .with_context(|| format!("cannot write {}", args.out.display()))?;
        if flows[slot].left == 0 {
            flows[slot] = Flow::new(&mut rng);
            finished += 1;
        }
    }
    eprintln!(
        "wrote {} packets ({} flows finished, {} in progress) to {} in {:.1} s",
        args.packets,
        finished,
        args.flows,
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::encap::checksum;

    #[test]
    fn frames_carry_consistent_lengths_and_a_valid_ipv4_checksum() {
        let mut rng = Rng(7);
        let mut buf = Vec::new();
        for _ in 0..1000 {
            let mut flow = Flow::new(&mut rng);
            let (payload, flags) = flow.next_packet(&mut rng);
            let wire = frame(&flow, payload, flags, &mut buf);
            assert!(buf.len() <= SNAPLEN && buf.len() <= wire);
            let ip = 14 + if flow.vlan.is_some() { 4 } else { 0 };
            if flow.ipv6 {
                assert_eq!(
                    usize::from(u16::from_be_bytes([buf[ip + 4], buf[ip + 5]])),
                    payload
                );
                assert_eq!(wire, ip + 40 + payload);
            } else {
                assert_eq!(
                    usize::from(u16::from_be_bytes([buf[ip + 2], buf[ip + 3]])),
                    20 + payload
                );
                assert_eq!(
                    checksum(0, &buf[ip..ip + 20]),
                    0,
                    "a header with its checksum sums to zero"
                );
            }
            if flow.kind == Kind::Tcp {
                assert_eq!(flags, 0x02, "TCP flows open with SYN");
            }
        }
    }

    #[test]
    fn tcp_flows_end_with_fin_or_rst() {
        let mut rng = Rng(11);
        for _ in 0..200 {
            let mut flow = Flow::new(&mut rng);
            let mut last = 0;
            while flow.left > 0 {
                last = flow.next_packet(&mut rng).1;
            }
            if flow.kind == Kind::Tcp {
                assert!(last & 0x05 != 0, "last flags {last:#x}");
            }
        }
    }
}
