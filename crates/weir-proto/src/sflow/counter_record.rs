//! Counter records: interface counters polled by the agent. The generic interface counters are decoded
//! (they are what flow data gets checked against); media-specific blocks are kept opaque.

use crate::error::DecodeError;
use crate::reader::Reader;

use super::EncodeError;
use super::flow_record::Opaque;
use super::xdr::{DataFormat, put_u32, put_u64};

/// Generic interface counters (format 1, RFC 2233's ifTable and ifXTable).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IfCounters {
    /// ifIndex.
    pub if_index: u32,
    /// ifType.
    pub if_type: u32,
    /// ifSpeed in bits per second.
    pub if_speed: u64,
    /// 0 unknown, 1 full-duplex, 2 half-duplex, 3 in, 4 out.
    pub if_direction: u32,
    /// Bit 0 admin status up, bit 1 operational status up.
    pub if_status: u32,
    /// ifInOctets.
    pub in_octets: u64,
    /// ifInUcastPkts.
    pub in_unicast: u32,
    /// ifInMulticastPkts.
    pub in_multicast: u32,
    /// ifInBroadcastPkts.
    pub in_broadcast: u32,
    /// ifInDiscards.
    pub in_discards: u32,
    /// ifInErrors.
    pub in_errors: u32,
    /// ifInUnknownProtos.
    pub in_unknown_protos: u32,
    /// ifOutOctets.
    pub out_octets: u64,
    /// ifOutUcastPkts.
    pub out_unicast: u32,
    /// ifOutMulticastPkts.
    pub out_multicast: u32,
    /// ifOutBroadcastPkts.
    pub out_broadcast: u32,
    /// ifOutDiscards.
    pub out_discards: u32,
    /// ifOutErrors.
    pub out_errors: u32,
    /// ifPromiscuousMode.
    pub promiscuous: u32,
}

impl IfCounters {
    /// Bytes on the wire.
    pub const SIZE: usize = 88;

    pub(super) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            if_index: r.u32()?,
            if_type: r.u32()?,
            if_speed: r.u64()?,
            if_direction: r.u32()?,
            if_status: r.u32()?,
            in_octets: r.u64()?,
            in_unicast: r.u32()?,
            in_multicast: r.u32()?,
            in_broadcast: r.u32()?,
            in_discards: r.u32()?,
            in_errors: r.u32()?,
            in_unknown_protos: r.u32()?,
            out_octets: r.u64()?,
            out_unicast: r.u32()?,
            out_multicast: r.u32()?,
            out_broadcast: r.u32()?,
            out_discards: r.u32()?,
            out_errors: r.u32()?,
            promiscuous: r.u32()?,
        })
    }

    pub(super) fn write(&self, out: &mut Vec<u8>) {
        put_u32(out, self.if_index);
        put_u32(out, self.if_type);
        put_u64(out, self.if_speed);
        put_u32(out, self.if_direction);
        put_u32(out, self.if_status);
        put_u64(out, self.in_octets);
        for v in [
            self.in_unicast,
            self.in_multicast,
            self.in_broadcast,
            self.in_discards,
            self.in_errors,
            self.in_unknown_protos,
        ] {
            put_u32(out, v);
        }
        put_u64(out, self.out_octets);
        for v in [
            self.out_unicast,
            self.out_multicast,
            self.out_broadcast,
            self.out_discards,
            self.out_errors,
            self.promiscuous,
        ] {
            put_u32(out, v);
        }
    }

    /// Whether the interface is administratively up.
    pub fn admin_up(&self) -> bool {
        self.if_status & 1 != 0
    }

    /// Whether the interface is operationally up.
    pub fn oper_up(&self) -> bool {
        self.if_status & 2 != 0
    }
}

/// One counter record. `CounterData` owns its bytes; [`CounterDataRef`] borrows them.
///
/// In v2/v4 counter samples, the media-specific block that follows the generic counters is kept as
/// [`Opaque`] under its v2/v4 `counters_version` number (2 Ethernet, 3 token ring, 4 FDDI, 5 100BaseVG,
/// 6 WAN, 7 VLAN, the last without generic counters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CounterData<B = Vec<u8>> {
    /// Generic interface counters (1).
    Generic(IfCounters),
    /// Any other block, kept as it came.
    Unknown(Opaque<B>),
}

