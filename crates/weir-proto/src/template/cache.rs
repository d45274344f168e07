//! [`TemplateCache`]: one domain's templates, options state and held data.

use std::collections::BTreeMap;

use weir_flow::{FlowBatch, FlowRecord};

use crate::decoder::Limits;
use crate::error::{DecodeError, ErrorKind};
use crate::reader::Reader;
use crate::stats::Counters;
use crate::template::SetCx;
use crate::template::options::OptionsState;
use crate::template::pending::{Held, Pending};
use crate::template::plan::{Plan, TimeBase};
use crate::template::record::{FieldSpec, OptionsTemplateRecord, TemplateRecord};

/// The largest record a datagram can carry: 65535 bytes less a header and a set header.
const MAX_RECORD: usize = u16::MAX as usize - 20;

/// A known template.
#[derive(Debug, Clone, PartialEq)]
enum Template {
    /// A data template and its plan.
    Data { fields: Vec<FieldSpec>, plan: Plan },
    /// An options template.
    Options {
        scope: Vec<FieldSpec>,
        fields: Vec<FieldSpec>,
        min_len: usize,
    },
}

/// Templates, options data and pending data of one domain.
///
/// It keeps the domain's gauges true: `Counters::templates` is the number of templates and options
/// templates known, and `Counters::pending_sets` the number of data sets held for a template (a held
/// set's record count is unknown until its template says how long a record is).
#[derive(Debug, Default)]
pub struct TemplateCache {
    /// By id; a B-tree, since ids are the exporter's to choose and lookups must stay cheap whatever they are.
    templates: BTreeMap<u16, Template>,
    options: OptionsState,
    pending: Pending,
    /// Reused for each record's `extra_fields`, so records allocate nothing of their own.
    extra: Vec<u8>,
    /// Reused to stage decoded flows before they are appended to the batch a few at a time.
    stage: Vec<FlowRecord>,
    /// Whether the last message had data held for a template (its record count is unknown, so an IPFIX
    /// sequence gap that follows is not counted as loss).
    pub(crate) held_last: bool,
}

/// Shortest record of a field list. With `variable` (IPFIX), a length of 65535 marks a variable-length
/// field, which takes at least its one length byte; in NetFlow v9 it is a length like any other.
fn record_len(fields: &[FieldSpec], variable: bool) -> usize {
    fields
        .iter()
        .map(|f| {
            if variable && f.is_variable() {
                1
            } else {
                usize::from(f.length)
            }
        })
        .sum()
}

/// A few zero bytes at the end of a set: padding to a 4-byte boundary, not a record.
fn is_zero_padding(mut body: Reader<'_>) -> bool {
    body.remaining() < 4 && body.rest().iter().all(|&b| b == 0)
}

impl TemplateCache {
    /// Templates and options templates known.
    pub fn templates(&self) -> usize {
        self.templates.len()
    }

    /// The fields of template `id` (scope fields first for an options template).
    pub fn template_fields(&self, id: u16) -> Option<Vec<FieldSpec>> {
        self.templates.get(&id).map(|t| match t {
            Template::Data { fields, .. } => fields.clone(),
            Template::Options { scope, fields, .. } => scope.iter().chain(fields).copied().collect(),
        })
    }

    /// What options data said about this domain.
    pub fn options(&self) -> &OptionsState {
        &self.options
    }

    /// Data sets waiting for their template.
    pub fn pending_sets(&self) -> usize {
        self.pending.len()
    }

    /// Bytes of data sets waiting for their template.
    pub fn pending_bytes(&self) -> usize {
        self.pending.bytes()
    }

    /// Drops pending data received before `before` (nanoseconds since the epoch), counting each set as
    /// [`ErrorKind::TemplateTimeout`].
    pub(crate) fn expire(&mut self, before_ns: u64, counters: &mut Counters) {
        let n = self.pending.expire(before_ns) as u64;
        counters.errors[ErrorKind::TemplateTimeout as usize] += n;
        counters.pending_sets = self.pending.len() as u64;
    }

    /// Checks a new template's id, record length and the per-domain count.
    fn admit(&self, id: u16, min_len: usize, offset: usize, limits: &Limits) -> Result<(), DecodeError> {
        let bad = |reason| {
            Err(DecodeError::BadTemplate {
                offset,
                template_id: id,
                reason,
            })
        };
        if id < 256 {
            return bad("template id below 256");
        }
        if min_len == 0 {
            return bad("zero-length record");
        }
        if min_len > MAX_RECORD {
            return bad("record longer than a datagram");
        }
        if !self.templates.contains_key(&id) && self.templates.len() >= limits.max_templates_per_domain {
            return Err(DecodeError::LimitReached {
                offset,
                what: "templates",
                limit: limits.max_templates_per_domain,
            });
        }
        Ok(())
    }

