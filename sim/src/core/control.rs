//! The core's runtime knobs (`/_sim/config`), the fault queue, and the
//! request/served log. The `/_sim/` endpoints themselves are served by
//! `router`; control requests are never logged and never hit faults.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::http::Resp;

/// Entries kept per log list; a long-running `otc-sim serve` must not grow without bound.
const LOG_CAP: usize = 10_000;
/// About 30 years: plenty for clock-skew tests, far from calendar edge cases.
const MAX_CLOCK_OFFSET_SECS: i64 = 1_000_000_000;
/// Ten minutes: far beyond any real API's round trip, short of a hung test.
pub(crate) const MAX_LATENCY_MS: u64 = 600_000;

/// The core's settings that `POST /_sim/config` may change while running;
/// the cloud's settings sit beside them in the same JSON object.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Config {
    pub propagation_delay_ms: u64,
    /// Round trip added to every remote request (DNS API, token, IAM), half
    /// before it is handled and half after; the link-local metadata service
    /// and the control API answer at once. The world is not locked meanwhile.
    pub latency_ms: u64,
    /// Shifts the simulated clock: signature window, `Date`, `expires_at`.
    pub clock_offset_secs: i64,
    /// Faults still to be served, in order.
    pub faults: VecDeque<Fault>,
}

/// The keys of a config body the core reads; the rest go to the cloud.
const CORE_KEYS: &[&str] = &[
    "propagation_delay_ms",
    "latency_ms",
    "clock_offset_secs",
    "faults",
];

impl Config {
    pub fn new(propagation_delay_ms: u64) -> Config {
        Config {
            propagation_delay_ms,
            latency_ms: 0,
            clock_offset_secs: 0,
            faults: VecDeque::new(),
        }
    }

    /// Merges a `POST /_sim/config` body: the core's keys here, the others
    /// through `cloud` (which applies them all or nothing). Nothing changes
    /// if any part is invalid.
    pub fn apply(
        &mut self,
        body: &[u8],
        cloud: impl FnOnce(Map<String, Value>) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut rest: Map<String, Value> =
            serde_json::from_slice(body).map_err(|e| format!("invalid config: {e}"))?;
        let mine: Map<String, Value> = CORE_KEYS
            .iter()
            .filter_map(|k| rest.remove(*k).map(|v| (k.to_string(), v)))
            .collect();
        let patch: ConfigPatch = serde_json::from_value(Value::Object(mine))
            .map_err(|e| format!("invalid config: {e}"))?;
        let mut next = self.clone();
        if let Some(v) = patch.propagation_delay_ms {
            next.propagation_delay_ms = v;
        }
        if let Some(v) = patch.latency_ms {
            if v > MAX_LATENCY_MS {
                return Err(format!("latency_ms must be within 0..={MAX_LATENCY_MS}"));
            }
            next.latency_ms = v;
        }
        if let Some(v) = patch.clock_offset_secs {
            if v.unsigned_abs() > MAX_CLOCK_OFFSET_SECS.unsigned_abs() {
                return Err(format!(
                    "clock_offset_secs must be within ±{MAX_CLOCK_OFFSET_SECS}"
                ));
            }
            next.clock_offset_secs = v;
        }
        for mut fault in patch.faults.unwrap_or_default() {
            fault.validate()?;
            next.faults.push_back(fault);
        }
        cloud(rest)?;
        *self = next;
        Ok(())
    }

    /// Puts back one use of a fault taken by [`take_fault`](Self::take_fault) that did not apply.
    pub fn requeue(&mut self, mut fault: Fault) {
        match self.faults.iter_mut().find(|f| {
            f.kind == fault.kind && f.value == fault.value && f.path_prefix == fault.path_prefix
        }) {
            Some(f) => f.count += 1,
            None => {
                fault.count = 1;
                self.faults.push_front(fault);
            }
        }
    }

    /// The first queued fault matching this request, with one use consumed.
    pub fn take_fault(&mut self, method: &str, path: &str) -> Option<Fault> {
        let idx = self.faults.iter().position(|f| f.matches(method, path))?;
        let fault = self.faults.get_mut(idx)?;
        fault.count -= 1;
        let taken = fault.clone();
        if fault.count == 0 {
            self.faults.remove(idx);
        }
        Some(taken)
    }

