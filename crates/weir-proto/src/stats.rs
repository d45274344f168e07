//! Exporter accounting: what each exporter and observation domain sent, what was decoded, what went wrong,
//! and what was probably lost on the way.

use std::fmt;
use std::net::IpAddr;

use crate::error::ErrorKind;

/// The export dialect a domain speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dialect {
    /// NetFlow v1.
    NetflowV1,
    /// NetFlow v5.
    NetflowV5,
    /// NetFlow v7 (Catalyst).
    NetflowV7,
    /// NetFlow v8 (router-based aggregation).
    NetflowV8,
    /// NetFlow v9 (RFC 3954).
    NetflowV9,
    /// IPFIX (RFC 7011).
    Ipfix,
    /// sFlow v2, v4 or v5.
    Sflow,
    /// Not recognised (counted so that garbage is visible per exporter).
    Unknown,
}

impl Dialect {
    /// The label used in metrics and summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NetflowV1 => "netflow-v1",
            Self::NetflowV5 => "netflow-v5",
            Self::NetflowV7 => "netflow-v7",
            Self::NetflowV8 => "netflow-v8",
            Self::NetflowV9 => "netflow-v9",
            Self::Ipfix => "ipfix",
            Self::Sflow => "sflow",
            Self::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identifies one exporter's observation domain (NetFlow v9 source id, IPFIX observation domain id,
/// sFlow sub-agent id; 0 for the NetFlow versions that have none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainKey {
    /// Source address of the export datagrams.
    pub exporter: IpAddr,
    /// Dialect the domain speaks; template spaces of v9 and IPFIX are separate.
    pub dialect: Dialect,
    /// The domain id.
    pub domain: u32,
}

/// Counters for one [`DomainKey`]. All only grow, except the gauges `templates` and `pending_sets`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Datagrams (or stream messages) received.
    pub datagrams: u64,
    /// Bytes of those datagrams.
    pub bytes: u64,
    /// Flow records decoded into flows.
    pub records: u64,
    /// Options data records decoded (sampling, interface names, and others).
    pub options_records: u64,
    /// sFlow counter samples decoded.
    pub counter_samples: u64,
    /// Errors by kind, indexed by position in [`ErrorKind::ALL`].
    pub errors: [u64; ErrorKind::ALL.len()],
    /// Templates and options templates known now (gauge).
    pub templates: u64,
    /// Data sets held until their template comes, now (gauge). Sets, not records: how many records a set
    /// holds is known only once its template is.
    pub pending_sets: u64,
    /// Records that waited for their template and were decoded when it came.
    pub late_records: u64,
    /// Times the sequence number jumped forward.
    pub sequence_gaps: u64,
    /// Estimated records lost before reaching Weir (from sequence gaps, or sFlow sample pools and drops).
    pub lost_records: u64,
    /// Times the exporter restarted (sequence or uptime went back).
    pub restarts: u64,
}

impl Counters {
    /// Counts one error of `kind`.
    #[inline]
    pub fn error(&mut self, kind: ErrorKind) {
        self.errors[kind as usize] += 1;
    }

    /// Errors of `kind` so far.
    pub fn errors_of(&self, kind: ErrorKind) -> u64 {
        self.errors[kind as usize]
    }

    /// Errors of every kind so far.
    pub fn total_errors(&self) -> u64 {
        self.errors.iter().sum()
    }
}

/// What a sequence number said about the datagrams between it and the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceEvent {
    /// The first sequence number seen, or the expected one.
    InOrder,
    /// The number jumped forward by `missing` units (records or datagrams, as the dialect counts).
    Gap {
        /// How many units were skipped.
        missing: u64,
    },
    /// A number from the recent past: a reordered or duplicated datagram.
    Late,
    /// The number went far back or the exporter's uptime went back: the exporter restarted.
    Restart,
}

/// Tracks one sequence number space (NetFlow v5 and IPFIX count records, v9 counts datagrams, sFlow counts
/// datagrams and samples per source).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SequenceTracker {
    next: Option<u32>,
    uptime_ms: Option<u32>,
}

impl SequenceTracker {
    /// How far back a number may be and still count as reordering rather than a restart.
    const REORDER_WINDOW: u32 = 1 << 16;

    /// How far back the uptime may be and still count as a late datagram rather than a restart, in ms.
    const REORDER_UPTIME_MS: u32 = 10_000;

