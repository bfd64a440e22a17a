//! Every shared default, defined once: clap's defaults, the settings structs
//! and the docs test read them from here. A cloud's own defaults (endpoints,
//! metadata URL, region) live in its folder under `clouds/`.

use std::time::Duration;

/// TTL of the TXT records we create, seconds.
pub const TTL: u32 = 300;
pub const TTL_SECS: u64 = TTL as u64;
/// How long to wait for a change to settle and for the nameservers to serve it.
pub const PROPAGATION_TIMEOUT_SECS: u64 = 300;
pub const PROPAGATION_TIMEOUT: Duration = Duration::from_secs(PROPAGATION_TIMEOUT_SECS);
/// Interval between API polls (at most one request per second).
pub const POLL: Duration = Duration::from_secs(1);
/// A run gives up after this long (a watchdog ends it).
pub const DEADLINE_SECS: u64 = 900;
pub const DEADLINE: Duration = Duration::from_secs(DEADLINE_SECS);
/// Timeout of one HTTP request, seconds.
pub const HTTP_TIMEOUT_SECS: u64 = 10;
/// Extra attempts of a failed idempotent request.
pub const RETRIES: u32 = 4;
/// First retry backoff; doubles each time (with jitter).
pub const RETRY_BASE: Duration = Duration::from_millis(500);
/// Port of the authoritative nameservers asked.
pub const NAMESERVER_PORT: u16 = 53;
/// Extra wait after every nameserver serves the values, seconds.
pub const SETTLE_SECS: u64 = 0;
/// Instance metadata services answer on the link, or not at all. 2 s lets
/// one lost SYN be sent again (Linux resends it after 1 s).
pub const METADATA_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
pub const METADATA_TIMEOUT: Duration = Duration::from_secs(4);
/// Pauses before sending again a metadata request that never connected
/// (refused, or the connect timed out): two more attempts.
pub const METADATA_CONNECT_RETRIES: [Duration; 2] =
    [Duration::from_millis(200), Duration::from_millis(500)];
/// Timeout of one DNS query while waiting for propagation (a lost datagram
/// is simply asked again on the next poll).
pub const DNS_QUERY_TIMEOUT: Duration = Duration::from_secs(1);
/// The same for `check`, which asks once.
pub const CHECK_DNS_QUERY_TIMEOUT: Duration = Duration::from_secs(2);
/// The nameservers are asked again this often for the first
/// `DNS_POLL_FAST_FOR` of a wait, then every `DNS_POLL_MAX`. A poll asks each
/// server one question (its last pending name) until that one is served,
/// then its other pending names: 5 questions a second while nothing has
/// arrived, at most every pending name 5 times a second while values arrive.
pub const DNS_POLL_FIRST: Duration = Duration::from_millis(200);
pub const DNS_POLL_FAST_FOR: Duration = Duration::from_secs(10);
pub const DNS_POLL_MAX: Duration = Duration::from_millis(500);
/// How often a long wait looks at the API again for values another host dropped.
pub const RECHECK_API_EVERY: Duration = Duration::from_secs(3);
/// After a run's last write, how long before it reads again to see whether
/// another host's read-modify-write dropped (or brought back) a value.
pub const RECHECK_AFTER_WRITE: Duration = Duration::from_secs(1);

/// Requests of a run in flight at once (`--parallel`); 1 sends them in order.
pub const PARALLEL: usize = 8;
/// The widest `--parallel` accepted: beyond, an API's rate limit answers.
pub const PARALLEL_MAX: usize = 32;
