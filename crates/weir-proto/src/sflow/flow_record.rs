//! Flow records: what a flow sample says about one sampled packet (its header, or its addresses) and how it
//! was switched and routed.
//!
//! [`FlowData`] is generic over how it holds bytes and the gateway record, so that one definition serves both
//! the owned model (`FlowData`, for building and encoding) and the zero-copy view the decoder reads
//! ([`FlowDataRef`], borrowing from the datagram).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::DecodeError;
use crate::reader::Reader;

use super::EncodeError;
use super::xdr::{self, DataFormat, count, opaque, put_address, put_opaque, put_u32, put_u32s};

/// What a raw packet header starts with (sFlow's `header_protocol`). Open: unknown values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HeaderProtocol(pub u32);

impl HeaderProtocol {
    /// Ethernet (ISO 8802-3).
    pub const ETHERNET: Self = Self(1);
    /// PPP.
    pub const PPP: Self = Self(7);
    /// IPv4, no link layer.
    pub const IPV4: Self = Self(11);
    /// IPv6, no link layer.
    pub const IPV6: Self = Self(12);
    /// MPLS label stack, no link layer.
    pub const MPLS: Self = Self(13);
}

/// A raw packet header (format 1; in v2/v4 the `HEADER` packet information, which has no `stripped`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampledHeader<B = Vec<u8>> {
    /// What the header starts with.
    pub protocol: HeaderProtocol,
    /// Length of the packet as received, before sampling (for Ethernet, including the FCS).
    pub frame_length: u32,
    /// Bytes removed before the header was taken (the FCS at least, on Ethernet); 0 in v2/v4.
    pub stripped: u32,
    /// The first bytes of the packet.
    pub header: B,
}

/// Ethernet frame data (format 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampledEthernet {
    /// Length of the MAC packet, including the FCS.
    pub length: u32,
    /// Source MAC address.
    pub src_mac: [u8; 6],
    /// Destination MAC address.
    pub dst_mac: [u8; 6],
    /// EtherType.
    pub eth_type: u32,
}

/// IPv4 data (format 3), for agents that do not send headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampledIpv4 {
    /// Length of the IP packet.
    pub length: u32,
    /// IP protocol.
    pub protocol: u32,
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Source port.
    pub src_port: u32,
    /// Destination port.
    pub dst_port: u32,
    /// TCP flags.
    pub tcp_flags: u32,
    /// Type of service.
    pub tos: u32,
}

/// IPv6 data (format 4), for agents that do not send headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampledIpv6 {
    /// Length of the IP packet.
    pub length: u32,
    /// Next header.
    pub protocol: u32,
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// Source port.
    pub src_port: u32,
    /// Destination port.
    pub dst_port: u32,
    /// TCP flags.
    pub tcp_flags: u32,
    /// Traffic class.
    pub priority: u32,
}

/// Extended switch data (format 1001): VLANs and 802.1p priorities in and out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtendedSwitch {
    /// VLAN of the incoming frame.
    pub src_vlan: u32,
    /// Priority of the incoming frame.
    pub src_priority: u32,
    /// VLAN of the outgoing frame.
    pub dst_vlan: u32,
    /// Priority of the outgoing frame.
    pub dst_priority: u32,
}

/// Extended router data (format 1002).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtendedRouter {
    /// The IP next hop; `None` when the agent sent address type 0 (unknown).
    pub next_hop: Option<IpAddr>,
    /// Source prefix length.
    pub src_mask_len: u32,
    /// Destination prefix length.
    pub dst_mask_len: u32,
}

/// An AS path segment type.
pub mod as_path {
    /// An unordered set of ASes.
    pub const AS_SET: u32 = 1;
    /// An ordered sequence of ASes.
    pub const AS_SEQUENCE: u32 = 2;
}

/// One segment of an AS path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsPathSegment {
    /// [`as_path::AS_SET`] or [`as_path::AS_SEQUENCE`] (other values are kept).
    pub kind: u32,
    /// The ASes, nearest first.
    pub asns: Vec<u32>,
}

