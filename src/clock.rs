//! Wall-clock time behind a trait, so expiry arithmetic, refresh windows and backoff can be
//! tested at any instant, and through hours of token lifetimes without waiting for them.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A wait whose length the clock decides.
pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

pub trait Clock {
    fn now(&self) -> SystemTime;

    /// Waits until `at` by this clock: real time passing by default; a test's clock jumps.
    fn sleep_until(&self, at: SystemTime) -> Sleep<'_> {
        let wait = at.duration_since(self.now()).unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }

    /// Waits `d` by this clock.
    fn sleep(&self, d: Duration) -> Sleep<'_> {
        self.sleep_until(self.now() + d)
    }
}

impl<T: Clock + ?Sized> Clock for &T {
    fn now(&self) -> SystemTime {
        (**self).now()
    }
    fn sleep_until(&self, at: SystemTime) -> Sleep<'_> {
        (**self).sleep_until(at)
    }
}

impl<T: Clock + ?Sized> Clock for Arc<T> {
    fn now(&self) -> SystemTime {
        (**self).now()
    }
    fn sleep_until(&self, at: SystemTime) -> Sleep<'_> {
        (**self).sleep_until(at)
    }
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Time for tests, for one task that sleeps (a watch loop, the proxy's refresh timer): it
/// stands still while that task works and jumps to the end of each sleep, so hours of token
/// lifetimes pass in milliseconds. A sleep past `end` stops there and never returns, and
/// `ended` resolves: the test's signal to stop the task and look at what it did. Nothing in
/// the binary makes one; the real clock is `SystemClock`.
pub struct VirtualClock {
    now: Mutex<SystemTime>,
    end: SystemTime,
    ended: tokio::sync::Notify,
    /// Told (from, to) before each jump, so a test can check the world just before the wake.
    on_sleep: Option<SleepHook>,
}

type SleepHook = Box<dyn Fn(SystemTime, SystemTime) + Send + Sync>;

impl VirtualClock {
    pub fn new(start: SystemTime, end: SystemTime) -> VirtualClock {
        VirtualClock {
            now: Mutex::new(start),
            end,
            ended: tokio::sync::Notify::new(),
            on_sleep: None,
        }
    }

    /// `hook(from, to)` is called before each jump forward.
    pub fn on_sleep(self, hook: impl Fn(SystemTime, SystemTime) + Send + Sync + 'static) -> Self {
        VirtualClock {
            on_sleep: Some(Box::new(hook)),
            ..self
        }
    }

    /// Resolves once a sleep has reached `end`.
    pub async fn ended(&self) {
        self.ended.notified().await
    }

    fn jump(&self, at: SystemTime) -> bool {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        let to = at.min(self.end);
        if to > *now {
            if let Some(hook) = &self.on_sleep {
                hook(*now, to);
            }
            *now = to;
        }
        at < self.end
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sleep_until(&self, at: SystemTime) -> Sleep<'_> {
        Box::pin(async move {
            if self.jump(at) {
                // Others on the runtime (a server in the same test) get their turn.
                tokio::task::yield_now().await;
            } else {
                self.ended.notify_one();
                std::future::pending::<()>().await;
            }
        })
    }
}

/// `2026-11-22T18:00:00Z`, to the second: a time as people are shown it, in messages and
/// logs.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// A time as a test account's fields hold it (`expiresAt`, `lastRefreshAt`, …) and the JSON
/// that reports them: to the millisecond (`2026-11-22T18:00:00.250Z`), so the refresh window
/// of a token of a second or two is where it should be, not up to a second early. A whole
/// second is written as it always was (`2026-11-22T18:00:00Z`). What lies below the
/// millisecond is dropped: an expiry is written early, never late.
pub fn stamp(t: SystemTime) -> String {
    let millis = t
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_millis());
    if millis == 0 {
        return rfc3339(t);
    }
    humantime::format_rfc3339_millis(t).to_string()
}

/// Reads what `stamp` and `rfc3339` write, any number of fractional digits (RFC 3339 allows
/// them; files of older versions have none), and the forms without `T` or `Z`.
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

    #[tokio::test]
    async fn the_virtual_clock_jumps_to_each_wake_and_stops_at_its_end() {
        let jumps = Arc::new(Mutex::new(Vec::new()));
        let seen = jumps.clone();
        let clock = VirtualClock::new(from_epoch(1_000), from_epoch(1_000 + 7_200))
            .on_sleep(move |from, to| seen.lock().unwrap().push((from, to)));
        let started = std::time::Instant::now();
        clock.sleep(Duration::from_secs(3_600)).await;
        assert_eq!(clock.now(), from_epoch(4_600));
        clock.sleep_until(from_epoch(10)).await; // in the past: no jump
        assert_eq!(clock.now(), from_epoch(4_600));
        let past_end = async {
            clock.sleep(Duration::from_secs(7_200)).await;
            unreachable!("a sleep past the end never returns");
        };
        tokio::select! {
            _ = past_end => {}
            _ = clock.ended() => {}
        }
        assert_eq!(clock.now(), from_epoch(8_200));
        assert_eq!(
            *jumps.lock().unwrap(),
            [
                (from_epoch(1_000), from_epoch(4_600)),
                (from_epoch(4_600), from_epoch(8_200))
            ]
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "no real waiting"
        );
    }

    #[test]
    fn rfc3339_round_trips() {
        let t = from_epoch(1_795_000_000);
        assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        assert_eq!(rfc3339(from_epoch(0)), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn stamps_keep_the_millisecond_and_whole_seconds_as_they_were() {
        let whole = from_epoch(1_060);
        assert_eq!(stamp(whole), "1970-01-01T00:17:40Z");
        assert_eq!(stamp(whole), rfc3339(whole));
        let quarter = whole + Duration::from_millis(250);
        assert_eq!(stamp(quarter), "1970-01-01T00:17:40.250Z");
        assert_eq!(parse_rfc3339(&stamp(quarter)), Some(quarter));
        assert_eq!(
            rfc3339(quarter),
            "1970-01-01T00:17:40Z",
            "shown to the second"
        );
        // Below the millisecond: dropped, so written a little early, never late.
        let fine = quarter + Duration::from_nanos(999_999);
        assert_eq!(stamp(fine), "1970-01-01T00:17:40.250Z");
        assert_eq!(
            stamp(whole + Duration::from_nanos(999_999)),
            "1970-01-01T00:17:40Z"
        );
        assert_eq!(stamp(from_epoch(u64::MAX)), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn times_are_read_with_or_without_fractional_seconds() {
        let at = |s: &str| parse_rfc3339(s).and_then(|t| t.duration_since(UNIX_EPOCH).ok());
        assert_eq!(at("1970-01-01T00:17:40Z"), Some(Duration::from_secs(1_060)));
        assert_eq!(
            at("1970-01-01T00:17:40.5Z"),
            Some(Duration::from_millis(1_060_500))
        );
        assert_eq!(
            at("1970-01-01T00:17:40.123456789Z"),
            Some(Duration::new(1_060, 123_456_789))
        );
        assert_eq!(
            at("1970-01-01T00:17:40.25+00:00"),
            Some(Duration::from_millis(1_060_250))
        );
        assert_eq!(at("1970-01-01T00:17:40.x5Z"), None);
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
