//! A small bounded executor over [`std::thread::scope`]: the independent
//! requests of a run (per-name writes, per-record reads and deletes, per-zone
//! commits) go out side by side, never more than `limit` at once. No async
//! runtime: each item is a blocking call on a thread of its own while it runs.

use std::sync::Mutex;

/// Runs `f` on every item, at most `limit` at once, and returns the results
/// in the order of `items`. With `limit` 1 (or 0, or a single item) every call
/// runs on the calling thread, in order: exactly a plain loop. A panic in `f`
/// reaches the caller once every started call has returned.
pub fn run_all<T, R, F>(limit: usize, items: Vec<T>, f: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync,
{
    let workers = limit.min(items.len());
    if workers <= 1 {
        return items.into_iter().map(f).collect();
    }
    let n = items.len();
    // Workers take the next item in input order: the first `limit` start at
    // once, each further one as soon as a call returns.
    let queue = Mutex::new(items.into_iter().enumerate());
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    // The queue's lock is released before the call.
                    let next = crate::sync::lock(&queue).next();
                    let Some((i, item)) = next else {
                        break;
                    };
                    let r = f(item);
                    crate::sync::lock(&results)[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every item ran: a worker that panicked has failed the scope"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Condvar;
    use std::time::Duration;

    /// A call with simulated latency that counts the calls in flight. Each
    /// call first waits (a bounded real wait) for `meet` calls to be in flight
    /// together: with overlap they meet at once, without it the wait runs out
    /// and the peak stays below `meet`, failing the test rather than hanging.
    struct Latent {
        in_flight: Mutex<(usize, usize)>,
        changed: Condvar,
        meet: usize,
        latency: Duration,
    }

    impl Latent {
        fn new(meet: usize, latency_ms: u64) -> Latent {
            Latent {
                in_flight: Mutex::new((0, 0)),
                changed: Condvar::new(),
                meet,
                latency: Duration::from_millis(latency_ms),
            }
        }

        fn call(&self, x: u32) -> u32 {
            {
                let mut g = crate::sync::lock(&self.in_flight);
                g.0 += 1;
                g.1 = g.1.max(g.0);
                self.changed.notify_all();
                let (_g, _) = self
                    .changed
                    .wait_timeout_while(g, Duration::from_secs(5), |g| g.1 < self.meet)
                    .unwrap();
            }
            // Later items arrive with fewer left to meet: they just sleep.
            std::thread::sleep(self.latency / (x % 3 + 1));
            crate::sync::lock(&self.in_flight).0 -= 1;
            x * 10
        }

        fn peak(&self) -> usize {
            crate::sync::lock(&self.in_flight).1
        }
    }

    #[test]
    fn calls_overlap_up_to_the_limit_and_never_beyond() {
        for limit in [2, 3, 8] {
            let fake = Latent::new(limit, 20);
            let items: Vec<u32> = (0..20).collect();
            let out = run_all(limit, items, |x| fake.call(x));
            assert_eq!(
                out,
                (0..20).map(|x| x * 10).collect::<Vec<_>>(),
                "input order"
            );
            assert_eq!(fake.peak(), limit, "limit {limit}: the peak in flight");
        }
    }

    #[test]
    fn fewer_items_than_the_limit_run_all_at_once() {
        let fake = Latent::new(3, 10);
        let out = run_all(8, vec![1, 2, 3], |x| fake.call(x));
        assert_eq!(out, vec![10, 20, 30]);
        assert_eq!(fake.peak(), 3);
    }

    #[test]
    fn results_keep_input_order_whatever_finishes_first() {
        // The first items are the slowest: they finish last.
        let items: Vec<u64> = (0..12).collect();
        let out = run_all(4, items, |x| {
            std::thread::sleep(Duration::from_millis(2 * (12 - x)));
            format!("r{x}")
        });
        assert_eq!(out, (0..12).map(|x| format!("r{x}")).collect::<Vec<_>>());
    }

    #[test]
    fn limit_one_runs_in_order_on_the_calling_thread() {
        for limit in [0, 1] {
            let me = std::thread::current().id();
            let seen = Mutex::new(Vec::new());
            let out = run_all(limit, vec!['a', 'b', 'c'], |c| {
                assert_eq!(std::thread::current().id(), me, "limit {limit}");
                crate::sync::lock(&seen).push(c);
                c.to_ascii_uppercase()
            });
            assert_eq!(out, vec!['A', 'B', 'C']);
            assert_eq!(*crate::sync::lock(&seen), vec!['a', 'b', 'c']);
        }
    }

    #[test]
    fn nothing_to_run_is_nothing() {
        let out: Vec<u8> = run_all(8, Vec::<u8>::new(), |x| x);
        assert!(out.is_empty());
    }

    #[test]
    fn a_panic_reaches_the_caller() {
        let r = std::panic::catch_unwind(|| {
            run_all(4, (0..8).collect::<Vec<u32>>(), |x| {
                assert!(x != 5, "boom");
                x
            })
        });
        assert!(r.is_err());
    }
}
