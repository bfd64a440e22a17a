//! Riding through throttling, 5xx, a drifting clock and a credentials file.

mod common;

use common::*;
use serde_json::json;

fn statuses(sim: &otc_sim::Sim) -> Vec<u64> {
    requests(sim).into_iter().map(|(_, _, s)| s).collect()
}

fn auth(sim: &otc_sim::Sim, extra: &[&str]) -> Run {
    let mut c = cmd(sim);
    c.arg("auth")
        .args(extra)
        .env("CERTBOT_DOMAIN", "example.test")
        .env("CERTBOT_VALIDATION", "v-resilience");
    run(sim, &mut c)
}

#[test]
fn small_skew_is_not_blamed_and_a_401_is_not_looped() {
    // A wrong key with a right clock: one 401, then (metadata credentials) one
    // fresh fetch and one more try, never more.
    let sim = start(base_seed());
    let mut c = cmd(&sim);
    c.arg("auth")
        .env("OS_ACCESS_KEY", "AKSTATIC000000000001")
        .env("OS_SECRET_KEY", "wrong")
        .env("CERTBOT_DOMAIN", "example.test")
        .env("CERTBOT_VALIDATION", "v");
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
    let r = auth(&sim, &[]);
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
    let r = auth(&sim, &[]);
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
    let r = auth(&sim, &[]);
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
    let r = auth(&sim, &["--retries", "2"]);
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
    let r = auth(&sim, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(statuses(&sim).iter().filter(|s| **s == 400).count(), 1);
}

#[test]
fn deadline_shorter_than_propagation_timeout_is_refused() {
    let sim = start(base_seed());
    let r = auth(&sim, &["--deadline", "10", "--propagation-timeout", "20"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--deadline (10s) is shorter than --propagation-timeout (20s)"),
        "{}",
        r.stderr
    );
    assert!(requests(&sim).is_empty());
}

#[test]
fn deadline_ends_a_hanging_run() {
    let sim = start(base_seed());
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let r = auth(
        &sim,
        &[
            "--nameserver",
            &silent.local_addr().unwrap().to_string(),
            "--no-cname",
            "--propagation-timeout",
            "2",
            "--deadline",
            "2",
        ],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("deadline") || r.stderr.contains("propagation: after"),
        "{}",
        r.stderr
    );
}

#[cfg(unix)]
#[test]
fn credentials_file_source() {
    use std::os::unix::fs::PermissionsExt;
    let sim = start(base_seed());
    let dir = std::env::temp_dir().join(format!("otc-cf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("credentials");
    std::fs::write(
        &path,
        "# test\naccess_key = AKSTATIC000000000001\nsecret_key = SKstatic-secret-0000000000000000000000001\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let p = path.to_str().unwrap();
    let r = auth(&sim, &["--credentials-file", p]);
    assert_eq!(r.code, 2, "group-readable file refused: {}", r.stderr);
    assert!(r.stderr.contains(&format!("chmod 600 {p}")), "{}", r.stderr);
    assert!(requests(&sim).is_empty());

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut c = cmd(&sim);
    c.args(["auth", "-v"])
        .env("OTC_CREDENTIALS_FILE", p)
        .env(
            "OTC_METADATA_URL",
            "http://127.0.0.1:1/openstack/latest/securitykey",
        )
        .env("CERTBOT_DOMAIN", "example.test")
        .env("CERTBOT_VALIDATION", "v-file");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("credentials from credentials file"),
        "{}",
        r.stderr
    );
    let keys: Vec<String> = sim.log_json()["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["access_key"].as_str().map(str::to_string))
        .collect();
    assert!(
        !keys.is_empty() && keys.iter().all(|k| k == "AKSTATIC000000000001"),
        "{keys:?}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn forced_source_and_skipped_sources_message() {
    let sim = start(base_seed());
    let mut c = cmd(&sim);
    c.arg("auth")
        .env(
            "OTC_METADATA_URL",
            "http://127.0.0.1:1/openstack/latest/securitykey",
        )
        .env("CERTBOT_DOMAIN", "example.test")
        .env("CERTBOT_VALIDATION", "v");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 1);
    let line = r.stderr.trim();
    assert_eq!(line.lines().count(), 1, "{line}");
    for part in [
        "flags: no --ak/--sk",
        "environment: no OS_ACCESS_KEY",
        "credentials file: no --credentials-file",
        "container identity: no",
        "ECS metadata: ",
    ] {
        assert!(line.contains(part), "{part}: {line}");
    }
    // Forcing the file source while keys sit in the environment: refused before any call.
    let mut c = cmd(&sim);
    c.args(["auth", "--credentials", "file"])
        .env("OS_ACCESS_KEY", "AKSTATIC000000000001")
        .env("OS_SECRET_KEY", "SKstatic-secret-0000000000000000000000001")
        .env("CERTBOT_DOMAIN", "example.test")
        .env("CERTBOT_VALIDATION", "v");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("forced by --credentials"), "{}", r.stderr);
    // Forcing metadata ignores keys in the environment.
    let mut c = cmd(&sim);
    c.args(["auth", "--credentials", "metadata", "-v"])
        .env("OS_ACCESS_KEY", "AKSTATIC000000000001")
        .env("OS_SECRET_KEY", "SKstatic-secret-0000000000000000000000001")
        .env("CERTBOT_DOMAIN", "example.test")
        .env("CERTBOT_VALIDATION", "v");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("credentials from ECS agency"),
        "{}",
        r.stderr
    );
}

/// A "proxy" that records the first request line and refuses it: shows where a
/// request was headed without any traffic leaving the machine.
fn refusing_proxy() -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in l.incoming().take(4) {
            let Ok(mut s) = conn else { continue };
            let mut line = String::new();
            let _ = BufReader::new(&s).read_line(&mut line);
            let _ = tx.send(line.trim().to_string());
            let _ = s.write_all(
                b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (url, rx)
}

#[test]
fn huawei_cloud_profile_sets_default_endpoints_and_explicit_ones_win() {
    let sim = start(base_seed());
    let (proxy, seen) = refusing_proxy();
    // Where the default DNS endpoint points, per profile; OTC keeps public DNS in
    // eu-de whatever the region.
    let cases: [(&[&str], &str); 2] = [
        (
            &["--cloud", "huawei", "--region", "ap-southeast-1"],
            "dns.ap-southeast-1.myhuaweicloud.com:443",
        ),
        (&["--region", "eu-nl"], "dns.eu-de.otc.t-systems.com:443"),
    ];
    for (profile, host) in cases {
        let mut c = cmd(&sim);
        c.env_remove("OTC_DNS_ENDPOINT")
            .env("HTTPS_PROXY", &proxy)
            .args(["api", "GET", "/v2/zones", "--retries", "0"])
            .args(profile);
        let r = run(&sim, &mut c);
        assert_eq!(r.code, 1);
        let line = seen
            .recv_timeout(std::time::Duration::from_secs(5))
            .unwrap();
        assert_eq!(line, format!("CONNECT {host} HTTP/1.1"));
    }
    // An explicit endpoint wins over the profile.
    let mut c = cmd(&sim);
    c.args(["api", "GET", "/v2/zones", "--cloud", "huawei"]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
}
