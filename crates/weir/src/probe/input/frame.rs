//! From a captured frame to the packet parser: the link layer is read here, the rest (VLAN tags, MPLS,
//! IPv4/IPv6 and their extension headers, the transport header) by `weir_proto::packet`.
//!
//! Offsets in the [`Summary`] and in a [`PacketError`] count from the start of the frame, whatever its link
//! layer, so that they point at the same byte a packet dissector shows.

use weir_flow::FlowRecord;
use weir_flow::codes::{direction, etype};
use weir_proto::packet::{self, PacketError, Summary};

use crate::capture::link::LinkType;

/// Linux cooked capture v1: packet type, ARP hardware type, address length, 8 address bytes, protocol.
const SLL_HEADER: usize = 16;
/// Linux cooked capture v2: protocol, reserved, interface index, ARP hardware type, packet type, address
/// length, 8 address bytes.
const SLL2_HEADER: usize = 20;
/// BSD loopback: the address family, 4 bytes.
const NULL_HEADER: usize = 4;
/// `ARPHRD_ETHER`, `ARPHRD_LOOPBACK`: the cooked header's address is a MAC.
const ARPHRD_ETHER: u16 = 1;
const ARPHRD_LOOPBACK: u16 = 772;
/// The Linux packet type of a frame the host sent (`PACKET_OUTGOING`); the others (to this host,
/// broadcast, multicast, to another host) were received.
pub const PACKET_OUTGOING: u8 = 4;
/// `AF_INET`, the same on every system; `AF_INET6` as BSD loopback headers write it on Linux,
/// OpenBSD/NetBSD, FreeBSD and macOS.
const AF_INET: u32 = 2;
const AF_INET6: [u32; 4] = [10, 24, 28, 30];

/// Clears the packet fields of `rec`: every field [`parse`] may write, and no other. Clearing these
/// rather than the whole record (several hundred bytes) is what a reader that reuses one record for every
/// frame does between frames; the fields the parser never writes stay as the caller made them.
#[inline]
pub fn clear_packet_fields(rec: &mut FlowRecord) {
    rec.etype = 0;
    rec.src_mac = 0;
    rec.dst_mac = 0;
    rec.vlan = 0;
    rec.src_addr = std::net::Ipv6Addr::UNSPECIFIED;
    rec.dst_addr = std::net::Ipv6Addr::UNSPECIFIED;
    rec.proto = 0;
    rec.tos = 0;
    rec.src_port = 0;
    rec.dst_port = 0;
    rec.tcp_flags = 0;
    rec.icmp_type = 0;
    rec.icmp_code = 0;
}

/// Parses `frame`, of link type `link`, into the packet fields of `rec` (which the caller clears, see
/// [`clear_packet_fields`]).
///
/// A frame that stops inside its link-layer header is no error: the summary says `truncated`, as the
/// packet parser does for the headers after it.
pub fn parse(link: LinkType, frame: &[u8], rec: &mut FlowRecord) -> Result<Summary, PacketError> {
    match link {
        LinkType::Ethernet => packet::parse_ethernet(frame, rec),
        LinkType::LinuxSll => {
            let Some(head) = frame.first_chunk::<SLL_HEADER>() else {
                return Ok(cut());
            };
            cooked_source_mac(u16::from_be_bytes([head[2], head[3]]), head[5], &head[6..14], rec);
            packet::parse_ethertype(frame, SLL_HEADER, u16::from_be_bytes([head[14], head[15]]), rec)
        }
        LinkType::LinuxSll2 => {
            let Some(head) = frame.first_chunk::<SLL2_HEADER>() else {
                return Ok(cut());
            };
            cooked_source_mac(
                u16::from_be_bytes([head[8], head[9]]),
                head[11],
                &head[12..20],
                rec,
            );
            packet::parse_ethertype(frame, SLL2_HEADER, u16::from_be_bytes([head[0], head[1]]), rec)
        }
        LinkType::Null | LinkType::Loop => {
            let Some(family) = frame.first_chunk::<NULL_HEADER>() else {
                return Ok(cut());
            };
            // BSD loopback writes the family in the capturing machine's byte order; OpenBSD's loop in
            // network order.
            let candidates = match link {
                LinkType::Loop => [u32::from_be_bytes(*family); 2],
                _ => [u32::from_be_bytes(*family), u32::from_le_bytes(*family)],
            };
            if candidates.contains(&AF_INET) {
                packet::parse_ethertype(frame, NULL_HEADER, etype::IPV4, rec)
            } else if candidates.iter().any(|f| AF_INET6.contains(f)) {
                packet::parse_ethertype(frame, NULL_HEADER, etype::IPV6, rec)
            } else {
                Ok(Summary {
                    l3_offset: Some(NULL_HEADER),
                    ..Summary::default()
                })
            }
        }
        LinkType::Raw => packet::parse_ip(frame, rec),
        LinkType::Ipv4 => packet::parse_ipv4(frame, rec),
        LinkType::Ipv6 => packet::parse_ipv6(frame, rec),
    }
}

