//! No lost value under faults or concurrency, no litter, bounded resources.
//! Every test checks that the foreign values seeded in the zone are intact.

mod common;

use std::io::{Read, Write};

use common::*;
use otc_sim::Sim;
use serde_json::{Value, json};

/// A step of a flow: its name, HTTP method, and path prefix from the zone id.
type Step = (&'static str, &'static str, fn(&str) -> String);

/// One flow of the matrix: how to run it, and what must hold afterwards.
#[derive(Clone, Copy, Debug)]
enum Flow {
    /// auth on the existing set (PUT).
    AuthExisting,
    /// auth on a new name (POST).
    AuthNew,
    /// cleanup of our value among others (PUT).
    CleanupShared,
    /// cleanup of the last value (DELETE).
    CleanupLast,
}

const VALUE: &str = "matrix-value-1";

fn prepare(sim: &Sim, flow: Flow) {
    // Cleanups start from a set that holds our value.
    let setup = match flow {
        Flow::CleanupShared => Some("example.test"),
        Flow::CleanupLast => Some("new.example.test"),
        _ => None,
    };
    if let Some(d) = setup {
        let r = certbot(sim, "auth", d, VALUE, 0, d);
        assert_eq!(r.code, 0, "setup: {}", r.stderr);
        configure(sim, json!({"faults": []}));
        reset_log(sim);
    }
}

fn run_flow(sim: &Sim, flow: Flow) -> Run {
    let (hook, domain) = match flow {
        Flow::AuthExisting => ("auth", "example.test"),
        Flow::AuthNew => ("auth", "new.example.test"),
        Flow::CleanupShared => ("cleanup", "example.test"),
        Flow::CleanupLast => ("cleanup", "new.example.test"),
    };
    let mut c = cmd(sim);
    c.args([hook, "--http-timeout", "1", "--propagation-timeout", "20"])
        .env("CERTBOT_DOMAIN", domain)
        .env("CERTBOT_VALIDATION", VALUE)
        .env("CERTBOT_REMAINING_CHALLENGES", "0");
    run(sim, &mut c)
}

/// The end state a successful flow must leave.
fn assert_outcome(sim: &Sim, flow: Flow, label: &str) {
    let shared = txt_set(
        sim,
        "public",
        "example.test.",
        "_acme-challenge.example.test.",
    )
    .unwrap()
    .0;
    let new = txt_set(
        sim,
        "public",
        "example.test.",
        "_acme-challenge.new.example.test.",
    )
    .map(|s| s.0);
    match flow {
        Flow::AuthExisting => assert!(shared.contains(&VALUE.to_string()), "{label}: {shared:?}"),
        Flow::AuthNew => assert_eq!(new, Some(vec![VALUE.to_string()]), "{label}"),
        Flow::CleanupShared => assert!(!shared.contains(&VALUE.to_string()), "{label}: {shared:?}"),
        Flow::CleanupLast => {
            let state = sim.state_json().to_string();
            assert!(
                new.is_none() || state.contains("PENDING_DELETE"),
                "{label}: {new:?}"
            );
        }
    }
}

