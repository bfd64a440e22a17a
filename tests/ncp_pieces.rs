//! The NCP pieces of the product against the simulator's NCP module, in
//! process (no sockets, no binary): the product's signer checked by the
//! simulator's own verifier, the server role fetched from its metadata, a
//! DNS-01 write, apply and removal through the provider seam and the shared
//! client, with the simulator's clock.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use otc_acme_hook::api_error::Kind;
use otc_acme_hook::client::RetryPolicy;
use otc_acme_hook::clock::Clock;
use otc_acme_hook::http::{Response, Transport, TransportError, Url};
use otc_acme_hook::provider::TxtAt;
use otc_acme_hook::provider::{CloudInput, Connection};
use otc_acme_hook::providers::ncp::connect::{NcpConnection, Wiring, connect_with, over_keys};
use otc_acme_hook::providers::ncp::credentials::RealFiles;
use otc_acme_hook::providers::ncp::{Keys, metadata, resolve_metadata_url, setup};
use otc_acme_hook::report::{Level, Report};
use otc_sim::ncp::{MetadataMode, NcpSeed, NcpState, Request};

const T0: i64 = 1_800_000_000_000;

/// The simulator's NCP module behind the product's transport trait.
struct InProcess {
    state: Mutex<NcpState>,
    now_ms: AtomicI64,
    seen: Mutex<Vec<String>>,
}

impl InProcess {
    fn new(mode: MetadataMode) -> InProcess {
        let mut seed = NcpSeed::demo();
        seed.metadata = mode;
        seed.credential_ttl_secs = 600;
        InProcess {
            state: Mutex::new(NcpState::from_seed(&seed).unwrap()),
            now_ms: AtomicI64::new(T0),
            seen: Mutex::default(),
        }
    }
}

impl Transport for InProcess {
    fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<Response, TransportError> {
        let u = Url::parse(url).map_err(TransportError::Other)?;
        self.seen.lock().unwrap().push(format!(
            "{method} {}{}",
            u.path,
            u.query
                .as_deref()
                .map(|q| format!("?{q}"))
                .unwrap_or_default()
        ));
        let req = Request {
            method,
            path: &u.path,
            query: u.query.as_deref().unwrap_or(""),
            headers,
            body,
        };
        let a = self
            .state
            .lock()
            .unwrap()
            .handle(&req, self.now_ms.load(Ordering::SeqCst));
        let a = a.ok_or_else(|| TransportError::Refused(format!("nothing at {url}")))?;
        Ok(Response {
            status: a.status,
            headers: a.headers,
            body: a.body,
        })
    }
}

/// The simulator's clock, `behind_ms` slow.
struct SimClock {
    sim: Arc<InProcess>,
    behind_ms: i64,
}

impl Clock for SimClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH
            + Duration::from_millis(
                (self.sim.now_ms.load(Ordering::SeqCst) - self.behind_ms) as u64,
            )
    }
    fn elapsed(&self) -> Duration {
        Duration::ZERO
    }
    fn sleep(&self, _: Duration) {}
}

fn wiring(sim: &Arc<InProcess>, behind_ms: i64) -> Wiring {
    Wiring {
        api: sim.clone(),
        metadata: sim.clone(),
        files: Arc::new(RealFiles),
        clock: Arc::new(SimClock {
            sim: sim.clone(),
            behind_ms,
        }),
        report: Arc::new(Report::new(Level::Quiet, Box::new(std::io::sink()))),
        retry: RetryPolicy {
            retries: 0,
            base: Duration::ZERO,
        },
    }
}

const BASE: &str = "http://127.0.0.1:1/dns/v1";
const MD: &str = "http://127.0.0.1:1/latest/meta-data/iam/security-credentials";

/// A connection with these keys (none fetched again).
fn conn(sim: &Arc<InProcess>, keys: Keys, behind_ms: i64) -> NcpConnection {
    over_keys(
        keys,
        None,
        Url::parse(BASE).unwrap(),
        wiring(sim, behind_ms),
    )
}

