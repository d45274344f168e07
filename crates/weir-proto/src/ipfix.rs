//! IPFIX (RFC 7011).

use weir_flow::FlowBatch;

use crate::decoder::Cx;
use crate::error::DecodeError;

pub(crate) fn decode(_cx: &mut Cx<'_>, _datagram: &[u8], _out: &mut FlowBatch) -> Result<(), DecodeError> {
    Err(DecodeError::UnknownVersion { offset: 0, version: 10 })
}
