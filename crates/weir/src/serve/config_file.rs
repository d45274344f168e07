//! `weir serve --config weir.toml`: the collector's settings as a TOML file.
//!
//! The file is laid over [`ServeConfig::default`]: every key is optional, and a key left out keeps its
//! default, so a file holds only what a site changes. Unknown keys are refused, since a misspelt key that is
//! silently ignored is a setting the operator believes in and does not have. Command-line flags are laid over
//! the file in turn.
//!
//! [`example`] prints every key with its default; a test reads it back and checks it gives the defaults, so
//! the example cannot drift from the code.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer};
use thiserror::Error;

use weir_query::plan::Table;
use weir_store::StoreConfig;

use super::config::{Cidr, Output, ServeConfig};
use crate::api::auth::{Role, Token, User, sha256_from_hex};

/// Why a configuration file was refused.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or a key or value is wrong; the message has the line and column.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message: the line, the column, the text around it and what was wrong.
        message: String,
    },
}

/// Reads `path` and lays it over `config`.
pub fn load(path: &Path, config: &mut ServeConfig) -> Result<(), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    apply(&text, config).map_err(|message| ConfigError::Parse {
        path: path.to_owned(),
        message,
    })
}

/// Lays the TOML `text` over `config`; the error is the parser's message, with line and column.
pub fn apply(text: &str, config: &mut ServeConfig) -> Result<(), String> {
    let file: File = toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())?;
    file.apply(config);
    Ok(())
}

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct File {
    collector: Collector,
    limits: Limits,
    http: Http,
    store: StoreSection,
    output: OutputSection,
}

/// `[collector]`: sockets, threads and queues.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Collector {
    listen: Option<Vec<SocketAddr>>,
    listen_tcp: Option<Vec<SocketAddr>>,
    tcp_max_connections: Option<Positive>,
    #[serde(deserialize_with = "duration")]
    tcp_idle_timeout: Option<Duration>,
    allow: Option<Vec<CidrText>>,
    readers: Option<Positive>,
    shards: Option<Positive>,
    #[serde(deserialize_with = "size")]
    recv_buffer: Option<u64>,
    queue_batches: Option<Positive>,
    #[serde(deserialize_with = "size")]
    queue_bytes: Option<u64>,
    max_datagram: Option<Positive>,
}

/// `[limits]`: what one exporter can make a decoder keep.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Limits {
    max_domains: Option<Positive>,
    max_domains_per_exporter: Option<Positive>,
    max_templates_per_domain: Option<Positive>,
    max_template_fields: Option<Positive>,
    #[serde(deserialize_with = "size")]
    max_pending_bytes: Option<u64>,
    #[serde(deserialize_with = "duration")]
    pending_hold: Option<Duration>,
}

/// `[http]`: the listener, the API's limits and the credentials it asks for.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Http {
    listen: Option<SocketAddr>,
    enabled: Option<bool>,
    #[serde(deserialize_with = "duration")]
    query_time_limit: Option<Duration>,
    concurrent_queries: Option<Positive>,
    #[serde(deserialize_with = "duration")]
    queue_timeout: Option<Duration>,
    tokens: Vec<TokenSection>,
    users: Vec<UserSection>,
}

/// `[[http.tokens]]`: an API token, by the SHA-256 of its text (`weir config token` makes one).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenSection {
    name: String,
    role: RoleText,
    sha256: Sha256Text,
}

/// `[[http.users]]`: a user, by the Argon2 hash of the password (`weir config password` makes one).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserSection {
    name: String,
    role: RoleText,
    password: PasswordHash,
}

/// `"viewer"` or `"admin"`.
#[derive(Debug, Clone, Copy)]
struct RoleText(Role);

impl<'de> Deserialize<'de> for RoleText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map(Self).map_err(de::Error::custom)
    }
}

/// 64 hex digits.
#[derive(Debug, Clone, Copy)]
struct Sha256Text([u8; 32]);

impl<'de> Deserialize<'de> for Sha256Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        sha256_from_hex(&s).map(Self).ok_or_else(|| {
            de::Error::custom(
                "not a SHA-256 in hex (64 digits); `weir config token` prints a token and its hash",
            )
        })
    }
}

/// An Argon2 PHC string (`$argon2id$v=19$...`), checked when read so a typo fails at start, not at login.
#[derive(Debug, Clone)]
struct PasswordHash(String);

