//! IPv4 headers, options skipped by the header length, fragments told apart (only the first carries ports).

use weir_flow::codes::etype;
use weir_flow::{FlowRecord, ipv4};

use super::{Fragment, PacketError, Summary, chunk, transport};

/// Parses the IPv4 header at `off` and what follows it.
#[inline]
pub(super) fn parse(
    buf: &[u8],
    off: usize,
    rec: &mut FlowRecord,
    s: &mut Summary,
) -> Result<(), PacketError> {
    s.l3_offset = Some(off);
    let Some(h) = chunk::<20>(buf, off) else {
        return partial(buf, off, rec, s);
    };
    check_version(h[0], off)?;
    let header = (h[0] & 0x0f) * 4;
    if header < 20 {
        return Err(PacketError::BadIpv4HeaderLength {
            offset: off,
            length: header,
        });
    }
    rec.etype = etype::IPV4;
    rec.tos = h[1];
    let total = u16::from_be_bytes([h[2], h[3]]);
    s.ip_len = u32::from(total);
    s.ttl = h[8];
    rec.proto = h[9];
    rec.src_addr = ipv4([h[12], h[13], h[14], h[15]]);
    rec.dst_addr = ipv4([h[16], h[17], h[18], h[19]]);
    // A total length of 0 is what captures of segmentation-offloaded packets show: unknown, not wrong.
    if total != 0 && total < u16::from(header) {
        return Err(PacketError::BadIpv4TotalLength {
            offset: off,
            length: total,
            header,
        });
    }
    let frag = u16::from_be_bytes([h[6], h[7]]);
    let (frag_offset, more) = (frag & 0x1fff, frag & 0x2000 != 0);
    if frag_offset != 0 || more {
        s.fragment = Some(Fragment {
            id: u32::from(u16::from_be_bytes([h[4], h[5]])),
            offset: frag_offset,
            more,
        });
    }
    let l4 = off + usize::from(header);
    if buf.len() < l4 {
        s.truncated = true;
        return Ok(());
    }
    if frag_offset != 0 {
        return Ok(());
    }
    transport::parse(buf, l4, rec, s);
    Ok(())
}

fn check_version(first: u8, off: usize) -> Result<(), PacketError> {
    match first >> 4 {
        4 => Ok(()),
        version => Err(PacketError::BadIpVersion {
            offset: off,
            version,
            expected: 4,
        }),
    }
}

