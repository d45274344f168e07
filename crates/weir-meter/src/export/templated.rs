//! NetFlow v9 and IPFIX datagrams of one stream: IPv4 and IPv6 records in a data set each, the templates
//! (and sampling options) in the first datagram and again when the refresh says, headers numbered and
//! stamped as each version wants.
//!
//! - v9: the sequence counts datagrams; the header's count counts template, options and data records; the
//!   header names the next whole second and the uptime then (see [`v9_header_instant`]).
//! - IPFIX: the sequence counts data records, options records included (RFC 7011 section 3.1); records
//!   carry absolute milliseconds, so the header's export time is simply the current second.

use weir_flow::FlowRecord;
use weir_proto::template::FieldSpec;
use weir_proto::template::export::{RecordClock, RecordLayout};
use weir_proto::{ipfix, v9};

use super::announce::{
    Announcement, V4_TEMPLATE, V6_TEMPLATE, announcement, close_set, data_set_len, open_set, sampler_field,
    write_sampler,
};
use super::config::{ExportConfig, ExportConfigError, ExportFormat, TemplateRefresh};
use super::elements::{Dialect, template_fields};
use super::family::Family;
use super::uptime::{uptime_ms, v9_header_instant};
use crate::sampling::Sampling;

const SECOND: u64 = 1_000_000_000;

/// One IP version's template.
#[derive(Debug, Clone)]
struct Layout {
    id: u16,
    /// The elements filled from the flow record.
    fields: Vec<FieldSpec>,
    /// How they are written.
    record: RecordLayout,
    /// Bytes per record, sampler id included.
    len: usize,
}

/// Writes the datagrams of one v9 or IPFIX stream.
#[derive(Debug, Clone)]
pub(crate) struct TemplateWriter {
    dialect: Dialect,
    domain: u32,
    layouts: [Layout; 2],
    /// The sampler id element each record ends with, when sampled.
    sampler: Option<FieldSpec>,
    announcement: Announcement,
    refresh: TemplateRefresh,
    max_payload: usize,
    /// v9: datagrams sent; IPFIX: data records sent; modulo 2^32.
    sequence: u32,
    /// When templates were last sent; `None` before the first time.
    templates_at: Option<u64>,
    /// Datagrams sent since (and including) the last that carried templates.
    since_templates: u32,
    /// The header, built after the body.
    header: Vec<u8>,
}

impl TemplateWriter {
    /// The writer for a checked v9 or IPFIX `config`.
    pub fn new(config: &ExportConfig) -> Result<Self, ExportConfigError> {
        let dialect = match config.format {
            ExportFormat::Ipfix => Dialect::Ipfix,
            _ => Dialect::V9,
        };
        let sampler = (config.sampling != Sampling::Off).then(|| sampler_field(dialect));
        let layout = |id, family| -> Result<Layout, ExportConfigError> {
            let (fields, record) = template_fields(config.fields(), dialect, family)?;
            let len = fields.iter().chain(&sampler).map(|f| usize::from(f.length)).sum();
            Ok(Layout {
                id,
                fields,
                record,
                len,
            })
        };
        let layouts = [layout(V4_TEMPLATE, Family::V4)?, layout(V6_TEMPLATE, Family::V6)?];
        let with_sampler = |l: &Layout| l.fields.iter().chain(&sampler).copied().collect::<Vec<_>>();
        let announcement = announcement(
            dialect,
            &with_sampler(&layouts[0]),
            &with_sampler(&layouts[1]),
            config.sampling,
            &config.interface_names,
        );
        let writer = TemplateWriter {
            dialect,
            domain: config.domain,
            layouts,
            sampler,
            announcement,
            refresh: config.refresh,
            max_payload: config.max_payload(),
            sequence: 0,
            templates_at: None,
            since_templates: 0,
            header: Vec::with_capacity(v9::Header::LEN),
        };
        let largest = writer
            .layouts
            .iter()
            .map(|l| data_set_len(1, l.len))
            .max()
            .unwrap_or(0);
        let needed = writer.header_len() + writer.announcement.bytes.len() + largest;
        if needed > writer.max_payload {
            return Err(ExportConfigError::MtuTooSmall {
                mtu: config.mtu,
                needed: needed + config.transport.overhead(),
            });
        }
        Ok(writer)
    }

