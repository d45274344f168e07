//! What one export stream sends and how, checked before the first flow: a config the exporter accepts
//! always fits its datagrams in the MTU and says only what its format can carry.

use thiserror::Error;
use weir_flow::Field;
use weir_proto::netflow::Aggregation;
use weir_proto::template::export::ExportError;

use crate::sampling::Sampling;

const SECOND: u64 = 1_000_000_000;

/// The export format of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// NetFlow v5: the main cache's IPv4 flows, 30 records per datagram at most.
    V5,
    /// NetFlow v8: the records of one router-based aggregation scheme (an aggregation cache's flows).
    V8(Aggregation),
    /// NetFlow v9 (RFC 3954), with an IPv4 and an IPv6 template.
    V9,
    /// IPFIX (RFC 7011) over UDP, with an IPv4 and an IPv6 template.
    Ipfix,
}

impl ExportFormat {
    /// Whether records are described by templates (v9, IPFIX) rather than laid out by the version.
    pub fn has_templates(self) -> bool {
        matches!(self, ExportFormat::V9 | ExportFormat::Ipfix)
    }
}

/// The IP version datagrams travel over: the MTU must also hold its header (20 or 40 bytes) and UDP's (8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// IPv4 and UDP headers, 28 bytes.
    #[default]
    Ipv4,
    /// IPv6 and UDP headers, 48 bytes.
    Ipv6,
}

impl Transport {
    /// Bytes of IP and UDP header in each packet.
    pub fn overhead(self) -> usize {
        match self {
            Transport::Ipv4 => 20 + 8,
            Transport::Ipv6 => 40 + 8,
        }
    }
}

/// When templates (and the sampling options) are sent again, besides in the first datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateRefresh {
    /// After this many datagrams (Cisco `template refresh-rate`, default 20 for v9); `None`: by time only.
    pub packets: Option<u32>,
    /// After this long, nanoseconds of the packets' clock (Cisco `template timeout-rate`, 30 min for v9;
    /// RFC 6728's templateRefreshTimeout, 600 s for IPFIX over UDP, as Juniper sends).
    pub interval_ns: u64,
}

impl TemplateRefresh {
    /// NetFlow v9 as Cisco IOS sends it: every 20 packets and every 30 minutes.
    pub const V9: TemplateRefresh = TemplateRefresh {
        packets: Some(20),
        interval_ns: 1800 * SECOND,
    };

    /// IPFIX over UDP: every 600 s (RFC 7011 section 8.4 asks for a periodic resend; RFC 6728 gives the
    /// default). A collector then keeps templates for three times that (templateLifeTime, 1800 s).
    pub const IPFIX: TemplateRefresh = TemplateRefresh {
        packets: None,
        interval_ns: 600 * SECOND,
    };
}

/// The schema fields v9 and IPFIX streams export unless told otherwise: what a v5 record carries, plus the
/// direction and why the flow ended.
pub const DEFAULT_FIELDS: &[Field] = &[
    Field::flow_start,
    Field::flow_end,
    Field::in_if,
    Field::out_if,
    Field::flow_direction,
    Field::src_addr,
    Field::dst_addr,
    Field::next_hop,
    Field::src_port,
    Field::dst_port,
    Field::proto,
    Field::tos,
    Field::tcp_flags,
    Field::icmp_type,
    Field::icmp_code,
    Field::src_mask,
    Field::dst_mask,
    Field::src_as,
    Field::dst_as,
    Field::flow_end_reason,
    Field::bytes,
    Field::packets,
];