/// Extended gateway data (format 1003): BGP information about the destination (and source) route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendedGateway {
    /// BGP next hop (v5 only; `None` in v2/v4 or when the agent sent address type 0).
    pub next_hop: Option<IpAddr>,
    /// The router's own AS.
    pub as_number: u32,
    /// Source AS.
    pub src_as: u32,
    /// Source peer AS.
    pub src_peer_as: u32,
    /// AS path to the destination. v2 has a plain list, read as one `AS_SEQUENCE`.
    pub as_path: Vec<AsPathSegment>,
    /// BGP communities of the destination route (v4 and v5).
    pub communities: Vec<u32>,
    /// BGP local preference (v4 and v5).
    pub local_pref: u32,
}

/// Big-endian 32-bit words in the datagram, read on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct U32s<'a>(&'a [u8]);

impl<'a> U32s<'a> {
    /// How many words.
    pub fn len(&self) -> usize {
        self.0.len() / 4
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.len() < 4
    }

    /// The words in order.
    pub fn iter(self) -> impl Iterator<Item = u32> + 'a {
        self.0
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }

    /// The last word.
    pub fn last(&self) -> Option<u32> {
        let n = self.0.len();
        self.0
            .get(n.checked_sub(4)?..)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }
}

/// An AS path in the datagram, already checked, read on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AsPathRef<'a> {
    bytes: &'a [u8],
    /// v2's path is a plain list of ASes with no segment headers.
    flat: bool,
}

impl<'a> AsPathRef<'a> {
    /// The segments: type and ASes.
    pub fn segments(&self) -> impl Iterator<Item = (u32, U32s<'a>)> + 'a {
        let (mut rest, flat) = (self.bytes, self.flat);
        std::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            if flat {
                let all = U32s(rest);
                rest = &[];
                return Some((as_path::AS_SEQUENCE, all));
            }
            let (head, tail) = rest.split_first_chunk::<8>()?;
            let n = u32::from_be_bytes([head[4], head[5], head[6], head[7]]) as usize;
            let (asns, tail) = tail.split_at_checked(n * 4)?;
            rest = tail;
            Some((
                u32::from_be_bytes([head[0], head[1], head[2], head[3]]),
                U32s(asns),
            ))
        })
    }

    /// Every AS of every segment, in order.
    pub fn asns(&self) -> impl Iterator<Item = u32> + 'a {
        self.segments().flat_map(|(_, s)| s.iter())
    }

    /// The last AS of the path: the destination's origin AS.
    pub fn last_as(&self) -> Option<u32> {
        self.segments().filter_map(|(_, s)| s.last()).last()
    }
}

/// [`ExtendedGateway`] borrowed from the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayRef<'a> {
    /// BGP next hop.
    pub next_hop: Option<IpAddr>,
    /// The router's own AS.
    pub as_number: u32,
    /// Source AS.
    pub src_as: u32,
    /// Source peer AS.
    pub src_peer_as: u32,
    /// AS path to the destination.
    pub as_path: AsPathRef<'a>,
    /// BGP communities.
    pub communities: U32s<'a>,
    /// BGP local preference.
    pub local_pref: u32,
}

impl GatewayRef<'_> {
    /// The owned form.
    pub fn to_owned_gateway(&self) -> ExtendedGateway {
        ExtendedGateway {
            next_hop: self.next_hop,
            as_number: self.as_number,
            src_as: self.src_as,
            src_peer_as: self.src_peer_as,
            as_path: self
                .as_path
                .segments()
                .map(|(kind, s)| AsPathSegment {
                    kind,
                    asns: s.iter().collect(),
                })
                .collect(),
            communities: self.communities.iter().collect(),
            local_pref: self.local_pref,
        }
    }
}

/// Extended user data (format 1004). v2/v4 have no character sets (read as 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendedUser<B = Vec<u8>> {
    /// MIBEnum of the source user's character set.
    pub src_charset: u32,
    /// User associated with the source.
    pub src_user: B,
    /// MIBEnum of the destination user's character set.
    pub dst_charset: u32,
    /// User associated with the destination.
    pub dst_user: B,
}

