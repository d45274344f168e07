//! The link layer: Ethernet II (or 802.3 with LLC/SNAP), VLAN tags (802.1Q, 802.1ad and the older 0x9100
//! QinQ tag), PPPoE sessions; then hands over to MPLS or IP.

use weir_flow::FlowRecord;
use weir_flow::codes::etype;

use super::{PacketError, Summary, be16, chunk, ipv4, ipv6, mpls};

/// The pre-standard QinQ tag some switches still send.
const QINQ_9100: u16 = 0x9100;
/// PPPoE session stage.
const PPPOE_SESSION: u16 = 0x8864;
/// PPP protocol numbers for IP.
const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;

/// Parses an Ethernet frame (without preamble; the FCS may or may not be there, it is never read).
#[inline]
pub fn parse_ethernet(frame: &[u8], rec: &mut FlowRecord) -> Result<Summary, PacketError> {
    let mut s = Summary::default();
    let Some(head) = chunk::<14>(frame, 0) else {
        if let Some(macs) = chunk::<12>(frame, 0) {
            rec.dst_mac = mac(&macs[..6]);
            rec.src_mac = mac(&macs[6..]);
        }
        s.truncated = true;
        return Ok(s);
    };
    rec.dst_mac = mac(&head[..6]);
    rec.src_mac = mac(&head[6..12]);
    after_ethertype(frame, 14, u16::from_be_bytes([head[12], head[13]]), rec, &mut s)?;
    Ok(s)
}

/// Parses what follows an EtherType: `ethertype` names the protocol whose header starts at `off` in `frame`.
/// This is how link layers other than Ethernet hand over (Linux cooked captures carry an EtherType in their
/// own header); VLAN tags, PPPoE and LLC/SNAP are followed as after an Ethernet header, and the
/// [`Summary`]'s offsets count from the start of `frame`.
pub fn parse_ethertype(
    frame: &[u8],
    off: usize,
    ethertype: u16,
    rec: &mut FlowRecord,
) -> Result<Summary, PacketError> {
    let mut s = Summary::default();
    after_ethertype(frame, off, ethertype, rec, &mut s)?;
    Ok(s)
}

#[inline]
fn after_ethertype(
    frame: &[u8],
    mut off: usize,
    mut ty: u16,
    rec: &mut FlowRecord,
    s: &mut Summary,
) -> Result<(), PacketError> {
    loop {
        match ty {
            etype::VLAN | etype::QINQ | QINQ_9100 => {
                let (Some(tci), Some(next)) = (be16(frame, off), be16(frame, off + 2)) else {
                    s.truncated = true;
                    return Ok(());
                };
                let vid = tci & 0x0fff;
                match s.vlan_tags {
                    0 => rec.vlan = vid,
                    1 => s.inner_vlan = vid,
                    _ => {}
                }
                s.vlan_tags = s.vlan_tags.saturating_add(1);
                ty = next;
                off += 4;
            }
            PPPOE_SESSION => {
                // Version/type, code, session id, length, then the PPP protocol number.
                let Some(proto) = be16(frame, off + 6) else {
                    s.truncated = true;
                    return Ok(());
                };
                off += 8;
                ty = match proto {
                    PPP_IPV4 => etype::IPV4,
                    PPP_IPV6 => etype::IPV6,
                    _ => {
                        rec.etype = PPPOE_SESSION;
                        s.l3_offset = Some(off);
                        return Ok(());
                    }
                };
            }
            len if len < 0x0600 => {
                // An 802.3 length: only LLC with a SNAP header names a protocol.
                match chunk::<8>(frame, off) {
                    Some([0xaa, 0xaa, 0x03, _, _, _, hi, lo]) => {
                        ty = u16::from_be_bytes([*hi, *lo]);
                        off += 8;
                        if ty < 0x0600 {
                            s.l3_offset = Some(off);
                            return Ok(());
                        }
                    }
                    Some(_) => {
                        s.l3_offset = Some(off);
                        return Ok(());
                    }
                    None => {
                        s.truncated = true;
                        return Ok(());
                    }
                }
            }
            _ => break,
        }
    }
    rec.etype = ty;
    match ty {
        etype::IPV4 => ipv4::parse(frame, off, rec, s),
        etype::IPV6 => ipv6::parse(frame, off, rec, s),
        etype::MPLS | etype::MPLS_MULTICAST => mpls::parse_at(frame, off, rec, s),
        _ => {
            s.l3_offset = Some(off);
            Ok(())
        }
    }
}

