//! Building NetFlow v9 and IPFIX datagrams from [`FlowRecord`]s, for a flow probe: a data template chosen
//! by the caller (a list of information elements), an options template announcing the sampling rate, and
//! the header's sequence numbers and times kept right across datagrams.
//!
//! Values are written in the field's length, so a template may use reduced-size encoding (RFC 7011 6.2),
//! e.g. a 4-byte octetDeltaCount.
//!
//! [`check_field`] and [`write_record`] are the record encoding on its own, for exporters that frame their
//! messages themselves (several templates per message, datagrams sized to a path MTU).

use std::net::Ipv6Addr;

use thiserror::Error;
use weir_flow::FlowRecord;
use weir_flow::codes::direction;

use crate::template::record::{FieldSpec, OptionsTemplateRecord, TemplateRecord};
use crate::template::sets::Set;
use crate::{ipfix, v9};

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// Why a template cannot be exported.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExportError {
    /// The element has no column to take its value from (or is enterprise-specific).
    #[error("element {id} cannot be exported from a flow record")]
    UnsupportedField {
        /// The element id.
        id: u16,
    },
    /// The element cannot be written in this length.
    #[error("element {id} cannot be written in {length} bytes")]
    BadLength {
        /// The element id.
        id: u16,
        /// The length asked for.
        length: u16,
    },
    /// Template ids start at 256, and the options template takes the id after the data template's.
    #[error("template id {0} is below 256 or leaves no id for the options template")]
    BadTemplateId(u16),
}

/// The export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// NetFlow v9.
    V9,
    /// IPFIX.
    Ipfix,
}

/// How a column is written.
#[derive(Clone, Copy)]
enum Value {
    Uint,
    Addr4,
    Addr6,
    Mac,
    Ntp,
}

/// The value of element `id` in `r`, as an integer (or the address behind it) and how to write it.
///
/// Inlined into [`write_record`], where the match is most of the work of a record and the kind of value
/// goes unused: a call returned the pair through memory for every field.
#[inline(always)]
fn value(id: u16, r: &FlowRecord, times: &RecordClock) -> Option<(u128, Value)> {
    let u = |v: u64| Some((u128::from(v), Value::Uint));
    let a4 = |a: Ipv6Addr| Some((u128::from(a.to_ipv4_mapped().map_or(0, u32::from)), Value::Addr4));
    let a6 = |a: Ipv6Addr| Some((u128::from(a), Value::Addr6));
    match id {
        1 | 23 | 85 => u(r.bytes),
        2 | 24 | 86 => u(r.packets),
        3 => u(r.flows),
        4 => u(r.proto.into()),
        5 => u(r.tos.into()),
        6 => u(r.tcp_flags.into()),
        7 => u(r.src_port.into()),
        11 => u(r.dst_port.into()),
        8 => a4(r.src_addr),
        12 => a4(r.dst_addr),
        15 => a4(r.next_hop),
        18 => a4(r.bgp_next_hop),
        27 => a6(r.src_addr),
        28 => a6(r.dst_addr),
        62 => a6(r.next_hop),
        63 => a6(r.bgp_next_hop),
        9 | 29 => u(r.src_mask.into()),
        13 | 30 => u(r.dst_mask.into()),
        10 | 252 => u(r.in_if.into()),
        14 | 253 => u(r.out_if.into()),
        16 => u(r.src_as.into()),
        17 => u(r.dst_as.into()),
        58 | 243 => u(r.vlan.into()),
        56 => Some((u128::from(r.src_mac), Value::Mac)),
        80 => Some((u128::from(r.dst_mac), Value::Mac)),
        32 | 139 => u(u64::from(r.icmp_type) << 8 | u64::from(r.icmp_code)),
        176 | 178 => u(r.icmp_type.into()),
        177 | 179 => u(r.icmp_code.into()),
        61 => u(match r.flow_direction {
            direction::EGRESS => 1,
            _ => 0,
        }),
        89 => u(r.forwarding_status.into()),
        136 => u(r.flow_end_reason.into()),
        256 => u(r.etype.into()),
        60 => u(match r.etype {
            weir_flow::codes::etype::IPV6 => 6,
            _ => 4,
        }),
        150 => u(r.flow_start / 1_000_000_000),
        151 => u(r.flow_end / 1_000_000_000),
        152 => u(r.flow_start / 1_000_000),
        153 => u(r.flow_end / 1_000_000),
        154 | 156 => Some((u128::from(ntp(r.flow_start)), Value::Ntp)),
        155 | 157 => Some((u128::from(ntp(r.flow_end)), Value::Ntp)),
        22 => u(times.uptime_at(r.flow_start)),
        21 => u(times.uptime_at(r.flow_end)),
        34 => u(r.sampling_rate.into()),
        _ => None,
    }
}

/// Nanoseconds since the Unix epoch in NTP format (RFC 5905).
fn ntp(ns: u64) -> u64 {
    let secs = ns / 1_000_000_000 + NTP_UNIX_OFFSET;
    let frac = ((ns % 1_000_000_000) << 32) / 1_000_000_000;
    secs << 32 | frac
}

