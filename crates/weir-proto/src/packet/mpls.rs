//! MPLS label stacks. MPLS does not say what it carries; like routers and other collectors, the first nibble
//! after the bottom of the stack tells IPv4 (4) from IPv6 (6). Anything else (a pseudowire control word, an
//! Ethernet pseudowire) is left unparsed.

use weir_flow::FlowRecord;
use weir_flow::codes::etype;

use super::{PacketError, Summary, be32, ip_at};

/// The bottom-of-stack bit of a label stack entry.
const BOTTOM_OF_STACK: u32 = 0x100;

/// Parses an MPLS packet: the label stack, then the IP packet under it.
pub fn parse_mpls(packet: &[u8], rec: &mut FlowRecord) -> Result<Summary, PacketError> {
    let mut s = Summary::default();
    rec.etype = etype::MPLS;
    parse_at(packet, 0, rec, &mut s)?;
    Ok(s)
}

/// The label stack at `off`. The walk is bounded by the bytes: each entry takes four.
pub(super) fn parse_at(
    buf: &[u8],
    mut off: usize,
    rec: &mut FlowRecord,
    s: &mut Summary,
) -> Result<(), PacketError> {
    loop {
        let Some(entry) = be32(buf, off) else {
            s.truncated = true;
            return Ok(());
        };
        if s.mpls_labels == 0 {
            s.mpls_top_label = entry >> 12;
        }
        s.mpls_labels = s.mpls_labels.saturating_add(1);
        off += 4;
        if entry & BOTTOM_OF_STACK != 0 {
            break;
        }
    }
    ip_at(buf, off, rec, s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{hex, parse_ethernet};
    use weir_flow::ipv4;

    #[test]
    fn walks_the_stack_and_guesses_ip_from_the_nibble() {
        // Two labels (16 and 17, bottom of stack on the second), then IPv4/UDP.
        let p = hex("00010040 00011140  45000020 0000 0000 40 11 0000 0a000001 0a000002 1f90 0035 000c 0000");
        let mut rec = FlowRecord::default();
        let s = parse_mpls(&p, &mut rec).unwrap();
        assert_eq!((s.mpls_labels, s.mpls_top_label, s.l3_offset), (2, 16, Some(8)));
        assert_eq!((rec.etype, rec.proto, rec.src_port), (etype::IPV4, 17, 8080));
        assert_eq!(rec.src_addr, ipv4([10, 0, 0, 1]));
    }

    #[test]
    fn leaves_non_ip_payloads_unparsed() {
        let mut f = hex("001122334455 66778899aabb 8847");
        f.extend(hex("00010140 0000 0000"));
        let mut rec = FlowRecord::default();
        let s = parse_ethernet(&f, &mut rec).unwrap();
        assert_eq!(
            (rec.etype, s.mpls_labels, s.l3_offset),
            (etype::MPLS, 1, Some(18))
        );
    }

    #[test]
    fn reports_a_cut_stack_as_truncated() {
        let mut rec = FlowRecord::default();
        let s = parse_mpls(&hex("00010040 0001"), &mut rec).unwrap();
        assert!(s.truncated);
        assert_eq!((s.mpls_labels, rec.etype), (1, etype::MPLS));
        assert!(parse_mpls(&hex("00010140"), &mut rec).unwrap().truncated);
    }
}
