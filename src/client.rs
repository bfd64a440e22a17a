//! The retrying API client every provider sends through: it asks the
//! provider's [`Auth`] to authorize each attempt, retries throttling, 5xx and
//! lost connections within the [`RetryPolicy`], and after a 401 tries once
//! more — with the clock corrected when the server's `Date` says ours is off,
//! else with fresh credentials when the provider can fetch them. One client
//! is shared by the threads of a run: a throttling answer to any of them
//! pauses them all ([`Gate`]), and after 401s one thread fetches credentials.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::api_error::{ApiError, ApiResult};
use crate::clock::Clock;
use crate::http::{
    ConnectRetry, ProxyConfig, Response, Timeouts, Transport, TransportError, Trust, UreqTransport,
    Url,
};
use crate::report::Report;

/// Skew beyond which a 401 is blamed on our clock (gateways allow 5 to 15
/// minutes; anything over 5 is no network delay).
const SKEW_LIMIT_SECS: i64 = 300;
/// Longest wait we honour from a `Retry-After`.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// How transient failures are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Extra attempts after the first.
    pub retries: u32,
    /// First backoff; doubles each time (with jitter).
    pub base: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: crate::defaults::RETRIES,
            base: crate::defaults::RETRY_BASE,
        }
    }
}

/// How a run reaches cloud APIs: timeouts, retries, proxy and trust.
#[derive(Debug, Clone)]
pub struct Net {
    pub http_timeout: Duration,
    pub retry: RetryPolicy,
    pub proxy: ProxyConfig,
    pub trust: Trust,
    /// Requests of a run that may go out at once (`--parallel`): a provider
    /// whose read takes several calls sends them side by side.
    pub parallel: usize,
}

impl Net {
    /// The transport for cloud APIs.
    pub fn api_transport(&self) -> Arc<dyn Transport> {
        Arc::new(UreqTransport::with(
            Timeouts {
                connect: self.http_timeout.min(Duration::from_secs(5)),
                whole: self.http_timeout,
            },
            self.proxy.clone(),
            self.trust.clone(),
        ))
    }

    /// The instance metadata transport: short timeouts, never a proxy, a
    /// request that never connected sent again twice.
    pub fn metadata_transport() -> Arc<dyn Transport> {
        Arc::new(ConnectRetry::new(
            UreqTransport::with(
                Timeouts {
                    connect: crate::defaults::METADATA_CONNECT_TIMEOUT,
                    whole: crate::defaults::METADATA_TIMEOUT,
                },
                ProxyConfig::default(),
                Default::default(),
            ),
            &crate::defaults::METADATA_CONNECT_RETRIES,
        ))
    }
}

/// One request, as the client is asked to send it.
pub struct Outgoing<'a> {
    pub method: &'a str,
    pub url: &'a Url,
    /// Query pairs, not yet encoded (the signer may need them sorted).
    pub query: &'a [(String, String)],
    pub body: Option<&'a [u8]>,
    /// Our clock plus the correction learnt from a 401, in milliseconds.
    pub now_ms: i64,
}

/// A provider's part of sending: authorization, reading its error answers.
pub trait Auth: Send + Sync {
    /// The exact URL to send to and every header (authorization included).
    fn prepare(&self, req: &Outgoing) -> ApiResult<(String, Vec<(String, String)>)>;
    /// After a 401 the clock does not explain: fetch fresh credentials and say
    /// from where (`Ok(None)`: nothing to fetch, the 401 stands).
    fn refresh(&self) -> ApiResult<Option<String>> {
        Ok(None)
    }
    /// How many times credentials were fetched so far (0 where they never
    /// are): a 401 to a request prepared before another thread's fetch is
    /// retried with those credentials instead of fetching again.
    fn generation(&self) -> u64 {
        0
    }
    /// Whether requests carry our clock's time (a signature date): only then is
    /// a 401 with a far-off `Date` blamed on the clock rather than the credentials.
    fn signs_with_our_clock(&self) -> bool {
        true
    }
    /// Whether a 401 refuses the credentials, the signature or the clock (the
    /// default). Some gateways also answer 401 for a permission the identity
    /// lacks (NCP's `210`): then neither a corrected clock nor fresh
    /// credentials can help, and the call is not tried again.
    fn credentials_refused(&self, _resp: &Response) -> bool {
        true
    }
    /// Whether an answer asks us to slow down (a 429; some APIs say it otherwise).
    fn throttled(&self, resp: &Response) -> bool {
        resp.status == 429
    }
    /// The provider's reading of a non-2xx answer.
    fn error_of(&self, resp: &Response) -> ApiError;
}

