//! NetFlow v1, v5, v7 and v8.

use weir_flow::FlowBatch;

use crate::decoder::Cx;
use crate::error::DecodeError;
use crate::stats::Dialect;

pub(crate) fn decode(_cx: &mut Cx<'_>, _dialect: Dialect, _datagram: &[u8], _out: &mut FlowBatch) -> Result<(), DecodeError> {
    Err(DecodeError::UnknownVersion { offset: 0, version: 0 })
}
