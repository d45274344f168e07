//! `weir decode`: export datagrams from a capture (or raw datagram files) through one decoder, flows to
//! stdout as NDJSON or a table, and a per-exporter summary on stderr.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use tracing::warn;
use weir_flow::FlowBatch;
use weir_flow::time::NANOS_PER_SEC;
use weir_proto::ipfix::MessageFramer;
use weir_proto::{Decoder, Dialect, Reader};

use crate::capture::{Capture, CaptureError, CaptureStats};
use crate::ratelimit::{RateLimiter, Verdict};
use crate::table::FlowTable;
use crate::{flow_output, summary};

/// Arguments of `weir decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Capture files (pcap or pcapng) whose UDP payloads are export datagrams; several are read in order
    /// through the same decoder.
    #[arg(
        value_name = "CAPTURE",
        required_unless_present = "raw",
        conflicts_with = "raw"
    )]
    captures: Vec<PathBuf>,
    /// Read files that each hold one raw export datagram instead, in the order given. A file that starts
    /// with an IPFIX message is read as an IPFIX file (RFC 5655): its messages, end to end, one by one.
    /// The received time is the export time in each header (0, shown as null, for sFlow, which has none).
    #[arg(long, value_name = "FILE", num_args = 1..)]
    raw: Vec<PathBuf>,
    /// Exporter address the datagrams are credited to. Default: the packet's source address for
    /// captures, 127.0.0.1 for raw files.
    #[arg(long, value_name = "ADDR")]
    exporter: Option<IpAddr>,
    /// Output format of the flows.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
}

/// How flows are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One JSON object per flow and line, keys are the schema's column names.
    Json,
    /// An aligned table of the main columns.
    Table,
}

/// Flows are written out in batches of this many.
const BATCH_ROWS: usize = 4096;
/// Decode errors logged per exporter per [`LOG_INTERVAL`] of capture time.
const LOG_BURST: u32 = 10;
const LOG_INTERVAL: u64 = 60 * NANOS_PER_SEC;
/// How often, in capture time, data waiting for templates is checked for expiry.
const EXPIRE_EVERY: u64 = NANOS_PER_SEC;

