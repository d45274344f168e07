//! Splitting a byte stream into IPFIX messages by their header's length field: IPFIX over TCP (RFC 7011
//! section 10.4) and IPFIX files (RFC 5655), which are messages end to end.

use crate::error::DecodeError;
use crate::ipfix::Header;
use crate::reader::Reader;

/// Collects stream bytes as they arrive and hands out whole messages.
///
/// Offsets in errors count from the start of the stream. A stream with an impossible length has lost its
/// framing for good, so after an error the framer gives the same error again and nothing else.
#[derive(Debug, Default, Clone)]
pub struct MessageFramer {
    buf: Vec<u8>,
    start: usize,
    /// Stream offset of `buf[start]`.
    offset: usize,
    failed: Option<DecodeError>,
}

impl MessageFramer {
    /// A framer at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes read from the stream (any amount, split anywhere).
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Stream offset of the next message.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Bytes received but not yet handed out as a message.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next whole message, `None` until enough bytes have arrived, or the error that broke the framing.
    pub fn next_message(&mut self) -> Option<Result<&[u8], DecodeError>> {
        if let Some(e) = &self.failed {
            return Some(Err(e.clone()));
        }
        let rest = self.buf.get(self.start..).unwrap_or_default();
        let mut r = Reader::at(rest, self.offset);
        let version = r.u16().ok()?;
        let length = r.u16().ok()?;
        let error = if version != 10 {
            Some(DecodeError::UnknownVersion {
                offset: self.offset,
                version: u32::from(version),
            })
        } else if usize::from(length) < Header::LEN {
            Some(DecodeError::BadLength {
                offset: self.offset + 2,
                what: "message length",
                value: u64::from(length),
            })
        } else {
            None
        };
        if let Some(e) = error {
            self.failed = Some(e.clone());
            return Some(Err(e));
        }
        let len = usize::from(length);
        let message = rest.get(..len)?;
        self.start += len;
        self.offset += len;
        Some(Ok(message))
    }
}
