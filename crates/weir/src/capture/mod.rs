//! Reading export datagrams out of packet captures (pcap and pcapng), for `weir decode` and `weir replay`.
//!
//! [`Capture`] walks a file frame by frame: link layer ([`link`]), IPv4/IPv6 ([`ip`]), fragment reassembly
//! ([`fragments`]), UDP. Every packet that is not a whole UDP datagram is counted in [`CaptureStats`].

pub mod encap;
pub mod file;
mod fragments;
mod ip;
pub mod link;

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use thiserror::Error;

use file::FrameSource;
use fragments::{Added, Reassembler};
use ip::Transport;
use link::Network;

/// Why a capture could not be read (or read to its end).
#[derive(Debug, Error)]
pub enum CaptureError {
    /// The file could not be opened.
    #[error("cannot open {}: {reason}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// What the system said.
        reason: io::Error,
    },
    /// The file is not a pcap or pcapng capture.
    #[error("{} is not a pcap or pcapng capture: {reason}", path.display())]
    NotACapture {
        /// The file.
        path: PathBuf,
        /// What is wrong with its header.
        reason: String,
    },
    /// The file's link type is not one Weir reads.
    #[error("{}: link type {code} is not supported (Ethernet, Linux SLL/SLL2, raw IP and BSD loopback are)", path.display())]
    UnsupportedLink {
        /// The file.
        path: PathBuf,
        /// The LINKTYPE_* code.
        code: u32,
    },
    /// The file ends inside a packet record: the capture was cut short.
    #[error("{} ends inside packet {packet}: the capture was cut short", path.display())]
    CutShort {
        /// The file.
        path: PathBuf,
        /// Number of the packet that is incomplete (1-based).
        packet: u64,
    },
    /// A record could not be read.
    #[error("{}: cannot read packet {packet}: {reason}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Number of the packet (1-based).
        packet: u64,
        /// What went wrong.
        reason: String,
    },
}

/// Why one packet yields no datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketError {
    /// The packet ends before its headers say it does (cut by the snap length, or damaged).
    Truncated,
    /// A header field holds a value no real packet has.
    Malformed(&'static str),
}

impl From<weir_proto::DecodeError> for PacketError {
    fn from(_: weir_proto::DecodeError) -> Self {
        // The cursor only fails when bytes run out.
        Self::Truncated
    }
}

/// What was in a capture besides export datagrams. Each packet is counted once by what it was; a datagram
/// reassembled from fragments is counted once more, by what it held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Packet records read.
    pub packets: u64,
    /// UDP datagrams found (each fragmented datagram once).
    pub datagrams: u64,
    /// Packets that were not IP, or not UDP.
    pub not_udp: u64,
    /// Packets that end before their headers say.
    pub truncated: u64,
    /// Packets with impossible header values.
    pub malformed: u64,
    /// Numbers of the first truncated or malformed packets (at most [`CaptureStats::KEPT_NUMBERS`]).
    pub bad_packets: Vec<u64>,
    /// Packets on an interface whose link type Weir does not read (pcapng only).
    pub unsupported_link: u64,
    /// IP fragments seen.
    pub fragments: u64,
    /// Datagrams reassembled from fragments.
    pub reassembled: u64,
    /// Fragments dropped: overlapping, too long, or never completed.
    pub fragments_dropped: u64,
}

impl CaptureStats {
    /// How many bad packet numbers are kept for the summary.
    pub const KEPT_NUMBERS: usize = 10;

    fn bad(&mut self, packet: u64, e: PacketError) {
        match e {
            PacketError::Truncated => self.truncated += 1,
            PacketError::Malformed(_) => self.malformed += 1,
        }
        if self.bad_packets.len() < Self::KEPT_NUMBERS {
            self.bad_packets.push(packet);
        }
    }
}

/// One UDP datagram found in a capture.
#[derive(Debug, Clone, Copy)]
pub struct Datagram<'a> {
    /// Number of the packet it came in (1-based, as Wireshark numbers frames); for a reassembled datagram,
    /// its last fragment.
    pub packet: u64,
    /// Capture time, nanoseconds since the epoch.
    pub time: u64,
    /// Sender (the exporter).
    pub src: SocketAddr,
    /// Receiver (the collector).
    pub dst: SocketAddr,
    /// The UDP payload: the export datagram.
    pub payload: &'a [u8],
}

/// A capture file being read for its UDP datagrams.
#[derive(Debug)]
pub struct Capture {
    path: PathBuf,
    source: FrameSource,
    reassembler: Reassembler,
    stats: CaptureStats,
    payload: Vec<u8>,
}

impl Capture {
    /// Opens a pcap or pcapng file.
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let source = FrameSource::open(path)?;
        Ok(Self {
            path: path.to_owned(),
            source,
            reassembler: Reassembler::default(),
            stats: CaptureStats::default(),
            payload: Vec::new(),
        })
    }

    /// What was found so far.
    pub fn stats(&self) -> &CaptureStats {
        &self.stats
    }

    /// The next UDP datagram; `None` at the end of the file. After an error, the counts in
    /// [`stats`](Self::stats) cover what was read before it.
    pub fn next(&mut self) -> Result<Option<Datagram<'_>>, CaptureError> {
        let found = loop {
            let packet = self.stats.packets + 1;
            let Some(info) = self.source.next_frame(&self.path, packet)? else {
                self.stats.fragments_dropped += self.reassembler.finish();
                return Ok(None);
            };
            self.stats.packets = packet;
            let Ok(link) = info.link else {
                self.stats.unsupported_link += 1;
                continue;
            };
            let transport = link::network(link, self.source.frame()).and_then(|n| match n {
                Network::Ipv4(p) => ip::ipv4(p),
                Network::Ipv6(p) => ip::ipv6(p),
                Network::Other => Ok(Transport::Other),
            });
            match transport {
                Ok(Transport::Udp(u)) => {
                    self.payload.clear();
                    self.payload.extend_from_slice(u.payload);
                    break Datagram {
                        packet,
                        time: info.time,
                        src: u.src,
                        dst: u.dst,
                        payload: &[],
                    };
                }
                Ok(Transport::Other) => self.stats.not_udp += 1,
                Ok(Transport::Fragment(f)) => {
                    self.stats.fragments += 1;
                    let added = self.reassembler.add(&f, packet);
                    self.stats.fragments_dropped += self.reassembler.take_evicted();
                    match added {
                        Added::Pending => {}
                        Added::Dropped(n) => self.stats.fragments_dropped += n,
                        Added::Complete(whole) => {
                            self.stats.reassembled += 1;
                            match ip::reassembled(&f.key, &whole) {
                                Ok(Transport::Udp(u)) => {
                                    self.payload.clear();
                                    self.payload.extend_from_slice(u.payload);
                                    break Datagram {
                                        packet,
                                        time: info.time,
                                        src: u.src,
                                        dst: u.dst,
                                        payload: &[],
                                    };
                                }
                                Ok(_) => self.stats.not_udp += 1,
                                Err(e) => self.stats.bad(packet, e),
                            }
                        }
                    }
                }
                Err(e) => self.stats.bad(packet, e),
            }
        };
        self.stats.datagrams += 1;
        Ok(Some(Datagram {
            payload: &self.payload,
            ..found
        }))
    }
}

#[cfg(test)]
mod tests;
