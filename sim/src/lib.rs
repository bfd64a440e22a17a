//! Loopback simulator of the clouds the hook talks to, one at a time:
//! Open Telekom Cloud (the default: ECS metadata, DNS v2 API with
//! SDK-HMAC-SHA256, IAM's agency and token endpoints, CCE pod identity),
//! OVHcloud ([`CloudKind::Ovh`]: OAuth2 tokens, `/1.0/domain/zone…`, classic
//! signatures, zones served after their refresh) and NAVER Cloud
//! ([`CloudKind::Ncp`]: instance metadata, Global DNS behind the API
//! Gateway signature); and the authoritative DNS of the zones (UDP and TCP).
//!
//! Start it with [`Sim::start`] (or `otc-sim serve --cloud …`); everything
//! runs on background threads until [`Sim::shutdown`] or drop.
//!
//! Each cloud's wire reference (paths, seed fields, behaviour reproduced)
//! is its module's documentation: `clouds/otc/mod.rs`, `clouds/ovh/mod.rs`,
//! `clouds/ncp/mod.rs`; `docs/simulator.md` is the operator's guide.
//!
//! # Layout
//!
//! `core` names no cloud: HTTP types, server and router (control endpoints,
//! faults, request log), clock, the core part of the seed, and the
//! authoritative DNS (`core::served::ServedZones`, what is served from when,
//! and the UDP/TCP server). Each simulated cloud is one folder under
//! `clouds` implementing `core::cloud::Cloud`, registered in
//! [`CloudKind`] and `clouds::build`. `docs/simulator.md` has the
//! checklist for adding one; `scripts/cycles.sh` checks the imports.
//!
//! # Seed
//!
//! [`Seed`] is the starting data, as JSON; every field is optional and
//! unknown ones are refused (`otc-sim print-seed` prints the demo seed). The
//! core's fields: `zones`, `nameservers`, `propagation_delay_ms`,
//! `latency_ms`; OTC's sit flat beside them, OVH's under `"ovh"`
//! ([`OvhSeed`]), NAVER Cloud's under `"ncp"` ([`ncp::NcpSeed`]).
//!
//! # Control endpoints (every cloud)
//!
//! One port serves everything: the cloud's endpoints and these.
//!
//! - Control endpoints (unsigned, never logged, never hit by faults):
//!   - `GET /_sim/state`: zones and record sets as the API sees them (`zones`),
//!     what DNS serves now (`dns`), `credentials` (`permanent` access keys;
//!     `temporary`: `{"access","expires_at","expired","via"}` with `via` one of
//!     `metadata`, `assume_role` (AK/SK securitytokens), `token` (securitytokens
//!     with an IAM token from `/v3/auth/tokens`), `oidc` (… from the OIDC
//!     exchange), `cce`, plus `agency`/`domain_id`, `idp_id`/`project_id` or
//!     `project_id`/`cluster_id`; `locked`), `iam` (`agencies`, `oidc` and
//!     `pod_identities` without their tokens, `tokens`: issued IAM tokens as
//!     `{"origin","expires_at","expired",...}` without the token), `config`.
//!     No secret or token ever appears.
//!   - `GET /_sim/log`: `{"requests":[{"t_ms","method","path","query","status",
//!     "remote","latency_ms","access_key","auth"?,"issued"?,"code"?,"fault"?}],
//!     "served":[{"t_ms","name","type","records","change"}], "concurrency":
//!     {"api_in_flight","api_peak","all_in_flight","all_peak"}}`. `remote`: a
//!     request to the DNS API, a token or IAM endpoint (false for the
//!     link-local metadata service); `latency_ms`: the latency it was given.
//!     `api_peak`: the most remote requests in flight at once since the log
//!     was emptied (`all_peak`: metadata included). `access_key`: the key a request was signed
//!     with (metadata: the key it issued). `auth`: how the request
//!     authenticated or tried to — `aksk`, `token` (`X-Auth-Token`), `id_token`
//!     (OIDC), `sa_token` (CCE); absent for metadata. `issued`: the temporary
//!     key the request handed out. `served` says when each change began to be
//!     served by DNS (`t_ms` = when it became effective; records in API form,
//!     empty for a delete). Each request is logged once, whatever its outcome.
//!   - `GET|POST /_sim/config`: read, or merge any of `pending_delay_ms`,
//!     `propagation_delay_ms`, `latency_ms` (added to every remote request,
//!     half before and half after handling it, the world unlocked meanwhile;
//!     0..=600000), `clock_offset_secs`, `metadata_down`,
//!     `metadata_enabled`, `metadata_token`, `page_size`, `credential_ttl_secs`,
//!     `ak_lockout`, `iam_aksk_assume_role`, and `faults` (appended to the
//!     queue), e.g. `{"kind":"429","retry_after":1}`,
//!     `{"kind":"status","status":503,"code":"DNS.0014"}`, `{"kind":"slow","ms":3000}`,
//!     `{"kind":"garbage"}`, `{"kind":"reset"}`, each with optional `count`
//!     (default 1), `path_prefix` and `method`. Unknown keys are refused with 400.
//!   - `POST /_sim/reset-log`: empty the log.
//!
//! Every answer carries a `Date` header from the simulated clock
//! (`clock_offset_secs`), errors included.
//!

