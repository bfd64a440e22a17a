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
/// moves by the sum of their sleeps.
pub struct FakeClock {
    pub start: SystemTime,
    pub offset: SyncCell<Duration>,
    pub sleeps: SyncCell<u32>,
}

impl FakeClock {
    pub fn new(unix_secs: u64) -> Self {
        FakeClock {
            start: UNIX_EPOCH + Duration::from_secs(unix_secs),
            offset: SyncCell::new(Duration::ZERO),
            sleeps: SyncCell::new(0),
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
}
