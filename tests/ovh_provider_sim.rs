//! The OVH provider (product code) against the simulator's OVH module
//! (independent code), joined in-process by a transport that hands each
//! request to `OvhState::handle`: no sockets, no binary. What this proves
//! before the CLI is wired: the token flow, Bearer and classic signatures as
//! the simulator verifies them, zone finding with and without the listing,
//! per-value writes, one refresh publishing them, and the IAM messages.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

use otc_acme_hook::api_error::Kind;
use otc_acme_hook::clock::{Clock, FakeClock};
use otc_acme_hook::http::{Response, Transport, TransportError, Url};
use otc_acme_hook::provider::{Provider, TxtAt};
use otc_acme_hook::providers::ovh::credentials::{FileText, Files, Flags, Inputs, resolve};
use otc_acme_hook::providers::ovh::endpoints::EndpointInputs;
use otc_acme_hook::providers::ovh::{client::OvhClient, connect, dns::OvhDns};
use otc_sim::ovh::{OvhSeed, OvhState, Request};

const NOW: i64 = 1_700_000_000;
const BASE: &str = "http://127.0.0.1:9";

/// Hands requests to the simulator's OVH module; counts them by path.
struct SimTransport {
    state: RefCell<OvhState>,
    now: Cell<i64>,
    calls: RefCell<Vec<String>>,
}

impl Transport for SimTransport {
    fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<Response, TransportError> {
        let u = Url::parse(url).map_err(TransportError::Other)?;
        // What ureq adds on the wire.
        let mut headers = headers.to_vec();
        headers.push(("Host".into(), u.host_header()));
        self.calls.borrow_mut().push(format!("{method} {}", u.path));
        let a = self.state.borrow_mut().handle(
            &Request {
                method,
                path: &u.path,
                query: u.query.as_deref().unwrap_or(""),
                headers: &headers,
                body,
            },
            self.now.get(),
        );
        Ok(Response {
            status: a.status,
            headers: a.headers,
            body: a.body,
        })
    }
}

struct NoFiles;
impl Files for NoFiles {
    fn read(&self, _: &Path) -> std::io::Result<Option<FileText>> {
        Ok(None)
    }
}

const SEED: &str = r#"{
  "zones": [{"name": "example.test", "records": [
     {"subDomain": "_acme-challenge", "fieldType": "TXT", "target": "\"foreign\""},
     {"subDomain": "xacme-challenge", "fieldType": "TXT", "target": "lookalike"}]}],
  "nameservers": ["ns1.example.test.", "ns2.example.test."],
  "service_accounts": [
     {"client_id": "sa-all", "client_secret": "SA-SECRET-1"},
     {"client_id": "sa-zone", "client_secret": "SA-SECRET-2",
      "policy": {"actions": ["dnsZone:apiovh:get", "dnsZone:apiovh:record/get",
                             "dnsZone:apiovh:record/create", "dnsZone:apiovh:refresh"],
                 "zones": ["example.test"]}}],
  "classic_keys": [{"application_key": "AK1", "application_secret": "AS-SECRET",
                    "consumer_key": "CK-SECRET"}],
  "token_lifetime_secs": 600
}"#;

fn sim() -> Rc<SimTransport> {
    let seed = OvhSeed::from_json(SEED).unwrap();
    Rc::new(SimTransport {
        state: RefCell::new(OvhState::from_seed(&seed, NOW).unwrap()),
        now: Cell::new(NOW),
        calls: RefCell::default(),
    })
}

/// The product's whole path from environment to provider.
fn provider(t: &Rc<SimTransport>, env: &[(&str, &str)], clock: Rc<FakeClock>) -> OvhDns<OvhClient> {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let getenv = move |k: &str| env.get(k).cloned();
    let flags = Flags::default();
    let (ep, found) = resolve(
        &Inputs {
            flags: &flags,
            env: &getenv,
            files: &NoFiles,
        },
        EndpointInputs {
            dns_endpoint: Some(format!("{BASE}/1.0")),
            token_endpoint: Some(format!("{BASE}/auth/oauth2/token")),
            ..Default::default()
        },
    )
    .unwrap();
    connect(found, &ep, t.clone(), clock).unwrap()
}

