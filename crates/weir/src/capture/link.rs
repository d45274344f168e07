//! Link layers of captured frames: which link types Weir reads, and where each one puts the IP packet.

use super::PacketError;
use weir_proto::Reader;

/// The link types `weir decode` and `weir replay` read (pcap LINKTYPE_* values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    /// BSD loopback: a 4-byte address family in the byte order of the machine that captured.
    Null,
    /// Ethernet II, with any number of 802.1Q / 802.1ad (QinQ) tags.
    Ethernet,
    /// Raw IP: the frame is the IPv4 or IPv6 packet (LINKTYPE_RAW 101, and DLT_RAW 12 as some files say).
    Raw,
    /// OpenBSD loopback: a 4-byte address family in network byte order.
    Loop,
    /// Linux "cooked" capture v1 (SLL, `tcpdump -i any`).
    LinuxSll,
    /// Linux "cooked" capture v2 (SLL2).
    LinuxSll2,
    /// Raw IPv4 only.
    Ipv4,
    /// Raw IPv6 only.
    Ipv6,
}

impl LinkType {
    /// The link type a capture's numeric code names, if Weir reads it.
    pub fn from_code(code: u32) -> Option<Self> {
        Some(match code {
            0 => Self::Null,
            1 => Self::Ethernet,
            12 | 101 => Self::Raw,
            108 => Self::Loop,
            113 => Self::LinuxSll,
            276 => Self::LinuxSll2,
            228 => Self::Ipv4,
            229 => Self::Ipv6,
            _ => return None,
        })
    }
}

/// The network layer found in a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network<'a> {
    /// An IPv4 packet (possibly followed by link padding).
    Ipv4(&'a [u8]),
    /// An IPv6 packet (possibly followed by link padding).
    Ipv6(&'a [u8]),
    /// Anything else (ARP, LLC, MPLS, ...): not an export datagram.
    Other,
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
/// 802.1Q, 802.1ad and the pre-standard 0x9100 QinQ tag.
const VLAN_TAGS: [u16; 3] = [0x8100, 0x88a8, 0x9100];
/// Stacked tags beyond this are not a real frame.
const MAX_TAGS: usize = 8;
/// `AF_INET6` as BSD loopback headers write it on Linux, OpenBSD/NetBSD, FreeBSD and macOS.
const AF_INET6: [u32; 4] = [10, 24, 28, 30];
const AF_INET: u32 = 2;

/// Finds the IP packet in `frame`, a frame of link type `link`.
pub fn network(link: LinkType, frame: &[u8]) -> Result<Network<'_>, PacketError> {
    let mut r = Reader::new(frame);
    match link {
        LinkType::Ethernet => {
            r.skip(12)?;
            let etype = r.u16()?;
            by_ethertype(etype, r)
        }
        LinkType::LinuxSll => {
            r.skip(14)?;
            let etype = r.u16()?;
            by_ethertype(etype, r)
        }
        LinkType::LinuxSll2 => {
            let etype = r.u16()?;
            r.skip(18)?;
            by_ethertype(etype, r)
        }
        LinkType::Null | LinkType::Loop => {
            let family = r.array::<4>()?;
            let candidates = match link {
                LinkType::Loop => [u32::from_be_bytes(family); 2],
                _ => [u32::from_be_bytes(family), u32::from_le_bytes(family)],
            };
            let rest = r.rest();
            Ok(if candidates.contains(&AF_INET) {
                Network::Ipv4(rest)
            } else if candidates.iter().any(|f| AF_INET6.contains(f)) {
                Network::Ipv6(rest)
            } else {
                Network::Other
            })
        }
        LinkType::Raw => match frame.first().map(|b| b >> 4) {
            None => Err(PacketError::Truncated),
            Some(4) => Ok(Network::Ipv4(frame)),
            Some(6) => Ok(Network::Ipv6(frame)),
            Some(_) => Ok(Network::Other),
        },
        LinkType::Ipv4 => Ok(Network::Ipv4(frame)),
        LinkType::Ipv6 => Ok(Network::Ipv6(frame)),
    }
}

/// The network layer after an EtherType, skipping VLAN tags.
fn by_ethertype(mut etype: u16, mut r: Reader<'_>) -> Result<Network<'_>, PacketError> {
    let mut tags = 0;
    while VLAN_TAGS.contains(&etype) {
        tags += 1;
        if tags > MAX_TAGS {
            return Err(PacketError::Malformed("too many VLAN tags"));
        }
        r.skip(2)?;
        etype = r.u16()?;
    }
    Ok(match etype {
        ETHERTYPE_IPV4 => Network::Ipv4(r.rest()),
        ETHERTYPE_IPV6 => Network::Ipv6(r.rest()),
        _ => Network::Other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethernet_skips_stacked_vlan_tags() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0xa8, 0, 10, 0x81, 0x00, 0, 20, 0x86, 0xdd, 0x60]);
        assert_eq!(network(LinkType::Ethernet, &f), Ok(Network::Ipv6(&[0x60])));
    }

    #[test]
    fn ethernet_without_ip_is_other() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x06, 1, 2]);
        assert_eq!(network(LinkType::Ethernet, &f), Ok(Network::Other));
    }

    #[test]
    fn rejects_truncated_ethernet_header() {
        assert_eq!(network(LinkType::Ethernet, &[0; 13]), Err(PacketError::Truncated));
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x81, 0x00, 0]);
        assert_eq!(network(LinkType::Ethernet, &f), Err(PacketError::Truncated));
    }

    #[test]
    fn null_reads_the_family_in_either_byte_order() {
        assert_eq!(
            network(LinkType::Null, &[2, 0, 0, 0, 0x45]),
            Ok(Network::Ipv4(&[0x45]))
        );
        assert_eq!(
            network(LinkType::Null, &[0, 0, 0, 30, 0x60]),
            Ok(Network::Ipv6(&[0x60]))
        );
        assert_eq!(network(LinkType::Loop, &[24, 0, 0, 0, 0x60]), Ok(Network::Other));
        assert_eq!(
            network(LinkType::Loop, &[0, 0, 0, 24, 0x60]),
            Ok(Network::Ipv6(&[0x60]))
        );
    }

    #[test]
    fn raw_tells_the_version_by_its_first_nibble() {
        assert_eq!(network(LinkType::Raw, &[0x45, 0]), Ok(Network::Ipv4(&[0x45, 0])));
        assert_eq!(network(LinkType::Raw, &[0x60]), Ok(Network::Ipv6(&[0x60])));
        assert_eq!(network(LinkType::Raw, &[0x10]), Ok(Network::Other));
        assert_eq!(network(LinkType::Raw, &[]), Err(PacketError::Truncated));
    }

    #[test]
    fn knows_the_link_type_codes() {
        let known = [
            (0, LinkType::Null),
            (1, LinkType::Ethernet),
            (101, LinkType::Raw),
            (108, LinkType::Loop),
            (113, LinkType::LinuxSll),
            (276, LinkType::LinuxSll2),
            (228, LinkType::Ipv4),
            (229, LinkType::Ipv6),
        ];
        for (code, link) in known {
            assert_eq!(LinkType::from_code(code), Some(link));
        }
        assert_eq!(LinkType::from_code(12), Some(LinkType::Raw));
        assert_eq!(LinkType::from_code(105), None);
    }
}