/// The exporter's clock for the records of one datagram: NetFlow v9 uptime stamps (elements 21 and 22)
/// are counted back from `uptime_ms` at `export_ns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordClock {
    /// When the datagram is stamped, nanoseconds since the epoch.
    pub export_ns: u64,
    /// The exporter's uptime at `export_ns`, milliseconds (wrapping at 2^32).
    pub uptime_ms: u32,
}

impl RecordClock {
    /// The uptime, in milliseconds, at time `t` (nanoseconds since the epoch); wraps like the exporter's.
    fn uptime_at(&self, t: u64) -> u64 {
        let before = (self.export_ns.saturating_sub(t) / 1_000_000) as u32;
        u64::from(self.uptime_ms.wrapping_sub(before))
    }

    /// When the exporter started, milliseconds since the epoch.
    fn init_ms(&self) -> u64 {
        (self.export_ns / 1_000_000).saturating_sub(u64::from(self.uptime_ms))
    }
}

/// Checks that element `f` can be filled from a [`FlowRecord`] in its length.
pub fn check_field(f: &FieldSpec) -> Result<(), ExportError> {
    if f.enterprise.is_some() || f.is_variable() {
        return Err(ExportError::UnsupportedField { id: f.id });
    }
    let probe = FlowRecord::default();
    let times = RecordClock {
        export_ns: 0,
        uptime_ms: 0,
    };
    let (_, kind) = value(f.id, &probe, &times).ok_or(ExportError::UnsupportedField { id: f.id })?;
    let ok = match kind {
        Value::Uint => (1..=8).contains(&f.length),
        Value::Addr4 => f.length == 4,
        Value::Addr6 => f.length == 16,
        Value::Mac => f.length == 6,
        Value::Ntp => f.length == 8,
    };
    if ok {
        Ok(())
    } else {
        Err(ExportError::BadLength {
            id: f.id,
            length: f.length,
        })
    }
}

/// Appends one data record of `fields` (each accepted by [`check_field`]) with the values of `r`.
///
/// Each value is written big-endian in its field's length, keeping the low bytes (reduced-size encoding).
/// The record is sized once and every field stored as 16 bytes of which the next field overwrites all but
/// its own: a branch or a copy by the field's length cost a mispredicted jump or a `memcpy` call per field,
/// which made up most of a probe's export.
pub fn write_record(fields: &[FieldSpec], r: &FlowRecord, clock: &RecordClock, out: &mut Vec<u8>) {
    let start = out.len();
    let len: usize = fields.iter().map(|f| usize::from(f.length).min(16)).sum();
    out.resize(start + len + 16, 0);
    let mut at = start;
    for f in fields {
        let v = value(f.id, r, clock).map_or(0, |(v, _)| v);
        let n = usize::from(f.length).min(16);
        // The low n bytes moved to the top; a shift by 128 (n = 0) writes nothing.
        let top = v.checked_shl(8 * (16 - n) as u32).unwrap_or(0);
        out[at..at + 16].copy_from_slice(&top.to_be_bytes());
        at += n;
    }
    out.truncate(start + len);
}

/// Builds the datagrams of one exporter domain.
#[derive(Debug, Clone)]
pub struct ExportBuilder {
    dialect: Format,
    domain: u32,
    template: TemplateRecord,
    sampling: Option<u32>,
    sequence: u32,
}

impl ExportBuilder {
    /// A builder for observation domain (v9 source id) `domain`, exporting records with template
    /// `template_id` of `fields`. The sampling options template, if any, takes id `template_id + 1`.
    pub fn new(
        dialect: Format,
        domain: u32,
        template_id: u16,
        fields: Vec<FieldSpec>,
    ) -> Result<Self, ExportError> {
        if template_id < 256 || template_id == u16::MAX {
            return Err(ExportError::BadTemplateId(template_id));
        }
        fields.iter().try_for_each(check_field)?;
        Ok(Self {
            dialect,
            domain,
            template: TemplateRecord {
                id: template_id,
                fields,
            },
            sampling: None,
            sequence: 0,
        })
    }

    /// Announces one-in-`rate` packet sampling in an options record whenever templates are sent.
    pub fn with_sampling(mut self, rate: u32) -> Self {
        self.sampling = Some(rate);
        self
    }

    /// The data template.
    pub fn template(&self) -> &TemplateRecord {
        &self.template
    }

    fn options_template(&self) -> OptionsTemplateRecord {
        let (scope, mut fields) = match self.dialect {
            // v9 scope type 1: the whole exporter ("system").
            Format::V9 => (
                FieldSpec::new(1, 4),
                vec![FieldSpec::new(34, 4), FieldSpec::new(35, 1)],
            ),
            // observationDomainId (149) scopes the record to this domain.
            Format::Ipfix => (
                FieldSpec::new(149, 4),
                vec![FieldSpec::new(34, 4), FieldSpec::new(35, 1)],
            ),
        };
        if self.dialect == Format::Ipfix {
            fields.push(FieldSpec::new(160, 8));
        }
        OptionsTemplateRecord {
            id: self.template.id + 1,
            scope_fields: vec![scope],
            fields,
        }
    }

