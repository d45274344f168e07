//! What packet input counts: every frame read, what the filters left out, what could not be parsed and why,
//! and what the kernel dropped before Weir could read it.
//!
//! A plain `Copy` struct, owned by the reading thread and updated without atomics; the probe copies it out
//! to print it and to serve it on `/metrics`.

use weir_proto::packet::PacketError;

/// Why a frame's headers could not be parsed: one counter per [`PacketError`] variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The IP version nibble is not the one the link layer announced.
    BadIpVersion,
    /// An IPv4 header length below 20 bytes.
    BadIpv4HeaderLength,
    /// An IPv4 total length shorter than its header.
    BadIpv4TotalLength,
    /// An IPv6 extension-header chain longer than any real packet has.
    TooManyExtensionHeaders,
}

impl ParseErrorKind {
    /// Every kind, indexing [`InputStats::errors`].
    pub const ALL: [ParseErrorKind; 4] = [
        Self::BadIpVersion,
        Self::BadIpv4HeaderLength,
        Self::BadIpv4TotalLength,
        Self::TooManyExtensionHeaders,
    ];

    /// The kind of `e`.
    pub fn of(e: &PacketError) -> Self {
        match e {
            PacketError::BadIpVersion { .. } => Self::BadIpVersion,
            PacketError::BadIpv4HeaderLength { .. } => Self::BadIpv4HeaderLength,
            PacketError::BadIpv4TotalLength { .. } => Self::BadIpv4TotalLength,
            PacketError::TooManyExtensionHeaders { .. } => Self::TooManyExtensionHeaders,
        }
    }

    /// The label used in metrics and summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadIpVersion => "bad_ip_version",
            Self::BadIpv4HeaderLength => "bad_ipv4_header_length",
            Self::BadIpv4TotalLength => "bad_ipv4_total_length",
            Self::TooManyExtensionHeaders => "too_many_extension_headers",
        }
    }
}

/// Counters of one packet source since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InputStats {
    /// Frames read: from the file, or from the socket after the kernel's interface and direction filter.
    pub packets: u64,
    /// Their length on the wire, in bytes.
    pub bytes: u64,
    /// Frames captured shorter than they were on the wire (the snap length).
    pub snapped: u64,
    /// Frames left out by the direction or BPF filter applied in Weir.
    pub filtered: u64,
    /// Frames of a link type Weir does not read (a pcapng interface, a live device of an unknown type).
    pub unsupported_link: u64,
    /// Frames parsed and handed on.
    pub parsed: u64,
    /// Of those, frames whose headers stop before they say they do (cut by the snap length, or damaged):
    /// their record holds what the bytes held.
    pub truncated: u64,
    /// Of those, frames that carry no IP packet (ARP, LLDP, spanning tree, ...).
    pub non_ip: u64,
    /// Frames whose headers contradict themselves, not handed on, by [`ParseErrorKind`].
    pub errors: [u64; ParseErrorKind::ALL.len()],
    /// The number of the last such frame (1-based, in reading order) and what was wrong with it.
    pub last_error: Option<(u64, PacketError)>,
    /// Frames the kernel dropped because its buffer was full when Weir fell behind (live capture).
    pub kernel_drops: u64,
    /// Frames the network interface or its driver dropped, where libpcap can tell.
    pub interface_drops: u64,
}

impl InputStats {
    /// Frames not parsed because of `kind`.
    pub fn errors_of(&self, kind: ParseErrorKind) -> u64 {
        self.errors[kind as usize]
    }

    /// Frames not parsed, whatever the reason.
    pub fn error_total(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// Counts frame number `packet`, whose headers could not be parsed.
    pub(super) fn error(&mut self, packet: u64, e: PacketError) {
        self.errors[ParseErrorKind::of(&e) as usize] += 1;
        self.last_error = Some((packet, e));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_errors_by_kind_and_keeps_the_last() {
        let mut s = InputStats::default();
        s.error(
            3,
            PacketError::BadIpv4HeaderLength {
                offset: 14,
                length: 16,
            },
        );
        let last = PacketError::BadIpVersion {
            offset: 14,
            version: 6,
            expected: 4,
        };
        s.error(9, last);
        assert_eq!(s.errors_of(ParseErrorKind::BadIpv4HeaderLength), 1);
        assert_eq!(s.errors_of(ParseErrorKind::BadIpVersion), 1);
        assert_eq!(s.errors_of(ParseErrorKind::TooManyExtensionHeaders), 0);
        assert_eq!(s.error_total(), 2);
        assert_eq!(s.last_error, Some((9, last)));
    }

    #[test]
    fn labels_are_distinct() {
        let mut labels: Vec<_> = ParseErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), ParseErrorKind::ALL.len());
        for (i, k) in ParseErrorKind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i, "ALL is in declaration order");
        }
    }
}
