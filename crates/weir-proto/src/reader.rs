//! A small cursor over untrusted bytes that knows its absolute offset, so every error can say where.

use crate::error::DecodeError;

/// Reads big-endian values from a byte slice, tracking the offset from the start of the datagram.
///
/// `Copy`, so a decoder can look ahead by copying it; [`sub`](Self::sub) carves out a length-prefixed part
/// whose offsets still count from the start of the datagram.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over a whole datagram; offsets start at 0.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0, base: 0 }
    }

    /// A reader over `buf` whose offsets start at `base`.
    pub fn at(buf: &'a [u8], base: usize) -> Self {
        Self { buf, pos: 0, base }
    }

    /// Absolute offset of the next byte to read.
    #[inline]
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Bytes left.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Whether every byte was read.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    #[inline]
    fn short(&self, needed: usize) -> DecodeError {
        DecodeError::Truncated {
            offset: self.offset(),
            needed,
            available: self.remaining(),
        }
    }

    /// The next `n` bytes.
    #[inline]
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        match self.buf.get(self.pos..self.pos.wrapping_add(n)) {
            Some(b) if self.pos.checked_add(n).is_some() => {
                self.pos += n;
                Ok(b)
            }
            _ => Err(self.short(n)),
        }
    }

    /// The next `N` bytes as an array.
    #[inline]
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        match rest.first_chunk::<N>() {
            Some(a) => {
                self.pos += N;
                Ok(*a)
            }
            None => Err(self.short(N)),
        }
    }

    /// One byte.
    #[inline]
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    /// A big-endian `u16`.
    #[inline]
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// A big-endian `u32`.
    #[inline]
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// A big-endian `u64`.
    #[inline]
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// Skips `n` bytes.
    #[inline]
    pub fn skip(&mut self, n: usize) -> Result<(), DecodeError> {
        self.bytes(n).map(|_| ())
    }

    /// A reader over the next `n` bytes, which this reader then skips. Offsets stay absolute.
    #[inline]
    pub fn sub(&mut self, n: usize) -> Result<Reader<'a>, DecodeError> {
        let base = self.offset();
        let buf = self.bytes(n)?;
        Ok(Reader { buf, pos: 0, base })
    }

    /// Everything left; the reader is then empty.
    #[inline]
    pub fn rest(&mut self) -> &'a [u8] {
        let r = self.buf.get(self.pos..).unwrap_or_default();
        self.pos = self.buf.len();
        r
    }

    /// Checks that every byte was read.
    pub fn expect_end(&self) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                offset: self.offset(),
                count: self.remaining(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_big_endian_and_tracks_offsets() {
        let mut r = Reader::new(&[0, 1, 0, 0, 0, 2, 9, 9, 9]);
        assert_eq!(r.u16().unwrap(), 1);
        assert_eq!(r.u32().unwrap(), 2);
        let mut sub = r.sub(2).unwrap();
        assert_eq!(sub.offset(), 6);
        assert_eq!(sub.u8().unwrap(), 9);
        assert_eq!(r.offset(), 8);
        assert!(matches!(
            r.expect_end(),
            Err(DecodeError::TrailingBytes { offset: 8, count: 1 })
        ));
    }

    #[test]
    fn rejects_reads_past_the_end_with_the_offset() {
        let mut r = Reader::at(&[1, 2, 3], 100);
        assert!(matches!(
            r.u32(),
            Err(DecodeError::Truncated {
                offset: 100,
                needed: 4,
                available: 3
            })
        ));
        assert!(matches!(r.bytes(usize::MAX), Err(DecodeError::Truncated { .. })));
        assert_eq!(r.u16().unwrap(), 0x0102);
        assert!(r.sub(2).is_err());
        assert_eq!(r.rest(), &[3]);
        assert!(r.is_empty());
    }
}
