//! NetFlow v8, router-based aggregation: a 28-byte header naming the aggregation scheme, then records of
//! that scheme's layout (see [`v8_schemes`](super::v8_schemes)).
//!
//! A router keeps one export sequence per aggregation cache, so each scheme of an engine is its own domain
//! (`scheme << 16 | engine_type << 8 | engine_id`) for sequence tracking and counters; the flows'
//! `observation_domain` is the engine pair (`engine_type << 8 | engine_id`), as for v5.

use std::fmt;

use weir_flow::{FlowBatch, FlowRecord};

use super::clock::ExportClock;
use super::encode::{Datagrams, pack};
use super::error::{EncodeError, count_field};
use super::flow;
use super::layout::{Record, check_count, check_rest, push_flows, read_records};
use super::v8_schemes::{
    AsAggregate, AsTosAggregate, DestOnlyFlow, DstPrefixAggregate, DstPrefixTosAggregate, FullFlow,
    PrefixAggregate, PrefixPortAggregate, PrefixTosAggregate, ProtoPortAggregate, ProtoPortTosAggregate,
    SrcDstFlow, SrcPrefixAggregate, SrcPrefixTosAggregate,
};
use super::wire::{Wire, fixed_layout};
use crate::decoder::Cx;
use crate::error::DecodeError;
use crate::reader::Reader;
use crate::stats::Dialect;

/// The version field.
const VERSION: u16 = 8;

/// Offset of the aggregation scheme in the datagram.
const AGGREGATION_OFFSET: usize = 22;

/// Offset of the engine fields, which name the domain.
const ENGINE_OFFSET: usize = 20;

/// A v8 aggregation scheme number. Open: unknown numbers survive reading the header and print in hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Aggregation(pub u8);

impl Wire for Aggregation {
    const LEN: usize = 1;

    #[inline]
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u8().map(Self)
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.push(self.0);
    }
}

impl fmt::Display for Aggregation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{:#04x}", self.0),
        }
    }
}

fixed_layout! {
    /// The v8 header after the version and count.
    pub struct V8Header {
        /// Uptime and wall-clock time at export.
        clock: ExportClock,
        /// Records this aggregation cache exported before this datagram's first, modulo 2^32.
        flow_sequence: u32,
        /// Type of the flow-switching engine.
        engine_type: u8,
        /// Slot number of the flow-switching engine.
        engine_id: u8,
        /// The aggregation scheme, which fixes the record layout.
        aggregation: Aggregation,
        /// Version of the scheme's layout (2 for every scheme Cisco documents).
        agg_version: u8,
        /// Reserved (zero).
        reserved: u32,
    }
}

impl V8Header {
    /// The flows' observation domain: `engine_type << 8 | engine_id`.
    pub fn observation_domain(&self) -> u32 {
        u32::from(self.engine_type) << 8 | u32::from(self.engine_id)
    }

    /// The accounting domain: the engine pair with the scheme in bits 16 to 23, since each aggregation
    /// cache numbers its exports on its own.
    pub fn domain(&self) -> u32 {
        u32::from(self.aggregation.0) << 16 | self.observation_domain()
    }
}

