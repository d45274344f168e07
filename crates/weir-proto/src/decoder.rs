//! [`Decoder`]: one exporter shard's decoding state. Detects the dialect of each datagram, keeps template
//! and sequence state per exporter and observation domain, and does the accounting.
//!
//! A `Decoder` is owned by one thread; the receiver sends all datagrams of an exporter to the same one,
//! so no state is shared or locked.

use std::collections::HashMap;
use std::net::IpAddr;

use weir_flow::FlowBatch;

use crate::error::DecodeError;
use crate::reader::Reader;
use crate::stats::{Counters, Dialect, DomainKey, SequenceTracker};
use crate::{ipfix, netflow, sflow, template, v9};

/// Bounds on what one exporter can make Weir hold. Every limit is checked before memory is allocated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Domains (exporter × dialect × domain id) kept in all.
    pub max_domains: usize,
    /// Domains kept for one exporter address.
    pub max_domains_per_exporter: usize,
    /// Templates and options templates kept per domain.
    pub max_templates_per_domain: usize,
    /// Fields in one template.
    pub max_template_fields: usize,
    /// Bytes of data sets held per domain while their template is unknown.
    pub max_pending_bytes: usize,
    /// How long data sets wait for their template, in nanoseconds.
    pub pending_hold_ns: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_domains: 65_536,
            max_domains_per_exporter: 256,
            max_templates_per_domain: 1024,
            max_template_fields: 512,
            max_pending_bytes: 1 << 20,
            pending_hold_ns: 60 * 1_000_000_000,
        }
    }
}

/// One exporter domain's state and counters.
#[derive(Debug, Default)]
pub struct Domain {
    /// What this domain sent and what became of it.
    pub counters: Counters,
    /// The datagram (or record) sequence.
    pub(crate) seq: SequenceTracker,
    pub(crate) state: DialectState,
}

/// State that only some dialects need.
#[derive(Debug, Default)]
pub(crate) enum DialectState {
    /// NetFlow v1/v5/v7/v8 need only the sequence tracker.
    #[default]
    Plain,
    /// NetFlow v9 and IPFIX: templates, options data, data waiting for templates.
    Templates(Box<template::TemplateCache>),
    /// sFlow: per-source sample sequences.
    Sflow(Box<sflow::SflowState>),
}

impl Domain {
    /// The template state, made on first use.
    pub(crate) fn templates(&mut self) -> &mut template::TemplateCache {
        if !matches!(self.state, DialectState::Templates(_)) {
            self.state = DialectState::Templates(Box::default());
        }
        match &mut self.state {
            DialectState::Templates(t) => t,
            _ => unreachable!("set just above"),
        }
    }

    /// The template state, if this domain has any.
    pub fn template_cache(&self) -> Option<&template::TemplateCache> {
        match &self.state {
            DialectState::Templates(t) => Some(t),
            _ => None,
        }
    }

    /// The sFlow state (sample sequences per source, latest interface counters), if this domain has any.
    pub fn sflow_state(&self) -> Option<&sflow::SflowState> {
        match &self.state {
            DialectState::Sflow(s) => Some(s),
            _ => None,
        }
    }

    /// The sFlow state, made on first use.
    pub(crate) fn sflow(&mut self) -> &mut sflow::SflowState {
        if !matches!(self.state, DialectState::Sflow(_)) {
            self.state = DialectState::Sflow(Box::default());
        }
        match &mut self.state {
            DialectState::Sflow(s) => s,
            _ => unreachable!("set just above"),
        }
    }
}

/// The bounded map of domains: a slab indexed by key, with the last lookup remembered, since datagrams
/// of one exporter domain come in runs and this spares hashing the key for each.
#[derive(Debug, Default)]
struct Domains {
    slots: Vec<(DomainKey, Domain)>,
    index: HashMap<DomainKey, usize>,
    per_exporter: HashMap<IpAddr, usize>,
    last: usize,
}

impl Domains {
    fn get_mut(&mut self, key: &DomainKey) -> Option<&mut Domain> {
        if self.slots.get(self.last).is_none_or(|(k, _)| k != key) {
            self.last = *self.index.get(key)?;
        }
        self.slots.get_mut(self.last).map(|(_, d)| d)
    }

    fn contains(&mut self, key: &DomainKey) -> bool {
        self.get_mut(key).is_some()
    }

