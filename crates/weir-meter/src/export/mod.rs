//! Expired flows out as export datagrams, as a router's NetFlow export does: NetFlow v5, v8 (aggregation
//! caches), v9 and IPFIX, with sequence numbers, uptime, templates and sampling announced. No I/O: each
//! datagram is handed to a callback, which sends it.
//!
//! An [`Exporter`] is one export stream (one cache, one source id / observation domain). Records wait in it
//! until a datagram is full, as routers fill packets, but no longer than the hold time (1 s of packet time
//! by default); [`Exporter::tick`] sends them when no flow comes, and refreshes templates on time.
//!
//! - [`config`]: the settings, checked up front ([`ExportConfigError`] says which one is wrong and why).
//! - [`elements`]: schema fields to v9/IPFIX information elements, per IP version.
//! - [`announce`]: the templates and sampling options, encoded once per stream.
//! - [`fixed`] (v5, v8) and [`templated`] (v9, IPFIX): one datagram from a slice of flows.
//! - [`uptime`]: the probe's uptime on the packets' clock.

mod announce;
mod config;
mod counters;
mod elements;
mod family;
mod fixed;
mod templated;
mod uptime;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tshark;

use weir_flow::FlowRecord;
use weir_proto::netflow::ExportClock;

pub use config::{DEFAULT_FIELDS, ExportConfig, ExportConfigError, ExportFormat, TemplateRefresh, Transport};
pub use counters::ExportCounters;

use family::{Family, Skip, family};
use fixed::FixedWriter;
use templated::TemplateWriter;
use uptime::uptime_ms;

/// The datagram writer of a stream's format.
#[derive(Debug, Clone)]
enum Writer {
    Fixed(FixedWriter),
    /// Boxed: ten times the size of a fixed writer.
    Templated(Box<TemplateWriter>),
}

impl Writer {
    /// The flow's place in a datagram, or why the format leaves it out.
    fn classify(&self, flow: &FlowRecord) -> Result<Family, Skip> {
        match self {
            Writer::Fixed(_) => match family(flow, false)? {
                Family::V4 => Ok(Family::V4),
                Family::V6 => Err(Skip::Ipv6),
            },
            Writer::Templated(_) => family(flow, true),
        }
    }

    /// Whether one datagram sent at `now` holds `counts` (IPv4, IPv6) records.
    fn fits(&self, counts: [usize; 2], now: u64) -> bool {
        match self {
            Writer::Fixed(w) => counts[0] + counts[1] <= w.per_datagram(),
            Writer::Templated(w) => w.fits(counts, now),
        }
    }
}

/// One export stream: flows in, datagrams out.
#[derive(Debug, Clone)]
pub struct Exporter {
    writer: Writer,
    /// When the probe started (its uptime's zero), nanoseconds since the epoch.
    start_ns: u64,
    max_hold_ns: u64,
    /// Flows waiting for their datagram, the IP version of each (classified once, when it came), and how
    /// many of each version.
    pending: Vec<FlowRecord>,
    families: Vec<Family>,
    counts: [usize; 2],
    /// When the oldest waiting flow came.
    held_since: u64,
    /// The datagram being built, reused.
    out: Vec<u8>,
    counters: ExportCounters,
}

impl Exporter {
    /// A stream configured by `config`, for a probe that started at `start_ns` (nanoseconds since the
    /// epoch; for a capture, its first packet's time).
    pub fn new(config: ExportConfig, start_ns: u64) -> Result<Exporter, ExportConfigError> {
        config.check()?;
        let writer = if config.format.has_templates() {
            Writer::Templated(Box::new(TemplateWriter::new(&config)?))
        } else {
            Writer::Fixed(FixedWriter::new(&config)?)
        };
        Ok(Exporter {
            writer,
            start_ns,
            max_hold_ns: config.max_hold_ns,
            pending: Vec::new(),
            families: Vec::new(),
            counts: [0; 2],
            held_since: 0,
            out: Vec::with_capacity(config.max_payload()),
            counters: ExportCounters::default(),
        })
    }

