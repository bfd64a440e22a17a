//! Faults injected over `/_sim/config`, the simulated clock's offset, and
//! what a skewed signature gets (the simulated `Date`, one log entry).

mod common;

use std::time::{Duration, Instant};

use otc_sim::Seed;
use serde_json::{Value, json};

use common::*;

#[test]
fn faults_and_clock_offset_over_http() {
    let sim = demo_sim();
    let config = r#"{"faults":[
        {"kind":"reset","path_prefix":"/openstack/"},
        {"kind":"429","retry_after":2,"path_prefix":"/openstack/"},
        {"kind":"garbage","path_prefix":"/openstack/"},
        {"kind":"slow","ms":200,"path_prefix":"/openstack/"}
    ], "clock_offset_secs": 3600}"#;
    let (status, _, body) = http(&sim, "POST", "/_sim/config", &[], config).unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["faults"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    let url = "/openstack/latest/securitykey";
    assert!(
        http(&sim, "GET", url, &[], "").is_none(),
        "reset: closed without an answer"
    );
    let (status, headers, body) = http(&sim, "GET", url, &[], "").unwrap();
    assert_eq!(
        (status, get_header(&headers, "retry-after")),
        (429, Some("2"))
    );
    assert!(body.contains("APIG.0308"));
    let (status, _, body) = http(&sim, "GET", url, &[], "").unwrap();
    assert_eq!((status, body.as_str()), (200, "<html>oops</html>"));
    let started = Instant::now();
    let (status, headers, body) = http(&sim, "GET", url, &[], "").unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(status, 200);

    // The simulated clock runs an hour ahead: Date and expires_at follow it.
    let date = httpdate::parse_http_date(get_header(&headers, "date").unwrap()).unwrap();
    let ahead = date
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    assert!(ahead > Duration::from_secs(3500), "{ahead:?}");
    let cred: Value = serde_json::from_str(&body).unwrap();
    // Signed with the real clock, an hour behind the server: refused.
    let (status, err) = signed(&sim, "GET", "/v2/zones", "", &cred["credential"]);
    assert_eq!(
        (status, err["error_code"].as_str()),
        (401, Some("APIG.0303"))
    );

    let faults: Vec<_> = sim.log_json()["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["fault"].as_str().map(str::to_string),
                r["status"].as_u64(),
            )
        })
        .collect();
    assert_eq!(faults[0], (Some("reset".to_string()), None));
    assert_eq!(faults[1], (Some("429".to_string()), Some(429)));
    assert_eq!(faults[4], (None, Some(401)));

    let (status, _, body) = http(&sim, "POST", "/_sim/config", &[], r#"{"bogus":1}"#).unwrap();
    assert_eq!(status, 400, "{body}");
    let (status, _, _) = http(&sim, "GET", "/nowhere", &[], "").unwrap();
    assert_eq!(status, 404);
}

#[test]
fn skewed_signatures_get_the_simulated_date_and_one_log_entry() {
    let sim = demo_sim();
    let seed = Seed::demo();
    let perm = json!({"access": seed.credentials[0].access, "secret": seed.credentials[0].secret});
    let (status, _, _) = http(
        &sim,
        "POST",
        "/_sim/config",
        &[],
        r#"{"clock_offset_secs": -1800}"#,
    )
    .unwrap();
    assert_eq!(status, 200);
    let assume = json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role":
        {"agency_name": "dns-agency", "domain_name": "partner"}}}})
    .to_string();
    for (method, url, body) in [
        ("GET", "/v2/zones", ""),
        (
            "POST",
            "/v3.0/OS-CREDENTIAL/securitytokens",
            assume.as_str(),
        ),
        ("POST", "/v3/auth/tokens", assume.as_str()),
    ] {
        http(&sim, "POST", "/_sim/reset-log", &[], "").unwrap();
        let (status, headers, text) = signed_answer(&sim, method, url, body, &perm);
        let err: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (status, err["error_code"].as_str()),
            (401, Some("APIG.0303")),
            "{url}"
        );
        let date = httpdate::parse_http_date(get_header(&headers, "date").unwrap()).unwrap();
        let behind = std::time::SystemTime::now()
            .duration_since(date)
            .unwrap_or_default();
        assert!(
            (1790..1810).contains(&behind.as_secs()),
            "Date follows the simulated clock: {behind:?}"
        );
        let log = sim.log_json();
        let requests = log["requests"].as_array().unwrap();
        assert_eq!(requests.len(), 1, "{url}: {requests:?}");
        assert_eq!(requests[0]["status"], 401);
        assert_eq!(requests[0]["code"], "APIG.0303");
        assert_eq!(requests[0]["auth"], "aksk");
        assert_eq!(requests[0]["access_key"], perm["access"]);
    }
}
