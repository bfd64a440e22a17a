//! Signed HTTP calls: signs each request with the current credentials and
//! sends exactly what was signed (query string and body bytes).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use crate::clock::Clock;
use crate::credentials::Credentials;
use crate::dns_api::types::ErrorBody;
use crate::dns_api::{ApiError, ApiResult};
use crate::http::{Response, Transport, Url};
use crate::report::Report;
use crate::sign;

/// Re-fetches temporary credentials (metadata, container, agency) after a 401.
pub type Refresh = Box<dyn Fn() -> crate::error::Result<Credentials>>;

/// Skew beyond which a 401 is blamed on our clock (the gateway allows 15 min;
/// anything over 5 is no network delay).
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
            retries: 4,
            base: Duration::from_millis(500),
        }
    }
}

pub struct SignedClient {
    transport: Rc<dyn Transport>,
    creds: RefCell<Credentials>,
    project_id: Option<String>,
    clock: Rc<dyn Clock>,
    /// Seconds added to our clock when signing, learnt from a 401's `Date`.
    offset: Cell<i64>,
    refresh: Option<Refresh>,
    policy: RetryPolicy,
    report: Rc<Report>,
}

fn jitter(d: Duration) -> Duration {
    // Spread retries of many hosts; no need for a real RNG here.
    let nanos = std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|t| t.subsec_nanos())
        .unwrap_or(0);
    d + d.mul_f64(f64::from(nanos % 1000) / 2000.0)
}

/// Methods safe to send again after an unknown outcome. A POST or PUT may have
/// been applied, and a repeated PUT would write back what we read before: the
/// hook re-reads the state instead of repeating them.
fn idempotent(method: &str) -> bool {
    matches!(method, "GET" | "DELETE" | "HEAD")
}

impl SignedClient {
    pub fn new(
        transport: Rc<dyn Transport>,
        creds: Credentials,
        project_id: Option<String>,
        clock: Rc<dyn Clock>,
        report: Rc<Report>,
    ) -> Self {
        SignedClient {
            transport,
            creds: RefCell::new(creds),
            project_id,
            clock,
            offset: Cell::new(0),
            refresh: None,
            policy: RetryPolicy::default(),
            report,
        }
    }

    /// Temporary credentials can be fetched again once after a 401.
    pub fn with_refresh(mut self, refresh: Refresh) -> Self {
        self.refresh = Some(refresh);
        self
    }

    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub fn credentials(&self) -> Credentials {
        self.creds.borrow().clone()
    }

    /// The clock correction in force (seconds), learnt from a 401.
    pub fn clock_offset(&self) -> i64 {
        self.offset.get()
    }

    fn send_once(
        &self,
        method: &str,
        url: &Url,
        query: &[(String, String)],
        body: Option<&[u8]>,
    ) -> ApiResult<Response> {
        let mut headers = Vec::new();
        if body.is_some() {
            headers.push(("Content-Type".to_string(), "application/json".to_string()));
        }
        let host = url.host_header();
        let body = body.unwrap_or(b"");
        let req = sign::Request {
            method,
            host: &host,
            path: &url.path,
            query,
            headers: &headers,
            body,
        };
        let date = sign::sdk_date(self.clock.unix_secs() + self.offset.get());
        let signed = sign::sign(
            &req,
            &self.creds.borrow(),
            self.project_id.as_deref(),
            &date,
        );
        let mut target = format!("{}{}", url.origin(), url.path);
        if !signed.query_string.is_empty() {
            target.push('?');
            target.push_str(&signed.query_string);
        }
        self.transport
            .send(method, &target, &signed.headers, body)
            .map_err(ApiError::Transport)
    }

    /// How far the server's clock (its `Date` header) is ahead of ours, in seconds.
    fn skew(&self, resp: &Response) -> Option<i64> {
        let server = httpdate::parse_http_date(resp.header("Date")?).ok()?;
        Some(crate::clock::unix_secs(server) - self.clock.unix_secs())
    }