/// A header cut before its 20 fixed bytes: fills the fields whose bytes are there.
#[cold]
fn partial(buf: &[u8], off: usize, rec: &mut FlowRecord, s: &mut Summary) -> Result<(), PacketError> {
    s.truncated = true;
    let h = buf.get(off..).unwrap_or_default();
    let Some(&first) = h.first() else { return Ok(()) };
    check_version(first, off)?;
    rec.etype = etype::IPV4;
    if let Some(&tos) = h.get(1) {
        rec.tos = tos;
    }
    if let Some(b) = chunk::<2>(h, 2) {
        s.ip_len = u32::from(u16::from_be_bytes(*b));
    }
    if let Some(&proto) = h.get(9) {
        rec.proto = proto;
    }
    if let Some(a) = chunk::<4>(h, 12) {
        rec.src_addr = ipv4(*a);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{hex, parse_ipv4};
    use weir_flow::codes;

    #[test]
    fn reads_the_fixed_header() {
        let p = hex("45b8 0054 abcd 0000 3f 01 0000 c0000201 c6336402  0800 0000 0001 0001");
        let mut rec = FlowRecord::default();
        let s = parse_ipv4(&p, &mut rec).unwrap();
        assert_eq!(
            (rec.etype, rec.tos, rec.proto),
            (etype::IPV4, 0xb8, codes::proto::ICMP)
        );
        assert_eq!(
            (rec.src_addr, rec.dst_addr),
            (ipv4([192, 0, 2, 1]), ipv4([198, 51, 100, 2]))
        );
        assert_eq!((rec.icmp_type, rec.icmp_code), (8, 0));
        assert_eq!(
            s,
            Summary {
                l3_offset: Some(0),
                l4_offset: Some(20),
                ip_len: 84,
                ttl: 63,
                ..Summary::default()
            }
        );
    }

    #[test]
    fn skips_options_by_the_header_length() {
        // IHL 6: one 4-byte option (router alert) before UDP.
        let p = hex("4600 0020 0000 0000 01 11 0000 0a000001 e0000016 94040000  0400 0401 000c 0000");
        let mut rec = FlowRecord::default();
        let s = parse_ipv4(&p, &mut rec).unwrap();
        assert_eq!((s.l4_offset, rec.src_port, rec.dst_port), (Some(24), 1024, 1025));
    }

    #[test]
    fn only_first_fragments_have_ports() {
        let first = hex("4500 05dc 1111 2000 40 11 0000 0a000001 0a000002  0035 0400 1000 0000");
        let mut rec = FlowRecord::default();
        let s = parse_ipv4(&first, &mut rec).unwrap();
        assert_eq!(
            s.fragment,
            Some(Fragment {
                id: 0x1111,
                offset: 0,
                more: true
            })
        );
        assert_eq!(rec.src_port, 53);

        let later = hex("4500 05dc 1111 00b9 40 11 0000 0a000001 0a000002  0035 0400 1000 0000");
        let mut rec = FlowRecord::default();
        let s = parse_ipv4(&later, &mut rec).unwrap();
        assert_eq!(
            s.fragment,
            Some(Fragment {
                id: 0x1111,
                offset: 185,
                more: false
            })
        );
        assert_eq!((rec.proto, rec.src_port, s.l4_offset), (17, 0, None));
    }

    #[test]
    fn fills_what_a_cut_header_holds() {
        let p = hex("4510 05dc 1111 0000 40 06 0000 0a000001 0a00");
        let mut rec = FlowRecord::default();
        let s = parse_ipv4(&p, &mut rec).unwrap();
        assert!(s.truncated);
        assert_eq!((rec.tos, rec.proto, s.ip_len), (0x10, 6, 1500));
        assert_eq!(
            (rec.src_addr, rec.dst_addr),
            (ipv4([10, 0, 0, 1]), std::net::Ipv6Addr::UNSPECIFIED)
        );

        // Options announced but cut.
        let p = hex("4f00 0040 0000 0000 40 06 0000 0a000001 0a000002 0000");
        let s = parse_ipv4(&p, &mut FlowRecord::default()).unwrap();
        assert!(s.truncated);
        assert_eq!(s.l4_offset, None);
        assert!(parse_ipv4(&[], &mut FlowRecord::default()).unwrap().truncated);
    }

    #[test]
    fn rejects_impossible_lengths_and_versions() {
        let p = hex("4400 0040 0000 0000 40 06 0000 0a000001 0a000002");
        assert_eq!(
            parse_ipv4(&p, &mut FlowRecord::default()),
            Err(PacketError::BadIpv4HeaderLength {
                offset: 0,
                length: 16
            })
        );
        let p = hex("4500 0010 0000 0000 40 06 0000 0a000001 0a000002");
        assert_eq!(
            parse_ipv4(&p, &mut FlowRecord::default()),
            Err(PacketError::BadIpv4TotalLength {
                offset: 0,
                length: 16,
                header: 20
            })
        );
        assert_eq!(
            parse_ipv4(&hex("65"), &mut FlowRecord::default()),
            Err(PacketError::BadIpVersion {
                offset: 0,
                version: 6,
                expected: 4
            })
        );
        // Offloaded segments say 0: unknown length, parsed on.
        let p = hex("4500 0000 0000 0000 40 11 0000 0a000001 0a000002 0001 0002 0000 0000");
        let mut rec = FlowRecord::default();
        assert_eq!(parse_ipv4(&p, &mut rec).unwrap().ip_len, 0);
        assert_eq!(rec.dst_port, 2);
    }
}
