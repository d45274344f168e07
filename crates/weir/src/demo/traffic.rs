//! What the simulated exporters see as the wall clock goes: the flows of `weir bench data`'s made-up
//! network (the same services, addresses, ASes and interfaces), at a rate that follows the day's curve,
//! with an incident now and then on top.
//!
//! Records are made for the time since the last call and stamped with the current time, so flows end
//! when routers would export them: now, or an inactive timeout ago. Everything is drawn from the seed,
//! so the same seed and the same clock readings give the same records.

use std::time::Duration;

use weir_flow::time::NANOS_PER_SEC;
use weir_flow::{FlowBatch, FlowRecord};

use super::incidents::{Incidents, Started};
use crate::synthetic::catalogue::{RouterSpec, SERVICES, TELNET};
use crate::synthetic::day;
use crate::synthetic::flows::Flows;
use crate::synthetic::random::Weighted;
use crate::synthetic::world::World;

/// The longest stretch of time one call makes records for: after a pause (a laptop asleep), traffic
/// resumes at its pace instead of making up for the gap at once.
const MAX_STEP: u64 = NANOS_PER_SEC;

/// The traffic of the simulated network.
#[derive(Debug)]
pub struct Traffic {
    flows: Flows,
    routers: Weighted,
    /// Records per second, all routers together, at the day's peak.
    peak_rate: f64,
    /// Records owed to the next call: the fraction a call could not make whole.
    owed: f64,
    incidents: Incidents,
    /// Holds the strings and lists of the last call's records.
    batch: FlowBatch,
    /// The clock reading of the last call, nanoseconds since the epoch.
    last: u64,
}

impl Traffic {
    /// The traffic of the network of `seed` exported by `routers`, `peak_rate` records per second at the
    /// day's peak, with an incident every `incident_every` (none for `None`), from `start` (nanoseconds
    /// since the epoch).
    pub fn new(
        seed: u64,
        routers: &[RouterSpec],
        peak_rate: u32,
        incident_every: Option<Duration>,
        start: u64,
    ) -> Traffic {
        let services: Vec<_> = SERVICES.iter().copied().chain([TELNET]).collect();
        let world = World::new(seed, routers, &services);
        Traffic {
            routers: Weighted::new(world.routers.iter().map(|r| r.weight)),
            flows: Flows::new(world, seed),
            peak_rate: f64::from(peak_rate),
            owed: 0.0,
            incidents: Incidents::new(seed, incident_every, start, f64::from(peak_rate)),
            batch: FlowBatch::new(),
            last: start,
        }
    }

    /// The network.
    pub fn world(&self) -> &World {
        self.flows.world()
    }

    /// Records per second at `now`, nanoseconds since the epoch, without incidents.
    pub fn rate_at(&self, now: u64) -> f64 {
        self.peak_rate * day::shape(now / NANOS_PER_SEC)
    }