    /// The wait a throttling answer asks for, if it is one (429, or 403 DNS.0014).
    fn throttled(resp: &Response) -> Option<Option<Duration>> {
        let flow_control = resp.status == 403 && status_error(resp).code() == Some("DNS.0014");
        if resp.status != 429 && !flow_control {
            return None;
        }
        Some(
            resp.header("Retry-After")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER)),
        )
    }

    /// Signs and sends; any HTTP status is returned as an answer. Throttling,
    /// 5xx and lost connections are retried within the policy; a 401 is retried
    /// once, after correcting the clock or fetching temporary credentials again.
    pub fn send(
        &self,
        method: &str,
        url: &Url,
        extra_query: &[(String, String)],
        body: Option<&[u8]>,
    ) -> ApiResult<Response> {
        let mut query = url
            .query
            .as_deref()
            .map(sign::parse_query)
            .unwrap_or_default();
        query.extend_from_slice(extra_query);
        let mut attempt = 0;
        let mut after_401 = false;
        loop {
            let result = self.send_once(method, url, &query, body);
            let backoff = jitter(self.policy.base * 2u32.pow(attempt.min(5)));
            let retry_in = match &result {
                Ok(resp) if resp.status == 401 && !after_401 => {
                    // Never loop on 401: repeated AK/SK failures lock the key.
                    after_401 = true;
                    if let Some(skew) = self.skew(resp)
                        && (skew - self.offset.get()).abs() > SKEW_LIMIT_SECS
                    {
                        self.offset.set(skew);
                        self.report.warn(format!(
                            "this host's clock is {} s {} the API's; signing with the corrected time (fix the clock: NTP)",
                            skew.abs(),
                            if skew > 0 { "behind" } else { "ahead of" }
                        ));
                        continue;
                    }
                    if let Some(refresh) = &self.refresh {
                        let fresh = refresh().map_err(|e| ApiError::Credentials(e.to_string()))?;
                        self.report.verbose(format!(
                            "HTTP 401: fetched fresh credentials from {}",
                            fresh.source
                        ));
                        *self.creds.borrow_mut() = fresh;
                        continue;
                    }
                    None
                }
                Ok(resp) => match Self::throttled(resp) {
                    Some(wait) => Some(wait.unwrap_or(backoff)),
                    None if matches!(resp.status, 500 | 502 | 503 | 504) && idempotent(method) => {
                        Some(backoff)
                    }
                    None => None,
                },
                // A refused certificate stays refused.
                Err(ApiError::Transport(crate::http::TransportError::Tls(_))) => None,
                Err(_) if idempotent(method) => Some(backoff),
                Err(_) => None,
            };
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
                    self.clock.sleep(wait);
                }
                _ => return result,
            }
        }
    }

    /// Like [`send`](Self::send), but a non-2xx answer becomes an [`ApiError::Status`].
    pub fn call(
        &self,
        method: &str,
        url: &Url,
        extra_query: &[(String, String)],
        body: Option<&[u8]>,
    ) -> ApiResult<Response> {
        let resp = self.send(method, url, extra_query, body)?;
        if (200..300).contains(&resp.status) {
            Ok(resp)
        } else {
            Err(status_error(&resp))
        }
    }
}

/// Reads `code`/`message` (or the gateway's `error_code`/`error_msg`) from an error
/// answer. A body of no known error shape is quoted only when it is not JSON (an HTML
/// page from a proxy, say), escaped and cut short; a JSON body only through the redactor.
pub fn status_error(resp: &Response) -> ApiError {
    error_of(resp, false)
}

/// Like [`status_error`], for endpoints that hand out credentials (metadata, IAM,
/// container identity): only a recognised error shape is quoted, never the body.
pub fn credential_status_error(resp: &Response) -> ApiError {
    error_of(resp, true)
}

fn error_of(resp: &Response, credential_endpoint: bool) -> ApiError {
    let parsed: ErrorBody = serde_json::from_slice(&resp.body).unwrap_or_default();
    let code = parsed
        .code
        .or(parsed.error_code)
        .map(|c| crate::redact::escape_controls(&c));
    let message = match crate::redact::error_excerpt(&resp.body) {
        Some((_, m)) => m,
        None if credential_endpoint
            || serde_json::from_slice::<serde_json::Value>(&resp.body).is_ok() =>
        {
            "no error detail we can show".to_string()
        }
        None => {
            let text: String = String::from_utf8_lossy(&resp.body)
                .chars()
                .take(120)
                .collect();
            if text.trim().is_empty() {
                "no error detail".to_string()
            } else {
                crate::redact::escape_controls(text.trim())
            }
        }
    };
    ApiError::Status {
        status: resp.status,
        code,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_both_shapes() {
        let r = |b: &str| Response {
            status: 400,
            headers: vec![],
            body: b.as_bytes().to_vec(),
        };
        let e = status_error(&r(r#"{"code":"DNS.0312","message":"exists"}"#));
        assert!(e.is_exists());
        let e = status_error(&r(r#"{"error_code":"APIG.0301","error_msg":"bad sig"}"#));
        assert_eq!(e.code(), Some("APIG.0301"));
        assert_eq!(e.to_string(), "HTTP 400 APIG.0301: bad sig");
        let e = status_error(&r("<html>\nproxy\n</html>"));
        assert_eq!(e.code(), None);
        // A credential endpoint's body is never quoted unless it is a known error shape.
        let doc = r#"{"credential":{"access":"A","secret":"LEAK","securitytoken":"TOK"}}"#;
        for e in [status_error(&r(doc)), credential_status_error(&r(doc))] {
            assert!(!e.to_string().contains("LEAK"), "{e}");
        }
        let e = credential_status_error(&r("secret=LEAK"));
        assert!(!e.to_string().contains("LEAK"), "{e}");
        let e = status_error(&r(r#"{"code":"X","message":"a\u001b[2Jb"}"#));
        assert!(!e.to_string().contains('\u{1b}'), "{e}");
    }
}
