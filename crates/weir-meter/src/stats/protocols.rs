//! The protocol table of `show ip cache flow`: expired flows by protocol and well-known port.

use weir_flow::codes::proto;

/// A row of the table, in the order Cisco prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    /// TCP port 23.
    TcpTelnet,
    /// TCP port 21.
    TcpFtp,
    /// TCP port 20.
    TcpFtpData,
    /// TCP port 80.
    TcpWww,
    /// TCP port 25.
    TcpSmtp,
    /// TCP ports 6000-6063.
    TcpX,
    /// TCP port 179.
    TcpBgp,
    /// TCP port 119.
    TcpNntp,
    /// TCP non-first fragments.
    TcpFrag,
    /// Any other TCP.
    TcpOther,
    /// UDP port 53.
    UdpDns,
    /// UDP port 123.
    UdpNtp,
    /// UDP port 69.
    UdpTftp,
    /// UDP non-first fragments.
    UdpFrag,
    /// Any other UDP.
    UdpOther,
    /// ICMP.
    Icmp,
    /// ICMPv6.
    Icmp6,
    /// IGMP.
    Igmp,
    /// IP in IP.
    IpInIp,
    /// GRE.
    Gre,
    /// Any other IP protocol.
    IpOther,
}

impl Category {
    /// Every row, in print order.
    pub const ALL: [Category; 21] = [
        Category::TcpTelnet,
        Category::TcpFtp,
        Category::TcpFtpData,
        Category::TcpWww,
        Category::TcpSmtp,
        Category::TcpX,
        Category::TcpBgp,
        Category::TcpNntp,
        Category::TcpFrag,
        Category::TcpOther,
        Category::UdpDns,
        Category::UdpNtp,
        Category::UdpTftp,
        Category::UdpFrag,
        Category::UdpOther,
        Category::Icmp,
        Category::Icmp6,
        Category::Igmp,
        Category::IpInIp,
        Category::Gre,
        Category::IpOther,
    ];

    /// The row's label, as Cisco prints it.
    pub fn label(self) -> &'static str {
        match self {
            Category::TcpTelnet => "TCP-Telnet",
            Category::TcpFtp => "TCP-FTP",
            Category::TcpFtpData => "TCP-FTPD",
            Category::TcpWww => "TCP-WWW",
            Category::TcpSmtp => "TCP-SMTP",
            Category::TcpX => "TCP-X",
            Category::TcpBgp => "TCP-BGP",
            Category::TcpNntp => "TCP-NNTP",
            Category::TcpFrag => "TCP-Frag",
            Category::TcpOther => "TCP-other",
            Category::UdpDns => "UDP-DNS",
            Category::UdpNtp => "UDP-NTP",
            Category::UdpTftp => "UDP-TFTP",
            Category::UdpFrag => "UDP-Frag",
            Category::UdpOther => "UDP-other",
            Category::Icmp => "ICMP",
            Category::Icmp6 => "ICMPv6",
            Category::Igmp => "IGMP",
            Category::IpInIp => "IPINIP",
            Category::Gre => "GRE",
            Category::IpOther => "IP-other",
        }
    }

    /// The row of a flow: by protocol, then by the well-known port on either side.
    pub fn of(protocol: u8, src_port: u16, dst_port: u16, fragment: bool) -> Category {
        let either = |p: u16| dst_port == p || src_port == p;
        let either_in = |lo: u16, hi: u16| (lo..=hi).contains(&dst_port) || (lo..=hi).contains(&src_port);
        match protocol {
            proto::TCP if fragment => Category::TcpFrag,
            proto::TCP if either(23) => Category::TcpTelnet,
            proto::TCP if either(21) => Category::TcpFtp,
            proto::TCP if either(20) => Category::TcpFtpData,
            proto::TCP if either(80) => Category::TcpWww,
            proto::TCP if either(25) => Category::TcpSmtp,
            proto::TCP if either_in(6000, 6063) => Category::TcpX,
            proto::TCP if either(179) => Category::TcpBgp,
            proto::TCP if either(119) => Category::TcpNntp,
            proto::TCP => Category::TcpOther,
            proto::UDP if fragment => Category::UdpFrag,
            proto::UDP if either(53) => Category::UdpDns,
            proto::UDP if either(123) => Category::UdpNtp,
            proto::UDP if either(69) => Category::UdpTftp,
            proto::UDP => Category::UdpOther,
            proto::ICMP => Category::Icmp,
            proto::ICMPV6 => Category::Icmp6,
            2 => Category::Igmp,
            4 => Category::IpInIp,
            proto::GRE => Category::Gre,
            _ => Category::IpOther,
        }
    }
}

