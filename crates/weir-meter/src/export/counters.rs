//! What one export stream sent and what it left out.

/// Counts of one export stream, since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportCounters {
    /// Datagrams built.
    pub datagrams: u64,
    /// Their bytes (UDP payload).
    pub bytes: u64,
    /// Flow records sent (options records not included).
    pub flows: u64,
    /// IPv6 flows left out because the format (v5, v8) carries only IPv4.
    pub skipped_ipv6: u64,
    /// Flows of another network layer than IP, left out.
    pub skipped_non_ip: u64,
    /// Datagrams that carried the templates (and the sampling options); v9 and IPFIX.
    pub template_sends: u64,
}
