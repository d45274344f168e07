//! Encoding of [`extra_fields`](crate::FlowRecord::extra_fields): the information elements Weir has no column
//! for, kept so that nothing an exporter sent is lost.
//!
//! Each entry is `enterprise (u32 BE) | element id (u16 BE) | length (u16 BE) | value`, end to end, in the
//! order the exporter sent them. Enterprise 0 is IANA.

/// One kept information element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtraField<'a> {
    /// Private enterprise number; 0 for IANA elements.
    pub enterprise: u32,
    /// Element id within the enterprise (without the enterprise bit).
    pub id: u16,
    /// The value as it was on the wire.
    pub value: &'a [u8],
}

/// Appends one entry to an encoded extra-fields buffer. Values longer than 65535 bytes cannot occur on the
/// wire (IPFIX lengths are 16-bit) and are cut there.
pub fn push_extra(buf: &mut Vec<u8>, enterprise: u32, id: u16, value: &[u8]) {
    let value = &value[..value.len().min(usize::from(u16::MAX))];
    buf.extend_from_slice(&enterprise.to_be_bytes());
    buf.extend_from_slice(&id.to_be_bytes());
    buf.extend_from_slice(&(value.len() as u16).to_be_bytes());
    buf.extend_from_slice(value);
}

/// Iterates over an encoded extra-fields buffer; stops at the first malformed entry.
pub fn extra_fields(mut buf: &[u8]) -> impl Iterator<Item = ExtraField<'_>> {
    std::iter::from_fn(move || {
        let (head, rest) = buf.split_first_chunk::<8>()?;
        let len = usize::from(u16::from_be_bytes([head[6], head[7]]));
        let value = rest.get(..len)?;
        buf = &rest[len..];
        Some(ExtraField {
            enterprise: u32::from_be_bytes([head[0], head[1], head[2], head[3]]),
            id: u16::from_be_bytes([head[4], head[5]]),
            value,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_back_in_order() {
        let mut buf = Vec::new();
        push_extra(&mut buf, 0, 95, &[3, 0, 0, 80]);
        push_extra(&mut buf, 9, 12235, b"");
        let got: Vec<_> = extra_fields(&buf).collect();
        assert_eq!(
            got,
            [
                ExtraField {
                    enterprise: 0,
                    id: 95,
                    value: &[3, 0, 0, 80]
                },
                ExtraField {
                    enterprise: 9,
                    id: 12235,
                    value: b""
                },
            ]
        );
    }

    #[test]
    fn stops_at_a_truncated_entry() {
        let mut buf = Vec::new();
        push_extra(&mut buf, 0, 95, &[1, 2, 3]);
        buf.pop();
        assert_eq!(extra_fields(&buf).count(), 0);
    }
}
