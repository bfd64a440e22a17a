//! OTC's part of sending: each request signed (`SDK-HMAC-SHA256`) with the
//! current credentials, exactly as sent (query string and body bytes); its
//! error answers read, their codes classified for the flow. Retries, the clock
//! correction and the one retry after a 401 are the shared [`Client`]'s.

use std::sync::Arc;

use super::credentials::Credentials;
use super::sign;
use super::types::ErrorBody;
use crate::api_error::{ApiError, ApiResult, Kind};
pub use crate::client::RetryPolicy;
use crate::client::{Auth, Client, Outgoing};
use crate::clock::Clock;
use crate::http::{Response, Transport, Url};
use crate::report::Report;

/// Re-fetches temporary credentials (metadata, container, agency) after a 401.
pub use crate::credentials::Refresh;
use crate::credentials::Refreshing;

struct OtcAuth {
    creds: Refreshing,
    project_id: Option<String>,
}

impl Auth for OtcAuth {
    fn prepare(&self, r: &Outgoing) -> ApiResult<(String, Vec<(String, String)>)> {
        let mut headers = Vec::new();
        if r.body.is_some() {
            headers.push(("Content-Type".to_string(), "application/json".to_string()));
        }
        let host = r.url.host_header();
        let mut query = r
            .url
            .query
            .as_deref()
            .map(sign::parse_query)
            .unwrap_or_default();
        query.extend_from_slice(r.query);
        let req = sign::Request {
            method: r.method,
            host: &host,
            path: &r.url.path,
            query: &query,
            headers: &headers,
            body: r.body.unwrap_or(b""),
        };
        let date = sign::sdk_date(r.now_ms.div_euclid(1000));
        let creds = self.creds.lock();
        let signed = sign::sign(
            &req,
            &super::credentials::key(&creds),
            self.project_id.as_deref(),
            &date,
        );
        let mut target = format!("{}{}", r.url.origin(), r.url.path);
        if !signed.query_string.is_empty() {
            target.push('?');
            target.push_str(&signed.query_string);
        }
        Ok((target, signed.headers))
    }

    fn refresh(&self) -> ApiResult<Option<String>> {
        self.creds.refresh()
    }

    fn generation(&self) -> u64 {
        self.creds.generation()
    }

    /// OTC also throttles with 403 `DNS.0014` (flow control).
    fn throttled(&self, resp: &Response) -> bool {
        resp.status == 429 || (resp.status == 403 && status_error(resp).code() == Some("DNS.0014"))
    }

    fn error_of(&self, resp: &Response) -> ApiError {
        status_error(resp)
    }
}

/// The shared client, signing for OTC.
pub struct SignedClient {
    client: Client,
    auth: Arc<OtcAuth>,
}

impl SignedClient {
    pub fn new(
        transport: Arc<dyn Transport>,
        creds: Credentials,
        project_id: Option<String>,
        clock: Arc<dyn Clock>,
        report: Arc<Report>,
    ) -> Self {
        let auth = Arc::new(OtcAuth {
            creds: Refreshing::new(creds),
            project_id,
        });
        SignedClient {
            client: Client::new(transport, auth.clone(), clock, report),
            auth,
        }
    }

    /// Temporary credentials can be fetched again once after a 401.
    pub fn with_refresh(self, refresh: Refresh) -> Self {
        self.auth.creds.set_refresh(refresh);
        self
    }

    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.client = self.client.with_policy(policy);
        self
    }

    pub fn clock(&self) -> &dyn Clock {
        self.client.clock()
    }

    pub fn credentials(&self) -> Credentials {
        self.auth.creds.current()
    }

    /// The clock correction in force (seconds), learnt from a 401.
    pub fn clock_offset(&self) -> i64 {
        self.client.clock_offset()
    }

    /// Signs and sends; any HTTP status is returned as an answer (see [`Client::send`]).
    pub fn send(
        &self,
        method: &str,
        url: &Url,
        extra_query: &[(String, String)],
        body: Option<&[u8]>,
    ) -> ApiResult<Response> {
        self.client.send(method, url, extra_query, body)
    }

    /// Like [`send`](Self::send), but a non-2xx answer becomes an [`ApiError`].
    pub fn call(
        &self,
        method: &str,
        url: &Url,
        extra_query: &[(String, String)],
        body: Option<&[u8]>,
    ) -> ApiResult<Response> {
        self.client.call(method, url, extra_query, body)
    }
}

/// Reads `code`/`message` (or the gateway's `error_code`/`error_msg`) from an error
/// answer. A body of no known error shape is quoted only when it is not JSON (an HTML
/// page from a proxy, say), escaped and cut short; a JSON body only through the redactor.
pub fn status_error(resp: &Response) -> ApiError {
    classify(error_of(resp, false))
}

/// Like [`status_error`], for endpoints that hand out credentials (metadata, IAM,
/// container identity): only a recognised error shape is quoted, never the body.
pub fn credential_status_error(resp: &Response) -> ApiError {
    classify(error_of(resp, true))
}

/// OTC's codes in the flow's terms, and the fixes we know.
fn classify(e: ApiError) -> ApiError {
    let e = match e.code() {
        // The set exists already / changed meanwhile.
        Some("DNS.0312") | Some("DNS.0313") => e.with_kind(Kind::Conflict),
        // A `PENDING_*` set can't be changed yet.
        Some("DNS.0314") => e.with_kind(Kind::NotSettled),
        Some("DNS.0014") => e.with_kind(Kind::Throttled),
        _ => e,
    };
    match e.http_status() {
        Some(401) => e.with_hint(
            "the signature was refused: check the access/secret key, and that this host's clock is right (NTP)",
        ),
        Some(403) if e.kind() == Kind::Permission => e.with_hint(
            "permission denied: give the agency (or user) the DNS Administrator role for this project",
        ),
        _ => e,
    }
}

fn error_of(resp: &Response, credential_endpoint: bool) -> ApiError {
    let parsed: ErrorBody = serde_json::from_slice(&resp.body).unwrap_or_default();
    let code = parsed
        .code
        .or(parsed.error_code)
        .map(|c| crate::redact::escape_controls(&crate::redact::scrub_server_text(&c)));
    let message = match crate::redact::error_excerpt(&resp.body) {
        Some((_, m)) => m,
        None if credential_endpoint
            || serde_json::from_slice::<serde_json::Value>(&resp.body).is_ok() =>
        {
            "no error detail we can show".to_string()
        }
        None => {
            // Plain text may echo our request: its credentials are masked before the clip.
            let text: String =
                crate::redact::scrub_server_text(&String::from_utf8_lossy(&resp.body))
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
    ApiError::status(resp.status, code, message)
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
        assert_eq!(e.kind(), Kind::Conflict);
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
