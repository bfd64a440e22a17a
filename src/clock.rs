//! Time, injected: the flows read the clock and sleep only through this trait,
//! so tests run them on a fake clock.

use crate::sync::SyncCell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub trait Clock: Send + Sync {
    /// Wall-clock time (signing dates, skew).
    fn now(&self) -> SystemTime;
    /// Time since an arbitrary fixed start, never going back (deadlines, polling).
    fn elapsed(&self) -> Duration;
    fn sleep(&self, d: Duration);

    fn unix_secs(&self) -> i64 {
        unix_secs(self.now())
    }

    /// Milliseconds since the Unix epoch (0 before it).
    fn unix_ms(&self) -> u64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    /// A number at random, for [`jittered`](Clock::jittered): the kernel's
    /// ([`crate::random`]); a test clock may answer its own.
    fn random_u16(&self) -> u16 {
        crate::random::u16()
    }

    /// `base` plus up to `spread` times `base` more, at random: hosts that
    /// collided once don't try again in step.
    fn jittered(&self, base: Duration, spread: f64) -> Duration {
        let r = f64::from(self.random_u16()) / f64::from(u16::MAX);
        base + base.mul_f64(spread * r)
    }
}

/// Seconds since the Unix epoch, negative before it.
pub fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// The real clock.
pub struct SystemClock {
    start: std::time::Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock {
            start: std::time::Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d)
    }
}

/// A clock that only moves when slept on; for tests. Shared by threads, it
/// moves by the sum of their sleeps. Its jitter is a fixed sequence, so a
/// test run is the same every time.
pub struct FakeClock {
    pub start: SystemTime,
    pub offset: SyncCell<Duration>,
    pub sleeps: SyncCell<u32>,
    draws: std::sync::atomic::AtomicU32,
}

impl FakeClock {
    pub fn new(unix_secs: u64) -> Self {
        FakeClock {
            start: UNIX_EPOCH + Duration::from_secs(unix_secs),
            offset: SyncCell::new(Duration::ZERO),
            sleeps: SyncCell::new(0),
            draws: Default::default(),
        }
    }
}

impl Clock for FakeClock {
    fn now(&self) -> SystemTime {
        self.start + self.offset.get()
    }
    fn elapsed(&self) -> Duration {
        self.offset.get()
    }
    fn sleep(&self, d: Duration) {
        self.offset.update(|o| o + d);
        self.sleeps.update(|n| n + 1);
    }
    fn random_u16(&self) -> u16 {
        // Spread over the range like the kernel's draws, but the same each run.
        let n = (self
            .draws
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed))
        .wrapping_add(1);
        (n.wrapping_mul(0x9e37_79b9) >> 16) as u16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clock whose every draw is `r`.
    struct Drawn(u16);
    impl Clock for Drawn {
        fn now(&self) -> SystemTime {
            UNIX_EPOCH
        }
        fn elapsed(&self) -> Duration {
            Duration::ZERO
        }
        fn sleep(&self, _: Duration) {}
        fn random_u16(&self) -> u16 {
            self.0
        }
    }

    #[test]
    fn jitter_comes_from_the_clock_and_stays_in_its_spread() {
        let base = Duration::from_millis(200);
        assert_eq!(Drawn(0).jittered(base, 1.0), base);
        assert_eq!(Drawn(u16::MAX).jittered(base, 1.0), 2 * base);
        assert_eq!(Drawn(u16::MAX).jittered(base, 0.5), base * 3 / 2);
        let half = Drawn(u16::MAX / 2).jittered(base, 1.0);
        assert!(
            half > base * 149 / 100 && half < base * 151 / 100,
            "{half:?}"
        );
        // The real clock's draws stay within the spread, and are not all alike.
        let real = SystemClock::default();
        let draws: Vec<_> = (0..32).map(|_| real.jittered(base, 0.5)).collect();
        assert!(draws.iter().all(|d| *d >= base && *d <= base * 3 / 2));
        assert!(draws.iter().any(|d| *d != draws[0]));
        // The fake clock's are the same sequence every time, spread too.
        let seq = |c: &FakeClock| (0..8).map(|_| c.random_u16()).collect::<Vec<_>>();
        let (a, b) = (seq(&FakeClock::new(0)), seq(&FakeClock::new(0)));
        assert_eq!(a, b);
        assert!(a.iter().any(|r| *r < u16::MAX / 2) && a.iter().any(|r| *r > u16::MAX / 2));
    }
}
