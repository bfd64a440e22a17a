//! The DNS API failing or misbehaving (OTC): every fault at every step of a
//! flow, throttling, flow control, 5xx, bounded retries, client errors not
//! retried, a refused signature not looped, a listing missing its records,
//! control characters and endless bodies from a server. No value is lost and
//! the foreign values seeded are intact.

mod common;

use std::io::{Read, Write};

use common::cloud::Cloud;
use common::hostile::{Hostile, json};
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
    let mut c = Cloud::Otc
        .certbot(sim)
        .hook_args(["--http-timeout", "1", "--propagation-timeout", "20"])
        .challenge(hook, domain, VALUE, Some("0"), None);
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

fn statuses(sim: &otc_sim::Sim) -> Vec<u64> {
    requests(sim).into_iter().map(|(_, _, s)| s).collect()
}

#[test]
fn small_skew_is_not_blamed_and_a_401_is_not_looped() {
    // A wrong key with a right clock: one 401, then (metadata credentials) one
    // fresh fetch and one more try, never more.
    let sim = start(base_seed());
    let mut c = Cloud::Otc
        .certbot(&sim)
        .env("OS_ACCESS_KEY", "AKSTATIC000000000001")
        .env("OS_SECRET_KEY", "wrong")
        .lone("auth", "example.test", "v");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 1);
    assert_eq!(
        statuses(&sim).iter().filter(|s| **s == 401).count(),
        1,
        "static keys: no retry after 401"
    );
}

#[test]
fn throttling_with_retry_after_is_honoured() {
    let sim = start(base_seed());
    configure(
        &sim,
        json!({"faults": [{"kind": "429", "retry_after": 1, "count": 2, "path_prefix": "/v2/"}]}),
    );
    let t0 = std::time::Instant::now();
    let r = lone_auth(&sim, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        t0.elapsed() >= std::time::Duration::from_secs(2),
        "waited Retry-After twice"
    );
    assert_eq!(statuses(&sim).iter().filter(|s| **s == 429).count(), 2);
    assert!(
        r.stdout.contains("HTTP 429; retrying in 1.0s"),
        "{}",
        r.stdout
    );
    assert_foreign_intact(&sim);
}

#[test]
fn flow_control_403_is_retried_like_throttling() {
    let sim = start(base_seed());
    configure(
        &sim,
        json!({"faults": [{"kind": "status", "status": 403, "code": "DNS.0014",
        "message": "flow control", "count": 1, "path_prefix": "/v2/"}]}),
    );
    let r = lone_auth(&sim, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("HTTP 403; retrying"), "{}", r.stdout);
}

#[test]
fn service_unavailable_twice_then_success() {
    let sim = start(base_seed());
    configure(
        &sim,
        json!({"faults": [{"kind": "status", "status": 503, "count": 2, "path_prefix": "/v2/"}]}),
    );
    let r = lone_auth(&sim, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(statuses(&sim).iter().filter(|s| **s == 503).count(), 2);
    assert_foreign_intact(&sim);
}

#[test]
fn retries_are_bounded() {
    let sim = start(base_seed());
    configure(
        &sim,
        json!({"faults": [{"kind": "status", "status": 503, "count": 50, "path_prefix": "/v2/"}]}),
    );
    let r = lone_auth(&sim, &["--retries", "2"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        statuses(&sim).iter().filter(|s| **s == 503).count(),
        3,
        "1 try + 2 retries"
    );
    assert!(
        r.stderr.lines().last().unwrap().contains("HTTP 503"),
        "{}",
        r.stderr
    );
}

#[test]
fn other_client_errors_are_not_retried() {
    let sim = start(base_seed());
    configure(
        &sim,
        json!({"faults": [{"kind": "status", "status": 400, "code": "DNS.0308", "count": 5, "path_prefix": "/v2/"}]}),
    );
    let r = lone_auth(&sim, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(statuses(&sim).iter().filter(|s| **s == 400).count(), 1);
}

#[test]
fn a_listing_without_records_stops_the_run_before_any_write() {
    let zones = r#"{"zones":[{"id":"z1","name":"example.test.","zone_type":"public"}],"links":{}}"#;
    let partial = r#"{"recordsets":[{"id":"rs1","name":"_acme-challenge.example.test.","type":"TXT","ttl":600,"status":"ACTIVE"}],"links":{}}"#;
    let server = Hostile::start(move |m, p| match (m, p) {
        ("GET", p) if p.starts_with("/v2/zones?") => json(200, zones),
        ("GET", p) if p.starts_with("/v2/zones/z1/recordsets") => json(200, partial),
        _ => json(500, r#"{"code":"X","message":"no"}"#),
    });
    let sim = start(base_seed());
    let mut c = Cloud::Otc
        .certbot(&sim)
        .env("OTC_DNS_ENDPOINT", server.url())
        .env("OS_ACCESS_KEY", "AKSTATIC000000000001")
        .env("OS_SECRET_KEY", "SKstatic-secret-0000000000000000000000001")
        .hook_args(["--no-dns-check", "--no-cname"])
        .lone("auth", "example.test", "v-partial");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("unreadable answer"), "{}", r.stderr);
    let writes: Vec<String> = server
        .seen()
        .into_iter()
        .filter(|s| !s.starts_with("GET"))
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
}

#[test]
fn control_characters_from_a_server_never_reach_the_terminal() {
    let sim = start(base_seed());
    configure(
        &sim,
        json!({"faults": [{"kind": "status", "status": 400, "code": "DNS.0400",
            "message": "bad \u{1b}[2J\u{1b}]0;owned\u{7}\r\nforged line", "method": "POST"}]}),
    );
    let r = certbot(
        &sim,
        "auth",
        "esc.example.test",
        "v-esc",
        0,
        "esc.example.test",
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        !r.stderr.contains('\u{1b}') && !r.stderr.contains('\r'),
        "{:?}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{:?}", r.stderr);
    assert!(r.stderr.contains("\\u{1b}[2J"), "{:?}", r.stderr);
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