    /// The core's keys of `GET /_sim/config`.
    pub fn to_json(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigPatch {
    propagation_delay_ms: Option<u64>,
    latency_ms: Option<u64>,
    clock_offset_secs: Option<i64>,
    faults: Option<Vec<Fault>>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) enum FaultKind {
    /// 429 with `Retry-After` (OTC: the gateway's `APIG.0308` body).
    #[serde(rename = "429")]
    Throttle,
    /// Any status with a `{"code","message"}` body.
    #[serde(rename = "status")]
    Status,
    /// Waits `ms`, then answers normally.
    #[serde(rename = "slow")]
    Slow,
    /// 200 with an HTML body.
    #[serde(rename = "garbage")]
    Garbage,
    /// Closes the connection without answering.
    #[serde(rename = "reset")]
    Reset,
    /// Handles the request (a write is applied), then closes the connection
    /// without answering: a write whose outcome the client cannot know.
    #[serde(rename = "lost_answer")]
    LostAnswer,
    /// Removes `value` from every public TXT set holding it (as another host's
    /// read-modify-write would), then answers normally.
    #[serde(rename = "drop_value")]
    DropValue,
}

impl FaultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Throttle => "429",
            FaultKind::Status => "status",
            FaultKind::Slow => "slow",
            FaultKind::Garbage => "garbage",
            FaultKind::Reset => "reset",
            FaultKind::LostAnswer => "lost_answer",
            FaultKind::DropValue => "drop_value",
        }
    }
}

/// One queued fault, in the JSON shape `POST /_sim/config` takes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Fault {
    pub kind: FaultKind,
    /// Matching requests it still applies to.
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// `429`: seconds in `Retry-After` (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// `status`: the HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `slow`: the delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ms: Option<u64>,
    /// `status`: body `code` (default `SIM.FAULT`), e.g. `DNS.0014` for flow control.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `status`: body `message`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `drop_value`: the TXT value (unquoted) to remove.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

fn one() -> u32 {
    1
}

impl Fault {
    pub(crate) fn validate(&mut self) -> Result<(), String> {
        if self.count == 0 {
            return Err("fault count must be at least 1".to_string());
        }
        match self.kind {
            FaultKind::Throttle => {
                self.retry_after.get_or_insert(1);
            }
            FaultKind::Status => match self.status {
                Some(s) if (200..=599).contains(&s) => {}
                _ => return Err("a 'status' fault needs \"status\": 200..599".to_string()),
            },
            FaultKind::Slow => match self.ms {
                Some(ms) if ms <= 600_000 => {}
                _ => return Err("a 'slow' fault needs \"ms\": 0..600000".to_string()),
            },
            FaultKind::Garbage | FaultKind::Reset | FaultKind::LostAnswer => {}
            FaultKind::DropValue => {
                if self.value.as_deref().is_none_or(str::is_empty) {
                    return Err("a 'drop_value' fault needs \"value\"".to_string());
                }
            }
        }
        Ok(())
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.path_prefix
            .as_ref()
            .is_none_or(|p| path.starts_with(p.as_str()))
            && self
                .method
                .as_ref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
    }

    /// A 429 with `Retry-After` and `body` (a cloud's own throttling body).
    pub fn throttled(&self, body: &Value) -> Resp {
        let mut r = Resp::json(429, body);
        r.headers.push((
            "Retry-After".to_string(),
            self.retry_after.unwrap_or(1).to_string(),
        ));
        r
    }

    /// The answer a fault gives in place of the real one (in the core's
    /// neutral error format; a cloud may override it, see `Cloud::fault_response`); `None` for
    /// `slow` (answer normally) and `reset` (no answer at all).
    pub fn response(&self) -> Option<Resp> {
        match self.kind {
            FaultKind::Throttle => Some(self.throttled(&json!({
                "code": "SIM.THROTTLED",
                "message": "The request is throttled.",
            }))),
            FaultKind::Status => {
                let status = self.status.unwrap_or(500);
                Some(Resp::json(
                    status,
                    &json!({
                        "code": self.code.as_deref().unwrap_or("SIM.FAULT"),
                        "message": self.message.clone().unwrap_or_else(|| format!("injected fault: HTTP {status}")),
                    }),
                ))
            }
            FaultKind::Garbage => Some(Resp::text(200, "text/html", "<html>oops</html>")),
            FaultKind::Slow | FaultKind::Reset | FaultKind::LostAnswer | FaultKind::DropValue => {
                None
            }
        }
    }
}

/// One non-control HTTP request. Never holds secrets or tokens.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RequestEntry {
    pub t_ms: i64,
    pub method: String,
    pub path: String,
    pub query: String,
    /// `null` when the connection was reset without an answer.
    pub status: Option<u16>,
    /// A request to a remote endpoint (DNS API, token, IAM), not to the
    /// link-local metadata service: what a call budget counts.
    pub remote: bool,
    /// The latency this request was given (`latency_ms` in force; 0 for local ones).
    pub latency_ms: u64,
    /// The AK the request was signed with, or the one the metadata service issued.
    pub access_key: Option<String>,
    /// How the request authenticated (or tried to): `aksk` (SDK-HMAC-SHA256
    /// signature), `token` (IAM token in `X-Auth-Token`), `id_token` (OIDC
    /// exchange), `sa_token` (CCE service account token). Absent for the
    /// metadata service and unknown paths.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<&'static str>,
    /// The temporary access key this request issued (metadata, IAM, CCE).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued: Option<String>,
    /// The error code of an error answer (`DNS.0312`, `APIG.0301`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<&'static str>,
}

