//! `weir bench`: reproducible inputs for measuring Weir beside other tools on the same files.

mod packets;

use clap::Subcommand;

/// What `weir bench` makes.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Write a packet capture of realistic traffic (TCP sessions, DNS, NTP, QUIC, ICMP, GRE; IPv4 and IPv6;
    /// some VLAN tags) for the probe.
    Packets(packets::PacketsArgs),
}

/// Runs one `weir bench` command.
pub fn run(command: &BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Packets(args) => packets::run(args),
    }
}
