//! Samples: flow samples (one sampled packet each), counter samples (interface counters), discarded-packet
//! samples (drop notifications), in compact and expanded forms, and the v2/v4 layouts.

use crate::error::DecodeError;
use crate::reader::Reader;

use super::EncodeError;
use super::counter_record::{CounterData, CounterDataRef, IfCounters, v4_block, write_v4};
use super::flow_record::{FlowData, FlowDataRef, Opaque};
use super::xdr::{DataFormat, count, opaque_reader, put_u32, put_with_len};

/// Where samples come from (sFlow's `sflow_data_source`): a type and an index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceId {
    /// 0 ifIndex, 1 smonVlanDataSource, 2 entPhysicalEntry.
    pub kind: u32,
    /// The index of that kind (for kind 0, the interface's ifIndex).
    pub index: u32,
}

impl SourceId {
    /// Source type of interfaces.
    pub const IF_INDEX: u32 = 0;

    fn compact(v: u32) -> Self {
        Self {
            kind: v >> 24,
            index: v & 0x00ff_ffff,
        }
    }

    fn read_expanded(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            kind: r.u32()?,
            index: r.u32()?,
        })
    }

    fn write(&self, out: &mut Vec<u8>, expanded: bool) -> Result<(), EncodeError> {
        if expanded {
            put_u32(out, self.kind);
            put_u32(out, self.index);
        } else if self.kind > 0xff || self.index > 0x00ff_ffff {
            return Err(EncodeError::NotRepresentable {
                what: "compact source id",
                value: self.index.into(),
            });
        } else {
            put_u32(out, (self.kind << 24) | self.index);
        }
        Ok(())
    }
}

/// An input or output interface of a flow sample: a format and a value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Interface {
    /// 0 one interface (the value is its ifIndex), 1 packet discarded (the value is the reason), 2 several
    /// interfaces (the value is how many, 0 if unknown).
    pub format: u32,
    /// The value, as the format says.
    pub value: u32,
}

impl Interface {
    /// The ifIndex value meaning "the device itself" (traffic it originates or terminates).
    pub const INTERNAL: u32 = 0x3fff_ffff;

    fn compact(v: u32) -> Self {
        Self {
            format: v >> 30,
            value: v & 0x3fff_ffff,
        }
    }

    fn write(&self, out: &mut Vec<u8>, expanded: bool) -> Result<(), EncodeError> {
        if expanded {
            put_u32(out, self.format);
            put_u32(out, self.value);
        } else if self.format > 3 || self.value > 0x3fff_ffff {
            return Err(EncodeError::NotRepresentable {
                what: "compact interface",
                value: self.value.into(),
            });
        } else {
            put_u32(out, (self.format << 30) | self.value);
        }
        Ok(())
    }

    /// The ifIndex, for a single known interface other than the device itself.
    pub fn if_index(&self) -> Option<u32> {
        (self.format == 0 && self.value != 0 && self.value != Self::INTERNAL).then_some(self.value)
    }

    /// Why the packet was discarded, when the format says it was.
    pub fn discard_reason(&self) -> Option<DropReason> {
        (self.format == 1).then_some(DropReason(self.value))
    }

    /// To how many interfaces the packet went (0: an unknown number), when it went to several.
    pub fn multiple(&self) -> Option<u32> {
        (self.format == 2).then_some(self.value)
    }
}

/// Why a packet was dropped: ICMP unreachable codes below 256, sFlow.org's codes from 256. Open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct DropReason(pub u32);

impl DropReason {
    /// ICMP net unreachable.
    pub const NET_UNREACHABLE: Self = Self(0);
    /// ICMP fragmentation needed and DF set.
    pub const FRAG_NEEDED: Self = Self(4);
    /// ICMP destination network unknown (no route).
    pub const DST_NET_UNKNOWN: Self = Self(6);
    /// Unknown.
    pub const UNKNOWN: Self = Self(256);
    /// TTL exceeded.
    pub const TTL_EXCEEDED: Self = Self(257);
    /// Access list.
    pub const ACL: Self = Self(258);
    /// No buffer space.
    pub const NO_BUFFER_SPACE: Self = Self(259);
    /// Random early detection.
    pub const RED: Self = Self(260);
    /// Traffic shaping or rate limiting.
    pub const TRAFFIC_SHAPING: Self = Self(261);
    /// Packet too big for a protocol that cannot fragment.
    pub const PKT_TOO_BIG: Self = Self(262);