/// Settings of one export stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportConfig {
    /// The format.
    pub format: ExportFormat,
    /// NetFlow v5/v8 header: type of the flow-switching engine (0 route processor, 1 line card).
    pub engine_type: u8,
    /// NetFlow v5/v8 header: slot number of the flow-switching engine.
    pub engine_id: u8,
    /// NetFlow v9 source id / IPFIX observation domain id. Sequence numbers are kept per stream, so two
    /// streams to one collector need different ids (routers number each cache's export on its own too).
    pub domain: u32,
    /// v9/IPFIX: the schema fields each record carries, in order; `None` for [`DEFAULT_FIELDS`]. Each maps
    /// to the information element of the flow's IP version (addresses 8/12 or 27/28, next hops 15/62,
    /// masks 9/13 or 29/30). v5 and v8 have fixed layouts and take no list.
    pub fields: Option<Vec<Field>>,
    /// The sampling the flows went through, announced to collectors (v5 header, v9/IPFIX options record
    /// and a sampler id in each record). The exporter does not sample: the meter has.
    pub sampling: Sampling,
    /// v9/IPFIX: when templates are sent again.
    pub refresh: TemplateRefresh,
    /// Largest IP packet, bytes (default 1500): headers, templates and records of a datagram fit in it.
    pub mtu: usize,
    /// The IP version datagrams are sent over.
    pub transport: Transport,
    /// Longest a record waits for more to fill its datagram, nanoseconds of the packets' clock (default
    /// 1 s); 0 sends every call's records at once.
    pub max_hold_ns: u64,
    /// v9/IPFIX: interface names (ifIndex, name) announced in options data with the templates, as routers
    /// send their interface table, so that collectors can name the interfaces of the records. Default:
    /// none.
    pub interface_names: Vec<(u32, String)>,
}

impl ExportConfig {
    /// The defaults for `format`: engine 0/0, domain 0, default fields, unsampled, the format's template
    /// refresh, MTU 1500 over IPv4, 1 s hold, no interface names.
    pub fn new(format: ExportFormat) -> Self {
        ExportConfig {
            format,
            engine_type: 0,
            engine_id: 0,
            domain: 0,
            fields: None,
            sampling: Sampling::Off,
            refresh: match format {
                ExportFormat::Ipfix => TemplateRefresh::IPFIX,
                _ => TemplateRefresh::V9,
            },
            mtu: 1500,
            transport: Transport::Ipv4,
            max_hold_ns: SECOND,
            interface_names: Vec::new(),
        }
    }

    /// The schema fields of v9/IPFIX records.
    pub fn fields(&self) -> &[Field] {
        self.fields.as_deref().unwrap_or(DEFAULT_FIELDS)
    }

    /// The largest UDP payload the MTU leaves.
    pub(crate) fn max_payload(&self) -> usize {
        self.mtu
            .saturating_sub(self.transport.overhead())
            .min(MAX_UDP_PAYLOAD)
    }

    /// Checks what does not depend on the layout of records (that is checked when templates are built).
    pub(crate) fn check(&self) -> Result<(), ExportConfigError> {
        let templates = self.format.has_templates();
        if let ExportFormat::V8(a) = self.format
            && a.record_len().is_none()
        {
            return Err(ExportConfigError::UnknownAggregation(a.0));
        }
        if !templates && self.fields.is_some() {
            return Err(ExportConfigError::FieldsWithFixedLayout);
        }
        if !templates && !self.interface_names.is_empty() {
            return Err(ExportConfigError::InterfaceNamesWithFixedLayout);
        }
        if templates && (self.engine_type, self.engine_id) != (0, 0) {
            return Err(ExportConfigError::EngineWithTemplates);
        }
        if !templates && self.domain != 0 {
            return Err(ExportConfigError::DomainWithoutTemplates(self.domain));
        }
        match (self.format, self.sampling) {
            (_, Sampling::Deterministic(0) | Sampling::Random { n: 0, .. }) => {
                return Err(ExportConfigError::ZeroSamplingInterval);
            }
            (ExportFormat::V5, s) if s.rate() > MAX_V5_INTERVAL => {
                return Err(ExportConfigError::V5SamplingInterval(s.rate()));
            }
            (ExportFormat::V8(_), s) if s != Sampling::Off => return Err(ExportConfigError::V8Sampling),
            _ => {}
        }
        if templates {
            if self.refresh.packets == Some(0) {
                return Err(ExportConfigError::ZeroRefreshPackets);
            }
            if self.refresh.interval_ns == 0 {
                return Err(ExportConfigError::ZeroRefreshInterval);
            }
        }
        if self.mtu > MAX_MTU {
            return Err(ExportConfigError::MtuTooLarge(self.mtu));
        }
        Ok(())
    }
}

