//! What a v9 or IPFIX stream announces before its records can be read: the IPv4 and IPv6 data templates;
//! when the flows were sampled, an options template and the options record naming the sampler, its
//! algorithm and interval; and when interface names are given, an options template and one record per
//! interface. They never change for a stream, so they are encoded once and copied into each datagram that
//! refreshes them.

use weir_proto::template::{FieldSpec, OptionsTemplateRecord, TemplateRecord};

use super::elements::Dialect;
use crate::sampling::Sampling;

/// Template id of IPv4 records.
pub(crate) const V4_TEMPLATE: u16 = 256;
/// Template id of IPv6 records.
pub(crate) const V6_TEMPLATE: u16 = 257;
/// Template id of the sampling options.
const OPTIONS_TEMPLATE: u16 = 258;
/// Template id of the interface names.
const INTERFACES_TEMPLATE: u16 = 259;

/// The id of the stream's one sampler (v9 FLOW_SAMPLER_ID) or selector (IPFIX selectorId).
const SAMPLER_ID: u8 = 1;

/// The element each sampled record carries its sampler in: v9 FLOW_SAMPLER_ID (1 byte, as Cisco sends
/// it), IPFIX selectorId (RFC 5477; unsigned64 in reduced-size encoding).
pub(crate) fn sampler_field(dialect: Dialect) -> FieldSpec {
    match dialect {
        Dialect::V9 => FieldSpec::new(48, 1),
        Dialect::Ipfix => FieldSpec::new(302, 4),
    }
}

/// Appends the sampler id in `spec`'s length.
pub(crate) fn write_sampler(spec: FieldSpec, out: &mut Vec<u8>) {
    let id = u64::from(SAMPLER_ID).to_be_bytes();
    out.extend_from_slice(&id[8 - usize::from(spec.length)..]);
}

/// Set ids of template and options template sets.
fn set_ids(dialect: Dialect) -> (u16, u16) {
    match dialect {
        Dialect::V9 => (0, 1),
        Dialect::Ipfix => (2, 3),
    }
}

/// The encoded announcement and what it counts for in the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Announcement {
    /// Template set, then (sampled) options template set and options data set.
    pub bytes: Vec<u8>,
    /// Template and options records in it: v9 counts them in the header's count.
    pub records: u16,
    /// Options data records in it: IPFIX counts them in the sequence number.
    pub data_records: u32,
}

/// Encodes the announcement of a stream whose records follow `v4` and `v6` (sampler field included), with
/// the names of `interfaces` (ifIndex, name).
pub(crate) fn announcement(
    dialect: Dialect,
    v4: &[FieldSpec],
    v6: &[FieldSpec],
    sampling: Sampling,
    interfaces: &[(u32, String)],
) -> Announcement {
    let (template_set, _) = set_ids(dialect);
    let mut bytes = Vec::new();
    let set = open_set(&mut bytes, template_set);
    for (id, fields) in [(V4_TEMPLATE, v4), (V6_TEMPLATE, v6)] {
        let t = TemplateRecord {
            id,
            fields: fields.to_vec(),
        };
        match dialect {
            Dialect::V9 => t.encode_v9(&mut bytes),
            Dialect::Ipfix => t.encode_ipfix(&mut bytes),
        }
    }
    close_set(&mut bytes, set);
    let mut a = Announcement {
        bytes,
        records: 2,
        data_records: 0,
    };
    if let Some((options, record)) = sampling_options(dialect, sampling) {
        a.add_options(dialect, &options, &[record]);
    }
    if let Some((options, records)) = interface_options(dialect, interfaces) {
        a.add_options(dialect, &options, &records);
    }
    a
}

impl Announcement {
    /// Appends an options template set with `template`, and a data set of its `records`.
    fn add_options(&mut self, dialect: Dialect, template: &OptionsTemplateRecord, records: &[Vec<u8>]) {
        let (_, options_set) = set_ids(dialect);
        let set = open_set(&mut self.bytes, options_set);
        match dialect {
            Dialect::V9 => template.encode_v9(&mut self.bytes),
            Dialect::Ipfix => template.encode_ipfix(&mut self.bytes),
        }
        close_set(&mut self.bytes, set);
        let set = open_set(&mut self.bytes, template.id);
        records.iter().for_each(|r| self.bytes.extend_from_slice(r));
        close_set(&mut self.bytes, set);
        let n = records.len() as u16;
        self.records = self.records.saturating_add(1).saturating_add(n);
        self.data_records = self.data_records.saturating_add(n.into());
    }
}

