//! Transport headers: ports (TCP, UDP, UDP-Lite, SCTP, DCCP share the layout), TCP flags, ICMP and ICMPv6
//! type and code.

use weir_flow::FlowRecord;
use weir_flow::codes::proto;

use super::{Summary, be16, chunk};

const DCCP: u8 = 33;
const UDP_LITE: u8 = 136;

/// Parses the transport header of protocol `rec.proto` at `off`.
#[inline]
pub(super) fn parse(buf: &[u8], off: usize, rec: &mut FlowRecord, s: &mut Summary) {
    s.l4_offset = Some(off);
    match rec.proto {
        proto::TCP => {
            ports(buf, off, rec, s);
            // Data offset (4 bits) then reserved and flag bits: the low 12 bits are IPFIX's tcpControlBits.
            match be16(buf, off + 12) {
                Some(bits) => rec.tcp_flags = bits & 0x0fff,
                None => s.truncated = true,
            }
        }
        proto::UDP | proto::SCTP | UDP_LITE | DCCP => ports(buf, off, rec, s),
        proto::ICMP | proto::ICMPV6 => match chunk::<2>(buf, off) {
            Some(&[ty, code]) => {
                rec.icmp_type = ty;
                rec.icmp_code = code;
            }
            None => s.truncated = true,
        },
        _ => {}
    }
}

#[inline]
fn ports(buf: &[u8], off: usize, rec: &mut FlowRecord, s: &mut Summary) {
    match chunk::<4>(buf, off) {
        Some(&[a, b, c, d]) => {
            rec.src_port = u16::from_be_bytes([a, b]);
            rec.dst_port = u16::from_be_bytes([c, d]);
        }
        None => s.truncated = true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::hex;

    fn run(proto: u8, bytes: &str) -> (FlowRecord, Summary) {
        let mut rec = FlowRecord {
            proto,
            ..FlowRecord::default()
        };
        let mut s = Summary::default();
        parse(&hex(bytes), 0, &mut rec, &mut s);
        (rec, s)
    }

    #[test]
    fn reads_tcp_ports_and_all_flag_bits() {
        let (rec, s) = run(proto::TCP, "d431 0016 00000000 00000000 51d3 0000 0000 0000");
        assert_eq!((rec.src_port, rec.dst_port), (54321, 22));
        // NS/AE bit (0x100) and CWR, ECE, ACK, PSH, SYN, FIN.
        assert_eq!(rec.tcp_flags, 0x1d3);
        assert!(!s.truncated);
    }

    #[test]
    fn reads_ports_of_udp_like_protocols() {
        for p in [proto::UDP, proto::SCTP, UDP_LITE, DCCP] {
            let (rec, s) = run(p, "0044 0043 0000");
            assert_eq!(
                (rec.src_port, rec.dst_port, s.truncated),
                (68, 67, false),
                "protocol {p}"
            );
        }
    }

    #[test]
    fn reads_icmp_type_and_code() {
        let (rec, _) = run(proto::ICMP, "0b01 0000");
        assert_eq!((rec.icmp_type, rec.icmp_code), (11, 1));
        let (rec, _) = run(proto::ICMPV6, "8700");
        assert_eq!((rec.icmp_type, rec.icmp_code), (135, 0));
    }

    #[test]
    fn cut_headers_fill_what_they_can() {
        let (rec, s) = run(proto::TCP, "d431 0016 0000");
        assert_eq!((rec.src_port, rec.tcp_flags, s.truncated), (54321, 0, true));
        let (rec, s) = run(proto::UDP, "0044");
        assert_eq!((rec.src_port, s.truncated), (0, true));
        let (_, s) = run(proto::ICMP, "08");
        assert!(s.truncated);
        let (rec, s) = run(proto::GRE, "");
        assert_eq!((rec.src_port, s.truncated, s.l4_offset), (0, false, Some(0)));
    }
}
