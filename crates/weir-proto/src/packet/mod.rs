//! Packet headers, from Ethernet down to the transport ports: what sFlow samples carry and what the probe reads.
//!
//! The parser fills the packet fields of a [`FlowRecord`] in place (MACs, VLAN, EtherType, addresses, protocol,
//! TOS, ports, TCP flags, ICMP type and code) and returns a [`Summary`] of what it saw. It never allocates.
//!
//! A header that simply stops (sFlow agents cut samples at 128 bytes; a probe may capture with a snap length)
//! is not an error: the parser fills what the bytes hold and sets [`Summary::truncated`]. Only headers that
//! contradict themselves (an IPv4 header length below 20 bytes, an IP version that is not the one announced)
//! give a [`PacketError`]; fields read before it stay filled in the record.
//!
//! Entry points: [`parse_ethernet`] for frames, [`parse_ethertype`] after another link layer's EtherType
//! (Linux cooked captures), [`parse_ip`] for raw IP (version from the first nibble), [`parse_ipv4`],
//! [`parse_ipv6`] and [`parse_mpls`] when the caller knows the first header.

mod error;
mod ipv4;
mod ipv6;
mod link;
mod mpls;
mod transport;

pub use error::PacketError;
pub use link::{parse_ethernet, parse_ethertype};
pub use mpls::parse_mpls;

use weir_flow::FlowRecord;

/// What the parser saw besides the record's fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Offset of the network-layer header (the first byte after link-layer headers, VLAN tags, PPPoE and
    /// MPLS labels), when the parser got that far.
    pub l3_offset: Option<usize>,
    /// Offset of the transport header, when the packet has one that the parser reached.
    pub l4_offset: Option<usize>,
    /// Length of the IP packet as its header says: the IPv4 total length, or 40 plus the IPv6 payload
    /// length. 0 when no IP header was read, or when the header says 0 (segmentation offload, jumbograms).
    pub ip_len: u32,
    /// The bytes ended before every header the packet announced was read.
    pub truncated: bool,
    /// Fragmentation, when the packet is a fragment. Only first fragments carry a transport header.
    pub fragment: Option<Fragment>,
    /// 802.1Q, 802.1ad and 0x9100 tags seen; the outermost VLAN id is in the record's `vlan`.
    pub vlan_tags: u8,
    /// The VLAN id of the second tag (the customer VLAN of QinQ), 0 when there is none.
    pub inner_vlan: u16,
    /// MPLS label stack entries seen.
    pub mpls_labels: u8,
    /// The outermost MPLS label (20 bits), 0 when there is none.
    pub mpls_top_label: u32,
    /// IPv6 extension headers walked.
    pub ipv6_ext_headers: u8,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
}

/// How an IP packet was fragmented.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fragment {
    /// IPv4 identification (16 bits) or IPv6 fragment identification.
    pub id: u32,
    /// Offset of this fragment's data in 8-byte units; 0 for the first fragment.
    pub offset: u16,
    /// More fragments follow.
    pub more: bool,
}

impl Fragment {
    /// Whether this is the first fragment, the only one with a transport header.
    pub fn is_first(&self) -> bool {
        self.offset == 0
    }
}

/// Parses a raw IP packet (no link layer), IPv4 or IPv6 as the first nibble says.
pub fn parse_ip(packet: &[u8], rec: &mut FlowRecord) -> Result<Summary, PacketError> {
    let mut s = Summary::default();
    ip_at(packet, 0, rec, &mut s)?;
    Ok(s)
}

/// Parses a raw IPv4 packet.
pub fn parse_ipv4(packet: &[u8], rec: &mut FlowRecord) -> Result<Summary, PacketError> {
    let mut s = Summary::default();
    ipv4::parse(packet, 0, rec, &mut s)?;
    Ok(s)
}

/// Parses a raw IPv6 packet.
pub fn parse_ipv6(packet: &[u8], rec: &mut FlowRecord) -> Result<Summary, PacketError> {
    let mut s = Summary::default();
    ipv6::parse(packet, 0, rec, &mut s)?;
    Ok(s)
}

/// An IP header at `off` whose version is told by its first nibble (after MPLS, or for raw IP).
/// Any other nibble is not IP; only the offset is noted.
fn ip_at(buf: &[u8], off: usize, rec: &mut FlowRecord, s: &mut Summary) -> Result<(), PacketError> {
    match buf.get(off).map(|b| b >> 4) {
        Some(4) => ipv4::parse(buf, off, rec, s),
        Some(6) => ipv6::parse(buf, off, rec, s),
        Some(_) => {
            s.l3_offset = Some(off);
            Ok(())
        }
        None => {
            s.truncated = true;
            Ok(())
        }
    }
}

/// A big-endian `u16` at `off`, if the bytes are there.
#[inline]
fn be16(buf: &[u8], off: usize) -> Option<u16> {
    buf.get(off..)?.first_chunk::<2>().map(|b| u16::from_be_bytes(*b))
}

/// A big-endian `u32` at `off`, if the bytes are there.
#[inline]
fn be32(buf: &[u8], off: usize) -> Option<u32> {
    buf.get(off..)?.first_chunk::<4>().map(|b| u32::from_be_bytes(*b))
}

/// `N` bytes at `off`, if they are there.
#[inline]
fn chunk<const N: usize>(buf: &[u8], off: usize) -> Option<&[u8; N]> {
    buf.get(off..)?.first_chunk::<N>()
}

/// Test vectors are written in hex, with spaces and newlines for reading.
#[cfg(test)]
pub(crate) fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    assert!(digits.len().is_multiple_of(2), "odd number of hex digits");
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_flow::{codes, ipv4};

    #[test]
    fn raw_ip_is_told_by_the_first_nibble() {
        let v4 = hex("45000028 0001 0000 40 11 0000 0a000001 0a000002  0035 0035 0014 0000");
        let mut rec = FlowRecord::default();
        let s = parse_ip(&v4, &mut rec).unwrap();
        assert_eq!(
            (rec.etype, rec.proto, rec.src_port),
            (codes::etype::IPV4, codes::proto::UDP, 53)
        );
        assert_eq!(rec.dst_addr, ipv4([10, 0, 0, 2]));
        assert_eq!(s.ip_len, 40);

        let mut rec = FlowRecord::default();
        let s = parse_ip(&hex("10 00"), &mut rec).unwrap();
        assert_eq!(s.l3_offset, Some(0));
        assert_eq!(rec.etype, 0);
        let s = parse_ip(&[], &mut rec).unwrap();
        assert!(s.truncated);
    }

    #[test]
    fn fragments_say_which_one_is_first() {
        assert!(
            Fragment {
                id: 1,
                offset: 0,
                more: true
            }
            .is_first()
        );
        assert!(
            !Fragment {
                id: 1,
                offset: 185,
                more: false
            }
            .is_first()
        );
    }
}