    /// The IPFIX forwardingStatus reason (the low six bits of a "dropped" status) that means the same,
    /// when there is one.
    pub fn ipfix_reason(self) -> Option<u8> {
        match self {
            Self::UNKNOWN => Some(0),
            Self::ACL => Some(1),
            Self::NET_UNREACHABLE | Self::DST_NET_UNKNOWN => Some(3),
            Self::FRAG_NEEDED | Self::PKT_TOO_BIG => Some(5),
            Self::TTL_EXCEEDED => Some(9),
            Self::RED => Some(11),
            _ => None,
        }
    }
}

/// The fixed part of a flow sample.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowSampleHead {
    /// Expanded form (format 3) rather than compact (format 1).
    pub expanded: bool,
    /// Incremented with each flow sample of this source.
    pub sequence: u32,
    /// The data source.
    pub source: SourceId,
    /// One packet in this many is sampled.
    pub sampling_rate: u32,
    /// Packets that could have been sampled so far.
    pub sample_pool: u32,
    /// Samples the agent dropped for lack of resources, so far.
    pub drops: u32,
    /// Interface the packet came in on.
    pub input: Interface,
    /// Interface the packet went out on.
    pub output: Interface,
}

impl FlowSampleHead {
    fn read(r: &mut Reader<'_>, expanded: bool) -> Result<Self, DecodeError> {
        // One bounds check for the fixed part, which every flow sample has: this is the decoder's hot path.
        if expanded {
            let w = words::<10, 40>(r)?;
            Ok(Self {
                expanded,
                sequence: w[0],
                source: SourceId {
                    kind: w[1],
                    index: w[2],
                },
                sampling_rate: w[3],
                sample_pool: w[4],
                drops: w[5],
                input: Interface {
                    format: w[6],
                    value: w[7],
                },
                output: Interface {
                    format: w[8],
                    value: w[9],
                },
            })
        } else {
            let w = words::<7, 28>(r)?;
            Ok(Self {
                expanded,
                sequence: w[0],
                source: SourceId::compact(w[1]),
                sampling_rate: w[2],
                sample_pool: w[3],
                drops: w[4],
                input: Interface::compact(w[5]),
                output: Interface::compact(w[6]),
            })
        }
    }

    fn write(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_u32(out, self.sequence);
        self.source.write(out, self.expanded)?;
        for v in [self.sampling_rate, self.sample_pool, self.drops] {
            put_u32(out, v);
        }
        self.input.write(out, self.expanded)?;
        self.output.write(out, self.expanded)
    }
}

/// `N` big-endian words (`B` = 4 × `N` bytes), read with one bounds check.
#[inline]
fn words<const N: usize, const B: usize>(r: &mut Reader<'_>) -> Result<[u32; N], DecodeError> {
    let b = r.array::<B>()?;
    let mut w = [0; N];
    for (w, c) in w.iter_mut().zip(b.chunks_exact(4)) {
        *w = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
    }
    Ok(w)
}

/// The fixed part of a counter sample.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterSampleHead {
    /// Expanded form (format 4) rather than compact (format 2).
    pub expanded: bool,
    /// Incremented with each counter sample of this source.
    pub sequence: u32,
    /// The data source.
    pub source: SourceId,
    /// Seconds between polls (v2/v4 only; 0 in v5).
    pub sampling_interval: u32,
}

/// The fixed part of a discarded-packet sample (format 5, sFlow.org's drop notifications).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiscardHead {
    /// Incremented with each discarded-packet sample of this source.
    pub sequence: u32,
    /// The data source.
    pub source: SourceId,
    /// Discards not reported because of rate limiting, so far.
    pub drops: u32,
    /// ifIndex of the input interface (0 unknown).
    pub input: u32,
    /// ifIndex of the output interface (0 unknown).
    pub output: u32,
    /// Why the packet was dropped.
    pub reason: DropReason,
}

impl DiscardHead {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            sequence: r.u32()?,
            source: SourceId::read_expanded(r)?,
            drops: r.u32()?,
            input: r.u32()?,
            output: r.u32()?,
            reason: DropReason(r.u32()?),
        })
    }

    fn write(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_u32(out, self.sequence);
        self.source.write(out, true)?;
        for v in [self.drops, self.input, self.output, self.reason.0] {
            put_u32(out, v);
        }
        Ok(())
    }
}