impl<'de> Deserialize<'de> for PasswordHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if !s.starts_with("$argon2") || argon2::PasswordHash::new(&s).is_err() {
            return Err(de::Error::custom(
                "not an Argon2 password hash (\"$argon2id$v=19$...\"); `weir config password` makes one",
            ));
        }
        Ok(Self(s))
    }
}

/// `[store]`: the embedded store.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct StoreSection {
    enabled: Option<bool>,
    dir: Option<PathBuf>,
    #[serde(deserialize_with = "duration")]
    flush_interval: Option<Duration>,
    flush_flows: Option<Positive>,
    max_buffer_flows: Option<Positive>,
    #[serde(deserialize_with = "size")]
    min_free: Option<u64>,
    merge_parts: Option<Positive>,
    #[serde(deserialize_with = "duration")]
    settle: Option<Duration>,
    retention: RetentionSection,
    rollups: Vec<RollupSection>,
}

/// `[[store.rollups]]`: a rollup of the operator's own, beside the default ones.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RollupSection {
    /// The table's name, and its directory.
    name: String,
    /// The width of its time buckets: whole seconds, at least one.
    resolution: Resolution,
    /// Its group keys, among the columns the schema lets rollups keep.
    keys: Vec<RollupKey>,
    /// How long it keeps rows; by default forever.
    retention: Option<Retention>,
}

/// A rollup's bucket width in seconds.
#[derive(Debug, Clone, Copy)]
struct Resolution(u64);

impl<'de> Deserialize<'de> for Resolution {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        whole_seconds(&s, "a resolution", "\"1m\", \"5m\" or \"1h\"")
            .map(Self)
            .map_err(de::Error::custom)
    }
}

/// `text` as a duration of whole seconds, at least one; else why not, with `examples` of what would do.
fn whole_seconds(text: &str, what: &str, examples: &str) -> Result<u64, String> {
    let bad = |why: &str| format!("{text:?} {why}; write e.g. {examples}");
    let d = humantime::parse_duration(text).map_err(|_| bad(&format!("is not {what}")))?;
    if d.as_secs() == 0 || d.subsec_nanos() != 0 {
        return Err(bad("is not a whole number of seconds, at least one"));
    }
    Ok(d.as_secs())
}

/// A column a rollup groups by.
#[derive(Debug, Clone, Copy)]
struct RollupKey(weir_flow::Field);

impl<'de> Deserialize<'de> for RollupKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let keys = || {
            weir_flow::FIELDS
                .iter()
                .map(|f| f.column())
                .filter(|c| c.rollup && c.name != "time_received")
        };
        match weir_flow::FIELDS.iter().find(|f| f.column().name == s) {
            Some(&f) if f.column().rollup && s != "time_received" => Ok(Self(f)),
            found => {
                let what = if found.is_some() {
                    "is not a column rollups can group by (addresses, ports, times, counters and AS paths \
                     stay in the raw table)"
                } else {
                    "is not a column"
                };
                let names: Vec<&str> = keys().map(|c| c.name).collect();
                Err(de::Error::custom(format!(
                    "{s:?} {what}; a rollup key is one of: {}",
                    names.join(", ")
                )))
            }
        }
    }
}

/// `[store.retention]`: how long each table keeps rows.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RetentionSection {
    flows: Option<Retention>,
    flows_1m: Option<Retention>,
    flows_1h: Option<Retention>,
    traffic_1m: Option<Retention>,
    traffic_1h: Option<Retention>,
}

/// A retention: a duration of whole seconds, or `"forever"`.
#[derive(Debug, Clone, Copy)]
struct Retention(Option<u64>);

impl<'de> Deserialize<'de> for Retention {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == "forever" {
            return Ok(Self(None));
        }
        whole_seconds(&s, "a retention", "\"15d\", \"90d\" or \"forever\"")
            .map(|secs| Self(Some(secs)))
            .map_err(de::Error::custom)
    }
}

/// `[output]`: a copy of every flow as NDJSON.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct OutputSection {
    ndjson: Option<String>,
}

/// A count that must be at least 1.
#[derive(Debug, Clone, Copy)]
struct Positive(usize);

