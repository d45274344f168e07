//! Datagrams the kernel dropped before a reader could take them (the socket's receive buffer was full).
//! Linux counts them per socket in the `drops` column of `/proc/net/udp` and `/proc/net/udp6`, keyed by
//! the socket's inode; reading that on each `/metrics` request costs nothing on the receive path.

use std::collections::HashMap;
use std::fs;
use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;

/// The inode that identifies `socket` in `/proc/net/udp*`.
pub fn socket_inode(socket: &UdpSocket) -> Option<u64> {
    fs::metadata(format!("/proc/self/fd/{}", socket.as_raw_fd()))
        .ok()
        .map(|m| m.ino())
}

/// Drops per socket inode, for every UDP socket of the host's network namespace; empty where `/proc` is
/// not there to read.
pub fn drops_by_inode() -> HashMap<u64, u64> {
    let mut drops = HashMap::new();
    for table in ["/proc/net/udp", "/proc/net/udp6"] {
        if let Ok(text) = fs::read_to_string(table) {
            parse(&text, &mut drops);
        }
    }
    drops
}

/// Reads one table: a header line, then per socket `sl local remote st tx:rx tr:when retrnsmt uid timeout
/// inode ref pointer drops`.
fn parse(text: &str, into: &mut HashMap<u64, u64>) {
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let (Some(inode), Some(drops)) = (fields.get(9), fields.get(12))
            && let (Ok(inode), Ok(drops)) = (inode.parse(), drops.parse())
        {
            into.insert(inode, drops);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_drops_by_inode() {
        let text = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
                    \x20 12: 0100007F:0807 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 48213 2 ffff8f0a 17\n\
                    \x20 13: 00000000:18BB 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 48214 2 ffff8f0b 0\n\
                    garbage\n";
        let mut m = HashMap::new();
        parse(text, &mut m);
        assert_eq!(m, HashMap::from([(48213, 17), (48214, 0)]));
    }

    #[test]
    fn finds_its_own_sockets() {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        let inode = socket_inode(&s).unwrap();
        assert_eq!(drops_by_inode().get(&inode), Some(&0));
    }
}
