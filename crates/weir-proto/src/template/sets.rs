//! Walking the sets (flowsets) of a NetFlow v9 packet or IPFIX message: template sets define templates,
//! options template sets define options templates, data sets decode with them.
//!
//! A set's length is known from its header, so an error inside one set is counted and the next set is
//! still decoded; the first error is returned for the datagram (and counted by the caller), the others are
//! counted here.

use weir_flow::FlowBatch;

use crate::decoder::Limits;
use crate::error::DecodeError;
use crate::reader::Reader;
use crate::stats::Counters;
use crate::template::record::{OptionsTemplateRecord, TemplateRecord};
use crate::template::{SetCx, TemplateCache};

/// The two template-based encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wire {
    /// NetFlow v9: template flowset 0, options template flowset 1, no enterprise numbers, no withdrawal.
    V9,
    /// IPFIX: template set 2, options template set 3, enterprise numbers, variable length, withdrawal.
    Ipfix,
}

impl Wire {
    fn template_set(self) -> u16 {
        match self {
            Self::V9 => 0,
            Self::Ipfix => 2,
        }
    }

    fn options_set(self) -> u16 {
        match self {
            Self::V9 => 1,
            Self::Ipfix => 3,
        }
    }
}

/// One set: its id, the offset of its header, and its body.
pub(crate) struct RawSet<'a> {
    pub id: u16,
    pub offset: usize,
    pub body: Reader<'a>,
}

/// Reads the next set header and body; `None` at the end.
pub(crate) fn next_set<'a>(r: &mut Reader<'a>) -> Option<Result<RawSet<'a>, DecodeError>> {
    if r.is_empty() {
        return None;
    }
    Some((|| {
        let offset = r.offset();
        let id = r.u16()?;
        let len = r.u16()?;
        if len < 4 || usize::from(len) - 4 > r.remaining() {
            return Err(DecodeError::BadLength {
                offset: offset + 2,
                what: "set length",
                value: u64::from(len),
            });
        }
        Ok(RawSet {
            id,
            offset,
            body: r.sub(usize::from(len) - 4)?,
        })
    })())
}

/// Whether the rest of a template set is padding: nothing but zeros (RFC 7011 3.3.1, RFC 3954 5.3).
pub(crate) fn only_padding(body: &Reader<'_>) -> bool {
    let mut peek = *body;
    peek.rest().iter().all(|&b| b == 0)
}

/// The total field count of the template record at the head of `body`, read without consuming it, so the
/// limit is checked before the fields are read.
fn peek_field_count(wire: Wire, options: bool, body: &Reader<'_>) -> usize {
    let mut peek = *body;
    let _id = peek.u16();
    match (wire, options) {
        (Wire::V9, true) => {
            let scope = peek.u16().map_or(0, usize::from);
            let opts = peek.u16().map_or(0, usize::from);
            (scope + opts) / 4
        }
        _ => peek.u16().map_or(0, usize::from),
    }
}

/// Where the errors of one datagram go: the first is kept for the caller, the rest are counted.
pub(crate) struct Errors<'c> {
    pub first: Option<DecodeError>,
    pub counters: &'c mut Counters,
}

impl Errors<'_> {
    pub fn note(&mut self, e: DecodeError) {
        if self.first.is_none() {
            self.first = Some(e);
        } else {
            self.counters.error(e.kind());
        }
    }
}

/// Decodes every set of a datagram's body. Returns the data records decoded from it (held sets count 0)
/// and the first error.
pub(crate) fn decode_sets(
    wire: Wire,
    cache: &mut TemplateCache,
    mut r: Reader<'_>,
    cx: &SetCx,
    limits: &Limits,
    counters: &mut Counters,
    out: &mut FlowBatch,
) -> (usize, Option<DecodeError>) {
    let mut errors = Errors {
        first: None,
        counters,
    };
    let mut records = 0;
    while let Some(set) = next_set(&mut r) {
        let set = match set {
            Ok(s) => s,
            Err(e) => {
                errors.note(e);
                break;
            }
        };
        let result = match set.id {
            id if id == wire.template_set() => {
                templates(wire, false, cache, set.body, limits, errors.counters, out)
            }
            id if id == wire.options_set() => {
                templates(wire, true, cache, set.body, limits, errors.counters, out)
            }
            id if id >= 256 => cache
                .data(id, set.body, cx, true, limits, errors.counters, out)
                .map(|n| {
                    records += n;
                }),
            id => Err(DecodeError::BadValue {
                offset: set.offset,
                what: "set id",
                value: u64::from(id),
            }),
        };
        if let Err(e) = result {
            errors.note(e);
        }
    }
    (records, errors.first)
}