/// A pause every thread sharing a client keeps: after a throttling answer to
/// any of them, no request goes out before the pause ends (the API counts our
/// requests, not our threads).
#[derive(Default)]
pub struct Gate {
    /// The end of the pause, as [`Clock::elapsed`]; `None`: open.
    until: Mutex<Option<Duration>>,
}

impl Gate {
    /// Closes the gate until `wait` from now (never shortening a pause in force).
    pub fn pause(&self, clock: &dyn Clock, wait: Duration) {
        let end = clock.elapsed() + wait;
        let mut until = crate::sync::lock(&self.until);
        if until.is_none_or(|u| u < end) {
            *until = Some(end);
        }
    }

    /// Returns once no pause is in force, sleeping out what is left of one.
    /// Not locked while sleeping: a pause made longer meanwhile is seen on
    /// waking, and the other threads read the gate freely.
    pub fn wait(&self, clock: &dyn Clock) {
        loop {
            let Some(end) = *crate::sync::lock(&self.until) else {
                return;
            };
            let now = clock.elapsed();
            if now >= end {
                return;
            }
            clock.sleep(end - now);
        }
    }
}

pub struct Client {
    transport: Arc<dyn Transport>,
    auth: Arc<dyn Auth>,
    clock: Arc<dyn Clock>,
    /// Seconds added to our clock, learnt from a 401's `Date`.
    offset: AtomicI64,
    policy: RetryPolicy,
    report: Arc<Report>,
    gate: Gate,
    /// Held while deciding on fresh credentials after a 401: one thread fetches,
    /// the others then use what it fetched.
    refreshing: Mutex<()>,
}

/// Methods safe to send again after an unknown outcome. A POST or PUT may have
/// been applied, and a repeated PUT would write back what we read before: the
/// hook re-reads the state instead of repeating them.
fn idempotent(method: &str) -> bool {
    matches!(method, "GET" | "DELETE" | "HEAD")
}

impl Client {
    pub fn new(
        transport: Arc<dyn Transport>,
        auth: Arc<dyn Auth>,
        clock: Arc<dyn Clock>,
        report: Arc<Report>,
    ) -> Self {
        Client {
            transport,
            auth,
            clock,
            offset: AtomicI64::new(0),
            policy: RetryPolicy::default(),
            report,
            gate: Gate::default(),
            refreshing: Mutex::new(()),
        }
    }

    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The clock correction in force (seconds), learnt from a 401.
    pub fn clock_offset(&self) -> i64 {
        self.offset.load(Ordering::SeqCst)
    }

    /// One attempt, once no pause is in force; with the credentials'
    /// [`generation`](Auth::generation) it was prepared with.
    fn send_once(
        &self,
        method: &str,
        url: &Url,
        query: &[(String, String)],
        body: Option<&[u8]>,
    ) -> (u64, ApiResult<Response>) {
        self.gate.wait(self.clock.as_ref());
        let now_ms = self.clock.unix_ms() as i64 + self.clock_offset() * 1000;
        let prepared = self.auth.prepare(&Outgoing {
            method,
            url,
            query,
            body,
            now_ms,
        });
        let generation = self.auth.generation();
        let result = prepared.and_then(|(target, headers)| {
            self.transport
                .send(method, &target, &headers, body.unwrap_or(b""))
                .map_err(ApiError::Transport)
        });
        (generation, result)
    }

    /// After a 401 the clock does not explain: whether to send once more, and
    /// from where fresh credentials came. Another thread's fetch since this
    /// attempt was prepared counts; else this thread fetches, alone.
    fn renew(&self, prepared_with: u64) -> ApiResult<Option<String>> {
        let _one = crate::sync::lock(&self.refreshing);
        if self.auth.generation() != prepared_with {
            return Ok(Some("a fetch made for another request".into()));
        }
        self.auth.refresh()
    }

    /// How far the server's clock (its `Date` header) is ahead of ours, in seconds.
    fn skew(&self, resp: &Response) -> Option<i64> {
        let server = httpdate::parse_http_date(resp.header("Date")?).ok()?;
        Some(crate::clock::unix_secs(server) - self.clock.unix_secs())
    }

