//! OTC's part of sending: each request signed (`SDK-HMAC-SHA256`) with the
//! current credentials, exactly as sent (query string and body bytes); its
//! error answers read by [`super::errors`]. Retries, the clock correction and
//! the one retry after a 401 are the shared [`Client`]'s.

use std::sync::Arc;

use super::auth;
use super::credentials::Credentials;
use super::errors::status_error;
use crate::api_error::{ApiError, ApiResult};
pub use crate::client::RetryPolicy;
use crate::client::{Auth, Client, Outgoing};
use crate::cloud_api::Sender;
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
        let creds = self.creds.lock();
        let signed = auth::sign(
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

/// OTC's DNS API through the shared client, signed. Its base is the DNS
/// endpoint's origin: [`OtcDns`](super::dns::OtcDns) sends absolute paths
/// (the endpoint's path in front), as DNS v2's pagination links name them.
/// The query travels in the path; the signer decodes it into pairs
/// ([`auth::parse_query`]) and sends it as signed.
pub struct DnsSender {
    client: SignedClient,
    origin: Url,
}

impl DnsSender {
    pub fn new(client: SignedClient, endpoint: &Url) -> Self {
        DnsSender {
            client,
            origin: Url {
                path: String::new(),
                query: None,
                ..endpoint.clone()
            },
        }
    }

    pub fn client(&self) -> &SignedClient {
        &self.client
    }
}

impl Sender for DnsSender {
    fn send(&self, method: &str, path_and_query: &str, body: Option<&[u8]>) -> ApiResult<Response> {
        self.client
            .send(method, &self.origin.join(path_and_query), &[], body)
    }
}
