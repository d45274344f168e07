//! Slowing down password guessing: a client address that sends wrong credentials [`MAX_FAILURES`] times
//! within [`WINDOW`] is refused for [`LOCKOUT`] without its credentials being checked, so guessing costs
//! the guesser time and the server no Argon2 work. Only wrong credentials count (a browser's first request
//! comes without any). The table is bounded: when full, addresses whose window and lockout are over are
//! forgotten, and if none are, new addresses are not tracked (they are still checked, each at Argon2's
//! price).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Wrong credentials from one address within [`WINDOW`] that lock it out.
pub const MAX_FAILURES: u32 = 10;
/// How long failures are counted together.
pub const WINDOW: Duration = Duration::from_secs(60);
/// How long a locked-out address is refused.
pub const LOCKOUT: Duration = Duration::from_secs(300);
/// Addresses tracked at most.
const MAX_TRACKED: usize = 10_000;

/// One address's recent failures.
#[derive(Debug, Clone, Copy)]
struct Record {
    /// When the current window of failures began.
    since: Instant,
    /// Failures in the window.
    failures: u32,
    /// Refused until then, once locked out.
    until: Option<Instant>,
}

impl Record {
    fn is_over(&self, now: Instant) -> bool {
        self.until.is_none_or(|u| u <= now) && now.duration_since(self.since) >= WINDOW
    }
}

/// The addresses that sent wrong credentials lately.
#[derive(Debug, Default)]
pub struct Lockout {
    records: Mutex<HashMap<IpAddr, Record>>,
}

impl Lockout {
    /// How long `addr` is still refused at `now`, if it is locked out.
    pub fn refused_for(&self, addr: IpAddr, now: Instant) -> Option<Duration> {
        let records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        let until = records.get(&addr)?.until?;
        (until > now).then(|| until - now)
    }

    /// Counts wrong credentials from `addr` at `now`; returns whether that locked it out.
    pub fn failed(&self, addr: IpAddr, now: Instant) -> bool {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        if records.len() >= MAX_TRACKED && !records.contains_key(&addr) {
            records.retain(|_, r| !r.is_over(now));
            if records.len() >= MAX_TRACKED {
                return false;
            }
        }
        let r = records.entry(addr).or_insert(Record {
            since: now,
            failures: 0,
            until: None,
        });
        if r.is_over(now) {
            *r = Record {
                since: now,
                failures: 0,
                until: None,
            };
        }
        r.failures += 1;
        if r.failures >= MAX_FAILURES && r.until.is_none_or(|u| u <= now) {
            r.until = Some(now + LOCKOUT);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_out_after_repeated_failures_and_lets_go_later() {
        let l = Lockout::default();
        let a: IpAddr = "192.0.2.9".parse().unwrap();
        let b: IpAddr = "2001:db8::9".parse().unwrap();
        let t0 = Instant::now();
        for i in 1..MAX_FAILURES {
            assert!(!l.failed(a, t0 + Duration::from_secs(u64::from(i))));
        }
        assert_eq!(l.refused_for(a, t0 + Duration::from_secs(20)), None);
        assert!(
            l.failed(a, t0 + Duration::from_secs(30)),
            "the tenth within a minute"
        );
        assert_eq!(
            l.refused_for(a, t0 + Duration::from_secs(40)),
            Some(LOCKOUT - Duration::from_secs(10))
        );
        assert_eq!(
            l.refused_for(b, t0 + Duration::from_secs(40)),
            None,
            "others go on"
        );
        assert_eq!(l.refused_for(a, t0 + Duration::from_secs(30) + LOCKOUT), None);
    }

    #[test]
    fn failures_spread_over_more_than_a_window_do_not_lock_out() {
        let l = Lockout::default();
        let a: IpAddr = "192.0.2.9".parse().unwrap();
        let t0 = Instant::now();
        for i in 0..3 * MAX_FAILURES {
            assert!(!l.failed(a, t0 + WINDOW / 5 * i));
        }
    }

    #[test]
    fn the_table_stays_bounded() {
        let l = Lockout::default();
        let t0 = Instant::now();
        for i in 0..MAX_TRACKED as u32 + 10 {
            l.failed(IpAddr::from(i.to_be_bytes()), t0);
        }
        assert_eq!(l.records.lock().unwrap().len(), MAX_TRACKED);
        let later = t0 + WINDOW;
        l.failed("2001:db8::1".parse().unwrap(), later);
        assert_eq!(
            l.records.lock().unwrap().len(),
            1,
            "the finished windows are forgotten"
        );
    }
}