/// A change that began to be served by the authoritative DNS.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ServedEntry {
    /// Real time the change became visible, not when someone noticed.
    pub t_ms: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    /// API form (TXT values quoted); empty for a deletion.
    pub records: Vec<String>,
    /// `create`, `update` or `delete`.
    pub change: &'static str,
}

#[derive(Debug, Default)]
pub(crate) struct Log {
    requests: VecDeque<RequestEntry>,
    served: VecDeque<ServedEntry>,
    flight: Flight,
}

/// Requests being served right now (from arrival to the end of their
/// latency) and the most at once since the log was last emptied.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub(crate) struct Flight {
    /// Remote requests (DNS API, token, IAM) in flight now.
    pub api_in_flight: usize,
    /// The most remote requests in flight at once.
    pub api_peak: usize,
    /// Every non-control request (metadata included) in flight now.
    pub all_in_flight: usize,
    /// The most non-control requests in flight at once.
    pub all_peak: usize,
}

impl Log {
    pub fn request(&mut self, entry: RequestEntry) {
        if self.requests.len() == LOG_CAP {
            self.requests.pop_front();
        }
        self.requests.push_back(entry);
    }

    pub fn served(&mut self, entry: ServedEntry) {
        if self.served.len() == LOG_CAP {
            self.served.pop_front();
        }
        self.served.push_back(entry);
    }

    /// A request arrived (before its latency).
    pub fn begin(&mut self, remote: bool) {
        let f = &mut self.flight;
        f.all_in_flight += 1;
        f.all_peak = f.all_peak.max(f.all_in_flight);
        if remote {
            f.api_in_flight += 1;
            f.api_peak = f.api_peak.max(f.api_in_flight);
        }
    }

    /// A request begun with [`begin`](Self::begin) left (after its latency).
    pub fn end(&mut self, remote: bool) {
        let f = &mut self.flight;
        f.all_in_flight = f.all_in_flight.saturating_sub(1);
        if remote {
            f.api_in_flight = f.api_in_flight.saturating_sub(1);
        }
    }

    /// Empties both lists; the peaks start again from what is in flight now.
    pub fn clear(&mut self) {
        self.requests.clear();
        self.served.clear();
        self.flight.api_peak = self.flight.api_in_flight;
        self.flight.all_peak = self.flight.all_in_flight;
    }

    pub fn to_json(&self) -> Value {
        json!({"requests": self.requests, "served": self.served, "concurrency": self.flight})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::new(0)
    }

    /// A cloud with no settings of its own.
    fn no_cloud(rest: Map<String, Value>) -> Result<(), String> {
        match rest.keys().next() {
            None => Ok(()),
            Some(k) => Err(format!("invalid config: unknown field `{k}`")),
        }
    }

    #[test]
    fn core_keys_are_checked_and_the_rest_go_to_the_cloud() {
        let mut c = config();
        let mut seen = Map::new();
        c.apply(
            br#"{"propagation_delay_ms": 9, "clock_offset_secs": -1200, "x": 1}"#,
            |rest| {
                seen = rest;
                Ok(())
            },
        )
        .unwrap();
        assert_eq!((c.propagation_delay_ms, c.clock_offset_secs), (9, -1200));
        assert_eq!(
            Value::Object(seen),
            json!({"x": 1}),
            "only the cloud's keys"
        );
        // The cloud refusing its part leaves the core's unchanged too.
        let refused = c.apply(br#"{"propagation_delay_ms": 1}"#, |_| Err("no".into()));
        assert_eq!(refused, Err("no".to_string()));
        assert_eq!(c.propagation_delay_ms, 9);
    }

    #[test]
    fn faults_are_consumed_in_order_by_matching_requests() {
        let mut c = config();
        c.apply(
            br#"{"faults": [
                {"kind": "429", "count": 2, "path_prefix": "/v2/", "method": "put"},
                {"kind": "status", "status": 503},
                {"kind": "reset", "path_prefix": "/openstack/"}
            ]}"#,
            no_cloud,
        )
        .unwrap();
        assert_eq!(c.faults[0].retry_after, Some(1), "default filled in");
        let kind = |c: &mut Config, m: &str, p: &str| c.take_fault(m, p).map(|f| f.kind);
        assert_eq!(
            kind(&mut c, "GET", "/openstack/latest/securitykey"),
            Some(FaultKind::Status)
        );
        assert_eq!(
            kind(&mut c, "PUT", "/v2/zones/z/recordsets/r"),
            Some(FaultKind::Throttle)
        );
        assert_eq!(kind(&mut c, "GET", "/v2/zones"), None);
        assert_eq!(
            kind(&mut c, "PUT", "/v2/zones/z/recordsets/r"),
            Some(FaultKind::Throttle)
        );
        assert_eq!(kind(&mut c, "PUT", "/v2/zones/z/recordsets/r"), None);
        assert_eq!(
            kind(&mut c, "GET", "/openstack/latest/securitykey"),
            Some(FaultKind::Reset)
        );
        assert!(c.faults.is_empty());
        c.apply(
            br#"{"faults": [{"kind": "lost_answer", "method": "post"}]}"#,
            no_cloud,
        )
        .unwrap();
        assert_eq!(kind(&mut c, "GET", "/x"), None);
        assert_eq!(kind(&mut c, "POST", "/x"), Some(FaultKind::LostAnswer));
        let lost = Fault {
            kind: FaultKind::LostAnswer,
            ..serde_json::from_str(r#"{"kind": "reset"}"#).unwrap()
        };
        assert!(lost.response().is_none(), "no answer leaves");
    }