#[test]
fn fault_matrix_every_fault_at_every_step() {
    let faults: Vec<(&str, Value)> = vec![
        ("429", json!({"kind": "429", "retry_after": 1})),
        ("500", json!({"kind": "status", "status": 500})),
        ("502", json!({"kind": "status", "status": 502})),
        ("503", json!({"kind": "status", "status": 503})),
        ("reset", json!({"kind": "reset"})),
        ("slow", json!({"kind": "slow", "ms": 1800})),
        ("garbage", json!({"kind": "garbage"})),
        (
            "DNS.0314",
            json!({"kind": "status", "status": 400, "code": "DNS.0314", "message": "not in a steady state"}),
        ),
    ];
    let flows = [
        Flow::AuthExisting,
        Flow::AuthNew,
        Flow::CleanupShared,
        Flow::CleanupLast,
    ];
    let mut cases = Vec::new();
    for flow in flows {
        // (step, method, path prefix as a function of the zone id)
        let write = match flow {
            Flow::AuthExisting | Flow::CleanupShared => "PUT",
            Flow::AuthNew => "POST",
            Flow::CleanupLast => "DELETE",
        };
        let steps: Vec<Step> = vec![
            ("list zones", "GET", |_| "/v2/zones".to_string()),
            ("nameservers", "GET", |z| {
                format!("/v2/zones/{z}/nameservers")
            }),
            ("read set", "GET", |z| format!("/v2/zones/{z}/recordsets")),
            ("write", write, |z| format!("/v2/zones/{z}/recordsets")),
            ("poll", "GET", |z| format!("/v2/zones/{z}/recordsets/")),
            ("metadata", "GET", |_| "/openstack/".to_string()),
        ];
        for (step, method, prefix) in steps {
            for (fname, f) in &faults {
                // DNS.0314 is the answer to a change of a pending set only.
                if *fname == "DNS.0314" && step != "write" {
                    continue;
                }
                cases.push((flow, step, method, prefix, *fname, f.clone()));
            }
        }
    }
    let total = cases.len();
    let results = std::sync::Mutex::new(Vec::new());
    // Four simulators at a time: the faults include waits of a second or two.
    std::thread::scope(|scope| {
        for chunk in cases.chunks(total.div_ceil(4)) {
            let results = &results;
            scope.spawn(move || {
                for (flow, step, method, prefix, fname, fault) in chunk {
                    let mut seed = base_seed();
                    seed["pending_delay_ms"] = json!(200);
                    let sim = start(seed);
                    prepare(&sim, *flow);
                    let zid = public_zone_id(&sim, "example.test.");
                    let mut f = fault.clone();
                    f["count"] = json!(1);
                    f["method"] = json!(method);
                    f["path_prefix"] = json!(prefix(&zid));
                    configure(&sim, json!({"faults": [f]}));
                    let r = run_flow(&sim, *flow);
                    let label = format!("{flow:?} / {step} / {fname}");
                    // Every case: success, or exit 1 with one error line; never a panic.
                    assert!(
                        r.code == 0 || r.code == 1,
                        "{label}: exit {}: {}",
                        r.code,
                        r.stderr
                    );
                    assert!(!r.stderr.contains("panicked"), "{label}: {}", r.stderr);
                    if r.code == 1 {
                        let errors: Vec<&str> = r
                            .stderr
                            .lines()
                            .filter(|l| {
                                l.starts_with("otc-acme-hook: ")
                                    && !l.contains("retrying")
                                    && !l.contains("re-reading")
                                    && !l.contains("waiting")
                                    && !l.contains("added")
                                    && !l.contains("removed")
                                    && !l.contains("all nameservers")
                            })
                            .collect();
                        assert_eq!(errors.len(), 1, "{label}: {}", r.stderr);
                    } else {
                        assert_outcome(&sim, *flow, &label);
                    }
                    assert_foreign_intact(&sim);
                    results.lock().unwrap().push((label, r.code));
                }
            });
        }
    });
    let results = results.into_inner().unwrap();
    assert_eq!(results.len(), total);
    // One fault, then a healthy service: everything but an unreadable answer to a
    // read must end in success.
    let failed: Vec<&(String, i32)> = results
        .iter()
        .filter(|(l, c)| *c != 0 && !l.ends_with("garbage"))
        .collect();
    assert!(
        failed.is_empty(),
        "single transient faults must be ridden out: {failed:?}"
    );
    println!(
        "fault matrix: {} cases, {} ended in success",
        total,
        results.iter().filter(|(_, c)| *c == 0).count()
    );
}

