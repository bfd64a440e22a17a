//! The latency knob: remote requests (DNS API, token, IAM) are answered
//! `latency_ms` later, the metadata service at once, concurrent requests
//! overlap, and the log records the most in flight at once. Timings are
//! checked as lower bounds only; overlap is proven by the simulator's own
//! concurrency counter, never by a wall-clock upper bound.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use otc_sim::{CloudKind, Seed, Sim, SimOptions};
use serde_json::{Value, json};

fn start(cloud: CloudKind, seed: Value) -> Sim {
    Sim::start(SimOptions {
        seed: Seed::from_json(&seed.to_string()).unwrap(),
        cloud,
        ..SimOptions::default()
    })
    .unwrap()
}

/// One HTTP/1.1 exchange on a fresh connection: the status, or `None`
/// when the connection closed without an answer.
fn http(sim: &Sim, method: &str, path: &str, body: &str) -> Option<u16> {
    let mut s = TcpStream::connect(sim.http_addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        sim.http_addr(),
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    text.split(' ').nth(1).and_then(|s| s.parse().ok())
}

/// The logged requests to `path`: `(remote, latency_ms)` each.
fn logged(sim: &Sim, path: &str) -> Vec<(bool, u64)> {
    sim.log_json()["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"] == path)
        .map(|r| {
            (
                r["remote"].as_bool().unwrap(),
                r["latency_ms"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn peaks(sim: &Sim) -> (u64, u64) {
    let c = &sim.log_json()["concurrency"];
    (
        c["api_peak"].as_u64().unwrap(),
        c["all_peak"].as_u64().unwrap(),
    )
}

#[test]
fn a_remote_request_is_answered_no_sooner_than_the_latency() {
    let sim = start(
        CloudKind::Otc,
        json!({"metadata": {"enabled": true}, "latency_ms": 150}),
    );
    let t = Instant::now();
    // Unsigned: refused, but a refusal travels as far as an answer.
    let status = http(&sim, "GET", "/v2/zones", "");
    let took = t.elapsed();
    assert_eq!(status, Some(401));
    assert!(
        took >= Duration::from_millis(150),
        "answered after {took:?}"
    );
    assert_eq!(logged(&sim, "/v2/zones"), [(true, 150)]);
    assert_eq!(peaks(&sim), (1, 1));
}

#[test]
fn metadata_is_local_and_gets_no_latency() {
    let sim = start(
        CloudKind::Otc,
        json!({"metadata": {"enabled": true}, "latency_ms": 5000}),
    );
    // Classified by route: the log says which requests were remote and what
    // latency each was given.
    assert_eq!(
        http(&sim, "PUT", "/meta-data/latest/api/token", ""),
        Some(400)
    );
    assert_eq!(
        http(&sim, "GET", "/openstack/latest/securitykey", ""),
        Some(200)
    );
    assert_eq!(logged(&sim, "/openstack/latest/securitykey"), [(false, 0)]);
    assert_eq!(logged(&sim, "/meta-data/latest/api/token"), [(false, 0)]);
    assert_eq!(peaks(&sim), (0, 1), "no remote request was in flight");

    // IAM is remote.
    http(&sim, "POST", "/_sim/config", r#"{"latency_ms": 10}"#);
    http(&sim, "POST", "/v3/auth/tokens", "{}");
    assert_eq!(logged(&sim, "/v3/auth/tokens"), [(true, 10)]);
}

#[test]
fn ncp_metadata_is_local_and_global_dns_and_ovh_token_are_remote() {
    let ncp = start(
        CloudKind::Ncp,
        json!({"latency_ms": 20, "ncp": {"role": {"id": "r-1", "name": "dns-role"}}}),
    );
    http(
        &ncp,
        "GET",
        "/latest/meta-data/iam/security-credentials",
        "",
    );
    http(&ncp, "GET", "/dns/v1/ncpdns/domain", "");
    assert_eq!(
        logged(&ncp, "/latest/meta-data/iam/security-credentials"),
        [(false, 0)]
    );
    assert_eq!(logged(&ncp, "/dns/v1/ncpdns/domain"), [(true, 20)]);

    let ovh = start(CloudKind::Ovh, json!({"latency_ms": 20}));
    http(&ovh, "POST", "/auth/oauth2/token", "");
    http(&ovh, "GET", "/1.0/auth/time", "");
    assert_eq!(logged(&ovh, "/auth/oauth2/token"), [(true, 20)]);
    assert_eq!(logged(&ovh, "/1.0/auth/time"), [(true, 20)]);
}

#[test]
fn concurrent_requests_are_served_concurrently() {
    let sim = start(CloudKind::Otc, json!({"latency_ms": 400}));
    let t = Instant::now();
    std::thread::scope(|s| {
        let a = s.spawn(|| http(&sim, "GET", "/v2/zones", ""));
        let b = s.spawn(|| http(&sim, "GET", "/v2/zones?name=x", ""));
        assert_eq!(a.join().unwrap(), Some(401));
        assert_eq!(b.join().unwrap(), Some(401));
    });
    assert!(t.elapsed() >= Duration::from_millis(400));
    // Both were in their latency at once: the world is not locked meanwhile.
    assert_eq!(peaks(&sim), (2, 2));
    // Nothing is left counted in flight.
    let log = sim.log_json();
    assert_eq!(log["concurrency"]["api_in_flight"], 0);
    // Emptying the log starts the peaks again.
    http(&sim, "POST", "/_sim/reset-log", "");
    assert_eq!(peaks(&sim), (0, 0));
}

#[test]
fn the_config_api_reads_and_changes_the_latency() {
    let sim = start(CloudKind::Otc, json!({}));
    assert_eq!(
        http(&sim, "POST", "/_sim/config", r#"{"latency_ms": 60}"#),
        Some(200)
    );
    let t = Instant::now();
    http(&sim, "GET", "/v2/zones", "");
    assert!(t.elapsed() >= Duration::from_millis(60));
    assert_eq!(
        http(&sim, "POST", "/_sim/config", r#"{"latency_ms": 600001}"#),
        Some(400)
    );
    assert_eq!(
        http(&sim, "POST", "/_sim/config", r#"{"latency_ms": -1}"#),
        Some(400)
    );
    assert_eq!(logged(&sim, "/v2/zones"), [(true, 60)]);
}

#[test]
fn serve_takes_latency_ms_and_reports_it_in_its_config() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_otc-sim"))
        .args(["serve", "--latency-ms", "80"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    {
        use std::io::BufRead;
        let stdout = child.stdout.as_mut().unwrap();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
    }
    let ready: Value = serde_json::from_str(&line).unwrap();
    let addr = ready["http"].as_str().unwrap().to_string();
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET /_sim/config HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    let _ = s.read_to_string(&mut raw);
    let _ = child.kill();
    let _ = child.wait();
    let body = raw.split_once("\r\n\r\n").unwrap().1;
    let config: Value = serde_json::from_str(body).unwrap();
    assert_eq!(config["latency_ms"], 80, "{config}");
}
