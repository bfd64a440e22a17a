//! Waiting for the authoritative nameservers, once per certbot run, and CNAME delegation.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::cloud::Cloud;
use common::*;
use serde_json::{Value, json};

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Wall times (ms) at which the simulator's DNS began to serve a change at `name`.
fn served_times(sim: &otc_sim::Sim, name: &str) -> Vec<u64> {
    sim.log_json()["served"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == name)
        .map(|e| e["t_ms"].as_u64().unwrap())
        .collect()
}

fn delayed_seed(prop_ms: u64) -> Value {
    let mut seed = base_seed();
    seed["propagation_delay_ms"] = json!(prop_ms);
    seed["pending_delay_ms"] = json!(300);
    seed["zones"].as_array_mut().unwrap().push(json!({
        "name": "other.test.", "zone_type": "public"
    }));
    seed
}

#[test]
fn wait_once_returns_early_then_waits_for_every_name() {
    let sim = start(delayed_seed(1500));
    // In the order of the hooks below, as certbot passes it.
    let all = "example.test,www.other.test,*.example.test";
    // Non-last hooks don't wait: their write is their last request. (No timing involved,
    // so a loaded machine can't make this pass or fail.)
    for (name, value, remaining) in [
        ("example.test", "v-apex", 2),
        ("www.other.test", "v-other", 1),
    ] {
        let before = requests(&sim).len();
        let r = certbot(&sim, "auth", name, value, remaining, all);
        assert_eq!(r.code, 0, "{}", r.stderr);
        // In a certbot run an early hook only records its value for the last one:
        // not a single request, so nothing to wait for.
        let asked = requests(&sim);
        assert_eq!(
            asked.len(),
            before,
            "{name}: an early hook made requests: {asked:?}"
        );
        assert!(r.stdout.contains("recorded TXT value"), "{}", r.stdout);
    }
    let r = certbot(&sim, "auth", "example.test", "v-wild", 0, all);
    let returned = now_ms();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("all nameservers serve"), "{}", r.stdout);
    // Every change of the run was served before the last hook returned.
    for name in [
        "_acme-challenge.example.test.",
        "_acme-challenge.www.other.test.",
    ] {
        let served = served_times(&sim, name);
        let last = *served
            .iter()
            .max()
            .unwrap_or_else(|| panic!("{name} never served"));
        assert!(
            last <= returned,
            "{name} served at {last}, hook returned at {returned}"
        );
    }
    // And the DNS really holds all three values now.
    let vals = public_txt(&sim, "example.test.", "_acme-challenge.example.test.");
    assert!(vals.contains(&"v-apex".to_string()) && vals.contains(&"v-wild".to_string()));
}

#[test]
fn wait_per_hook_mode_waits_in_every_hook() {
    let sim = start(delayed_seed(800));
    let t0 = Instant::now();
    let mut c = Cloud::Otc
        .certbot(&sim)
        .hook_args(["--no-wait-once"])
        .challenge(
            "auth",
            "example.test",
            "v-one",
            Some("1"),
            Some("example.test,*.example.test"),
        );
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        t0.elapsed() >= Duration::from_millis(800),
        "waited for its own value"
    );
    let served = served_times(&sim, "_acme-challenge.example.test.");
    assert!(!served.is_empty() && *served.iter().max().unwrap() <= now_ms());
}

#[test]
fn unreachable_or_silent_nameserver_times_out_naming_it() {
    let sim = start(base_seed());
    // A UDP port with nothing behind it: queries fail, the run times out.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let mut c = Cloud::Otc
        .certbot(&sim)
        .hook_args([
            "--no-cname",
            "--nameserver",
            &addr.to_string(),
            "--propagation-timeout",
            "3",
        ])
        .lone("auth", "example.test", "v-x");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let last = r.stderr.lines().last().unwrap();
    assert!(
        last.starts_with("otc-acme-hook: propagation: after "),
        "{last}"
    );
    assert!(last.contains("no UDP answer in time"), "{last}");
    assert!(last.contains(&addr.to_string()), "{last}");
}

#[test]
fn nameserver_override_and_env_list() {
    let sim = start(base_seed());
    let ns = sim.dns_addr().to_string();
    let mut c = Cloud::Otc
        .certbot(&sim)
        .env("OTC_NAMESERVERS", format!("{ns},{ns}"))
        .env("OTC_NAMESERVER_PORT", "1")
        .lone("auth", "example.test", "v-ns");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // With discovery (OTC_NAMESERVER_PORT=1 would fail), so the list was used.
    assert!(
        !requests(&sim)
            .iter()
            .any(|(_, p, _)| p.ends_with("/nameservers"))
    );
}

#[test]
fn no_dns_check_trusts_active() {
    let sim = start(delayed_seed(60_000));
    let mut c = Cloud::Otc.certbot(&sim).hook_args(["--no-dns-check"]).lone(
        "auth",
        "example.test",
        "v-api",
    );
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("DNS check disabled"), "{}", r.stdout);
}

fn cname_seed() -> Value {
    let mut seed = base_seed();
    let zones = seed["zones"].as_array_mut().unwrap();
    zones[0]["records"].as_array_mut().unwrap().extend([
        json!({"name": "_acme-challenge.alias.example.test.", "type": "CNAME", "ttl": 300,
               "records": ["_acme-challenge.target.sub.example.test."]}),
        json!({"name": "_acme-challenge.away.example.test.", "type": "CNAME", "ttl": 300,
               "records": ["_acme-challenge.elsewhere.invalid."]}),
        json!({"name": "_acme-challenge.loop.example.test.", "type": "CNAME", "ttl": 300,
               "records": ["_acme-challenge.loop2.example.test."]}),
        json!({"name": "_acme-challenge.loop2.example.test.", "type": "CNAME", "ttl": 300,
               "records": ["_acme-challenge.loop.example.test."]}),
    ]);
    seed
}

#[test]
fn cname_is_followed_into_our_zone() {
    let sim = start(cname_seed());
    let r = certbot_one(&sim, "auth", "alias.example.test", "v-cname");
    assert!(
        r.stdout
            .contains("is a CNAME to _acme-challenge.target.sub.example.test."),
        "{}",
        r.stdout
    );
    let vals = public_txt(
        &sim,
        "sub.example.test.",
        "_acme-challenge.target.sub.example.test.",
    );
    assert_eq!(vals, vec!["v-cname"]);
    let r = certbot_one(&sim, "cleanup", "alias.example.test", "v-cname");
    assert!(
        r.stdout
            .contains("removed TXT value v-cname from _acme-challenge.target.sub.example.test."),
        "{}",
        r.stdout
    );
}

#[test]
fn cname_out_of_our_zones_or_looping_is_an_error() {
    let sim = start(cname_seed());
    let r = certbot(&sim, "auth", "away.example.test", "v", 0, "");
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("lies in none of our public zones"),
        "{}",
        r.stderr
    );
    let r = certbot(&sim, "auth", "loop.example.test", "v", 0, "");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("CNAME loop"), "{}", r.stderr);
    // --no-cname writes at the name itself, where the CNAME conflicts.
    let mut c =
        Cloud::Otc
            .certbot(&sim)
            .hook_args(["--no-cname"])
            .lone("auth", "alias.example.test", "v");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("DNS.0312"), "{}", r.stderr);
    assert_foreign_intact(&sim);
}
