//! What NetFlow v1, v5, v7 and v8 datagrams share: a fixed header holding a record count, then that many
//! records of one fixed size. The rules for the count and for bytes after the last record live here, with
//! the loop that turns records into flows.
//!
//! - The count is checked against the bytes present before any record is read. A count that claims more
//!   records than the datagram holds is a [`DecodeError::BadLength`] at the count's offset and nothing is
//!   decoded: if the count lies, nothing else in the header can be trusted either. A count of 0 is the same
//!   error: a datagram without flows is not something these versions send.
//! - A count above the version's documented maximum is accepted when the bytes are there. The maxima are
//!   what fits a 1500-byte MTU, not a rule of the format; exporters on jumbo-frame paths send more, and the
//!   datagram's length already bounds the work.
//! - After the last record, fewer bytes than one record are padding and accepted: some exporters pad, and
//!   counting their every datagram as an error would hide real errors. A record's worth or more means the
//!   count disagrees with the length (records the count does not cover, or datagrams glued together): the
//!   counted records are kept, then [`DecodeError::TrailingBytes`] is returned so the counters show it.

use weir_flow::{FlowBatch, FlowRecord};

use super::clock::ExportClock;
use super::wire::Wire;
use crate::error::DecodeError;
use crate::reader::Reader;

/// Offset of the record count in every header, right after the version.
pub(crate) const COUNT_OFFSET: usize = 2;

/// A record of NetFlow v1, v5, v7 or v8, and how it maps to Weir's flow columns.
pub trait Record: Wire {
    /// The most records one datagram carries, as Cisco documents it (what fits a 1500-byte MTU). The
    /// encoders never put more in a datagram; the decoder accepts more (see [the module](crate::netflow)).
    const MAX_PER_DATAGRAM: usize;

    /// Sets the columns this record carries on `flow`, which already holds the datagram's common columns.
    /// Values with no column of their own go to `batch`'s pools (`extra_fields`).
    fn to_flow(&self, clock: &ExportClock, flow: &mut FlowRecord, batch: &mut FlowBatch);

    /// The record that says what `flow` says in this layout, stamped against `clock`; `None` if the flow
    /// cannot be expressed in it (an IPv6 flow).
    fn from_flow(flow: &FlowRecord, clock: &ExportClock) -> Option<Self>;
}

/// Checks a header's record count against the bytes that follow the header, before any record is read.
pub(crate) fn check_count(r: &Reader<'_>, count: u16, record_len: usize) -> Result<(), DecodeError> {
    if count == 0 || usize::from(count) * record_len > r.remaining() {
        return Err(DecodeError::BadLength {
            offset: COUNT_OFFSET,
            what: "record count",
            value: u64::from(count),
        });
    }
    Ok(())
}

/// Checks what follows the last record: less than a record is padding, more is an error.
pub(crate) fn check_rest(r: &Reader<'_>, record_len: usize) -> Result<(), DecodeError> {
    if r.remaining() >= record_len {
        return Err(DecodeError::TrailingBytes {
            offset: r.offset(),
            count: r.remaining(),
        });
    }
    Ok(())
}

/// Reads `count` records, already checked against the bytes, for a typed model.
pub(crate) fn read_records<R: Wire>(r: &mut Reader<'_>, count: u16) -> Result<Vec<R>, DecodeError> {
    (0..count).map(|_| R::read(r)).collect()
}

/// Flows staged on the stack before they go into the batch together.
const STAGED: usize = 16;

/// Decodes `count` records, already checked against the bytes, straight into `out`: each is a copy of
/// `common` (the columns the datagram gives every flow) with the record's own columns set on it. Up to
/// [`STAGED`] flows are filled on the stack and appended column by column ([`FlowBatch::extend`]).
#[inline]
pub(crate) fn push_flows<R: Record>(
    r: &mut Reader<'_>,
    count: u16,
    common: &FlowRecord,
    clock: &ExportClock,
    out: &mut FlowBatch,
) -> Result<(), DecodeError> {
    let mut staged = [*common; STAGED];
    let mut left = usize::from(count);
    while left > 0 {
        let mut filled = 0;
        let result = staged[..left.min(STAGED)].iter_mut().try_for_each(|flow| {
            let record = R::read(r)?;
            *flow = *common;
            record.to_flow(clock, flow, out);
            filled += 1;
            Ok(())
        });
        // Flows decoded before an error are kept.
        out.extend(&staged[..filled]);
        result?;
        left -= filled;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_a_count_the_bytes_cannot_hold() {
        let bytes = [0u8; 100];
        let r = Reader::at(&bytes, 24);
        assert!(check_count(&r, 2, 48).is_ok());
        assert_eq!(
            check_count(&r, 3, 48),
            Err(DecodeError::BadLength {
                offset: 2,
                what: "record count",
                value: 3
            })
        );
        assert_eq!(
            check_count(&r, 0, 48),
            Err(DecodeError::BadLength {
                offset: 2,
                what: "record count",
                value: 0
            })
        );
    }

    #[test]
    fn accepts_padding_shorter_than_a_record() {
        let bytes = [0u8; 47];
        assert!(check_rest(&Reader::at(&bytes, 120), 48).is_ok());
        let bytes = [0u8; 48];
        assert_eq!(
            check_rest(&Reader::at(&bytes, 120), 48),
            Err(DecodeError::TrailingBytes {
                offset: 120,
                count: 48
            })
        );
    }
}
