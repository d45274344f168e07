//! The classic BPF program attached to the AF_PACKET socket: it keeps the frames of one interface, in the
//! directions asked for, and the kernel drops the rest before they are queued or copied.
//!
//! A filter rather than `bind`, because binding a packet socket to an interface takes a `sockaddr_ll` that
//! neither `nix` nor `socket2` builds without `unsafe`, and `SO_BINDTODEVICE` is ignored by packet sockets
//! (Linux 6.18 still delivers every interface's frames to a packet socket bound to `lo` with it). The
//! interface index and the packet type are ancillary data that the kernel offers to socket filters
//! (`SKF_AD_IFINDEX`, `SKF_AD_PKTTYPE`), as libpcap uses them.

use socket2::SockFilter;

use super::Direction;
use super::frame::PACKET_OUTGOING;

/// `BPF_LD | BPF_W | BPF_ABS`: load a word (here, ancillary data).
const LD_ABS: u16 = 0x20;
/// `BPF_JMP | BPF_JEQ | BPF_K`: jump on equality with a constant.
const JEQ: u16 = 0x15;
/// `BPF_RET | BPF_K`: accept this many bytes of the frame, 0 to drop it.
const RET: u16 = 0x06;
/// `SKF_AD_OFF`: loads at this offset and above read ancillary data, not the frame.
const SKF_AD_OFF: u32 = 0xffff_f000;
const SKF_AD_PKTTYPE: u32 = 4;
const SKF_AD_IFINDEX: u32 = 8;
/// Keep the whole frame: the receive buffer bounds what is copied, and the read still reports the full
/// length, which a shorter return value here would cut.
const KEEP: u32 = u32::MAX;

/// One instruction: opcode, jump if true, jump if false, constant.
pub type Insn = (u16, u8, u8, u32);

/// The program keeping frames of interface `ifindex` (every interface when `None`) going `direction`.
pub fn program(ifindex: Option<u32>, direction: Direction) -> Vec<Insn> {
    // Each check loads a value and compares it: (what, value, keep when equal).
    let mut checks = Vec::new();
    if let Some(i) = ifindex {
        checks.push((SKF_AD_IFINDEX, i, true));
    }
    match direction {
        Direction::Both => {}
        Direction::Ingress => checks.push((SKF_AD_PKTTYPE, u32::from(PACKET_OUTGOING), false)),
        Direction::Egress => checks.push((SKF_AD_PKTTYPE, u32::from(PACKET_OUTGOING), true)),
    }
    let drop_at = 2 * checks.len() + 1;
    let mut prog = Vec::with_capacity(drop_at + 1);
    for (what, value, keep_if_equal) in checks {
        prog.push((LD_ABS, 0, 0, SKF_AD_OFF + what));
        // Jumps count from the next instruction; at most a few, so they fit a byte.
        let to_drop = (drop_at - prog.len() - 1) as u8;
        let (jt, jf) = if keep_if_equal { (0, to_drop) } else { (to_drop, 0) };
        prog.push((JEQ, jt, jf, value));
    }
    prog.push((RET, 0, 0, KEEP));
    prog.push((RET, 0, 0, 0));
    prog
}

/// The program that drops every frame.
pub fn reject_all() -> Vec<Insn> {
    vec![(RET, 0, 0, 0)]
}

/// The program in the form `socket2` attaches.
pub fn to_socket(prog: &[Insn]) -> Vec<SockFilter> {
    prog.iter()
        .map(|&(code, jt, jf, k)| SockFilter::new(code, jt, jf, k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a program of the instructions above on a frame's ancillary data, as the kernel would.
    fn run(prog: &[Insn], ifindex: u32, pkttype: u8) -> bool {
        let (mut pc, mut acc) = (0usize, 0u32);
        loop {
            let (code, jt, jf, k) = prog[pc];
            pc += 1;
            match code {
                LD_ABS if k == SKF_AD_OFF + SKF_AD_IFINDEX => acc = ifindex,
                LD_ABS if k == SKF_AD_OFF + SKF_AD_PKTTYPE => acc = u32::from(pkttype),
                JEQ => pc += usize::from(if acc == k { jt } else { jf }),
                RET => return k != 0,
                other => panic!("unexpected instruction {other:#x} {k:#x}"),
            }
        }
    }

    const HOST: u8 = 0;
    const BROADCAST: u8 = 1;
    const OTHER_HOST: u8 = 3;

    #[test]
    fn keeps_one_interface_in_the_directions_asked_for() {
        let ingress = program(Some(7), Direction::Ingress);
        assert!(run(&ingress, 7, HOST));
        assert!(run(&ingress, 7, BROADCAST));
        assert!(run(&ingress, 7, OTHER_HOST));
        assert!(!run(&ingress, 7, PACKET_OUTGOING));
        assert!(!run(&ingress, 8, HOST));

        let egress = program(Some(7), Direction::Egress);
        assert!(run(&egress, 7, PACKET_OUTGOING));
        assert!(!run(&egress, 7, HOST));
        assert!(!run(&egress, 2, PACKET_OUTGOING));

        let both = program(Some(7), Direction::Both);
        assert!(run(&both, 7, HOST) && run(&both, 7, PACKET_OUTGOING));
        assert!(!run(&both, 1, HOST));
    }

    #[test]
    fn every_interface_when_none_is_named() {
        let all = program(None, Direction::Both);
        assert!(run(&all, 1, HOST) && run(&all, 9, PACKET_OUTGOING));
        let out = program(None, Direction::Egress);
        assert!(run(&out, 3, PACKET_OUTGOING));
        assert!(!run(&out, 3, HOST));
        assert!(!run(&reject_all(), 3, HOST));
    }

    #[test]
    fn kept_frames_are_kept_whole() {
        let prog = program(Some(1), Direction::Both);
        assert!(prog.iter().any(|&(code, _, _, k)| code == RET && k == u32::MAX));
        assert_eq!(to_socket(&prog).len(), prog.len());
    }
}
