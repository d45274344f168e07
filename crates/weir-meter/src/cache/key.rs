//! What makes two packets the same flow: the key fields, chosen per cache, and the two key layouts.
//!
//! The traditional NetFlow key (input interface, addresses, ports, protocol, ToS) of an IPv4 packet fits in
//! 14 bytes ([`V4Key`]), the interfaces being the same for every packet; anything else (IPv6, or a user-defined record in the spirit of Flexible NetFlow's
//! `match` statements) uses [`WideKey`], with every field outside the key set left at zero. Two layouts
//! rather than one keeps the common IPv4 entry small: the entry's size is the cache's memory per flow.

use std::fmt;
use std::hash::{BuildHasher, Hash, RandomState};
use std::net::Ipv6Addr;

use thiserror::Error;
use weir_flow::FlowRecord;
use weir_flow::codes::proto;

use crate::packet::Packet;

/// A field that can be part of a flow key (Flexible NetFlow's `match`) or kept from the flow's first
/// packet (`collect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyField {
    /// Input interface index.
    InIf,
    /// Output interface index.
    OutIf,
    /// Source address.
    SrcAddr,
    /// Destination address.
    DstAddr,
    /// Source transport port.
    SrcPort,
    /// Destination transport port, or ICMP type and code as `type << 8 | code`, as NetFlow carries them.
    DstPort,
    /// IP protocol.
    Proto,
    /// IPv4 type of service or IPv6 traffic class.
    Tos,
    /// Outermost VLAN id.
    Vlan,
    /// Source MAC address.
    SrcMac,
    /// Destination MAC address.
    DstMac,
}

impl KeyField {
    /// Every field, in the order names are listed in messages.
    pub const ALL: [KeyField; 11] = [
        KeyField::InIf,
        KeyField::OutIf,
        KeyField::SrcAddr,
        KeyField::DstAddr,
        KeyField::SrcPort,
        KeyField::DstPort,
        KeyField::Proto,
        KeyField::Tos,
        KeyField::Vlan,
        KeyField::SrcMac,
        KeyField::DstMac,
    ];

    /// The schema's name for the field, which is also what users write in a key set.
    pub fn name(self) -> &'static str {
        match self {
            KeyField::InIf => "in_if",
            KeyField::OutIf => "out_if",
            KeyField::SrcAddr => "src_addr",
            KeyField::DstAddr => "dst_addr",
            KeyField::SrcPort => "src_port",
            KeyField::DstPort => "dst_port",
            KeyField::Proto => "proto",
            KeyField::Tos => "tos",
            KeyField::Vlan => "vlan",
            KeyField::SrcMac => "src_mac",
            KeyField::DstMac => "dst_mac",
        }
    }

    fn bit(self) -> u16 {
        1 << self as u16
    }
}

impl fmt::Display for KeyField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A key set that names no field, or a field Weir cannot key on.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum KeySetError {
    /// A name that is not a key field.
    #[error("unknown key field `{name}` (key fields: {})", KeyField::ALL.map(KeyField::name).join(", "))]
    Unknown {
        /// What was written.
        name: String,
    },
    /// No field at all: every packet would be one flow.
    #[error("a key set needs at least one field")]
    Empty,
}

/// The fields that make up a flow key, as a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeySet(u16);

impl KeySet {
    /// The key of `ip flow ingress`: input interface, source and destination address, ports, protocol, ToS.
    pub const TRADITIONAL: KeySet = KeySet(
        1 << KeyField::InIf as u16
            | 1 << KeyField::SrcAddr as u16
            | 1 << KeyField::DstAddr as u16
            | 1 << KeyField::SrcPort as u16
            | 1 << KeyField::DstPort as u16
            | 1 << KeyField::Proto as u16
            | 1 << KeyField::Tos as u16,
    );

    /// A set of the given fields.
    pub fn of(fields: &[KeyField]) -> KeySet {
        KeySet(fields.iter().fold(0, |bits, f| bits | f.bit()))
    }