/// Extended URL data (format 1005). v2/v4 have no host (read as empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendedUrl<B = Vec<u8>> {
    /// 1: the source is the server; 2: the destination is.
    pub direction: u32,
    /// The HTTP request line.
    pub url: B,
    /// The HTTP host header.
    pub host: B,
}

/// A structure Weir does not decode, kept as it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opaque<B = Vec<u8>> {
    /// Its tag.
    pub format: DataFormat,
    /// Its bytes, without padding.
    pub data: B,
}

/// One flow record. `FlowData` (the default parameters) owns its bytes; [`FlowDataRef`] borrows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowData<B = Vec<u8>, G = ExtendedGateway> {
    /// Raw packet header (1).
    RawHeader(SampledHeader<B>),
    /// Ethernet frame data (2).
    Ethernet(SampledEthernet),
    /// IPv4 data (3).
    Ipv4(SampledIpv4),
    /// IPv6 data (4).
    Ipv6(SampledIpv6),
    /// Extended switch data (1001).
    Switch(ExtendedSwitch),
    /// Extended router data (1002).
    Router(ExtendedRouter),
    /// Extended gateway data (1003).
    Gateway(G),
    /// Extended user data (1004).
    User(ExtendedUser<B>),
    /// Extended URL data (1005).
    Url(ExtendedUrl<B>),
    /// Any other format, skipped by its length.
    Unknown(Opaque<B>),
}

/// A flow record borrowed from the datagram.
pub type FlowDataRef<'a> = FlowData<&'a [u8], GatewayRef<'a>>;

impl<'a> FlowDataRef<'a> {
    /// Reads an sFlow v5 flow record of `format` from its opaque body. Bytes after the known fields are
    /// ignored: the standard lets structures grow at the end.
    pub(super) fn parse_v5(format: DataFormat, mut r: Reader<'a>) -> Result<Self, DecodeError> {
        let r = &mut r;
        Ok(match format {
            DataFormat::RAW_HEADER => Self::RawHeader(SampledHeader {
                protocol: HeaderProtocol(r.u32()?),
                frame_length: r.u32()?,
                stripped: r.u32()?,
                header: opaque(r)?,
            }),
            DataFormat::ETHERNET => {
                let length = r.u32()?;
                // XDR pads the fixed six-byte MACs to eight.
                let src_mac = mac(r)?;
                let dst_mac = mac(r)?;
                Self::Ethernet(SampledEthernet {
                    length,
                    src_mac,
                    dst_mac,
                    eth_type: r.u32()?,
                })
            }
            DataFormat::IPV4 => Self::Ipv4(SampledIpv4::read(r)?),
            DataFormat::IPV6 => Self::Ipv6(SampledIpv6::read(r)?),
            DataFormat::EXTENDED_SWITCH => Self::Switch(ExtendedSwitch::read(r)?),
            DataFormat::EXTENDED_ROUTER => Self::Router(ExtendedRouter::read(r)?),
            DataFormat::EXTENDED_GATEWAY => {
                let next_hop = xdr::address(r, "gateway next hop type")?;
                Self::Gateway(gateway(r, next_hop, 5)?)
            }
            DataFormat::EXTENDED_USER => Self::User(ExtendedUser {
                src_charset: r.u32()?,
                src_user: opaque(r)?,
                dst_charset: r.u32()?,
                dst_user: opaque(r)?,
            }),
            DataFormat::EXTENDED_URL => Self::Url(ExtendedUrl {
                direction: r.u32()?,
                url: opaque(r)?,
                host: opaque(r)?,
            }),
            _ => Self::Unknown(Opaque {
                format,
                data: r.rest(),
            }),
        })
    }