impl<'de> Deserialize<'de> for Positive {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u64::deserialize(d)?;
        if n == 0 {
            return Err(de::Error::custom("must be at least 1"));
        }
        usize::try_from(n)
            .map(Self)
            .map_err(|_| de::Error::custom("too large"))
    }
}

/// A prefix written as text, `"192.0.2.0/24"`.
#[derive(Debug, Clone, Copy)]
struct CidrText(Cidr);

impl<'de> Deserialize<'de> for CidrText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map(Self).map_err(de::Error::custom)
    }
}

/// A duration written as text: `"10m"`, `"1h 30m"`, `"500ms"`, `"15d"`.
fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let s = String::deserialize(d)?;
    humantime::parse_duration(&s).map(Some).map_err(|e| {
        de::Error::custom(format!(
            "{s:?} is not a duration ({e}); write e.g. \"30s\", \"10m\", \"15d\""
        ))
    })
}

/// A size in bytes: an integer, or text with a unit (`"64MiB"`, `"1G"`).
fn size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bytes(u64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Bytes(n) => Ok(Some(n)),
        Raw::Text(s) => parse_size(&s).map(Some).ok_or_else(|| {
            de::Error::custom(format!(
                "{s:?} is not a size; write e.g. 65536, \"64KiB\", \"32MiB\""
            ))
        }),
    }
}

/// Parses `"32MiB"`, `"64 KiB"`, `"1G"` or `"512"` into bytes (K/M/G and KiB/MiB/GiB are both powers of 1024,
/// as buffer sizes are).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let n: u64 = s[..digits].parse().ok()?;
    let shift = match s[digits..].trim() {
        "" | "B" => 0,
        "K" | "KiB" | "k" => 10,
        "M" | "MiB" => 20,
        "G" | "GiB" => 30,
        "T" | "TiB" => 40,
        _ => return None,
    };
    n.checked_mul(1 << shift)
}

/// Formats bytes the way [`parse_size`] reads them, in the largest unit that divides them.
pub fn format_size(n: u64) -> String {
    for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if n != 0 && n.is_multiple_of(1 << shift) {
            return format!("\"{}{unit}\"", n >> shift);
        }
    }
    n.to_string()
}

impl File {
    fn apply(self, c: &mut ServeConfig) {
        let File {
            collector: k,
            limits: l,
            http,
            store,
            output,
        } = self;
        store.apply(&mut c.store);
        set(&mut c.listen, k.listen);
        set(&mut c.listen_tcp, k.listen_tcp);
        set(&mut c.tcp_max_connections, k.tcp_max_connections.map(|p| p.0));
        set(&mut c.tcp_idle_timeout, k.tcp_idle_timeout);
        set(
            &mut c.allow,
            k.allow.map(|v| v.into_iter().map(|c| c.0).collect()),
        );
        set(&mut c.readers, k.readers.map(|p| p.0));
        set(&mut c.shards, k.shards.map(|p| p.0));
        set(&mut c.recv_buffer, k.recv_buffer.map(saturating_usize));
        set(&mut c.queue_batches, k.queue_batches.map(|p| p.0));
        set(&mut c.queue_bytes, k.queue_bytes.map(saturating_usize));
        set(&mut c.max_datagram, k.max_datagram.map(|p| p.0));
        set(&mut c.limits.max_domains, l.max_domains.map(|p| p.0));
        set(
            &mut c.limits.max_domains_per_exporter,
            l.max_domains_per_exporter.map(|p| p.0),
        );
        set(
            &mut c.limits.max_templates_per_domain,
            l.max_templates_per_domain.map(|p| p.0),
        );
        set(
            &mut c.limits.max_template_fields,
            l.max_template_fields.map(|p| p.0),
        );
        set(
            &mut c.limits.max_pending_bytes,
            l.max_pending_bytes.map(saturating_usize),
        );
        set(
            &mut c.limits.pending_hold_ns,
            l.pending_hold.map(|d| d.as_nanos().min(u64::MAX.into()) as u64),
        );
        if let Some(listen) = http.listen {
            c.http = Some(listen);
        }
        set(&mut c.api.query_time_limit, http.query_time_limit);
        set(
            &mut c.api.concurrent_queries,
            http.concurrent_queries.map(|p| p.0),
        );
        set(&mut c.api.queue_timeout, http.queue_timeout);
        c.auth.tokens.extend(http.tokens.into_iter().map(|t| Token {
            name: t.name,
            role: t.role.0,
            sha256: t.sha256.0,
        }));
        c.auth.users.extend(http.users.into_iter().map(|u| User {
            name: u.name,
            role: u.role.0,
            password: u.password.0,
        }));
        if http.enabled == Some(false) {
            c.http = None;
        }
        if let Some(ndjson) = output.ndjson {
            c.output = match ndjson.parse::<Output>() {
                _ if ndjson.is_empty() => None,
                Ok(output) => Some(output),
            };
        }
    }
}

