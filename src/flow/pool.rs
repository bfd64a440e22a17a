//! A stand-in for the `threads` branch's bounded executor, with its
//! signature: runs every item in order on the calling thread. Replaced by the
//! real pool (over `std::thread::scope`) when `threads` is merged; until then
//! `limit` is ignored and every run is `--parallel 1`.

/// Runs `f` on every item and returns the results in the order of `items`.
pub fn run_all<T, R, F>(limit: usize, items: Vec<T>, f: F) -> Vec<R>
where
    F: Fn(T) -> R,
{
    let _ = limit;
    items.into_iter().map(f).collect()
}