/// Where a datagram came from, for messages.
#[derive(Debug, Clone, Copy)]
enum Origin<'a> {
    /// A packet of a capture.
    Packet { file: &'a Path, packet: u64 },
    /// A raw file, from this byte on.
    File { file: &'a Path, at: usize },
}

/// One decoding run: the decoder, the flows waiting to be printed, and the tallies.
struct Session<W: Write> {
    decoder: Decoder,
    batch: FlowBatch,
    out: W,
    table: Option<FlowTable>,
    limiter: RateLimiter<IpAddr>,
    datagrams: u64,
    malformed: u64,
    flows: u64,
    next_expire: u64,
}

impl<W: Write> Session<W> {
    fn new(out: W, format: Format) -> Self {
        Self {
            decoder: Decoder::default(),
            batch: FlowBatch::with_capacity(BATCH_ROWS),
            out,
            table: (format == Format::Table).then(FlowTable::default),
            limiter: RateLimiter::new(LOG_BURST, LOG_INTERVAL),
            datagrams: 0,
            malformed: 0,
            flows: 0,
            next_expire: 0,
        }
    }

    fn datagram(
        &mut self,
        exporter: IpAddr,
        time: u64,
        payload: &[u8],
        origin: Origin<'_>,
    ) -> io::Result<()> {
        if time >= self.next_expire {
            self.decoder.expire(time);
            self.next_expire = time.saturating_add(EXPIRE_EVERY);
        }
        let outcome = self.decoder.decode(exporter, time, payload, &mut self.batch);
        self.datagrams += 1;
        if let Some(e) = outcome.error {
            self.malformed += 1;
            if let Verdict::Log { suppressed } = self.limiter.check(&exporter, time) {
                let (file, packet, at) = match origin {
                    Origin::Packet { file, packet } => (file, Some(packet), None),
                    Origin::File { file, at } => (file, None, (at > 0).then_some(at)),
                };
                warn!(
                    exporter = %exporter,
                    dialect = %outcome.domain.dialect,
                    domain = outcome.domain.domain,
                    file = %file.display(),
                    packet,
                    file_offset = at,
                    offset = e.offset(),
                    suppressed = (suppressed > 0).then_some(suppressed),
                    "Malformed datagram: {e}."
                );
            }
        }
        if self.batch.len() >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flows += self.batch.len() as u64;
        match &mut self.table {
            Some(t) => t.write_batch(&mut self.out, &self.batch)?,
            None => flow_output::write_ndjson(&mut self.out, &self.batch)?,
        }
        self.batch.clear();
        self.out.flush()
    }

    /// Reports the lines the rate limit held back, and the summary.
    fn report(&mut self, captures: &[(PathBuf, CaptureStats)]) {
        for (exporter, n) in self.limiter.take_suppressed() {
            warn!(exporter = %exporter, suppressed = n, "More malformed datagrams from this exporter were not logged.");
        }
        let domains: Vec<_> = self
            .decoder
            .domains()
            .map(|(k, d)| (*k, d.counters.clone()))
            .collect();
        let mut text = summary::domains(&domains);
        for (path, stats) in captures {
            text.push_str(&summary::capture(path, stats));
            text.push('\n');
        }
        text.push_str(&format!(
            "Decoded {} datagrams into {} flows",
            self.datagrams, self.flows
        ));
        if self.malformed > 0 {
            text.push_str(&format!(
                "; {} datagrams were malformed (flows decoded before each error are kept)",
                self.malformed
            ));
        }
        text.push_str(".\n");
        eprint!("{text}");
    }
}

/// Runs `weir decode`.
pub fn run(args: &DecodeArgs) -> anyhow::Result<()> {
    let out = BufWriter::with_capacity(1 << 20, io::stdout().lock());
    let mut session = Session::new(out, args.format);
    let mut captures = Vec::new();
    let result = if args.raw.is_empty() {
        decode_captures(&mut session, &args.captures, args.exporter, &mut captures)
    } else {
        decode_raw(
            &mut session,
            &args.raw,
            args.exporter.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        )
    };
    // Flows decoded before a read error are written too.
    let flushed = session.flush().map_err(anyhow::Error::from);
    let result = result.and(flushed);
    match result {
        // A closed pipe (`weir decode x.pcap | head`) is the reader's choice, not an error.
        Err(e)
            if e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        Err(e) if session.datagrams == 0 && captures.is_empty() => Err(e),
        result => {
            session.report(&captures);
            result
        }
    }
}

fn decode_captures<W: Write>(
    session: &mut Session<W>,
    paths: &[PathBuf],
    exporter: Option<IpAddr>,
    stats: &mut Vec<(PathBuf, CaptureStats)>,
) -> anyhow::Result<()> {
    for path in paths {
        let mut capture = Capture::open(path)?;
        let read = loop {
            match capture.next() {
                Ok(Some(d)) => {
                    let origin = Origin::Packet {
                        file: path,
                        packet: d.packet,
                    };
                    session.datagram(exporter.unwrap_or(d.src.ip()), d.time, d.payload, origin)?;
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        stats.push((path.clone(), capture.stats().clone()));
        read.map_err(|e: CaptureError| anyhow::Error::from(e))?;
    }
    Ok(())
}

fn decode_raw<W: Write>(session: &mut Session<W>, paths: &[PathBuf], exporter: IpAddr) -> anyhow::Result<()> {
    for path in paths {
        let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        if Decoder::detect(&bytes) != Dialect::Ipfix {
            session.datagram(
                exporter,
                export_time(&bytes),
                &bytes,
                Origin::File { file: path, at: 0 },
            )?;
            continue;
        }
        let mut framer = MessageFramer::new();
        framer.push(&bytes);
        loop {
            let at = framer.offset();
            match framer.next_message() {
                Some(Ok(message)) => {
                    session.datagram(
                        exporter,
                        export_time(message),
                        message,
                        Origin::File { file: path, at },
                    )?;
                }
                // What is left cannot be framed (or is cut short): the decoder says why, and counts it.
                Some(Err(_)) | None => {
                    if let Some(rest) = bytes.get(at..).filter(|r| !r.is_empty()) {
                        session.datagram(
                            exporter,
                            export_time(rest),
                            rest,
                            Origin::File { file: path, at },
                        )?;
                    }
                    break;
                }
            }
        }
    }
    Ok(())
}

/// The export time a datagram's header carries, in nanoseconds since the epoch: a deterministic received
/// time for datagrams read from files. 0 when the header has none (sFlow) or is too short.
fn export_time(datagram: &[u8]) -> u64 {
    let mut r = Reader::new(datagram);
    let secs = match r.u16() {
        // NetFlow v1/v5/v7/v8: unix_secs and unix_nsecs after count and sys_uptime.
        Ok(1 | 5 | 7 | 8) => {
            let nanos = r.skip(6).and_then(|()| Ok((r.u32()?, r.u32()?)));
            return nanos.map_or(0, |(s, ns)| {
                u64::from(s) * NANOS_PER_SEC + u64::from(ns).min(NANOS_PER_SEC - 1)
            });
        }
        // NetFlow v9: unix_secs after count and sys_uptime.
        Ok(9) => r.skip(6).and_then(|()| r.u32()),
        // IPFIX: export time after the message length.
        Ok(10) => r.skip(2).and_then(|()| r.u32()),
        _ => return 0,
    };
    secs.map_or(0, |s| u64::from(s) * NANOS_PER_SEC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_time_comes_from_each_header() {
        let mut v5 = vec![0, 5, 0, 1, 0, 0, 0, 9];
        v5.extend_from_slice(&1_700_000_000u32.to_be_bytes());
        v5.extend_from_slice(&250_000_000u32.to_be_bytes());
        assert_eq!(export_time(&v5), 1_700_000_000_250_000_000);
        let mut v9 = vec![0, 9, 0, 1, 0, 0, 0, 9];
        v9.extend_from_slice(&1_600_000_000u32.to_be_bytes());
        assert_eq!(export_time(&v9), 1_600_000_000 * NANOS_PER_SEC);
        let mut ipfix = vec![0, 10, 0, 16];
        ipfix.extend_from_slice(&1_500_000_000u32.to_be_bytes());
        assert_eq!(export_time(&ipfix), 1_500_000_000 * NANOS_PER_SEC);
        assert_eq!(
            export_time(&[0, 0, 0, 5, 0, 0, 0, 1]),
            0,
            "sFlow has no export time"
        );
        assert_eq!(export_time(&[0, 5, 0]), 0);
    }
}