/// A connection as a run makes it: nothing configured but the endpoints.
fn configured(sim: &Arc<InProcess>) -> NcpConnection {
    let cfg = setup::configure(&CloudInput {
        cloud: "ncp".into(),
        dns_endpoint: Some(BASE.into()),
        metadata_url: Some(MD.into()),
        // OTC's names are not NCP's: they are not read.
        env: [("OS_ACCESS_KEY", "otc"), ("OS_SECRET_KEY", "otc")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..CloudInput::default()
    })
    .unwrap();
    connect_with(&cfg, wiring(sim, 0)).unwrap()
}

fn role_keys(sim: &InProcess) -> Keys {
    let url = resolve_metadata_url(Some(MD)).unwrap();
    metadata::fetch(sim, &url).unwrap()
}

#[test]
fn server_role_on_a_v2_required_server_then_add_apply_remove_apply() {
    let sim = Arc::new(InProcess::new(MetadataMode::Required));
    let keys = role_keys(&sim);
    assert_eq!(keys.source, "server role");
    assert!(sim.seen.lock().unwrap()[0].starts_with("PUT /latest/api/token"));
    let c = conn(&sim, keys, 0);
    let d = c.dns();

    let name = "_acme-challenge.www.sub.example.test.".to_string();
    let zones = d.zones_holding(&name).unwrap();
    let names: Vec<&str> = zones.iter().map(|z| z.name.as_str()).collect();
    assert_eq!(names, ["sub.example.test.", "example.test."]);
    let zone = &zones[0];

    let before = d.reread(zone, &TxtAt::absent(&name)).unwrap();
    assert!(!before.exists());
    let after = d.write(zone, &before, &["token-1".into()], 300).unwrap();
    assert_eq!(after.records, ["\"token-1\""]);
    assert!(
        sim.state
            .lock()
            .unwrap()
            .published("sub.example.test")
            .unwrap()
            .is_empty(),
        "nothing served before apply"
    );
    d.commit(zone).unwrap();
    let applied = sim.state.lock().unwrap().take_applies();
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0].records[0].host, "_acme-challenge.www");
    assert_eq!(applied[0].records[0].content, "\"token-1\"");

    // A re-run reads before it adds: no duplicate is sent.
    let again = d.reread(zone, &after).unwrap();
    assert!(
        d.write(zone, &again, &["\"token-1\"".into()], 300)
            .unwrap()
            .exists()
    );

    let gone = d.write(zone, &again, &[], 300).unwrap();
    assert!(!gone.exists());
    d.commit(zone).unwrap();
    assert!(
        sim.state
            .lock()
            .unwrap()
            .published("sub.example.test")
            .unwrap()
            .is_empty()
    );
    assert!(
        sim.state.lock().unwrap().rollbacks().is_empty(),
        "never a rollback"
    );
    let posts = sim
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.starts_with("POST"))
        .count();
    assert_eq!(posts, 1);
}

#[test]
fn connect_takes_the_server_role_when_nothing_else_is_configured() {
    let sim = Arc::new(InProcess::new(MetadataMode::Required));
    let c = configured(&sim);
    assert!(
        c.identity()
            .starts_with("server role (access key ncp_…, temporary, expires "),
        "{}",
        c.identity()
    );
    assert!(c.dns().zone_named("example.test.").unwrap().is_some());
}

#[test]
fn a_clock_off_by_ten_minutes_is_refused_once_and_the_date_corrects_it() {
    let sim = Arc::new(InProcess::new(MetadataMode::Optional));
    let keys = role_keys(&sim);
    let slow = conn(&sim, keys, 600_000);
    assert!(slow.dns().zone_named("example.test").unwrap().is_some());
    assert_eq!(slow.clock_offset(), 600);
    let domain_calls: Vec<String> = sim
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.contains("/ncpdns/domain"))
        .cloned()
        .collect();
    assert_eq!(
        domain_calls.len(),
        2,
        "one refusal, one retry: {domain_calls:?}"
    );
    // Later calls use the correction at once.
    assert!(slow.dns().zone_named("sub.example.test").unwrap().is_some());
    let after = sim
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.contains("/ncpdns/domain"))
        .count();
    assert_eq!(after, 3);
}

