//! sFlow v2, v4 and v5.

use weir_flow::FlowBatch;

use crate::decoder::Cx;
use crate::error::DecodeError;

/// Per-domain sFlow state.
#[derive(Debug, Default)]
pub struct SflowState {}

pub(crate) fn decode(_cx: &mut Cx<'_>, _datagram: &[u8], _out: &mut FlowBatch) -> Result<(), DecodeError> {
    Err(DecodeError::UnknownVersion { offset: 0, version: 5 })
}
