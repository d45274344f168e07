//! Capture files: pcap (microsecond and nanosecond, either byte order) and pcapng, read frame by frame.
//!
//! Frames are read raw, so that a record longer than the snap length, or a timestamp a strict reader
//! would reject, is still handed on (and judged by the packet parser).
//!
//! [`FrameSource::read_frame`] lends a pcap frame straight out of the reader's buffer, for the probe, which
//! reads millions of frames a second. Pcap records are read here ([`Records`]): a 16-byte header and the
//! bytes, out of a buffer small enough to stay in the CPU's cache between the copy from the page cache
//! and the parse (`pcap-file`'s 8 MB one does not, and its general reader costs more per record than the
//! rest of the probe's input). pcapng goes through `pcap-file`'s block reader, and its frames are copied
//! once, because a frame borrowed from it cannot be returned from inside the loop that skips the blocks
//! between frames.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use pcap_file::pcap::PcapHeader;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::{Endianness, PcapError, TsResolution};

use weir_flow::codes::direction;

use super::CaptureError;
use super::link::LinkType;

const NANOS: u64 = 1_000_000_000;

/// One frame's metadata; its bytes are in [`FrameSource::frame`].
#[derive(Debug, Clone, Copy)]
pub struct FrameInfo {
    /// Capture time, nanoseconds since the epoch.
    pub time: u64,
    /// The frame's link type, or the code of one Weir does not read.
    pub link: Result<LinkType, u32>,
    /// The frame's length on the wire: what the record says, or the bytes captured if those are more.
    pub wire_len: u32,
    /// Which way the frame went, when the capture says (pcapng `epb_flags`): a `codes::direction` value.
    pub direction: u8,
}

/// A pcapng interface: its link type and clock.
#[derive(Debug, Clone, Copy)]
struct Interface {
    link: Result<LinkType, u32>,
    clock: Clock,
}

/// How an interface counts time (pcapng `if_tsresol` and `if_tsoffset`).
#[derive(Debug, Clone, Copy)]
struct Clock {
    /// Timestamp units per second.
    units_per_sec: u64,
    /// Seconds added to every timestamp.
    offset_secs: u64,
}

impl Clock {
    fn from_idb(idb: &InterfaceDescriptionBlock<'_>) -> Self {
        let mut clock = Clock {
            units_per_sec: 1_000_000,
            offset_secs: 0,
        };
        for opt in &idb.options {
            match *opt {
                // Top bit set: a power of two; clear: a power of ten. Beyond these a u64 overflows.
                InterfaceDescriptionOption::IfTsResol(r) if r & 0x80 != 0 && r & 0x7f < 64 => {
                    clock.units_per_sec = 1 << (r & 0x7f);
                }
                InterfaceDescriptionOption::IfTsResol(r) if r < 20 => {
                    clock.units_per_sec = 10u64.pow(r.into())
                }
                InterfaceDescriptionOption::IfTsOffset(s) => clock.offset_secs = s,
                _ => {}
            }
        }
        clock
    }

    fn nanos(self, units: u64) -> u64 {
        let ns = u128::from(units) * u128::from(NANOS) / u128::from(self.units_per_sec.max(1));
        u64::try_from(ns)
            .unwrap_or(u64::MAX)
            .saturating_add(self.offset_secs.saturating_mul(NANOS))
    }
}

/// A pcap or pcapng file being read.
pub struct FrameSource {
    format: Format,
    /// The last frame's bytes, for [`next_frame`](Self::next_frame).
    frame: Vec<u8>,
    /// Where pcapng frames are copied.
    spare: Vec<u8>,
}

enum Format {
    /// Classic pcap: one link type for the whole file.
    Pcap {
        records: Records,
        link: LinkType,
        /// Whether fractions of a second are nanoseconds (else microseconds).
        nanos: bool,
    },
    /// pcapng: link type and clock per interface.
    PcapNg {
        reader: Box<PcapNgReader<File>>,
        /// Interfaces of the current section.
        interfaces: Vec<Interface>,
        /// Time of the last packet, for simple packet blocks, which have none.
        last_time: u64,
    },
}

impl fmt::Debug for FrameSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = match self.format {
            Format::Pcap { .. } => "pcap",
            Format::PcapNg { .. } => "pcapng",
        };
        f.debug_struct("FrameSource")
            .field("format", &format)
            .finish_non_exhaustive()
    }
}

const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const PCAP_MAGICS: [[u8; 4]; 4] = [
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x4d, 0x3c, 0xb2, 0xa1],
];