    fn len(&self) -> usize {
        self.slots.len()
    }

    fn insert(&mut self, key: DomainKey) -> Option<&mut Domain> {
        self.index.insert(key, self.slots.len());
        *self.per_exporter.entry(key.exporter).or_default() += 1;
        self.slots.push((key, Domain::default()));
        self.last = self.slots.len() - 1;
        self.slots.last_mut().map(|(_, d)| d)
    }
}

/// What one dialect decoder sees: who sent the datagram, when, and the domains to keep state in.
#[derive(Debug)]
pub(crate) struct Cx<'a> {
    /// Source address of the datagram.
    pub exporter: IpAddr,
    /// Receive time, nanoseconds since the epoch.
    pub received: u64,
    /// Bounds to respect.
    pub limits: &'a Limits,
    domains: &'a mut Domains,
    /// The domain the datagram was found to belong to, once its header said.
    current: Option<DomainKey>,
}

impl Cx<'_> {
    /// The state of `(exporter, dialect, id)`, made if new and within limits. The datagram's counters
    /// (datagrams, bytes, errors) go to the last domain looked up here.
    pub fn domain(&mut self, dialect: Dialect, id: u32, offset: usize) -> Result<&mut Domain, DecodeError> {
        let key = DomainKey {
            exporter: self.exporter,
            dialect,
            domain: id,
        };
        self.current = Some(key);
        let domains = &mut *self.domains;
        if !domains.contains(&key) {
            let n = domains.per_exporter.get(&key.exporter).copied().unwrap_or(0);
            if n >= self.limits.max_domains_per_exporter {
                self.current = None;
                return Err(DecodeError::LimitReached {
                    offset,
                    what: "domains per exporter",
                    limit: self.limits.max_domains_per_exporter,
                });
            }
            if domains.len() >= self.limits.max_domains {
                self.current = None;
                return Err(DecodeError::LimitReached {
                    offset,
                    what: "domains",
                    limit: self.limits.max_domains,
                });
            }
            domains.insert(key);
        }
        domains.get_mut(&key).ok_or(DecodeError::LimitReached {
            offset,
            what: "domains",
            limit: self.limits.max_domains,
        })
    }
}

/// The result of decoding one datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Flows appended to the batch.
    pub records: usize,
    /// The domain the datagram was counted on.
    pub domain: DomainKey,
    /// What stopped decoding, if anything did. Flows decoded before it are kept.
    pub error: Option<DecodeError>,
}

/// Decodes export datagrams of every dialect into a [`FlowBatch`], keeping per-domain state.
#[derive(Debug, Default)]
pub struct Decoder {
    limits: Limits,
    domains: Domains,
}