#[test]
fn expired_role_keys_are_fetched_again_once() {
    let sim = Arc::new(InProcess::new(MetadataMode::Optional));
    let c = configured(&sim);
    let old = c.identity();
    sim.now_ms.store(T0 + 601_000, Ordering::SeqCst);
    assert!(c.dns().zone_named("example.test").unwrap().is_some());
    assert_ne!(c.identity(), old, "fresh keys from the role");
    let tokens = sim
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.starts_with("PUT /latest/api/token"))
        .count();
    assert_eq!(
        tokens, 2,
        "the role asked once at the start and once after the 401"
    );
}

#[test]
fn v1_only_metadata_falls_back_and_no_secret_reaches_an_error() {
    let sim = Arc::new(InProcess::new(MetadataMode::Absent));
    let keys = role_keys(&sim);
    assert!(
        sim.seen.lock().unwrap()[1].starts_with("GET /latest/meta-data"),
        "{:?}",
        sim.seen.lock().unwrap()
    );
    let mut bad = keys.clone();
    bad.secret = otc_acme_hook::providers::ncp::Secret::new("not-the-secret");
    let e = conn(&sim, bad, 0)
        .dns()
        .zone_named("example.test")
        .unwrap_err();
    assert_eq!(e.kind(), Kind::Auth);
    let shown = format!("{e} {:?}", e.hint());
    for s in sim.state.lock().unwrap().secrets() {
        assert!(!shown.contains(&s), "a secret in {shown}");
    }
    assert!(shown.contains("Authentication Failed"), "{shown}");
}

/// The product over the simulator's corrected gateway: a role without the
/// Global DNS policy gets 401/210, read as a permission error with the
/// managed policy's name, and no second metadata fetch though the keys are
/// refreshable.
#[test]
fn a_role_without_the_dns_policy_is_a_permission_error_and_keys_are_not_fetched_again() {
    let sim = std::sync::Arc::new(InProcess::new(MetadataMode::Optional));
    sim.state
        .lock()
        .unwrap()
        .set_role_dns_policy(false)
        .unwrap();
    let c = configured(&sim);
    let metadata_before = sim
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.contains("/latest/"))
        .count();
    let e = c.dns().zone_named("example.test").unwrap_err();
    assert_eq!(e.kind(), Kind::Permission);
    assert_eq!(e.code(), Some("210"));
    assert!(e.hint().unwrap().contains("NCP_GLOBAL_DNS_MANAGER"));
    let seen = sim.seen.lock().unwrap();
    assert_eq!(
        seen.iter().filter(|s| s.contains("/latest/")).count(),
        metadata_before,
        "no second metadata fetch: {seen:?}"
    );
    assert_eq!(
        seen.iter().filter(|s| s.contains("/dns/v1/")).count(),
        1,
        "no retry: {seen:?}"
    );
}

/// The apex (`@`) against the simulator's search by record name: written,
/// found again without `searchContent`, removed.
#[test]
fn the_apex_is_written_read_and_removed_without_a_search() {
    let sim = std::sync::Arc::new(InProcess::new(MetadataMode::Optional));
    let keys = role_keys(&sim);
    let c = conn(&sim, keys, 0);
    let d = c.dns();
    let zone = d.zone_named("sub.example.test").unwrap().unwrap();
    let apex = "sub.example.test.".to_string();
    let before = d.reread(&zone, &TxtAt::absent(&apex)).unwrap();
    assert!(!before.exists());
    let after = d.write(&zone, &before, &["apex-1".into()], 300).unwrap();
    assert_eq!(after.records, ["\"apex-1\""], "found again after the write");
    let again = d.reread(&zone, &after).unwrap();
    assert_eq!(again.ids, after.ids);
    let gone = d.write(&zone, &again, &[], 300).unwrap();
    assert!(!gone.exists());
    let seen = sim.seen.lock().unwrap();
    let reads: Vec<&String> = seen
        .iter()
        .filter(|s| s.starts_with("GET /dns/v1/ncpdns/record/"))
        .collect();
    assert!(!reads.is_empty());
    assert!(
        reads.iter().all(|s| !s.contains("searchContent")),
        "{reads:?}"
    );
}