impl FrameSource {
    /// Opens a capture file, telling pcap from pcapng by its first bytes. A pcap file of a link type
    /// Weir does not read is refused here; pcapng interfaces are checked frame by frame.
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let open_err = |reason| CaptureError::Open {
            path: path.to_owned(),
            reason,
        };
        let not_capture = |reason: String| CaptureError::NotACapture {
            path: path.to_owned(),
            reason,
        };
        let mut magic = [0u8; 4];
        File::open(path)
            .and_then(|mut f| f.read_exact(&mut magic))
            .map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => not_capture("shorter than a capture header".into()),
                _ => open_err(e),
            })?;
        let file = File::open(path).map_err(open_err)?;
        if magic == PCAPNG_MAGIC {
            let reader = PcapNgReader::new(file).map_err(|e| not_capture(describe(&e)))?;
            let format = Format::PcapNg {
                reader: Box::new(reader),
                interfaces: Vec::new(),
                last_time: 0,
            };
            return Ok(Self {
                format,
                frame: Vec::new(),
                spare: Vec::new(),
            });
        }
        if !PCAP_MAGICS.contains(&magic) {
            return Err(not_capture(format!("unknown magic number {}", hex(&magic))));
        }
        let mut file = file;
        let mut head = [0u8; 24];
        file.read_exact(&mut head)
            .map_err(|e| not_capture(describe(&PcapError::IoError(e))))?;
        let (_, header) = PcapHeader::from_slice(&head).map_err(|e| not_capture(describe(&e)))?;
        let code = u32::from(header.datalink);
        // One link type for the whole file: one Weir does not read makes the file unreadable.
        let link = LinkType::from_code(code).ok_or_else(|| CaptureError::UnsupportedLink {
            path: path.to_owned(),
            code,
        })?;
        let nanos = header.ts_resolution == TsResolution::NanoSecond;
        let records = Records::new(file, header.endianness == Endianness::Big);
        Ok(Self {
            format: Format::Pcap { records, link, nanos },
            frame: Vec::new(),
            spare: Vec::new(),
        })
    }

    /// The bytes of the frame the last [`next_frame`](Self::next_frame) returned.
    pub fn frame(&self) -> &[u8] {
        &self.frame
    }

    /// Reads the next frame; `None` at the end of the file. `packet` is the number the frame will have,
    /// for error messages.
    pub fn next_frame(&mut self, path: &Path, packet: u64) -> Result<Option<FrameInfo>, CaptureError> {
        let Some((info, data)) = read(&mut self.format, &mut self.spare, path, packet)? else {
            return Ok(None);
        };
        self.frame.clear();
        self.frame.extend_from_slice(data);
        Ok(Some(info))
    }

    /// Reads the next frame and lends its bytes until the next read; `None` at the end of the file.
    /// `packet` is the number the frame will have, for error messages.
    pub fn read_frame(
        &mut self,
        path: &Path,
        packet: u64,
    ) -> Result<Option<(FrameInfo, &[u8])>, CaptureError> {
        read(&mut self.format, &mut self.spare, path, packet)
    }
}

/// Reads the next frame of `format`; its bytes are lent from the pcap reader's buffer, or copied into
/// `spare` from a pcapng block.
fn read<'a>(
    format: &'a mut Format,
    spare: &'a mut Vec<u8>,
    path: &Path,
    packet: u64,
) -> Result<Option<(FrameInfo, &'a [u8])>, CaptureError> {
    match format {
        Format::Pcap { records, link, nanos } => {
            let Some((head, data)) = records.next().map_err(|e| read_error(path, packet, e))? else {
                return Ok(None);
            };
            let frac = u64::from(head.ts_frac) * if *nanos { 1 } else { 1000 };
            let info = FrameInfo {
                time: u64::from(head.ts_sec) * NANOS + frac,
                link: Ok(*link),
                wire_len: head.orig_len.max(head.incl_len),
                direction: direction::UNKNOWN,
            };
            Ok(Some((info, data)))
        }
        Format::PcapNg {
            reader,
            interfaces,
            last_time,
        } => loop {
            let Some(next) = reader.next_block() else {
                return Ok(None);
            };
            let (iface, units, wire_len, flags, data) = match next.map_err(|e| read_error(path, packet, e))? {
                Block::SectionHeader(_) => {
                    interfaces.clear();
                    continue;
                }
                Block::InterfaceDescription(idb) => {
                    let code = u32::from(idb.linktype);
                    let link = LinkType::from_code(code).ok_or(code);
                    interfaces.push(Interface {
                        link,
                        clock: Clock::from_idb(&idb),
                    });
                    continue;
                }
                // pcap-file reads the raw count of units into a Duration's nanoseconds.
                Block::EnhancedPacket(epb) => {
                    let units = u64::try_from(epb.timestamp.as_nanos()).unwrap_or(u64::MAX);
                    let flags = epb.options.iter().find_map(|o| match o {
                        EnhancedPacketOption::Flags(f) => Some(*f),
                        _ => None,
                    });
                    (epb.interface_id, Some(units), epb.original_len, flags, epb.data)
                }
                Block::Packet(pb) => (
                    u32::from(pb.interface_id),
                    Some(pb.timestamp),
                    pb.original_len,
                    None,
                    pb.data,
                ),
                Block::SimplePacket(spb) => (0, None, spb.original_len, None, spb.data),
                _ => continue,
            };
            let Some(iface) = interfaces.get(iface as usize) else {
                return Err(CaptureError::Read {
                    path: path.to_owned(),
                    packet,
                    reason: format!("packet names interface {iface}, which was not described"),
                });
            };
            if let Some(units) = units {
                *last_time = iface.clock.nanos(units);
            }
            let info = FrameInfo {
                time: *last_time,
                link: iface.link,
                wire_len: wire_len.max(u32::try_from(data.len()).unwrap_or(u32::MAX)),
                // The low two bits of epb_flags: 1 inbound, 2 outbound.
                direction: match flags.map(|f| f & 3) {
                    Some(1) => direction::INGRESS,
                    Some(2) => direction::EGRESS,
                    _ => direction::UNKNOWN,
                },
            };
            spare.clear();
            spare.extend_from_slice(&data);
            return Ok(Some((info, spare.as_slice())));
        },
    }
}

