//! Issue 20 item 2, the providers' side: a certbot run of 5 apex+wildcard
//! pairs and 5 more names in one zone (15 challenges, 10 TXT names), hooks
//! run as certbot runs them; the simulator's log counts each hook's calls:
//! zone discovery once per process, TXT listings per zone where the flow
//! reads several names, and (OVH) record GETs only for ids not yet known.
//! Each hook's counts are printed (`--nocapture` shows them).

mod common;

use std::process::Command;

use common::{Req, Run, cmd, cmd_for, request_log, reset_log, run, start, start_cloud};
use otc_sim::Sim;
use serde_json::{Value, json};

/// 5 apex+wildcard pairs and 5 single names under example.test: `(domain, value)`.
fn challenges() -> Vec<(String, String)> {
    let mut v = Vec::new();
    for i in 0..5 {
        let d = format!("p{i}.example.test");
        v.push((d.clone(), format!("p{i}-apex")));
        v.push((format!("*.{d}"), format!("p{i}-wild")));
    }
    for i in 0..5 {
        v.push((format!("n{i}.example.test"), format!("n{i}-val")));
    }
    v
}

/// What one hook sent, by kind of call.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Calls {
    /// Zone discovery: OTC `GET /v2/zones` (pages); OVH `GET /domain/zone`
    /// (`GET /domain/zone/{zone}`, the nameservers, is counted in `other`).
    zones: usize,
    /// TXT listings: OTC `GET …/recordsets` (pages); OVH `GET …/record?…` (ids).
    listings: usize,
    /// Reads of one recordset/record by id.
    gets: usize,
    /// Creates, updates, deletes.
    writes: usize,
    /// Everything else (nameservers, refresh, token, metadata, IAM).
    other: usize,
}

impl Calls {
    fn total(&self) -> usize {
        self.zones + self.listings + self.gets + self.writes + self.other
    }
}

fn otc_calls(log: &[Req]) -> Calls {
    let mut c = Calls::default();
    for r in log {
        let p = r.path.as_str();
        let parts: Vec<&str> = p.trim_matches('/').split('/').collect();
        match (r.method.as_str(), parts.as_slice()) {
            ("GET", ["v2", "zones"]) => c.zones += 1,
            ("GET", ["v2", "zones", _, "recordsets"]) => c.listings += 1,
            ("GET", ["v2", "zones", _, "recordsets", _]) => c.gets += 1,
            ("POST" | "PUT" | "DELETE", ["v2", "zones", _, "recordsets", ..]) => c.writes += 1,
            _ => c.other += 1,
        }
    }
    c
}

fn ovh_calls(log: &[Req]) -> Calls {
    let mut c = Calls::default();
    for r in log {
        let parts: Vec<&str> = r.path.trim_matches('/').split('/').collect();
        match (r.method.as_str(), parts.as_slice()) {
            ("GET", ["1.0", "domain", "zone"]) => c.zones += 1,
            ("GET", ["1.0", "domain", "zone", _, "record"]) => c.listings += 1,
            ("GET", ["1.0", "domain", "zone", _, "record", _]) => c.gets += 1,
            ("POST", ["1.0", "domain", "zone", _, "record"])
            | ("DELETE", ["1.0", "domain", "zone", _, "record", _]) => c.writes += 1,
            _ => c.other += 1,
        }
    }
    c
}

/// Runs every hook of one certbot run (`hook` = auth or cleanup) with the
/// command `mk` makes, and returns each hook's calls.
fn run_hooks(
    sim: &Sim,
    cloud: &str,
    hook: &str,
    mk: &dyn Fn() -> Command,
    classify: fn(&[Req]) -> Calls,
) -> Vec<Calls> {
    run_hooks_of(sim, &challenges(), cloud, hook, mk, classify)
}

/// [`run_hooks`] for the challenges `run_`.
fn run_hooks_of(
    sim: &Sim,
    run_: &[(String, String)],
    cloud: &str,
    hook: &str,
    mk: &dyn Fn() -> Command,
    classify: fn(&[Req]) -> Calls,
) -> Vec<Calls> {
    let n = run_.len();
    let mut out = Vec::new();
    for (i, (d, _)) in run_.iter().enumerate() {
        reset_log(sim);
        let mut c = common::certbot_hook_of(mk(), hook, run_, i);
        let r: Run = run(sim, &mut c);
        assert_eq!(r.code, 0, "{hook} {d}: {}{}", r.stdout, r.stderr);
        let calls = classify(&request_log(&sim.log_json()));
        if calls.total() > 0 {
            eprintln!("{cloud} {hook} hook {}/{n}: {calls:?}", i + 1);
        }
        out.push(calls);
    }
    out
}