fn sa(id: &'static str, secret: &'static str) -> [(&'static str, &'static str); 2] {
    [("OVH_CLIENT_ID", id), ("OVH_CLIENT_SECRET", secret)]
}

const NAME: &str = "_acme-challenge.example.test.";

fn values(t: &SimTransport) -> Vec<String> {
    t.state
        .borrow()
        .records("example.test")
        .into_iter()
        .filter(|r| r.sub_domain == "_acme-challenge")
        .map(|r| r.target)
        .collect()
}

#[test]
fn service_account_auth_then_cleanup_with_one_refresh_each() {
    let t = sim();
    let dns = provider(
        &t,
        &sa("sa-all", "SA-SECRET-1"),
        Rc::new(FakeClock::new(NOW as u64)),
    );
    let zones = dns.zones_holding(NAME).unwrap();
    assert_eq!(zones.len(), 1);
    let zone = &zones[0];
    assert_eq!(
        (zone.id.as_str(), zone.name.as_str()),
        ("example.test", "example.test.")
    );
    assert_eq!(
        dns.nameservers(zone).unwrap(),
        ["ns1.example.test.", "ns2.example.test."]
    );
    // The lookalike matched by the API's `_` is not ours to see.
    let before = dns.read(zone, &[NAME.to_string()]).unwrap().remove(0);
    assert_eq!(before.records, ["\"foreign\""]);
    // Apex-and-wildcard: two values at one name, one record each.
    let after = vec![
        before.records[0].clone(),
        "\"v-apex\"".to_string(),
        "\"v-wild\"".to_string(),
    ];
    let written = dns.write(zone, &before, &after, 60).unwrap();
    assert_eq!(written.ids.len(), 3);
    assert!(
        t.state
            .borrow_mut()
            .take_published("example.test")
            .is_none(),
        "not before the refresh"
    );
    dns.commit(zone).unwrap();
    let published = t.state.borrow_mut().take_published("example.test").unwrap();
    let mut served: Vec<String> = published
        .records
        .iter()
        .filter(|r| r.fqdn("example.test") == NAME)
        .map(|r| r.target.clone())
        .collect();
    served.sort();
    assert_eq!(served, ["\"foreign\"", "v-apex", "v-wild"]);
    // Cleanup: a fresh read, our two values removed by id, the foreign one kept.
    let before = dns.read(zone, &[NAME.to_string()]).unwrap().remove(0);
    let after: Vec<String> = before
        .records
        .iter()
        .filter(|r| !r.contains("v-"))
        .cloned()
        .collect();
    dns.write(zone, &before, &after, 60).unwrap();
    dns.commit(zone).unwrap();
    assert_eq!(values(&t), ["\"foreign\""]);
    // Already gone: nothing to delete, no error.
    let again = dns.read(zone, &[NAME.to_string()]).unwrap().remove(0);
    assert_eq!(again.records, ["\"foreign\""]);
    let calls = t.calls.borrow();
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.ends_with("/oauth2/token"))
            .count(),
        1
    );
    assert_eq!(calls.iter().filter(|c| c.ends_with("/refresh")).count(), 2);
    assert_eq!(t.state.borrow().refreshes().len(), 2);
}

#[test]
fn a_zone_scoped_policy_probes_and_names_the_missing_action() {
    let t = sim();
    let dns = provider(
        &t,
        &sa("sa-zone", "SA-SECRET-2"),
        Rc::new(FakeClock::new(NOW as u64)),
    );
    let zones = dns
        .zones_holding("_acme-challenge.a.example.test.")
        .unwrap();
    assert_eq!(zones[0].id, "example.test");
    let calls: Vec<String> = t.calls.borrow().iter().skip(1).cloned().collect();
    assert_eq!(
        calls,
        [
            "GET /1.0/domain/zone",
            "GET /1.0/domain/zone/_acme-challenge.a.example.test",
            "GET /1.0/domain/zone/a.example.test",
            "GET /1.0/domain/zone/example.test",
        ]
    );
    let zone = &zones[0];
    let before = dns.read(zone, &[NAME.to_string()]).unwrap().remove(0);
    let added = dns
        .write(zone, &before, &[before.records[0].clone(), "v1".into()], 60)
        .unwrap();
    dns.commit(zone).unwrap();
    // This policy lacks record/delete.
    let e = dns
        .write(zone, &added, &[added.records[0].clone()], 60)
        .unwrap_err();
    assert_eq!(e.kind(), Kind::Permission);
    let line = format!("{e}; {}", e.hint().unwrap());
    assert!(
        line.contains("missing IAM action dnsZone:apiovh:record/delete"),
        "{line}"
    );
    assert!(line.contains("IAM policy"), "{line}");
    assert!(!line.contains("SA-SECRET"), "{line}");
}