/// Reads the template records of one (options) template set and defines or withdraws them.
fn templates(
    wire: Wire,
    options: bool,
    cache: &mut TemplateCache,
    mut body: Reader<'_>,
    limits: &Limits,
    counters: &mut Counters,
    out: &mut FlowBatch,
) -> Result<(), DecodeError> {
    while body.remaining() >= 4 && !only_padding(&body) {
        let offset = body.offset();
        let count = peek_field_count(wire, options, &body);
        if count > limits.max_template_fields {
            return Err(DecodeError::LimitReached {
                offset,
                what: "template fields",
                limit: limits.max_template_fields,
            });
        }
        match (wire, options) {
            (Wire::V9, false) => {
                let t = TemplateRecord::parse_v9(&mut body)?;
                cache.define(t, false, offset, limits, counters, out)?;
            }
            (Wire::V9, true) => {
                let t = OptionsTemplateRecord::parse_v9(&mut body)?;
                cache.define_options(t, false, offset, limits, counters, out)?;
            }
            (Wire::Ipfix, false) => {
                let t = TemplateRecord::parse_ipfix(&mut body)?;
                match (t.is_withdrawal(), t.id) {
                    (true, 2) => cache.withdraw_all(false, counters),
                    (true, id) => cache.withdraw(id, counters),
                    (false, _) => cache.define(t, true, offset, limits, counters, out)?,
                }
            }
            (Wire::Ipfix, true) => {
                let t = OptionsTemplateRecord::parse_ipfix(&mut body)?;
                match (t.is_withdrawal(), t.id) {
                    (true, 3) => cache.withdraw_all(true, counters),
                    (true, id) => cache.withdraw(id, counters),
                    (false, _) => cache.define_options(t, true, offset, limits, counters, out)?,
                }
            }
        }
    }
    Ok(())
}

/// One set of a NetFlow v9 packet or IPFIX message, as a typed value. Data sets stay bytes: decoding them
/// needs the exporter's templates, which is the [`TemplateCache`]'s job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Set {
    /// A template set (v9 flowset 0, IPFIX set 2) and the padding after its records.
    Templates {
        /// The template records (IPFIX: withdrawals have no fields).
        records: Vec<TemplateRecord>,
        /// Zero bytes after the last record.
        padding: Vec<u8>,
    },
    /// An options template set (v9 flowset 1, IPFIX set 3) and its padding.
    OptionsTemplates {
        /// The options template records.
        records: Vec<OptionsTemplateRecord>,
        /// Zero bytes after the last record.
        padding: Vec<u8>,
    },
    /// A data set (or a set with an id the format reserves), records and padding as they were.
    Data {
        /// The set id: the template id of the records.
        id: u16,
        /// The set's body.
        bytes: Vec<u8>,
    },
}

impl Set {
    /// Reads one set (header included).
    pub(crate) fn parse(wire: Wire, r: &mut Reader<'_>) -> Option<Result<Set, DecodeError>> {
        let raw = match next_set(r)? {
            Ok(raw) => raw,
            Err(e) => return Some(Err(e)),
        };
        Some(Self::from_raw(wire, raw))
    }

    fn from_raw(wire: Wire, raw: RawSet<'_>) -> Result<Set, DecodeError> {
        let mut body = raw.body;
        let options = raw.id == wire.options_set();
        if raw.id != wire.template_set() && !options {
            return Ok(Set::Data {
                id: raw.id,
                bytes: body.rest().to_vec(),
            });
        }
        let mut records = Vec::new();
        let mut option_records = Vec::new();
        while body.remaining() >= 4 && !only_padding(&body) {
            match (wire, options) {
                (Wire::V9, false) => records.push(TemplateRecord::parse_v9(&mut body)?),
                (Wire::Ipfix, false) => records.push(TemplateRecord::parse_ipfix(&mut body)?),
                (Wire::V9, true) => option_records.push(OptionsTemplateRecord::parse_v9(&mut body)?),
                (Wire::Ipfix, true) => option_records.push(OptionsTemplateRecord::parse_ipfix(&mut body)?),
            }
        }
        let padding = body.rest().to_vec();
        Ok(if options {
            Set::OptionsTemplates {
                records: option_records,
                padding,
            }
        } else {
            Set::Templates { records, padding }
        })
    }

    /// Appends the set, header included.
    pub(crate) fn encode(&self, wire: Wire, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&[0; 4]);
        let id = match self {
            Set::Templates { records, padding } => {
                for t in records {
                    match wire {
                        Wire::V9 => t.encode_v9(out),
                        Wire::Ipfix => t.encode_ipfix(out),
                    }
                }
                out.extend_from_slice(padding);
                wire.template_set()
            }
            Set::OptionsTemplates { records, padding } => {
                for t in records {
                    match wire {
                        Wire::V9 => t.encode_v9(out),
                        Wire::Ipfix => t.encode_ipfix(out),
                    }
                }
                out.extend_from_slice(padding);
                wire.options_set()
            }
            Set::Data { id, bytes } => {
                out.extend_from_slice(bytes);
                *id
            }
        };
        let len = (out.len() - start) as u16;
        out[start..start + 2].copy_from_slice(&id.to_be_bytes());
        out[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
    }
}
