//! IPv4 and IPv6 down to UDP: the addresses, ports and payload of an export datagram, or the fragment it
//! arrived in.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::PacketError;
use weir_proto::Reader;

const PROTO_UDP: u8 = 17;

/// What an IP packet carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport<'a> {
    /// A whole UDP datagram.
    Udp(Udp<'a>),
    /// One fragment of an IP datagram; see [`super::fragments`].
    Fragment(Fragment<'a>),
    /// Another protocol.
    Other,
}

/// A UDP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Udp<'a> {
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// What the datagram carried.
    pub payload: &'a [u8],
}

/// Identifies the fragments of one IP datagram (RFC 791, RFC 8200 section 4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragmentKey {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Identification field.
    pub id: u32,
    /// The protocol the reassembled payload holds.
    pub proto: u8,
}

/// One fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment<'a> {
    /// The datagram it belongs to.
    pub key: FragmentKey,
    /// Where its bytes go in the reassembled payload.
    pub offset: usize,
    /// Whether more fragments follow.
    pub more: bool,
    /// Its part of the payload.
    pub data: &'a [u8],
}

/// Reads an IPv4 packet. Bytes after the packet's total length (link padding) are ignored.
pub fn ipv4(packet: &[u8]) -> Result<Transport<'_>, PacketError> {
    let mut r = Reader::new(packet);
    let version_ihl = r.u8()?;
    if version_ihl >> 4 != 4 {
        return Err(PacketError::Malformed("IPv4 version field"));
    }
    let header_len = usize::from(version_ihl & 0x0f) * 4;
    if header_len < 20 {
        return Err(PacketError::Malformed("IPv4 header length"));
    }
    r.skip(1)?;
    let total = usize::from(r.u16()?);
    let id = r.u16()?;
    let frag = r.u16()?;
    r.skip(1)?;
    let proto = r.u8()?;
    r.skip(2)?;
    let src = IpAddr::V4(Ipv4Addr::from(r.array::<4>()?));
    let dst = IpAddr::V4(Ipv4Addr::from(r.array::<4>()?));
    r.skip(header_len - 20)?;
    // A total length of 0 is what segmentation offload leaves in captures: the frame is the packet.
    let body_len = match total {
        0 => r.remaining(),
        t if t < header_len => return Err(PacketError::Malformed("IPv4 total length")),
        t => t - header_len,
    };
    let body = r.bytes(body_len)?;
    let more = frag & 0x2000 != 0;
    let offset = usize::from(frag & 0x1fff) * 8;
    if more || offset > 0 {
        let key = FragmentKey {
            src,
            dst,
            id: u32::from(id),
            proto,
        };
        return Ok(Transport::Fragment(Fragment {
            key,
            offset,
            more,
            data: body,
        }));
    }
    if proto != PROTO_UDP {
        return Ok(Transport::Other);
    }
    udp(src, dst, body)
}

/// Extension headers that have the generic (next header, length in 8-byte units) layout.
const GENERIC_EXTENSIONS: [u8; 6] = [0, 43, 60, 135, 139, 140];
const EXT_FRAGMENT: u8 = 44;
const EXT_AUTH: u8 = 51;
/// More extension headers than this is not a real packet.
const MAX_EXTENSIONS: usize = 16;

/// Reads an IPv6 packet, skipping extension headers.
pub fn ipv6(packet: &[u8]) -> Result<Transport<'_>, PacketError> {
    let mut r = Reader::new(packet);
    if r.u32()? >> 28 != 6 {
        return Err(PacketError::Malformed("IPv6 version field"));
    }
    let payload_len = usize::from(r.u16()?);
    let mut next = r.u8()?;
    r.skip(1)?;
    let src = IpAddr::V6(Ipv6Addr::from(r.array::<16>()?));
    let dst = IpAddr::V6(Ipv6Addr::from(r.array::<16>()?));
    // A payload length of 0 means a jumbogram or segmentation offload: the frame is the packet.
    let mut r = match payload_len {
        0 => r,
        n => r.sub(n)?,
    };
    for _ in 0..MAX_EXTENSIONS {
        match next {
            PROTO_UDP => return udp(src, dst, r.rest()),
            n if GENERIC_EXTENSIONS.contains(&n) => {
                next = r.u8()?;
                let len = usize::from(r.u8()?);
                r.skip(6 + len * 8)?;
            }
            EXT_AUTH => {
                next = r.u8()?;
                let len = usize::from(r.u8()?);
                r.skip((len + 2) * 4 - 2)?;
            }
            EXT_FRAGMENT => {
                next = r.u8()?;
                r.skip(1)?;
                let offset_flags = r.u16()?;
                let id = r.u32()?;
                let offset = usize::from(offset_flags >> 3) * 8;
                let more = offset_flags & 1 != 0;
                if more || offset > 0 {
                    let key = FragmentKey {
                        src,
                        dst,
                        id,
                        proto: next,
                    };
                    return Ok(Transport::Fragment(Fragment {
                        key,
                        offset,
                        more,
                        data: r.rest(),
                    }));
                }
                // An atomic fragment (RFC 6946): the whole datagram, go on with its payload.
            }
            _ => return Ok(Transport::Other),
        }
    }
    Err(PacketError::Malformed("IPv6 extension header chain"))
}

