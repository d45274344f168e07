//! Fixed big-endian layouts: the fields of NetFlow v1 to v8 headers and records, and the records themselves.
//!
//! Every record of these versions is a fixed sequence of integers and IPv4 addresses, so one macro,
//! [`fixed_layout!`], turns a field list into a struct that reads and writes exactly those bytes. Unused and
//! reserved bytes are fields too: an exporter may put something there, and encoding must give back the bytes
//! that were received.

use std::net::Ipv4Addr;

use crate::error::DecodeError;
use crate::reader::Reader;

/// A value with a fixed big-endian layout.
pub trait Wire: Sized {
    /// Bytes on the wire.
    const LEN: usize;

    /// Reads one value.
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Appends the value.
    fn write(&self, out: &mut Vec<u8>);
}

impl Wire for u8 {
    const LEN: usize = 1;

    #[inline]
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u8()
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }
}

impl Wire for u16 {
    const LEN: usize = 2;

    #[inline]
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u16()
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
}

impl Wire for u32 {
    const LEN: usize = 4;

    #[inline]
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u32()
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
}

impl Wire for Ipv4Addr {
    const LEN: usize = 4;

    #[inline]
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.array::<4>().map(Ipv4Addr::from)
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.octets());
    }
}

/// Declares a struct whose fields are laid out on the wire in declaration order, with [`Wire`] for it.
macro_rules! fixed_layout {
    (
        $(#[doc = $doc:literal])+
        pub struct $name:ident {
            $( $(#[doc = $fdoc:literal])+ $field:ident: $ty:ty, )+
        }
    ) => {
        $(#[doc = $doc])+
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name {
            $( $(#[doc = $fdoc])+ pub $field: $ty, )+
        }

        impl $crate::netflow::wire::Wire for $name {
            const LEN: usize = 0 $( + <$ty as $crate::netflow::wire::Wire>::LEN )+;

            #[inline]
            fn read(r: &mut $crate::reader::Reader<'_>) -> Result<Self, $crate::error::DecodeError> {
                // One length check for the whole layout; the field reads from a part of known length then
                // have nothing left to check, and compile to plain loads from the datagram.
                let offset = r.offset();
                let f = &mut $crate::reader::Reader::at(r.bytes(<Self as $crate::netflow::wire::Wire>::LEN)?, offset);
                Ok(Self { $( $field: $crate::netflow::wire::Wire::read(f)?, )+ })
            }

            fn write(&self, out: &mut Vec<u8>) {
                $( $crate::netflow::wire::Wire::write(&self.$field, out); )+
            }
        }
    };
}

pub(crate) use fixed_layout;

#[cfg(test)]
mod tests {
    use super::*;

    fixed_layout! {
        /// A layout with one field of each kind.
        pub struct Sample {
            /// A byte.
            a: u8,
            /// Two bytes.
            b: u16,
            /// Four bytes.
            c: u32,
            /// An address.
            d: Ipv4Addr,
        }
    }

    #[test]
    fn fields_follow_in_declaration_order() {
        let bytes = [1, 0, 2, 0, 0, 0, 3, 192, 0, 2, 4];
        assert_eq!(Sample::LEN, bytes.len());
        let mut r = Reader::new(&bytes);
        let s = Sample::read(&mut r).unwrap();
        assert_eq!(
            s,
            Sample {
                a: 1,
                b: 2,
                c: 3,
                d: Ipv4Addr::new(192, 0, 2, 4)
            }
        );
        assert!(r.is_empty());
        let mut out = Vec::new();
        s.write(&mut out);
        assert_eq!(out, bytes);
    }

    #[test]
    fn short_input_is_truncated_at_the_layout() {
        let mut r = Reader::at(&[1, 0, 2, 0], 40);
        assert_eq!(
            Sample::read(&mut r),
            Err(DecodeError::Truncated {
                offset: 40,
                needed: 11,
                available: 4
            })
        );
    }
}
