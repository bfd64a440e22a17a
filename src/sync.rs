//! Locks shared by the threads of a run.

use std::sync::{Mutex, MutexGuard};

/// The value behind `m`. A thread that panicked while holding the lock left
/// only a cache or a counter behind it (never a half-done write), so the value
/// is used as it is rather than failing every other thread.
pub fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
