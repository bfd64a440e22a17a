//! Time for the simulator: a monotonic clock for pending/propagation delays,
//! the real wall clock for the request log, and a *simulated* wall clock
//! (real time + `clock_offset_secs`) for everything the client can see
//! (signature date window, `Date` header, `expires_at`).
//!
//! The calendar conversions are written out here so the simulator needs no
//! date crate.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// One reading of every clock, taken together so a request sees one time.
///
/// Handlers take a `Now` instead of reading clocks themselves, which is what
/// lets unit tests drive pending transitions with injected times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Now {
    /// Milliseconds since the simulator started (monotonic).
    pub mono_ms: u64,
    /// Real wall time, milliseconds since the Unix epoch.
    pub real_ms: i64,
    /// Simulated wall time, microseconds since the Unix epoch.
    pub sim_us: i64,
}

impl Now {
    /// Simulated wall time in whole seconds since the Unix epoch.
    pub fn sim_secs(&self) -> i64 {
        self.sim_us.div_euclid(1_000_000)
    }

    /// Simulated wall time in milliseconds since the Unix epoch.
    pub fn sim_ms(&self) -> i64 {
        self.sim_us.div_euclid(1000)
    }

    /// Real wall time (ms since the epoch) at which monotonic instant `mono_ms` happened
    /// or will happen; used to stamp events with the time they *became* true.
    pub fn real_ms_at(&self, mono_ms: u64) -> i64 {
        let ago = i128::from(self.mono_ms) - i128::from(mono_ms);
        i64::try_from(i128::from(self.real_ms) - ago).unwrap_or(self.real_ms)
    }

    /// The epoch on every clock; for building state outside a running simulator.
    pub fn zero() -> Now {
        Now {
            mono_ms: 0,
            real_ms: 0,
            sim_us: 0,
        }
    }

    /// A `Now` for unit tests: everything derived from one number.
    #[cfg(test)]
    pub fn at(mono_ms: u64) -> Now {
        let real_ms = 1_790_000_000_000 + mono_ms as i64;
        Now {
            mono_ms,
            real_ms,
            sim_us: real_ms * 1000,
        }
    }
}

/// The simulator's clock source.
#[derive(Debug)]
pub(crate) struct Clock {
    start: Instant,
}

impl Clock {
    pub fn new() -> Clock {
        Clock {
            start: Instant::now(),
        }
    }

    /// Reads all clocks; `offset_secs` shifts the simulated wall clock.
    pub fn now(&self, offset_secs: i64) -> Now {
        let mono_ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        let real_us = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
            Err(_) => 0,
        };
        Now {
            mono_ms,
            real_ms: real_us / 1000,
            sim_us: real_us.saturating_add(offset_secs.saturating_mul(1_000_000)),
        }
    }
}

/// Days since 1970-01-01 -> (year, month, day), proleptic Gregorian
/// (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) -> days since 1970-01-01 (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Broken-down UTC time of `secs` since the epoch.
fn split(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    (
        y,
        mo,
        d,
        (sod / 3600) as u32,
        (sod % 3600 / 60) as u32,
        (sod % 60) as u32,
    )
}

/// `YYYYMMDDTHHMMSSZ` (compact ISO 8601; OTC's `X-Sdk-Date`).
pub(crate) fn format_compact_utc(secs: i64) -> String {
    let (y, mo, d, h, mi, s) = split(secs);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

/// Parses `YYYYMMDDTHHMMSSZ` into seconds since the epoch; `None` if malformed.
pub(crate) fn parse_compact_utc(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = text.get(range)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, s) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || d == 0 || d > 31 || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(i64::from(y), mo, d);
    // Reject dates like Feb 31 that silently roll over.
    if civil_from_days(days) != (i64::from(y), mo, d) {
        return None;
    }
    Some(days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s))
}

/// RFC 3339 with microseconds, as the metadata service writes `expires_at`.
pub(crate) fn format_rfc3339_micros(us: i64) -> String {
    let (y, mo, d, h, mi, s) = split(us.div_euclid(1_000_000));
    let frac = us.rem_euclid(1_000_000);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{frac:06}Z")
}