    /// Defines (or redefines) a data template, then decodes data that was waiting for it.
    pub(crate) fn define(
        &mut self,
        t: TemplateRecord,
        variable: bool,
        offset: usize,
        limits: &Limits,
        counters: &mut Counters,
        out: &mut FlowBatch,
    ) -> Result<(), DecodeError> {
        self.admit(t.id, record_len(&t.fields, variable), offset, limits)?;
        if matches!(self.templates.get(&t.id), Some(Template::Data { fields, .. }) if *fields == t.fields) {
            return Ok(());
        }
        let plan = Plan::compile(&t.fields);
        self.templates.insert(
            t.id,
            Template::Data {
                fields: t.fields,
                plan,
            },
        );
        self.settle(t.id, limits, counters, out);
        Ok(())
    }

    /// Defines (or redefines) an options template, then takes in options data that was waiting for it.
    pub(crate) fn define_options(
        &mut self,
        t: OptionsTemplateRecord,
        variable: bool,
        offset: usize,
        limits: &Limits,
        counters: &mut Counters,
        out: &mut FlowBatch,
    ) -> Result<(), DecodeError> {
        let min_len = record_len(&t.scope_fields, variable) + record_len(&t.fields, variable);
        self.admit(t.id, min_len, offset, limits)?;
        self.templates.insert(
            t.id,
            Template::Options {
                scope: t.scope_fields,
                fields: t.fields,
                min_len,
            },
        );
        self.settle(t.id, limits, counters, out);
        Ok(())
    }

    /// Updates the template gauge and decodes the sets that waited for template `id`.
    fn settle(&mut self, id: u16, limits: &Limits, counters: &mut Counters, out: &mut FlowBatch) {
        counters.templates = self.templates.len() as u64;
        for held in self.pending.take(id) {
            let body = Reader::at(&held.bytes, held.offset);
            match self.data(id, body, &held.cx, false, limits, counters, out) {
                Ok(n) => counters.late_records += n as u64,
                Err(e) => counters.error(e.kind()),
            }
        }
        counters.pending_sets = self.pending.len() as u64;
    }

    /// Removes template `id` (IPFIX withdrawal).
    pub(crate) fn withdraw(&mut self, id: u16, counters: &mut Counters) {
        self.templates.remove(&id);
        counters.templates = self.templates.len() as u64;
    }

    /// Removes every data template, or every options template (IPFIX all-templates withdrawal).
    pub(crate) fn withdraw_all(&mut self, options: bool, counters: &mut Counters) {
        self.templates
            .retain(|_, t| matches!(t, Template::Options { .. }) != options);
        counters.templates = self.templates.len() as u64;
    }

    /// Decodes a data set for template `id`, or holds it until the template comes when `may_hold`.
    /// Returns the data records decoded (flows and options records).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn data(
        &mut self,
        id: u16,
        mut body: Reader<'_>,
        cx: &SetCx,
        may_hold: bool,
        limits: &Limits,
        counters: &mut Counters,
        out: &mut FlowBatch,
    ) -> Result<usize, DecodeError> {
        match self.templates.get(&id) {
            Some(Template::Data { plan, .. }) => {
                let base = FlowRecord {
                    time_received: cx.received,
                    exporter_addr: weir_flow::ip(cx.exporter),
                    observation_domain: cx.domain,
                    sampling_rate: 1,
                    flows: 1,
                    ..FlowRecord::default()
                };
                let times = TimeBase {
                    export_ns: cx.export_ns,
                    uptime_ms: cx.uptime_ms,
                    init_ns: self.options.system_init_ns(),
                };
                let before = out.len();
                let result = plan.decode_set(
                    body,
                    &base,
                    &times,
                    &self.options,
                    (&mut self.extra, &mut self.stage),
                    out,
                );
                counters.records += (out.len() - before) as u64;
                result
            }
            Some(Template::Options {
                scope,
                fields,
                min_len,
            }) => {
                let mut n = 0;
                while body.remaining() >= *min_len && !is_zero_padding(body) {
                    self.options
                        .absorb(id, scope, fields, cx.uptime_ms.is_some(), &mut body)?;
                    counters.options_records += 1;
                    n += 1;
                }
                Ok(n)
            }
            None if may_hold => {
                let len = body.remaining();
                if !self.pending.fits(len, limits.max_pending_bytes) {
                    counters.error(ErrorKind::PendingOverflow);
                    return Ok(0);
                }
                let offset = body.offset();
                self.pending.hold(Held {
                    template_id: id,
                    offset,
                    cx: *cx,
                    bytes: body.rest().into(),
                });
                counters.pending_sets = self.pending.len() as u64;
                self.held_last = true;
                Ok(0)
            }
            None => Ok(0),
        }
    }
}
