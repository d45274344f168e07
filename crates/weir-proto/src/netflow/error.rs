//! Why a NetFlow v1 to v8 model cannot be encoded.

use thiserror::Error;

/// A datagram that the encoder will not write, because no decoder (Weir's included) would accept it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// A datagram without records: the count field must be at least 1.
    #[error("a datagram needs at least one record")]
    NoRecords,
    /// More records than the 16-bit count field can say.
    #[error("{count} records do not fit in one datagram (at most {max})")]
    TooManyRecords {
        /// Records given.
        count: usize,
        /// Most records the count field can say.
        max: usize,
    },
    /// A v8 header whose scheme is not the scheme of the records.
    #[error("v8 header says aggregation {header}, the records are of aggregation {records}")]
    AggregationMismatch {
        /// The header's scheme.
        header: u8,
        /// The records' scheme.
        records: u8,
    },
    /// A v8 aggregation scheme with no known record layout.
    #[error("unknown v8 aggregation scheme {0}")]
    UnknownAggregation(u8),
}

/// The count field for `records` records.
pub(crate) fn count_field(records: usize) -> Result<u16, EncodeError> {
    match records {
        0 => Err(EncodeError::NoRecords),
        n => u16::try_from(n).map_err(|_| EncodeError::TooManyRecords {
            count: n,
            max: usize::from(u16::MAX),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_field_is_between_one_and_u16_max() {
        assert_eq!(count_field(0), Err(EncodeError::NoRecords));
        assert_eq!(count_field(30), Ok(30));
        assert_eq!(count_field(65_535), Ok(65_535));
        assert_eq!(
            count_field(65_536),
            Err(EncodeError::TooManyRecords {
                count: 65_536,
                max: 65_535
            })
        );
    }
}