    #[test]
    fn fault_responses() {
        let mut c = config();
        c.apply(br#"{"faults": [{"kind": "429", "retry_after": 3}, {"kind": "garbage"}, {"kind": "status", "status": 403, "code": "DNS.0014"}]}"#, no_cloud)
            .unwrap();
        let r = c.take_fault("GET", "/").unwrap().response().unwrap();
        assert_eq!(r.status, 429);
        assert!(
            r.headers
                .contains(&("Retry-After".to_string(), "3".to_string()))
        );
        assert!(String::from_utf8_lossy(&r.body).contains("SIM.THROTTLED"));
        let r = c.take_fault("GET", "/").unwrap().response().unwrap();
        assert_eq!((r.status, r.content_type), (200, "text/html"));
        let r = c.take_fault("GET", "/").unwrap().response().unwrap();
        assert_eq!(r.status, 403);
        assert!(String::from_utf8_lossy(&r.body).contains("DNS.0014"));
    }

    #[test]
    fn config_json_round_trips_faults() {
        let mut c = config();
        c.apply(
            br#"{"faults": [{"kind": "slow", "ms": 10, "count": 2}]}"#,
            no_cloud,
        )
        .unwrap();
        let v = Value::Object(c.to_json());
        assert_eq!(
            v["faults"][0],
            json!({"kind": "slow", "ms": 10, "count": 2})
        );
    }

    #[test]
    fn latency_is_a_core_key_within_bounds() {
        let mut c = config();
        c.apply(br#"{"latency_ms": 80}"#, no_cloud).unwrap();
        assert_eq!(c.latency_ms, 80);
        assert_eq!(Value::Object(c.to_json())["latency_ms"], 80);
        let too_long = c.apply(br#"{"latency_ms": 600001}"#, no_cloud);
        assert!(too_long.unwrap_err().contains("latency_ms"));
        assert_eq!(c.latency_ms, 80, "unchanged");
    }

    #[test]
    fn in_flight_requests_and_their_peaks() {
        let mut log = Log::default();
        log.begin(true);
        log.begin(false);
        log.begin(true);
        log.end(true);
        log.begin(true);
        let f = log.flight;
        assert_eq!((f.api_in_flight, f.api_peak), (2, 2));
        assert_eq!((f.all_in_flight, f.all_peak), (3, 3));
        log.end(true);
        log.end(true);
        log.end(false);
        // Emptied: the peaks start again from what is in flight (nothing).
        log.clear();
        assert_eq!(
            log.to_json()["concurrency"],
            json!({"api_in_flight": 0, "api_peak": 0, "all_in_flight": 0, "all_peak": 0})
        );
        log.begin(false);
        log.clear();
        assert_eq!((log.flight.all_peak, log.flight.api_peak), (1, 0));
    }

    #[test]
    fn log_is_capped() {
        let mut log = Log::default();
        for i in 0..LOG_CAP + 5 {
            log.request(RequestEntry {
                t_ms: i as i64,
                method: "GET".into(),
                path: "/".into(),
                query: String::new(),
                status: Some(200),
                remote: true,
                latency_ms: 0,
                access_key: None,
                auth: None,
                issued: None,
                code: None,
                fault: None,
            });
        }
        let v = log.to_json();
        assert_eq!(v["requests"].as_array().unwrap().len(), LOG_CAP);
        assert_eq!(v["requests"][0]["t_ms"], 5);
        log.clear();
        assert_eq!(log.to_json()["requests"], json!([]));
        assert_eq!(log.to_json()["served"], json!([]));
    }
}