    /// Builds one datagram with `records`, sent at `export_ns` (nanoseconds since the epoch) by an exporter
    /// up for `uptime_ms`. With `templates`, the templates (and the sampling options record) come first.
    pub fn datagram(
        &mut self,
        records: &[FlowRecord],
        export_ns: u64,
        uptime_ms: u32,
        templates: bool,
    ) -> Vec<u8> {
        let times = RecordClock { export_ns, uptime_ms };
        let mut sets = Vec::new();
        let mut count = 0usize;
        let mut data_records = 0usize;
        if templates {
            sets.push(Set::Templates {
                records: vec![self.template.clone()],
                padding: Vec::new(),
            });
            count += 1;
            if let Some(rate) = self.sampling {
                let options = self.options_template();
                let mut bytes = Vec::new();
                let scope = match self.dialect {
                    Format::V9 => 0,
                    Format::Ipfix => self.domain,
                };
                bytes.extend_from_slice(&scope.to_be_bytes());
                bytes.extend_from_slice(&rate.to_be_bytes());
                // Algorithm 2: random 1-in-N sampling (RFC 3954 section 8, samplingAlgorithm).
                bytes.push(2);
                if self.dialect == Format::Ipfix {
                    bytes.extend_from_slice(&times.init_ms().to_be_bytes());
                }
                pad(&mut bytes);
                let id = options.id;
                sets.push(Set::OptionsTemplates {
                    records: vec![options],
                    padding: Vec::new(),
                });
                sets.push(Set::Data { id, bytes });
                count += 2;
                data_records += 1;
            }
        }
        if !records.is_empty() {
            let mut bytes = Vec::new();
            for r in records {
                write_record(&self.template.fields, r, &times, &mut bytes);
            }
            pad(&mut bytes);
            sets.push(Set::Data {
                id: self.template.id,
                bytes,
            });
            count += records.len();
            data_records += records.len();
        }
        match self.dialect {
            Format::V9 => {
                let header = v9::Header {
                    version: 9,
                    count: count.min(usize::from(u16::MAX)) as u16,
                    sys_uptime: uptime_ms,
                    unix_secs: (export_ns / 1_000_000_000) as u32,
                    sequence: self.sequence,
                    source_id: self.domain,
                };
                self.sequence = self.sequence.wrapping_add(1);
                v9::Packet {
                    header,
                    flowsets: sets,
                }
                .encode()
            }
            Format::Ipfix => {
                let header = ipfix::Header {
                    version: 10,
                    export_time: (export_ns / 1_000_000_000) as u32,
                    sequence: self.sequence,
                    observation_domain: self.domain,
                };
                self.sequence = self.sequence.wrapping_add(data_records as u32);
                ipfix::Message { header, sets }.encode()
            }
        }
    }
}

/// Pads a set body to a multiple of 4 bytes with zeros (RFC 7011 3.3.1; RFC 3954 5.3).
fn pad(bytes: &mut Vec<u8>) {
    while !bytes.len().is_multiple_of(4) {
        bytes.push(0);
    }
}

#[cfg(test)]
mod write_record_tests {
    use std::net::Ipv6Addr;

    use weir_flow::{FlowRecord, ipv4};

    use super::{RecordClock, write_record};
    use crate::template::record::FieldSpec;

    #[test]
    fn every_field_keeps_its_low_bytes_big_endian_in_its_length() {
        let r = FlowRecord {
            bytes: 0x0102_0304_0506_0708,
            src_addr: ipv4([10, 1, 2, 3]),
            dst_addr: "2001:db8::1".parse().unwrap_or(Ipv6Addr::UNSPECIFIED),
            src_mac: 0x0a0b_0c0d_0e0f,
            proto: 6,
            ..FlowRecord::default()
        };
        let clock = RecordClock {
            export_ns: 0,
            uptime_ms: 0,
        };
        let bytes = r.bytes.to_be_bytes();
        let mut fields = Vec::new();
        let mut expected = vec![0xee];
        for len in 1..=8u16 {
            fields.push(FieldSpec::new(1, len));
            expected.extend_from_slice(&bytes[8 - usize::from(len)..]);
        }
        fields.extend([
            FieldSpec::new(8, 4),
            FieldSpec::new(28, 16),
            FieldSpec::new(56, 6),
            FieldSpec::new(4, 1),
        ]);
        expected.extend_from_slice(&[10, 1, 2, 3]);
        expected.extend_from_slice(&r.dst_addr.octets());
        expected.extend_from_slice(&[0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f]);
        expected.push(6);
        let mut out = vec![0xee];
        write_record(&fields, &r, &clock, &mut out);
        assert_eq!(
            out, expected,
            "what was there stays, and nothing follows the record"
        );
    }
}