mod clouds;
mod core;
pub mod demo;
mod seed;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

pub use seed::{
    OvhSeed, Seed, SeedAgency, SeedCredential, SeedMetadata, SeedOidc, SeedPodIdentity,
    SeedRecordSet, SeedZone, TokenMode, ZoneType,
};

use crate::core::clock;
use crate::core::dns::{self, DnsServer};
use crate::core::http;
use crate::core::server::HttpServer;
use crate::core::world::{Core, Shared, World};
pub use clouds::CloudKind;
/// NAVER Cloud's model, for in-process tests of the product's NCP pieces:
/// [`ncp::NcpState::handle`] answers one [`ncp::Request`] at a simulated time.
pub mod ncp {
    pub use crate::clouds::ncp::api::{Answer, DNS_PREFIX, MAX_PAGE_SIZE, Request};
    pub use crate::clouds::ncp::auth::{
        CREDENTIALS_PATH, TOKEN_PATH, WINDOW_MS, expected_signature,
    };
    pub use crate::clouds::ncp::seed::{
        MetadataMode, NcpSeed, NcpSeedDomain, NcpSeedKey, NcpSeedRecord, NcpSeedRole,
    };
    pub use crate::clouds::ncp::state::{Applied, NcpState, Record};
}
use clouds::otc::{cce, metadata};

/// How to start a [`Sim`].
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Starting data. Defaults to [`Seed::default`] (no zones, no keys).
    pub seed: Seed,
    /// Where the HTTP server listens. Defaults to `127.0.0.1:0` (any free port).
    pub http_addr: SocketAddr,
    /// Where the DNS server listens, UDP and TCP on one port. Defaults to `127.0.0.1:0`.
    pub dns_addr: SocketAddr,
    /// Which cloud to simulate. Defaults to OTC.
    pub cloud: CloudKind,
}

impl Default for SimOptions {
    fn default() -> SimOptions {
        let any_port = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        SimOptions {
            seed: Seed::default(),
            http_addr: any_port,
            dns_addr: any_port,
            cloud: CloudKind::default(),
        }
    }
}

/// A running simulator. Dropping it stops all threads and frees the ports.
pub struct Sim {
    // Each server stops and joins its threads when dropped.
    http: Option<HttpServer>,
    dns: Option<DnsServer>,
    shared: Arc<Shared>,
}