/// A pcap record's header.
#[derive(Debug, Clone, Copy)]
struct RecordHeader {
    ts_sec: u32,
    ts_frac: u32,
    incl_len: u32,
    orig_len: u32,
}

/// Bytes read at a time: the records in them are parsed while they are still in the CPU's cache.
const READ_CHUNK: usize = 256 << 10;

/// The longest record read; a longer length is taken for a file cut short or damaged, as a record cannot
/// be handed on without all its bytes.
const MAX_RECORD: usize = 8_000_000;

/// The records of a pcap file after its header, out of one buffer refilled by plain reads.
struct Records {
    file: File,
    /// Whether the file's numbers are big-endian.
    big_endian: bool,
    buffer: Vec<u8>,
    /// The unread bytes are `buffer[start..end]`.
    start: usize,
    end: usize,
}

impl Records {
    fn new(file: File, big_endian: bool) -> Self {
        Records {
            file,
            big_endian,
            buffer: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
        }
    }

    /// The next record; `None` at the end of the file, `UnexpectedEof` when it ends inside a record.
    fn next(&mut self) -> Result<Option<(RecordHeader, &[u8])>, PcapError> {
        if self.end - self.start < 16 && !self.fill(16)? {
            return Ok(None);
        }
        let Some(h) = self.buffer[self.start..self.end].first_chunk::<16>() else {
            return Ok(None);
        };
        let word = |i: usize| {
            let b = [h[i], h[i + 1], h[i + 2], h[i + 3]];
            if self.big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let head = RecordHeader {
            ts_sec: word(0),
            ts_frac: word(4),
            incl_len: word(8),
            orig_len: word(12),
        };
        let len = 16 + head.incl_len as usize;
        if len > MAX_RECORD {
            return Err(PcapError::IoError(io::ErrorKind::UnexpectedEof.into()));
        }
        if self.end - self.start < len && !self.fill(len)? {
            return Err(PcapError::IoError(io::ErrorKind::UnexpectedEof.into()));
        }
        let data = &self.buffer[self.start + 16..self.start + len];
        self.start += len;
        Ok(Some((head, data)))
    }

    /// Reads until at least `wanted` bytes are unread; `false` if the file ends with none unread, an
    /// `UnexpectedEof` error if it ends with some but fewer.
    fn fill(&mut self, wanted: usize) -> Result<bool, PcapError> {
        self.buffer.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        if self.buffer.len() < wanted {
            self.buffer.resize(wanted.next_multiple_of(READ_CHUNK), 0);
        }
        while self.end < wanted {
            let n = match self.file.read(&mut self.buffer[self.end..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(PcapError::IoError(e)),
            };
            if n == 0 {
                return match self.end {
                    0 => Ok(false),
                    _ => Err(PcapError::IoError(io::ErrorKind::UnexpectedEof.into())),
                };
            }
            self.end += n;
        }
        Ok(true)
    }
}

/// A read error in words; the end of the file inside a record is a cut-short capture.
fn read_error(path: &Path, packet: u64, e: PcapError) -> CaptureError {
    match e {
        PcapError::IoError(io) if io.kind() == io::ErrorKind::UnexpectedEof => CaptureError::CutShort {
            path: path.to_owned(),
            packet,
        },
        e => CaptureError::Read {
            path: path.to_owned(),
            packet,
            reason: describe(&e),
        },
    }
}

fn describe(e: &PcapError) -> String {
    match e {
        PcapError::IoError(io) if io.kind() == io::ErrorKind::UnexpectedEof => "file ends too early".into(),
        PcapError::IoError(io) => io.to_string(),
        e => e.to_string(),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
