//! The fixed facts the generated network is built from: its routers, the ASes everyone sees first, the
//! countries ASes are in, and the services flows use.

use weir_flow::codes::{direction, proto};

/// The local network's AS (from the range RFC 5398 reserves for documentation).
pub const LOCAL_AS: u32 = 64500;
/// The local network's AS name.
pub const LOCAL_AS_NAME: &str = "EXAMPLE-NET";
/// The local network's country.
pub const LOCAL_COUNTRY: &str = "FR";

/// Router software, which decides how interfaces are named and numbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    Juniper,
    Cisco,
}

/// One router that exports flows.
#[derive(Debug, Clone, Copy)]
pub struct RouterSpec {
    /// Its name, as an operator writes it.
    pub name: &'static str,
    pub vendor: Vendor,
    /// One packet in this many is sampled; 1 for unsampled.
    pub sampling_rate: u32,
    /// Share of the flow records it exports, relative to the others.
    pub weight: f64,
    /// The direction it says flows were observed in: `INGRESS` for a router metering its interfaces both
    /// ways, whose flows leaving for remote ASes are then the egress of its uplinks (see
    /// [`Flows::between`](super::flows::Flows::between)); `UNKNOWN` for one that does not say.
    pub direction: u8,
    /// Whether it reaches its customers over VLANs (data centre and broadband routers, switches).
    pub vlans: bool,
}

/// The ten routers of `weir bench data`: five sampled border routers, five unsampled ones inside (core,
/// data centre, broadband).
pub const ROUTERS: [RouterSpec; 10] = [
    router("edge1.par1", Vendor::Juniper, 1000, 16.0),
    router("edge2.par1", Vendor::Juniper, 1000, 14.0),
    router("edge1.lon1", Vendor::Cisco, 1000, 12.0),
    router("edge1.fra1", Vendor::Cisco, 1000, 10.0),
    router("edge1.ams1", Vendor::Juniper, 1000, 8.0),
    router("core1.par1", Vendor::Juniper, 1, 10.0),
    router("core2.par1", Vendor::Juniper, 1, 9.0),
    RouterSpec {
        vlans: true,
        ..router("dc1.par2", Vendor::Cisco, 1, 9.0)
    },
    RouterSpec {
        vlans: true,
        ..router("dc2.par2", Vendor::Cisco, 1, 7.0)
    },
    RouterSpec {
        direction: direction::UNKNOWN,
        vlans: true,
        ..router("bng1.lyo1", Vendor::Cisco, 1, 5.0)
    },
];

/// A router that sees flows as they come in, with no VLANs.
pub const fn router(name: &'static str, vendor: Vendor, sampling_rate: u32, weight: f64) -> RouterSpec {
    RouterSpec {
        name,
        vendor,
        sampling_rate,
        weight,
        direction: direction::INGRESS,
        vlans: false,
    }
}

/// What an interface connects to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An IP transit provider: reaches every AS.
    Transit,
    /// An internet exchange: reaches the ASes that peer.
    Peering,
    /// Inside the local network.
    Internal,
}

/// Interfaces of every router, in this order: `(role, Juniper name, Juniper ifIndex, Cisco name, Cisco
/// ifIndex, speed in bits per second)`.
pub const INTERFACES: [(Role, &str, u32, &str, u32, u64); 5] = [
    (
        Role::Transit,
        "et-0/0/0",
        530,
        "HundredGigE0/0/0/0",
        12,
        100_000_000_000,
    ),
    (
        Role::Peering,
        "et-0/0/1",
        531,
        "HundredGigE0/0/0/1",
        13,
        100_000_000_000,
    ),
    (Role::Internal, "ae10", 560, "Bundle-Ether10", 40, 200_000_000_000),
    (Role::Internal, "ae11", 561, "Bundle-Ether11", 41, 100_000_000_000),
    (
        Role::Internal,
        "xe-0/1/0",
        540,
        "TenGigE0/0/0/4",
        16,
        10_000_000_000,
    ),
];

/// Transit providers: router `i` buys transit from `TRANSITS[i % len]`. They are among [`NAMED_ASES`].
pub const TRANSITS: [u32; 5] = [3356, 1299, 174, 2914, 6762];