impl Sim {
    /// Validates the seed, binds the ports, starts the servers, and returns
    /// once both accept connections.
    pub fn start(opts: SimOptions) -> anyhow::Result<Sim> {
        let clock = clock::Clock::new();
        opts.seed.validate()?;
        let cloud = clouds::build(opts.cloud, &opts.seed, &clock.now(0))?;
        let listener = HttpServer::bind(opts.http_addr)?;
        let (udp, tcp) = dns::bind(opts.dns_addr)?;
        let base_url = format!("http://{}", http::connectable(listener.local_addr()?));
        let core = Core {
            config: crate::core::control::Config {
                latency_ms: opts.seed.latency_ms,
                ..crate::core::control::Config::new(opts.seed.propagation_delay_ms)
            },
            log: Default::default(),
            nameservers: opts.seed.normalized_nameservers(),
            base_url,
        };
        let shared = Arc::new(Shared::new(World::new(core, cloud), clock));
        // Listeners are bound already, so clients can connect as soon as we return.
        let http = HttpServer::start(listener, shared.clone())?;
        let dns = DnsServer::start(udp, tcp, shared.clone())?;
        Ok(Sim {
            shared,
            http: Some(http),
            dns: Some(dns),
        })
    }

    /// Address of the HTTP server (metadata, DNS API, control).
    pub fn http_addr(&self) -> SocketAddr {
        self.http.as_ref().map_or(unbound(), HttpServer::addr)
    }

    /// Address of the authoritative DNS; the same port serves UDP and TCP.
    pub fn dns_addr(&self) -> SocketAddr {
        self.dns.as_ref().map_or(unbound(), DnsServer::addr)
    }

    /// `http://127.0.0.1:PORT` (an unspecified bind address becomes loopback).
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The metadata credential endpoint, `base_url() + "/openstack/latest/securitykey"`.
    pub fn metadata_url(&self) -> String {
        format!("{}{}", self.base_url(), metadata::SECURITYKEY_PATH)
    }

    /// Same document as `GET /_sim/state`.
    pub fn state_json(&self) -> serde_json::Value {
        let (mut world, now) = self.shared.lock();
        world.state_json(&now)
    }

    /// Same document as `GET /_sim/log`.
    pub fn log_json(&self) -> serde_json::Value {
        let (world, _) = self.shared.lock();
        world.core.log.to_json()
    }

    /// The CCE pod identity container endpoint, `base_url() + "/cce/pod-credentials"`
    /// (what `HC_CONTAINER_CREDENTIALS_FULL_URI` points at).
    pub fn pod_credentials_url(&self) -> String {
        format!("{}{}", self.base_url(), cce::CONTAINER_PATH)
    }

    /// Every secret the simulator knows or handed out: seed secret keys,
    /// seeded OIDC ID tokens and service account tokens, issued secret keys
    /// and security tokens (any origin), metadata session tokens, IAM tokens.
    /// For tests that check no output leaks one.
    pub fn secrets(&self) -> Vec<String> {
        let (world, _) = self.shared.lock();
        world.secrets()
    }

    /// Stops all threads and frees the ports (dropping does the same).
    pub fn shutdown(self) {}
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.http.take();
        self.dns.take();
    }
}

fn unbound() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))
}

/// For the simulator's own end-to-end tests (`sim/tests/`): its OTC signer,
/// written apart from the product's, and the `X-Sdk-Date` of now. Not for
/// the product's tests, which sign with the product.
#[doc(hidden)]
pub mod testing {
    use crate::core::clock;

    /// Headers that make a request validly signed (SDK-HMAC-SHA256): `url`
    /// with its query, `Host`, a JSON body when not empty; `key` is
    /// (access, secret, security token).
    pub fn sign_json(
        method: &str,
        url: &str,
        host: &str,
        body: &str,
        key: (&str, &str, Option<&str>),
        sdk_date: &str,
    ) -> Vec<(String, String)> {
        crate::clouds::otc::auth::sign_json_for_test(method, url, host, body, key, sdk_date)
    }

    /// `X-Sdk-Date` (`YYYYMMDDTHHMMSSZ`) of the real clock.
    pub fn sdk_date_now() -> String {
        clock::format_compact_utc(clock::Clock::new().now(0).sim_secs())
    }
}