/// Sums for one row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Row {
    /// Flows expired.
    pub flows: u64,
    /// Their packets.
    pub packets: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Sum of their lifetimes (last packet minus first), ns.
    pub active_ns: u64,
    /// Sum of the time from their last packet to their expiry, ns.
    pub idle_ns: u64,
}

impl Row {
    fn add(&mut self, other: &Row) {
        self.flows += other.flows;
        self.packets += other.packets;
        self.bytes += other.bytes;
        self.active_ns += other.active_ns;
        self.idle_ns += other.idle_ns;
    }
}

/// Expired flows by [`Category`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProtocolTable {
    rows: [Row; Category::ALL.len()],
}

impl ProtocolTable {
    /// Counts expired flows (one, as the cache adds them) in the row of `category`.
    pub fn add(&mut self, category: Category, flows: &Row) {
        self.rows[category as usize].add(flows);
    }

    /// Adds another table's counts (caches of several shards or address families).
    pub fn merge(&mut self, other: &ProtocolTable) {
        for (a, b) in self.rows.iter_mut().zip(&other.rows) {
            a.add(b);
        }
    }

    /// The sums of one row.
    pub fn row(&self, category: Category) -> &Row {
        &self.rows[category as usize]
    }

    /// The rows with at least one flow, in print order.
    pub fn rows(&self) -> impl Iterator<Item = (Category, &Row)> {
        Category::ALL
            .into_iter()
            .map(|c| (c, self.row(c)))
            .filter(|(_, r)| r.flows > 0)
    }

    /// All rows summed.
    pub fn total(&self) -> Row {
        let mut total = Row::default();
        self.rows.iter().for_each(|r| total.add(r));
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(protocol: u8, src_port: u16, dst_port: u16) -> (u8, u16, u16) {
        (protocol, src_port, dst_port)
    }

    fn of((protocol, src_port, dst_port): (u8, u16, u16), fragment: bool) -> Category {
        Category::of(protocol, src_port, dst_port, fragment)
    }

    #[test]
    fn classifies_by_protocol_and_well_known_port_on_either_side() {
        let cases = [
            (flow(proto::TCP, 40000, 23), Category::TcpTelnet),
            (flow(proto::TCP, 80, 40000), Category::TcpWww),
            (flow(proto::TCP, 40000, 6010), Category::TcpX),
            (flow(proto::TCP, 40000, 179), Category::TcpBgp),
            (flow(proto::TCP, 40000, 443), Category::TcpOther),
            (flow(proto::UDP, 53, 40000), Category::UdpDns),
            (flow(proto::UDP, 123, 123), Category::UdpNtp),
            (flow(proto::UDP, 40000, 69), Category::UdpTftp),
            (flow(proto::UDP, 40000, 4789), Category::UdpOther),
            (flow(proto::ICMP, 0, 0x0800), Category::Icmp),
            (flow(proto::ICMPV6, 0, 0x8000), Category::Icmp6),
            (flow(2, 0, 0), Category::Igmp),
            (flow(4, 0, 0), Category::IpInIp),
            (flow(proto::GRE, 0, 0), Category::Gre),
            (flow(proto::ESP, 0, 0), Category::IpOther),
        ];
        for (flow, expected) in cases {
            assert_eq!(of(flow, false), expected, "{flow:?}");
        }
        assert_eq!(of(flow(proto::TCP, 0, 0), true), Category::TcpFrag);
        assert_eq!(of(flow(proto::UDP, 0, 0), true), Category::UdpFrag);
    }

    #[test]
    fn sums_lifetimes_and_idle_times_per_row() {
        let mut table = ProtocolTable::default();
        let s = 1_000_000_000;
        let www = Row {
            flows: 1,
            packets: 4,
            bytes: 400,
            active_ns: 2 * s,
            idle_ns: 15 * s,
        };
        table.add(Category::TcpWww, &www);
        table.add(
            Category::TcpWww,
            &Row {
                active_ns: 4 * s,
                idle_ns: 13 * s,
                ..www
            },
        );
        let row = table.row(Category::TcpWww);
        assert_eq!((row.flows, row.packets, row.bytes), (2, 8, 800));
        assert_eq!((row.active_ns, row.idle_ns), (6 * s, 28 * s));
        let mut other = ProtocolTable::default();
        other.add(
            Category::UdpDns,
            &Row {
                flows: 1,
                ..Row::default()
            },
        );
        table.merge(&other);
        assert_eq!(
            table.rows().map(|(c, _)| c).collect::<Vec<_>>(),
            [Category::TcpWww, Category::UdpDns]
        );
        assert_eq!(table.total().flows, 3);
    }
}
