//! Packets in, for `weir probe`: frames from a capture file or a live interface, each parsed into the
//! packet fields of a flow record, with everything counted.
//!
//! [`PacketSource::next`] reads the next frame ([`file`], [`af_packet`], or libpcap with the `libpcap`
//! feature), leaves out what the direction and BPF filters reject, and parses the rest with
//! [`frame::parse`] into the caller's [`FlowRecord`]; [`InputStats`] counts frames, bytes, filtered,
//! malformed, truncated and non-IP frames, and kernel drops. Nothing is allocated or copied per packet:
//! pcap frames are lent from the file reader's buffer, live frames from a reused receive buffer.
//!
//! Frames come out owned by the source only until the next read, which is why the source parses them
//! itself and hands out what the flow cache needs (a filled record, the [`Summary`], the time and the
//! length on the wire) rather than the frame.

mod af_packet;
mod args;
mod file;
pub mod frame;
#[cfg(feature = "libpcap")]
mod libpcap;
mod socket_filter;
mod stats;
#[cfg(test)]
mod test_frames;
#[cfg(test)]
mod throughput;

use std::path::Path;

use thiserror::Error;
use weir_flow::FlowRecord;
use weir_flow::codes::{direction, etype};
use weir_proto::packet::Summary;

pub use args::{CaptureWith, Direction, InputArgs};
pub use stats::{InputStats, ParseErrorKind};

use crate::capture::CaptureError;
use crate::capture::link::LinkType;

/// Why packets could not be read (or read on).
#[derive(Debug, Error)]
pub enum InputError {
    /// The capture file could not be read, or ends inside a packet (after the packets before it).
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// Neither a file nor an interface was named.
    #[error("no packets to read: give --read FILE or --interface IF")]
    NoSource,
    /// The interface could not be opened for capture.
    #[error("cannot capture on {interface}: {reason}")]
    Interface {
        /// The interface.
        interface: String,
        /// What went wrong.
        reason: String,
    },
    /// Reading from the interface failed.
    #[error("cannot read packets from {interface}: {reason}")]
    Read {
        /// The interface.
        interface: String,
        /// What went wrong.
        reason: String,
    },
    /// An option that only a build with libpcap has.
    #[cfg(not(feature = "libpcap"))]
    #[error(
        "{option} needs libpcap, which this build of weir leaves out: build it with \
         `cargo build --release --features libpcap` (on Debian, `apt-get install libpcap-dev` first)"
    )]
    NeedsLibpcap {
        /// The option, as typed.
        option: &'static str,
    },
    /// Promiscuous mode asked of the AF_PACKET capture, which cannot set it.
    #[error(
        "--promisc needs --capture libpcap; with the built-in capture, set it by hand: \
         `ip link set dev {interface} promisc on`"
    )]
    Promiscuous {
        /// The interface.
        interface: String,
    },
    /// The BPF filter does not compile (for the link type of the frames it was to filter).
    #[cfg(feature = "libpcap")]
    #[error("BPF filter `{expr}` for link type {link:?}: {reason}")]
    Bpf {
        /// The expression.
        expr: String,
        /// The link type it was compiled for.
        link: LinkType,
        /// libpcap's message.
        reason: String,
    },
}

/// One captured frame, lent by its source until the next read.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// Capture time, nanoseconds since the epoch.
    pub ts_ns: u64,
    /// The bytes captured, from the link-layer header on.
    pub data: &'a [u8],
    /// The frame's length on the wire (more than `data` when the snap length cut it).
    pub wire_len: u32,
    /// The link-layer header `data` starts with.
    pub link: LinkType,
    /// Which way it went, when the source knows: a `codes::direction` value.
    pub direction: u8,
}

/// What a source read.
#[derive(Debug)]
enum Read<'a> {
    /// A frame.
    Frame(Packet<'a>),
    /// A frame of a link type Weir does not read.
    UnsupportedLink,
    /// No frame is waiting (live capture); the time now.
    Idle(u64),
    /// The end of the file.
    End,
}

/// A parsed packet: its record's packet fields are in the caller's [`FlowRecord`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    /// Capture time, nanoseconds since the epoch.
    pub ts_ns: u64,
    /// Length on the wire, the bytes a flow counts.
    pub wire_len: u32,
    /// What the parser saw besides the record's fields (offsets, fragments, tags, truncation).
    pub summary: Summary,
}

/// What [`PacketSource::next`] gives: `P` is what the caller makes of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next<P> {
    /// A packet.
    Packet(P),
    /// No packet is waiting (live capture), after a wait of at most 100 ms: time for the cache to expire
    /// flows.
    Idle {
        /// Now, nanoseconds since the epoch.
        now_ns: u64,
    },
    /// The end of the file.
    End,
}

/// Where packets come from.
#[derive(Debug)]
enum Backend {
    File(file::FileInput),
    AfPacket(af_packet::AfPacket),
    #[cfg(feature = "libpcap")]
    Libpcap(libpcap::LiveCapture),
}

/// Packets from a capture file or an interface, filtered, parsed and counted.
#[derive(Debug)]
pub struct PacketSource {
    backend: Backend,
    /// Applied here to frames that say their direction (cooked captures, pcapng flags); live captures
    /// filter in the kernel (or in libpcap) before.
    direction: Direction,
    #[cfg(feature = "libpcap")]
    bpf: Option<libpcap::FrameFilter>,
    stats: InputStats,
}

impl PacketSource {
    /// Opens what `args` name: `--read FILE` or `--interface IF`.
    pub fn open(args: &InputArgs) -> Result<Self, InputError> {
        match (&args.read, &args.interface) {
            (Some(path), _) => Self::open_file(path, args),
            (None, Some(interface)) => Self::open_interface(interface, args),
            (None, None) => Err(InputError::NoSource),
        }
    }

