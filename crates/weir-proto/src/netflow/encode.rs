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

#[cfg(test)]
mod tests {
    use weir_flow::{FlowRecord, ip, ipv4};

    use super::*;
    use crate::netflow::testing::{EXPORTER, RECEIVED, counters, decode_all};
    use crate::netflow::v5::SamplingInterval;
    use crate::stats::Dialect;

    const EXPORT: u64 = 1_700_000_000_250_000_000;

    fn header() -> V5Header {
        V5Header {
            clock: ExportClock::at(EXPORT, 86_400_000),
            flow_sequence: 4_294_967_290,
            engine_type: 1,
            engine_id: 3,
            sampling: SamplingInterval::new(1, 100),
        }
    }

    /// A flow as a probe would hand it over, with only what v5 carries, as the decoder will fill it.
    fn flow(i: u8) -> FlowRecord {
        FlowRecord {
            time_received: RECEIVED,
            exporter_addr: ipv4(EXPORTER),
            observation_domain: 0x0103,
            sampling_rate: 100,
            etype: 0x0800,
            flows: 1,
            flow_start: EXPORT - 60_000_000_000 + u64::from(i) * 1_000_000,
            flow_end: EXPORT - 1_000_000_000,
            src_addr: ipv4([10, 0, 0, i]),
            dst_addr: ipv4([192, 0, 2, 200]),
            next_hop: ipv4([10, 255, 0, 1]),
            in_if: 1,
            out_if: u32::from(i),
            packets: u64::from(i) + 1,
            bytes: 1500 * (u64::from(i) + 1),
            src_port: 40_000 + u16::from(i),
            dst_port: 443,
            proto: 6,
            tcp_flags: 0x1b,
            tos: 0x10,
            src_as: 64_512,
            dst_as: 13_335,
            src_mask: 8,
            dst_mask: 24,
            ..FlowRecord::default()
        }
    }

    #[test]
    fn v5_datagrams_decode_back_to_the_same_flows() {
        let mut flows: Vec<_> = (0..64).map(flow).collect();
        let icmp = FlowRecord {
            proto: 1,
            src_port: 0,
            dst_port: 0,
            icmp_type: 3,
            icmp_code: 4,
            ..flow(64)
        };
        flows.push(icmp);
        let v6 = FlowRecord {
            etype: 0x86dd,
            src_addr: ip("2001:db8::1".parse().unwrap()),
            ..flow(65)
        };
        flows.push(v6);

        let built = v5_datagrams(&header(), &flows);
        assert_eq!(built.skipped, 1);
        let counts: Vec<_> = built
            .datagrams
            .iter()
            .map(|d| u16::from_be_bytes([d[2], d[3]]))
            .collect();
        assert_eq!(counts, [30, 30, 5]);
        assert_eq!(built.next_sequence, 4_294_967_290u32.wrapping_add(65));

        let datagrams: Vec<_> = built.datagrams.iter().map(Vec::as_slice).collect();
        let (decoder, batch, outcomes) = decode_all(&datagrams);
        assert!(outcomes.iter().all(|o| o.error.is_none()));
        let decoded: Vec<_> = (0..batch.len()).filter_map(|i| batch.row(i)).collect();
        // ICMP comes back with its type and code in the destination port too, as v5 carries them.
        let icmp = FlowRecord {
            dst_port: 0x0304,
            ..icmp
        };
        assert_eq!(decoded[..64], flows[..64]);
        assert_eq!(decoded[64], icmp);
        let c = counters(&decoder, Dialect::NetflowV5, 0x0103);
        assert_eq!(
            (c.datagrams, c.records, c.sequence_gaps, c.restarts),
            (3, 65, 0, 0)
        );
    }

    #[test]
    fn empty_input_builds_no_datagram() {
        let built = v5_datagrams(&header(), &[]);
        assert_eq!(
            built,
            Datagrams {
                datagrams: vec![],
                skipped: 0,
                next_sequence: 4_294_967_290
            }
        );
    }
}