/// A flow sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowSample {
    /// Its fixed part.
    pub head: FlowSampleHead,
    /// What was recorded about the packet. In v2/v4 the first record is the packet information (raw
    /// header, IPv4 or IPv6 data) and the others extended records.
    pub records: Vec<FlowData>,
}

/// A counter sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterSample {
    /// Its fixed part.
    pub head: CounterSampleHead,
    /// The counter blocks.
    pub records: Vec<CounterData>,
}

/// A discarded-packet sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscardedPacket {
    /// Its fixed part.
    pub head: DiscardHead,
    /// What was recorded about the packet.
    pub records: Vec<FlowData>,
}

/// One sample of a datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sample {
    /// Flow sample (1 or 3).
    Flow(FlowSample),
    /// Counter sample (2 or 4).
    Counter(CounterSample),
    /// Discarded packet (5).
    Discarded(DiscardedPacket),
    /// Any other sample format, skipped by its length.
    Unknown(Opaque),
}

impl Sample {
    /// Appends the sample as v5 writes it: tag, length, body.
    pub(super) fn write_v5(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let format = match self {
            Self::Flow(s) if s.head.expanded => DataFormat::EXPANDED_FLOW_SAMPLE,
            Self::Flow(_) => DataFormat::FLOW_SAMPLE,
            Self::Counter(s) if s.head.expanded => DataFormat::EXPANDED_COUNTER_SAMPLE,
            Self::Counter(_) => DataFormat::COUNTER_SAMPLE,
            Self::Discarded(_) => DataFormat::DISCARDED_PACKET,
            Self::Unknown(o) => o.format,
        };
        put_u32(out, format.0);
        put_with_len(out, |out| match self {
            Self::Flow(s) => {
                s.head.write(out)?;
                write_records(out, &s.records, FlowData::write_v5)
            }
            Self::Counter(s) => {
                put_u32(out, s.head.sequence);
                s.head.source.write(out, s.head.expanded)?;
                write_records(out, &s.records, CounterData::write_v5)
            }
            Self::Discarded(s) => {
                s.head.write(out)?;
                write_records(out, &s.records, FlowData::write_v5)
            }
            Self::Unknown(o) => {
                out.extend_from_slice(&o.data);
                Ok(())
            }
        })
    }

    /// Appends the sample as v2/v4 writes it: its type, then a body with no length.
    pub(super) fn write_v4(&self, out: &mut Vec<u8>, version: u32) -> Result<(), EncodeError> {
        match self {
            Self::Flow(s) if !s.head.expanded => {
                put_u32(out, 1);
                s.head.write(out)?;
                let Some((packet, extended)) = s.records.split_first() else {
                    return Err(EncodeError::NotRepresentable {
                        what: "v2/v4 flow sample without packet data",
                        value: 0,
                    });
                };
                packet.write_v4_packet(out)?;
                put_u32(out, super::xdr::len_u32(extended.len(), "extended record count")?);
                extended
                    .iter()
                    .try_for_each(|r| r.write_v4_extended(out, version))
            }
            Self::Counter(s) if !s.head.expanded => {
                put_u32(out, 2);
                put_u32(out, s.head.sequence);
                s.head.source.write(out, false)?;
                put_u32(out, s.head.sampling_interval);
                write_v4(&s.records, out)
            }
            _ => Err(EncodeError::NotRepresentable {
                what: "v2/v4 sample kind",
                value: u64::from(version),
            }),
        }
    }
}

fn write_records<T>(
    out: &mut Vec<u8>,
    records: &[T],
    write: impl Fn(&T, &mut Vec<u8>) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    put_u32(out, super::xdr::len_u32(records.len(), "record count")?);
    records.iter().try_for_each(|r| write(r, out))
}