/// Lists the schemes once and derives from the list: the scheme constants, the record layout of each, and
/// the dispatch from a scheme number to code generic over its record type.
macro_rules! schemes {
    ($( $(#[doc = $doc:literal])+ $konst:ident = $value:literal, $name:literal => $variant:ident($record:ty), )+) => {
        impl Aggregation {
            $( $(#[doc = $doc])+ pub const $konst: Self = Self($value); )+

            /// Every scheme with a known layout, in number order.
            pub const ALL: &'static [Aggregation] = &[$(Self::$konst),+];

            /// The scheme's name, if it is known.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $( Self::$konst => Some($name), )+
                    _ => None,
                }
            }

            /// Bytes per record, if the scheme is known.
            pub fn record_len(self) -> Option<usize> {
                match self {
                    $( Self::$konst => Some(<$record as Wire>::LEN), )+
                    _ => None,
                }
            }

            /// The most records one datagram carries, as Cisco documents it, if the scheme is known.
            pub fn max_per_datagram(self) -> Option<usize> {
                match self {
                    $( Self::$konst => Some(<$record as Record>::MAX_PER_DATAGRAM), )+
                    _ => None,
                }
            }
        }

        /// The records of one v8 datagram, all of its scheme.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum V8Records {
            $( $(#[doc = $doc])+ $variant(Vec<$record>), )+
        }

        impl V8Records {
            /// The scheme of the records.
            pub fn aggregation(&self) -> Aggregation {
                match self {
                    $( Self::$variant(_) => Aggregation::$konst, )+
                }
            }

            /// How many records there are.
            pub fn len(&self) -> usize {
                match self {
                    $( Self::$variant(v) => v.len(), )+
                }
            }

            /// Whether there are none.
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            fn read(r: &mut Reader<'_>, aggregation: Aggregation, count: u16) -> Result<Self, DecodeError> {
                match aggregation {
                    $( Aggregation::$konst => Ok(Self::$variant(read_records(r, count)?)), )+
                    Aggregation(other) => Err(unknown_aggregation(other)),
                }
            }

            fn write(&self, out: &mut Vec<u8>) {
                match self {
                    $( Self::$variant(v) => v.iter().for_each(|rec| rec.write(out)), )+
                }
            }
        }

        /// Decodes `count` records of `aggregation` into `out`.
        fn push_scheme(
            aggregation: Aggregation,
            r: &mut Reader<'_>,
            count: u16,
            common: &FlowRecord,
            clock: &ExportClock,
            out: &mut FlowBatch,
        ) -> Result<(), DecodeError> {
            match aggregation {
                $( Aggregation::$konst => push_flows::<$record>(r, count, common, clock, out), )+
                Aggregation(other) => Err(unknown_aggregation(other)),
            }
        }

        /// Builds datagrams of `header`'s scheme from flows.
        fn pack_scheme(header: &V8Header, flows: &[FlowRecord]) -> Result<Datagrams, EncodeError> {
            match header.aggregation {
                $( Aggregation::$konst => Ok(pack::<$record>(flows, header.clock, header.flow_sequence, |out, count, seq| {
                    write_header(&V8Header { flow_sequence: seq, ..*header }, count, out)
                })), )+
                Aggregation(other) => Err(EncodeError::UnknownAggregation(other)),
            }
        }
    };
}

schemes! {
    /// Scheme 1: source and destination AS, input and output interface.
    AS = 1, "as" => As(AsAggregate),
    /// Scheme 2: protocol and ports.
    PROTO_PORT = 2, "proto-port" => ProtoPort(ProtoPortAggregate),
    /// Scheme 3: source prefix, source AS, input interface.
    SRC_PREFIX = 3, "source-prefix" => SrcPrefix(SrcPrefixAggregate),
    /// Scheme 4: destination prefix, destination AS, output interface.
    DST_PREFIX = 4, "destination-prefix" => DstPrefix(DstPrefixAggregate),
    /// Scheme 5: source and destination prefixes, AS and interfaces.
    PREFIX = 5, "prefix" => Prefix(PrefixAggregate),
    /// Scheme 6: Catalyst flows under a destination-only flow mask.
    DESTINATION_ONLY = 6, "destination-only" => DestinationOnly(DestOnlyFlow),
    /// Scheme 7: Catalyst flows under a source-destination flow mask.
    SOURCE_DESTINATION = 7, "source-destination" => SourceDestination(SrcDstFlow),
    /// Scheme 8: Catalyst flows under a full flow mask.
    FULL_FLOW = 8, "full-flow" => FullFlow(FullFlow),
    /// Scheme 9: AS with type of service.
    AS_TOS = 9, "as-tos" => AsTos(AsTosAggregate),
    /// Scheme 10: protocol and ports with type of service and interfaces.
    PROTO_PORT_TOS = 10, "proto-port-tos" => ProtoPortTos(ProtoPortTosAggregate),
    /// Scheme 11: source prefix with type of service.
    SRC_PREFIX_TOS = 11, "source-prefix-tos" => SrcPrefixTos(SrcPrefixTosAggregate),
    /// Scheme 12: destination prefix with type of service.
    DST_PREFIX_TOS = 12, "destination-prefix-tos" => DstPrefixTos(DstPrefixTosAggregate),
    /// Scheme 13: prefixes with type of service.
    PREFIX_TOS = 13, "prefix-tos" => PrefixTos(PrefixTosAggregate),
    /// Scheme 14: prefixes, protocol and ports with type of service.
    PREFIX_PORT = 14, "prefix-port" => PrefixPort(PrefixPortAggregate),
}

fn unknown_aggregation(value: u8) -> DecodeError {
    DecodeError::BadValue {
        offset: AGGREGATION_OFFSET,
        what: "v8 aggregation",
        value: u64::from(value),
    }
}

/// One NetFlow v8 datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V8Packet {
    /// The header; its `aggregation` must be the records' scheme.
    pub header: V8Header,
    /// The records, at least one.
    pub records: V8Records,
}

impl V8Packet {
    /// Bytes before the first record: version, count and header.
    pub const HEADER_LEN: usize = 4 + <V8Header as Wire>::LEN;

    /// Reads a datagram's header and the records its count announces, leaving the reader after the last
    /// record (bytes after it are the caller's to judge).
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let (header, count, _) = read_header(r)?;
        Ok(Self {
            header,
            records: V8Records::read(r, header.aggregation, count)?,
        })
    }

    /// Appends the datagram.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let scheme = self.records.aggregation();
        if scheme != self.header.aggregation {
            return Err(EncodeError::AggregationMismatch {
                header: self.header.aggregation.0,
                records: scheme.0,
            });
        }
        write_header(&self.header, count_field(self.records.len())?, out);
        self.records.write(out);
        Ok(())
    }
}

