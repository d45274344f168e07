//! XDR pieces sFlow is made of: 32-bit words, variable-length opaque data padded to four bytes, addresses
//! tagged with their type, and the enterprise/format split of structure tags.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::DecodeError;
use crate::reader::Reader;

use super::EncodeError;

/// A structure tag: the SMI private enterprise number in the top 20 bits, the enterprise's structure
/// number in the low 12. Enterprise 0 is sFlow.org's standard structures. Open: any value survives a round
/// trip.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DataFormat(pub u32);

impl DataFormat {
    /// Flow sample (compact).
    pub const FLOW_SAMPLE: Self = Self(1);
    /// Counter sample (compact).
    pub const COUNTER_SAMPLE: Self = Self(2);
    /// Expanded flow sample.
    pub const EXPANDED_FLOW_SAMPLE: Self = Self(3);
    /// Expanded counter sample.
    pub const EXPANDED_COUNTER_SAMPLE: Self = Self(4);
    /// Discarded packet (drop notification).
    pub const DISCARDED_PACKET: Self = Self(5);

    /// Raw packet header flow record.
    pub const RAW_HEADER: Self = Self(1);
    /// Ethernet frame data flow record.
    pub const ETHERNET: Self = Self(2);
    /// IPv4 data flow record.
    pub const IPV4: Self = Self(3);
    /// IPv6 data flow record.
    pub const IPV6: Self = Self(4);
    /// Extended switch data.
    pub const EXTENDED_SWITCH: Self = Self(1001);
    /// Extended router data.
    pub const EXTENDED_ROUTER: Self = Self(1002);
    /// Extended gateway data.
    pub const EXTENDED_GATEWAY: Self = Self(1003);
    /// Extended user data.
    pub const EXTENDED_USER: Self = Self(1004);
    /// Extended URL data.
    pub const EXTENDED_URL: Self = Self(1005);
    /// Extended egress queue (discarded packets).
    pub const EXTENDED_EGRESS_QUEUE: Self = Self(1036);
    /// Extended ACL (discarded packets).
    pub const EXTENDED_ACL: Self = Self(1037);
    /// Extended function (discarded packets).
    pub const EXTENDED_FUNCTION: Self = Self(1038);

    /// Generic interface counters record.
    pub const GENERIC_INTERFACE: Self = Self(1);

    /// A tag from its parts; the enterprise is cut to 20 bits and the format to 12.
    pub const fn new(enterprise: u32, format: u32) -> Self {
        Self(((enterprise & 0xf_ffff) << 12) | (format & 0xfff))
    }

    /// The private enterprise number (0 for sFlow.org).
    pub const fn enterprise(self) -> u32 {
        self.0 >> 12
    }

    /// The structure number within the enterprise.
    pub const fn format(self) -> u32 {
        self.0 & 0xfff
    }
}

impl fmt::Debug for DataFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataFormat({}:{})", self.enterprise(), self.format())
    }
}

impl fmt::Display for DataFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.enterprise(), self.format())
    }
}

/// Bytes of padding after `len` bytes of opaque data.
#[inline]
pub(super) fn padding(len: usize) -> usize {
    (4 - len % 4) % 4
}

/// Variable-length opaque data: a length word, the bytes, padding to four.
///
/// Padding missing at the very end of the enclosing structure is tolerated: some agents (and test vectors
/// of other collectors) end a datagram on an unpadded string, and nothing can be misread by allowing it.
#[inline]
pub(super) fn opaque<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], DecodeError> {
    let len = r.u32()? as usize;
    let data = r.bytes(len)?;
    skip_padding(r, len)?;
    Ok(data)
}

/// Variable-length opaque data as a reader whose offsets stay absolute.
#[inline]
pub(super) fn opaque_reader<'a>(r: &mut Reader<'a>) -> Result<Reader<'a>, DecodeError> {
    let len = r.u32()? as usize;
    let sub = r.sub(len)?;
    skip_padding(r, len)?;
    Ok(sub)
}

#[inline]
fn skip_padding(r: &mut Reader<'_>, len: usize) -> Result<(), DecodeError> {
    r.skip(padding(len).min(r.remaining()))
}

/// An address tagged with its type: 0 unknown (no bytes), 1 IPv4, 2 IPv6.
pub(super) fn address(r: &mut Reader<'_>, what: &'static str) -> Result<Option<IpAddr>, DecodeError> {
    let offset = r.offset();
    match r.u32()? {
        0 => Ok(None),
        1 => Ok(Some(IpAddr::V4(Ipv4Addr::from(r.array::<4>()?)))),
        2 => Ok(Some(IpAddr::V6(Ipv6Addr::from(r.array::<16>()?)))),
        other => Err(DecodeError::BadValue {
            offset,
            what,
            value: u64::from(other),
        }),
    }
}

/// A count of list entries, checked against the bytes that could hold them (`min_size` bytes each), so that
/// nothing is sized from an unchecked count.
pub(super) fn count(r: &mut Reader<'_>, min_size: usize, what: &'static str) -> Result<u32, DecodeError> {
    let offset = r.offset();
    let n = r.u32()?;
    if (n as usize).saturating_mul(min_size) > r.remaining() {
        return Err(DecodeError::BadLength {
            offset,
            what,
            value: u64::from(n),
        });
    }
    Ok(n)
}