    /// Reads the packet information that starts a v2/v4 flow sample.
    pub(super) fn parse_v4_packet(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let offset = r.offset();
        Ok(match r.u32()? {
            1 => Self::RawHeader(SampledHeader {
                protocol: HeaderProtocol(r.u32()?),
                frame_length: r.u32()?,
                stripped: 0,
                header: opaque(r)?,
            }),
            2 => Self::Ipv4(SampledIpv4::read(r)?),
            3 => Self::Ipv6(SampledIpv6::read(r)?),
            other => {
                return Err(DecodeError::BadValue {
                    offset,
                    what: "packet information type",
                    value: other.into(),
                });
            }
        })
    }

    /// Reads one v2/v4 extended record (its type, then its body, which has no length).
    pub(super) fn parse_v4_extended(r: &mut Reader<'a>, version: u32) -> Result<Self, DecodeError> {
        let offset = r.offset();
        Ok(match r.u32()? {
            1 => Self::Switch(ExtendedSwitch::read(r)?),
            2 => Self::Router(ExtendedRouter::read(r)?),
            3 => Self::Gateway(gateway(r, None, version)?),
            4 => Self::User(ExtendedUser {
                src_charset: 0,
                src_user: opaque(r)?,
                dst_charset: 0,
                dst_user: opaque(r)?,
            }),
            5 => Self::Url(ExtendedUrl {
                direction: r.u32()?,
                url: opaque(r)?,
                host: &[],
            }),
            other => {
                return Err(DecodeError::BadValue {
                    offset,
                    what: "extended information type",
                    value: other.into(),
                });
            }
        })
    }

    /// The owned form.
    pub fn to_owned_data(&self) -> FlowData {
        match self {
            Self::RawHeader(h) => FlowData::RawHeader(SampledHeader {
                protocol: h.protocol,
                frame_length: h.frame_length,
                stripped: h.stripped,
                header: h.header.to_vec(),
            }),
            Self::Ethernet(e) => FlowData::Ethernet(*e),
            Self::Ipv4(x) => FlowData::Ipv4(*x),
            Self::Ipv6(x) => FlowData::Ipv6(*x),
            Self::Switch(x) => FlowData::Switch(*x),
            Self::Router(x) => FlowData::Router(*x),
            Self::Gateway(g) => FlowData::Gateway(g.to_owned_gateway()),
            Self::User(u) => FlowData::User(ExtendedUser {
                src_charset: u.src_charset,
                src_user: u.src_user.to_vec(),
                dst_charset: u.dst_charset,
                dst_user: u.dst_user.to_vec(),
            }),
            Self::Url(u) => FlowData::Url(ExtendedUrl {
                direction: u.direction,
                url: u.url.to_vec(),
                host: u.host.to_vec(),
            }),
            Self::Unknown(o) => FlowData::Unknown(Opaque {
                format: o.format,
                data: o.data.to_vec(),
            }),
        }
    }
}

fn mac(r: &mut Reader<'_>) -> Result<[u8; 6], DecodeError> {
    let b = r.array::<8>()?;
    Ok([b[0], b[1], b[2], b[3], b[4], b[5]])
}

/// The gateway record after its next hop: v2 has a flat AS list and no communities; v4 and v5 have
/// segments, communities and local preference.
fn gateway<'a>(
    r: &mut Reader<'a>,
    next_hop: Option<IpAddr>,
    version: u32,
) -> Result<GatewayRef<'a>, DecodeError> {
    let as_number = r.u32()?;
    let src_as = r.u32()?;
    let src_peer_as = r.u32()?;
    if version < 4 {
        let n = count(r, 4, "AS path length")? as usize;
        let path = r.bytes(n * 4)?;
        let as_path = AsPathRef {
            bytes: path,
            flat: true,
        };
        return Ok(GatewayRef {
            next_hop,
            as_number,
            src_as,
            src_peer_as,
            as_path,
            communities: U32s::default(),
            local_pref: 0,
        });
    }
    let segments = count(r, 8, "AS path segment count")?;
    let mut probe = *r;
    for _ in 0..segments {
        probe.u32()?;
        let n = count(&mut probe, 4, "AS path segment length")? as usize;
        probe.skip(n * 4)?;
    }
    let path = r.bytes(probe.offset() - r.offset())?;
    let n = count(r, 4, "community count")? as usize;
    let communities = U32s(r.bytes(n * 4)?);
    Ok(GatewayRef {
        next_hop,
        as_number,
        src_as,
        src_peer_as,
        as_path: AsPathRef {
            bytes: path,
            flat: false,
        },
        communities,
        local_pref: r.u32()?,
    })
}

