//! Template records as they are on the wire: field specifiers, templates and options templates, in the
//! NetFlow v9 (RFC 3954 section 5.2, 6.1) and IPFIX (RFC 7011 section 3.2, 3.4) encodings.

use crate::error::DecodeError;
use crate::reader::Reader;

/// The field length that marks a variable-length field in IPFIX (RFC 7011 section 7).
pub const VARIABLE_LENGTH: u16 = u16::MAX;

/// Reads one field's value from a data record: `length` bytes, or for a variable-length field the length
/// that precedes the value (RFC 7011 section 7: one byte, or 255 and then two bytes).
#[inline]
pub(crate) fn read_value<'a>(r: &mut Reader<'a>, length: u16) -> Result<&'a [u8], DecodeError> {
    let len = match length {
        VARIABLE_LENGTH => match r.u8()? {
            255 => usize::from(r.u16()?),
            short => usize::from(short),
        },
        fixed => usize::from(fixed),
    };
    r.bytes(len)
}

/// The enterprise bit of an IPFIX field specifier's element id.
const ENTERPRISE_BIT: u16 = 0x8000;

/// One field of a template: which element, how long, and (IPFIX) whose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldSpec {
    /// Element id (IPFIX: without the enterprise bit; NetFlow v9: the full 16-bit field type).
    pub id: u16,
    /// Length in bytes; [`VARIABLE_LENGTH`] in IPFIX for a variable-length field.
    pub length: u16,
    /// The private enterprise number when the IPFIX enterprise bit is set.
    pub enterprise: Option<u32>,
}

impl FieldSpec {
    /// An IANA (or NetFlow v9) field.
    pub const fn new(id: u16, length: u16) -> Self {
        Self {
            id,
            length,
            enterprise: None,
        }
    }

    /// An enterprise-specific IPFIX field.
    pub const fn enterprise(enterprise: u32, id: u16, length: u16) -> Self {
        Self {
            id,
            length,
            enterprise: Some(enterprise),
        }
    }

    /// Whether this is an IPFIX variable-length field.
    pub fn is_variable(&self) -> bool {
        self.length == VARIABLE_LENGTH
    }

    /// Reads a NetFlow v9 field (type, length).
    pub fn parse_v9(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self::new(r.u16()?, r.u16()?))
    }

    /// Reads an IPFIX field specifier, with its enterprise number when the enterprise bit is set.
    pub fn parse_ipfix(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let id = r.u16()?;
        let length = r.u16()?;
        let enterprise = if id & ENTERPRISE_BIT != 0 {
            Some(r.u32()?)
        } else {
            None
        };
        Ok(Self {
            id: id & !ENTERPRISE_BIT,
            length,
            enterprise,
        })
    }

    /// Writes the NetFlow v9 form.
    pub fn encode_v9(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&self.length.to_be_bytes());
    }

    /// Writes the IPFIX form.
    pub fn encode_ipfix(&self, out: &mut Vec<u8>) {
        let bit = if self.enterprise.is_some() {
            ENTERPRISE_BIT
        } else {
            0
        };
        out.extend_from_slice(&(self.id | bit).to_be_bytes());
        out.extend_from_slice(&self.length.to_be_bytes());
        if let Some(pen) = self.enterprise {
            out.extend_from_slice(&pen.to_be_bytes());
        }
    }
}

/// Reads `count` fields, refusing a count that the bytes left cannot hold before anything is allocated.
fn parse_fields(
    r: &mut Reader<'_>,
    count: usize,
    template_id: u16,
    offset: usize,
    parse: fn(&mut Reader<'_>) -> Result<FieldSpec, DecodeError>,
) -> Result<Vec<FieldSpec>, DecodeError> {
    if count.saturating_mul(4) > r.remaining() {
        return Err(DecodeError::BadTemplate {
            offset,
            template_id,
            reason: "more fields than the set holds",
        });
    }
    (0..count).map(|_| parse(r)).collect()
}

/// A (data) template record. No fields, in IPFIX, is a withdrawal of the template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TemplateRecord {
    /// Template id, 256 or more (or the set id, for a withdrawal of all templates).
    pub id: u16,
    /// The fields, in record order.
    pub fields: Vec<FieldSpec>,
}

impl TemplateRecord {
    /// Whether this record withdraws its template (IPFIX; field count 0).
    pub fn is_withdrawal(&self) -> bool {
        self.fields.is_empty()
    }

    /// Reads a NetFlow v9 template record.
    pub fn parse_v9(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let offset = r.offset();
        let id = r.u16()?;
        let count = usize::from(r.u16()?);
        Ok(Self {
            id,
            fields: parse_fields(r, count, id, offset, FieldSpec::parse_v9)?,
        })
    }

    /// Reads an IPFIX template record.
    pub fn parse_ipfix(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let offset = r.offset();
        let id = r.u16()?;
        let count = usize::from(r.u16()?);
        Ok(Self {
            id,
            fields: parse_fields(r, count, id, offset, FieldSpec::parse_ipfix)?,
        })
    }

    /// Writes the NetFlow v9 form.
    pub fn encode_v9(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&(self.fields.len() as u16).to_be_bytes());
        self.fields.iter().for_each(|f| f.encode_v9(out));
    }

    /// Writes the IPFIX form.
    pub fn encode_ipfix(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&(self.fields.len() as u16).to_be_bytes());
        self.fields.iter().for_each(|f| f.encode_ipfix(out));
    }
}

