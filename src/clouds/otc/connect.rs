//! Connecting to OTC: the credentials from the chain (plus the delegated
//! agency), the signed client that uses them, and the DNS v2 provider.

use std::sync::Arc;

use super::config::OtcConfig;
use super::credentials::iam::{self, Agency};
use super::credentials::{Credentials, Ctx, OtcChain};
use super::dns::OtcDns;
use super::errors::status_error;
use super::signed::{DnsSender, SignedClient};
use crate::api_error::{ApiError, ApiResult};
use crate::client::Net;
use crate::clock::Clock;
use crate::cloud_api::{Connection, DnsApi};
use crate::error::Result;
use crate::http::{Response, Transport, Url};
use crate::report::Report;

/// Everything needed to (re)load credentials, owned so a refresh can run later.
struct Loader {
    credentials: OtcChain,
    agency: Option<Agency>,
    iam: Url,
    api: Arc<dyn Transport>,
    metadata: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    report: Arc<Report>,
}

impl Loader {
    fn load(&self) -> Result<Credentials> {
        let ctx = Ctx {
            metadata_transport: self.metadata.clone(),
            api_transport: self.api.clone(),
            report: self.report.clone(),
        };
        let base = self
            .credentials
            .resolve(&ctx, &|l| self.report.verbose(l))?
            .value;
        self.report.verbose(format!(
            "credentials from {} (access key {}{})",
            base.source,
            base.access_hint(),
            if base.is_temporary() {
                ", temporary"
            } else {
                ""
            }
        ));
        let Some(agency) = &self.agency else {
            return Ok(base);
        };
        let mut c = iam::assume(
            base,
            agency,
            &self.iam,
            self.api.clone(),
            self.clock.clone(),
            self.report.clone(),
        )?;
        c.refreshable = true;
        self.report.verbose(format!(
            "acting as agency {} (access key {}, temporary)",
            agency.name,
            c.access_hint()
        ));
        Ok(c)
    }
}

/// Resolves credentials and builds the signed client.
pub fn signed_client(
    cfg: &OtcConfig,
    net: &Net,
    clock: Arc<dyn Clock>,
    report: &Arc<Report>,
) -> Result<SignedClient> {
    let loader = Loader {
        credentials: cfg.credentials.clone(),
        agency: cfg.agency.clone(),
        iam: cfg.iam.clone(),
        api: net.api_transport(),
        metadata: Net::metadata_transport(),
        clock: clock.clone(),
        report: report.clone(),
    };
    let creds = loader.load()?;
    let project_id = cfg.project_id.clone().or_else(|| creds.project_id.clone());
    let refreshable = creds.refreshable;
    let client = SignedClient::new(loader.api.clone(), creds, project_id, clock, report.clone())
        .with_policy(net.retry);
    // Permanent keys are not fetched again: a second 401 with them only brings the lockout nearer.
    Ok(if refreshable {
        client.with_refresh(Box::new(move || loader.load()))
    } else {
        client
    })
}

pub struct OtcConnection {
    dns: OtcDns<DnsSender>,
    endpoint: Url,
}

pub fn connect(
    cfg: &OtcConfig,
    net: &Net,
    clock: Arc<dyn Clock>,
    report: &Arc<Report>,
) -> Result<OtcConnection> {
    Ok(OtcConnection {
        dns: OtcDns::new(
            DnsSender::new(signed_client(cfg, net, clock, report)?, &cfg.dns_endpoint),
            cfg.dns_endpoint.clone(),
        ),
        endpoint: cfg.dns_endpoint.clone(),
    })
}

impl Connection for OtcConnection {
    fn dns(&self) -> &dyn DnsApi {
        &self.dns
    }

    fn identity(&self) -> String {
        let creds = self.dns.sender().client().credentials();
        format!(
            "{} (access key {}{}{})",
            creds.source,
            creds.access_hint(),
            if creds.is_temporary() {
                ", temporary"
            } else {
                ", permanent"
            },
            creds
                .expires_at
                .as_deref()
                .map(|e| format!(", expires {e}"))
                .unwrap_or_default()
        )
    }

    fn probe_url(&self) -> Url {
        self.endpoint.join("/v2/zones?limit=1")
    }

    fn send(&self, method: &str, url: &Url, body: Option<&[u8]>) -> ApiResult<Response> {
        self.dns.sender().client().send(method, url, &[], body)
    }

    fn error_of(&self, resp: &Response) -> ApiError {
        status_error(resp)
    }

    fn clock_offset(&self) -> i64 {
        self.dns.sender().client().clock_offset()
    }
}