impl SampledIpv4 {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            length: r.u32()?,
            protocol: r.u32()?,
            src: Ipv4Addr::from(r.array::<4>()?),
            dst: Ipv4Addr::from(r.array::<4>()?),
            src_port: r.u32()?,
            dst_port: r.u32()?,
            tcp_flags: r.u32()?,
            tos: r.u32()?,
        })
    }

    fn write(&self, out: &mut Vec<u8>) {
        put_u32(out, self.length);
        put_u32(out, self.protocol);
        out.extend_from_slice(&self.src.octets());
        out.extend_from_slice(&self.dst.octets());
        for v in [self.src_port, self.dst_port, self.tcp_flags, self.tos] {
            put_u32(out, v);
        }
    }
}

impl SampledIpv6 {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            length: r.u32()?,
            protocol: r.u32()?,
            src: Ipv6Addr::from(r.array::<16>()?),
            dst: Ipv6Addr::from(r.array::<16>()?),
            src_port: r.u32()?,
            dst_port: r.u32()?,
            tcp_flags: r.u32()?,
            priority: r.u32()?,
        })
    }

    fn write(&self, out: &mut Vec<u8>) {
        put_u32(out, self.length);
        put_u32(out, self.protocol);
        out.extend_from_slice(&self.src.octets());
        out.extend_from_slice(&self.dst.octets());
        for v in [self.src_port, self.dst_port, self.tcp_flags, self.priority] {
            put_u32(out, v);
        }
    }
}

impl ExtendedSwitch {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            src_vlan: r.u32()?,
            src_priority: r.u32()?,
            dst_vlan: r.u32()?,
            dst_priority: r.u32()?,
        })
    }

    fn write(&self, out: &mut Vec<u8>) {
        for v in [self.src_vlan, self.src_priority, self.dst_vlan, self.dst_priority] {
            put_u32(out, v);
        }
    }
}

impl ExtendedRouter {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            next_hop: xdr::address(r, "router next hop type")?,
            src_mask_len: r.u32()?,
            dst_mask_len: r.u32()?,
        })
    }

    fn write(&self, out: &mut Vec<u8>) {
        put_address(out, self.next_hop);
        put_u32(out, self.src_mask_len);
        put_u32(out, self.dst_mask_len);
    }
}

impl ExtendedGateway {
    fn write_path_etc(&self, out: &mut Vec<u8>, version: u32) -> Result<(), EncodeError> {
        put_u32(out, self.as_number);
        put_u32(out, self.src_as);
        put_u32(out, self.src_peer_as);
        if version < 4 {
            return match (
                self.as_path.as_slice(),
                self.communities.is_empty(),
                self.local_pref,
            ) {
                ([], true, 0) => put_u32s(out, &[]),
                ([seg], true, 0) if seg.kind == as_path::AS_SEQUENCE => put_u32s(out, &seg.asns),
                _ => Err(EncodeError::NotRepresentable {
                    what: "v2 gateway (segments, communities)",
                    value: 2,
                }),
            };
        }
        put_u32(out, xdr::len_u32(self.as_path.len(), "AS path segment count")?);
        for seg in &self.as_path {
            put_u32(out, seg.kind);
            put_u32s(out, &seg.asns)?;
        }
        put_u32s(out, &self.communities)?;
        put_u32(out, self.local_pref);
        Ok(())
    }
}

