//! The command-line options of packet input, for `weir probe` to flatten into its own.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// Bytes kept of each live frame unless `--snaplen` says otherwise: room for Ethernet, two VLAN tags, a few
/// MPLS labels, IPv6 with extension headers and TCP with options. Flows count the length on the wire,
/// which does not depend on it.
pub const DEFAULT_SNAPLEN: u32 = 256;

/// Where packets come from and which ones to meter.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Read packets from a pcap or pcapng file.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "interface",
        required_unless_present = "interface"
    )]
    pub read: Option<PathBuf>,
    /// Capture packets on this interface (`any` for every interface); needs root or CAP_NET_RAW.
    #[arg(long, value_name = "IF")]
    pub interface: Option<String>,
    /// How to capture live: `af-packet` (built in) or `libpcap` (in builds with the `libpcap` feature).
    #[arg(long, value_enum, default_value_t = CaptureWith::AfPacket)]
    pub capture: CaptureWith,
    /// Meter only the packets this BPF filter expression (tcpdump's syntax) matches; needs a build with
    /// the `libpcap` feature.
    #[arg(long, value_name = "EXPR")]
    pub bpf: Option<String>,
    /// Bytes kept of each captured packet (live capture).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_SNAPLEN,
          value_parser = clap::value_parser!(u32).range(64..=262_144))]
    pub snaplen: u32,
    /// Which packets to meter: those the host received (`ingress`), sent (`egress`), or `both`.
    /// Files only tell for Linux cooked captures and pcapng packets with direction flags.
    #[arg(long, value_enum, default_value_t = Direction::Both)]
    pub direction: Direction,
    /// Put the interface in promiscuous mode, to see traffic not addressed to the host (with
    /// `--capture libpcap`).
    #[arg(long)]
    pub promisc: bool,
}

/// How live packets are captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CaptureWith {
    /// A Linux AF_PACKET socket, built in.
    AfPacket,
    /// libpcap (builds with the `libpcap` feature).
    Libpcap,
}

/// Which way packets go for them to be metered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Direction {
    /// Received by the host.
    Ingress,
    /// Sent by the host.
    Egress,
    /// Both ways.
    Both,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        input: InputArgs,
    }

    #[test]
    fn defaults_to_af_packet_both_ways_with_a_header_sized_snap_length() {
        let cli = Cli::try_parse_from(["weir", "--interface", "eth0"]).unwrap();
        let a = cli.input;
        assert_eq!(a.interface.as_deref(), Some("eth0"));
        assert_eq!(
            (a.capture, a.direction, a.snaplen, a.promisc),
            (CaptureWith::AfPacket, Direction::Both, 256, false)
        );
    }

    #[test]
    fn takes_one_source_only() {
        assert!(Cli::try_parse_from(["weir"]).is_err());
        assert!(Cli::try_parse_from(["weir", "--read", "a.pcap", "--interface", "lo"]).is_err());
        let cli = Cli::try_parse_from(["weir", "--read", "a.pcap", "--direction", "egress"]).unwrap();
        assert_eq!(cli.input.direction, Direction::Egress);
        assert!(Cli::try_parse_from(["weir", "--interface", "lo", "--snaplen", "20"]).is_err());
        assert!(Cli::try_parse_from(["weir", "--interface", "lo", "--capture", "libpcap"]).is_ok());
    }
}
