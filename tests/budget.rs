//! The call budget of a certbot run on every cloud (issue 20): auth + cleanup
//! of a run of 20 challenges — 5 apex+wildcard pairs and 10 names, 15 TXT
//! names in one zone — cost at most 2 × TXT names + 6 × zones + 4 remote API
//! calls, counted from the simulator's request log (the OAuth2 token endpoint
//! included, the link-local metadata service not). Hooks run as certbot runs
//! them, one process each. The counts are printed.

mod common;

use std::process::Command;

use common::{Run, cmd, cmd_for, request_log, reset_log, run, start, start_cloud};
use otc_sim::Sim;
use serde_json::{Value, json};

const NAMES: usize = 15;
const VALUES: usize = 20;
const ZONES: usize = 1;
/// 2 × TXT names + 6 × zones + 4.
const BUDGET: usize = 2 * NAMES + 6 * ZONES + 4;
/// Record per value (OVH: one POST and one DELETE a value, no call for several
/// records, so 2 × values is the floor; the reads are one listing of the
/// zone's TXT ids in each phase plus a GET per id not known, here the zone's
/// one foreign TXT record): 2 × values + 6 × zones + 4.
const BUDGET_PER_VALUE: usize = 2 * VALUES + 6 * ZONES + 4;

/// The run: 5 apex+wildcard pairs, then 10 names of their own.
fn challenges(prefix: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for i in 0..NAMES {
        let d = format!("{prefix}{i}.example.test");
        out.push((d.clone(), format!("{prefix}{i}-apex-value")));
        if i < 5 {
            out.push((format!("*.{d}"), format!("{prefix}{i}-wild-value")));
        }
    }
    out
}

/// Requests to the metadata service (link-local on a real host): not counted.
fn metadata(path: &str) -> bool {
    path.starts_with("/meta-data")
        || path.starts_with("/openstack/")
        || path.starts_with("/latest/meta-data")
}

/// Runs every hook of the run in certbot's order; the remote calls they made.
fn phase(
    sim: &Sim,
    hook: &str,
    run_of: &[(String, String)],
    base: &dyn Fn() -> Command,
) -> Vec<String> {
    reset_log(sim);
    for (i, (d, _)) in run_of.iter().enumerate() {
        let mut c = common::certbot_hook_of(base(), hook, run_of, i);
        let r: Run = run(sim, &mut c);
        assert_eq!(r.code, 0, "{hook} {d}:\n{}\n{}", r.stdout, r.stderr);
    }
    request_log(&sim.log_json())
        .into_iter()
        .filter(|q| !metadata(&q.path))
        .map(|q| format!("{} {} {}", q.method, q.path, q.status))
        .collect()
}

fn within_budget(
    cloud: &str,
    budget: usize,
    sim: &Sim,
    base: &dyn Fn() -> Command,
    served: &dyn Fn(&str) -> bool,
) {
    let run_of = challenges(cloud);
    let auth = phase(sim, "auth", &run_of, base);
    for (_, v) in &run_of {
        assert!(served(v), "{cloud}: {v} served after the run's auth");
    }
    let cleanup = phase(sim, "cleanup", &run_of, base);
    for (_, v) in &run_of {
        assert!(!served(v), "{cloud}: {v} still served after the cleanup");
    }
    eprintln!(
        "{cloud}: 20 challenges, {NAMES} TXT names, {ZONES} zone: auth {} calls, cleanup {} calls, budget {budget}",
        auth.len(),
        cleanup.len()
    );
    eprintln!("{cloud}: auth calls: {auth:?}");
    eprintln!("{cloud}: cleanup calls: {cleanup:?}");
    assert!(
        auth.len() + cleanup.len() <= budget,
        "{cloud}: {} + {} calls > {budget}",
        auth.len(),
        cleanup.len()
    );
}

#[test]
fn otc_run_of_20_challenges_within_budget() {
    let sim = start(common::base_seed());
    within_budget("otc", BUDGET, &sim, &|| cmd(&sim), &|v| {
        common::served_by_dns(&sim, v)
    });
    common::assert_foreign_intact(&sim);
}

fn ovh_seed() -> Value {
    json!({
        "nameservers": ["localhost."],
        "propagation_delay_ms": 0,
        "ovh": {
            "zones": [{"name": "example.test", "records": [
                {"subDomain": "_acme-challenge", "fieldType": "TXT", "target": "\"foreign-keep\"", "ttl": 600}
            ]}],
            "service_accounts": [{"client_id": "sa-all", "client_secret": "SA-SECRET-ALL-000000000001"}]
        }
    })
}

#[test]
fn ovh_run_of_20_challenges_within_budget() {
    let sim = start_cloud(ovh_seed(), "ovh");
    let base = || {
        let mut c = cmd_for(&sim, "ovh");
        c.env("OVH_CLIENT_ID", "sa-all")
            .env("OVH_CLIENT_SECRET", "SA-SECRET-ALL-000000000001");
        c
    };
    within_budget("ovh", BUDGET_PER_VALUE, &sim, &base, &|v| {
        common::served_by_dns(&sim, v)
    });
    assert!(common::served_by_dns(&sim, "foreign-keep"));
}

#[test]
fn ncp_run_of_20_challenges_within_budget() {
    let sim = common::ncp::start(common::ncp::seed());
    within_budget("ncp", BUDGET, &sim, &|| common::ncp::cmd(&sim), &|v| {
        common::served_by_dns(&sim, v)
    });
    common::ncp::assert_foreign_intact(&sim);
}
