//! Building export datagrams from flows, as a router or a probe sends them: records filled from
//! [`FlowRecord`]s, at most the version's documented maximum per datagram, sequence numbers counting records.

use weir_flow::FlowRecord;

use super::clock::ExportClock;
use super::datagram::Header;
use super::layout::Record;
use super::v5::{V5Header, V5Record};
use super::wire::Wire;

/// Export datagrams built from flows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Datagrams {
    /// The datagrams, in sending order.
    pub datagrams: Vec<Vec<u8>>,
    /// Flows that the version cannot express (IPv6) and that were left out.
    pub skipped: usize,
    /// The flow sequence the next datagram of this export stream starts at.
    pub next_sequence: u32,
}

/// Packs the records for `flows` into datagrams of at most `R::MAX_PER_DATAGRAM` records, each started by
/// `header(out, count, sequence)`; sequence numbers count records from `sequence`.
pub(crate) fn pack<R: Record>(
    flows: &[FlowRecord],
    clock: ExportClock,
    sequence: u32,
    header: impl Fn(&mut Vec<u8>, u16, u32),
) -> Datagrams {
    let mut packed = Datagrams {
        next_sequence: sequence,
        ..Datagrams::default()
    };
    let mut records = Vec::with_capacity(R::MAX_PER_DATAGRAM.min(flows.len()));
    let flush = |records: &mut Vec<R>, packed: &mut Datagrams| {
        if records.is_empty() {
            return;
        }
        // At most MAX_PER_DATAGRAM records, which is far below u16::MAX.
        let count = records.len() as u16;
        let mut out = Vec::with_capacity(64 + records.len() * R::LEN);
        header(&mut out, count, packed.next_sequence);
        records.drain(..).for_each(|rec| rec.write(&mut out));
        packed.datagrams.push(out);
        packed.next_sequence = packed.next_sequence.wrapping_add(u32::from(count));
    };
    for flow in flows {
        match R::from_flow(flow, &clock) {
            Some(rec) => records.push(rec),
            None => packed.skipped += 1,
        }
        if records.len() == R::MAX_PER_DATAGRAM {
            flush(&mut records, &mut packed);
        }
    }
    flush(&mut records, &mut packed);
    packed
}

/// NetFlow v5 datagrams for `flows`, at most 30 records each, numbered from `header.flow_sequence`; every
/// datagram carries `header`'s clock, engine and sampling fields. IPv6 flows are skipped.
pub fn v5_datagrams(header: &V5Header, flows: &[FlowRecord]) -> Datagrams {
    pack::<V5Record>(flows, header.clock, header.flow_sequence, |out, count, seq| {
        V5Header::VERSION.write(out);
        count.write(out);
        V5Header {
            flow_sequence: seq,
            ..*header
        }
        .write(out);
    })
}