/// A sample borrowed from the datagram; its records are read as they are iterated.
#[derive(Debug, Clone)]
pub enum SampleRef<'a> {
    /// Flow sample.
    Flow(FlowSampleHead, FlowRecords<'a>),
    /// Counter sample.
    Counter(CounterSampleHead, CounterRecords<'a>),
    /// Discarded packet.
    Discarded(DiscardHead, FlowRecords<'a>),
    /// Unknown sample format.
    Unknown(Opaque<&'a [u8]>),
}

impl SampleRef<'_> {
    /// The owned form, reading every record.
    pub fn to_owned_sample(&self) -> Result<Sample, DecodeError> {
        Ok(match self {
            Self::Flow(head, records) => Sample::Flow(FlowSample {
                head: *head,
                records: owned_flows(records)?,
            }),
            Self::Counter(head, records) => Sample::Counter(CounterSample {
                head: *head,
                records: records
                    .clone()
                    .map(|r| r.map(|r| r.to_owned_data()))
                    .collect::<Result<_, _>>()?,
            }),
            Self::Discarded(head, records) => Sample::Discarded(DiscardedPacket {
                head: *head,
                records: owned_flows(records)?,
            }),
            Self::Unknown(o) => Sample::Unknown(Opaque {
                format: o.format,
                data: o.data.to_vec(),
            }),
        })
    }
}

fn owned_flows(records: &FlowRecords<'_>) -> Result<Vec<FlowData>, DecodeError> {
    records.clone().map(|r| r.map(|r| r.to_owned_data())).collect()
}

/// Where a v2/v4 flow sample's record walk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The packet information comes next.
    Packet,
    /// The extended record count comes next.
    Count,
    /// `left` records come next.
    Records,
}

/// The flow records of a sample, read one by one. Stops after the first error.
#[derive(Debug, Clone)]
pub struct FlowRecords<'a> {
    r: Reader<'a>,
    left: u32,
    version: u32,
    stage: Stage,
    failed: bool,
}

impl<'a> FlowRecords<'a> {
    fn v5(mut r: Reader<'a>) -> Result<Self, DecodeError> {
        let left = count(&mut r, 8, "flow record count")?;
        Ok(Self {
            r,
            left,
            version: 5,
            stage: Stage::Records,
            failed: false,
        })
    }

    fn v4(r: Reader<'a>, version: u32) -> Self {
        Self {
            r,
            left: 0,
            version,
            stage: Stage::Packet,
            failed: false,
        }
    }

    fn step(&mut self) -> Result<Option<FlowDataRef<'a>>, DecodeError> {
        match self.stage {
            Stage::Packet => {
                self.stage = Stage::Count;
                FlowDataRef::parse_v4_packet(&mut self.r).map(Some)
            }
            Stage::Count => {
                self.left = count(&mut self.r, 4, "extended record count")?;
                self.stage = Stage::Records;
                self.step()
            }
            Stage::Records if self.left == 0 => Ok(None),
            Stage::Records if self.version >= 5 => {
                self.left -= 1;
                let format = DataFormat(self.r.u32()?);
                let body = opaque_reader(&mut self.r)?;
                FlowDataRef::parse_v5(format, body).map(Some)
            }
            Stage::Records => {
                self.left -= 1;
                FlowDataRef::parse_v4_extended(&mut self.r, self.version).map(Some)
            }
        }
    }

    /// Reads every record of a v2/v4 sample to find where it ends: those layouts carry no length.
    fn measure(mut self) -> Result<usize, DecodeError> {
        for r in self.by_ref() {
            r?;
        }
        Ok(self.r.offset())
    }
}

impl<'a> Iterator for FlowRecords<'a> {
    type Item = Result<FlowDataRef<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.step().transpose()?;
        self.failed = item.is_err();
        Some(item)
    }
}

/// The counter records of a sample, read one by one. Stops after the first error.
#[derive(Debug, Clone)]
pub struct CounterRecords<'a> {
    r: Reader<'a>,
    left: u32,
    /// v2/v4 blocks, read up front (their sizes are fixed), yielded in order.
    v4: [Option<CounterDataRef<'a>>; 2],
    failed: bool,
}

impl<'a> CounterRecords<'a> {
    fn v5(mut r: Reader<'a>) -> Result<Self, DecodeError> {
        let left = count(&mut r, 8, "counter record count")?;
        Ok(Self {
            r,
            left,
            v4: [None, None],
            failed: false,
        })
    }

    /// Reads the v2/v4 counters union from `r`, which is left after it.
    fn v4(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let offset = r.offset();
        let version = r.u32()?;
        let Some((generic, size)) = v4_block(version) else {
            return Err(DecodeError::BadValue {
                offset,
                what: "counters version",
                value: version.into(),
            });
        };
        let first = if generic {
            Some(CounterData::Generic(IfCounters::read(r)?))
        } else {
            None
        };
        let block = r.bytes(size)?;
        let media = (version != 1).then_some(CounterData::Unknown(Opaque {
            format: DataFormat(version),
            data: block,
        }));
        Ok(Self {
            r: Reader::new(&[]),
            left: 0,
            v4: [first, media],
            failed: false,
        })
    }
}

