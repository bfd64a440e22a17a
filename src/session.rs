//! Builds what a run talks through: the transports (metadata: never a proxy;
//! cloud APIs: proxy and trust as configured), the credentials from the chain
//! (plus the delegated agency), and the signed client that uses them.

use std::rc::Rc;
use std::time::Duration;

use crate::certbot::Flow;
use crate::cli::World;
use crate::clock::Clock;
use crate::error::Result;
use crate::hook::Hook;
use crate::http::{ProxyConfig, Timeouts, Transport, UreqTransport, Url};
use crate::local::Local;
use crate::options::Options;
use crate::propagation::Checker;
use crate::propagation::net::DnsQuery;
use crate::provider::Provider;
use crate::providers::otc::credentials::iam::{self, Agency};
use crate::providers::otc::credentials::{self, Credentials, Kind, Source};
use crate::providers::otc::dns::OtcDns;
use crate::providers::otc::signed::SignedClient;
use crate::report::Report;

/// The transport for cloud APIs.
pub fn api_transport(opts: &Options) -> Rc<dyn Transport> {
    Rc::new(UreqTransport::with(
        Timeouts {
            connect: opts.http_timeout.min(Duration::from_secs(5)),
            whole: opts.http_timeout,
        },
        opts.proxy.clone(),
        opts.trust.clone(),
    ))
}

/// The metadata transport: short timeouts, never a proxy.
pub fn metadata_transport() -> Rc<dyn Transport> {
    Rc::new(UreqTransport::with(
        Timeouts {
            connect: Duration::from_secs(1),
            whole: Duration::from_secs(3),
        },
        ProxyConfig::default(),
        Default::default(),
    ))
}

/// Everything needed to (re)load credentials, owned so a refresh can run later.
struct Loader {
    chain: Vec<Source>,
    only: Option<Kind>,
    agency: Option<Agency>,
    iam: Url,
    api: Rc<dyn Transport>,
    metadata: Rc<dyn Transport>,
    clock: Rc<dyn Clock>,
    report: Rc<Report>,
}

impl Loader {
    fn load(&self) -> Result<Credentials> {
        let ctx = credentials::Ctx {
            metadata_transport: self.metadata.as_ref(),
            api_transport: self.api.as_ref(),
            report: &self.report,
        };
        let base = credentials::resolve(&self.chain, self.only, &ctx)?;
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
pub fn signed_client(opts: &Options, world: &World, report: &Rc<Report>) -> Result<SignedClient> {
    let loader = Loader {
        chain: opts.chain.clone(),
        only: opts.only,
        agency: opts.agency.clone(),
        iam: opts.iam.clone(),
        api: api_transport(opts),
        metadata: metadata_transport(),
        clock: world.clock.clone(),
        report: report.clone(),
    };
    let creds = loader.load()?;
    let project_id = opts.project_id.clone().or_else(|| creds.project_id.clone());
    let refreshable = creds.refreshable;
    let client = SignedClient::new(
        loader.api.clone(),
        creds,
        project_id,
        world.clock.clone(),
        report.clone(),
    )
    .with_policy(opts.retry);
    // Permanent keys are not fetched again: a second 401 with them only brings the lockout nearer.
    Ok(if refreshable {
        client.with_refresh(Box::new(move || loader.load()))
    } else {
        client
    })
}

pub fn connect(opts: &Options, world: &World, report: &Rc<Report>) -> Result<OtcDns> {
    Ok(OtcDns::new(
        signed_client(opts, world, report)?,
        opts.dns_endpoint.clone(),
    ))
}

/// The hook flow over `api` and `query`, configured from `opts`: one wiring for the
/// hook commands and `check`.
pub fn flow<'a>(
    opts: &Options,
    world: &'a World,
    report: &'a Report,
    api: &'a dyn Provider,
    query: &'a dyn DnsQuery,
    local: Option<&'a Local>,
) -> Flow<'a> {
    Flow {
        hook: Hook {
            api,
            clock: world.clock.as_ref(),
            report,
            settings: opts.hook.clone(),
            local,
            last_write: std::cell::Cell::new(None),
            run: Default::default(),
            dirty: Default::default(),
        },
        checker: Checker {
            dns: query,
            clock: world.clock.as_ref(),
            report,
            settings: opts.propagation.clone(),
            resolv_conf: world.resolv_conf(),
        },
        mode: opts.mode,
        readds: Default::default(),
    }
}