impl Decoder {
    /// A decoder with the given limits.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            domains: Domains::default(),
        }
    }

    /// The dialect a datagram's version field names, without decoding it.
    pub fn detect(datagram: &[u8]) -> Dialect {
        match datagram {
            [0, 1, ..] => Dialect::NetflowV1,
            [0, 5, ..] => Dialect::NetflowV5,
            [0, 7, ..] => Dialect::NetflowV7,
            [0, 8, ..] => Dialect::NetflowV8,
            [0, 9, ..] => Dialect::NetflowV9,
            [0, 10, ..] => Dialect::Ipfix,
            [0, 0, 0, 2 | 4 | 5, ..] => Dialect::Sflow,
            _ => Dialect::Unknown,
        }
    }

    /// Decodes one datagram from `exporter`, received at `received` (nanoseconds since the epoch), appending
    /// its flows to `out`. Never panics; errors are counted on the exporter's domain and returned.
    pub fn decode(
        &mut self,
        exporter: IpAddr,
        received: u64,
        datagram: &[u8],
        out: &mut FlowBatch,
    ) -> Outcome {
        let before = out.len();
        let dialect = Self::detect(datagram);
        let mut cx = Cx {
            exporter,
            received,
            limits: &self.limits,
            domains: &mut self.domains,
            current: None,
        };
        let result = match dialect {
            Dialect::NetflowV1 | Dialect::NetflowV5 | Dialect::NetflowV7 | Dialect::NetflowV8 => {
                netflow::decode(&mut cx, dialect, datagram, out)
            }
            Dialect::NetflowV9 => v9::decode(&mut cx, datagram, out),
            Dialect::Ipfix => ipfix::decode(&mut cx, datagram, out),
            Dialect::Sflow => sflow::decode(&mut cx, datagram, out),
            Dialect::Unknown => {
                let version = Reader::new(datagram).u16().map_or(0, u32::from);
                Err(DecodeError::UnknownVersion { offset: 0, version })
            }
        };
        let fallback = DomainKey {
            exporter,
            dialect,
            domain: 0,
        };
        let key = cx.current.unwrap_or(fallback);
        let error = result.err();
        // A datagram that failed before naming its domain is counted on the exporter's domain 0 of its
        // dialect, if the limits still allow one more domain; otherwise it is only reported.
        if !cx.domains.contains(&key) {
            let _over_limit = cx.domain(dialect, 0, 0);
        }
        if let Some(domain) = self.domains.get_mut(&key) {
            domain.counters.datagrams += 1;
            domain.counters.bytes += datagram.len() as u64;
            if let Some(e) = &error {
                domain.counters.error(e.kind());
            }
        }
        Outcome {
            records: out.len() - before,
            domain: key,
            error,
        }
    }

    /// Drops data that has waited too long for its template (counted as
    /// [`ErrorKind::TemplateTimeout`](crate::ErrorKind::TemplateTimeout)). Call it now and then, with the
    /// current time in nanoseconds since the epoch.
    pub fn expire(&mut self, now: u64) {
        let hold = self.limits.pending_hold_ns;
        for (_, domain) in &mut self.domains.slots {
            if let DialectState::Templates(t) = &mut domain.state {
                t.expire(now.saturating_sub(hold), &mut domain.counters);
            }
        }
    }

    /// Every domain seen, with its counters and state.
    pub fn domains(&self) -> impl Iterator<Item = (&DomainKey, &Domain)> {
        self.domains.slots.iter().map(|(k, d)| (k, d))
    }

    /// The limits this decoder enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn counts_unknown_versions_on_the_exporter() {
        let mut d = Decoder::default();
        let mut out = FlowBatch::new();
        let ex: IpAddr = "192.0.2.9".parse().unwrap();
        let o = d.decode(ex, 1, &[0, 42, 0, 0], &mut out);
        assert!(matches!(
            o.error,
            Some(DecodeError::UnknownVersion {
                version: 42,
                offset: 0
            })
        ));
        assert_eq!(o.records, 0);
        let (key, dom) = d.domains().next().unwrap();
        assert_eq!(
            key,
            &DomainKey {
                exporter: ex,
                dialect: Dialect::Unknown,
                domain: 0
            }
        );
        assert_eq!(dom.counters.datagrams, 1);
        assert_eq!(dom.counters.bytes, 4);
        assert_eq!(dom.counters.errors_of(ErrorKind::UnknownVersion), 1);
        let o = d.decode(ex, 1, &[], &mut out);
        assert!(matches!(
            o.error,
            Some(DecodeError::UnknownVersion { version: 0, .. })
        ));
    }

    #[test]
    fn bounds_domains_per_exporter() {
        let limits = Limits {
            max_domains_per_exporter: 2,
            ..Limits::default()
        };
        let mut domains = Domains::default();
        let mut cx = Cx {
            exporter: "192.0.2.1".parse().unwrap(),
            received: 0,
            limits: &limits,
            domains: &mut domains,
            current: None,
        };
        assert!(cx.domain(Dialect::Ipfix, 1, 0).is_ok());
        assert!(cx.domain(Dialect::Ipfix, 2, 0).is_ok());
        assert!(cx.domain(Dialect::Ipfix, 1, 0).is_ok());
        assert!(matches!(
            cx.domain(Dialect::Ipfix, 3, 16),
            Err(DecodeError::LimitReached { offset: 16, .. })
        ));
    }

    #[test]
    fn detects_dialects_by_version() {
        assert_eq!(Decoder::detect(&[0, 5, 0, 1]), Dialect::NetflowV5);
        assert_eq!(Decoder::detect(&[0, 10, 0, 16]), Dialect::Ipfix);
        assert_eq!(Decoder::detect(&[0, 0, 0, 5, 0, 0, 0, 1]), Dialect::Sflow);
        assert_eq!(Decoder::detect(&[0, 0, 0, 3]), Dialect::Unknown);
        assert_eq!(Decoder::detect(&[]), Dialect::Unknown);
    }
}
