//! The harness for `--cloud ncp`: a simulator of NAVER Cloud and the hook
//! pointed at it (Global DNS under `/dns/v1`, the server role's metadata,
//! the simulator's DNS as the resolver asked for NS, since Global DNS names
//! no nameservers).

use std::process::Command;

use otc_sim::{CloudKind, Seed, Sim, SimOptions};
use serde_json::{Value, json};

use super::cloud::Cloud;
use super::world::{World, fqdn};
use super::{BIN, Run, lock_dir, run};

/// The static key pair the seed knows.
pub const AK: &str = "ncp_iam_BPAMKRTESTSTATIC001";
pub const SK: &str = "ncp_iam_BPKMKRTESTsecret0000000000000001";
/// The server role attached to the simulated server.
pub const ROLE: &str = "b2c3d4e5-0000-4000-8000-0000000dns01";
pub const METADATA_PATH: &str = "/latest/meta-data/iam/security-credentials";

pub fn start(seed: Value) -> Sim {
    let seed = Seed::from_json(&seed.to_string()).expect("seed parses");
    Sim::start(SimOptions {
        seed,
        cloud: CloudKind::Ncp,
        ..SimOptions::default()
    })
    .expect("simulator starts")
}

/// Global DNS domains `example.test` (a foreign TXT value at
/// `_acme-challenge` and an SPF record at the apex; id 120) and
/// `sub.example.test` (id 121), one API key, a server role.
pub fn seed() -> Value {
    json!({
        "ncp": {
            "static_keys": [{"access": AK, "secret": SK}],
            "role": {"id": ROLE, "name": "dns-role"},
            "domains": [
                {"id": 120, "name": "example.test", "records": [
                    {"host": "_acme-challenge", "type": "TXT", "content": "foreign-keep", "ttl": 600},
                    {"host": "@", "type": "TXT", "content": "v=spf1 -all", "ttl": 3600}
                ]},
                {"id": 121, "name": "sub.example.test"}
            ]
        },
        "propagation_delay_ms": 0
    })
}

pub fn dns_base(sim: &Sim) -> String {
    format!("{}/dns/v1", sim.base_url())
}

pub fn metadata_url(sim: &Sim) -> String {
    format!("{}{METADATA_PATH}", sim.base_url())
}

/// A command with nothing of the developer's environment (no HOME either:
/// no `~/.ncloud/configure`), `--cloud ncp` pointed at `sim`.
pub fn cmd(sim: &Sim) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("OTC_CLOUD", "ncp")
        .env("OTC_DNS_ENDPOINT", dns_base(sim))
        .env("OTC_METADATA_URL", metadata_url(sim))
        .env("OTC_RESOLVER", sim.dns_addr().to_string())
        .env("OTC_NAMESERVER_PORT", sim.dns_addr().port().to_string())
        .env("OTC_PROPAGATION_TIMEOUT", "20")
        .env("OTC_LOCK_DIR", lock_dir(sim))
        .env("OTC_HTTP_TIMEOUT", "5");
    c
}

/// certbot's environment for one challenge.
pub fn certbot(sim: &Sim, hook: &str, domain: &str, value: &str, remaining: u32, all: &str) -> Run {
    let mut c = cmd(sim);
    let left = remaining.to_string();
    super::cloud::challenge_on(&mut c, hook, domain, value, Some(&left), Some(all));
    run(sim, &mut c)
}

/// The TXT contents (unquoted, sorted) at `host` (`@`: the apex) of
/// `domain` in the API's listing.
pub fn txt(sim: &Sim, domain: &str, host: &str) -> Vec<String> {
    let name = if host == "@" {
        domain.to_string()
    } else {
        format!("{host}.{domain}")
    };
    World::of(Cloud::Ncp, sim)
        .zone(domain)
        .names
        .get(&fqdn(&name))
        .map(|n| n.held.clone())
        .unwrap_or_default()
}

/// The TXT values (unquoted, sorted) the authoritative DNS serves at `name` now.
pub fn served(sim: &Sim, name: &str) -> Vec<String> {
    World::of(Cloud::Ncp, sim).served(name)
}

/// Pending edits of `domain` not yet applied.
pub fn pending(sim: &Sim, domain: &str) -> u64 {
    World::of(Cloud::Ncp, sim).zone(domain).pending
}

/// Requests of the log whose path contains `part`, by method.
pub fn count(sim: &Sim, method: &str, part: &str) -> usize {
    super::requests(sim)
        .iter()
        .filter(|(m, p, _)| m == method && p.contains(part))
        .count()
}

/// Applies per domain id in the log: (id, count), ids in order of first apply.
pub fn applies(sim: &Sim) -> Vec<(String, usize)> {
    let w = World::of(Cloud::Ncp, sim);
    w.commits()
        .into_iter()
        .map(|(zone, n)| {
            let id = w.zones.iter().find(|z| z.name == zone).unwrap().id.clone();
            (id, n)
        })
        .collect()
}

/// The seed's foreign records are intact in the API and in DNS.
pub fn assert_foreign_intact(sim: &Sim) {
    assert!(
        txt(sim, "example.test", "_acme-challenge").contains(&"foreign-keep".to_string()),
        "foreign value gone from the API"
    );
    assert!(
        served(sim, "_acme-challenge.example.test.").contains(&"foreign-keep".to_string()),
        "foreign value no longer served"
    );
    assert_eq!(txt(sim, "example.test", "@"), ["v=spf1 -all"]);
}

/// Every logged DNS API request whose path names rollback: there must be none.
pub fn assert_no_rollback(sim: &Sim) {
    assert_eq!(count(sim, "PUT", "/record/rollback/"), 0, "rollback called");
    assert!(
        sim.state_json()["rollbacks"].as_array().unwrap().is_empty(),
        "rollback recorded"
    );
}
