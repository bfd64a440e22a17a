//! A batched certbot run's cleanup costs its first hook only, on every cloud:
//! the first cleanup hook removes (and publishes the removal of) every value
//! of the run; each later cleanup hook of the run makes no request at all —
//! no metadata, no token, no listing — counted from the simulator's log.

mod common;

use common::cloud::challenge_on;

use std::process::Command;

use common::cloud::Cloud;
use common::{Run, cmd, cmd_for, request_log, reset_log, run, start, start_cloud};
use otc_sim::Sim;
use serde_json::{Value, json};

/// apex + wildcard of two names: four challenges, two TXT names.
fn challenges(prefix: &str) -> Vec<(String, String)> {
    (0..2)
        .flat_map(|i| {
            let d = format!("{prefix}{i}.example.test");
            [
                (d.clone(), format!("{prefix}{i}-apex-value")),
                (format!("*.{d}"), format!("{prefix}{i}-wild-value")),
            ]
        })
        .collect()
}

/// Runs one hook of each challenge in certbot's order; returns, per hook, the
/// requests it made (`METHOD path`), taken from the simulator's log.
fn hooks(
    sim: &Sim,
    hook: &str,
    run_of: &[(String, String)],
    base: &dyn Fn() -> Command,
) -> Vec<Vec<String>> {
    let mut per_hook = Vec::new();
    for (i, (d, _)) in run_of.iter().enumerate() {
        reset_log(sim);
        let mut c = common::certbot_hook_of(base(), hook, run_of, i);
        let r: Run = run(sim, &mut c);
        assert_eq!(r.code, 0, "{hook} {d}:\n{}\n{}", r.stdout, r.stderr);
        per_hook.push(
            request_log(&sim.log_json())
                .into_iter()
                .map(|q| format!("{} {}", q.method, q.path))
                .collect(),
        );
    }
    per_hook
}

