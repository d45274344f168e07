//! Why a packet header could not be read. Offsets count from the start of the bytes given to the parser.

use thiserror::Error;

use crate::error::ErrorKind;

/// A packet header that contradicts itself. Running out of bytes is not an error (see
/// [`Summary::truncated`](super::Summary::truncated)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PacketError {
    /// The IP version nibble is not the one the EtherType (or the caller) announced.
    #[error("IP version {version} where {expected} was announced, at offset {offset}")]
    BadIpVersion {
        /// Offset of the IP header.
        offset: usize,
        /// The version found.
        version: u8,
        /// The version announced.
        expected: u8,
    },
    /// An IPv4 header length (IHL) below the 20-byte minimum.
    #[error("IPv4 header length {length} below 20 at offset {offset}")]
    BadIpv4HeaderLength {
        /// Offset of the IPv4 header.
        offset: usize,
        /// The header length in bytes.
        length: u8,
    },
    /// An IPv4 total length shorter than the header itself.
    #[error("IPv4 total length {length} shorter than its {header}-byte header at offset {offset}")]
    BadIpv4TotalLength {
        /// Offset of the IPv4 header.
        offset: usize,
        /// The total length found.
        length: u16,
        /// The header length.
        header: u8,
    },
    /// A longer IPv6 extension-header chain than any real packet has.
    #[error("more than {limit} IPv6 extension headers at offset {offset}")]
    TooManyExtensionHeaders {
        /// Offset of the header past the limit.
        offset: usize,
        /// The limit.
        limit: usize,
    },
}

impl PacketError {
    /// The counter kind this error is counted under.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::BadIpVersion { .. } => ErrorKind::BadValue,
            Self::BadIpv4HeaderLength { .. } | Self::BadIpv4TotalLength { .. } => ErrorKind::BadLength,
            Self::TooManyExtensionHeaders { .. } => ErrorKind::LimitReached,
        }
    }

    /// The offset the error refers to.
    pub fn offset(&self) -> usize {
        match *self {
            Self::BadIpVersion { offset, .. }
            | Self::BadIpv4HeaderLength { offset, .. }
            | Self::BadIpv4TotalLength { offset, .. }
            | Self::TooManyExtensionHeaders { offset, .. } => offset,
        }
    }
}