#[test]
fn an_expired_token_is_renewed_once() {
    let t = sim();
    // Our clock does not move: the token looks fresh to us, the server has expired it.
    let dns = provider(
        &t,
        &sa("sa-all", "SA-SECRET-1"),
        Rc::new(FakeClock::new(NOW as u64)),
    );
    assert!(dns.zone_named("example.test.").unwrap().is_some());
    t.now.set(NOW + 601);
    assert!(dns.zone_named("example.test.").unwrap().is_some());
    t.now.set(NOW + 1300);
    // Once per process: the second expiry is an auth error.
    let e = dns.zone_named("example.test.").unwrap_err();
    assert_eq!(e.kind(), Kind::Auth);
    let tokens = t
        .calls
        .borrow()
        .iter()
        .filter(|c| c.ends_with("/oauth2/token"))
        .count();
    assert_eq!(tokens, 2);
}

#[test]
fn a_refused_secret_is_one_line_naming_the_account() {
    let t = sim();
    let dns = provider(
        &t,
        &sa("sa-all", "WRONG-SECRET"),
        Rc::new(FakeClock::new(NOW as u64)),
    );
    let e = dns.zones_holding(NAME).unwrap_err();
    assert_eq!(e.kind(), Kind::Auth);
    let line = format!("{e}; {}", e.hint().unwrap());
    assert!(line.contains("service account sa-all"), "{line}");
    assert!(
        !line.contains("WRONG-SECRET") && !line.contains('\n'),
        "{line}"
    );
}

#[test]
fn classic_keys_signed_with_the_server_clock() {
    let t = sim();
    // Our clock 20 minutes behind: /auth/time corrects it.
    let clock = Rc::new(FakeClock::new((NOW - 1200) as u64));
    let env = [
        ("OVH_APPLICATION_KEY", "AK1"),
        ("OVH_APPLICATION_SECRET", "AS-SECRET"),
        ("OVH_CONSUMER_KEY", "CK-SECRET"),
    ];
    let dns = provider(&t, &env, clock.clone());
    let zone = dns.zones_holding(NAME).unwrap().remove(0);
    let before = dns.read(&zone, &[NAME.to_string()]).unwrap().remove(0);
    let after = [before.records[0].clone(), "\"signed\"".to_string()];
    dns.write(&zone, &before, &after, 300).unwrap();
    dns.commit(&zone).unwrap();
    assert_eq!(values(&t), ["\"foreign\"", "signed"]);
    clock.sleep(std::time::Duration::from_secs(30));
    t.now.set(NOW + 30);
    let at = dns.read(&zone, &[NAME.to_string()]).unwrap().remove(0);
    assert_eq!(at.records.len(), 2);
    let calls = t.calls.borrow();
    assert_eq!(
        calls.iter().filter(|c| c.ends_with("/auth/time")).count(),
        1
    );
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.ends_with("/oauth2/token"))
            .count(),
        0
    );
}

#[test]
fn nothing_leaks_into_errors_or_state() {
    let t = sim();
    let dns = provider(
        &t,
        &sa("sa-zone", "SA-SECRET-2"),
        Rc::new(FakeClock::new(NOW as u64)),
    );
    let zone = dns.zones_holding(NAME).unwrap().remove(0);
    let e = dns
        .write(
            &zone,
            &TxtAt::absent("_acme-challenge.example.test."),
            &[],
            60,
        )
        .map(|_| ());
    assert!(e.is_ok(), "nothing to do is no call");
    let secrets = t.state.borrow().secrets();
    let state = t.state.borrow().state_json(NOW).to_string();
    assert!(secrets.iter().all(|s| !state.contains(s.as_str())));
    let debug = format!("{:?}", dns.read(&zone, &[NAME.to_string()]).unwrap());
    assert!(
        secrets.iter().all(|s| !debug.contains(s.as_str())),
        "{debug}"
    );
}
