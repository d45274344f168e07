//! The flow schema: one table of columns that every part of Weir reads.
//!
//! The table is written once, in [`schema!`] below, and expands into
//! - [`COLUMNS`], the schema as data (name, kind, origin, whether it is a dimension, whether rollups keep it),
//! - [`Field`], the column's index as a name the compiler checks,
//! - [`FlowRecord`], one row on the stack that decoders fill, and
//! - [`FlowBatch`](crate::FlowBatch)'s columns, one `Vec` per field.
//!
//! Adding a column here adds it to decoders' output, NDJSON, and everything built on `COLUMNS`.

use std::net::Ipv6Addr;

use crate::batch::{Blob, ListRef, Sym};

/// How a column's values are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Nanoseconds since the Unix epoch, `u64`; 0 means unknown.
    Time,
    /// Unsigned 8-bit integer.
    U8,
    /// Unsigned 16-bit integer.
    U16,
    /// Unsigned 32-bit integer.
    U32,
    /// Unsigned 64-bit integer.
    U64,
    /// IPv4 or IPv6 address in one 16-byte type; IPv4 is stored IPv4-mapped (`::ffff:a.b.c.d`).
    Ip,
    /// MAC address in the low 48 bits of a `u64`.
    Mac,
    /// A string interned in the batch's dictionary ([`Sym`]); the empty string is `Sym(0)`.
    Str,
    /// A list of `u32` (AS path, communities) in the batch's list pool ([`ListRef`]).
    U32List,
    /// Opaque bytes in the batch's blob pool ([`Blob`]).
    Bytes,
}

/// Where a column's values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Set by the collector itself (receive time, exporter address).
    Collector,
    /// Carried in the export datagram.
    Export,
    /// Added by enrichment after decoding (names, countries, applications).
    Enrichment,
}

/// One column of the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The name users type, snake_case; also the NDJSON key and the stored column name.
    pub name: &'static str,
    /// Storage kind.
    pub kind: Kind,
    /// Where the values come from.
    pub origin: Origin,
    /// A dimension can be grouped by (top-N, series split); metrics and times are not dimensions.
    pub dimension: bool,
    /// Rollup tables keep this column (it is low-cardinality enough to aggregate on).
    pub rollup: bool,
    /// What the column holds, for `weir` help, the API and the UI.
    pub doc: &'static str,
}

impl Column {
    /// Finds a column by name.
    pub fn by_name(name: &str) -> Option<&'static Column> {
        COLUMNS.iter().find(|c| c.name == name)
    }
}

/// Maps a [`Kind`] to the Rust type that holds one value of it.
macro_rules! rust_type {
    (Time) => {
        u64
    };
    (U8) => {
        u8
    };
    (U16) => {
        u16
    };
    (U32) => {
        u32
    };
    (U64) => {
        u64
    };
    (Ip) => {
        Ipv6Addr
    };
    (Mac) => {
        u64
    };
    (Str) => {
        Sym
    };
    (U32List) => {
        ListRef
    };
    (Bytes) => {
        Blob
    };
}

/// The zero value of a [`Kind`]: what a column holds when the export did not say.
macro_rules! zero_of {
    (Ip) => {
        Ipv6Addr::UNSPECIFIED
    };
    (Str) => {
        Sym::EMPTY
    };
    (U32List) => {
        ListRef::EMPTY
    };
    (Bytes) => {
        Blob::EMPTY
    };
    ($other:ident) => {
        0
    };
}

/// Whether `$want` is among the flags that follow the semicolon.
macro_rules! has_flag {
    ($want:ident;) => { false };
    (dim; dim $($rest:ident)*) => { true };
    (rollup; rollup $($rest:ident)*) => { true };
    ($want:ident; $other:ident $($rest:ident)*) => { has_flag!($want; $($rest)*) };
}

