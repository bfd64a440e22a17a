//! Locks shared by the threads of a run.

use std::sync::{Mutex, MutexGuard};

/// The value behind `m`. A thread that panicked while holding the lock left
/// only a cache or a counter behind it (never a half-done write), so the value
/// is used as it is rather than failing every other thread.
pub fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    /// What a run's threads share; the trait bounds hold every implementation
    /// to it, this holds the shared structs.
    #[test]
    fn the_shared_seams_are_send_and_sync() {
        fn shared<T: Send + Sync + ?Sized>() {}
        shared::<dyn crate::provider::Provider>();
        shared::<dyn crate::provider::Connection>();
        shared::<dyn crate::clock::Clock>();
        shared::<dyn crate::http::Transport>();
        shared::<dyn crate::client::Auth>();
        shared::<crate::provider::Memo<'static>>();
        shared::<crate::report::Report>();
        shared::<crate::client::Client>();
        shared::<crate::http::UreqTransport>();
        shared::<crate::clock::FakeClock>();
    }
}
