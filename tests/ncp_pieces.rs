//! The NCP pieces of the product against the simulator's NCP module, in
//! process (no sockets, no binary): the product's signer checked by the
//! simulator's own verifier, the server role fetched from its metadata, a
//! DNS-01 write, apply and removal through the cloud seam and the shared
//! client, with the simulator's clock.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use otc_acme_hook::api_error::Kind;
use otc_acme_hook::client::RetryPolicy;
use otc_acme_hook::clock::Clock;
use otc_acme_hook::cloud_api::TxtSet;
use otc_acme_hook::cloud_api::{CloudInput, Connection};
use otc_acme_hook::clouds::ncp::connect::{NcpConnection, Wiring, connect_with, over_keys};
use otc_acme_hook::clouds::ncp::{Keys, config, metadata, resolve_metadata_url};
use otc_acme_hook::http::{Response, Transport, TransportError, Url};
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
    let cfg = config::configure(&CloudInput {
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

    let before = d.reread(zone, &TxtSet::absent(&name)).unwrap();
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
    bad.secret = otc_acme_hook::clouds::ncp::Secret::new("not-the-secret");
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
    let before = d.reread(&zone, &TxtSet::absent(&apex)).unwrap();
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

/// `write_batch` against the simulator's Global DNS: several names of one
/// domain (the apex among them) added with one POST, the new ids learnt with
/// one listing (the create answers `{"result":"SUCCESS"}`, no ids) and equal
/// to the simulator's, applied once; then removed with one DELETE of every
/// id and no read; a foreign record untouched throughout.
#[test]
fn write_batch_adds_several_names_in_one_post_and_removes_them_in_one_delete() {
    use otc_acme_hook::cloud_api::Change;
    let sim = Arc::new(InProcess::new(MetadataMode::Optional));
    let keys = role_keys(&sim);
    let c = conn(&sim, keys, 0);
    let d = c.dns();
    let names: Vec<String> = [
        "_acme-challenge.a.example.test.",
        "_acme-challenge.b.example.test.",
        "example.test.",
    ]
    .iter()
    .map(|n| n.to_string())
    .collect();
    let zones = d.zones_holding(&names[0]).unwrap();
    let zone = zones.iter().find(|z| z.name == "example.test.").unwrap();
    // A colleague's value at one of the names.
    let foreign = d.reread(zone, &TxtSet::absent(&names[1])).unwrap();
    let foreign = d.write(zone, &foreign, &["colleague".into()], 600).unwrap();
    sim.seen.lock().unwrap().clear();

    let before = d.read(zone, &names).unwrap();
    let afters: Vec<Vec<String>> = vec![
        vec!["va1".into(), "va2".into()],
        vec![before[1].records[0].clone(), "vb".into()],
        vec!["apex".into()],
    ];
    let changes: Vec<Change> = before
        .iter()
        .zip(&afters)
        .map(|(b, a)| Change {
            before: b,
            after: a,
        })
        .collect();
    let got = d.write_batch(zone, &changes, 120).unwrap().unwrap();
    let dns_calls = |seen: &[String]| -> Vec<String> {
        seen.iter()
            .filter(|s| s.contains("/dns/v1/"))
            .map(|s| s.split('?').next().unwrap().to_string())
            .collect()
    };
    let id = &zone.id;
    assert_eq!(
        dns_calls(&sim.seen.lock().unwrap()),
        [
            format!("GET /dns/v1/ncpdns/record/{id}"),
            format!("POST /dns/v1/ncpdns/record/{id}"),
            format!("GET /dns/v1/ncpdns/record/{id}"),
        ],
        "one listing, one POST, one listing"
    );
    // The states, in order, with the simulator's ids.
    let state = sim.state.lock().unwrap().state_json(T0);
    let records = state["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "example.test")
        .unwrap()["records"]
        .as_array()
        .unwrap()
        .clone();
    let ids_at = |host: &str| -> Vec<String> {
        records
            .iter()
            .filter(|r| r["host"] == host && r["type"] == "TXT")
            .map(|r| r["id"].to_string())
            .collect()
    };
    assert_eq!(got[0].records, ["\"va1\"", "\"va2\""]);
    assert_eq!(got[0].ids, ids_at("_acme-challenge.a"));
    assert_eq!(got[1].records, ["\"colleague\"", "\"vb\""]);
    assert_eq!(got[1].ids, ids_at("_acme-challenge.b"));
    assert_eq!(got[1].ids[0], foreign.ids[0]);
    assert_eq!(got[2].records, ["\"apex\""]);
    assert_eq!(got[2].ids, ids_at("@"));
    assert_eq!(got[2].ttl, Some(120));
    d.commit(zone).unwrap();
    let applied = sim.state.lock().unwrap().take_applies();
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0].records.len(), 6, "{:?}", applied[0].records);

    // Removal: every id of ours in one DELETE, no read needed.
    sim.seen.lock().unwrap().clear();
    let keep = vec![got[1].records[0].clone()];
    let none: Vec<String> = Vec::new();
    let changes = [
        Change {
            before: &got[0],
            after: &none,
        },
        Change {
            before: &got[1],
            after: &keep,
        },
        Change {
            before: &got[2],
            after: &none,
        },
    ];
    let gone = d.write_batch(zone, &changes, 120).unwrap().unwrap();
    assert_eq!(
        dns_calls(&sim.seen.lock().unwrap()),
        [format!("DELETE /dns/v1/ncpdns/record/{id}")]
    );
    assert!(!gone[0].exists() && !gone[2].exists());
    assert_eq!(gone[1].records, ["\"colleague\""]);
    let now = d.read(zone, &names).unwrap();
    assert_eq!(now, gone, "what the answer told is what is there");
    d.commit(zone).unwrap();
    assert!(
        sim.state.lock().unwrap().rollbacks().is_empty(),
        "never a rollback"
    );
}
