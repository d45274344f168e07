//! `weir replay`: sends the export datagrams of a capture to a collector, at the capture's pace (scaled)
//! or as fast as possible; or writes them, repeated, into a new capture for benchmarks.
//!
//! Datagrams leave from one local socket, so a collector sees every exporter of the capture as this host.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Args;
use pcap_file::pcap::PcapPacket;
use tracing::warn;
use weir_flow::time::NANOS_PER_SEC;

use crate::capture::{Capture, Datagram, encap};
use crate::clock::now;
use crate::ratelimit::{RateLimiter, Verdict};

/// Arguments of `weir replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The capture (pcap or pcapng) whose UDP payloads are sent.
    #[arg(value_name = "CAPTURE")]
    capture: PathBuf,
    /// Collector to send to, e.g. 127.0.0.1:2055.
    #[arg(long, value_name = "HOST:PORT", required_unless_present = "write")]
    to: Option<String>,
    /// Write the datagrams into this pcap instead of sending them (raw IP, original addresses, times
    /// shifted forward on each loop).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["to", "speed", "top_speed"])]
    write: Option<PathBuf>,
    /// Pace: N times the capture's speed.
    #[arg(long, value_name = "N", default_value_t = 1.0, conflicts_with = "top_speed")]
    speed: f64,
    /// Send as fast as possible.
    #[arg(long)]
    top_speed: bool,
    /// Go through the capture N times.
    #[arg(long = "loop", value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    loops: u32,
}

/// What was sent.
#[derive(Debug, Default)]
struct Tally {
    datagrams: u64,
    bytes: u64,
    errors: u64,
}

/// Runs `weir replay`.
pub fn run(args: &ReplayArgs) -> anyhow::Result<()> {
    if !(args.speed.is_finite() && args.speed > 0.0) {
        bail!("--speed must be a positive number, not {}", args.speed);
    }
    let started = Instant::now();
    let (tally, verb) = match (&args.write, &args.to) {
        (Some(out), _) => (write_capture(&args.capture, out, args.loops)?, "Wrote"),
        (None, Some(to)) => {
            let to = resolve(to)?;
            let pace = (!args.top_speed).then_some(args.speed);
            (send(&args.capture, to, pace, args.loops)?, "Sent")
        }
        (None, None) => bail!("say where to: --to HOST:PORT or --write FILE"),
    };
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    eprintln!(
        "{verb} {} datagrams ({} bytes) in {secs:.3} s: {:.0} datagrams/s, {:.1} Mbit/s{}.",
        tally.datagrams,
        tally.bytes,
        tally.datagrams as f64 / secs,
        tally.bytes as f64 * 8.0 / secs / 1e6,
        if tally.errors > 0 {
            format!("; {} failed", tally.errors)
        } else {
            String::new()
        }
    );
    Ok(())
}

fn resolve(to: &str) -> anyhow::Result<SocketAddr> {
    to.to_socket_addrs()
        .with_context(|| format!("cannot resolve {to}"))?
        .next()
        .with_context(|| format!("{to} resolves to no address"))
}

/// Datagrams kept from the first pass for the next ones, up to this many payload bytes (re-reading a capture
/// costs more than the datagrams in it when they are few).
const MAX_KEPT_BYTES: usize = 64 << 20;

/// A datagram kept for the next passes.
type Kept = (u64, u64, SocketAddr, SocketAddr, Vec<u8>);

/// Calls `each` with every datagram of the capture, `loops` times, with the pass number.
fn for_each_datagram(
    path: &Path,
    loops: u32,
    mut each: impl FnMut(u32, &Datagram<'_>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut kept: Option<(Vec<Kept>, usize)> = (loops > 1).then(|| (Vec::new(), 0));
    let mut capture = Capture::open(path)?;
    while let Some(d) = capture.next()? {
        each(0, &d)?;
        if let Some((list, bytes)) = &mut kept {
            *bytes += d.payload.len();
            list.push((d.packet, d.time, d.src, d.dst, d.payload.to_vec()));
            if *bytes > MAX_KEPT_BYTES {
                kept = None;
            }
        }
    }
    for pass in 1..loops {
        match &kept {
            Some((list, _)) => {
                for (packet, time, src, dst, payload) in list {
                    let d = Datagram {
                        packet: *packet,
                        time: *time,
                        src: *src,
                        dst: *dst,
                        payload,
                    };
                    each(pass, &d)?;
                }
            }
            None => {
                let mut capture = Capture::open(path)?;
                while let Some(d) = capture.next()? {
                    each(pass, &d)?;
                }
            }
        }
    }
    Ok(())
}

fn send(path: &Path, to: SocketAddr, pace: Option<f64>, loops: u32) -> anyhow::Result<Tally> {
    let local = match to.ip() {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    let socket = UdpSocket::bind((local, 0)).context("cannot open a UDP socket")?;
    socket
        .connect(to)
        .with_context(|| format!("cannot send to {to}"))?;
    let mut tally = Tally::default();
    let mut errors = RateLimiter::new(1, 10 * NANOS_PER_SEC);
    // Each pass starts its own clock: datagram k leaves (its capture time - the first's) / speed after it.
    let mut clock: Option<(u32, Instant, u64)> = None;
    for_each_datagram(path, loops, |pass, d| {
        if let Some(speed) = pace {
            let (_, start, first) = match clock {
                Some(c) if c.0 == pass => c,
                _ => *clock.insert((pass, Instant::now(), d.time)),
            };
            let due = Duration::from_secs_f64(d.time.saturating_sub(first) as f64 / 1e9 / speed);
            if let Some(wait) = due.checked_sub(start.elapsed()) {
                thread::sleep(wait);
            }
        }
        match socket.send(d.payload) {
            Ok(_) => {
                tally.datagrams += 1;
                tally.bytes += d.payload.len() as u64;
            }
            Err(e) => {
                tally.errors += 1;
                if let Verdict::Log { suppressed } = errors.check(&(), now()) {
                    warn!(to = %to, error = %e, packet = d.packet, suppressed, "Cannot send a datagram.");
                }
            }
        }
        Ok(())
    })?;
    Ok(tally)
}

fn write_capture(path: &Path, out: &Path, loops: u32) -> anyhow::Result<Tally> {
    let mut writer = encap::create_capture(out)?;
    let mut tally = Tally::default();
    // Each pass is shifted past the previous one (by the first pass's span and a millisecond), so time
    // keeps going forward.
    let mut span: Option<(u64, u64)> = None;
    for_each_datagram(path, loops, |pass, d| {
        if pass == 0 {
            let s = span.get_or_insert((d.time, d.time));
            s.1 = s.1.max(d.time);
        }
        let shift = span.map_or(0, |(first, last)| {
            (last.saturating_sub(first) + NANOS_PER_SEC / 1000).saturating_mul(u64::from(pass))
        });
        let Some(packet) = encap::ip_udp(d.src, d.dst, d.payload) else {
            tally.errors += 1;
            return Ok(());
        };
        let time = Duration::from_nanos(d.time.saturating_add(shift));
        writer
            .write_packet(&PcapPacket::new(time, packet.len() as u32, &packet))
            .with_context(|| format!("cannot write {}", out.display()))?;
        tally.datagrams += 1;
        tally.bytes += d.payload.len() as u64;
        Ok(())
    })?;
    writer
        .into_writer()
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(tally)
}