/// Which way a frame went, when its link header says (Linux cooked captures): a `codes::direction` value.
pub fn direction(link: LinkType, frame: &[u8]) -> u8 {
    let pkttype = match link {
        LinkType::LinuxSll => frame.get(1),
        LinkType::LinuxSll2 => frame.get(10),
        _ => None,
    };
    match pkttype {
        Some(&PACKET_OUTGOING) => direction::EGRESS,
        Some(0..PACKET_OUTGOING) => direction::INGRESS,
        _ => direction::UNKNOWN,
    }
}

/// A cooked header's address is the sender's link address; it is a MAC on Ethernet-like devices.
fn cooked_source_mac(hatype: u16, halen: u8, addr: &[u8], rec: &mut FlowRecord) {
    if matches!(hatype, ARPHRD_ETHER | ARPHRD_LOOPBACK) && halen == 6 {
        rec.src_mac = addr[..6].iter().fold(0, |acc, &b| (acc << 8) | u64::from(b));
    }
}

fn cut() -> Summary {
    Summary {
        truncated: true,
        ..Summary::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use weir_flow::codes::proto;
    use weir_flow::ipv4;

    use crate::capture::encap;

    fn udp4() -> Vec<u8> {
        let src: SocketAddr = "192.0.2.10:50000".parse().unwrap();
        let dst: SocketAddr = "198.51.100.1:53".parse().unwrap();
        encap::ip_udp(src, dst, b"query").unwrap()
    }

    fn udp6() -> Vec<u8> {
        let src: SocketAddr = "[2001:db8::10]:40000".parse().unwrap();
        let dst: SocketAddr = "[2001:db8::1]:443".parse().unwrap();
        encap::ip_udp(src, dst, b"quic").unwrap()
    }

    /// A cooked v1 frame: packet type, ARPHRD_ETHER, a 6-byte address, the protocol.
    fn sll(pkttype: u8, protocol: u16, rest: &[u8]) -> Vec<u8> {
        let mut f = vec![0, pkttype, 0, 1, 0, 6, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0, 0];
        f.extend_from_slice(&protocol.to_be_bytes());
        f.extend_from_slice(rest);
        f
    }

    /// A cooked v2 frame on interface 3.
    fn sll2(pkttype: u8, protocol: u16, rest: &[u8]) -> Vec<u8> {
        let mut f = protocol.to_be_bytes().to_vec();
        f.extend_from_slice(&[0, 0, 0, 0, 0, 3, 0, 1, pkttype, 6]);
        f.extend_from_slice(&[0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0, 0]);
        f.extend_from_slice(rest);
        f
    }

    fn run(link: LinkType, frame: &[u8]) -> (FlowRecord, Result<Summary, PacketError>) {
        let mut rec = FlowRecord::default();
        let s = parse(link, frame, &mut rec);
        (rec, s)
    }

    #[test]
    fn reads_ip_under_every_cooked_header() {
        for (link, frame, l3) in [
            (LinkType::LinuxSll, sll(0, 0x0800, &udp4()), 16),
            (LinkType::LinuxSll2, sll2(0, 0x0800, &udp4()), 20),
        ] {
            let (rec, s) = run(link, &frame);
            let s = s.unwrap();
            assert_eq!(
                (rec.etype, rec.proto, rec.src_port, rec.dst_port),
                (etype::IPV4, proto::UDP, 50000, 53),
                "{link:?}"
            );
            assert_eq!(rec.dst_addr, ipv4([198, 51, 100, 1]));
            assert_eq!(rec.src_mac, 0x02aa_bbcc_ddee, "{link:?}");
            assert_eq!((s.l3_offset, s.l4_offset), (Some(l3), Some(l3 + 20)), "{link:?}");
        }
    }

    #[test]
    fn follows_vlan_tags_libpcap_puts_back_into_cooked_frames() {
        let mut tagged = vec![0x00, 0x64, 0x86, 0xdd];
        tagged.extend(udp6());
        let (rec, s) = run(LinkType::LinuxSll, &sll(4, 0x8100, &tagged));
        assert_eq!((rec.vlan, rec.etype, rec.dst_port), (100, etype::IPV6, 443));
        assert_eq!(s.unwrap().l3_offset, Some(20));
    }

    #[test]
    fn tells_direction_from_the_cooked_packet_type() {
        assert_eq!(
            direction(LinkType::LinuxSll, &sll(4, 0x0800, &[])),
            direction::EGRESS
        );
        assert_eq!(
            direction(LinkType::LinuxSll, &sll(0, 0x0800, &[])),
            direction::INGRESS
        );
        assert_eq!(
            direction(LinkType::LinuxSll, &sll(3, 0x0800, &[])),
            direction::INGRESS
        );
        assert_eq!(
            direction(LinkType::LinuxSll2, &sll2(4, 0x0800, &[])),
            direction::EGRESS
        );
        assert_eq!(
            direction(LinkType::LinuxSll2, &sll2(1, 0x0800, &[])),
            direction::INGRESS
        );
        assert_eq!(
            direction(LinkType::LinuxSll2, &sll2(7, 0x0800, &[])),
            direction::UNKNOWN
        );
        assert_eq!(direction(LinkType::Ethernet, &[0; 64]), direction::UNKNOWN);
        assert_eq!(direction(LinkType::LinuxSll2, &[0; 4]), direction::UNKNOWN);
    }

    #[test]
    fn reads_raw_ip_by_its_version() {
        let (rec, s) = run(LinkType::Raw, &udp6());
        assert_eq!((rec.etype, rec.src_port), (etype::IPV6, 40000));
        assert_eq!(s.unwrap().l4_offset, Some(40));
        let (rec, _) = run(LinkType::Ipv4, &udp4());
        assert_eq!(rec.src_addr, ipv4([192, 0, 2, 10]));
        let (_, s) = run(LinkType::Ipv6, &udp4());
        assert_eq!(
            s,
            Err(PacketError::BadIpVersion {
                offset: 0,
                version: 4,
                expected: 6
            })
        );
    }

    #[test]
    fn reads_bsd_loopback_in_either_byte_order() {
        for (link, family) in [
            (LinkType::Null, 2u32.to_le_bytes()),
            (LinkType::Null, 2u32.to_be_bytes()),
            (LinkType::Loop, 2u32.to_be_bytes()),
        ] {
            let (rec, s) = run(link, &[&family[..], &udp4()].concat());
            assert_eq!(
                (rec.etype, rec.dst_port),
                (etype::IPV4, 53),
                "{link:?} {family:?}"
            );
            assert_eq!(s.unwrap().l4_offset, Some(24));
        }
        let (rec, s) = run(LinkType::Null, &[&30u32.to_le_bytes()[..], &udp6()].concat());
        assert_eq!((rec.etype, rec.dst_port), (etype::IPV6, 443));
        assert_eq!(s.unwrap().l3_offset, Some(4));
        // A family that is neither: not IP, no error.
        let (rec, s) = run(LinkType::Loop, &[0, 0, 0, 7, 1, 2, 3]);
        assert_eq!((rec.etype, s.unwrap().l3_offset), (0, Some(4)));
    }

    #[test]
    fn error_offsets_count_from_the_start_of_the_frame() {
        // An IPv4 header length of 16 bytes under a cooked header.
        let mut ip = udp4();
        ip[0] = 0x44;
        let (_, s) = run(LinkType::LinuxSll2, &sll2(0, 0x0800, &ip));
        assert_eq!(
            s,
            Err(PacketError::BadIpv4HeaderLength {
                offset: 20,
                length: 16
            })
        );
        let (_, s) = run(LinkType::Null, &[&2u32.to_le_bytes()[..], &ip].concat());
        assert_eq!(
            s,
            Err(PacketError::BadIpv4HeaderLength {
                offset: 4,
                length: 16
            })
        );
    }

    #[test]
    fn frames_cut_inside_the_link_header_are_truncated() {
        for link in [
            LinkType::LinuxSll,
            LinkType::LinuxSll2,
            LinkType::Null,
            LinkType::Loop,
            LinkType::Ethernet,
        ] {
            let (rec, s) = run(link, &[0, 0, 0]);
            assert!(s.unwrap().truncated, "{link:?}");
            assert_eq!(rec.etype, 0);
        }
        assert!(run(LinkType::Raw, &[]).1.unwrap().truncated);
        let frame = sll(0, 0x0800, &udp4());
        let (rec, s) = run(LinkType::LinuxSll, &frame[..30]);
        assert!(s.unwrap().truncated);
        assert_eq!((rec.etype, rec.proto, rec.src_port), (etype::IPV4, proto::UDP, 0));
    }

    #[test]
    fn the_parser_writes_only_the_packet_fields() {
        use crate::probe::input::test_frames::{ethernet, tcp};
        let mut tagged = vec![0x00, 0x64, 0x86, 0xdd];
        tagged.extend(udp6());
        let icmp = [
            0x45, 0x10, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2, 8, 3, 0, 0, 0, 0, 0, 0,
        ];
        let frames = [
            (
                LinkType::Ethernet,
                ethernet(0x0800, &tcp("192.0.2.1:1", "192.0.2.2:80", 0x13, 10)),
            ),
            (LinkType::Ethernet, ethernet(0x8100, &tagged)),
            (LinkType::Ethernet, ethernet(0x0800, &icmp)),
            (LinkType::LinuxSll, sll(0, 0x0800, &udp4())),
            (LinkType::LinuxSll2, sll2(4, 0x86dd, &udp6())),
            (LinkType::Raw, udp6()),
        ];
        for (link, frame) in frames {
            let (mut rec, s) = run(link, &frame);
            assert!(s.is_ok(), "{link:?}");
            assert_ne!(rec, FlowRecord::default(), "{link:?}");
            clear_packet_fields(&mut rec);
            assert_eq!(rec, FlowRecord::default(), "{link:?}");
        }
    }

    #[test]
    fn leaves_the_mac_alone_for_devices_without_one() {
        // ARPHRD_NONE (a tunnel): the cooked header carries no address.
        let mut frame = sll(0, 0x0800, &udp4());
        frame[2..4].copy_from_slice(&0xfffeu16.to_be_bytes());
        frame[5] = 0;
        let (rec, _) = run(LinkType::LinuxSll, &frame);
        assert_eq!((rec.src_mac, rec.dst_port), (0, 53));
    }
}
