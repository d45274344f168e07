//! Decode errors: each says what was wrong and at which byte offset of the datagram (or stream).

use thiserror::Error;

/// Why a datagram, or part of one, could not be decoded. Offsets count from the start of the datagram.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// Fewer bytes than the format requires at this point.
    #[error("truncated at offset {offset}: needed {needed} bytes, {available} left")]
    Truncated {
        /// Offset of the read.
        offset: usize,
        /// Bytes the read needed.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// The version field names no dialect Weir knows.
    #[error("unknown export version {version} at offset {offset}")]
    UnknownVersion {
        /// Offset of the version field.
        offset: usize,
        /// The version found.
        version: u32,
    },
    /// A length or count field disagrees with the bytes present or with the format's rules.
    #[error("bad {what} {value} at offset {offset}")]
    BadLength {
        /// Offset of the field.
        offset: usize,
        /// Which field, e.g. "set length", "record count".
        what: &'static str,
        /// The value found.
        value: u64,
    },
    /// Bytes left over after the last record where the format allows none.
    #[error("{count} trailing bytes at offset {offset}")]
    TrailingBytes {
        /// Offset of the first unread byte.
        offset: usize,
        /// How many bytes were left.
        count: usize,
    },
    /// A template (or options template) that cannot be used.
    #[error("bad template {template_id} at offset {offset}: {reason}")]
    BadTemplate {
        /// Offset of the template record.
        offset: usize,
        /// The template id.
        template_id: u16,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The exporter defined more templates, domains or pending data than Weir keeps for one exporter.
    #[error("{what} limit of {limit} reached at offset {offset}")]
    LimitReached {
        /// Offset of the part that would have exceeded the limit.
        offset: usize,
        /// Which limit: "templates", "domains", "exporters", "pending data".
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// A value that the format does not allow, e.g. an unknown set id or sFlow address type.
    #[error("bad {what} {value} at offset {offset}")]
    BadValue {
        /// Offset of the field.
        offset: usize,
        /// Which field.
        what: &'static str,
        /// The value found.
        value: u64,
    },
}

impl DecodeError {
    /// The kind of error, for counters and rate-limited logs.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Truncated { .. } => ErrorKind::Truncated,
            Self::UnknownVersion { .. } => ErrorKind::UnknownVersion,
            Self::BadLength { .. } => ErrorKind::BadLength,
            Self::TrailingBytes { .. } => ErrorKind::TrailingBytes,
            Self::BadTemplate { .. } => ErrorKind::BadTemplate,
            Self::LimitReached { .. } => ErrorKind::LimitReached,
            Self::BadValue { .. } => ErrorKind::BadValue,
        }
    }

    /// The byte offset the error refers to.
    pub fn offset(&self) -> usize {
        match *self {
            Self::Truncated { offset, .. }
            | Self::UnknownVersion { offset, .. }
            | Self::BadLength { offset, .. }
            | Self::TrailingBytes { offset, .. }
            | Self::BadTemplate { offset, .. }
            | Self::LimitReached { offset, .. }
            | Self::BadValue { offset, .. } => offset,
        }
    }
}

/// Kinds of decode trouble, counted per exporter and domain. Besides the [`DecodeError`] kinds, these count
/// data that was decoded late or never for lack of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// See [`DecodeError::Truncated`].
    Truncated,
    /// See [`DecodeError::UnknownVersion`].
    UnknownVersion,
    /// See [`DecodeError::BadLength`].
    BadLength,
    /// See [`DecodeError::TrailingBytes`].
    TrailingBytes,
    /// See [`DecodeError::BadTemplate`].
    BadTemplate,
    /// See [`DecodeError::LimitReached`].
    LimitReached,
    /// See [`DecodeError::BadValue`].
    BadValue,
    /// Data sets dropped because their template never came within the hold time.
    TemplateTimeout,
    /// Data sets dropped because the pending buffer for templates was full.
    PendingOverflow,
}

impl ErrorKind {
    /// Every kind, for iterating over counters.
    pub const ALL: [ErrorKind; 9] = [
        Self::Truncated,
        Self::UnknownVersion,
        Self::BadLength,
        Self::TrailingBytes,
        Self::BadTemplate,
        Self::LimitReached,
        Self::BadValue,
        Self::TemplateTimeout,
        Self::PendingOverflow,
    ];

    /// The label used in metrics and summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Truncated => "truncated",
            Self::UnknownVersion => "unknown_version",
            Self::BadLength => "bad_length",
            Self::TrailingBytes => "trailing_bytes",
            Self::BadTemplate => "bad_template",
            Self::LimitReached => "limit_reached",
            Self::BadValue => "bad_value",
            Self::TemplateTimeout => "template_timeout",
            Self::PendingOverflow => "pending_overflow",
        }
    }
}