/// The interface names options template and its records, one per interface; `None` without interfaces.
///
/// - v9, as Cisco IOS's interface table: scope Interface (type 2) with the ifIndex, then IF_NAME (82).
/// - IPFIX: scope ingressInterface (10), then interfaceName (82).
///
/// Names go out in the length of the longest, padded with zeros, since v9 has no variable-length fields;
/// collectors drop the padding.
fn interface_options(
    dialect: Dialect,
    interfaces: &[(u32, String)],
) -> Option<(OptionsTemplateRecord, Vec<Vec<u8>>)> {
    let longest = interfaces.iter().map(|(_, name)| name.len()).max()?;
    let length = longest.clamp(1, MAX_NAME);
    let scope = match dialect {
        Dialect::V9 => FieldSpec::new(2, 4),
        Dialect::Ipfix => FieldSpec::new(10, 4),
    };
    let template = OptionsTemplateRecord {
        id: INTERFACES_TEMPLATE,
        scope_fields: vec![scope],
        fields: vec![FieldSpec::new(82, length as u16)],
    };
    let records = interfaces
        .iter()
        .map(|(index, name)| {
            let mut r = index.to_be_bytes().to_vec();
            let name = &name.as_bytes()[..name.len().min(length)];
            r.extend_from_slice(name);
            r.resize(4 + length, 0);
            r
        })
        .collect();
    Some((template, records))
}

/// Longest interface name sent, bytes.
const MAX_NAME: usize = 64;

/// The sampling options template and its one record, `None` when unsampled.
///
/// - v9, as Cisco IOS announces a flow sampler: scope System, then FLOW_SAMPLER_ID (48),
///   FLOW_SAMPLER_MODE (49: 1 deterministic, 2 random) and FLOW_SAMPLER_RANDOM_INTERVAL (50).
/// - IPFIX, as PSAMP describes a selector (RFC 5477): scope selectorId (302), selectorAlgorithm (304), then
///   for systematic count-based sampling (algorithm 1) samplingPacketInterval (305) = 1 and
///   samplingPacketSpace (306) = N - 1, for random n-out-of-N sampling (algorithm 3) samplingSize (309) = 1
///   and samplingPopulation (310) = N.
fn sampling_options(dialect: Dialect, sampling: Sampling) -> Option<(OptionsTemplateRecord, Vec<u8>)> {
    let n = match sampling {
        Sampling::Off => return None,
        Sampling::Deterministic(n) | Sampling::Random { n, .. } => n,
    };
    let random = matches!(sampling, Sampling::Random { .. });
    let sampler = sampler_field(dialect);
    let mut record = Vec::new();
    let (scope, fields) = match dialect {
        Dialect::V9 => {
            record.extend_from_slice(&0u32.to_be_bytes());
            write_sampler(sampler, &mut record);
            record.push(if random { 2 } else { 1 });
            record.extend_from_slice(&n.to_be_bytes());
            let fields = vec![sampler, FieldSpec::new(49, 1), FieldSpec::new(50, 4)];
            (FieldSpec::new(1, 4), fields)
        }
        Dialect::Ipfix => {
            write_sampler(sampler, &mut record);
            let (algorithm, (first, a), (second, b)) = if random {
                (3, (309, 1), (310, n))
            } else {
                (1, (305, 1), (306, n.saturating_sub(1)))
            };
            record.push(algorithm);
            record.extend_from_slice(&u32::to_be_bytes(a));
            record.extend_from_slice(&u32::to_be_bytes(b));
            let fields = vec![
                FieldSpec::new(304, 1),
                FieldSpec::new(first, 4),
                FieldSpec::new(second, 4),
            ];
            (sampler, fields)
        }
    };
    let template = OptionsTemplateRecord {
        id: OPTIONS_TEMPLATE,
        scope_fields: vec![scope],
        fields,
    };
    Some((template, record))
}

/// Starts a set with id `id`; returns where it starts, for [`close_set`].
pub(crate) fn open_set(out: &mut Vec<u8>, id: u16) -> usize {
    let start = out.len();
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    start
}

/// Pads the set started at `start` to a multiple of 4 bytes (RFC 3954 section 5.3 asks for it; RFC 7011
/// allows it) and writes its length.
pub(crate) fn close_set(out: &mut Vec<u8>, start: usize) {
    while !(out.len() - start).is_multiple_of(4) {
        out.push(0);
    }
    let len = (out.len() - start) as u16;
    out[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// Bytes of a data set of `n` records of `len` bytes, padded; 0 when there are none (no set is written).
pub(crate) fn data_set_len(n: usize, len: usize) -> usize {
    if n == 0 {
        0
    } else {
        (4 + n * len).next_multiple_of(4)
    }
}