/// An options template record: scope fields say what the options data describes (the exporter, an interface,
/// a sampler...), the other fields carry the values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OptionsTemplateRecord {
    /// Template id, 256 or more (or the set id, for a withdrawal of all options templates).
    pub id: u16,
    /// Scope fields. In NetFlow v9 their ids are scope types (1 system, 2 interface, 3 line card, 4 cache,
    /// 5 template), not information elements.
    pub scope_fields: Vec<FieldSpec>,
    /// Option fields.
    pub fields: Vec<FieldSpec>,
}

impl OptionsTemplateRecord {
    /// Whether this record withdraws its template (IPFIX; field count 0).
    pub fn is_withdrawal(&self) -> bool {
        self.scope_fields.is_empty() && self.fields.is_empty()
    }

    /// Reads a NetFlow v9 options template record (lengths of the scope and option parts in bytes).
    pub fn parse_v9(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let offset = r.offset();
        let id = r.u16()?;
        let scope_len = r.u16()?;
        let option_len = r.u16()?;
        if scope_len % 4 != 0 || option_len % 4 != 0 {
            let value = u64::from(if scope_len % 4 != 0 { scope_len } else { option_len });
            return Err(DecodeError::BadLength {
                offset: offset + 2,
                what: "options template length",
                value,
            });
        }
        let scope_fields = parse_fields(r, usize::from(scope_len / 4), id, offset, FieldSpec::parse_v9)?;
        let fields = parse_fields(r, usize::from(option_len / 4), id, offset, FieldSpec::parse_v9)?;
        Ok(Self {
            id,
            scope_fields,
            fields,
        })
    }

    /// Reads an IPFIX options template record (field count, then scope field count); a field count of 0 is a
    /// withdrawal and has no scope field count.
    pub fn parse_ipfix(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let offset = r.offset();
        let id = r.u16()?;
        let count = usize::from(r.u16()?);
        if count == 0 {
            return Ok(Self {
                id,
                scope_fields: Vec::new(),
                fields: Vec::new(),
            });
        }
        let scope_count = usize::from(r.u16()?);
        if scope_count == 0 || scope_count > count {
            return Err(DecodeError::BadTemplate {
                offset,
                template_id: id,
                reason: "bad scope field count",
            });
        }
        let scope_fields = parse_fields(r, scope_count, id, offset, FieldSpec::parse_ipfix)?;
        let fields = parse_fields(r, count - scope_count, id, offset, FieldSpec::parse_ipfix)?;
        Ok(Self {
            id,
            scope_fields,
            fields,
        })
    }

    /// Writes the NetFlow v9 form.
    pub fn encode_v9(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&((self.scope_fields.len() * 4) as u16).to_be_bytes());
        out.extend_from_slice(&((self.fields.len() * 4) as u16).to_be_bytes());
        self.scope_fields
            .iter()
            .chain(&self.fields)
            .for_each(|f| f.encode_v9(out));
    }

    /// Writes the IPFIX form.
    pub fn encode_ipfix(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&((self.scope_fields.len() + self.fields.len()) as u16).to_be_bytes());
        if !self.is_withdrawal() {
            out.extend_from_slice(&(self.scope_fields.len() as u16).to_be_bytes());
        }
        self.scope_fields
            .iter()
            .chain(&self.fields)
            .for_each(|f| f.encode_ipfix(out));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enterprise_field_round_trips() {
        let bytes = [0x80, 0x01, 0x00, 0x04, 0x00, 0x00, 0x1a, 0xdc];
        let mut r = Reader::new(&bytes);
        let f = FieldSpec::parse_ipfix(&mut r).unwrap();
        assert_eq!(f, FieldSpec::enterprise(6876, 1, 4));
        assert!(r.is_empty());
        let mut out = Vec::new();
        f.encode_ipfix(&mut out);
        assert_eq!(out, bytes);
    }

    #[test]
    fn rejects_field_count_larger_than_the_set() {
        let bytes = [0x01, 0x00, 0xff, 0xff, 0x00, 0x08, 0x00, 0x04];
        let err = TemplateRecord::parse_ipfix(&mut Reader::at(&bytes, 20)).unwrap_err();
        assert!(
            matches!(
                err,
                DecodeError::BadTemplate {
                    offset: 20,
                    template_id: 256,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn ipfix_options_template_round_trips() {
        let bytes = [1, 1, 0, 3, 0, 1, 0, 149, 0, 4, 0, 34, 0, 4, 0, 35, 0, 1];
        let mut r = Reader::new(&bytes);
        let t = OptionsTemplateRecord::parse_ipfix(&mut r).unwrap();
        assert_eq!(t.scope_fields, [FieldSpec::new(149, 4)]);
        assert_eq!(t.fields, [FieldSpec::new(34, 4), FieldSpec::new(35, 1)]);
        assert!(r.is_empty());
        let mut out = Vec::new();
        t.encode_ipfix(&mut out);
        assert_eq!(out, bytes);
    }

    #[test]
    fn rejects_options_template_without_scope() {
        let bytes = [1, 1, 0, 1, 0, 0, 0, 34, 0, 4];
        assert!(matches!(
            OptionsTemplateRecord::parse_ipfix(&mut Reader::new(&bytes)),
            Err(DecodeError::BadTemplate {
                reason: "bad scope field count",
                ..
            })
        ));
        let v9 = [1, 1, 0, 3, 0, 4];
        assert!(matches!(
            OptionsTemplateRecord::parse_v9(&mut Reader::new(&v9)),
            Err(DecodeError::BadLength { offset: 2, .. })
        ));
    }
}
