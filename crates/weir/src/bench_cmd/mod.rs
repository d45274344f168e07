//! `weir bench`: reproducible inputs for measuring Weir beside other tools on the same files.

mod data;
mod packets;

use clap::Subcommand;

/// What `weir bench` makes.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Write a packet capture of realistic traffic (TCP sessions, DNS, NTP, QUIC, ICMP, GRE; IPv4 and IPv6;
    /// some VLAN tags) for the probe.
    Packets(packets::PacketsArgs),
    /// Write a day of realistic flow records (NDJSON, or NetFlow v9 datagrams in a capture) for the store,
    /// queries and collectors.
    Data(data::DataArgs),
}

/// Runs one `weir bench` command.
pub fn run(command: &BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Packets(args) => packets::run(args),
        BenchCommand::Data(args) => data::run(args),
    }
}