/// Appends version, count and header.
fn write_header(header: &V8Header, count: u16, out: &mut Vec<u8>) {
    VERSION.write(out);
    count.write(out);
    header.write(out);
}

/// Reads version, count and header; checks the version, the scheme and the count. Returns the header, the
/// count and the scheme's record length.
fn read_header(r: &mut Reader<'_>) -> Result<(V8Header, u16, usize), DecodeError> {
    let offset = r.offset();
    let version = r.u16()?;
    if version != VERSION {
        return Err(DecodeError::BadValue {
            offset,
            what: "version",
            value: u64::from(version),
        });
    }
    let count = r.u16()?;
    let header = V8Header::read(r)?;
    let Some(len) = header.aggregation.record_len() else {
        return Err(unknown_aggregation(header.aggregation.0));
    };
    check_count(r, count, len)?;
    Ok((header, count, len))
}

/// NetFlow v8 datagrams of `header`'s scheme for `flows`, at most the scheme's maximum records each,
/// numbered from `header.flow_sequence`. The flows must already be aggregates of the scheme (see
/// [`v8_schemes`](super::v8_schemes)); IPv6 flows are skipped.
pub fn v8_datagrams(header: &V8Header, flows: &[FlowRecord]) -> Result<Datagrams, EncodeError> {
    pack_scheme(header, flows)
}

/// Decodes one datagram into `out`, with accounting on the domain its header names. The header is checked
/// in full (version, scheme, count) before the domain is looked up.
pub(crate) fn decode(cx: &mut Cx<'_>, datagram: &[u8], out: &mut FlowBatch) -> Result<(), DecodeError> {
    let mut r = Reader::new(datagram);
    let (header, count, record_len) = read_header(&mut r)?;
    let common = flow::common(cx, header.observation_domain(), 1);
    let dom = cx.domain(Dialect::NetflowV8, header.domain(), ENGINE_OFFSET)?;
    dom.seq.observe(
        header.flow_sequence,
        u32::from(count),
        Some(header.clock.sys_uptime),
        &mut dom.counters,
    );
    let before = out.len();
    let pushed = push_scheme(header.aggregation, &mut r, count, &common, &header.clock, out);
    dom.counters.records += (out.len() - before) as u64;
    pushed?;
    check_rest(&r, record_len)
}
