//! The NCP pieces of the product against the simulator's NCP module, in
//! process (no sockets, no binary): the product's signer checked by the
//! simulator's own verifier, the server role fetched from its metadata, a
//! DNS-01 write, apply and removal through the provider seam. Until both are
//! wired (CLI, session, simulator routing), this is where they meet.

use std::cell::{Cell, RefCell};

use otc_acme_hook::api_error::Kind;
use otc_acme_hook::http::{Response, Transport, TransportError, Url};
use otc_acme_hook::provider::{Provider, TxtAt};
use otc_acme_hook::providers::ncp::credentials::RealFiles;
use otc_acme_hook::providers::ncp::dns::{NcpDns, SignedSender};
use otc_acme_hook::providers::ncp::{
    Given, Keys, Settings, connect, metadata, resolve_metadata_url, sign,
};
use otc_acme_hook::report::{Level, Report};
use otc_sim::ncp::{MetadataMode, NcpSeed, NcpState, Request};

const T0: i64 = 1_800_000_000_000;

/// The simulator's NCP module behind the product's transport trait.
struct InProcess {
    state: RefCell<NcpState>,
    now_ms: Cell<i64>,
    seen: RefCell<Vec<String>>,
}

impl InProcess {
    fn new(mode: MetadataMode) -> InProcess {
        let mut seed = NcpSeed::demo();
        seed.metadata = mode;
        seed.credential_ttl_secs = 600;
        InProcess {
            state: RefCell::new(NcpState::from_seed(&seed).unwrap()),
            now_ms: Cell::new(T0),
            seen: RefCell::default(),
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
        self.seen.borrow_mut().push(format!(
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
        let a = self.state.borrow_mut().handle(&req, self.now_ms.get());
        let a = a.ok_or_else(|| TransportError::Refused(format!("nothing at {url}")))?;
        Ok(Response {
            status: a.status,
            headers: a.headers,
            body: a.body,
        })
    }
}

fn dns<'a>(sim: &'a InProcess, keys: Keys, behind_ms: i64) -> NcpDns<'a> {
    NcpDns::new(SignedSender {
        transport: sim,
        base: Url::parse("http://127.0.0.1:1/dns/v1").unwrap(),
        keys,
        now_ms: Box::new(move || sim.now_ms.get() - behind_ms),
    })
}

fn role_keys(sim: &InProcess) -> Keys {
    let url = resolve_metadata_url(Some(
        "http://127.0.0.1:1/latest/meta-data/iam/security-credentials",
    ))
    .unwrap();
    metadata::fetch(sim, &url).unwrap()
}

#[test]
fn server_role_on_a_v2_required_server_then_add_apply_remove_apply() {
    let sim = InProcess::new(MetadataMode::Required);
    let keys = role_keys(&sim);
    assert_eq!(keys.source, "server role");
    assert!(sim.seen.borrow()[0].starts_with("PUT /latest/api/token"));
    let d = dns(&sim, keys, 0);

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
            .borrow()
            .published("sub.example.test")
            .unwrap()
            .is_empty(),
        "nothing served before apply"
    );
    d.commit(zone).unwrap();
    let applied = sim.state.borrow_mut().take_applies();
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
            .borrow()
            .published("sub.example.test")
            .unwrap()
            .is_empty()
    );
    assert!(
        sim.state.borrow().rollbacks().is_empty(),
        "never a rollback"
    );
    let posts = sim
        .seen
        .borrow()
        .iter()
        .filter(|s| s.starts_with("POST"))
        .count();
    assert_eq!(posts, 1);
}

#[test]
fn connect_takes_the_server_role_when_nothing_else_is_configured() {
    let sim = InProcess::new(MetadataMode::Required);
    let settings = Settings::resolve(&Given {
        dns_endpoint: Some("http://127.0.0.1:1/dns/v1"),
        metadata_url: Some("http://127.0.0.1:1/latest/meta-data/iam/security-credentials"),
        ..Given::default()
    })
    .unwrap();
    // OTC's names are not NCP's: they are not read.
    let env = |k: &str| matches!(k, "OS_ACCESS_KEY" | "OS_SECRET_KEY").then(|| "otc".to_string());
    let report = Report::new(Level::Quiet, Box::new(std::io::sink()));
    let (keys, d) = connect(
        &settings,
        &env,
        &RealFiles,
        &sim,
        &sim,
        Box::new(|| sim.now_ms.get()),
        &report,
    )
    .unwrap();
    assert_eq!(keys.source, "server role");
    assert!(d.zone_named("example.test.").unwrap().is_some());
}

#[test]
fn a_clock_off_by_ten_minutes_is_refused_and_the_date_corrects_it() {
    let sim = InProcess::new(MetadataMode::Optional);
    let keys = role_keys(&sim);
    let slow = dns(&sim, keys.clone(), 600_000);
    let e = slow.zone_named("example.test").unwrap_err();
    assert_eq!(e.kind(), Kind::Auth);
    assert!(e.hint().unwrap().contains("NTP"), "{e}");
    // The gateway's Date says how far off we are: what the shared client's
    // clock-skew hook applies before its one retry.
    let sender = SignedSender {
        transport: &sim,
        base: Url::parse("http://127.0.0.1:1/dns/v1").unwrap(),
        keys: keys.clone(),
        now_ms: Box::new(|| sim.now_ms.get() - 600_000),
    };
    let r = otc_acme_hook::providers::ncp::dns::Sender::send(
        &sender,
        "GET",
        "/ncpdns/domain?page=0&size=100&domainName=example.test",
        None,
    )
    .unwrap();
    assert_eq!(r.status, 401);
    let skew = sign::skew_beyond_window(r.header("Date").unwrap(), T0 - 600_000).unwrap();
    assert_eq!(skew, 600_000);
    let corrected = dns(&sim, keys, 600_000 - skew);
    assert!(corrected.zone_named("example.test").unwrap().is_some());
}

#[test]
fn expired_role_keys_are_refused_and_fresh_ones_work() {
    let sim = InProcess::new(MetadataMode::Optional);
    let old = role_keys(&sim);
    sim.now_ms.set(T0 + 601_000);
    let e = dns(&sim, old.clone(), 0)
        .zone_named("example.test")
        .unwrap_err();
    assert_eq!(e.kind(), Kind::Auth);
    let fresh = role_keys(&sim);
    assert_ne!(fresh.access, old.access);
    assert!(
        dns(&sim, fresh, 0)
            .zone_named("example.test")
            .unwrap()
            .is_some()
    );
}

#[test]
fn v1_only_metadata_falls_back_and_no_secret_reaches_an_error() {
    let sim = InProcess::new(MetadataMode::Absent);
    let keys = role_keys(&sim);
    assert!(
        sim.seen.borrow()[1].starts_with("GET /latest/meta-data"),
        "{:?}",
        sim.seen.borrow()
    );
    let mut bad = keys.clone();
    bad.secret = otc_acme_hook::providers::ncp::Secret::new("not-the-secret");
    let e = dns(&sim, bad, 0).zone_named("example.test").unwrap_err();
    let shown = format!("{e} {:?}", e.hint());
    for s in sim.state.borrow().secrets() {
        assert!(!shown.contains(&s), "a secret in {shown}");
    }
    assert!(shown.contains("Authentication Failed"), "{shown}");
}