/// The ASes that carry the most traffic, most first: `(number, name, country)`. The rest are made up.
pub const NAMED_ASES: &[(u32, &str, &str)] = &[
    (15169, "GOOGLE", "US"),
    (2906, "AS-SSI", "US"),
    (16509, "AMAZON-02", "US"),
    (13335, "CLOUDFLARENET", "US"),
    (32934, "FACEBOOK", "US"),
    (8075, "MICROSOFT-CORP-MSN-AS-BLOCK", "US"),
    (20940, "AKAMAI-ASN1", "NL"),
    (714, "APPLE-ENGINEERING", "US"),
    (54113, "FASTLY", "US"),
    (16276, "OVH", "FR"),
    (24940, "HETZNER-AS", "DE"),
    (3215, "FRANCE-TELECOM", "FR"),
    (12322, "PROXAD", "FR"),
    (3320, "DTAG", "DE"),
    (46489, "TWITCH", "US"),
    (36459, "GITHUB", "US"),
    (14618, "AMAZON-AES", "US"),
    (396982, "GOOGLE-CLOUD-PLATFORM", "US"),
    (6939, "HURRICANE", "US"),
    (5410, "BOUYGTEL-ISP", "FR"),
    (3356, "LEVEL3", "US"),
    (1299, "TWELVE99", "SE"),
    (174, "COGENT-174", "US"),
    (2914, "NTT-LTD-2914", "US"),
    (6762, "SEABONE-NET", "IT"),
];

/// Countries of the made-up ASes, with how many ASes each has relative to the others.
pub const COUNTRIES: &[(&str, f64)] = &[
    ("US", 28.0),
    ("DE", 8.0),
    ("FR", 7.0),
    ("GB", 6.0),
    ("NL", 5.0),
    ("RU", 4.0),
    ("BR", 4.0),
    ("CN", 4.0),
    ("JP", 3.0),
    ("IN", 3.0),
    ("IT", 3.0),
    ("ES", 3.0),
    ("CA", 3.0),
    ("PL", 2.0),
    ("SE", 2.0),
    ("CH", 2.0),
    ("KR", 2.0),
    ("AU", 2.0),
    ("SG", 2.0),
    ("HK", 1.5),
    ("BE", 1.5),
    ("AT", 1.0),
    ("CZ", 1.0),
    ("RO", 1.0),
    ("UA", 1.0),
    ("TR", 1.0),
    ("ZA", 1.0),
    ("AR", 1.0),
    ("MX", 1.0),
    ("ID", 1.0),
];

/// Pieces of made-up AS names.
pub const SYLLABLES: [&str; 24] = [
    "NOR", "TEL", "KA", "VIA", "NET", "LINK", "DATA", "ORA", "BEL", "FIBR", "CO", "SKY", "MAR", "TRA", "ZON",
    "LUX", "POL", "ARC", "WAVE", "STAR", "GIGA", "NOVA", "PRIME", "ALP",
];

/// Endings of made-up AS names.
pub const SUFFIXES: [&str; 6] = ["-AS", "-NET", "-TELECOM", "-NETWORKS", "-HOSTING", "-ISP"];

/// Names of threat-list entries some remote addresses are on.
pub const THREATS: [&str; 4] = ["botnet-c2", "scanner", "tor-exit", "malware-download"];

/// How many packets one direction of a conversation carries and how big they are: packets follow a
/// Pareto law of minimum `xm` and shape `alpha` (rounded down, at most `cap`); the average packet size of a
/// flow is uniform in `size`.
#[derive(Debug, Clone, Copy)]
pub struct Volume {
    pub xm: f64,
    pub alpha: f64,
    pub cap: f64,
    pub size: (u16, u16),
}

const fn vol(xm: f64, alpha: f64, cap: f64, lo: u16, hi: u16) -> Volume {
    Volume {
        xm,
        alpha,
        cap,
        size: (lo, hi),
    }
}

/// A service clients reach on servers.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    /// The application name flows get.
    pub app: &'static str,
    /// The IP protocol (ICMP becomes ICMPv6 over IPv6).
    pub proto: u8,
    /// The server's port; 0 for a random registered port (and none for protocols without ports).
    pub port: u16,
    /// Share of conversations, relative to the other services.
    pub weight: f64,
    /// Client to server.
    pub request: Volume,
    /// Server to client.
    pub response: Volume,
}

const fn svc(
    app: &'static str,
    proto: u8,
    port: u16,
    weight: f64,
    request: Volume,
    response: Volume,
) -> Service {
    Service {
        app,
        proto,
        port,
        weight,
        request,
        response,
    }
}