    fn header_len(&self) -> usize {
        match self.dialect {
            Dialect::V9 => v9::Header::LEN,
            Dialect::Ipfix => ipfix::Header::LEN,
        }
    }

    /// Whether the next datagram, sent at `now`, carries the templates.
    pub fn templates_due(&self, now: u64) -> bool {
        self.idle_templates_due(now) || self.refresh.packets.is_some_and(|n| self.since_templates >= n)
    }

    /// Whether templates are due even with no record to send: never sent yet, or their time has come.
    pub fn idle_templates_due(&self, now: u64) -> bool {
        self.templates_at
            .is_none_or(|at| now.saturating_sub(at) >= self.refresh.interval_ns)
    }

    /// Whether a datagram sent at `now` holds `counts` records (IPv4, IPv6) within the MTU.
    pub fn fits(&self, counts: [usize; 2], now: u64) -> bool {
        let templates = if self.templates_due(now) {
            self.announcement.bytes.len()
        } else {
            0
        };
        let data: usize = counts
            .iter()
            .zip(&self.layouts)
            .map(|(&n, l)| data_set_len(n, l.len))
            .sum();
        self.header_len() + templates + data <= self.max_payload
    }

    /// Appends one datagram with `flows` (IP flows that [`fits`](Self::fits) allows, of the IP versions in
    /// `families`), and the templates if due, to `out`, for a probe up since `start_ns`. Returns the records
    /// written and whether the templates went with them.
    pub fn write(
        &mut self,
        flows: &[FlowRecord],
        families: &[Family],
        now: u64,
        start_ns: u64,
        out: &mut Vec<u8>,
    ) -> (usize, bool) {
        let start = out.len();
        let templates = self.templates_due(now);
        out.resize(start + self.header_len(), 0);
        if templates {
            out.extend_from_slice(&self.announcement.bytes);
        }
        // v9 stamps records in uptime against the header's instant; IPFIX records carry absolute times.
        let stamped = match self.dialect {
            Dialect::V9 => v9_header_instant(now),
            Dialect::Ipfix => now,
        };
        let clock = RecordClock {
            export_ns: stamped,
            uptime_ms: uptime_ms(start_ns, stamped),
        };
        let mut written = 0;
        for (layout, fam) in self.layouts.iter().zip([Family::V4, Family::V6]) {
            if !families.contains(&fam) {
                continue;
            }
            let of_family = flows
                .iter()
                .zip(families)
                .filter(|&(_, &f)| f == fam)
                .map(|(f, _)| f);
            let set = open_set(out, layout.id);
            for f in of_family {
                layout.record.write(f, &clock, out);
                if let Some(s) = self.sampler {
                    write_sampler(s, out);
                }
                written += 1;
            }
            close_set(out, set);
        }
        self.header.clear();
        match self.dialect {
            Dialect::V9 => {
                let announced = if templates { self.announcement.records } else { 0 };
                v9::Header {
                    version: 9,
                    count: announced.saturating_add(written as u16),
                    sys_uptime: clock.uptime_ms,
                    unix_secs: (stamped / SECOND) as u32,
                    sequence: self.sequence,
                    source_id: self.domain,
                }
                .encode(&mut self.header);
                self.sequence = self.sequence.wrapping_add(1);
            }
            Dialect::Ipfix => {
                let length = (out.len() - start) as u16;
                ipfix::Header {
                    version: 10,
                    export_time: (now / SECOND) as u32,
                    sequence: self.sequence,
                    observation_domain: self.domain,
                }
                .encode(length, &mut self.header);
                let options = if templates {
                    self.announcement.data_records
                } else {
                    0
                };
                self.sequence = self.sequence.wrapping_add(written as u32).wrapping_add(options);
            }
        }
        out[start..start + self.header.len()].copy_from_slice(&self.header);
        if templates {
            self.templates_at = Some(now);
            self.since_templates = 1;
        } else {
            self.since_templates = self.since_templates.saturating_add(1);
        }
        (written, templates)
    }
}