impl StoreSection {
    fn apply(self, slot: &mut Option<StoreConfig>) {
        if self.enabled == Some(false) {
            *slot = None;
            return;
        }
        let c = slot.get_or_insert_with(StoreConfig::default);
        set(&mut c.dir, self.dir);
        set(&mut c.flush_interval, self.flush_interval);
        set(&mut c.flush_flows, self.flush_flows.map(|p| p.0));
        set(&mut c.max_buffer_flows, self.max_buffer_flows.map(|p| p.0));
        set(&mut c.min_free_bytes, self.min_free);
        set(&mut c.merge_parts, self.merge_parts.map(|p| p.0));
        set(&mut c.settle, self.settle);
        let r = self.retention;
        for (name, retention) in [
            ("flows", r.flows),
            ("flows_1m", r.flows_1m),
            ("flows_1h", r.flows_1h),
            ("traffic_1m", r.traffic_1m),
            ("traffic_1h", r.traffic_1h),
        ] {
            if let Some(Retention(secs)) = retention
                && let Some(table) = c.tables.iter_mut().find(|t| t.name == name)
            {
                table.retention = secs;
            }
        }
        for r in self.rollups {
            let keys: Vec<weir_flow::Field> = r.keys.iter().map(|k| k.0).collect();
            let retention = r.retention.and_then(|Retention(secs)| secs);
            c.tables
                .push(Table::rollup_of(r.name, r.resolution.0, &keys, retention));
        }
    }
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

fn saturating_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// A retention as the file reads it: whole days if it is some, else seconds, or `forever`.
fn retention(secs: Option<u64>) -> String {
    match secs {
        None => "forever".to_owned(),
        Some(s) if s.is_multiple_of(86_400) => format!("{}d", s / 86_400),
        Some(s) => format!("{s}s"),
    }
}

/// A configuration file with every key at its default, commented, as `weir config example` prints it.
pub fn example() -> String {
    let c = ServeConfig::default();
    let addrs = |v: &[SocketAddr]| {
        v.iter()
            .map(|a| format!("\"{a}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let secs = |d: Duration| humantime::format_duration(d).to_string();
    let http = c.http.map_or_else(String::new, |a| a.to_string());
    let store = c.store.clone().unwrap_or_default();
    format!(
        r#"# weir serve --config weir.toml
#
# Every key is optional: a key left out keeps the default shown here. Durations are written like "30s", "10m",
# "1h 30m" or "15d"; sizes as bytes or like "64KiB", "32MiB", "1GiB". Flags given on the command line win over
# this file.

[collector]
# UDP addresses to receive NetFlow, IPFIX and sFlow on. Any port takes any dialect.
listen = [{listen}]
# TCP addresses to receive IPFIX on (RFC 7011 section 10.4); [] for none.
listen_tcp = [{listen_tcp}]
# TCP connections open at once, over every TCP address; more are refused.
tcp_max_connections = {tcp_max}
# How long a TCP connection may stay silent before it is closed.
tcp_idle_timeout = "{tcp_idle}"
# Exporters allowed to send, as prefixes ("192.0.2.0/24", "2001:db8::/32"); [] allows every exporter.
allow = []
# Sockets and reader threads per UDP address, and decoder threads. Default: one per core.
# readers = {readers}
# shards = {shards}
# Receive buffer asked of the kernel for each UDP socket.
recv_buffer = {recv_buffer}
# Datagrams waiting for each decoder, in batches and in bytes, before the receiver drops (and counts) more.
queue_batches = {queue_batches}
queue_bytes = {queue_bytes}
# Largest datagram taken whole; longer ones are dropped and counted as oversize.
max_datagram = {max_datagram}

[limits]
# What one exporter can make a decoder keep. Past a limit the datagram is refused and counted.
max_domains = {max_domains}
max_domains_per_exporter = {max_domains_per_exporter}
max_templates_per_domain = {max_templates}
max_template_fields = {max_fields}
# Data sets held while their template is unknown, in bytes per domain, and for how long.
max_pending_bytes = {max_pending}
pending_hold = "{pending_hold}"

[http]
# The web UI, the API, /metrics and /healthz. An address other hosts can reach needs credentials below.
listen = "{http}"
enabled = true
# A question running longer is stopped (503); questions answered at once, and how long more wait (then 503).
query_time_limit = "{query_time_limit}"
concurrent_queries = {concurrent_queries}
queue_timeout = "{queue_timeout}"
# Credentials: with any configured, every path but /healthz needs one. Viewers read; admins may also change.
# API tokens are sent as `Authorization: Bearer TOKEN` and kept here as their SHA-256 (`weir config token`
# prints a new token and its entry). Users log in with HTTP Basic (the browser asks); their passwords are kept
# as Argon2 hashes (`weir config password` reads a password and prints its entry).
# [[http.tokens]]
# name = "prometheus"
# role = "viewer"
# sha256 = "<64 hex digits>"
# [[http.users]]
# name = "alice"
# role = "admin"
# password = "$argon2id$v=19$m=19456,t=2,p=1$..."

[store]
# Keep flows in the embedded store: Parquet files under `dir`, queried by `weir query --data DIR`.
enabled = {store_enabled}
dir = "{store_dir}"
# Flows are written (and become durable and queryable) this often, or once this many are buffered.
flush_interval = "{flush_interval}"
flush_flows = {flush_flows}
# Flows held at most, buffered or being written (about 300 bytes each), while the disk is slow or full; more
# are dropped and counted.
max_buffer_flows = {max_buffer_flows}
# Free space left on the file system: below it the store stops writing, and resumes when space returns.
min_free = {min_free}
# A partition's parts are merged into one file past this many (and so are its merged files, four of a size
# at a time), and everything into one file once it is complete and has settled.
merge_parts = {merge_parts}
settle = "{settle}"

[store.retention]
# How long each table keeps rows: a duration, or "forever". `flows` holds every flow; the rollups sum
# traffic per minute and per hour: `flows_*` over the columns that are not per-host (no addresses, ports,
# AS paths), `traffic_*` over exporter, sampling rate, direction, protocol and application only.
{retention}
# Rollups of your own, beside those: a name (its directory), a bucket width, the columns to group by (any of
# `flows_1m`'s) and a retention (default: forever). A query reads the coarsest table that answers it and, of
# those at one width, the one with fewest columns, so a narrow rollup makes the graphs it can draw fast.
# [[store.rollups]]
# name = "countries_5m"
# resolution = "5m"
# keys = ["exporter_addr", "sampling_rate", "flow_direction", "src_country", "dst_country"]
# retention = "30d"

[output]
# A copy of every flow as NDJSON, appended to this file ("-" for standard output); "" for none.
ndjson = "{ndjson}"
"#,
        store_enabled = c.store.is_some(),
        store_dir = store.dir.display(),
        flush_interval = secs(store.flush_interval),
        flush_flows = store.flush_flows,
        max_buffer_flows = store.max_buffer_flows,
        min_free = format_size(store.min_free_bytes),
        merge_parts = store.merge_parts,
        settle = secs(store.settle),
        retention = store
            .tables
            .iter()
            .map(|t| format!("{} = \"{}\"\n", t.name, retention(t.retention)))
            .collect::<String>(),
        listen = addrs(&c.listen),
        listen_tcp = addrs(&c.listen_tcp),
        tcp_max = c.tcp_max_connections,
        tcp_idle = secs(c.tcp_idle_timeout),
        readers = c.readers,
        shards = c.shards,
        recv_buffer = format_size(c.recv_buffer as u64),
        queue_batches = c.queue_batches,
        queue_bytes = format_size(c.queue_bytes as u64),
        max_datagram = c.max_datagram,
        max_domains = c.limits.max_domains,
        max_domains_per_exporter = c.limits.max_domains_per_exporter,
        max_templates = c.limits.max_templates_per_domain,
        max_fields = c.limits.max_template_fields,
        max_pending = format_size(c.limits.max_pending_bytes as u64),
        pending_hold = secs(Duration::from_nanos(c.limits.pending_hold_ns)),
        query_time_limit = secs(c.api.query_time_limit),
        concurrent_queries = c.api.concurrent_queries,
        queue_timeout = secs(c.api.queue_timeout),
        ndjson = c.output.as_ref().map_or_else(String::new, |o| match o {
            Output::Stdout => "-".to_owned(),
            Output::File(p) => p.display().to_string(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(text: &str) -> Result<ServeConfig, String> {
        let mut c = ServeConfig::default();
        apply(text, &mut c).map(|()| c)
    }

    #[test]
    fn the_example_reads_back_as_the_defaults() {
        let c = applied(&example()).unwrap();
        assert_eq!(format!("{c:?}"), format!("{:?}", ServeConfig::default()));
    }

    #[test]
    fn the_http_section_sets_limits_and_credentials() {
        let digest = "ab".repeat(32);
        let c = applied(&format!(
            "[http]\nlisten = \"0.0.0.0:8080\"\nquery_time_limit = \"5s\"\nconcurrent_queries = 2\n\
             [[http.tokens]]\nname = \"prometheus\"\nrole = \"viewer\"\nsha256 = \"{digest}\"\n\
             [[http.users]]\nname = \"alice\"\nrole = \"admin\"\n\
             password = \"$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$2dHbTbPxgUo3pmvd1PjjnQ\"\n"
        ))
        .unwrap();
        assert_eq!(c.api.query_time_limit, Duration::from_secs(5));
        assert_eq!(c.api.concurrent_queries, 2);
        assert_eq!(c.auth.tokens[0].sha256, [0xab; 32]);
        assert_eq!(
            (c.auth.users[0].name.as_str(), c.auth.users[0].role),
            ("alice", Role::Admin)
        );
        assert_eq!(
            c.exposed_without_auth(),
            None,
            "credentials make any address fine"
        );
        let open = applied("[http]\nlisten = \"0.0.0.0:8080\"\n").unwrap();
        assert_eq!(open.exposed_without_auth(), Some("0.0.0.0:8080".parse().unwrap()));
        assert_eq!(
            ServeConfig::default().exposed_without_auth(),
            None,
            "loopback by default"
        );

        for (bad, says) in [
            (
                "[[http.tokens]]\nname = \"x\"\nrole = \"viewer\"\nsha256 = \"abc\"\n",
                "SHA-256",
            ),
            (
                "[[http.tokens]]\nname = \"x\"\nrole = \"root\"\nsha256 = \"{digest}\"\n",
                "not a role",
            ),
            (
                "[[http.users]]\nname = \"x\"\nrole = \"admin\"\npassword = \"hunter2\"\n",
                "Argon2",
            ),
        ] {
            let e = applied(&bad.replace("{digest}", &digest)).unwrap_err();
            assert!(e.contains(says) && e.contains("line"), "{e}");
        }
    }

    #[test]
    fn an_empty_file_keeps_every_default() {
        let c = applied("").unwrap();
        assert_eq!(format!("{c:?}"), format!("{:?}", ServeConfig::default()));
    }

    #[test]
    fn keys_override_their_defaults_only() {
        let c = applied(
            "[collector]\nlisten = [\"127.0.0.1:9995\"]\nallow = [\"192.0.2.0/24\"]\nqueue_bytes = \"8MiB\"\n\
             tcp_idle_timeout = \"90s\"\n[limits]\npending_hold = \"2m\"\n[http]\nenabled = false\n\
             [output]\nndjson = \"-\"\n",
        )
        .unwrap();
        assert_eq!(c.listen, ["127.0.0.1:9995".parse::<SocketAddr>().unwrap()]);
        assert!(c.allows("192.0.2.9".parse().unwrap()) && !c.allows("198.51.100.1".parse().unwrap()));
        assert_eq!(c.queue_bytes, 8 << 20);
        assert_eq!(c.tcp_idle_timeout, Duration::from_secs(90));
        assert_eq!(c.limits.pending_hold_ns, 120_000_000_000);
        assert_eq!(c.http, None);
        assert_eq!(c.output, Some(Output::Stdout));
        let d = ServeConfig::default();
        assert_eq!(
            (c.listen_tcp, c.shards, c.max_datagram),
            (d.listen_tcp, d.shards, d.max_datagram)
        );
    }

    #[test]
    fn errors_name_the_line_column_and_key() {
        let e = applied("[collector]\nlisten = [\"127.0.0.1:9995\"]\nlisen_tcp = []\n").unwrap_err();
        assert!(e.contains("line 3, column 1"), "{e}");
        assert!(
            e.contains("unknown field `lisen_tcp`") && e.contains("listen_tcp"),
            "{e}"
        );
        let e = applied("[collector]\ntcp_idle_timeout = \"ten minutes\"\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("is not a duration"), "{e}");
        let e = applied("[collector]\nshards = 0\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("at least 1"), "{e}");
        let e = applied("[collector]\nallow = [\"10.0.0.0/33\"]\n").unwrap_err();
        assert!(e.contains("bad prefix length"), "{e}");
        let e = applied("[colector]\n").unwrap_err();
        assert!(e.contains("unknown field `colector`"), "{e}");
        let e = applied("[collector\n").unwrap_err();
        assert!(e.contains("line 1"), "{e}");
    }

    #[test]
    fn the_store_section_sets_the_store_and_each_table_s_retention() {
        let c = applied(
            "[store]\ndir = \"/var/lib/weir\"\nflush_interval = \"5s\"\nmin_free = \"10GiB\"\n\
             [store.retention]\nflows = \"3d\"\nflows_1h = \"forever\"\ntraffic_1m = \"30d\"\n",
        )
        .unwrap();
        let store = c.store.unwrap();
        assert_eq!(store.dir, Path::new("/var/lib/weir"));
        assert_eq!(store.flush_interval, Duration::from_secs(5));
        assert_eq!(store.min_free_bytes, 10 << 30);
        let retention: Vec<(&str, Option<u64>)> = store
            .tables
            .iter()
            .map(|t| (t.name.as_str(), t.retention))
            .collect();
        assert_eq!(
            retention,
            [
                ("flows", Some(3 * 86_400)),
                ("flows_1m", Some(90 * 86_400)),
                ("flows_1h", None),
                ("traffic_1m", Some(30 * 86_400)),
                ("traffic_1h", Some(730 * 86_400))
            ]
        );
        assert!(applied("[store]\nenabled = false\n").unwrap().store.is_none());
        let c = applied(
            "[[store.rollups]]\nname = \"countries_5m\"\nresolution = \"5m\"\n\
             keys = [\"exporter_addr\", \"src_country\"]\n",
        )
        .unwrap();
        let t = c.store.unwrap().tables.pop().unwrap();
        assert_eq!(
            (t.name.as_str(), t.resolution, t.retention),
            ("countries_5m", Some(300), None)
        );
        assert!(t.columns.contains(weir_flow::Field::src_country));
        assert!(!t.columns.contains(weir_flow::Field::in_if));
        let e = applied(
            "[[store.rollups]]\nname = \"a\"\nresolution = \"1m\"\nkeys = [\"proto\", \"src_addr\"]\n",
        )
        .unwrap_err();
        assert!(
            e.contains("line 4") && e.contains("\"src_addr\" is not a column rollups can group by"),
            "{e}"
        );
        let e = applied("[[store.rollups]]\nname = \"a\"\nresolution = \"1.5s\"\nkeys = []\n").unwrap_err();
        assert!(
            e.contains("line 3") && e.contains("whole number of seconds"),
            "{e}"
        );
        let e = applied("[store.retention]\nflows_5m = \"1d\"\n").unwrap_err();
        assert!(
            e.contains("line 2") && e.contains("unknown field `flows_5m`"),
            "{e}"
        );
        let e = applied("[store.retention]\nflows = \"0s\"\n").unwrap_err();
        assert!(e.contains("at least one"), "{e}");
        let e = applied("[store.retention]\nflows = \"a fortnight\"\n").unwrap_err();
        assert!(e.contains("is not a retention"), "{e}");
    }

    #[test]
    fn sizes_read_units_and_format_back() {
        assert_eq!(parse_size("32MiB"), Some(32 << 20));
        assert_eq!(parse_size("64 KiB"), Some(64 << 10));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("12 parsecs"), None);
        assert_eq!(parse_size("99999999999TiB"), None);
        assert_eq!(format_size(32 << 20), "\"32MiB\"");
        assert_eq!(format_size(65_535), "65535");
    }
}