const WEB_REQUEST: Volume = vol(3.0, 1.25, 2e6, 52, 160);
const WEB_RESPONSE: Volume = vol(4.0, 1.1, 5e6, 600, 1460);
const TUNNEL: Volume = vol(4.0, 1.1, 2e6, 100, 1400);

/// The services, most used first: web (TLS over TCP, QUIC, plain HTTP), DNS, NTP, mail, remote access,
/// VPNs, ICMP, and unregistered ports.
pub const SERVICES: &[Service] = &[
    svc("https", proto::TCP, 443, 40.0, WEB_REQUEST, WEB_RESPONSE),
    svc(
        "quic",
        proto::UDP,
        443,
        14.0,
        vol(3.0, 1.25, 1e6, 60, 400),
        vol(4.0, 1.1, 5e6, 1000, 1350),
    ),
    svc(
        "dns",
        proto::UDP,
        53,
        14.0,
        vol(1.0, 3.3, 4.0, 60, 90),
        vol(1.0, 3.3, 4.0, 90, 480),
    ),
    svc("http", proto::TCP, 80, 7.0, WEB_REQUEST, WEB_RESPONSE),
    svc(
        "udp-other",
        proto::UDP,
        0,
        4.0,
        vol(1.5, 1.3, 1e5, 60, 1200),
        vol(1.5, 1.3, 1e5, 60, 1200),
    ),
    svc(
        "tcp-other",
        proto::TCP,
        0,
        3.0,
        vol(2.0, 1.3, 1e5, 52, 600),
        vol(2.0, 1.3, 1e5, 52, 1400),
    ),
    svc(
        "icmp",
        proto::ICMP,
        0,
        3.0,
        vol(1.0, 2.0, 100.0, 84, 84),
        vol(1.0, 2.0, 100.0, 84, 84),
    ),
    svc(
        "ntp",
        proto::UDP,
        123,
        2.5,
        vol(1.0, 20.0, 1.0, 76, 76),
        vol(1.0, 20.0, 1.0, 76, 76),
    ),
    svc(
        "ssh",
        proto::TCP,
        22,
        1.5,
        vol(5.0, 1.2, 1e6, 60, 200),
        vol(5.0, 1.2, 1e6, 80, 900),
    ),
    svc("http-alt", proto::TCP, 8080, 1.2, WEB_REQUEST, WEB_RESPONSE),
    svc(
        "stun",
        proto::UDP,
        3478,
        1.2,
        vol(2.0, 1.5, 1e4, 60, 150),
        vol(2.0, 1.5, 1e4, 60, 150),
    ),
    svc(
        "smtp",
        proto::TCP,
        25,
        1.0,
        vol(8.0, 1.3, 1e5, 200, 1200),
        vol(8.0, 1.5, 1e5, 60, 120),
    ),
    svc(
        "imaps",
        proto::TCP,
        993,
        1.0,
        vol(6.0, 1.3, 1e5, 60, 200),
        vol(6.0, 1.2, 1e5, 200, 1400),
    ),
    svc("wireguard", proto::UDP, 51820, 1.0, TUNNEL, TUNNEL),
    svc("esp", proto::ESP, 0, 0.8, TUNNEL, TUNNEL),
    svc(
        "rdp",
        proto::TCP,
        3389,
        0.6,
        vol(10.0, 1.2, 1e6, 60, 300),
        vol(10.0, 1.2, 1e6, 200, 1400),
    ),
    svc("gre", proto::GRE, 0, 0.6, TUNNEL, TUNNEL),
    svc("openvpn", proto::UDP, 1194, 0.5, TUNNEL, TUNNEL),
    svc(
        "submission",
        proto::TCP,
        587,
        0.4,
        vol(8.0, 1.3, 1e5, 200, 1200),
        vol(8.0, 1.5, 1e5, 60, 120),
    ),
];

/// Telnet, which edge networks still see, mostly as scans of devices left open.
pub const TELNET: Service = svc(
    "telnet",
    proto::TCP,
    23,
    0.3,
    vol(1.0, 2.5, 1e4, 52, 120),
    vol(1.0, 2.5, 1e4, 52, 300),
);

/// Type of service bytes and their shares: mostly best effort, some ECN-capable, a few DSCP classes.
pub const TOS: &[(u8, f64)] = &[
    (0x00, 84.0),
    (0x02, 5.0),
    (0x10, 2.0),
    (0x20, 2.0),
    (0x28, 2.0),
    (0x48, 2.0),
    (0x88, 1.0),
    (0xb8, 1.0),
    (0xc0, 1.0),
];
