//! OTC's part of sending: each request signed (`SDK-HMAC-SHA256`) with the
//! current credentials, exactly as sent (query string and body bytes); its
//! error answers read by [`super::errors`]. Retries, the clock correction and
//! the one retry after a 401 are the shared [`Client`]'s.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::auth;
use super::credentials::Credentials;
use super::errors::status_error;
use crate::api_error::{ApiError, ApiResult};
pub use crate::client::RetryPolicy;
use crate::client::{Auth, Client, Outgoing};
use crate::clock::Clock;
use crate::http::{Response, Transport, Url};
use crate::report::Report;

/// Re-fetches temporary credentials (metadata, container, agency) after a 401.
pub type Refresh = Box<dyn Fn() -> crate::error::Result<Credentials> + Send + Sync>;

struct OtcAuth {
    creds: Mutex<Credentials>,
    project_id: Option<String>,
    refresh: Mutex<Option<Refresh>>,
    /// Credentials fetched after a 401 so far.
    generation: AtomicU64,
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
            .map(auth::parse_query)
            .unwrap_or_default();
        query.extend_from_slice(r.query);
        let req = auth::Request {
            method: r.method,
            host: &host,
            path: &r.url.path,
            query: &query,
            headers: &headers,
            body: r.body.unwrap_or(b""),
        };
        let date = auth::sdk_date(r.now_ms.div_euclid(1000));
        let creds = crate::sync::lock(&self.creds);
        let signed = auth::sign(&req, &creds.key(), self.project_id.as_deref(), &date);
        let mut target = format!("{}{}", r.url.origin(), r.url.path);
        if !signed.query_string.is_empty() {
            target.push('?');
            target.push_str(&signed.query_string);
        }
        Ok((target, signed.headers))
    }

    fn refresh(&self) -> ApiResult<Option<String>> {
        let refresh = crate::sync::lock(&self.refresh);
        let Some(refresh) = refresh.as_ref() else {
            return Ok(None);
        };
        let fresh = refresh().map_err(|e| ApiError::Credentials(e.to_string()))?;
        let source = fresh.source.to_string();
        *crate::sync::lock(&self.creds) = fresh;
        self.generation.fetch_add(1, Ordering::SeqCst);
        Ok(Some(source))
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
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
            creds: Mutex::new(creds),
            project_id,
            refresh: Mutex::new(None),
            generation: AtomicU64::new(0),
        });
        SignedClient {
            client: Client::new(transport, auth.clone(), clock, report),
            auth,
        }
    }

    /// Temporary credentials can be fetched again once after a 401.
    pub fn with_refresh(self, refresh: Refresh) -> Self {
        *crate::sync::lock(&self.auth.refresh) = Some(refresh);
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
        crate::sync::lock(&self.auth.creds).clone()
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

/// OTC's DNS API goes through the shared client, signed.
impl super::dns::Sender for SignedClient {
    fn send(
        &self,
        method: &str,
        url: &Url,
        query: &[(String, String)],
        body: Option<&[u8]>,
    ) -> ApiResult<Response> {
        self.client.send(method, url, query, body)
    }
}
