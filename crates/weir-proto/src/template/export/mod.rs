//! Building NetFlow v9 and IPFIX datagrams from [`FlowRecord`]s, for a flow probe: a data template chosen
//! by the caller (a list of information elements), an options template announcing the sampling rate, and
//! the header's sequence numbers and times kept right across datagrams.
//!
//! Values are written in the field's length, so a template may use reduced-size encoding (RFC 7011 6.2),
//! e.g. a 4-byte octetDeltaCount.
//!
//! [`RecordLayout`] is the record encoding on its own, for exporters that frame their
//! messages themselves (several templates per message, datagrams sized to a path MTU).

mod record;

use thiserror::Error;
use weir_flow::FlowRecord;

pub use record::{RecordClock, RecordLayout};

use crate::template::record::{FieldSpec, OptionsTemplateRecord, TemplateRecord};
use crate::template::sets::Set;
use crate::{ipfix, v9};

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

/// Builds the datagrams of one exporter domain.
#[derive(Debug, Clone)]
pub struct ExportBuilder {
    dialect: Format,
    domain: u32,
    template: TemplateRecord,
    layout: RecordLayout,
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
        let layout = RecordLayout::new(&fields)?;
        Ok(Self {
            dialect,
            domain,
            layout,
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
                self.layout.write(r, &times, &mut bytes);
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
