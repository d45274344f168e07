//! What options data tells about a domain: sampling rates (per sampler or selector, and a default),
//! interface names, and when the exporter started.
//!
//! Every options data record is also kept as it came (the latest one per template and scope value), so that
//! what an exporter says about itself (statistics, VRF and application tables, ...) can be shown even where
//! flows do not depend on it. The maps here are bounded, so an exporter cannot grow them without limit.

use std::collections::HashMap;

use weir_flow::push_extra;

use crate::error::DecodeError;
use crate::reader::Reader;
use crate::template::record::{FieldSpec, read_value};

/// Samplers (or selectors) remembered per domain.
const MAX_SAMPLERS: usize = 1024;
/// Interface names remembered per domain.
const MAX_INTERFACES: usize = 16_384;
/// Longest interface name kept, in bytes.
const MAX_NAME: usize = 256;

/// Options records kept per domain (the latest per template and scope value).
const MAX_RECORDS: usize = 4096;
/// Bytes of options records kept per domain.
const MAX_RECORD_BYTES: usize = 1 << 20;

/// NetFlow v9 options scope type for an interface (RFC 3954 section 6.1).
const V9_SCOPE_INTERFACE: u16 = 2;

/// The options state of one domain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptionsState {
    default_rate: Option<u32>,
    samplers: HashMap<u64, u32>,
    interfaces: HashMap<u32, Box<str>>,
    init_ns: Option<u64>,
    records: HashMap<(u16, Box<[u8]>), KeptRecord>,
    record_bytes: usize,
}

/// An options data record as kept: its non-scope fields, and whether its scope ids are v9 scope types.
#[derive(Debug, Clone, PartialEq)]
struct KeptRecord {
    v9: bool,
    values: Box<[u8]>,
}

/// One kept options data record. `scope` and `values` are (enterprise, id, value) entries, read with
/// [`weir_flow::extra_fields`]; with `v9_scope`, scope ids are NetFlow v9 scope types (1 system, 2 interface,
/// 3 line card, 4 cache, 5 template) rather than information elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionsRecord<'a> {
    /// The options template the record was laid out by.
    pub template_id: u16,
    /// Whether scope ids are NetFlow v9 scope types.
    pub v9_scope: bool,
    /// The scope fields.
    pub scope: &'a [u8],
    /// The other fields.
    pub values: &'a [u8],
}

/// The values of one options data record that Weir uses.
#[derive(Debug, Default)]
struct Values<'a> {
    sampler: Option<u64>,
    interval: Option<u64>,
    random_interval: Option<u64>,
    packet_interval: Option<u64>,
    packet_space: Option<u64>,
    size: Option<u64>,
    population: Option<u64>,
    probability: Option<f64>,
    if_index: Option<u32>,
    if_name: Option<&'a [u8]>,
    if_description: Option<&'a [u8]>,
    init_ms: Option<u64>,
}

