//! IPv6 headers and the extension-header chain (hop-by-hop, routing, fragment, destination options,
//! authentication, mobility, HIP, shim6), walked to the transport header within a fixed bound.

use std::net::Ipv6Addr;

use weir_flow::FlowRecord;
use weir_flow::codes::etype;

use super::{Fragment, PacketError, Summary, be16, be32, chunk, transport};

/// No real packet has more extension headers than this; a longer chain is malformed or an attack.
pub const MAX_EXTENSION_HEADERS: usize = 16;

const HOP_BY_HOP: u8 = 0;
const ROUTING: u8 = 43;
const FRAGMENT: u8 = 44;
const AUTH: u8 = 51;
const DEST_OPTIONS: u8 = 60;
const MOBILITY: u8 = 135;
const HIP: u8 = 139;
const SHIM6: u8 = 140;

/// Parses the IPv6 header at `off` and what follows it.
pub(super) fn parse(
    buf: &[u8],
    off: usize,
    rec: &mut FlowRecord,
    s: &mut Summary,
) -> Result<(), PacketError> {
    s.l3_offset = Some(off);
    let Some(h) = chunk::<40>(buf, off) else {
        return partial(buf, off, rec, s);
    };
    check_version(h[0], off)?;
    rec.etype = etype::IPV6;
    rec.tos = (h[0] << 4) | (h[1] >> 4);
    let payload = u16::from_be_bytes([h[4], h[5]]);
    s.ip_len = if payload == 0 { 0 } else { 40 + u32::from(payload) };
    let mut next = h[6];
    s.ttl = h[7];
    rec.src_addr = addr(&h[8..24]);
    rec.dst_addr = addr(&h[24..40]);
    let mut at = off + 40;
    for _ in 0..=MAX_EXTENSION_HEADERS {
        rec.proto = next;
        let len = match next {
            HOP_BY_HOP | ROUTING | DEST_OPTIONS | MOBILITY | HIP | SHIM6 => {
                let Some(b) = chunk::<2>(buf, at) else {
                    return cut(s);
                };
                next = b[0];
                (usize::from(b[1]) + 1) * 8
            }
            AUTH => {
                let Some(b) = chunk::<2>(buf, at) else {
                    return cut(s);
                };
                next = b[0];
                (usize::from(b[1]) + 2) * 4
            }
            FRAGMENT => {
                let (Some(b), Some(id)) = (be16(buf, at + 2), be32(buf, at + 4)) else {
                    return cut(s);
                };
                next = buf.get(at).copied().unwrap_or_default();
                let frag = Fragment {
                    id,
                    offset: b >> 3,
                    more: b & 1 != 0,
                };
                s.fragment = Some(frag);
                if !frag.is_first() {
                    rec.proto = next;
                    s.ipv6_ext_headers = s.ipv6_ext_headers.saturating_add(1);
                    return Ok(());
                }
                8
            }
            _ => {
                if buf.len() < at {
                    return cut(s);
                }
                transport::parse(buf, at, rec, s);
                return Ok(());
            }
        };
        s.ipv6_ext_headers = s.ipv6_ext_headers.saturating_add(1);
        at += len;
    }
    Err(PacketError::TooManyExtensionHeaders {
        offset: at,
        limit: MAX_EXTENSION_HEADERS,
    })
}

fn check_version(first: u8, off: usize) -> Result<(), PacketError> {
    match first >> 4 {
        6 => Ok(()),
        version => Err(PacketError::BadIpVersion {
            offset: off,
            version,
            expected: 6,
        }),
    }
}

fn cut(s: &mut Summary) -> Result<(), PacketError> {
    s.truncated = true;
    Ok(())
}

fn addr(b: &[u8]) -> Ipv6Addr {
    let mut a = [0; 16];
    a.copy_from_slice(b);
    Ipv6Addr::from(a)
}