/// [`common::base_seed`] with a zone of another domain (`other.test`) and
/// three more zones of example.test.
fn otc_seed() -> Value {
    let mut seed = common::base_seed();
    let zones = seed["zones"].as_array_mut().unwrap();
    zones.push(json!({"name": "other.test.", "zone_type": "public"}));
    for i in 0..3 {
        zones.push(json!({"name": format!("z{i}.example.test."), "zone_type": "public"}));
    }
    seed
}

#[test]
fn otc_certbot_run_lists_zones_once_per_process_and_reads_the_zone_once() {
    let sim = start(otc_seed());
    let mk = || cmd(&sim);
    let mut run_ = challenges();
    run_.push(("o0.other.test".into(), "o0-apex".into()));
    run_.push(("*.o0.other.test".into(), "o0-wild".into()));
    let auth = run_hooks_of(&sim, &run_, "otc", "auth", &mk, otc_calls);
    let last = *auth.last().unwrap();
    assert!(auth[..auth.len() - 1].iter().all(|c| c.total() == 0));
    // Zone discovery once for the process: not once per domain of the run
    // (was one filtered listing per domain).
    assert_eq!(last.zones, 1, "zone discovery once per process: {last:?}");
    // 11 names: one filtered listing each before its create, then the flow's
    // reads of every name together: one TXT listing per zone (2) each time.
    assert_eq!(last.writes, 11, "{last:?}");
    assert_eq!(last.gets, 0, "{last:?}");
    assert!(last.listings <= 11 + 2 * 2, "{last:?}");
    for i in 0..5 {
        let vals = common::public_txt(
            &sim,
            "example.test.",
            &format!("_acme-challenge.p{i}.example.test."),
        );
        assert_eq!(vals, vec![format!("p{i}-apex"), format!("p{i}-wild")]);
    }
    let cleanup = run_hooks_of(&sim, &run_, "otc", "cleanup", &mk, otc_calls);
    let first = cleanup[0];
    // The journal names each value's zone: no zone discovery in cleanup.
    assert_eq!(first.zones, 0, "{first:?}");
    assert_eq!(first.writes, 11, "{first:?}");
    // The engine reads each zone once for every name (one listing per zone);
    // every set held only the run's values and was deleted whole, so there is
    // no re-check a second later (a stale update finds a deleted set's id
    // gone); every later hook, the last included, decides from the journal alone.
    assert_eq!(first.listings, 2, "{first:?}");
    assert!(cleanup[1..].iter().all(|c| c.total() == 0), "{cleanup:?}");
    common::assert_foreign_intact(&sim);
}

const SA: (&str, &str) = ("sa-all", "SA-SECRET-ALL-000000000001");

fn ovh_seed() -> Value {
    json!({
        "nameservers": ["localhost."],
        "propagation_delay_ms": 0,
        "ovh": {
            "zones": [{"name": "example.test", "records": [
                {"subDomain": "_acme-challenge", "fieldType": "TXT", "target": "\"foreign-keep\"", "ttl": 600},
                {"subDomain": "_acme-challenge.p0", "fieldType": "TXT", "target": "\"foreign-p0\"", "ttl": 600},
                {"subDomain": "", "fieldType": "TXT", "target": "\"v=spf1 -all\""}
            ]}],
            "service_accounts": [{"client_id": SA.0, "client_secret": SA.1}]
        }
    })
}