/// The cleanup of a whole run: the first hook made requests, every later one none;
/// prints the counts per hook.
fn cleanup_costs_the_first_hook_only(
    cloud: &str,
    sim: &Sim,
    run_of: &[(String, String)],
    base: &dyn Fn() -> Command,
    published: &dyn Fn(&str) -> bool,
) {
    hooks(sim, "auth", run_of, base);
    for (_, v) in run_of {
        assert!(published(v), "{cloud}: {v} is served after the run's auth");
    }
    let all = run_of
        .iter()
        .map(|(d, _)| d.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let n = run_of.len();
    let mut counts = Vec::new();
    for (i, (d, v)) in run_of.iter().enumerate() {
        reset_log(sim);
        let mut c = base();
        let left = (n - 1 - i).to_string();
        challenge_on(
            &mut c,
            "cleanup",
            d.trim_start_matches("*."),
            v,
            Some(&left),
            Some(&all),
        );
        let r: Run = run(sim, &mut c);
        assert_eq!(r.code, 0, "cleanup {d}:\n{}\n{}", r.stdout, r.stderr);
        let made: Vec<String> = request_log(&sim.log_json())
            .into_iter()
            .map(|q| format!("{} {}", q.method, q.path))
            .collect();
        counts.push(made.len());
        if i == 0 {
            eprintln!("{cloud}: the first cleanup hook: {made:?}");
            assert!(!made.is_empty(), "{cloud}: the first cleanup removes");
            // Its commit published every removal of the run.
            for (_, v) in run_of {
                assert!(
                    !published(v),
                    "{cloud}: {v} still served after the first cleanup"
                );
            }
        } else {
            assert!(
                made.is_empty(),
                "{cloud}: cleanup hook {} of {n} made requests: {made:?}\n{}",
                i + 1,
                r.stderr
            );
        }
    }
    eprintln!("{cloud}: requests per cleanup hook, in certbot's order: {counts:?}");
}

#[test]
fn otc_later_cleanup_hooks_make_no_request() {
    let sim = start(common::base_seed());
    let run_of = challenges("otc");
    let served = |v: &str| {
        sim.state_json()["zones"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|z| z["recordsets"].as_array().cloned().unwrap_or_default())
            .any(|r| {
                r["status"] != "PENDING_DELETE"
                    && r["records"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x == &json!(format!("\"{v}\""))))
            })
    };
    cleanup_costs_the_first_hook_only("otc", &sim, &run_of, &|| cmd(&sim), &served);
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
fn ovh_later_cleanup_hooks_make_no_request() {
    let sim = start_cloud(ovh_seed(), "ovh");
    let run_of = challenges("ovh");
    let base = || {
        let mut c = cmd_for(&sim, "ovh");
        c.env("OVH_CLIENT_ID", "sa-all")
            .env("OVH_CLIENT_SECRET", "SA-SECRET-ALL-000000000001");
        c
    };
    cleanup_costs_the_first_hook_only("ovh", &sim, &run_of, &base, &|v| {
        common::served_by_dns(&sim, v)
    });
    assert!(common::served_by_dns(&sim, "foreign-keep"));
}

#[test]
fn ncp_later_cleanup_hooks_make_no_request() {
    let sim = common::ncp::start(common::ncp::seed());
    let run_of = challenges("ncp");
    cleanup_costs_the_first_hook_only("ncp", &sim, &run_of, &|| common::ncp::cmd(&sim), &|v| {
        common::served_by_dns(&sim, v)
    });
    common::ncp::assert_foreign_intact(&sim);
    common::ncp::assert_no_rollback(&sim);
}

#[test]
fn ncp_a_removal_whose_apply_failed_is_published_by_the_next_cleanup_hook() {
    let sim = common::ncp::start(common::ncp::seed());
    let run_of = challenges("ncpf");
    hooks(&sim, "auth", &run_of, &|| common::ncp::cmd(&sim));
    common::configure(
        &sim,
        json!({"faults": [{"kind": "status", "status": 400, "count": 1,
                           "path_prefix": "/dns/v1/ncpdns/record/apply/"}]}),
    );
    let all = run_of
        .iter()
        .map(|(d, _)| d.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let mut counts = Vec::new();
    for (i, (d, v)) in run_of.iter().enumerate() {
        reset_log(&sim);
        let mut c = Cloud::Ncp.certbot(&sim).challenge(
            "cleanup",
            d.trim_start_matches("*."),
            v,
            Some(&(3 - i).to_string()),
            Some(&all),
        );
        let r = run(&sim, &mut c);
        counts.push(request_log(&sim.log_json()).len());
        let still_served = run_of.iter().any(|(_, v)| common::served_by_dns(&sim, v));
        match i {
            0 => {
                assert_eq!(r.code, 1, "the apply failed: {}", r.stderr);
                assert!(still_served, "nothing published yet");
            }
            1 => {
                assert_eq!(r.code, 0, "{}", r.stderr);
                assert!(counts[1] > 0, "the next hook applies again");
                assert!(!still_served, "every removal published");
            }
            _ => {
                assert_eq!(r.code, 0, "{}", r.stderr);
                assert_eq!(counts[i], 0, "hook {}", i + 1);
            }
        }
    }
    eprintln!("ncp, first apply failing: requests per cleanup hook: {counts:?}");
    common::ncp::assert_foreign_intact(&sim);
}

/// Hook `i` of the certbot run `run_of`: its result and the requests it made.
fn hook_at(
    sim: &Sim,
    base: &dyn Fn() -> Command,
    hook: &str,
    run_of: &[(String, String)],
    i: usize,
) -> (Run, Vec<String>) {
    reset_log(sim);
    let mut c = common::certbot_hook_of(base(), hook, run_of, i);
    let r = run(sim, &mut c);
    let made = request_log(&sim.log_json())
        .into_iter()
        .map(|q| format!("{} {}", q.method, q.path))
        .collect();
    (r, made)
}

/// A run whose last auth hook never came (certbot stopped): its values were
/// never sent, and every cleanup hook of it makes no request at all.
fn a_stopped_run_cleans_up_with_no_request(
    cloud: &str,
    sim: &Sim,
    run_of: &[(String, String)],
    base: &dyn Fn() -> Command,
) {
    let n = run_of.len();
    for i in 0..n - 1 {
        let (r, made) = hook_at(sim, base, "auth", run_of, i);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(made.is_empty(), "{cloud}: an early auth hook sent {made:?}");
    }
    // certbot cleans up the challenges whose auth hook ran.
    for i in 0..n - 1 {
        let (r, made) = hook_at(sim, base, "cleanup", run_of, i);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            made.is_empty(),
            "{cloud}: cleanup hook {} of a stopped run made requests: {made:?}",
            i + 1
        );
        assert!(r.stdout.contains("was never written"), "{}", r.stdout);
    }
    let journal =
        std::fs::read_to_string(common::lock_dir(sim).join("journal.tsv")).unwrap_or_default();
    assert!(
        run_of.iter().all(|(_, v)| !journal.contains(v.as_str())),
        "{cloud}: the stopped run is forgotten: {journal}"
    );
}

#[test]
fn a_stopped_run_costs_no_request_on_any_cloud() {
    let otc = start(common::base_seed());
    a_stopped_run_cleans_up_with_no_request("otc", &otc, &challenges("so"), &|| cmd(&otc));
    let ovh = start_cloud(ovh_seed(), "ovh");
    a_stopped_run_cleans_up_with_no_request("ovh", &ovh, &challenges("sv"), &|| {
        let mut c = cmd_for(&ovh, "ovh");
        c.env("OVH_CLIENT_ID", "sa-all")
            .env("OVH_CLIENT_SECRET", "SA-SECRET-ALL-000000000001");
        c
    });
    let ncp = common::ncp::start(common::ncp::seed());
    a_stopped_run_cleans_up_with_no_request("ncp", &ncp, &challenges("sn"), &|| {
        common::ncp::cmd(&ncp)
    });
}

/// Two domains, the first cleanup hook's apply failing for one of them: the
/// run's last hook, whose own value is published, still publishes the other
/// domain's removal (it must not skip, nor forget the run), and applies only
/// that domain: never an empty apply of the domain already published.
#[test]
fn ncp_a_run_over_two_domains_publishes_the_failed_one_and_only_it() {
    let sim = common::ncp::start(common::ncp::seed());
    // Certbot's order: the name in sub.example.test (domain 121) first.
    let run_of = vec![
        (
            "y.sub.example.test".to_string(),
            "two-dom-y-value".to_string(),
        ),
        ("x.example.test".to_string(), "two-dom-x-value".to_string()),
    ];
    hooks(&sim, "auth", &run_of, &|| common::ncp::cmd(&sim));
    assert!(run_of.iter().all(|(_, v)| common::served_by_dns(&sim, v)));
    common::configure(
        &sim,
        json!({"faults": [{"kind": "status", "status": 400, "count": 1,
                           "path_prefix": "/dns/v1/ncpdns/record/apply/121"}]}),
    );
    let base = || common::ncp::cmd(&sim);
    let (first, _) = hook_at(&sim, &base, "cleanup", &run_of, 0);
    assert_eq!(first.code, 1, "the apply of 121 failed: {}", first.stderr);
    assert!(
        !common::served_by_dns(&sim, "two-dom-x-value"),
        "120 was applied"
    );
    assert!(
        common::served_by_dns(&sim, "two-dom-y-value"),
        "121 not yet"
    );
    let (last, made) = hook_at(&sim, &base, "cleanup", &run_of, 1);
    assert_eq!(last.code, 0, "{}\n{}", last.stdout, last.stderr);
    let applies: Vec<&String> = made.iter().filter(|m| m.contains("/apply/")).collect();
    assert_eq!(
        applies,
        vec!["PUT /dns/v1/ncpdns/record/apply/121"],
        "only the failed domain is applied again: {made:?}"
    );
    assert!(
        !common::served_by_dns(&sim, "two-dom-y-value"),
        "121's removal published"
    );
    eprintln!("ncp, two domains, one apply failing: last cleanup hook: {made:?}");
    common::ncp::assert_foreign_intact(&sim);
}