/// A header cut before its 40 fixed bytes: fills the fields whose bytes are there.
#[cold]
fn partial(buf: &[u8], off: usize, rec: &mut FlowRecord, s: &mut Summary) -> Result<(), PacketError> {
    s.truncated = true;
    let h = buf.get(off..).unwrap_or_default();
    let Some(&first) = h.first() else { return Ok(()) };
    check_version(first, off)?;
    rec.etype = etype::IPV6;
    if let Some(&second) = h.get(1) {
        rec.tos = (first << 4) | (second >> 4);
    }
    if let Some(&next) = h.get(6) {
        rec.proto = next;
    }
    if let Some(a) = h.get(8..24) {
        rec.src_addr = addr(a);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{hex, parse_ipv6};
    use weir_flow::codes;

    const SRC: &str = "20010db8000000000000000000000001";
    const DST: &str = "20010db8000000000000000000000002";

    fn packet(next: u8, payload_len: u16, rest: &str) -> Vec<u8> {
        let mut p = hex(&format!("6ab00000 {payload_len:04x} {next:02x} 40 {SRC} {DST}"));
        p.extend(hex(rest));
        p
    }

    #[test]
    fn reads_the_fixed_header_and_traffic_class() {
        let p = packet(6, 20, "01bb c001 00000000 00000000 5012 0000 0000 0000");
        let mut rec = FlowRecord::default();
        let s = parse_ipv6(&p, &mut rec).unwrap();
        assert_eq!((rec.etype, rec.tos, rec.proto), (etype::IPV6, 0xab, 6));
        assert_eq!(rec.src_addr, "2001:db8::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(rec.dst_addr, "2001:db8::2".parse::<Ipv6Addr>().unwrap());
        assert_eq!((rec.src_port, rec.dst_port, rec.tcp_flags), (443, 49153, 0x012));
        assert_eq!(
            (s.ip_len, s.ttl, s.l4_offset, s.ipv6_ext_headers),
            (60, 64, Some(40), 0)
        );
    }

    #[test]
    fn walks_extension_headers_to_the_transport() {
        // Hop-by-hop (8 bytes), routing (24 bytes), destination options (8), AH (16), then ICMPv6.
        let p = packet(
            0,
            64,
            "2b00 000000000000
             3c02 0000 00000000 00000000000000000000000000000000
             3300 000000000000
             3a02 0000 00000000 00000000 00000000
             8000 0000",
        );
        let mut rec = FlowRecord::default();
        let s = parse_ipv6(&p, &mut rec).unwrap();
        assert_eq!(
            (rec.proto, rec.icmp_type, rec.icmp_code),
            (codes::proto::ICMPV6, 128, 0)
        );
        assert_eq!((s.ipv6_ext_headers, s.l4_offset), (4, Some(96)));
    }

    #[test]
    fn later_fragments_stop_before_the_transport() {
        let first = packet(44, 16, "1100 0001 deadbeef  0035 0035 0008 0000");
        let mut rec = FlowRecord::default();
        let s = parse_ipv6(&first, &mut rec).unwrap();
        assert_eq!(
            s.fragment,
            Some(Fragment {
                id: 0xdead_beef,
                offset: 0,
                more: true
            })
        );
        assert_eq!((rec.proto, rec.src_port), (17, 53));

        let later = packet(44, 16, "1100 0b90 deadbeef  0035 0035 0008 0000");
        let mut rec = FlowRecord::default();
        let s = parse_ipv6(&later, &mut rec).unwrap();
        assert_eq!(
            s.fragment,
            Some(Fragment {
                id: 0xdead_beef,
                offset: 370,
                more: false
            })
        );
        assert_eq!((rec.proto, rec.src_port, s.l4_offset), (17, 0, None));
    }

    #[test]
    fn stops_at_no_next_header_and_esp() {
        let mut rec = FlowRecord::default();
        let s = parse_ipv6(&packet(59, 0, ""), &mut rec).unwrap();
        assert_eq!((rec.proto, s.ip_len, s.truncated), (59, 0, false));
        let mut rec = FlowRecord::default();
        parse_ipv6(&packet(50, 8, "00000001 00000001"), &mut rec).unwrap();
        assert_eq!(rec.proto, 50);
    }

    #[test]
    fn bounds_the_extension_header_walk() {
        let chain = "3c00 000000000000 ".repeat(MAX_EXTENSION_HEADERS + 1);
        let p = packet(60, 200, &chain);
        let err = parse_ipv6(&p, &mut FlowRecord::default()).unwrap_err();
        assert_eq!(
            err,
            PacketError::TooManyExtensionHeaders {
                offset: 40 + 8 * 17,
                limit: 16
            }
        );
    }

    #[test]
    fn fills_what_a_cut_packet_holds() {
        let p = packet(0, 64, "06");
        let mut rec = FlowRecord::default();
        let s = parse_ipv6(&p, &mut rec).unwrap();
        assert!(s.truncated);
        assert_eq!(rec.proto, 0);
        let p = packet(44, 64, "06000000");
        assert!(parse_ipv6(&p, &mut FlowRecord::default()).unwrap().truncated);

        let p = packet(6, 20, "");
        let mut rec = FlowRecord::default();
        let s = parse_ipv6(&p[..30], &mut rec).unwrap();
        assert!(s.truncated);
        assert_eq!((rec.tos, rec.proto), (0xab, 6));
        assert_eq!(rec.src_addr, "2001:db8::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(rec.dst_addr, Ipv6Addr::UNSPECIFIED);
        let s = parse_ipv6(&p, &mut rec).unwrap();
        assert!(s.truncated, "TCP announced, no TCP bytes");
    }

    #[test]
    fn rejects_another_version() {
        assert_eq!(
            parse_ipv6(&hex("4500"), &mut FlowRecord::default()),
            Err(PacketError::BadIpVersion {
                offset: 0,
                version: 4,
                expected: 6
            })
        );
    }
}