/// RFC 3339 with milliseconds, as CCE writes `expiration` (`2022-09-07T03:27:51.158Z`).
pub(crate) fn format_rfc3339_millis(us: i64) -> String {
    let (y, mo, d, h, mi, s) = split(us.div_euclid(1_000_000));
    let ms = us.rem_euclid(1_000_000) / 1000;
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

/// The DNS API's timestamp style (`2017-09-11T13:58:34.393`, no zone).
pub(crate) fn format_api_timestamp(us: i64) -> String {
    let (y, mo, d, h, mi, s) = split(us.div_euclid(1_000_000));
    let ms = us.rem_euclid(1_000_000) / 1000;
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}")
}

/// Latest time an HTTP date can carry (httpdate panics at year 10000).
const MAX_HTTP_DATE_US: i64 = 253_402_300_799 * 1_000_000;

/// `SystemTime` for a simulated time, for the HTTP `Date` header; clamped to
/// what an HTTP date can express (1970..9999) because the offset comes from
/// the control API.
pub(crate) fn system_time(us: i64) -> SystemTime {
    let us = us.clamp(0, MAX_HTTP_DATE_US);
    UNIX_EPOCH + std::time::Duration::from_micros(us.unsigned_abs())
}

/// `YYYY-MM-DDThh:mm:ssZ` of a time in seconds since the Unix epoch.
pub(crate) fn format_rfc3339_secs(secs: i64) -> String {
    let (y, mo, d, h, mi, s) = split(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// 32 unpredictable bytes.
///
/// std seeds every `RandomState` from the OS random source, so hashing a few
/// of them (plus a counter and the time) gives unguessable values without a
/// `rand` dependency. Good enough for a loopback simulator's keys and tokens.
pub(crate) fn random_bytes() -> [u8; 32] {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut digest = Sha256::new();
    for i in 0..4u64 {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_u64(i);
        digest.update(h.finish().to_le_bytes());
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    digest.update(nanos.to_le_bytes());
    digest.finalize().into()
}

/// `len` random characters drawn from `alphabet` (which must not be empty).
pub(crate) fn random_string(alphabet: &[u8], len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes() {
            if out.len() == len {
                break;
            }
            out.push(char::from(alphabet[usize::from(b) % alphabet.len()]));
        }
    }
    out
}

pub(crate) const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub(crate) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub(crate) const TOKEN_CHARS: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_date_round_trip() {
        let secs = parse_compact_utc("20240102T030405Z").unwrap();
        assert_eq!(secs, 1_704_164_645);
        assert_eq!(format_compact_utc(secs), "20240102T030405Z");
        assert_eq!(format_compact_utc(0), "19700101T000000Z");
        let leap = parse_compact_utc("20240229T235959Z").unwrap();
        assert_eq!(format_compact_utc(leap), "20240229T235959Z");
    }

    #[test]
    fn sdk_date_rejects_malformed() {
        for bad in [
            "",
            "20240102T030405",
            "2024-01-02T03:04:05Z",
            "20241302T030405Z",
            "20230229T000000Z",
            "2024010+T030405Z",
            "20240102T250405Z",
        ] {
            assert_eq!(parse_compact_utc(bad), None, "{bad}");
        }
    }

    #[test]
    fn rfc3339_and_api_timestamps() {
        let us = 1_704_164_645_123_456;
        assert_eq!(format_rfc3339_micros(us), "2024-01-02T03:04:05.123456Z");
        assert_eq!(format_api_timestamp(us), "2024-01-02T03:04:05.123");
        assert_eq!(format_rfc3339_millis(us), "2024-01-02T03:04:05.123Z");
        assert_eq!(format_rfc3339_micros(-1), "1969-12-31T23:59:59.999999Z");
    }

    #[test]
    fn http_dates_never_panic() {
        for us in [i64::MIN, -1, 0, i64::MAX] {
            let _ = httpdate::fmt_http_date(system_time(us));
        }
        assert_eq!(
            system_time(1_000_000),
            UNIX_EPOCH + std::time::Duration::from_secs(1)
        );
    }

    #[test]
    fn real_ms_at_maps_monotonic_instants() {
        let now = Now::at(5000);
        assert_eq!(now.real_ms_at(5000), now.real_ms);
        assert_eq!(now.real_ms_at(4000), now.real_ms - 1000);
        assert_eq!(now.real_ms_at(6500), now.real_ms + 1500);
    }

    #[test]
    fn random_strings_differ_and_use_the_alphabet() {
        let a = random_string(UPPER_ALNUM, 20);
        let b = random_string(UPPER_ALNUM, 20);
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| UPPER_ALNUM.contains(&c)));
        assert_eq!(random_string(b"0123456789abcdef", 100).len(), 100);
    }
}
