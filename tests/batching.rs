//! A certbot run at the cost of one name: early auth hooks record their value,
//! the last one writes each TXT name once, waits once; the first cleanup
//! removes the run's values together. Counts come from the simulator's log.

mod common;

use common::cloud::Cloud;
use common::*;
use otc_sim::Sim;
use serde_json::{Value, json};

/// One certbot run's hooks, in certbot's order: `(domain, value)` per challenge.
fn run_hooks(
    sim: &Sim,
    hook: &str,
    challenges: &[(String, String)],
    extra: &[(&str, &str)],
) -> Vec<Run> {
    let all = challenges
        .iter()
        .map(|(d, _)| d.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let n = challenges.len();
    challenges
        .iter()
        .enumerate()
        .map(|(i, (d, v))| {
            let mut c = Cloud::Otc.certbot(sim).hook_args(["-v"]).challenge(
                hook,
                d.trim_start_matches("*."),
                v,
                Some(&(n - 1 - i).to_string()),
                Some(&all),
            );
            for (k, val) in extra {
                c.env(k, val);
            }
            let r = run(sim, &mut c);
            assert_eq!(r.code, 0, "{hook} {d}: {}", r.stderr);
            r
        })
        .collect()
}

/// apex + wildcard for `pairs` names under example.test.
fn pairs(prefix: &str, pairs: usize) -> Vec<(String, String)> {
    (0..pairs)
        .flat_map(|i| {
            let d = format!("{prefix}{i}.example.test");
            [
                (d.clone(), format!("{prefix}{i}-apex")),
                (format!("*.{d}"), format!("{prefix}{i}-wild")),
            ]
        })
        .collect()
}

fn log(sim: &Sim) -> Vec<Value> {
    sim.log_json()["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn ten_apex_and_wildcard_pairs_cost_one_write_per_name_and_no_pending_wait() {
    let mut seed = base_seed();
    seed["pending_delay_ms"] = json!(500);
    let sim = start(seed);
    let run = pairs("p", 10);
    let hooks = run_hooks(&sim, "auth", &run, &[]);
    assert_eq!(
        set_writes(&sim),
        10,
        "one write per TXT name: {:?}",
        requests(&sim)
    );
    let not_steady = log(&sim).iter().filter(|r| r["code"] == "DNS.0314").count();
    assert_eq!(not_steady, 0);
    for (i, r) in hooks.iter().enumerate() {
        assert!(
            !r.stderr.contains("waiting before changing it"),
            "hook {i} slept on a pending set: {}",
            r.stderr
        );
        if i + 1 < hooks.len() {
            assert!(r.stderr.contains("recorded TXT value"), "{}", r.stderr);
        }
    }
    for i in 0..10 {
        let vals = public_txt(
            &sim,
            "example.test.",
            &format!("_acme-challenge.p{i}.example.test."),
        );
        assert_eq!(vals, vec![format!("p{i}-apex"), format!("p{i}-wild")]);
    }
    // Cleanup: the first hook removes all; the others find theirs removed.
    reset_log(&sim);
    let all = run
        .iter()
        .map(|(d, _)| d.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let n = run.len();
    let mut after_first = 0;
    for (i, (d, v)) in run.iter().enumerate() {
        let r = certbot(
            &sim,
            "cleanup",
            d.trim_start_matches("*."),
            v,
            (n - 1 - i) as u32,
            &all,
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        if i == 0 {
            after_first = requests(&sim).len();
        } else if i + 1 < n {
            // Found removed in the journal: no credential fetched, no request.
            assert!(
                r.stdout.contains("was removed with the other values"),
                "{}",
                r.stdout
            );
            assert!(r.stderr.is_empty(), "{}", r.stderr);
            assert_eq!(requests(&sim).len(), after_first, "hook {i} made a request");
        }
    }
    assert_eq!(
        set_writes(&sim),
        10,
        "one removal per name: {:?}",
        requests(&sim)
    );
    for i in 0..10 {
        assert_gone_or_going(&sim, &format!("p{i}-apex"));
    }
    assert_foreign_intact(&sim);
}

#[test]
fn a_mixed_run_writes_each_distinct_txt_name_once() {
    let mut seed = base_seed();
    seed["pending_delay_ms"] = json!(200);
    seed["zones"][0]["records"].as_array_mut().unwrap().push(
        json!({"name": "_acme-challenge.alias.example.test.", "type": "CNAME", "ttl": 300,
                     "records": ["_acme-challenge.target.sub.example.test."]}),
    );
    let sim = start(seed);
    let mut run: Vec<(String, String)> = Vec::new();
    for (i, d) in [
        "m1.example.test",
        "m2.example.test",
        "example.test",
        "deep.sub.example.test",
    ]
    .iter()
    .enumerate()
    {
        run.push((d.to_string(), format!("mixed-{i}-apex")));
        if i < 3 {
            run.push((format!("*.{d}"), format!("mixed-{i}-wild")));
        }
    }
    run.push(("alias.example.test".into(), "mixed-alias".into()));
    run_hooks(&sim, "auth", &run, &[]);
    // m1, m2, the apex (with its foreign value), the nested zone's name, the CNAME target.
    assert_eq!(set_writes(&sim), 5, "{:?}", requests(&sim));
    assert_eq!(
        public_txt(&sim, "example.test.", "_acme-challenge.example.test."),
        vec!["foreign-keep", "mixed-2-apex", "mixed-2-wild"]
    );
    assert_eq!(
        public_txt(
            &sim,
            "sub.example.test.",
            "_acme-challenge.deep.sub.example.test."
        ),
        vec!["mixed-3-apex"]
    );
    assert_eq!(
        public_txt(
            &sim,
            "sub.example.test.",
            "_acme-challenge.target.sub.example.test."
        ),
        vec!["mixed-alias"]
    );
    reset_log(&sim);
    run_hooks(&sim, "cleanup", &run, &[]);
    assert_eq!(set_writes(&sim), 5, "{:?}", requests(&sim));
    assert_foreign_intact(&sim);
    let state = sim.state_json().to_string();
    assert!(
        !state.contains("mixed-") || state.contains("PENDING_DELETE"),
        "{state}"
    );
}

#[test]
fn two_runs_on_one_host_never_mix() {
    let sim = start(base_seed());
    let a = pairs("a", 1);
    let b = pairs("b", 1);
    let one = |hook: &str, ch: &[(String, String)], i: usize| {
        let all = ch
            .iter()
            .map(|(d, _)| d.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let (d, v) = &ch[i];
        let r = certbot(
            &sim,
            hook,
            d.trim_start_matches("*."),
            v,
            (ch.len() - 1 - i) as u32,
            &all,
        );
        assert_eq!(r.code, 0, "{hook} {d}: {}", r.stderr);
    };
    let has = |v: &str| {
        sim.state_json()
            .to_string()
            .contains(&format!("\\\"{v}\\\""))
    };
    // Interleaved: A's first, B's first, A's last, B's last.
    one("auth", &a, 0);
    one("auth", &b, 0);
    one("auth", &a, 1);
    assert!(has("a0-apex") && has("a0-wild"), "A is complete");
    assert!(
        !has("b0-apex"),
        "B's early value is not written by A's last hook"
    );
    one("auth", &b, 1);
    assert!(has("b0-apex") && has("b0-wild"));
    // A's cleanup removes A's values only.
    one("cleanup", &a, 0);
    assert!(!has("a0-apex") && !has("a0-wild"));
    assert!(
        has("b0-apex") && has("b0-wild"),
        "B's values stay until B's cleanup"
    );
    one("cleanup", &b, 0);
    one("cleanup", &a, 1);
    one("cleanup", &b, 1);
    for v in ["a0-apex", "a0-wild", "b0-apex", "b0-wild"] {
        assert_gone_or_going(&sim, v);
    }
    assert_foreign_intact(&sim);
}

/// Runs the first `hooks` auth hooks of a certbot run from one shell process of
/// their own, as certbot runs them (a run is one process; its hooks its children).
fn run_from_one_process(sim: &Sim, run: &[(String, String)], hooks: usize) {
    let all = run
        .iter()
        .map(|(d, _)| d.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let mut script = String::new();
    for (i, (d, v)) in run.iter().take(hooks).enumerate() {
        script.push_str(&format!(
            "CERTBOT_DOMAIN='{}' CERTBOT_VALIDATION='{v}' CERTBOT_REMAINING_CHALLENGES={} CERTBOT_ALL_DOMAINS='{all}' '{BIN}' auth || exit 1\n",
            d.trim_start_matches("*."),
            run.len() - 1 - i
        ));
    }
    let base = cmd(sim);
    let mut c = std::process::Command::new("sh");
    c.env_clear().arg("-c").arg(script);
    for (k, v) in base.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_run_killed_after_its_second_hook_is_never_sent_by_the_next_run() {
    let sim = start(base_seed());
    let dead: Vec<(String, String)> = vec![
        ("k.example.test".into(), "dead-apex".into()),
        ("*.k.example.test".into(), "dead-wild".into()),
        ("k2.example.test".into(), "dead-k2".into()),
    ];
    // certbot dies after the second hook of three.
    run_from_one_process(&sim, &dead, 2);
    assert!(requests(&sim).is_empty());
    // The same certificate again, moments later: a new run.
    let fresh: Vec<(String, String)> = dead
        .iter()
        .map(|(d, v)| (d.clone(), v.replace("dead", "fresh")))
        .collect();
    run_from_one_process(&sim, &fresh, 3);
    let state = sim.state_json().to_string();
    assert!(
        !state.contains("dead-"),
        "a dead run's values are never sent: {state}"
    );
    assert_eq!(
        public_txt(&sim, "example.test.", "_acme-challenge.k.example.test."),
        vec!["fresh-apex", "fresh-wild"]
    );
    assert_eq!(
        public_txt(&sim, "example.test.", "_acme-challenge.k2.example.test."),
        vec!["fresh-k2"]
    );
    run_hooks(&sim, "cleanup", &fresh, &[]);
    assert_gone_or_going(&sim, "fresh-apex");
    assert_foreign_intact(&sim);
}

#[test]
fn a_value_dropped_by_a_racing_host_is_written_again() {
    let mut seed = base_seed();
    seed["pending_delay_ms"] = json!(300);
    // Someone else's value at the name: our write updates a set that another
    // host may have read before it (a set we create can't be raced so).
    seed["zones"][0]["records"]
        .as_array_mut()
        .unwrap()
        .push(json!(
            {"name": "_acme-challenge.r0.example.test.", "type": "TXT", "ttl": 300,
             "records": ["\"theirs-r0\""]}
        ));
    let sim = start(seed);
    let all = "r0.example.test,*.r0.example.test";
    let r = certbot(&sim, "auth", "r0.example.test", "r0-apex", 1, all);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Another host's read-modify-write drops our apex value between two polls of
    // the last hook (the fault waits until the value is there to drop).
    configure(
        &sim,
        json!({"faults": [{"kind": "drop_value", "value": "r0-apex", "method": "GET",
                           "path_prefix": "/v2/zones/"}]}),
    );
    let last = certbot(&sim, "auth", "r0.example.test", "r0-wild", 0, all);
    assert_eq!(last.code, 0, "{}", last.stderr);
    assert!(
        last.stdout.contains(
            "TXT value r0-apex at _acme-challenge.r0.example.test. went missing (another writer removed it); adding it again (1/2)"
        ),
        "{}",
        last.stdout
    );
    let mut served = public_txt(&sim, "example.test.", "_acme-challenge.r0.example.test.");
    served.sort();
    assert_eq!(served, vec!["r0-apex", "r0-wild", "theirs-r0"]);
    let fired = log(&sim).iter().any(|r| r["fault"] == "drop_value");
    assert!(fired, "the race happened");
}