impl<'a> Iterator for CounterRecords<'a> {
    type Item = Result<CounterDataRef<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(r) = self.v4.iter_mut().find_map(Option::take) {
            return Some(Ok(r));
        }
        if self.failed || self.left == 0 {
            return None;
        }
        self.left -= 1;
        let item = (|| {
            let format = DataFormat(self.r.u32()?);
            let body = opaque_reader(&mut self.r)?;
            CounterDataRef::parse_v5(format, body)
        })();
        self.failed = item.is_err();
        Some(item)
    }
}

/// The samples of a datagram, read one by one. Stops after the first error; bytes after the last sample
/// are an error.
#[derive(Debug, Clone)]
pub struct Samples<'a> {
    r: Reader<'a>,
    left: u32,
    version: u32,
    failed: bool,
}

impl<'a> Samples<'a> {
    pub(super) fn new(r: Reader<'a>, left: u32, version: u32) -> Self {
        Self {
            r,
            left,
            version,
            failed: false,
        }
    }

    fn step(&mut self) -> Result<Option<SampleRef<'a>>, DecodeError> {
        if self.left == 0 {
            self.r.expect_end()?;
            return Ok(None);
        }
        self.left -= 1;
        if self.version < 5 {
            return self.step_v4().map(Some);
        }
        let format = DataFormat(self.r.u32()?);
        let mut body = opaque_reader(&mut self.r)?;
        let b = &mut body;
        Ok(Some(match format {
            DataFormat::FLOW_SAMPLE | DataFormat::EXPANDED_FLOW_SAMPLE => {
                let head = FlowSampleHead::read(b, format == DataFormat::EXPANDED_FLOW_SAMPLE)?;
                SampleRef::Flow(head, FlowRecords::v5(body)?)
            }
            DataFormat::COUNTER_SAMPLE | DataFormat::EXPANDED_COUNTER_SAMPLE => {
                let expanded = format == DataFormat::EXPANDED_COUNTER_SAMPLE;
                let sequence = b.u32()?;
                let source = if expanded {
                    SourceId::read_expanded(b)?
                } else {
                    SourceId::compact(b.u32()?)
                };
                let head = CounterSampleHead {
                    expanded,
                    sequence,
                    source,
                    sampling_interval: 0,
                };
                SampleRef::Counter(head, CounterRecords::v5(body)?)
            }
            DataFormat::DISCARDED_PACKET => {
                let head = DiscardHead::read(b)?;
                SampleRef::Discarded(head, FlowRecords::v5(body)?)
            }
            _ => SampleRef::Unknown(Opaque {
                format,
                data: body.rest(),
            }),
        }))
    }

    fn step_v4(&mut self) -> Result<SampleRef<'a>, DecodeError> {
        let offset = self.r.offset();
        match self.r.u32()? {
            1 => {
                let head = FlowSampleHead::read(&mut self.r, false)?;
                let start = self.r.offset();
                let end = FlowRecords::v4(self.r, self.version).measure()?;
                let body = self.r.sub(end - start)?;
                Ok(SampleRef::Flow(head, FlowRecords::v4(body, self.version)))
            }
            2 => {
                let sequence = self.r.u32()?;
                let source = SourceId::compact(self.r.u32()?);
                let sampling_interval = self.r.u32()?;
                let head = CounterSampleHead {
                    expanded: false,
                    sequence,
                    source,
                    sampling_interval,
                };
                Ok(SampleRef::Counter(head, CounterRecords::v4(&mut self.r)?))
            }
            other => Err(DecodeError::BadValue {
                offset,
                what: "sample type",
                value: other.into(),
            }),
        }
    }
}

impl<'a> Iterator for Samples<'a> {
    type Item = Result<SampleRef<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.step().transpose()?;
        self.failed = item.is_err();
        Some(item)
    }
}

/// Appends a list of samples with its count, in the layout of `version`.
pub(super) fn write_samples(out: &mut Vec<u8>, samples: &[Sample], version: u32) -> Result<(), EncodeError> {
    put_u32(out, super::xdr::len_u32(samples.len(), "sample count")?);
    if version >= 5 {
        samples.iter().try_for_each(|s| s.write_v5(out))
    } else {
        samples.iter().try_for_each(|s| s.write_v4(out, version))
    }
}
