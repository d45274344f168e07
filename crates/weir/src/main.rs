//! `weir`: network flow collector, exporter and analyser.
//!
//! Exit codes: 0 on success (also when some datagrams were malformed: they are counted and reported),
//! 1 when a file cannot be read or the collector cannot start, 2 for bad command-line arguments.

mod api;
mod ask;
mod bench_cmd;
mod capture;
mod clock;
mod decode_cmd;
mod demo;
mod exposition;
mod flow_output;
mod probe;
mod query_cmd;
mod ratelimit;
mod replay;
mod serve;
mod summary;
mod synthetic;
mod table;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Network flow collector, exporter and analyser.
#[derive(Debug, Parser)]
#[command(name = "weir", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode the export datagrams of a capture (or raw datagram files) and print the flows.
    Decode(decode_cmd::DecodeArgs),
    /// Collect flows: receive NetFlow, IPFIX and sFlow on UDP (and IPFIX on TCP), decode, store, serve /metrics.
    Serve(serve::ServeArgs),
    /// `serve`, with simulated routers and a switch sending it NetFlow v9, IPFIX and sFlow, with an attack
    /// now and then: live traffic to look at, in one command.
    Demo(Box<demo::DemoArgs>),
    /// Send the export datagrams of a capture to a collector, at their pace or as fast as possible.
    Replay(replay::ReplayArgs),
    /// Ask the store: top-N, time series, flow listings, summaries and packet sizes, with a filter.
    Query(Box<query_cmd::QueryArgs>),
    /// Meter packets (a capture file or an interface) into flows like a router's NetFlow cache, and export them.
    Probe(Box<probe::ProbeArgs>),
    /// Print an example configuration file (`weir config example`).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Write reproducible inputs for measuring Weir beside other tools.
    #[command(subcommand)]
    Bench(bench_cmd::BenchCommand),
}

/// What `weir config` prints.
#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// A `weir serve --config` file with every key, its default and what it does.
    Example,
    /// A new random API token, and the `[[http.tokens]]` entry that accepts it (only its hash).
    Token {
        /// Who or what will hold it.
        #[arg(long, default_value = "api")]
        name: String,
        /// `viewer` (reads) or `admin` (reads and changes).
        #[arg(long, default_value = "viewer")]
        role: api::auth::Role,
    },
    /// Reads a password (one line on standard input) and prints the `[[http.users]]` entry for it.
    Password {
        /// The user's login name.
        name: String,
        /// `viewer` (reads) or `admin` (reads and changes).
        #[arg(long, default_value = "viewer")]
        role: api::auth::Role,
    },
}

/// Logs go to stderr, filtered by `WEIR_LOG` (e.g. `WEIR_LOG=debug`), `info` by default. One-shot commands
/// leave out timestamps, which only matter for the long-running collector.
fn init_logging(timestamps: bool) {
    let filter = EnvFilter::try_from_env("WEIR_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    if timestamps {
        fmt.init();
    } else {
        fmt.without_time().init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(matches!(
        cli.command,
        Command::Serve(_) | Command::Demo(_) | Command::Probe(_)
    ));
    let result = match &cli.command {
        Command::Decode(args) => decode_cmd::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Probe(args) => probe::run(args),
        Command::Query(args) => query_cmd::run(args),
        Command::Config(ConfigCommand::Example) => {
            print!("{}", serve::config_example());
            Ok(())
        }
        Command::Config(ConfigCommand::Token { name, role }) => api::auth::print_token(name, *role),
        Command::Config(ConfigCommand::Password { name, role }) => api::auth::print_password(name, *role),
        Command::Bench(command) => bench_cmd::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("weir: {e:#}");
            ExitCode::FAILURE
        }
    }
}