    /// Makes the records of the time since the last call, up to `now`, into `out[r]` for router `r`
    /// (each cleared first), and returns the batch that holds their strings and lists, with the incident
    /// that started in that time, if one did.
    pub fn advance(&mut self, now: u64, out: &mut [Vec<FlowRecord>]) -> (&FlowBatch, Option<Started>) {
        out.iter_mut().for_each(Vec::clear);
        self.flows.clear(&mut self.batch);
        let from = self.last.max(now.saturating_sub(MAX_STEP));
        self.last = self.last.max(now);
        let elapsed = now.saturating_sub(from) as f64 / NANOS_PER_SEC as f64;
        let due = self.rate_at(now) * elapsed + self.owed;
        let whole = due.floor();
        self.owed = due - whole;
        for _ in 0..whole as u64 {
            let r = self.routers.sample(self.flows.rng());
            let record = self.flows.flow(&mut self.batch, r, now);
            if let Some(list) = out.get_mut(r) {
                list.push(record);
            }
        }
        let started = self
            .incidents
            .advance(&mut self.flows, &mut self.batch, from, now, out);
        (&self.batch, started)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use weir_flow::codes::{etype, proto};

    use super::*;
    use crate::demo::testing::{MIDNIGHT, ROUTERS};
    use crate::synthetic::catalogue::LOCAL_AS;

    /// The records of `seconds` seconds from `start`, in steps of 100 ms, by router.
    fn run(traffic: &mut Traffic, start: u64, seconds: u64) -> Vec<Vec<FlowRecord>> {
        let mut all = vec![Vec::new(); ROUTERS.len()];
        let mut out = vec![Vec::new(); ROUTERS.len()];
        for step in 1..=seconds * 10 {
            traffic.advance(start + step * NANOS_PER_SEC / 10, &mut out);
            for (a, o) in all.iter_mut().zip(&out) {
                a.extend_from_slice(o);
            }
        }
        all
    }

    fn quiet(seed: u64, rate: u32, start: u64) -> Traffic {
        Traffic::new(seed, &ROUTERS, rate, None, start)
    }

    #[test]
    fn follows_the_daily_curve_at_the_rate_asked_for() {
        let evening = MIDNIGHT + 20 * 3600 * NANOS_PER_SEC;
        let dawn = MIDNIGHT + 4 * 3600 * NANOS_PER_SEC;
        let count = |start| -> usize {
            run(&mut quiet(1, 1000, start), start, 30)
                .iter()
                .map(Vec::len)
                .sum()
        };
        let (peak, trough) = (count(evening), count(dawn));
        assert!(
            (29_900..=30_000).contains(&peak),
            "{peak} records in 30 s at the peak"
        );
        let ratio = peak as f64 / trough as f64;
        assert!((4.2..4.5).contains(&ratio), "evening {peak}, dawn {trough}");
    }

    #[test]
    fn routers_share_the_records_by_weight_and_stamp_them_now() {
        let start = MIDNIGHT + 20 * 3600 * NANOS_PER_SEC;
        let mut traffic = quiet(2, 2000, start);
        let mut out = vec![Vec::new(); 2];
        let mut counts = [0usize; 2];
        for step in 1..=100 {
            let now = start + step * NANOS_PER_SEC / 10;
            traffic.advance(now, &mut out);
            for (r, records) in out.iter().enumerate() {
                counts[r] += records.len();
                for f in records {
                    assert_eq!(f.time_received, now);
                    assert!(
                        f.flow_end <= now && f.flow_end + 18 * NANOS_PER_SEC > now,
                        "{f:?}"
                    );
                    assert!(f.flow_start <= f.flow_end);
                    assert_eq!(f.sampling_rate, ROUTERS[r].sampling_rate);
                }
            }
        }
        let share = counts[0] as f64 / (counts[0] + counts[1]) as f64;
        assert!((0.72..0.78).contains(&share), "{counts:?}");
    }

    #[test]
    fn mixes_services_ip_versions_directions_and_ases() {
        let start = MIDNIGHT + 12 * 3600 * NANOS_PER_SEC;
        let mut traffic = quiet(3, 3000, start);
        let records: Vec<FlowRecord> = run(&mut traffic, start, 20).concat();
        let n = records.len() as f64;
        let share = |f: &dyn Fn(&FlowRecord) -> bool| records.iter().filter(|r| f(r)).count() as f64 / n;
        let port = |p: u16| move |r: &FlowRecord| r.src_port == p || r.dst_port == p;
        let tcp = |p: u16| move |r: &FlowRecord| r.proto == proto::TCP && port(p)(r);
        let udp = |p: u16| move |r: &FlowRecord| r.proto == proto::UDP && port(p)(r);
        assert!(share(&tcp(443)) > 0.3, "HTTPS leads");
        for (what, min, got) in [
            ("QUIC", 0.08, share(&udp(443))),
            ("DNS", 0.08, share(&udp(53))),
            ("HTTP", 0.04, share(&tcp(80))),
            ("NTP", 0.01, share(&udp(123))),
            ("SSH", 0.005, share(&tcp(22))),
            ("SMTP", 0.004, share(&tcp(25))),
            ("telnet", 0.001, share(&tcp(23))),
            (
                "ICMP",
                0.01,
                share(&|r| matches!(r.proto, proto::ICMP | proto::ICMPV6)),
            ),
        ] {
            assert!(got > min, "{what}: {got}");
        }
        let v6 = share(&|r| r.etype == etype::IPV6);
        assert!((0.1..0.2).contains(&v6), "IPv6 {v6}");
        assert!(share(&|r| r.tcp_flags & 0x02 != 0) > 0.01, "some SYNs");
        // Inbound (from a remote AS to the local one) and outbound both.
        assert!(share(&|r| r.dst_as == LOCAL_AS && r.src_as != LOCAL_AS) > 0.2);
        assert!(share(&|r| r.src_as == LOCAL_AS && r.dst_as != LOCAL_AS) > 0.2);
        let ases: HashSet<u32> = records.iter().map(|r| r.src_as).collect();
        assert!(ases.len() > 100, "{} source ASes", ases.len());
        let mut interfaces: HashMap<u32, usize> = HashMap::new();
        for r in &records {
            *interfaces.entry(r.in_if).or_default() += 1;
        }
        assert!(interfaces.len() >= 5, "{interfaces:?}");
    }

    #[test]
    fn the_same_seed_and_clock_make_the_same_records() {
        let start = MIDNIGHT + 9 * 3600 * NANOS_PER_SEC;
        let every = Some(Duration::from_secs(60));
        let make = |seed| {
            let mut t = Traffic::new(seed, &ROUTERS, 500, every, start);
            run(&mut t, start, 90)
        };
        let a = make(7);
        assert_eq!(a, make(7));
        assert_ne!(a, make(8));
    }

    #[test]
    fn a_pause_does_not_make_up_for_the_time_lost() {
        let start = MIDNIGHT + 20 * 3600 * NANOS_PER_SEC;
        let mut traffic = quiet(4, 1000, start);
        let mut out = vec![Vec::new(); 2];
        traffic.advance(start + 3600 * NANOS_PER_SEC, &mut out);
        let made: usize = out.iter().map(Vec::len).sum();
        assert!(made <= 1000, "{made} records after an hour asleep");
    }
}