    /// Opens a pcap or pcapng file.
    pub fn open_file(path: &Path, args: &InputArgs) -> Result<Self, InputError> {
        let input = file::FileInput::open(path)?;
        Self::with(Backend::File(input), args, false)
    }

    /// Opens a live capture on `interface` (`any` for all of them).
    pub fn open_interface(interface: &str, args: &InputArgs) -> Result<Self, InputError> {
        match args.capture {
            CaptureWith::AfPacket => {
                if args.promisc {
                    return Err(InputError::Promiscuous {
                        interface: interface.to_owned(),
                    });
                }
                let socket = af_packet::AfPacket::open(interface, args.snaplen, args.direction)?;
                Self::with(Backend::AfPacket(socket), args, false)
            }
            #[cfg(feature = "libpcap")]
            CaptureWith::Libpcap => {
                let capture = libpcap::LiveCapture::open(interface, args)?;
                Self::with(Backend::Libpcap(capture), args, true)
            }
            #[cfg(not(feature = "libpcap"))]
            CaptureWith::Libpcap => Err(InputError::NeedsLibpcap {
                option: "--capture libpcap",
            }),
        }
    }

    /// The source around `backend`; `filtered` when the backend applies the BPF filter itself.
    #[cfg_attr(not(feature = "libpcap"), allow(unused_variables))]
    fn with(backend: Backend, args: &InputArgs, filtered: bool) -> Result<Self, InputError> {
        #[cfg(not(feature = "libpcap"))]
        if args.bpf.is_some() {
            return Err(InputError::NeedsLibpcap { option: "--bpf" });
        }
        Ok(Self {
            backend,
            direction: args.direction,
            #[cfg(feature = "libpcap")]
            bpf: match (&args.bpf, filtered) {
                (Some(expr), false) => Some(libpcap::FrameFilter::new(expr)?),
                _ => None,
            },
            stats: InputStats::default(),
        })
    }

    /// The counters so far (kernel drops as of the last frame read, or as libpcap reports them now).
    pub fn stats(&mut self) -> InputStats {
        match &mut self.backend {
            Backend::File(_) => {}
            Backend::AfPacket(socket) => self.stats.kernel_drops = socket.kernel_drops(),
            #[cfg(feature = "libpcap")]
            Backend::Libpcap(capture) => {
                if let Some((kernel, interface)) = capture.drops() {
                    self.stats.kernel_drops = kernel;
                    self.stats.interface_drops = interface;
                }
            }
        }
        self.stats
    }

    /// Reads the next packet the filters let through, parses it into `rec`, and gives what `make` makes of
    /// the record and the [`Parsed`] packet. The packet fields of `rec` are cleared first (see
    /// [`frame::clear_packet_fields`]); its `flow_direction` is the packet's direction when the source
    /// knows it, and the fields no parser writes stay as the caller made them. Frames that cannot be
    /// parsed are counted and skipped. A capture file cut short in the middle of a packet gives its
    /// error after every packet before it.
    ///
    /// `make` is called in place, so that what it does not read of the parse summary is never copied:
    /// the probe takes the few fields it counts, and copying the whole summary out, right after the
    /// parser wrote it field by field, stalled every packet.
    #[inline]
    pub fn next<P>(
        &mut self,
        rec: &mut FlowRecord,
        make: impl FnOnce(&FlowRecord, &Parsed) -> P,
    ) -> Result<Next<P>, InputError> {
        loop {
            let read = match &mut self.backend {
                Backend::File(f) => f.read()?,
                Backend::AfPacket(s) => s.read()?,
                #[cfg(feature = "libpcap")]
                Backend::Libpcap(c) => c.read()?,
            };
            let p = match read {
                Read::Frame(p) => p,
                Read::UnsupportedLink => {
                    self.stats.packets += 1;
                    self.stats.unsupported_link += 1;
                    continue;
                }
                Read::Idle(now_ns) => return Ok(Next::Idle { now_ns }),
                Read::End => return Ok(Next::End),
            };
            let s = &mut self.stats;
            s.packets += 1;
            s.bytes += u64::from(p.wire_len);
            if p.data.len() < p.wire_len as usize {
                s.snapped += 1;
            }
            if !self.direction.admits(p.direction) {
                s.filtered += 1;
                continue;
            }
            #[cfg(feature = "libpcap")]
            if let Some(bpf) = &mut self.bpf
                && !bpf.matches(p.link, p.data)?
            {
                s.filtered += 1;
                continue;
            }
            frame::clear_packet_fields(rec);
            rec.flow_direction = p.direction;
            match frame::parse(p.link, p.data, rec) {
                Ok(summary) => {
                    s.parsed += 1;
                    s.truncated += u64::from(summary.truncated);
                    s.non_ip += u64::from(!matches!(rec.etype, etype::IPV4 | etype::IPV6));
                    let parsed = Parsed {
                        ts_ns: p.ts_ns,
                        wire_len: p.wire_len,
                        summary,
                    };
                    return Ok(Next::Packet(make(rec, &parsed)));
                }
                Err(e) => s.error(s.packets, e),
            }
        }
    }
}

impl Direction {
    /// Whether a frame going `dir` (a `codes::direction` value) is metered; frames whose direction is not
    /// known always are.
    fn admits(self, dir: u8) -> bool {
        match (self, dir) {
            (Direction::Both, _) | (_, direction::UNKNOWN) => true,
            (Direction::Ingress, d) => d == direction::INGRESS,
            (Direction::Egress, d) => d == direction::EGRESS,
        }
    }
}

#[cfg(test)]
mod tests;