fn uint(b: &[u8]) -> Option<u64> {
    (1..=8)
        .contains(&b.len())
        .then(|| b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
}

impl OptionsState {
    /// The sampling rate for a flow sampled by `sampler` (or by an unnamed one): that sampler's rate, else
    /// the domain's default, else the only sampler's rate when the domain has exactly one. `None` when
    /// options data said nothing about sampling.
    #[inline]
    pub fn rate_for(&self, sampler: Option<u64>) -> Option<u32> {
        if self.samplers.is_empty() {
            return self.default_rate;
        }
        sampler
            .and_then(|s| self.samplers.get(&s).copied())
            .or(self.default_rate)
            .or_else(|| {
                let mut rates = self.samplers.values();
                match (rates.next(), rates.next()) {
                    (Some(&only), None) => Some(only),
                    _ => None,
                }
            })
    }

    /// Whether any interface name is known.
    #[inline]
    pub fn has_interface_names(&self) -> bool {
        !self.interfaces.is_empty()
    }

    /// The name of interface `if_index`, from options data.
    pub fn interface_name(&self, if_index: u32) -> Option<&str> {
        self.interfaces.get(&if_index).map(|s| &**s)
    }

    /// Every kept options data record, the latest per template and scope value.
    pub fn records(&self) -> impl Iterator<Item = OptionsRecord<'_>> {
        self.records
            .iter()
            .map(|((template_id, scope), r)| OptionsRecord {
                template_id: *template_id,
                v9_scope: r.v9,
                scope,
                values: &r.values,
            })
    }

    /// When the exporter started (systemInitTimeMilliseconds), nanoseconds since the epoch.
    pub fn system_init_ns(&self) -> Option<u64> {
        self.init_ns
    }

    /// Takes in one options data record laid out by `scope` and `fields`. `v9` says whether scope ids are
    /// NetFlow v9 scope types rather than information elements. Reads the record from `record`; on a
    /// truncated record nothing is taken in.
    pub(crate) fn absorb(
        &mut self,
        template_id: u16,
        scope: &[FieldSpec],
        fields: &[FieldSpec],
        v9: bool,
        record: &mut Reader<'_>,
    ) -> Result<(), DecodeError> {
        let mut v = Values::default();
        let (mut kept_scope, mut kept_values) = (Vec::new(), Vec::new());
        let all = scope
            .iter()
            .map(|f| (f, true))
            .chain(fields.iter().map(|f| (f, false)));
        for (f, is_scope) in all {
            let value = read_value(record, f.length)?;
            let kept = if is_scope {
                &mut kept_scope
            } else {
                &mut kept_values
            };
            push_extra(kept, f.enterprise.unwrap_or(0), f.id, value);
            if f.enterprise.is_some() {
                continue;
            }
            let id = if v9 && is_scope && f.id == V9_SCOPE_INTERFACE {
                10
            } else {
                f.id
            };
            if v9 && is_scope && id != 10 {
                continue;
            }
            match id {
                10 | 252 => v.if_index = v.if_index.or(uint(value).map(|x| x as u32)),
                34 => v.interval = uint(value),
                48 | 302 => v.sampler = v.sampler.or(uint(value)),
                50 => v.random_interval = uint(value),
                82 => v.if_name = Some(value),
                83 => v.if_description = Some(value),
                160 => v.init_ms = uint(value),
                305 => v.packet_interval = uint(value),
                306 => v.packet_space = uint(value),
                309 => v.size = uint(value),
                310 => v.population = uint(value),
                311 => v.probability = <[u8; 8]>::try_from(value).ok().map(f64::from_be_bytes),
                _ => {}
            }
        }
        self.take(&v);
        self.keep(template_id, v9, kept_scope, kept_values);
        Ok(())
    }

    /// Keeps a record, replacing the one with the same template and scope, within the bounds.
    fn keep(&mut self, template_id: u16, v9: bool, scope: Vec<u8>, values: Vec<u8>) {
        let key = (template_id, scope.into_boxed_slice());
        let size = key.1.len() + values.len();
        let replaced = self.records.get(&key).map(|r| key.1.len() + r.values.len());
        let fits = self.record_bytes - replaced.unwrap_or(0) + size <= MAX_RECORD_BYTES
            && (replaced.is_some() || self.records.len() < MAX_RECORDS);
        if fits {
            let replaced = replaced.unwrap_or(0);
            self.record_bytes = self.record_bytes - replaced + size;
            self.records.insert(
                key,
                KeptRecord {
                    v9,
                    values: values.into_boxed_slice(),
                },
            );
        }
    }

    fn take(&mut self, v: &Values<'_>) {
        let ratio = |num: u64, den: u64| (den > 0).then(|| num / den);
        let rate = v
            .interval
            .or(v.random_interval)
            .or_else(|| {
                let (i, s) = (v.packet_interval?, v.packet_space?);
                ratio(i.saturating_add(s), i)
            })
            .or_else(|| ratio(v.population?, v.size?))
            .or_else(|| {
                v.probability
                    .filter(|p| *p > 0.0 && *p <= 1.0)
                    .map(|p| (1.0 / p).round() as u64)
            })
            .filter(|&r| r > 0)
            .map(|r| r.min(u64::from(u32::MAX)) as u32);
        if let Some(rate) = rate {
            match v.sampler {
                Some(id) if self.samplers.len() < MAX_SAMPLERS || self.samplers.contains_key(&id) => {
                    self.samplers.insert(id, rate);
                }
                Some(_) => {}
                None => self.default_rate = Some(rate),
            }
        }
        if let (Some(index), Some(name)) = (v.if_index, v.if_name.or(v.if_description)) {
            let name = String::from_utf8_lossy(&name[..name.len().min(MAX_NAME)]);
            let name = name.trim_end_matches('\0').trim();
            if !name.is_empty()
                && (self.interfaces.len() < MAX_INTERFACES || self.interfaces.contains_key(&index))
            {
                self.interfaces.insert(index, name.into());
            }
        }
        if let Some(ms) = v.init_ms {
            self.init_ns = Some(ms.saturating_mul(1_000_000));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::record::VARIABLE_LENGTH;

    fn absorb(state: &mut OptionsState, scope: &[FieldSpec], fields: &[FieldSpec], v9: bool, bytes: &[u8]) {
        state
            .absorb(256, scope, fields, v9, &mut Reader::new(bytes))
            .unwrap();
    }

    #[test]
    fn sampler_rates_are_kept_per_sampler_with_a_default() {
        let mut s = OptionsState::default();
        assert_eq!(s.rate_for(None), None);
        let scope = [FieldSpec::new(1, 4)];
        let fields = [
            FieldSpec::new(48, 1),
            FieldSpec::new(49, 1),
            FieldSpec::new(50, 4),
        ];
        absorb(&mut s, &scope, &fields, true, &[0, 0, 0, 0, 3, 2, 0, 0, 0, 100]);
        assert_eq!(s.rate_for(Some(3)), Some(100));
        assert_eq!(
            s.rate_for(None),
            Some(100),
            "the only sampler stands in for unnamed ones"
        );
        absorb(&mut s, &scope, &fields, true, &[0, 0, 0, 0, 4, 2, 0, 0, 3, 232]);
        assert_eq!(s.rate_for(Some(4)), Some(1000));
        assert_eq!(s.rate_for(None), None);
        absorb(
            &mut s,
            &scope,
            &[FieldSpec::new(34, 4), FieldSpec::new(35, 1)],
            true,
            &[0, 0, 0, 0, 0, 0, 0, 10, 2],
        );
        assert_eq!(s.rate_for(None), Some(10));
        assert_eq!(s.rate_for(Some(9)), Some(10));
    }

    #[test]
    fn psamp_selector_rate_is_interval_plus_space_over_interval() {
        let mut s = OptionsState::default();
        let scope = [FieldSpec::new(302, 2)];
        let fields = [
            FieldSpec::new(304, 1),
            FieldSpec::new(305, 4),
            FieldSpec::new(306, 4),
        ];
        absorb(
            &mut s,
            &scope,
            &fields,
            false,
            &[0, 7, 1, 0, 0, 0, 1, 0, 0, 1, 255],
        );
        assert_eq!(s.rate_for(Some(7)), Some(512));
    }

    #[test]
    fn interface_names_come_from_scoped_options() {
        let mut s = OptionsState::default();
        let fields = [FieldSpec::new(82, 8)];
        absorb(
            &mut s,
            &[FieldSpec::new(2, 4)],
            &fields,
            true,
            b"\0\0\0\x05Gi0/1\0\0\0",
        );
        assert_eq!(s.interface_name(5), Some("Gi0/1"));
        absorb(
            &mut s,
            &[FieldSpec::new(10, 4)],
            &[FieldSpec::new(83, VARIABLE_LENGTH)],
            false,
            b"\0\0\0\x06\x03WAN",
        );
        assert_eq!(s.interface_name(6), Some("WAN"));
        assert!(s.has_interface_names());
    }

    #[test]
    fn system_init_time_is_kept() {
        let mut s = OptionsState::default();
        let mut record = vec![0, 0, 0, 1];
        record.extend_from_slice(&1_431_516_013_506u64.to_be_bytes());
        absorb(
            &mut s,
            &[FieldSpec::new(149, 4)],
            &[FieldSpec::new(160, 8)],
            false,
            &record,
        );
        assert_eq!(s.system_init_ns(), Some(1_431_516_013_506_000_000));
    }

    #[test]
    fn keeps_the_latest_record_per_template_and_scope_within_bounds() {
        let mut s = OptionsState::default();
        let scope = [FieldSpec {
            id: 10,
            length: 4,
            enterprise: None,
        }];
        let fields = [
            FieldSpec {
                id: 41,
                length: 8,
                enterprise: None,
            },
            FieldSpec {
                id: 12235,
                length: 2,
                enterprise: Some(9),
            },
        ];
        let record = |if_index: u32, exported: u64| {
            let mut b = if_index.to_be_bytes().to_vec();
            b.extend_from_slice(&exported.to_be_bytes());
            b.extend_from_slice(&[0xab, 0xcd]);
            b
        };
        absorb(&mut s, &scope, &fields, false, &record(1, 10));
        absorb(&mut s, &scope, &fields, false, &record(1, 20));
        absorb(&mut s, &scope, &fields, false, &record(2, 5));
        type Entry = (u32, u16, Vec<u8>);
        let mut kept: Vec<(u64, Vec<Entry>)> = s
            .records()
            .map(|r| {
                assert_eq!((r.template_id, r.v9_scope), (256, false));
                let scope = weir_flow::extra_fields(r.scope).next().unwrap();
                let values = weir_flow::extra_fields(r.values)
                    .map(|e| (e.enterprise, e.id, e.value.to_vec()))
                    .collect();
                (uint(scope.value).unwrap(), values)
            })
            .collect();
        kept.sort();
        assert_eq!(
            kept,
            [
                (
                    1,
                    vec![
                        (0, 41, 20u64.to_be_bytes().to_vec()),
                        (9, 12235, vec![0xab, 0xcd])
                    ]
                ),
                (
                    2,
                    vec![(0, 41, 5u64.to_be_bytes().to_vec()), (9, 12235, vec![0xab, 0xcd])]
                ),
            ]
        );
        for i in 0..(MAX_RECORDS as u32 + 10) {
            absorb(&mut s, &scope, &fields, false, &record(i, 1));
        }
        assert_eq!(s.records().count(), MAX_RECORDS);
        assert!(s.record_bytes <= MAX_RECORD_BYTES);
        absorb(&mut s, &scope, &fields, false, &record(1, 99));
        assert_eq!(s.records().count(), MAX_RECORDS);
        let one = s
            .records()
            .find(|r| weir_flow::extra_fields(r.scope).next().unwrap().value == [0, 0, 0, 1]);
        let exported = weir_flow::extra_fields(one.unwrap().values).next().unwrap().value;
        assert_eq!(
            exported,
            99u64.to_be_bytes(),
            "a known scope is still updated at the limit"
        );
    }
}