/// A borrowed view of one column of a [`FlowBatch`](crate::FlowBatch), for code that walks [`COLUMNS`].
#[derive(Debug, Clone, Copy)]
pub enum ColumnRef<'a> {
    /// [`Kind::Time`] values.
    Time(&'a [u64]),
    /// [`Kind::U8`] values.
    U8(&'a [u8]),
    /// [`Kind::U16`] values.
    U16(&'a [u16]),
    /// [`Kind::U32`] values.
    U32(&'a [u32]),
    /// [`Kind::U64`] values.
    U64(&'a [u64]),
    /// [`Kind::Ip`] values.
    Ip(&'a [Ipv6Addr]),
    /// [`Kind::Mac`] values.
    Mac(&'a [u64]),
    /// [`Kind::Str`] values; resolve with [`FlowBatch::str`](crate::FlowBatch::str).
    Str(&'a [Sym]),
    /// [`Kind::U32List`] values; resolve with [`FlowBatch::list`](crate::FlowBatch::list).
    U32List(&'a [ListRef]),
    /// [`Kind::Bytes`] values; resolve with [`FlowBatch::blob`](crate::FlowBatch::blob).
    Bytes(&'a [Blob]),
}

macro_rules! schema {
    ($(
        $(#[doc = $doc:literal])+
        $name:ident: $kind:ident, $origin:ident $(, $flag:ident)*;
    )+) => {
        /// Every column, in schema order.
        pub const COLUMNS: &[Column] = &[$(
            Column {
                name: stringify!($name),
                kind: Kind::$kind,
                origin: Origin::$origin,
                dimension: has_flag!(dim; $($flag)*),
                rollup: has_flag!(rollup; $($flag)*),
                doc: concat!($($doc),+),
            },
        )+];

        /// A column's position in [`COLUMNS`], named as users type it.
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(usize)]
        pub enum Field {
            $($(#[doc = $doc])+ $name,)+
        }

        /// Every field, in schema order (the same order as [`COLUMNS`]).
        pub const FIELDS: &[Field] = &[$(Field::$name,)+];

        impl Field {
            /// The column this field names.
            pub fn column(self) -> &'static Column {
                &COLUMNS[self as usize]
            }
        }

        /// One flow on the stack: decoders fill it and push it into a [`FlowBatch`](crate::FlowBatch).
        ///
        /// Strings, lists and bytes are handles into the batch's pools, so the record stays `Copy`
        /// and no heap object is made per flow.
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct FlowRecord {
            $($(#[doc = $doc])+ pub $name: rust_type!($kind),)+
        }

        impl Default for FlowRecord {
            fn default() -> Self {
                Self { $($name: zero_of!($kind),)+ }
            }
        }

        /// The columns of a [`FlowBatch`](crate::FlowBatch): one vector per schema field, all the same length.
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct Columns {
            $($(#[doc = $doc])+ pub $name: Vec<rust_type!($kind)>,)+
        }

        impl Columns {
            pub(crate) fn push(&mut self, r: &FlowRecord) {
                $(self.$name.push(r.$name);)+
            }

            pub(crate) fn extend(&mut self, rs: &[FlowRecord]) {
                $(self.$name.extend(rs.iter().map(|r| r.$name));)+
            }

            pub(crate) fn extend_repeat(&mut self, r: &FlowRecord, n: usize) {
                $(self.$name.extend(std::iter::repeat_n(r.$name, n));)+
            }

            pub(crate) fn clear(&mut self) {
                $(self.$name.clear();)+
            }

            pub(crate) fn reserve(&mut self, additional: usize) {
                $(self.$name.reserve(additional);)+
            }

            pub(crate) fn truncate(&mut self, len: usize) {
                $(self.$name.truncate(len);)+
            }

            /// The row at `i`, copied out; `None` past the end.
            pub fn row(&self, i: usize) -> Option<FlowRecord> {
                if i >= self.time_received.len() {
                    return None;
                }
                Some(FlowRecord { $($name: self.$name[i],)+ })
            }

            /// A view of the column at `field`.
            pub fn get(&self, field: Field) -> ColumnRef<'_> {
                match field {
                    $(Field::$name => ColumnRef::$kind(&self.$name),)+
                }
            }
        }
    };
}

schema! {
    /// When the collector received the datagram that carried the flow.
    time_received: Time, Collector, rollup;
    /// First packet of the flow, as the exporter saw it.
    flow_start: Time, Export;
    /// Last packet of the flow, as the exporter saw it.
    flow_end: Time, Export;
    /// Address the export datagram came from.
    exporter_addr: Ip, Collector, dim, rollup;
    /// The exporter's configured or discovered name.
    exporter_name: Str, Enrichment, dim, rollup;
    /// NetFlow v9 source id, IPFIX observation domain, or sFlow sub-agent id.
    observation_domain: U32, Export, dim, rollup;
    /// One packet in this many was sampled; 1 when unsampled. Counters are stored as received.
    sampling_rate: U32, Export, dim, rollup;
    /// Input interface index (SNMP ifIndex).
    in_if: U32, Export, dim, rollup;
    /// Output interface index (SNMP ifIndex); 0 when the packet was dropped or the exporter did not say.
    out_if: U32, Export, dim, rollup;
    /// Input interface name.
    in_if_name: Str, Enrichment, dim, rollup;
    /// Output interface name.
    out_if_name: Str, Enrichment, dim, rollup;
    /// Input interface speed in bits per second.
    in_if_speed: U64, Enrichment, dim, rollup;
    /// Output interface speed in bits per second.
    out_if_speed: U64, Enrichment, dim, rollup;
    /// Input interface boundary: 0 undefined, 1 external, 2 internal.
    in_if_boundary: U8, Enrichment, dim, rollup;
    /// Output interface boundary: 0 undefined, 1 external, 2 internal.
    out_if_boundary: U8, Enrichment, dim, rollup;
    /// Direction at the observation point: 0 unknown, 1 ingress, 2 egress.
    flow_direction: U8, Export, dim, rollup;
    /// IPFIX forwardingStatus (IE 89): top two bits 1 forwarded, 2 dropped, 3 consumed; low six a reason.
    forwarding_status: U8, Export, dim, rollup;
    /// EtherType of the flow's network layer: 0x0800 IPv4, 0x86dd IPv6.
    etype: U16, Export, dim, rollup;
    /// IP protocol number.
    proto: U8, Export, dim, rollup;
    /// Source address.
    src_addr: Ip, Export, dim;
    /// Destination address.
    dst_addr: Ip, Export, dim;
    /// Source transport port.
    src_port: U16, Export, dim;
    /// Destination transport port.
    dst_port: U16, Export, dim;
    /// Source prefix length from the exporter's routing table.
    src_mask: U8, Export, dim;
    /// Destination prefix length from the exporter's routing table.
    dst_mask: U8, Export, dim;
    /// IPv4 type of service or IPv6 traffic class.
    tos: U8, Export, dim, rollup;
    /// TCP flags OR-ed over the flow's packets.
    tcp_flags: U16, Export, dim;
    /// ICMP or ICMPv6 type.
    icmp_type: U8, Export, dim;
    /// ICMP or ICMPv6 code.
    icmp_code: U8, Export, dim;
    /// VLAN id (802.1Q).
    vlan: U16, Export, dim, rollup;
    /// Source MAC address.
    src_mac: Mac, Export, dim;
    /// Destination MAC address.
    dst_mac: Mac, Export, dim;
    /// IP next hop.
    next_hop: Ip, Export, dim;
    /// BGP next hop.
    bgp_next_hop: Ip, Export, dim;
    /// Source autonomous system.
    src_as: U32, Export, dim, rollup;
    /// Destination autonomous system.
    dst_as: U32, Export, dim, rollup;
    /// AS path towards the destination.
    dst_as_path: U32List, Export;
    /// BGP standard communities of the destination route.
    dst_communities: U32List, Export;
    /// Source country, ISO 3166 alpha-2.
    src_country: Str, Enrichment, dim, rollup;
    /// Destination country, ISO 3166 alpha-2.
    dst_country: Str, Enrichment, dim, rollup;
    /// Source AS name.
    src_as_name: Str, Enrichment, dim, rollup;
    /// Destination AS name.
    dst_as_name: Str, Enrichment, dim, rollup;
    /// Source DNS name.
    src_domain: Str, Enrichment, dim;
    /// Destination DNS name.
    dst_domain: Str, Enrichment, dim;
    /// Application name.
    app: Str, Enrichment, dim, rollup;
    /// Threat list entry the flow matched.
    threat: Str, Enrichment, dim, rollup;
    /// IPFIX flowEndReason (IE 136): 1 idle timeout, 2 active timeout, 3 end of flow, 4 forced end, 5 lack of resources.
    flow_end_reason: U8, Export, dim, rollup;
    /// Bytes (layer 3), as counted by the exporter before sampling is scaled in.
    bytes: U64, Export;
    /// Packets, as counted by the exporter before sampling is scaled in.
    packets: U64, Export;
    /// Flows this record stands for: 1 for a flow record, more for an aggregate (NetFlow v8, IPFIX deltaFlowCount).
    flows: U64, Export;
    /// Information elements Weir has no column for, kept by enterprise number and id (see [`crate::extra`]).
    extra_fields: Bytes, Export;
}
