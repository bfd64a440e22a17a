//! Locks shared by the threads of a run.

use std::sync::{Mutex, MutexGuard};

/// The value behind `m`. A thread that panicked while holding the lock left
/// only a cache or a counter behind it (never a half-done write), so the value
/// is used as it is rather than failing every other thread.
pub fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `Cell`'s `get`/`set` for threads: a `Copy` value behind a lock.
#[derive(Debug, Default)]
pub struct SyncCell<T: Copy>(Mutex<T>);

impl<T: Copy> SyncCell<T> {
    pub const fn new(v: T) -> Self {
        SyncCell(Mutex::new(v))
    }
    pub fn get(&self) -> T {
        *lock(&self.0)
    }
    pub fn set(&self, v: T) {
        *lock(&self.0) = v;
    }
    /// Changes the value in one step (no other thread's change in between).
    pub fn update(&self, f: impl FnOnce(T) -> T) {
        let mut g = lock(&self.0);
        *g = f(*g);
    }
}

#[cfg(test)]
mod tests {
    /// What a run's threads share; the trait bounds hold every implementation
    /// to it, this holds the shared structs.
    #[test]
    fn the_shared_seams_are_send_and_sync() {
        fn shared<T: Send + Sync + ?Sized>() {}
        shared::<dyn crate::cloud_api::DnsApi>();
        shared::<dyn crate::cloud_api::Connection>();
        shared::<dyn crate::clock::Clock>();
        shared::<dyn crate::http::Transport>();
        shared::<dyn crate::client::Auth>();
        shared::<crate::cloud_api::ZoneCache<'static>>();
        shared::<crate::report::Report>();
        shared::<crate::client::Client>();
        shared::<crate::http::UreqTransport>();
        shared::<crate::clock::FakeClock>();
    }
}
