//! Flows written as NDJSON, shared by `weir decode` and the `weir serve` sink.

use std::io::{self, Write};

use weir_flow::FlowBatch;
use weir_flow::ndjson::{ElementNamer, write_batch};

/// Names `extra_fields` keys from the IPFIX information-element registries (IANA and the vendors'); keys
/// of elements no registry knows stay `enterprise.id`.
pub const ELEMENT_NAMER: ElementNamer = weir_proto::template::element_name;

/// Writes every flow of `batch`, one JSON object per line.
pub fn write_ndjson(w: &mut impl Write, batch: &FlowBatch) -> io::Result<()> {
    write_batch(w, batch, ELEMENT_NAMER)
}