    /// Parses a comma-separated list of field names (`src_addr,dst_addr,proto`), or `traditional`.
    pub fn parse(list: &str) -> Result<KeySet, KeySetError> {
        if list.trim() == "traditional" {
            return Ok(KeySet::TRADITIONAL);
        }
        let mut set = KeySet::default();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let field = KeyField::ALL
                .into_iter()
                .find(|f| f.name() == name)
                .ok_or_else(|| KeySetError::Unknown {
                    name: name.to_owned(),
                })?;
            set.0 |= field.bit();
        }
        if set.0 == 0 {
            return Err(KeySetError::Empty);
        }
        Ok(set)
    }

    /// Whether `field` is part of the key.
    #[inline]
    pub fn has(self, field: KeyField) -> bool {
        self.0 & field.bit() != 0
    }

    /// The fields, in [`KeyField::ALL`] order.
    pub fn fields(self) -> impl Iterator<Item = KeyField> {
        KeyField::ALL.into_iter().filter(move |f| self.has(*f))
    }

    /// Whether every field of the key fits the compact IPv4 layout.
    pub fn fits_v4(self) -> bool {
        self.0 & !KeySet::TRADITIONAL.0 == 0
    }
}

impl fmt::Display for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == KeySet::TRADITIONAL {
            return f.write_str("traditional");
        }
        let names: Vec<&str> = self.fields().map(KeyField::name).collect();
        f.write_str(&names.join(","))
    }
}

/// The hash of a key in the cache's index.
///
/// Each cache draws its own random seeds, so traffic made to collide cannot be aimed at the index's
/// probe chains. A key is hashed as a few 64-bit words, two at a time by one 64×64→128-bit multiply
/// folded back to 64 bits (foldhash's step), rather than through `Hasher` one field per call: the index
/// hashes every packet and every flow the ager expires.
#[derive(Debug, Clone, Copy)]
pub struct KeyHasher {
    seeds: [u64; 4],
}

impl Default for KeyHasher {
    fn default() -> Self {
        let random = RandomState::new();
        KeyHasher {
            seeds: [0u64, 1, 2, 3].map(|i| random.hash_one(i)),
        }
    }
}

#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ (p >> 64) as u64
}

impl KeyHasher {
    /// The hash of a key given as `N` words (`N` even); its high 32 bits are as well mixed as its low.
    #[inline]
    pub fn words<const N: usize>(&self, words: [u64; N]) -> u64 {
        let [s0, s1, s2, s3] = self.seeds;
        let mut h = s2;
        for pair in words.chunks_exact(2) {
            h = fold(pair[0] ^ s0 ^ h, pair[1] ^ s1);
        }
        fold(h ^ s3, s2 | 1)
    }
}

/// Zero-sized: an entry holding it starts on a cache line. The IPv4 entry is 64 bytes, so a packet of a
/// flow touches one line of memory instead of the two an entry straddling lines takes.
#[derive(Debug, Clone, Copy, Default)]
#[repr(align(64))]
pub struct LineAligned;

/// A key layout: built from a packet, written back into the flow record at expiry.
///
/// Keys hold no interfaces: the input and output interface are the probe's settings, the same for every
/// packet of a cache, so they would split no flow; records take them from the cache's settings.
pub trait CacheKey: Copy + Eq + Hash + fmt::Debug {
    /// How entries of this layout are aligned: [`LineAligned`], or `()` for none beyond their fields'.
    type Align: Copy + Default + fmt::Debug;

    /// The key of a packet, for a packet this layout can hold (see [`V4Key::fits`]).
    fn from_packet(p: &Packet, set: KeySet) -> Self;

    /// The key's hash under `hasher`.
    fn hash_with(&self, hasher: &KeyHasher) -> u64;

    /// Writes the key's fields into `rec`; fields outside the key set stay as they are.
    fn fill(&self, set: KeySet, rec: &mut FlowRecord);

    /// Protocol, source port and keyed destination port, as [`CacheKey::fill`] writes them (0 outside the
    /// key set): what the protocol table sorts an expired flow by, without making its record.
    fn l4(&self) -> (u8, u16, u16);
}