/// The largest value v5's 14-bit sampling interval holds.
const MAX_V5_INTERVAL: u32 = 0x3fff;

/// The largest IP packet (IPv4's total length, IPv6's payload length without jumbograms).
const MAX_MTU: usize = 65_535;

/// The largest UDP payload over IPv4 (65,535 - 20 - 8), and under the v9/IPFIX 16-bit lengths.
const MAX_UDP_PAYLOAD: usize = 65_507;

/// Why an export stream cannot be set up as configured.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExportConfigError {
    /// v8 aggregation scheme without a known layout.
    #[error("NetFlow v8 aggregation scheme {0} is not one of the 14 that have a record layout")]
    UnknownAggregation(u8),
    /// A field list for a fixed-layout version.
    #[error("NetFlow v5 and v8 records have a fixed layout: a list of fields applies only to v9 and IPFIX")]
    FieldsWithFixedLayout,
    /// Interface names for a version without options data.
    #[error("NetFlow v5 and v8 have no options data to name interfaces in; use v9 or IPFIX")]
    InterfaceNamesWithFixedLayout,
    /// Engine type or id for v9/IPFIX.
    #[error(
        "engine type and id are NetFlow v5/v8 header fields; v9 and IPFIX name the exporter by source id / \
         observation domain"
    )]
    EngineWithTemplates,
    /// A source id / observation domain for v5/v8.
    #[error(
        "NetFlow v5/v8 have no source id (domain {0} given); they name the exporter by engine type and id"
    )]
    DomainWithoutTemplates(u32),
    /// Sampling one packet in zero.
    #[error("sampling interval 0: one packet in N needs N of 1 or more")]
    ZeroSamplingInterval,
    /// A sampling interval v5's 14-bit field cannot hold.
    #[error("NetFlow v5 announces sampling intervals up to 16383 (14 bits), not {0}; use v9 or IPFIX")]
    V5SamplingInterval(u32),
    /// Sampling with v8, whose header cannot announce it.
    #[error(
        "NetFlow v8 has no field to announce sampling, so collectors would read sampled counts as whole; \
         use v9 or IPFIX"
    )]
    V8Sampling,
    /// Template refresh after zero packets.
    #[error("template refresh every 0 packets: give 1 or more, or refresh by time only")]
    ZeroRefreshPackets,
    /// Template refresh after no time.
    #[error("template refresh interval of 0 s: templates must be resent periodically over UDP")]
    ZeroRefreshInterval,
    /// An empty field list.
    #[error("no fields to export")]
    NoFields,
    /// A field listed twice.
    #[error("field `{0}` is listed twice")]
    DuplicateField(&'static str),
    /// A schema field no information element carries from a flow record.
    #[error("field `{field}` cannot be exported: {why}")]
    FieldNotExportable {
        /// The field's name.
        field: &'static str,
        /// Why.
        why: &'static str,
    },
    /// The record encoder refused an element (a mapping error, reported rather than hidden).
    #[error("field `{field}`: {source}")]
    Element {
        /// The field's name.
        field: &'static str,
        /// The encoder's reason.
        source: ExportError,
    },
    /// The MTU cannot hold the headers, templates and one record.
    #[error(
        "MTU {mtu} is too small: a datagram needs {needed} bytes for its headers, templates and one record"
    )]
    MtuTooSmall {
        /// The MTU given.
        mtu: usize,
        /// The smallest IP packet that would do.
        needed: usize,
    },
    /// An MTU beyond what IP carries.
    #[error("MTU {0} is larger than an IP packet can be (65535)")]
    MtuTooLarge(usize),
}