    /// The wait a throttling answer asks for, if it is one.
    fn throttled(&self, resp: &Response) -> Option<Option<Duration>> {
        if !self.auth.throttled(resp) {
            return None;
        }
        Some(
            resp.header("Retry-After")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER)),
        )
    }

    /// Sends; any HTTP status is returned as an answer. Throttling, 5xx and
    /// lost connections are retried within the policy; a 401 is retried once,
    /// after correcting the clock or fetching fresh credentials.
    pub fn send(
        &self,
        method: &str,
        url: &Url,
        query: &[(String, String)],
        body: Option<&[u8]>,
    ) -> ApiResult<Response> {
        let mut attempt = 0;
        let mut after_401 = false;
        loop {
            let (generation, result) = self.send_once(method, url, query, body);
            // Up to half as much again: retries of many hosts spread out.
            let backoff = self
                .clock
                .jittered(self.policy.base * 2u32.pow(attempt.min(5)), 0.5);
            let retry_in = match &result {
                Ok(resp)
                    if resp.status == 401 && !after_401 && self.auth.credentials_refused(resp) =>
                {
                    // Never loop on 401: repeated failures lock some keys.
                    after_401 = true;
                    if self.auth.signs_with_our_clock()
                        && let Some(skew) = self.skew(resp)
                        && (skew - self.clock_offset()).abs() > SKEW_LIMIT_SECS
                    {
                        self.offset.store(skew, Ordering::SeqCst);
                        self.report.warn(format!(
                            "this host's clock is {} s {} the API's; signing with the corrected time (fix the clock: NTP)",
                            skew.abs(),
                            if skew > 0 { "behind" } else { "ahead of" }
                        ));
                        continue;
                    }
                    if let Some(source) = self.renew(generation)? {
                        self.report
                            .verbose(format!("HTTP 401: fetched fresh credentials from {source}"));
                        continue;
                    }
                    None
                }
                Ok(resp) => match self.throttled(resp) {
                    Some(wait) => Some(wait.unwrap_or(backoff)),
                    None if matches!(resp.status, 500 | 502 | 503 | 504) && idempotent(method) => {
                        Some(backoff)
                    }
                    None => None,
                },
                // A refused certificate stays refused.
                Err(ApiError::Transport(TransportError::Tls(_))) => None,
                // A refused credential (a token endpoint's `invalid_client`) stays refused.
                Err(e) if idempotent(method) && e.is_transient() => Some(backoff),
                Err(_) => None,
            };
            let throttled = matches!(&result, Ok(r) if self.auth.throttled(r));
            match retry_in {
                Some(wait) if attempt < self.policy.retries => {
                    attempt += 1;
                    let why = match &result {
                        Ok(r) => format!("HTTP {}", r.status),
                        Err(e) => e.to_string(),
                    };
                    self.report.info(format!(
                        "{method} {}: {why}; retrying in {:.1}s ({attempt}/{})",
                        url.path,
                        wait.as_secs_f64(),
                        self.policy.retries
                    ));
                    if throttled {
                        // Every thread sharing this client waits it out.
                        self.gate.pause(self.clock.as_ref(), wait);
                    } else {
                        self.clock.sleep(wait);
                    }
                }
                _ => return result,
            }
        }
    }

    /// Like [`send`](Self::send), but a non-2xx answer becomes the provider's error.
    pub fn call(
        &self,
        method: &str,
        url: &Url,
        query: &[(String, String)],
        body: Option<&[u8]>,
    ) -> ApiResult<Response> {
        let resp = self.send(method, url, query, body)?;
        if (200..300).contains(&resp.status) {
            Ok(resp)
        } else {
            Err(self.auth.error_of(&resp))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// A clock shared by the test's threads: it moves by each sleep, records
    /// who slept how long, and lets a test hold the first sleeper until
    /// another thread has slept too (a bounded real wait).
    struct StepClock {
        offset: Mutex<Duration>,
        sleeps: Mutex<Vec<(String, Duration)>>,
        first_sleeping: Mutex<Option<mpsc::Sender<()>>>,
        /// Held by the first sleeper: the second sleep is sent here.
        others: Mutex<Option<mpsc::Receiver<()>>>,
        other_slept: mpsc::Sender<()>,
    }

    impl StepClock {
        fn new(first_sleeping: mpsc::Sender<()>) -> StepClock {
            let (tx, rx) = mpsc::channel();
            StepClock {
                offset: Mutex::new(Duration::ZERO),
                sleeps: Mutex::default(),
                first_sleeping: Mutex::new(Some(first_sleeping)),
                others: Mutex::new(Some(rx)),
                other_slept: tx,
            }
        }

        fn sleeps(&self) -> Vec<(String, Duration)> {
            crate::sync::lock(&self.sleeps).clone()
        }
    }

    impl Clock for StepClock {
        fn now(&self) -> std::time::SystemTime {
            std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000) + self.elapsed()
        }
        fn elapsed(&self) -> Duration {
            *crate::sync::lock(&self.offset)
        }
        fn sleep(&self, d: Duration) {
            let me = std::thread::current().name().unwrap_or("?").to_string();
            crate::sync::lock(&self.sleeps).push((me, d));
            let first = crate::sync::lock(&self.first_sleeping).take();
            if let Some(tell) = first {
                // The first sleeper: let the test start the other thread, and
                // keep the clock where it is until that one has slept (or 5 s).
                let _ = tell.send(());
                let others = crate::sync::lock(&self.others).take();
                if let Some(rx) = others {
                    let _ = rx.recv_timeout(Duration::from_secs(5));
                }
            } else {
                let _ = self.other_slept.send(());
            }
            *crate::sync::lock(&self.offset) += d;
        }
    }

    /// Answers the first request to `/a` with a 429 (and `Retry-After` when
    /// given), everything else with 200; logs each request's path and the
    /// clock's time when it went out.
    struct Throttling {
        retry_after: Option<&'static str>,
        clock: Arc<StepClock>,
        sent: Mutex<Vec<(String, Duration)>>,
    }

    impl Transport for Throttling {
        fn send(
            &self,
            _method: &str,
            url: &str,
            _headers: &[(String, String)],
            _body: &[u8],
        ) -> Result<Response, TransportError> {
            let path = Url::parse(url).unwrap().path;
            let mut sent = crate::sync::lock(&self.sent);
            let first_a = path == "/a" && !sent.iter().any(|(p, _)| p == "/a");
            sent.push((path, self.clock.elapsed()));
            let (status, headers) = if first_a {
                let h = self
                    .retry_after
                    .map(|v| ("Retry-After".to_string(), v.to_string()));
                (429, h.into_iter().collect())
            } else {
                (200, Vec::new())
            };
            Ok(Response {
                status,
                headers,
                body: Vec::new(),
            })
        }
    }

    struct Open;

    impl Auth for Open {
        fn prepare(&self, r: &Outgoing) -> ApiResult<(String, Vec<(String, String)>)> {
            Ok((format!("{}{}", r.url.origin(), r.url.path), Vec::new()))
        }
        fn error_of(&self, resp: &Response) -> ApiError {
            ApiError::status(resp.status, None, "refused".into())
        }
    }

    /// (thread or path, duration): who slept how long, what went out when.
    type Timeline = Vec<(String, Duration)>;

    /// Thread `a` gets a 429; once it sleeps out the pause, thread `b` is
    /// started: its first request waits for the same end of pause.
    fn two_threads(retry_after: Option<&'static str>) -> (Timeline, Timeline) {
        let (tell, a_sleeping) = mpsc::channel();
        let clock = Arc::new(StepClock::new(tell));
        let transport = Arc::new(Throttling {
            retry_after,
            clock: clock.clone(),
            sent: Mutex::default(),
        });
        let report = Arc::new(Report::new(
            crate::report::Level::Quiet,
            Box::new(std::io::sink()),
        ));
        let client = Arc::new(
            Client::new(transport.clone(), Arc::new(Open), clock.clone(), report).with_policy(
                RetryPolicy {
                    retries: 2,
                    base: Duration::from_secs(1),
                },
            ),
        );
        let send = |path: &'static str| {
            let c = client.clone();
            std::thread::Builder::new()
                .name(path.trim_start_matches('/').into())
                .spawn(move || {
                    let url = Url::parse(&format!("https://dns.example{path}")).unwrap();
                    c.send("GET", &url, &[], None).unwrap().status
                })
                .unwrap()
        };
        let a = send("/a");
        a_sleeping
            .recv_timeout(Duration::from_secs(5))
            .expect("a slept after its 429");
        let b = send("/b");
        assert_eq!(b.join().unwrap(), 200);
        assert_eq!(a.join().unwrap(), 200, "a's retry after the pause");
        let sent = crate::sync::lock(&transport.sent).clone();
        (clock.sleeps(), sent)
    }

    #[test]
    fn a_429_with_retry_after_pauses_every_thread_sharing_the_client() {
        let (sleeps, sent) = two_threads(Some("5"));
        let five = Duration::from_secs(5);
        assert_eq!(
            sleeps,
            vec![("a".to_string(), five), ("b".to_string(), five)],
            "b waited out a's pause before its first request"
        );
        let b_at = sent.iter().find(|(p, _)| p == "/b").unwrap().1;
        assert!(
            b_at >= five,
            "b went out at {b_at:?}, within the pause: {sent:?}"
        );
        assert_eq!(
            sent.iter().filter(|(p, _)| p == "/a").count(),
            2,
            "{sent:?}"
        );
        assert_eq!(sent.len(), 3, "b sent once: {sent:?}");
    }

    #[test]
    fn a_429_without_retry_after_pauses_the_others_for_the_backoff() {
        let (sleeps, sent) = two_threads(None);
        let [(a, a_wait), (b, b_wait)] = <[_; 2]>::try_from(sleeps).unwrap();
        assert_eq!((a.as_str(), b.as_str()), ("a", "b"));
        // The backoff of a first retry: the base (1 s) plus up to half of it.
        assert!(a_wait >= Duration::from_secs(1) && a_wait < Duration::from_millis(1500));
        assert_eq!(b_wait, a_wait, "b waited for the end of a's pause");
        let b_at = sent.iter().find(|(p, _)| p == "/b").unwrap().1;
        assert!(b_at >= a_wait, "{sent:?}");
    }

    #[test]
    fn a_later_pause_never_shortens_one_in_force() {
        let clock = crate::clock::FakeClock::new(1_700_000_000);
        let gate = Gate::default();
        gate.pause(&clock, Duration::from_secs(5));
        gate.pause(&clock, Duration::from_secs(2));
        gate.wait(&clock);
        assert_eq!(clock.elapsed(), Duration::from_secs(5));
        assert_eq!(clock.sleeps.get(), 1);
        gate.wait(&clock);
        assert_eq!(clock.sleeps.get(), 1, "an ended pause costs nothing");
    }

    /// The pool's workers share one client: a 429 to one worker's request pauses
    /// every worker, not just the one that got it: with 8 workers sending 200 requests
    /// (20 ms each, half a second of work), the 9th answered `429
    /// Retry-After: 1`, no request goes out while the pause lasts (without the
    /// shared pause the other workers would go on sending through it), and
    /// every one is answered after it.
    #[test]
    fn a_429_pauses_every_worker_sharing_the_client() {
        use crate::pool::run_all;
        use std::time::Instant;

        struct Api {
            start: Instant,
            /// When each request arrived; when the 429 was answered.
            arrived: Mutex<Vec<Duration>>,
            throttled_at: Mutex<Option<Duration>>,
        }
        impl Transport for Api {
            fn send(
                &self,
                _: &str,
                _: &str,
                _: &[(String, String)],
                _: &[u8],
            ) -> Result<Response, TransportError> {
                let n = {
                    let mut a = crate::sync::lock(&self.arrived);
                    a.push(self.start.elapsed());
                    a.len()
                };
                std::thread::sleep(Duration::from_millis(20));
                let mut response = Response {
                    status: 200,
                    headers: Vec::new(),
                    body: Vec::new(),
                };
                if n == 9 {
                    response.status = 429;
                    response.headers = vec![("Retry-After".into(), "1".into())];
                    *crate::sync::lock(&self.throttled_at) = Some(self.start.elapsed());
                }
                Ok(response)
            }
        }
        let api = Arc::new(Api {
            start: Instant::now(),
            arrived: Mutex::default(),
            throttled_at: Mutex::default(),
        });
        let report = Arc::new(crate::report::Report::new(
            crate::report::Level::Quiet,
            Box::new(std::io::sink()),
        ));
        let client = Client::new(
            api.clone(),
            Arc::new(Open),
            Arc::new(crate::clock::SystemClock::default()),
            report,
        )
        .with_policy(RetryPolicy {
            retries: 2,
            base: Duration::from_millis(10),
        });
        let url = Url::parse("https://dns.example/v2/zones").unwrap();
        let answers = run_all(8, (0..200).collect(), |_: u32| {
            client.send("GET", &url, &[], None).map(|r| r.status)
        });
        assert!(answers.iter().all(|a| matches!(a, Ok(200))), "{answers:?}");
        let at = crate::sync::lock(&api.throttled_at).expect("the 9th was throttled");
        let arrived = crate::sync::lock(&api.arrived).clone();
        assert_eq!(arrived.len(), 201, "200 and the throttled one again");
        // Requests already past the gate when the 429 came may still land
        // just after it; none starts while the pause lasts.
        let during: Vec<&Duration> = arrived
            .iter()
            .filter(|t| {
                **t > at + Duration::from_millis(150) && **t < at + Duration::from_millis(850)
            })
            .collect();
        assert!(
            during.is_empty(),
            "sent during the pause: {during:?} (429 at {at:?})"
        );
        let after = arrived
            .iter()
            .filter(|t| **t >= at + Duration::from_millis(850))
            .count();
        // Before it: the first 16, and at most one more per worker that was
        // past the gate when the 429 came.
        assert!(after >= 201 - 24, "{after} after the pause: {arrived:?}");
    }

    /// Credentials `old` until refreshed, then `new`; counts the fetches.
    struct Refreshing {
        generation: std::sync::atomic::AtomicU64,
    }

    impl Auth for Refreshing {
        fn prepare(&self, r: &Outgoing) -> ApiResult<(String, Vec<(String, String)>)> {
            let cred = if self.generation() == 0 { "old" } else { "new" };
            Ok((
                format!("{}{}", r.url.origin(), r.url.path),
                vec![("cred".into(), cred.into())],
            ))
        }
        fn refresh(&self) -> ApiResult<Option<String>> {
            self.generation.fetch_add(1, Ordering::SeqCst);
            Ok(Some("the test".into()))
        }
        fn signs_with_our_clock(&self) -> bool {
            false
        }
        fn generation(&self) -> u64 {
            self.generation.load(Ordering::SeqCst)
        }
        fn error_of(&self, resp: &Response) -> ApiError {
            ApiError::status(resp.status, None, "refused".into())
        }
    }

    /// 401 to the old credentials, 200 to the new; the old ones' requests
    /// meet at a barrier first, so both are in flight when the 401s come.
    struct Rejecting {
        together: std::sync::Barrier,
        sent: Mutex<Vec<String>>,
    }

    impl Transport for Rejecting {
        fn send(
            &self,
            _method: &str,
            _url: &str,
            headers: &[(String, String)],
            _body: &[u8],
        ) -> Result<Response, TransportError> {
            let cred = headers[0].1.clone();
            crate::sync::lock(&self.sent).push(cred.clone());
            if cred == "old" {
                self.together.wait();
            }
            Ok(Response {
                status: if cred == "old" { 401 } else { 200 },
                headers: Vec::new(),
                body: Vec::new(),
            })
        }
    }

    #[test]
    fn two_401s_at_once_fetch_credentials_once_and_both_retry_with_them() {
        let auth = Arc::new(Refreshing {
            generation: Default::default(),
        });
        let transport = Arc::new(Rejecting {
            together: std::sync::Barrier::new(2),
            sent: Mutex::default(),
        });
        let report = Arc::new(Report::new(
            crate::report::Level::Quiet,
            Box::new(std::io::sink()),
        ));
        let client = Client::new(
            transport.clone(),
            auth.clone(),
            Arc::new(crate::clock::FakeClock::new(1_700_000_000)),
            report,
        );
        let url = Url::parse("https://dns.example/x").unwrap();
        let statuses = crate::flow::run_all(2, vec![(); 2], |()| {
            client.send("GET", &url, &[], None).unwrap().status
        });
        assert_eq!(statuses, vec![200, 200]);
        assert_eq!(auth.generation(), 1, "one fetch for both");
        let mut sent = crate::sync::lock(&transport.sent).clone();
        sent.sort();
        assert_eq!(sent, ["new", "new", "old", "old"]);
    }
}
