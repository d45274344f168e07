//! Ethernet frames of made-up packets: an optional 802.1Q tag, an IPv4 (with its checksum) or IPv6
//! header, and a TCP, UDP, ICMP or GRE header, the rest of the payload left as zeros. `weir bench
//! packets` writes them into captures; `weir demo`'s sFlow switch sends their first bytes as sampled
//! headers.

use std::net::IpAddr;

use crate::capture::encap::checksum;

/// The MAC addresses of every frame: a host and its gateway (Intel's prefix).
const DST_MAC: [u8; 6] = [0x00, 0x1b, 0x21, 0x00, 0x00, 0x02];
const SRC_MAC: [u8; 6] = [0x00, 0x1b, 0x21, 0x00, 0x00, 0x01];

/// The transport header of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TCP with these ports and flags.
    Tcp { src_port: u16, dst_port: u16, flags: u8 },
    /// UDP with these ports.
    Udp { src_port: u16, dst_port: u16 },
    /// ICMP (ICMPv6 over IPv6) of this type and code.
    Icmp { kind: u8, code: u8 },
    /// GRE carrying IPv4.
    Gre,
    /// Another IP protocol, whose header is left as zeros.
    Other(u8),
}

/// One packet, as much of it as its headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet {
    /// The addresses; both of one version.
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Type of service (IPv4) or traffic class (IPv6).
    pub tos: u8,
    pub vlan: Option<u16>,
    pub transport: Transport,
    /// Bytes after the IP header: the transport header and its payload.
    pub ip_payload: usize,
}

impl Packet {
    /// The IP protocol (next header) of the transport.
    fn protocol(&self) -> u8 {
        match self.transport {
            Transport::Tcp { .. } => 6,
            Transport::Udp { .. } => 17,
            Transport::Icmp { .. } if self.src.is_ipv6() => 58,
            Transport::Icmp { .. } => 1,
            Transport::Gre => 47,
            Transport::Other(protocol) => protocol,
        }
    }
}

/// Writes the frame of `p` into `frame`, cut at `snaplen` bytes, and returns its length on the wire.
pub fn write(p: &Packet, snaplen: usize, frame: &mut Vec<u8>) -> usize {
    frame.clear();
    frame.extend_from_slice(&DST_MAC);
    frame.extend_from_slice(&SRC_MAC);
    if let Some(vlan) = p.vlan {
        frame.extend_from_slice(&[0x81, 0x00]);
        frame.extend_from_slice(&vlan.to_be_bytes());
    }
    let protocol = p.protocol();
    let ip_start;
    let header_len;
    match (p.src, p.dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            frame.extend_from_slice(&[0x08, 0x00]);
            ip_start = frame.len();
            header_len = 20;
            let total = (20 + p.ip_payload) as u16;
            frame.extend_from_slice(&[0x45, p.tos]);
            frame.extend_from_slice(&total.to_be_bytes());
            frame.extend_from_slice(&[0, 0, 0x40, 0, 64, protocol, 0, 0]);
            frame.extend_from_slice(&src.octets());
            frame.extend_from_slice(&dst.octets());
            let sum = checksum(0, &frame[ip_start..ip_start + 20]);
            frame[ip_start + 10..ip_start + 12].copy_from_slice(&sum.to_be_bytes());
        }
        (src, dst) => {
            frame.extend_from_slice(&[0x86, 0xdd]);
            ip_start = frame.len();
            header_len = 40;
            let first = 0x6000_0000u32 | u32::from(p.tos) << 20;
            frame.extend_from_slice(&first.to_be_bytes());
            frame.extend_from_slice(&(p.ip_payload as u16).to_be_bytes());
            frame.extend_from_slice(&[protocol, 64]);
            for addr in [src, dst] {
                let v6 = match addr {
                    IpAddr::V6(a) => a,
                    IpAddr::V4(a) => a.to_ipv6_mapped(),
                };
                frame.extend_from_slice(&v6.octets());
            }
        }
    }
    match p.transport {
        Transport::Tcp {
            src_port,
            dst_port,
            flags,
        } => {
            frame.extend_from_slice(&src_port.to_be_bytes());
            frame.extend_from_slice(&dst_port.to_be_bytes());
            frame.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        }
        Transport::Udp { src_port, dst_port } => {
            frame.extend_from_slice(&src_port.to_be_bytes());
            frame.extend_from_slice(&dst_port.to_be_bytes());
            frame.extend_from_slice(&(p.ip_payload as u16).to_be_bytes());
            frame.extend_from_slice(&[0, 0]);
        }
        Transport::Icmp { kind, code } => frame.extend_from_slice(&[kind, code, 0, 0, 0, 1, 0, 1]),
        Transport::Gre => frame.extend_from_slice(&[0, 0, 0x08, 0x00]),
        Transport::Other(_) => {}
    }
    let wire = ip_start + header_len + p.ip_payload;
    frame.resize(wire.min(snaplen), 0);
    wire
}
