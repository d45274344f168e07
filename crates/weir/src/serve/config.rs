//! What `weir serve` does, with every default in one place ([`ServeConfig::default`]).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use thiserror::Error;
use weir_proto::Limits;
use weir_store::StoreConfig;

use crate::api::ApiConfig;
use crate::api::auth::AuthConfig;

/// The collector's settings.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// UDP addresses to receive export datagrams on. Any port takes any dialect: the version field says
    /// which it is.
    pub listen: Vec<SocketAddr>,
    /// TCP addresses to receive IPFIX messages on (RFC 7011 section 10.4); empty for none.
    pub listen_tcp: Vec<SocketAddr>,
    /// TCP connections open at once, over every TCP address; more are refused.
    pub tcp_max_connections: usize,
    /// How long a TCP connection may stay silent before it is closed.
    pub tcp_idle_timeout: Duration,
    /// The embedded store flows are kept in; `None` to keep none (an NDJSON copy, metrics only).
    pub store: Option<StoreConfig>,
    /// Where a copy of every flow goes as NDJSON, if anywhere.
    pub output: Option<Output>,
    /// Exporters allowed to send; empty allows every exporter.
    pub allow: Vec<Cidr>,
    /// Address of the HTTP listener for `/metrics`, `/healthz` and the API; `None` for no listener.
    pub http: Option<SocketAddr>,
    /// The API's limits.
    pub api: ApiConfig,
    /// Credentials the HTTP listener asks for; none by default, which only a loopback address allows.
    pub auth: AuthConfig,
    /// Sockets (and reader threads) per listen address, sharing the port with `SO_REUSEPORT`.
    pub readers: usize,
    /// Decoder threads; each exporter's datagrams always go to the same one.
    pub shards: usize,
    /// Receive buffer asked of the kernel for each socket, in bytes.
    pub recv_buffer: usize,
    /// Batches of datagrams each decoder's queue holds before the receiver drops what comes.
    pub queue_batches: usize,
    /// Bytes of datagrams each decoder's queue holds before the receiver drops what comes.
    pub queue_bytes: usize,
    /// Largest datagram received whole; longer ones are dropped as oversize.
    pub max_datagram: usize,
    /// Bounds on the state one exporter can make a decoder keep.
    pub limits: Limits,
}

impl Default for ServeConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let any = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        Self {
            // NetFlow, IPFIX and sFlow's registered ports.
            listen: [2055, 4739, 6343].map(|p| SocketAddr::new(any, p)).to_vec(),
            // IANA registered 4739 for IPFIX over TCP as well as UDP.
            listen_tcp: vec![SocketAddr::new(any, 4739)],
            tcp_max_connections: 256,
            tcp_idle_timeout: Duration::from_secs(600),
            store: Some(StoreConfig::default()),
            output: None,
            allow: Vec::new(),
            http: Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080)),
            api: ApiConfig::default(),
            auth: AuthConfig::default(),
            readers: cores,
            shards: cores,
            recv_buffer: 32 << 20,
            queue_batches: 1024,
            queue_bytes: 64 << 20,
            max_datagram: 65_535,
            limits: Limits::default(),
        }
    }
}

impl ServeConfig {
    /// The HTTP address, if it is reachable from other hosts while no credentials are configured: a
    /// collector's flows say who talks to whom, which is not for everyone on the network to read.
    pub fn exposed_without_auth(&self) -> Option<SocketAddr> {
        self.http
            .filter(|a| !a.ip().is_loopback() && !self.auth.required())
    }

    /// Whether `exporter` may send.
    pub fn allows(&self, exporter: IpAddr) -> bool {
        self.allow.is_empty() || self.allow.iter().any(|c| c.contains(exporter))
    }
}

/// Where flows are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Standard output.
    Stdout,
    /// A file, appended to; its directory is made if missing.
    File(PathBuf),
}

impl FromStr for Output {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(if s == "-" {
            Self::Stdout
        } else {
            Self::File(PathBuf::from(s))
        })
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stdout => f.write_str("standard output"),
            Self::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// An address prefix, `192.0.2.0/24` or `2001:db8::/32`; a bare address is a prefix of its full length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    len: u8,
}

/// Why a prefix could not be parsed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CidrError {
    /// The address part is not an address.
    #[error("{0:?} is not an IP address")]
    Address(String),
    /// The length is not a number within the address's bits.
    #[error("bad prefix length {0:?}")]
    Length(String),
}

impl Cidr {
    /// Whether `ip` is inside the prefix. IPv4-mapped IPv6 addresses count as the IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.len)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, l) = s.split_once('/').map_or((s, None), |(a, l)| (a, Some(l)));
        let addr: IpAddr = a.parse().map_err(|_| CidrError::Address(a.to_owned()))?;
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match l {
            None => max,
            Some(l) => l
                .parse::<u8>()
                .ok()
                .filter(|&n| n <= max)
                .ok_or_else(|| CidrError::Length(l.to_owned()))?,
        };
        Ok(Self { addr, len })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn prefixes_contain_their_addresses() {
        let c: Cidr = "192.0.2.0/24".parse().unwrap();
        assert!(c.contains(ip("192.0.2.77")));
        assert!(c.contains(ip("::ffff:192.0.2.77")), "IPv4-mapped counts as IPv4");
        assert!(!c.contains(ip("192.0.3.1")));
        assert!(!c.contains(ip("2001:db8::1")));
        let c: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(c.contains(ip("2001:db8:ffff::1")));
        assert!(!c.contains(ip("2001:db9::1")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        let one: Cidr = "198.51.100.7".parse().unwrap();
        assert_eq!(one.to_string(), "198.51.100.7/32");
        assert!(one.contains(ip("198.51.100.7")) && !one.contains(ip("198.51.100.8")));
    }

    #[test]
    fn rejects_bad_prefixes() {
        assert_eq!("10.0.0.0/33".parse::<Cidr>(), Err(CidrError::Length("33".into())));
        assert_eq!(
            "10.0.0/8".parse::<Cidr>(),
            Err(CidrError::Address("10.0.0".into()))
        );
        assert_eq!("::/x".parse::<Cidr>(), Err(CidrError::Length("x".into())));
    }

    #[test]
    fn empty_allow_list_allows_everyone() {
        let mut c = ServeConfig::default();
        assert!(c.allows(ip("203.0.113.1")));
        c.allow.push("10.0.0.0/8".parse().unwrap());
        assert!(!c.allows(ip("203.0.113.1")));
        assert!(c.allows(ip("10.1.2.3")));
    }
}
