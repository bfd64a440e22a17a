//! Loopback simulator of the OTC pieces the hook talks to: the ECS metadata
//! service, the DNS v2 API (with SDK-HMAC-SHA256 checking), IAM's agency and
//! token endpoints, CCE pod identity, and the authoritative DNS of the public
//! zones (UDP and TCP).
//!
//! With [`CloudKind::Ovh`] (`otc-sim serve --cloud ovh`) it simulates
//! OVHcloud instead: the OAuth2 token endpoint, `/1.0/auth/time` and the
//! `/1.0/domain/zone…` calls, with Bearer and classic-signature checks and IAM
//! policies, and zones served only after their refresh (seed: the `ovh` part,
//! see `clouds::ovh`).
//!
//! Start it with [`Sim::start`] (or `otc-sim serve`); everything runs on
//! background threads until [`Sim::shutdown`] or drop.
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
//! [`Seed`] is the starting data, as JSON; every field is optional
//! (`otc-sim print-seed` prints the demo seed):
//!
//! ```json
//! {"credentials": [{"access": "AKSTATIC...", "secret": "SK..."}],
//!  "metadata": {"enabled": true, "token": "optional|required|absent"},
//!  "zones": [{"id": "optional", "name": "example.test.", "zone_type": "public|private",
//!             "records": [{"name": "_acme-challenge.example.test.", "type": "TXT", "ttl": 600,
//!                          "records": ["\"value\""], "description": "optional"}]}],
//!  "nameservers": ["localhost."], "pending_delay_ms": 0, "propagation_delay_ms": 0, "latency_ms": 0,
//!  "page_size": 500, "credential_ttl_secs": 3600, "recordset_quota": 500,
//!  "agencies": [{"name": "dns-agency", "domain_name": "partner",
//!                "domain_id": "d0000000000000000000000000000001",
//!                "trusted_access_keys": ["AKSTATIC..."]}],
//!  "oidc": [{"idp_id": "cce-idp", "id_token": "<exact token string accepted>",
//!            "project_id": "p0000000000000000000000000000001"}],
//!  "pod_identities": [{"token": "<service account token>",
//!                      "project_id": "p0000000000000000000000000000001",
//!                      "cluster_id": "c0000000000000000000000000000001"}],
//!  "iam_aksk_assume_role": true}
//! ```
//!
//! - `agencies`: agencies other accounts (`domain_name`/`domain_id`, one ID per
//!   name) created for us. `trusted_access_keys` lists the keys that may assume
//!   one; `"*"` trusts every key the simulator accepts, temporary ones too.
//! - `oidc`: an identity provider of IAM and the one ID token it accepts,
//!   compared as a string (never parsed as a JWT).
//! - `pod_identities`: service account tokens CCE accepts, and where.
//! - `iam_aksk_assume_role` (default true): whether `securitytokens` with
//!   `assume_role` may be AK/SK-signed.
//!
//! The DNS data belongs to one account: keys of any origin see the same zones.
//!
//! `"ncp"` (for `--cloud ncp`, [`CloudKind::Ncp`]) holds NAVER Cloud's part:
//! `{"static_keys": [{"access", "secret"}], "role": {"id", "name"}, "metadata":
//! "optional|required|absent", "metadata_enabled": true, "credential_ttl_secs": 3600,
//! "domains": [{"id": 120, "name": "example.test", "records": [{"host": "@", "type",
//! "content", "ttl"}]}]}`; see [`ncp::NcpSeed`] and `docs/simulator.md`.
//!
//! # HTTP
//!
//! One port serves everything:
//!
//! - ECS metadata (otc-api.md §3): `PUT /meta-data/latest/api/token`,
//!   `GET /openstack/latest/securitykey`.
//! - DNS v2 API (§2): `/v2/zones...`, every request signed.
//! - IAM (§4, §5), 201 on success:
//!   - `POST /v3.0/OS-CREDENTIAL/securitytokens`
//!     `{"auth":{"identity":{"methods":["assume_role"],"assume_role":{"agency_name",
//!     "domain_name"|"domain_id","duration_seconds"}}}}`, AK/SK-signed →
//!     `{"credential":{"access","secret","securitytoken","expires_at"}}`.
//!     `xrole_name` is accepted for `agency_name`. 403 when
//!     `iam_aksk_assume_role` is off.
//!   - `POST /v3/auth/tokens` `{"auth":{"identity":{"methods":["assume_role"],
//!     "assume_role":{"domain_name"|"domain_id","xrole_name"}},"scope":{"project":{"name"}}}}`
//!     (`agency_name` accepted for `xrole_name`), AK/SK-signed → the agency's
//!     IAM token in `X-Subject-Token`, body `{"token":{"expires_at","issued_at",
//!     "methods":["assume_role"],...}}`.
//!   - `POST /v3.0/OS-AUTH/id-token/tokens`, header `X-Idp-Id`,
//!     `{"auth":{"id_token":{"id":"<jwt>"},"scope":{"project":{"id"}}}}` (scope
//!     optional) → IAM token in `X-Subject-Token`, `methods: ["mapped"]`.
//!   - `POST /v3.0/OS-CREDENTIAL/securitytokens`
//!     `{"auth":{"identity":{"methods":["token"],"token":{"duration_seconds":900}}}}`
//!     with `X-Auth-Token: <IAM token>` (or `token.id` in the body), unsigned →
//!     credentials as above that act as the token's agency or OIDC identity.
//!
//!   `duration_seconds`: 900..=86400, default 900, else 400. IAM tokens live
//!   24 h of simulated time. Errors: Keystone's `{"error":{"code","message","title"}}`
//!   with 400 (malformed), 401 (unknown/expired IAM token, wrong IdP or ID
//!   token, or project scope), 403 (caller's key not trusted by the agency;
//!   AK/SK assume_role switched off), 404 (no such agency in that account);
//!   a bad signature gets the gateway's 401 (`APIG.0301`/`APIG.0303`).
//! - CCE pod identity (§5), 200 `{"credentials":{"accessKeyId","secretAccessKey",
//!   "securityToken","expiration"},"audience":"service.cce.pods"}`, valid
//!   `credential_ttl_secs`:
//!   - `POST /cce/pod-credentials` ([`Sim::pod_credentials_url`], for
//!     `HC_CONTAINER_CREDENTIALS_FULL_URI`), body `{}` or empty, header
//!     `Authorization: <service account token>`.
//!   - `POST /api/v3/projects/{project_id}/clusters/{cluster_id}/assume-agency-for-pod-identity`
//!     `{"token":"<service account token>"}` (no IAM token or signature checked).
//!
//!   Errors `{"error_code","error_msg"}`: 400 malformed, 401 unknown token,
//!   403 token of another project/cluster.
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
//! # OTC behaviour reproduced (otc-api.md)
//!
//! Fuzzy zone/record set name filters, pagination with `links.next`,
//! `PENDING_*` states (none when `pending_delay_ms` is 0) and `DNS.0314` while
//! pending, `DNS.0312` for a duplicate name+type and for CNAME conflicts, quoted TXT values (`DNS.0308`), TTL
//! 300.. (`DNS.0319`), the 500 record set quota (`DNS.0403`), the 15-minute
//! signature window (`APIG.0303`, IAM included), the lockout of an AK after
//! more than 5 consecutive failures (5 minutes of simulated time, IAM
//! included), 429 `APIG.0308` throttling (as a fault), a propagation delay
//! before DNS serves a change, and the two ways from AK/SK to an agency of
//! another account (§4).

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
/// NAVER Cloud's model, for in-process tests of the product's NCP pieces.
pub use clouds::ncp::state as ncp;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clouds::otc::verify;
    use serde_json::{Value, json};
    use simple_dns::rdata::RData;
    use simple_dns::{CLASS, Name, Packet, PacketFlag, Question, RCODE, TYPE};
    use std::io::{Read, Write};
    use std::net::{TcpStream, UdpSocket};
    use std::time::{Duration, Instant};

    /// Status, lower-cased headers, body.
    type Answer = (u16, Vec<(String, String)>, String);

    /// A minimal HTTP/1.1 exchange on a fresh connection.
    /// Returns `None` if the server closed the connection without answering.
    fn http(
        sim: &Sim,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: &str,
    ) -> Option<Answer> {
        let mut s = TcpStream::connect(sim.http_addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut req = format!(
            "{method} {url} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            req.push_str(&format!("Host: {}\r\n", sim.http_addr()));
        }
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        s.write_all(req.as_bytes()).unwrap();
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        if raw.is_empty() {
            return None;
        }
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let mut lines = head.lines();
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Some((status, headers, body.to_string()))
    }

    fn get_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A request signed with this module's own verifier helpers.
    fn signed(sim: &Sim, method: &str, url: &str, body: &str, cred: &Value) -> (u16, Value) {
        let (status, _, body) = signed_answer(sim, method, url, body, cred);
        (status, serde_json::from_str(&body).unwrap())
    }

    /// Like [`signed`], with the headers and the raw body.
    fn signed_answer(sim: &Sim, method: &str, url: &str, body: &str, cred: &Value) -> Answer {
        let headers = verify::sign_json_for_test(
            method,
            url,
            &sim.http_addr().to_string(),
            body,
            (
                cred["access"].as_str().unwrap(),
                cred["secret"].as_str().unwrap(),
                cred["securitytoken"].as_str(),
            ),
            &httpdate_now_sdk(),
        );
        http(sim, method, url, &headers, body).unwrap()
    }

    fn httpdate_now_sdk() -> String {
        let now = clock::Clock::new().now(0);
        clock::format_compact_utc(now.sim_secs())
    }

    fn dns_query(name: &str, qtype: TYPE) -> Vec<u8> {
        let mut q = Packet::new_query(7);
        q.questions.push(Question::new(
            Name::new_unchecked(name),
            qtype.into(),
            CLASS::IN.into(),
            false,
        ));
        q.build_bytes_vec().unwrap()
    }

    fn udp_ask(sim: &Sim, name: &str) -> Vec<u8> {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        sock.send_to(&dns_query(name, TYPE::TXT), sim.dns_addr())
            .unwrap();
        let mut buf = [0u8; 4096];
        let (n, _) = sock.recv_from(&mut buf).unwrap();
        buf[..n].to_vec()
    }

    fn tcp_ask(sim: &Sim, name: &str) -> Vec<u8> {
        let mut s = TcpStream::connect(sim.dns_addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let q = dns_query(name, TYPE::TXT);
        let mut framed = (q.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&q);
        s.write_all(&framed).unwrap();
        let mut len = [0u8; 2];
        s.read_exact(&mut len).unwrap();
        let mut msg = vec![0u8; u16::from_be_bytes(len) as usize];
        s.read_exact(&mut msg).unwrap();
        msg
    }

    fn txt_count(bytes: &[u8]) -> (RCODE, bool, usize) {
        let p = Packet::parse(bytes).unwrap();
        let n = p
            .answers
            .iter()
            .filter(|a| matches!(a.rdata, RData::TXT(_)))
            .count();
        (p.rcode(), p.has_flags(PacketFlag::TRUNCATION), n)
    }

    fn demo_sim() -> Sim {
        let mut seed = Seed::demo();
        seed.pending_delay_ms = 0;
        seed.propagation_delay_ms = 300;
        seed.zones[0].id = Some("zone-public".into());
        Sim::start(SimOptions {
            seed,
            ..SimOptions::default()
        })
        .unwrap()
    }

    #[test]
    fn end_to_end_on_loopback() {
        let sim = demo_sim();
        assert!(sim.base_url().starts_with("http://127.0.0.1:"));
        assert_eq!(
            sim.metadata_url(),
            format!("{}/openstack/latest/securitykey", sim.base_url())
        );

        // Metadata: token, then credentials.
        let ttl = [(
            "X-Metadata-Token-Ttl-Seconds".to_string(),
            "21600".to_string(),
        )];
        let (status, headers, token) =
            http(&sim, "PUT", "/meta-data/latest/api/token", &ttl, "").unwrap();
        assert_eq!(status, 200);
        assert!(get_header(&headers, "date").is_some());
        let tok = [("X-Metadata-Token".to_string(), token)];
        let (status, headers, body) =
            http(&sim, "GET", "/openstack/latest/securitykey", &tok, "").unwrap();
        assert_eq!(status, 200);
        assert_eq!(
            get_header(&headers, "content-type"),
            Some("application/json")
        );
        let cred: Value = serde_json::from_str(&body).unwrap();
        let cred = cred["credential"].clone();

        // Signed API calls with the temporary credential.
        let (status, zones) = signed(&sim, "GET", "/v2/zones?name=example.test.", "", &cred);
        assert_eq!(status, 200, "{zones}");
        assert_eq!(zones["metadata"]["total_count"], 2);
        let create = r#"{"name":"_acme-challenge.example.test.","type":"TXT","ttl":300,"records":["\"keep-me\"","\"new-value\""]}"#;
        let (status, err) = signed(
            &sim,
            "POST",
            "/v2/zones/zone-public/recordsets",
            create,
            &cred,
        );
        assert_eq!((status, err["code"].as_str()), (400, Some("DNS.0312")));
        let (_, list) = signed(
            &sim,
            "GET",
            "/v2/zones/zone-public/recordsets?name=_acme-challenge.example.test.&type=TXT",
            "",
            &cred,
        );
        let id = list["recordsets"][0]["id"].as_str().unwrap().to_string();
        let update = r#"{"name":"_acme-challenge.example.test.","type":"TXT","ttl":600,"records":["\"keep-me\"","\"new-value\""]}"#;
        let (status, rs) = signed(
            &sim,
            "PUT",
            &format!("/v2/zones/zone-public/recordsets/{id}"),
            update,
            &cred,
        );
        // No pending delay in this seed: the change is in force at once.
        assert_eq!(
            (status, rs["status"].as_str()),
            (202, Some("ACTIVE")),
            "{rs}"
        );

        // DNS over UDP: the old value until the change has propagated.
        assert_eq!(
            txt_count(&udp_ask(&sim, "_acme-challenge.example.test.")),
            (RCODE::NoError, false, 1)
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        while txt_count(&udp_ask(&sim, "_acme-challenge.example.test.")).2 != 2 {
            assert!(Instant::now() < deadline, "change never served");
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(
            txt_count(&tcp_ask(&sim, "_acme-challenge.example.test.")),
            (RCODE::NoError, false, 2)
        );
        assert_eq!(
            txt_count(&udp_ask(&sim, "missing.example.test.")).0,
            RCODE::NameError
        );

        // The log has each request, access keys but no secrets, and the served change.
        let secrets = sim.secrets();
        assert!(secrets.contains(&cred["secret"].as_str().unwrap().to_string()));
        let log = sim.log_json();
        let text = log.to_string();
        assert!(!text.contains(cred["secret"].as_str().unwrap()));
        assert!(!text.contains(cred["securitytoken"].as_str().unwrap()));
        let requests = log["requests"].as_array().unwrap();
        assert_eq!(requests.len(), 6);
        assert_eq!(requests[1]["access_key"], cred["access"]);
        assert_eq!(requests[3]["code"], "DNS.0312");
        let served = log["served"].as_array().unwrap();
        assert_eq!(served.len(), 1);
        assert_eq!(
            served[0]["records"],
            json!(["\"keep-me\"", "\"new-value\""])
        );
        let put_t = requests[5]["t_ms"].as_i64().unwrap();
        let served_t = served[0]["t_ms"].as_i64().unwrap();
        assert!(
            (served_t - put_t - 300).abs() < 100,
            "served at accept + delay: {put_t} {served_t}"
        );

        // Control endpoints over HTTP agree with the library calls.
        let (status, _, body) = http(&sim, "GET", "/_sim/state", &[], "").unwrap();
        assert_eq!(status, 200);
        let state: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(state["zones"], sim.state_json()["zones"]);
        let (status, _, _) = http(&sim, "POST", "/_sim/reset-log", &[], "").unwrap();
        assert_eq!(status, 200);
        assert_eq!(sim.log_json()["requests"], json!([]));
        sim.shutdown();
    }

    #[test]
    fn faults_and_clock_offset_over_http() {
        let sim = demo_sim();
        let config = r#"{"faults":[
            {"kind":"reset","path_prefix":"/openstack/"},
            {"kind":"429","retry_after":2,"path_prefix":"/openstack/"},
            {"kind":"garbage","path_prefix":"/openstack/"},
            {"kind":"slow","ms":200,"path_prefix":"/openstack/"}
        ], "clock_offset_secs": 3600}"#;
        let (status, _, body) = http(&sim, "POST", "/_sim/config", &[], config).unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()["faults"]
                .as_array()
                .unwrap()
                .len(),
            4
        );

        let url = "/openstack/latest/securitykey";
        assert!(
            http(&sim, "GET", url, &[], "").is_none(),
            "reset: closed without an answer"
        );
        let (status, headers, body) = http(&sim, "GET", url, &[], "").unwrap();
        assert_eq!(
            (status, get_header(&headers, "retry-after")),
            (429, Some("2"))
        );
        assert!(body.contains("APIG.0308"));
        let (status, _, body) = http(&sim, "GET", url, &[], "").unwrap();
        assert_eq!((status, body.as_str()), (200, "<html>oops</html>"));
        let started = Instant::now();
        let (status, headers, body) = http(&sim, "GET", url, &[], "").unwrap();
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert_eq!(status, 200);

        // The simulated clock runs an hour ahead: Date and expires_at follow it.
        let date = httpdate::parse_http_date(get_header(&headers, "date").unwrap()).unwrap();
        let ahead = date
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default();
        assert!(ahead > Duration::from_secs(3500), "{ahead:?}");
        let cred: Value = serde_json::from_str(&body).unwrap();
        // Signed with the real clock, an hour behind the server: refused.
        let (status, err) = signed(&sim, "GET", "/v2/zones", "", &cred["credential"]);
        assert_eq!(
            (status, err["error_code"].as_str()),
            (401, Some("APIG.0303"))
        );

        let faults: Vec<_> = sim.log_json()["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["fault"].as_str().map(str::to_string),
                    r["status"].as_u64(),
                )
            })
            .collect();
        assert_eq!(faults[0], (Some("reset".to_string()), None));
        assert_eq!(faults[1], (Some("429".to_string()), Some(429)));
        assert_eq!(faults[4], (None, Some(401)));

        let (status, _, body) = http(&sim, "POST", "/_sim/config", &[], r#"{"bogus":1}"#).unwrap();
        assert_eq!(status, 400, "{body}");
        let (status, _, _) = http(&sim, "GET", "/nowhere", &[], "").unwrap();
        assert_eq!(status, 404);
    }

    /// The credential of an IAM `securitytokens` answer, or a CCE one in the same shape.
    fn credential_of(body: &str) -> Value {
        let v: Value = serde_json::from_str(body).unwrap();
        if let Some(c) = v.get("credentials") {
            return json!({"access": c["accessKeyId"], "secret": c["secretAccessKey"],
                          "securitytoken": c["securityToken"]});
        }
        v["credential"].clone()
    }

    fn header_pair(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn every_path_to_temporary_credentials_over_http() {
        let sim = demo_sim();
        let seed = Seed::demo();
        let perm =
            json!({"access": seed.credentials[0].access, "secret": seed.credentials[0].secret});
        let json_type = header_pair("Content-Type", "application/json");
        let mut issued = Vec::new();
        let mut check_dns = |cred: Value| {
            let (status, zones) = signed(&sim, "GET", "/v2/zones?name=example.test.", "", &cred);
            assert_eq!(status, 200, "{zones}");
            issued.push(cred);
        };

        // 1. AK/SK-signed assume_role at securitytokens.
        let assume = json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role":
            {"agency_name": "dns-agency", "domain_name": "partner", "duration_seconds": 900}}}})
        .to_string();
        let (status, _, body) = signed_answer(
            &sim,
            "POST",
            "/v3.0/OS-CREDENTIAL/securitytokens",
            &assume,
            &perm,
        );
        assert_eq!(status, 201, "{body}");
        check_dns(credential_of(&body));

        // Switched off: 403, the client must take the token path.
        let (status, _, _) = http(
            &sim,
            "POST",
            "/_sim/config",
            &[],
            r#"{"iam_aksk_assume_role": false}"#,
        )
        .unwrap();
        assert_eq!(status, 200);
        let (status, _, body) = signed_answer(
            &sim,
            "POST",
            "/v3.0/OS-CREDENTIAL/securitytokens",
            &assume,
            &perm,
        );
        assert_eq!(status, 403, "{body}");

        // 2. AK/SK-signed /v3/auth/tokens, then securitytokens with the IAM token.
        let auth = json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role":
            {"domain_name": "partner", "xrole_name": "dns-agency"}},
            "scope": {"project": {"name": "eu-de"}}}})
        .to_string();
        let (status, headers, body) = signed_answer(&sim, "POST", "/v3/auth/tokens", &auth, &perm);
        assert_eq!(status, 201, "{body}");
        let agency_token = get_header(&headers, "x-subject-token").unwrap().to_string();
        let exchange =
            r#"{"auth":{"identity":{"methods":["token"],"token":{"duration_seconds":900}}}}"#;
        let (status, _, body) = http(
            &sim,
            "POST",
            "/v3.0/OS-CREDENTIAL/securitytokens",
            &[
                header_pair("X-Auth-Token", &agency_token),
                json_type.clone(),
            ],
            exchange,
        )
        .unwrap();
        assert_eq!(status, 201, "{body}");
        check_dns(credential_of(&body));

        // 3. OIDC ID token -> IAM token -> credentials.
        let oidc = &seed.oidc[0];
        let id_body = json!({"auth": {"id_token": {"id": oidc.id_token},
            "scope": {"project": {"id": oidc.project_id}}}})
        .to_string();
        let (status, _, _) = http(
            &sim,
            "POST",
            "/v3.0/OS-AUTH/id-token/tokens",
            &[header_pair("X-Idp-Id", "wrong-idp"), json_type.clone()],
            &id_body,
        )
        .unwrap();
        assert_eq!(status, 401);
        let (status, headers, body) = http(
            &sim,
            "POST",
            "/v3.0/OS-AUTH/id-token/tokens",
            &[header_pair("X-Idp-Id", &oidc.idp_id), json_type.clone()],
            &id_body,
        )
        .unwrap();
        assert_eq!(status, 201, "{body}");
        let oidc_token = get_header(&headers, "x-subject-token").unwrap().to_string();
        let (status, _, body) = http(
            &sim,
            "POST",
            "/v3.0/OS-CREDENTIAL/securitytokens",
            &[header_pair("X-Auth-Token", &oidc_token), json_type.clone()],
            exchange,
        )
        .unwrap();
        assert_eq!(status, 201, "{body}");
        check_dns(credential_of(&body));

        // 4. CCE pod identity, both endpoints.
        let pod = &seed.pod_identities[0];
        let url = sim.pod_credentials_url();
        let path = url.strip_prefix(&sim.base_url()).unwrap();
        assert_eq!(path, "/cce/pod-credentials");
        let (status, _, body) = http(
            &sim,
            "POST",
            path,
            &[header_pair("Authorization", &pod.token), json_type.clone()],
            "{}",
        )
        .unwrap();
        assert_eq!(status, 200, "{body}");
        check_dns(credential_of(&body));
        let (status, _, body) = http(
            &sim,
            "POST",
            &format!(
                "/api/v3/projects/{}/clusters/{}/assume-agency-for-pod-identity",
                pod.project_id, pod.cluster_id
            ),
            std::slice::from_ref(&json_type),
            &json!({"token": pod.token}).to_string(),
        )
        .unwrap();
        assert_eq!(status, 200, "{body}");
        check_dns(credential_of(&body));

        // The state says where each key came from.
        let state = sim.state_json();
        let via = |ak: &Value| {
            state["credentials"]["temporary"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["access"] == *ak)
                .map(|t| t["via"].as_str().unwrap().to_string())
                .unwrap()
        };
        let vias: Vec<String> = issued.iter().map(|c| via(&c["access"])).collect();
        assert_eq!(vias, ["assume_role", "token", "oidc", "cce", "cce"]);
        assert_eq!(state["iam"]["tokens"].as_array().unwrap().len(), 2);

        // The log tells the paths apart.
        let log = sim.log_json();
        let entries: Vec<(String, u64, Option<String>, bool)> = log["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| !r["path"].as_str().unwrap().starts_with("/v2/"))
            .map(|r| {
                (
                    r["path"].as_str().unwrap().to_string(),
                    r["status"].as_u64().unwrap(),
                    r["auth"].as_str().map(str::to_string),
                    r["issued"].is_string(),
                )
            })
            .collect();
        let st = "/v3.0/OS-CREDENTIAL/securitytokens".to_string();
        let a = |s: &str| Some(s.to_string());
        assert_eq!(entries[0], (st.clone(), 201, a("aksk"), true));
        assert_eq!(entries[1], (st.clone(), 403, a("aksk"), false));
        assert_eq!(
            entries[2],
            ("/v3/auth/tokens".into(), 201, a("aksk"), false)
        );
        assert_eq!(entries[3], (st.clone(), 201, a("token"), true));
        assert_eq!(entries[5].2, a("id_token"));
        assert_eq!(entries[6], (st, 201, a("token"), true));
        assert_eq!(entries[7].2, a("sa_token"));
        assert_eq!(log["requests"][0]["access_key"], perm["access"]);
        assert_eq!(log["requests"][0]["issued"], issued[0]["access"]);

        // Every secret and token is known to secrets() and shown nowhere.
        let secrets = sim.secrets();
        let mut must_know: Vec<String> = vec![
            agency_token,
            oidc_token,
            oidc.id_token.clone(),
            pod.token.clone(),
        ];
        for c in &issued {
            must_know.push(c["secret"].as_str().unwrap().to_string());
            must_know.push(c["securitytoken"].as_str().unwrap().to_string());
        }
        let shown = format!("{} {}", sim.log_json(), sim.state_json());
        for s in &must_know {
            assert!(secrets.contains(s), "secrets() lacks one");
            assert!(
                !shown.contains(s.as_str()),
                "a secret is in the log or state"
            );
        }
        let (_, _, body) = http(&sim, "GET", "/_sim/state", &[], "").unwrap();
        assert!(must_know.iter().all(|s| !body.contains(s.as_str())));
    }

    #[test]
    fn skewed_signatures_get_the_simulated_date_and_one_log_entry() {
        let sim = demo_sim();
        let seed = Seed::demo();
        let perm =
            json!({"access": seed.credentials[0].access, "secret": seed.credentials[0].secret});
        let (status, _, _) = http(
            &sim,
            "POST",
            "/_sim/config",
            &[],
            r#"{"clock_offset_secs": -1800}"#,
        )
        .unwrap();
        assert_eq!(status, 200);
        let assume = json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role":
            {"agency_name": "dns-agency", "domain_name": "partner"}}}})
        .to_string();
        for (method, url, body) in [
            ("GET", "/v2/zones", ""),
            (
                "POST",
                "/v3.0/OS-CREDENTIAL/securitytokens",
                assume.as_str(),
            ),
            ("POST", "/v3/auth/tokens", assume.as_str()),
        ] {
            http(&sim, "POST", "/_sim/reset-log", &[], "").unwrap();
            let (status, headers, text) = signed_answer(&sim, method, url, body, &perm);
            let err: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                (status, err["error_code"].as_str()),
                (401, Some("APIG.0303")),
                "{url}"
            );
            let date = httpdate::parse_http_date(get_header(&headers, "date").unwrap()).unwrap();
            let behind = std::time::SystemTime::now()
                .duration_since(date)
                .unwrap_or_default();
            assert!(
                (1790..1810).contains(&behind.as_secs()),
                "Date follows the simulated clock: {behind:?}"
            );
            let log = sim.log_json();
            let requests = log["requests"].as_array().unwrap();
            assert_eq!(requests.len(), 1, "{url}: {requests:?}");
            assert_eq!(requests[0]["status"], 401);
            assert_eq!(requests[0]["code"], "APIG.0303");
            assert_eq!(requests[0]["auth"], "aksk");
            assert_eq!(requests[0]["access_key"], perm["access"]);
        }
    }

    #[test]
    fn big_answers_truncate_over_udp_and_fit_over_tcp() {
        let mut seed = Seed::demo();
        let values: Vec<String> = (0..20)
            .map(|i| format!("\"{i:02}{}\"", "v".repeat(100)))
            .collect();
        seed.zones[0].records.push(SeedRecordSet {
            id: None,
            name: "big.example.test.".into(),
            rtype: "TXT".into(),
            ttl: 300,
            records: values,
            description: None,
        });
        let sim = Sim::start(SimOptions {
            seed,
            ..SimOptions::default()
        })
        .unwrap();
        assert_eq!(
            txt_count(&udp_ask(&sim, "big.example.test.")),
            (RCODE::NoError, true, 0)
        );
        assert_eq!(
            txt_count(&tcp_ask(&sim, "big.example.test.")),
            (RCODE::NoError, false, 20)
        );
    }

    #[test]
    fn shutdown_frees_the_ports() {
        let sim = demo_sim();
        let (http_addr, dns_addr) = (sim.http_addr(), sim.dns_addr());
        drop(sim);
        let seed = Seed::demo();
        let again = Sim::start(SimOptions {
            seed,
            http_addr,
            dns_addr,
            ..SimOptions::default()
        })
        .unwrap();
        assert_eq!((again.http_addr(), again.dns_addr()), (http_addr, dns_addr));
    }

    #[test]
    fn invalid_seed_is_refused() {
        let mut seed = Seed::demo();
        seed.zones[0].records[0].records = vec!["unquoted".into()];
        let err = Sim::start(SimOptions {
            seed,
            ..SimOptions::default()
        })
        .err()
        .unwrap();
        assert!(format!("{err:#}").contains("quotation mark"), "{err:#}");
    }
}