#[test]
fn ovh_certbot_run_gets_only_records_it_does_not_know() {
    let sim = start_cloud(ovh_seed(), "ovh");
    let mk = || {
        let mut c = cmd_for(&sim, "ovh");
        c.env("OVH_CLIENT_ID", SA.0).env("OVH_CLIENT_SECRET", SA.1);
        c
    };
    let auth = run_hooks(&sim, "ovh", "auth", &mk, ovh_calls);
    let last = *auth.last().unwrap();
    assert!(auth[..auth.len() - 1].iter().all(|c| c.total() == 0));
    // 15 values (5 pairs + 5 names) at 10 names; one foreign record at p0.
    assert_eq!(last.writes, 15, "{last:?}");
    assert_eq!(last.zones, 1, "zone discovery once per process: {last:?}");
    // The run's names read together: one listing of the zone's TXT ids, and
    // the zone's three TXT records not known (foreign, fewer than the names)
    // read by id; ours answered their creates with their bodies.
    assert_eq!(last.listings, 1, "{last:?}");
    assert_eq!(last.gets, 3, "{last:?}");
    let cleanup = run_hooks(&sim, "ovh", "cleanup", &mk, ovh_calls);
    let first = cleanup[0];
    assert_eq!(first.writes, 15, "{first:?}");
    // The journal names each value's zone: no zone discovery.
    assert_eq!(first.zones, 0, "{first:?}");
    // A new process knows our records from the journal (their ids): one
    // listing of the zone's TXT ids (the plan's read), and only the three
    // foreign records read by id.
    assert_eq!(first.gets, 3, "{first:?}");
    assert_eq!(first.listings, 1, "one listing of the zone: {first:?}");
    let foreign: Vec<String> = sim.state_json()["ovh"]["zones"][0]["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["target"].as_str().unwrap().to_string())
        .collect();
    for f in ["\"foreign-keep\"", "\"foreign-p0\"", "\"v=spf1 -all\""] {
        assert!(foreign.iter().any(|t| t == f), "{foreign:?}");
    }
    for i in 0..5 {
        assert!(
            !foreign.iter().any(|t| t.contains(&format!("p{i}-"))),
            "{foreign:?}"
        );
    }
}

/// Zones and TXT sets over pages of 2: every page is read, once, and the
/// run's reads of several names each follow the zone's TXT pages to the end.
#[test]
fn otc_paged_listings_are_read_to_the_end_once() {
    let mut seed = otc_seed();
    seed["page_size"] = json!(2);
    let sim = start(seed);
    let mk = || cmd(&sim);
    let mut run_: Vec<(String, String)> = challenges().into_iter().take(6).collect();
    run_.push(("o0.other.test".into(), "o0-apex".into()));
    let auth = run_hooks_of(&sim, &run_, "otc", "auth", &mk, otc_calls);
    let last = *auth.last().unwrap();
    // 6 public zones over pages of 2: one listing of 3 pages for the process
    // (was a filtered listing per domain: 3 pages + 1).
    assert_eq!(last.zones, 3, "{last:?}");
    for i in 0..3 {
        let vals = common::public_txt(
            &sim,
            "example.test.",
            &format!("_acme-challenge.p{i}.example.test."),
        );
        assert_eq!(vals, vec![format!("p{i}-apex"), format!("p{i}-wild")]);
    }
    assert_eq!(
        common::public_txt(&sim, "other.test.", "_acme-challenge.o0.other.test."),
        vec!["o0-apex".to_string()]
    );
    let cleanup = run_hooks_of(&sim, &run_, "otc", "cleanup", &mk, otc_calls);
    assert_eq!(cleanup[0].writes, 4, "{:?}", cleanup[0]);
    for v in ["p0-apex", "p2-wild", "o0-apex"] {
        common::assert_gone_or_going(&sim, v);
    }
    common::assert_foreign_intact(&sim);
}

/// Names the run writes at that are no `_acme-challenge.` names (CNAMEs into
/// a delegation zone's own names): the flow's reads of them together are one
/// TXT listing of the zone, not one listing per name as before.
#[test]
fn otc_names_of_any_shape_are_read_with_one_listing_of_the_zone() {
    let mut seed = common::base_seed();
    let records = seed["zones"][0]["records"].as_array_mut().unwrap();
    for i in 0..4 {
        records.push(
            json!({"name": format!("_acme-challenge.c{i}.example.test."),
            "type": "CNAME", "ttl": 300, "records": [format!("dv-c{i}.example.test.")]}),
        );
    }
    let sim = start(seed);
    let mk = || cmd(&sim);
    let run_: Vec<(String, String)> = (0..4)
        .map(|i| (format!("c{i}.example.test"), format!("c{i}-val")))
        .collect();
    let auth = run_hooks_of(&sim, &run_, "otc", "auth", &mk, otc_calls);
    let last = *auth.last().unwrap();
    assert_eq!(last.writes, 4, "{last:?}");
    // One filtered listing a name before its create; then the run's reads
    // together (the wait, the re-check a second after the last write): one
    // listing each (was 4 each).
    assert!(last.listings <= 4 + 2, "{last:?}");
    for i in 0..4 {
        assert_eq!(
            common::public_txt(&sim, "example.test.", &format!("dv-c{i}.example.test.")),
            vec![format!("c{i}-val")]
        );
    }
    let cleanup = run_hooks_of(&sim, &run_, "otc", "cleanup", &mk, otc_calls);
    // The engine's one read of the zone for every name, in the first hook
    // (was one read per name before the engine); each set deleted whole, so
    // no re-check a second later; the later hooks make no call.
    assert_eq!(cleanup[0].listings, 1, "{cleanup:?}");
    assert!(cleanup[1..].iter().all(|c| c.total() == 0), "{cleanup:?}");
    common::assert_foreign_intact(&sim);
}