/// The traditional key of an IPv4 packet, in 14 bytes. Packed, so that with an entry's counters, times and
/// first-packet fields it makes a 64-byte entry, one cache line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C, packed)]
pub struct V4Key {
    src: u32,
    dst: u32,
    src_port: u16,
    dst_port: u16,
    proto: u8,
    tos: u8,
}

impl V4Key {
    /// Whether a packet can use the IPv4 layout under `set`.
    #[inline]
    pub fn fits(p: &Packet, set: KeySet) -> bool {
        set.fits_v4() && p.src_addr.to_ipv4_mapped().is_some() && p.dst_addr.to_ipv4_mapped().is_some()
    }
}

#[inline]
fn v4_bits(a: &Ipv6Addr) -> u32 {
    a.to_ipv4_mapped().map_or(0, u32::from)
}

#[inline]
fn pick<T: Default>(set: KeySet, field: KeyField, value: T) -> T {
    if set.has(field) { value } else { T::default() }
}

impl CacheKey for V4Key {
    type Align = LineAligned;

    #[inline]
    fn from_packet(p: &Packet, set: KeySet) -> Self {
        V4Key {
            src: pick(set, KeyField::SrcAddr, v4_bits(&p.src_addr)),
            dst: pick(set, KeyField::DstAddr, v4_bits(&p.dst_addr)),
            src_port: pick(set, KeyField::SrcPort, p.src_port),
            dst_port: pick(set, KeyField::DstPort, p.dst_port),
            proto: pick(set, KeyField::Proto, p.proto),
            tos: pick(set, KeyField::Tos, p.tos),
        }
    }

    #[inline]
    fn hash_with(&self, hasher: &KeyHasher) -> u64 {
        hasher.words([
            u64::from(self.src) << 32 | u64::from(self.dst),
            u64::from(self.src_port) << 48
                | u64::from(self.dst_port) << 32
                | u64::from(self.proto) << 8
                | u64::from(self.tos),
        ])
    }

    fn fill(&self, set: KeySet, rec: &mut FlowRecord) {
        if set.has(KeyField::SrcAddr) {
            rec.src_addr = std::net::Ipv4Addr::from(self.src).to_ipv6_mapped();
        }
        if set.has(KeyField::DstAddr) {
            rec.dst_addr = std::net::Ipv4Addr::from(self.dst).to_ipv6_mapped();
        }
        fill_l4(set, self.proto, self.src_port, self.dst_port, rec);
        if set.has(KeyField::Tos) {
            rec.tos = self.tos;
        }
    }

    #[inline]
    fn l4(&self) -> (u8, u16, u16) {
        (self.proto, self.src_port, self.dst_port)
    }
}

/// Protocol and ports back into a record, ICMP type and code out of the keyed destination port.
fn fill_l4(set: KeySet, protocol: u8, src_port: u16, dst_port: u16, rec: &mut FlowRecord) {
    if set.has(KeyField::Proto) {
        rec.proto = protocol;
    }
    if set.has(KeyField::SrcPort) {
        rec.src_port = src_port;
    }
    if set.has(KeyField::DstPort) {
        rec.dst_port = dst_port;
        if rec.proto == proto::ICMP || rec.proto == proto::ICMPV6 {
            rec.icmp_type = (dst_port >> 8) as u8;
            rec.icmp_code = dst_port as u8;
        }
    }
}

/// Any key: IPv6 addresses, VLAN and MACs included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WideKey {
    src: [u8; 16],
    dst: [u8; 16],
    src_port: u16,
    dst_port: u16,
    vlan: u16,
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    proto: u8,
    tos: u8,
}

/// A MAC (the low 48 bits of a `u64`) as its six bytes.
#[inline]
pub(super) fn mac_bytes(mac: u64) -> [u8; 6] {
    let b = mac.to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

/// Six MAC bytes back as the low 48 bits of a `u64`.
#[inline]
pub(super) fn mac_value(b: [u8; 6]) -> u64 {
    u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]])
}

impl CacheKey for WideKey {
    type Align = ();

