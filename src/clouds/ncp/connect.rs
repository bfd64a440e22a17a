//! Connecting to NCP: the keys from the chain, the shared retrying
//! [`Client`] signing with [`NcpAuth`] (API Gateway signature v2), and the
//! Global DNS provider over it. A 401 the clock does not explain fetches the
//! server role's keys again once, when they came from the role; static keys
//! are never retried (repeated failures only bring a lockout nearer).

use std::sync::Arc;

use super::config::NcpConfig;
use super::dns::NcpDns;
use super::errors;
use super::{Keys, auth, metadata};
use crate::api_error::{ApiError, ApiResult};
use crate::client::{Auth, Client, Net, Outgoing, RetryPolicy};
use crate::clock::Clock;
use crate::encoding::percent_encode_keep_at;
use crate::cloud_api::{BaseSender, Connection, DnsApi};
use crate::error::Result;
use crate::http::{Response, Transport, Url};
use crate::report::Report;

/// Fetches the server role's keys again.
pub use crate::credentials::Refresh;
use crate::credentials::Refreshing;

/// NCP's part of sending: the v2 signature over the request-target exactly
/// as sent, and its error answers read.
pub struct NcpAuth {
    keys: Refreshing,
}

impl NcpAuth {
    pub fn new(keys: Keys) -> NcpAuth {
        NcpAuth {
            keys: Refreshing::new(keys),
        }
    }

    /// Keys from the server role can be fetched again once after a 401.
    pub fn with_refresh(self, refresh: Refresh) -> NcpAuth {
        self.keys.set_refresh(refresh);
        self
    }

    pub fn keys(&self) -> Keys {
        self.keys.current()
    }
}

/// `path?query` as it goes on the request line: the URL's own query, then
/// the client's pairs, percent-encoded once here.
fn request_target(r: &Outgoing) -> String {
    let mut query = r.url.query.clone().unwrap_or_default();
    for (k, v) in r.query {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(&format!(
            "{}={}",
            percent_encode_keep_at(k),
            percent_encode_keep_at(v)
        ));
    }
    if query.is_empty() {
        r.url.path.clone()
    } else {
        format!("{}?{query}", r.url.path)
    }
}

impl Auth for NcpAuth {
    fn prepare(&self, r: &Outgoing) -> ApiResult<(String, Vec<(String, String)>)> {
        let target = request_target(r);
        let mut headers = auth::headers(&self.keys.lock(), r.method, &target, r.now_ms);
        if r.body.is_some() {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        headers.push(("Accept".into(), "application/json".into()));
        Ok((format!("{}{target}", r.url.origin()), headers))
    }

    fn refresh(&self) -> ApiResult<Option<String>> {
        self.keys.refresh()
    }

    /// `401`/`210` is a permission the identity lacks: no fresh keys, no retry.
    fn credentials_refused(&self, resp: &Response) -> bool {
        !errors::permission_denied(resp.status, &resp.body)
    }

    /// `429` Throttle/Rate Limited are waited out; Quota Exceeded is not.
    fn throttled(&self, resp: &Response) -> bool {
        resp.status == 429 && !errors::quota_exceeded(resp.status, &resp.body)
    }

    fn generation(&self) -> u64 {
        self.keys.generation()
    }

    fn error_of(&self, resp: &Response) -> ApiError {
        errors::api_error(resp.status, &resp.body)
    }
}

/// NCP, connected.
pub struct NcpConnection {
    dns: NcpDns<'static>,
    /// The shared client and the DNS base (`…/dns/v1`).
    sender: Arc<BaseSender>,
    auth: Arc<NcpAuth>,
}

/// What [`connect_with`] takes besides the configuration (injected in tests).
pub struct Wiring {
    pub api: Arc<dyn Transport>,
    pub metadata: Arc<dyn Transport>,
    pub clock: Arc<dyn Clock>,
    pub report: Arc<Report>,
    pub retry: RetryPolicy,
}

/// Resolves the keys (the server role through the metadata transport:
/// short timeouts, never a proxy) and builds the client and provider.
pub fn connect(
    cfg: &NcpConfig,
    net: &Net,
    clock: Arc<dyn Clock>,
    report: &Arc<Report>,
) -> Result<NcpConnection> {
    connect_with(
        cfg,
        Wiring {
            api: net.api_transport(),
            metadata: Net::metadata_transport(),
            clock,
            report: report.clone(),
            retry: net.retry,
        },
    )
}

pub fn connect_with(cfg: &NcpConfig, w: Wiring) -> Result<NcpConnection> {
    let s = &cfg.settings;
    let metadata_url = s.metadata_url.clone();
    let md = w.metadata.clone();
    let role = move || metadata::fetch(md.as_ref(), &metadata_url);
    let keys = s
        .credentials
        .resolve(&role, &|l| w.report.verbose(l))?
        .value;
    w.report.verbose(format!(
        "credentials from {} (access key {}{})",
        keys.source,
        keys.access_hint(),
        if keys.refreshable { ", temporary" } else { "" }
    ));
    let refresh: Option<Refresh> = keys.refreshable.then(|| {
        let report = w.report.clone();
        Box::new(move || {
            let k = role()?;
            report.verbose(format!("server role: fresh access key {}", k.access_hint()));
            Ok(k)
        }) as Refresh
    });
    Ok(over_keys(keys, refresh, s.dns_base.clone(), w))
}

/// The connection over keys already had; `refresh` fetches them again after a 401.
pub fn over_keys(keys: Keys, refresh: Option<Refresh>, dns_base: Url, w: Wiring) -> NcpConnection {
    let mut auth = NcpAuth::new(keys);
    if let Some(r) = refresh {
        auth = auth.with_refresh(r);
    }
    let auth = Arc::new(auth);
    let sender = Arc::new(BaseSender {
        client: Client::new(w.api, auth.clone(), w.clock, w.report).with_policy(w.retry),
        base: dns_base,
    });
    NcpConnection {
        dns: NcpDns::new(sender.clone()),
        sender,
        auth,
    }
}

impl Connection for NcpConnection {
    fn dns(&self) -> &dyn DnsApi {
        &self.dns
    }

    fn identity(&self) -> String {
        let k = self.auth.keys();
        format!(
            "{} (access key {}{}{})",
            k.source,
            k.access_hint(),
            if k.refreshable {
                ", temporary"
            } else {
                ", permanent"
            },
            k.expires_at
                .as_deref()
                .map(|e| format!(", expires {e}"))
                .unwrap_or_default()
        )
    }

    /// The domain listing, one item: cheap, signed, and needs the DNS permission.
    fn probe_url(&self) -> Url {
        self.sender.base.join("/ncpdns/domain?page=0&size=1")
    }

    fn send(&self, method: &str, url: &Url, body: Option<&[u8]>) -> ApiResult<Response> {
        self.sender.client.send(method, url, &[], body)
    }

    fn error_of(&self, resp: &Response) -> ApiError {
        errors::api_error(resp.status, &resp.body)
    }

    fn clock_offset(&self) -> i64 {
        self.sender.client.clock_offset()
    }
}

#[cfg(test)]
mod tests;