/// What a reassembled datagram carried.
pub fn reassembled<'a>(key: &FragmentKey, payload: &'a [u8]) -> Result<Transport<'a>, PacketError> {
    match key.proto {
        PROTO_UDP => udp(key.src, key.dst, payload),
        _ => Ok(Transport::Other),
    }
}

/// Reads a UDP header and its payload. Bytes after the UDP length are ignored.
fn udp(src: IpAddr, dst: IpAddr, segment: &[u8]) -> Result<Transport<'_>, PacketError> {
    let mut r = Reader::new(segment);
    let src_port = r.u16()?;
    let dst_port = r.u16()?;
    let len = usize::from(r.u16()?);
    r.skip(2)?;
    // Length 0 is an IPv6 jumbogram's UDP (RFC 2675): the rest of the packet.
    let payload = match len {
        0 => r.rest(),
        n if n < 8 => return Err(PacketError::Malformed("UDP length")),
        n => r.bytes(n - 8)?,
    };
    Ok(Transport::Udp(Udp {
        src: SocketAddr::new(src, src_port),
        dst: SocketAddr::new(dst, dst_port),
        payload,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::encap;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn reads_udp_over_ipv4_and_ignores_padding() {
        let mut p = encap::ip_udp(addr("192.0.2.1:2055"), addr("198.51.100.7:9995"), b"hello").unwrap();
        p.extend_from_slice(&[0; 6]);
        let Transport::Udp(u) = ipv4(&p).unwrap() else {
            panic!("not UDP")
        };
        assert_eq!(
            (u.src, u.dst, u.payload),
            (addr("192.0.2.1:2055"), addr("198.51.100.7:9995"), &b"hello"[..])
        );
    }

    #[test]
    fn reads_udp_over_ipv6() {
        let p = encap::ip_udp(addr("[2001:db8::1]:4739"), addr("[2001:db8::2]:4739"), b"ipfix").unwrap();
        let Transport::Udp(u) = ipv6(&p).unwrap() else {
            panic!("not UDP")
        };
        assert_eq!((u.src.port(), u.payload), (4739, &b"ipfix"[..]));
    }

    #[test]
    fn skips_ipv6_extension_headers() {
        let p = encap::ip_udp(addr("[2001:db8::1]:6343"), addr("[2001:db8::2]:6343"), b"sflow").unwrap();
        // Insert a hop-by-hop header (8 bytes) and a destination options header (16 bytes).
        let mut q = p[..40].to_vec();
        q[6] = 0;
        let plen = u16::from_be_bytes([p[4], p[5]]) + 24;
        q[4..6].copy_from_slice(&plen.to_be_bytes());
        q.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]);
        q.extend_from_slice(&[17, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        q.extend_from_slice(&p[40..]);
        let Transport::Udp(u) = ipv6(&q).unwrap() else {
            panic!("not UDP")
        };
        assert_eq!(u.payload, b"sflow");
    }

    #[test]
    fn other_protocols_are_not_udp() {
        let mut p = encap::ip_udp(addr("192.0.2.1:1"), addr("192.0.2.2:2"), b"x").unwrap();
        p[9] = 6;
        assert_eq!(ipv4(&p), Ok(Transport::Other));
    }

    #[test]
    fn rejects_packets_cut_before_their_length() {
        let p = encap::ip_udp(addr("192.0.2.1:1"), addr("192.0.2.2:2"), &[7; 100]).unwrap();
        assert_eq!(ipv4(&p[..60]), Err(PacketError::Truncated));
        assert_eq!(ipv4(&p[..10]), Err(PacketError::Truncated));
        let p = encap::ip_udp(addr("[::1]:1"), addr("[::2]:2"), &[7; 100]).unwrap();
        assert_eq!(ipv6(&p[..100]), Err(PacketError::Truncated));
    }

    #[test]
    fn rejects_inconsistent_headers() {
        let mut p = encap::ip_udp(addr("192.0.2.1:1"), addr("192.0.2.2:2"), b"x").unwrap();
        p[0] = 0x44;
        assert_eq!(ipv4(&p), Err(PacketError::Malformed("IPv4 header length")));
        let mut p = encap::ip_udp(addr("192.0.2.1:1"), addr("192.0.2.2:2"), b"x").unwrap();
        p[24..26].copy_from_slice(&4u16.to_be_bytes());
        assert_eq!(ipv4(&p), Err(PacketError::Malformed("UDP length")));
    }

    #[test]
    fn reports_ipv4_fragments() {
        let mut p = encap::ip_udp(addr("192.0.2.1:1"), addr("192.0.2.2:2"), &[1; 32]).unwrap();
        p[6..8].copy_from_slice(&0x2000u16.to_be_bytes());
        let Transport::Fragment(f) = ipv4(&p).unwrap() else {
            panic!("not a fragment")
        };
        assert_eq!((f.offset, f.more, f.data.len(), f.key.proto), (0, true, 40, 17));
    }
}