    #[inline]
    fn from_packet(p: &Packet, set: KeySet) -> Self {
        WideKey {
            src: pick(set, KeyField::SrcAddr, p.src_addr.octets()),
            dst: pick(set, KeyField::DstAddr, p.dst_addr.octets()),
            src_port: pick(set, KeyField::SrcPort, p.src_port),
            dst_port: pick(set, KeyField::DstPort, p.dst_port),
            vlan: pick(set, KeyField::Vlan, p.vlan),
            src_mac: pick(set, KeyField::SrcMac, mac_bytes(p.src_mac)),
            dst_mac: pick(set, KeyField::DstMac, mac_bytes(p.dst_mac)),
            proto: pick(set, KeyField::Proto, p.proto),
            tos: pick(set, KeyField::Tos, p.tos),
        }
    }

    #[inline]
    fn hash_with(&self, hasher: &KeyHasher) -> u64 {
        let (src, dst) = (u128::from_be_bytes(self.src), u128::from_be_bytes(self.dst));
        hasher.words([
            (src >> 64) as u64,
            src as u64,
            (dst >> 64) as u64,
            dst as u64,
            u64::from(self.src_port) << 48
                | u64::from(self.dst_port) << 32
                | u64::from(self.vlan) << 16
                | u64::from(self.proto) << 8
                | u64::from(self.tos),
            mac_value(self.src_mac),
            mac_value(self.dst_mac),
            0,
        ])
    }

    fn fill(&self, set: KeySet, rec: &mut FlowRecord) {
        if set.has(KeyField::SrcAddr) {
            rec.src_addr = Ipv6Addr::from(self.src);
        }
        if set.has(KeyField::DstAddr) {
            rec.dst_addr = Ipv6Addr::from(self.dst);
        }
        fill_l4(set, self.proto, self.src_port, self.dst_port, rec);
        if set.has(KeyField::Tos) {
            rec.tos = self.tos;
        }
        if set.has(KeyField::Vlan) {
            rec.vlan = self.vlan;
        }
        if set.has(KeyField::SrcMac) {
            rec.src_mac = mac_value(self.src_mac);
        }
        if set.has(KeyField::DstMac) {
            rec.dst_mac = mac_value(self.dst_mac);
        }
    }