impl FlowData {
    /// The record's v5 tag.
    pub fn format(&self) -> DataFormat {
        match self {
            Self::RawHeader(_) => DataFormat::RAW_HEADER,
            Self::Ethernet(_) => DataFormat::ETHERNET,
            Self::Ipv4(_) => DataFormat::IPV4,
            Self::Ipv6(_) => DataFormat::IPV6,
            Self::Switch(_) => DataFormat::EXTENDED_SWITCH,
            Self::Router(_) => DataFormat::EXTENDED_ROUTER,
            Self::Gateway(_) => DataFormat::EXTENDED_GATEWAY,
            Self::User(_) => DataFormat::EXTENDED_USER,
            Self::Url(_) => DataFormat::EXTENDED_URL,
            Self::Unknown(o) => o.format,
        }
    }

    /// Appends the record as v5 writes it: tag, length, body.
    pub(super) fn write_v5(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_u32(out, self.format().0);
        xdr::put_with_len(out, |out| {
            match self {
                Self::RawHeader(h) => {
                    put_u32(out, h.protocol.0);
                    put_u32(out, h.frame_length);
                    put_u32(out, h.stripped);
                    put_opaque(out, &h.header)?;
                }
                Self::Ethernet(e) => {
                    put_u32(out, e.length);
                    for m in [e.src_mac, e.dst_mac] {
                        out.extend_from_slice(&m);
                        out.extend_from_slice(&[0, 0]);
                    }
                    put_u32(out, e.eth_type);
                }
                Self::Ipv4(x) => x.write(out),
                Self::Ipv6(x) => x.write(out),
                Self::Switch(x) => x.write(out),
                Self::Router(x) => x.write(out),
                Self::Gateway(g) => {
                    put_address(out, g.next_hop);
                    g.write_path_etc(out, 5)?;
                }
                Self::User(u) => {
                    put_u32(out, u.src_charset);
                    put_opaque(out, &u.src_user)?;
                    put_u32(out, u.dst_charset);
                    put_opaque(out, &u.dst_user)?;
                }
                Self::Url(u) => {
                    put_u32(out, u.direction);
                    put_opaque(out, &u.url)?;
                    put_opaque(out, &u.host)?;
                }
                Self::Unknown(o) => out.extend_from_slice(&o.data),
            }
            Ok(())
        })
    }

    /// Appends the record as the packet information of a v2/v4 flow sample.
    pub(super) fn write_v4_packet(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Self::RawHeader(h) if h.stripped == 0 => {
                put_u32(out, 1);
                put_u32(out, h.protocol.0);
                put_u32(out, h.frame_length);
                put_opaque(out, &h.header)
            }
            Self::Ipv4(x) => {
                put_u32(out, 2);
                x.write(out);
                Ok(())
            }
            Self::Ipv6(x) => {
                put_u32(out, 3);
                x.write(out);
                Ok(())
            }
            other => Err(EncodeError::NotRepresentable {
                what: "v2/v4 packet information",
                value: other.format().0.into(),
            }),
        }
    }

    /// Appends the record as a v2/v4 extended record.
    pub(super) fn write_v4_extended(&self, out: &mut Vec<u8>, version: u32) -> Result<(), EncodeError> {
        match self {
            Self::Switch(x) => {
                put_u32(out, 1);
                x.write(out);
            }
            Self::Router(x) => {
                put_u32(out, 2);
                x.write(out);
            }
            Self::Gateway(g) if g.next_hop.is_none() => {
                put_u32(out, 3);
                g.write_path_etc(out, version)?;
            }
            Self::User(u) if u.src_charset == 0 && u.dst_charset == 0 => {
                put_u32(out, 4);
                put_opaque(out, &u.src_user)?;
                put_opaque(out, &u.dst_user)?;
            }
            Self::Url(u) if u.host.is_empty() => {
                put_u32(out, 5);
                put_u32(out, u.direction);
                put_opaque(out, &u.url)?;
            }
            other => {
                return Err(EncodeError::NotRepresentable {
                    what: "v2/v4 extended record",
                    value: other.format().0.into(),
                });
            }
        }
        Ok(())
    }
}