#[test]
fn two_auths_at_the_same_moment_both_land() {
    for round in 0..8 {
        let mut seed = base_seed();
        seed["pending_delay_ms"] = json!(150);
        let sim = start(seed);
        // Odd rounds: two hosts (separate lock directories), so the API's own
        // conflicts (DNS.0312, DNS.0314, lost updates) are met and ridden out.
        let dirs = if round % 2 == 0 {
            [lock_dir(&sim), lock_dir(&sim)]
        } else {
            [lock_dir(&sim).join("a"), lock_dir(&sim).join("b")]
        };
        let domain = if round % 4 < 2 {
            "race.example.test"
        } else {
            "example.test"
        };
        let children: Vec<_> = ["race-a", "race-b"]
            .iter()
            .zip(dirs.iter())
            .map(|(v, dir)| {
                let mut c = cmd(&sim);
                c.args(["auth", "--no-dns-check"])
                    .env("OTC_LOCK_DIR", dir)
                    .env("CERTBOT_DOMAIN", domain)
                    .env("CERTBOT_VALIDATION", format!("{v}-{round}"))
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped());
                c.spawn().unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let name = format!("_acme-challenge.{domain}.");
        let vals = txt_set(&sim, "public", "example.test.", &name).unwrap().0;
        for v in ["race-a", "race-b"] {
            assert!(
                vals.contains(&format!("{v}-{round}")),
                "round {round}: {vals:?}"
            );
        }
        assert_foreign_intact(&sim);
    }
}

fn write_journal(sim: &Sim, entries: &[(i64, &str, &str)]) {
    let dir = lock_dir(sim);
    private_dir(&dir);
    let zid = public_zone_id(sim, "example.test.");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut text = String::new();
    for (age, name, value) in entries {
        text.push_str(&format!(
            "{}\t{}\t{zid}\texample.test.\t{name}\t{value}\n",
            now - age,
            sim.base_url()
        ));
    }
    std::fs::write(dir.join("journal.tsv"), text).unwrap();
}

#[test]
fn sweep_failures_never_fail_the_run() {
    let sim = start(base_seed());
    write_journal(
        &sim,
        &[(
            2 * 86_400,
            "_acme-challenge.example.test.",
            "foreign-keep\"evil",
        )],
    );
    configure(&sim, json!({}));
    let r = certbot_one(&sim, "auth", "www.example.test", "v-sweep");
    assert!(
        r.stderr.contains("journal: dropping an invalid entry"),
        "{}",
        r.stderr
    );
    assert_foreign_intact(&sim);
}

#[test]
fn more_invalid_input_is_rejected_before_any_network_call() {
    let sim = start(base_seed());
    let long_label = format!("{}.example.test", "a".repeat(64));
    let long_value = "v".repeat(256);
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![("CERTBOT_DOMAIN", ""), ("CERTBOT_VALIDATION", "v")],
        vec![("CERTBOT_DOMAIN", &long_label), ("CERTBOT_VALIDATION", "v")],
        vec![
            ("CERTBOT_DOMAIN", "example.test"),
            ("CERTBOT_VALIDATION", &long_value),
        ],
        vec![
            ("CERTBOT_DOMAIN", "example.test"),
            ("CERTBOT_VALIDATION", "back\\slash"),
        ],
        vec![
            ("CERTBOT_DOMAIN", "example.test"),
            ("CERTBOT_VALIDATION", "v"),
            ("CERTBOT_REMAINING_CHALLENGES", "x"),
        ],
        vec![
            ("CERTBOT_DOMAIN", "example.test"),
            ("CERTBOT_VALIDATION", "v"),
            ("CERTBOT_ALL_DOMAINS", "ok.test,bad domain"),
        ],
        vec![
            ("CERTBOT_DOMAIN", "example.test"),
            ("CERTBOT_VALIDATION", "v"),
            ("OTC_DNS_ENDPOINT", "https://"),
        ],
        vec![
            ("CERTBOT_DOMAIN", "example.test"),
            ("CERTBOT_VALIDATION", "v"),
            ("OTC_IAM_ENDPOINT", "http://iam.example.com"),
        ],
        vec![
            ("CERTBOT_DOMAIN", "example.test"),
            ("CERTBOT_VALIDATION", "v"),
            ("OTC_NAMESERVERS", "[::1"),
        ],
    ];
    for envs in cases {
        let mut c = cmd(&sim);
        c.arg("auth").envs(envs.iter().copied());
        let r = run(&sim, &mut c);
        assert_eq!(r.code, 2, "{envs:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{envs:?}: {}", r.stderr);
    }
    assert!(requests(&sim).is_empty());
}

/// A server that answers every request with an endless 200 body.
fn firehose() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in l.incoming().take(8) {
            let Ok(mut s) = conn else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n");
            let chunk = vec![b' '; 64 * 1024];
            for _ in 0..1600 {
                if s.write_all(&chunk).is_err() {
                    break;
                }
            }
        }
    });
    format!("http://{addr}")
}

#[test]
fn response_bodies_are_capped() {
    let url = firehose();
    let out = std::process::Command::new(BIN)
        .env_clear()
        .args([
            "api",
            "GET",
            &format!("{url}/v2/zones"),
            "--ak",
            "AK",
            "--sk",
            "SK",
            "--retries",
            "0",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.to_lowercase().contains("limit") || err.contains("body"),
        "{err}"
    );
}