    /// Observes a datagram with sequence number `seq` that carries `units` units, and the exporter's uptime
    /// in milliseconds where the dialect has one. Updates `counters` and says what happened.
    pub fn observe(
        &mut self,
        seq: u32,
        units: u32,
        uptime_ms: Option<u32>,
        counters: &mut Counters,
    ) -> SequenceEvent {
        let restarted_uptime = match (self.uptime_ms, uptime_ms) {
            // Uptime wraps after 49.7 days; a wrap shows as a huge drop that is not a restart. A datagram
            // that arrives late shows a small drop (its delay), which is not one either.
            (Some(prev), Some(now)) => {
                now < prev && prev - now < u32::MAX / 2 && prev - now > Self::REORDER_UPTIME_MS
            }
            _ => false,
        };
        if uptime_ms.is_some() {
            self.uptime_ms = uptime_ms;
        }
        let event = match self.next {
            None => SequenceEvent::InOrder,
            Some(_) if restarted_uptime => SequenceEvent::Restart,
            Some(next) if seq == next => SequenceEvent::InOrder,
            Some(next) => {
                let ahead = seq.wrapping_sub(next);
                if ahead < u32::MAX / 2 {
                    SequenceEvent::Gap {
                        missing: u64::from(ahead),
                    }
                } else if next.wrapping_sub(seq) <= Self::REORDER_WINDOW.max(units.saturating_mul(64)) {
                    SequenceEvent::Late
                } else {
                    SequenceEvent::Restart
                }
            }
        };
        match event {
            SequenceEvent::Gap { missing } => {
                counters.sequence_gaps += 1;
                counters.lost_records += missing;
            }
            SequenceEvent::Restart => counters.restarts += 1,
            // A late datagram fills part of a gap counted earlier: its units were not lost after all.
            SequenceEvent::Late => {
                counters.lost_records = counters.lost_records.saturating_sub(u64::from(units))
            }
            SequenceEvent::InOrder => {}
        }
        if event != SequenceEvent::Late {
            self.next = Some(seq.wrapping_add(units));
        }
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_gaps_as_lost_units() {
        let mut c = Counters::default();
        let mut t = SequenceTracker::default();
        assert_eq!(t.observe(100, 30, None, &mut c), SequenceEvent::InOrder);
        assert_eq!(t.observe(130, 30, None, &mut c), SequenceEvent::InOrder);
        assert_eq!(
            t.observe(190, 30, None, &mut c),
            SequenceEvent::Gap { missing: 30 }
        );
        assert_eq!((c.sequence_gaps, c.lost_records, c.restarts), (1, 30, 0));
    }

    #[test]
    fn wraps_around_without_a_gap() {
        let mut c = Counters::default();
        let mut t = SequenceTracker::default();
        t.observe(u32::MAX - 9, 10, None, &mut c);
        assert_eq!(t.observe(0, 10, None, &mut c), SequenceEvent::InOrder);
        assert_eq!(c.lost_records, 0);
    }

    #[test]
    fn tells_reordering_from_restart() {
        let mut c = Counters::default();
        let mut t = SequenceTracker::default();
        t.observe(1000, 1, None, &mut c);
        assert_eq!(t.observe(990, 1, None, &mut c), SequenceEvent::Late);
        assert_eq!(t.observe(1001, 1, None, &mut c), SequenceEvent::InOrder);
        assert_eq!(t.observe(3_000_000_000, 1, None, &mut c), SequenceEvent::Restart);
        assert_eq!(c.restarts, 1);
    }

    #[test]
    fn a_late_datagram_with_an_older_uptime_is_no_restart() {
        let mut c = Counters::default();
        let mut t = SequenceTracker::default();
        t.observe(500, 10, Some(90_000), &mut c);
        assert_eq!(
            t.observe(520, 10, Some(92_000), &mut c),
            SequenceEvent::Gap { missing: 10 }
        );
        assert_eq!(t.observe(510, 10, Some(91_000), &mut c), SequenceEvent::Late);
        assert_eq!((c.sequence_gaps, c.lost_records, c.restarts), (1, 0, 0));
    }

    #[test]
    fn uptime_going_back_is_a_restart() {
        let mut c = Counters::default();
        let mut t = SequenceTracker::default();
        t.observe(500, 1, Some(90_000), &mut c);
        assert_eq!(t.observe(501, 1, Some(1_000), &mut c), SequenceEvent::Restart);
        assert_eq!(c.restarts, 1);
        assert_eq!(c.lost_records, 0);
    }
}