/// A MAC address from six bytes, in the low 48 bits.
#[inline]
fn mac(b: &[u8]) -> u64 {
    b.iter().fold(0, |acc, &x| (acc << 8) | u64::from(x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::hex;
    use weir_flow::ipv4;

    const TCP_SYN: &str = "45000034 1234 4000 40 06 0000 c0a80101 c0a80102
                           c350 0050 00000001 00000000 5002 ffff 0000 0000";

    fn frame(l2: &str, rest: &str) -> Vec<u8> {
        let mut f = hex("001122334455 66778899aabb");
        f.extend(hex(l2));
        f.extend(hex(rest));
        f
    }

    #[test]
    fn reads_macs_and_ethertype() {
        let f = frame("0800", TCP_SYN);
        let mut rec = FlowRecord::default();
        let s = parse_ethernet(&f, &mut rec).unwrap();
        assert_eq!(rec.dst_mac, 0x0011_2233_4455);
        assert_eq!(rec.src_mac, 0x6677_8899_aabb);
        assert_eq!(rec.etype, etype::IPV4);
        assert_eq!((rec.src_port, rec.dst_port, rec.tcp_flags), (50000, 80, 0x02));
        assert_eq!(rec.src_addr, ipv4([192, 168, 1, 1]));
        assert_eq!(
            (s.l3_offset, s.l4_offset, s.ip_len, s.truncated),
            (Some(14), Some(34), 52, false)
        );
    }

    #[test]
    fn takes_the_outer_vlan_and_notes_the_inner_one() {
        let f = frame("8100 6064 0800", TCP_SYN);
        let mut rec = FlowRecord::default();
        let s = parse_ethernet(&f, &mut rec).unwrap();
        assert_eq!((rec.vlan, s.vlan_tags, s.l3_offset), (100, 1, Some(18)));

        for outer in ["88a8", "9100"] {
            let f = frame(&format!("{outer} 00c8 8100 012c 86dd"), "");
            let mut rec = FlowRecord::default();
            let s = parse_ethernet(&f, &mut rec).unwrap();
            assert_eq!((rec.vlan, s.inner_vlan, s.vlan_tags), (200, 300, 2));
            assert_eq!(rec.etype, etype::IPV6);
            assert!(s.truncated);
        }
    }

    #[test]
    fn follows_llc_snap_and_pppoe() {
        let f = frame("0030 aaaa03 000000 0800", TCP_SYN);
        let mut rec = FlowRecord::default();
        let s = parse_ethernet(&f, &mut rec).unwrap();
        assert_eq!(
            (rec.etype, rec.dst_port, s.l3_offset),
            (etype::IPV4, 80, Some(22))
        );

        let f = frame("0026 4242 03 0000 0000 0000", "");
        let mut rec = FlowRecord::default();
        let s = parse_ethernet(&f, &mut rec).unwrap();
        assert_eq!((rec.etype, s.l3_offset), (0, Some(14)));

        let f = frame("8864 1100 0001 0034 0021", TCP_SYN);
        let mut rec = FlowRecord::default();
        let s = parse_ethernet(&f, &mut rec).unwrap();
        assert_eq!((rec.etype, rec.proto, s.l3_offset), (etype::IPV4, 6, Some(22)));

        let f = frame("8864 1100 0001 0002 c021", "");
        let mut rec = FlowRecord::default();
        let s = parse_ethernet(&f, &mut rec).unwrap();
        assert_eq!((rec.etype, s.l3_offset), (PPPOE_SESSION, Some(22)));
    }

    #[test]
    fn parses_after_another_link_header_with_offsets_from_the_frame() {
        // A 16-byte Linux cooked header whose protocol field says 802.1Q, then the tag and IPv4/TCP.
        let mut f = hex("0000 0001 0006 66778899aabb 0000 8100");
        f.extend(hex("0064 0800"));
        f.extend(hex(TCP_SYN));
        let mut rec = FlowRecord::default();
        let s = parse_ethertype(&f, 16, etype::VLAN, &mut rec).unwrap();
        assert_eq!((rec.vlan, rec.etype, rec.dst_port), (100, etype::IPV4, 80));
        assert_eq!((s.l3_offset, s.l4_offset, s.vlan_tags), (Some(20), Some(40), 1));
        assert_eq!((rec.src_mac, rec.dst_mac), (0, 0), "no Ethernet header was read");

        let mut rec = FlowRecord::default();
        let s = parse_ethertype(&f[..18], 16, etype::VLAN, &mut rec).unwrap();
        assert!(s.truncated);
        assert_eq!(
            parse_ethertype(&f, 20, etype::IPV6, &mut FlowRecord::default()),
            Err(PacketError::BadIpVersion {
                offset: 20,
                version: 4,
                expected: 6
            })
        );
    }

    #[test]
    fn non_ip_frames_stop_at_the_network_layer() {
        let f = frame("0806", "0001 0800 0604 0001");
        let mut rec = FlowRecord::default();
        let s = parse_ethernet(&f, &mut rec).unwrap();
        assert_eq!(
            (rec.etype, s.l3_offset, s.truncated),
            (etype::ARP, Some(14), false)
        );
    }

    #[test]
    fn truncated_frames_keep_what_was_read() {
        let f = hex("001122334455 66778899aabb 08");
        let mut rec = FlowRecord::default();
        let s = parse_ethernet(&f, &mut rec).unwrap();
        assert!(s.truncated);
        assert_eq!(
            (rec.dst_mac, rec.src_mac, rec.etype),
            (0x0011_2233_4455, 0x6677_8899_aabb, 0)
        );

        let mut rec = FlowRecord::default();
        assert!(parse_ethernet(&f[..5], &mut rec).unwrap().truncated);
        assert_eq!(rec.dst_mac, 0);

        for cut in [16, 20, 25] {
            let f = frame("8100 0064 8864 1100 0001 0034 0021", "");
            let mut rec = FlowRecord::default();
            assert!(
                parse_ethernet(&f[..cut], &mut rec).unwrap().truncated,
                "cut at {cut}"
            );
        }
        let f = frame("0030 aaaa", "");
        assert!(parse_ethernet(&f, &mut FlowRecord::default()).unwrap().truncated);
    }

    #[test]
    fn rejects_an_ip_version_that_contradicts_the_ethertype() {
        let f = frame("0800", "6000 0000");
        let err = parse_ethernet(&f, &mut FlowRecord::default()).unwrap_err();
        assert_eq!(
            err,
            PacketError::BadIpVersion {
                offset: 14,
                version: 6,
                expected: 4
            }
        );
    }
}