    /// Takes expired `flows` at `now` (nanoseconds since the epoch, the packets' clock) and hands every
    /// datagram they fill to `emit`; the rest wait for more, for [`tick`](Self::tick) or [`flush`](Self::flush).
    pub fn export(&mut self, flows: &[FlowRecord], now: u64, emit: &mut impl FnMut(&[u8])) {
        for flow in flows {
            match self.writer.classify(flow) {
                Ok(fam) => self.push(flow, fam, now, emit),
                Err(Skip::Ipv6) => self.counters.skipped_ipv6 += 1,
                Err(Skip::NonIp) => self.counters.skipped_non_ip += 1,
            }
        }
        self.send_held(now, emit);
    }

    /// Sends the waiting flows once they have waited the hold time, and the templates alone when their
    /// refresh time has come and no flow is waiting to carry them. Call it about once a second.
    pub fn tick(&mut self, now: u64, emit: &mut impl FnMut(&[u8])) {
        self.send_held(now, emit);
        if let Writer::Templated(w) = &self.writer
            && self.pending.is_empty()
            && w.idle_templates_due(now)
        {
            self.send(0, now, emit);
        }
    }

    /// Sends every waiting flow now (at the end of a capture, or when the probe stops).
    pub fn flush(&mut self, now: u64, emit: &mut impl FnMut(&[u8])) {
        while !self.pending.is_empty() {
            let n = self.fitting(now);
            self.send(n, now, emit);
        }
    }

    /// What the stream did so far.
    pub fn counters(&self) -> &ExportCounters {
        &self.counters
    }

    /// Flows waiting for their datagram.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    fn push(&mut self, flow: &FlowRecord, fam: Family, now: u64, emit: &mut impl FnMut(&[u8])) {
        if self.pending.is_empty() {
            self.held_since = now;
        }
        self.pending.push(*flow);
        self.families.push(fam);
        self.counts[fam as usize] += 1;
        while !self.writer.fits(self.counts, now) {
            let n = self.fitting(now);
            self.send(n, now, emit);
        }
        let room = |extra: [usize; 2]| {
            self.writer
                .fits([self.counts[0] + extra[0], self.counts[1] + extra[1]], now)
        };
        if !room([1, 0]) && !room([0, 1]) {
            self.flush(now, emit);
        }
    }

    fn send_held(&mut self, now: u64, emit: &mut impl FnMut(&[u8])) {
        if !self.pending.is_empty() && now.saturating_sub(self.held_since) >= self.max_hold_ns {
            self.flush(now, emit);
        }
    }

    /// How many of the waiting flows, from the oldest, one datagram sent at `now` holds (at least one: the
    /// config check made sure one record always fits).
    fn fitting(&self, now: u64) -> usize {
        let mut counts = [0; 2];
        let mut n = 0;
        for &fam in &self.families {
            counts[fam as usize] += 1;
            if !self.writer.fits(counts, now) {
                break;
            }
            n += 1;
        }
        n.max(1)
    }

    /// Sends the `n` oldest waiting flows (none: the templates alone) in one datagram.
    fn send(&mut self, n: usize, now: u64, emit: &mut impl FnMut(&[u8])) {
        let n = n.min(self.pending.len());
        let flows = &self.pending[..n];
        let families = &self.families[..n];
        self.out.clear();
        let (written, templates) = match &mut self.writer {
            Writer::Fixed(w) => {
                let clock = ExportClock::at(now, uptime_ms(self.start_ns, now));
                (w.write(flows, clock, &mut self.out), false)
            }
            Writer::Templated(w) => w.write(flows, families, now, self.start_ns, &mut self.out),
        };
        if !self.out.is_empty() {
            emit(&self.out);
            let c = &mut self.counters;
            c.datagrams += 1;
            c.bytes += self.out.len() as u64;
            c.flows += written as u64;
            c.template_sends += u64::from(templates);
        }
        for &fam in &self.families[..n] {
            self.counts[fam as usize] -= 1;
        }
        self.pending.drain(..n);
        self.families.drain(..n);
        self.held_since = now;
    }
}
