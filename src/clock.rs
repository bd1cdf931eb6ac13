//! Wall-clock time behind a trait, so expiry arithmetic can be tested at any instant.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub trait Clock {
    fn now(&self) -> SystemTime;
}

impl<T: Clock + ?Sized> Clock for &T {
    fn now(&self) -> SystemTime {
        (**self).now()
    }
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// `2026-11-22T18:00:00Z`: what `expiresAt` holds in `.unito.json`.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(s).ok()
}

/// The last instant RFC 3339 can write: 9999-12-31T23:59:59Z.
const LATEST: u64 = 253_402_300_799;

/// Epoch seconds as a time; absurd values (a provider's `created_at`) are clamped rather
/// than allowed to overflow.
pub fn from_epoch(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs.min(LATEST))
}

/// `start + secs`, or `None` when that is past what can be written down: a provider's
/// `expires_in` must never crash the save of tokens already issued.
pub fn after(start: SystemTime, secs: u64) -> Option<SystemTime> {
    start
        .checked_add(Duration::from_secs(secs))
        .filter(|t| *t <= from_epoch(LATEST))
}

/// `d` made 20% shorter or longer at random, so that runs backing off from the same failure
/// do not come back in step.
pub fn jittered(d: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    // The standard library's hasher keys are random per process: enough for a spread.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(d.as_nanos());
    let unit = (h.finish() % 1_000) as f64 / 1_000.0;
    d.mul_f64(0.8 + 0.4 * unit)
}

/// Waits between tries that double from `first` to `most`, each jittered: a provider that
/// fails, or whose tokens come back expired, is asked less and less often, and runs that
/// failed together do not come back together.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    first: Duration,
    most: Duration,
    next: Duration,
}

impl Backoff {
    pub const fn new(first: Duration, most: Duration) -> Backoff {
        Backoff {
            first,
            most,
            next: first,
        }
    }

    /// The wait before the next try; the one after is twice as long.
    pub fn wait(&mut self) -> Duration {
        let wait = self.next;
        self.next = (wait * 2).min(self.most);
        jittered(wait)
    }

    /// Back to the first wait, after a try that worked.
    pub fn reset(&mut self) {
        self.next = self.first;
    }
}

/// "in 59m 59s" / "2h 3m ago", rounded to what a person cares about.
pub fn relative(at: SystemTime, now: SystemTime) -> String {
    let (d, future) = match at.duration_since(now) {
        Ok(d) => (d, true),
        Err(e) => (e.duration(), false),
    };
    let secs = d.as_secs();
    let rounded = if secs >= 3600 {
        Duration::from_secs(secs / 60 * 60)
    } else {
        Duration::from_secs(secs)
    };
    // The two largest units are what a person reads ("6years 10months", "2h 3m").
    let text = humantime::format_duration(rounded)
        .to_string()
        .split(' ')
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    if future {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_a_fifth_either_way() {
        let d = Duration::from_secs(10);
        let spread: Vec<Duration> = (0..200).map(|_| jittered(d)).collect();
        assert!(
            spread
                .iter()
                .all(|j| *j >= d.mul_f64(0.8) && *j <= d.mul_f64(1.2))
        );
        assert!(spread.iter().any(|j| *j != spread[0]), "it varies");
    }

    #[test]
    fn backoff_doubles_to_its_most_and_starts_over_after_a_success() {
        let secs = |d: Duration| (d.as_secs_f64() / 5.0).round() as u64 * 5;
        let mut b = Backoff::new(Duration::from_secs(5), Duration::from_secs(40));
        let waits: Vec<u64> = (0..6).map(|_| secs(b.wait())).collect();
        // Within a fifth either way of 5, 10, 20, 40, 40, 40.
        for (wait, want) in waits.iter().zip([5, 10, 20, 40, 40, 40]) {
            assert!(wait.abs_diff(want) <= want / 5 + 5, "{waits:?}");
        }
        b.reset();
        assert!(b.wait() <= Duration::from_secs(6));
    }

    #[test]
    fn rfc3339_round_trips() {
        let t = from_epoch(1_795_000_000);
        assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        assert_eq!(rfc3339(from_epoch(0)), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn absurd_times_do_not_overflow() {
        assert_eq!(after(from_epoch(0), u64::MAX), None);
        assert_eq!(after(from_epoch(0), 400_000_000_000), None);
        assert_eq!(rfc3339(from_epoch(u64::MAX)), "9999-12-31T23:59:59Z");
        assert_eq!(after(from_epoch(10), 5), Some(from_epoch(15)));
    }

    #[test]
    fn relative_times() {
        let now = from_epoch(10_000);
        assert_eq!(relative(from_epoch(13_599), now), "in 59m 59s");
        assert_eq!(relative(from_epoch(10_000 + 7260 + 30), now), "in 2h 1m");
        assert_eq!(relative(from_epoch(9_990), now), "10s ago");
    }
}