/// Appends a big-endian word.
#[inline]
pub(super) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends a big-endian 64-bit word.
#[inline]
pub(super) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// A length or count as the 32-bit word XDR gives it.
pub(super) fn len_u32(len: usize, what: &'static str) -> Result<u32, EncodeError> {
    u32::try_from(len).map_err(|_| EncodeError::NotRepresentable {
        what,
        value: len as u64,
    })
}

/// Appends variable-length opaque data with its length and padding.
pub(super) fn put_opaque(out: &mut Vec<u8>, data: &[u8]) -> Result<(), EncodeError> {
    put_u32(out, len_u32(data.len(), "opaque length")?);
    out.extend_from_slice(data);
    out.resize(out.len() + padding(data.len()), 0);
    Ok(())
}

/// Appends a list of words with its count.
pub(super) fn put_u32s(out: &mut Vec<u8>, items: &[u32]) -> Result<(), EncodeError> {
    put_u32(out, len_u32(items.len(), "list length")?);
    for &v in items {
        put_u32(out, v);
    }
    Ok(())
}

/// Appends an address with its type.
pub(super) fn put_address(out: &mut Vec<u8>, addr: Option<IpAddr>) {
    match addr {
        None => put_u32(out, 0),
        Some(IpAddr::V4(a)) => {
            put_u32(out, 1);
            out.extend_from_slice(&a.octets());
        }
        Some(IpAddr::V6(a)) => {
            put_u32(out, 2);
            out.extend_from_slice(&a.octets());
        }
    }
}

/// Writes what `body` appends as opaque data: a length word first, then the bytes and padding.
pub(super) fn put_with_len(
    out: &mut Vec<u8>,
    body: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let at = out.len();
    put_u32(out, 0);
    body(out)?;
    let len = out.len() - at - 4;
    let word = len_u32(len, "opaque length")?.to_be_bytes();
    out[at..at + 4].copy_from_slice(&word);
    out.resize(out.len() + padding(len), 0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_tags_into_enterprise_and_format() {
        let f = DataFormat::new(4413, 7);
        assert_eq!((f.enterprise(), f.format(), f.0), (4413, 7, (4413 << 12) | 7));
        assert_eq!(f.to_string(), "4413:7");
        assert_eq!(
            format!("{:?}", DataFormat::EXTENDED_GATEWAY),
            "DataFormat(0:1003)"
        );
    }

    #[test]
    fn opaque_data_is_padded_to_four_bytes() {
        let mut out = Vec::new();
        put_opaque(&mut out, b"foobar").unwrap();
        assert_eq!(out, b"\0\0\0\x06foobar\0\0");
        let mut r = Reader::new(&out);
        assert_eq!(opaque(&mut r).unwrap(), b"foobar");
        r.expect_end().unwrap();
        assert!(matches!(
            opaque(&mut Reader::new(&out[..9])),
            Err(DecodeError::Truncated { offset: 4, .. })
        ));
    }

    #[test]
    fn tolerates_padding_missing_at_the_end() {
        let b = b"\0\0\0\x06foobar";
        let mut r = Reader::new(b);
        assert_eq!(opaque(&mut r).unwrap(), b"foobar");
        assert!(r.is_empty());
        let b = b"\0\0\0\x06foobar\0";
        let mut r = Reader::new(b);
        assert_eq!(opaque_reader(&mut r).unwrap().rest(), b"foobar");
        assert!(r.is_empty());
    }

    #[test]
    fn addresses_carry_their_type() {
        let mut out = Vec::new();
        put_address(&mut out, None);
        put_address(&mut out, Some("192.0.2.1".parse().unwrap()));
        put_address(&mut out, Some("2001:db8::1".parse().unwrap()));
        assert_eq!(out.len(), 4 + 8 + 20);
        let mut r = Reader::new(&out);
        assert_eq!(address(&mut r, "a").unwrap(), None);
        assert_eq!(address(&mut r, "a").unwrap(), Some("192.0.2.1".parse().unwrap()));
        assert_eq!(
            address(&mut r, "a").unwrap(),
            Some("2001:db8::1".parse().unwrap())
        );
        let bad = [0, 0, 0, 3];
        assert_eq!(
            address(&mut Reader::at(&bad, 8), "next hop type"),
            Err(DecodeError::BadValue {
                offset: 8,
                what: "next hop type",
                value: 3
            })
        );
    }

    #[test]
    fn rejects_counts_the_bytes_cannot_hold() {
        let b = [0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2];
        assert_eq!(
            count(&mut Reader::new(&b), 4, "community count"),
            Err(DecodeError::BadLength {
                offset: 0,
                what: "community count",
                value: 3
            })
        );
        assert_eq!(count(&mut Reader::new(&b[..]), 2, "x").unwrap(), 3);
    }

    #[test]
    fn length_prefixed_bodies_are_patched_and_padded() {
        let mut out = vec![9];
        put_with_len(&mut out, |o| {
            o.extend_from_slice(b"abc");
            Ok(())
        })
        .unwrap();
        assert_eq!(out, b"\x09\0\0\0\x03abc\0");
    }
}