/// A counter record borrowed from the datagram.
pub type CounterDataRef<'a> = CounterData<&'a [u8]>;

impl<'a> CounterDataRef<'a> {
    /// Reads a v5 counter record of `format` from its opaque body.
    pub(super) fn parse_v5(format: DataFormat, mut r: Reader<'a>) -> Result<Self, DecodeError> {
        Ok(match format {
            DataFormat::GENERIC_INTERFACE => Self::Generic(IfCounters::read(&mut r)?),
            _ => Self::Unknown(Opaque {
                format,
                data: r.rest(),
            }),
        })
    }

    /// The owned form.
    pub fn to_owned_data(&self) -> CounterData {
        match self {
            Self::Generic(c) => CounterData::Generic(*c),
            Self::Unknown(o) => CounterData::Unknown(Opaque {
                format: o.format,
                data: o.data.to_vec(),
            }),
        }
    }
}

/// Sizes of the v2/v4 media-specific blocks after the generic counters, by `counters_version`, and
/// whether the generic counters come first.
pub(super) fn v4_block(version: u32) -> Option<(bool, usize)> {
    match version {
        1 => Some((true, 0)),
        2 => Some((true, 52)),
        3 => Some((true, 72)),
        4 | 6 => Some((true, 0)),
        5 => Some((true, 80)),
        7 => Some((false, 28)),
        _ => None,
    }
}

impl CounterData {
    /// The record's v5 tag.
    pub fn format(&self) -> DataFormat {
        match self {
            Self::Generic(_) => DataFormat::GENERIC_INTERFACE,
            Self::Unknown(o) => o.format,
        }
    }

    pub(super) fn write_v5(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_u32(out, self.format().0);
        super::xdr::put_with_len(out, |out| {
            match self {
                Self::Generic(c) => c.write(out),
                Self::Unknown(o) => out.extend_from_slice(&o.data),
            }
            Ok(())
        })
    }
}

/// Appends the records of a v2/v4 counter sample: its `counters_version`, then the blocks.
pub(super) fn write_v4(records: &[CounterData], out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let fits = |v: u32, generic: bool, data: &[u8]| v4_block(v) == Some((generic, data.len()));
    match records {
        [CounterData::Generic(c)] => {
            put_u32(out, 1);
            c.write(out);
        }
        [CounterData::Generic(c), CounterData::Unknown(o)]
            if o.format.0 != 1 && fits(o.format.0, true, &o.data) =>
        {
            put_u32(out, o.format.0);
            c.write(out);
            out.extend_from_slice(&o.data);
        }
        [CounterData::Unknown(o)] if fits(o.format.0, false, &o.data) => {
            put_u32(out, o.format.0);
            out.extend_from_slice(&o.data);
        }
        _ => {
            return Err(EncodeError::NotRepresentable {
                what: "v2/v4 counter records",
                value: records.len() as u64,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_counters_take_88_bytes_and_round_trip() {
        let c = IfCounters {
            if_index: 3,
            if_speed: 10_000_000_000,
            if_status: 3,
            in_octets: 1 << 40,
            promiscuous: 2,
            ..IfCounters::default()
        };
        let mut out = Vec::new();
        c.write(&mut out);
        assert_eq!(out.len(), IfCounters::SIZE);
        let mut r = Reader::new(&out);
        assert_eq!(IfCounters::read(&mut r).unwrap(), c);
        r.expect_end().unwrap();
        assert!(c.admin_up() && c.oper_up());
    }

    #[test]
    fn v4_counter_blocks_must_have_their_sizes() {
        let g = CounterData::Generic(IfCounters::default());
        let eth = CounterData::Unknown(Opaque {
            format: DataFormat(2),
            data: vec![0; 52],
        });
        let mut out = Vec::new();
        write_v4(&[g.clone(), eth], &mut out).unwrap();
        assert_eq!(out.len(), 4 + 88 + 52);
        let short = CounterData::Unknown(Opaque {
            format: DataFormat(2),
            data: vec![0; 50],
        });
        assert!(write_v4(&[g, short], &mut out).is_err());
        assert!(write_v4(&[], &mut out).is_err());
    }
}