    #[inline]
    fn l4(&self) -> (u8, u16, u16) {
        (self.proto, self.src_port, self.dst_port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_flow::ipv4;
    use weir_proto::packet::Summary;

    /// The packet a record was parsed from.
    fn p(rec: &FlowRecord) -> Packet {
        Packet::new(0, rec, &Summary::default(), 0)
    }

    fn packet() -> FlowRecord {
        FlowRecord {
            src_addr: ipv4([10, 0, 0, 1]),
            dst_addr: ipv4([10, 0, 0, 2]),
            src_port: 40000,
            dst_port: 443,
            proto: proto::TCP,
            tos: 0x10,
            vlan: 7,
            src_mac: 0x0011_2233_4455,
            ..FlowRecord::default()
        }
    }

    #[test]
    fn parses_key_sets_by_field_name() {
        assert_eq!(KeySet::parse("traditional"), Ok(KeySet::TRADITIONAL));
        let set = KeySet::parse("src_addr, dst_addr,proto").unwrap();
        assert_eq!(set.to_string(), "src_addr,dst_addr,proto");
        assert!(set.fits_v4());
        assert!(!KeySet::parse("src_addr,vlan").unwrap().fits_v4());
        assert_eq!(
            KeySet::parse("src_addr,dst_adr"),
            Err(KeySetError::Unknown {
                name: "dst_adr".into()
            })
        );
        assert_eq!(KeySet::parse(" , "), Err(KeySetError::Empty));
        let message = KeySet::parse("colour").unwrap_err().to_string();
        assert!(
            message.contains("unknown key field `colour`") && message.contains("dst_mac"),
            "{message}"
        );
    }

    #[test]
    fn fields_outside_the_key_set_do_not_split_flows() {
        let set = KeySet::parse("src_addr,dst_addr").unwrap();
        let a = packet();
        let b = FlowRecord {
            src_port: 1,
            tos: 0,
            ..packet()
        };
        assert_eq!(V4Key::from_packet(&p(&a), set), V4Key::from_packet(&p(&b), set));
        assert_eq!(
            WideKey::from_packet(&p(&a), set),
            WideKey::from_packet(&p(&b), set)
        );
        let c = FlowRecord {
            dst_addr: ipv4([10, 0, 0, 3]),
            ..packet()
        };
        assert_ne!(V4Key::from_packet(&p(&a), set), V4Key::from_packet(&p(&c), set));
    }

    #[test]
    fn traditional_key_splits_on_each_of_its_fields() {
        let set = KeySet::TRADITIONAL;
        let base = V4Key::from_packet(&p(&packet()), set);
        let variants = [
            FlowRecord {
                src_addr: ipv4([10, 0, 0, 9]),
                ..packet()
            },
            FlowRecord {
                dst_addr: ipv4([10, 0, 0, 9]),
                ..packet()
            },
            FlowRecord {
                src_port: 9,
                ..packet()
            },
            FlowRecord {
                dst_port: 9,
                ..packet()
            },
            FlowRecord {
                proto: proto::UDP,
                ..packet()
            },
            FlowRecord { tos: 0, ..packet() },
        ];
        for v in &variants {
            assert_ne!(V4Key::from_packet(&p(v), set), base, "{v:?}");
        }
        // VLAN and MACs are not in the traditional key.
        let other_vlan = FlowRecord {
            vlan: 8,
            src_mac: 1,
            ..packet()
        };
        assert_eq!(V4Key::from_packet(&p(&other_vlan), set), base);
    }

    #[test]
    fn icmp_type_and_code_take_the_destination_port() {
        let echo = FlowRecord {
            proto: proto::ICMP,
            icmp_type: 8,
            icmp_code: 0,
            src_port: 0,
            dst_port: 0,
            ..packet()
        };
        let key = V4Key::from_packet(&p(&echo), KeySet::TRADITIONAL);
        let mut out = FlowRecord::default();
        key.fill(KeySet::TRADITIONAL, &mut out);
        assert_eq!((out.dst_port, out.icmp_type, out.icmp_code), (0x0800, 8, 0));
        let reply = FlowRecord { icmp_type: 0, ..echo };
        assert_ne!(V4Key::from_packet(&p(&reply), KeySet::TRADITIONAL), key);
    }

    #[test]
    fn keys_write_back_what_they_hold() {
        let set = KeySet::parse("src_addr,dst_addr,src_port,dst_port,proto,vlan,src_mac,out_if").unwrap();
        let v6 = FlowRecord {
            src_addr: "2001:db8::1".parse().unwrap(),
            dst_addr: "2001:db8::2".parse().unwrap(),
            ..packet()
        };
        let key = WideKey::from_packet(&p(&v6), set);
        let mut out = FlowRecord::default();
        key.fill(set, &mut out);
        assert_eq!(
            (out.src_addr, out.dst_addr, out.src_port, out.dst_port, out.proto),
            (v6.src_addr, v6.dst_addr, 40000, 443, proto::TCP)
        );
        assert_eq!((out.vlan, out.src_mac, out.tos), (7, 0x0011_2233_4455, 0));

        let v4 = V4Key::from_packet(&p(&packet()), KeySet::TRADITIONAL);
        let mut out = FlowRecord::default();
        v4.fill(KeySet::TRADITIONAL, &mut out);
        assert_eq!(
            (out.src_addr, out.dst_addr, out.tos),
            (packet().src_addr, packet().dst_addr, 0x10)
        );
    }

    #[test]
    fn only_ipv4_packets_under_a_v4_key_set_fit_the_compact_layout() {
        assert!(V4Key::fits(&p(&packet()), KeySet::TRADITIONAL));
        let v6 = FlowRecord {
            src_addr: "2001:db8::1".parse().unwrap(),
            ..packet()
        };
        assert!(!V4Key::fits(&p(&v6), KeySet::TRADITIONAL));
        assert!(!V4Key::fits(&p(&packet()), KeySet::of(&[KeyField::SrcMac])));
        assert_eq!(size_of::<V4Key>(), 14);
    }
}
