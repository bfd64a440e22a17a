//! End to end on loopback: every piece of the OTC simulator over real
//! sockets (metadata, DNS API, DNS over UDP/TCP, control endpoints), the
//! ports freed on shutdown, and seeds refused at start.

mod common;

use std::time::{Duration, Instant};

use otc_sim::{Seed, Sim, SimOptions};
use serde_json::{Value, json};
use simple_dns::RCODE;

use common::*;

#[test]
fn end_to_end_on_loopback() {
    let sim = demo_sim();
    assert!(sim.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(
        sim.metadata_url(),
        format!("{}/openstack/latest/securitykey", sim.base_url())
    );

    // Metadata: token, then credentials.
    let ttl = [(
        "X-Metadata-Token-Ttl-Seconds".to_string(),
        "21600".to_string(),
    )];
    let (status, headers, token) =
        http(&sim, "PUT", "/meta-data/latest/api/token", &ttl, "").unwrap();
    assert_eq!(status, 200);
    assert!(get_header(&headers, "date").is_some());
    let tok = [("X-Metadata-Token".to_string(), token)];
    let (status, headers, body) =
        http(&sim, "GET", "/openstack/latest/securitykey", &tok, "").unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        get_header(&headers, "content-type"),
        Some("application/json")
    );
    let cred: Value = serde_json::from_str(&body).unwrap();
    let cred = cred["credential"].clone();

    // Signed API calls with the temporary credential.
    let (status, zones) = signed(&sim, "GET", "/v2/zones?name=example.test.", "", &cred);
    assert_eq!(status, 200, "{zones}");
    assert_eq!(zones["metadata"]["total_count"], 2);
    let create = r#"{"name":"_acme-challenge.example.test.","type":"TXT","ttl":300,"records":["\"keep-me\"","\"new-value\""]}"#;
    let (status, err) = signed(
        &sim,
        "POST",
        "/v2/zones/zone-public/recordsets",
        create,
        &cred,
    );
    assert_eq!((status, err["code"].as_str()), (400, Some("DNS.0312")));
    let (_, list) = signed(
        &sim,
        "GET",
        "/v2/zones/zone-public/recordsets?name=_acme-challenge.example.test.&type=TXT",
        "",
        &cred,
    );
    let id = list["recordsets"][0]["id"].as_str().unwrap().to_string();
    let update = r#"{"name":"_acme-challenge.example.test.","type":"TXT","ttl":600,"records":["\"keep-me\"","\"new-value\""]}"#;
    let (status, rs) = signed(
        &sim,
        "PUT",
        &format!("/v2/zones/zone-public/recordsets/{id}"),
        update,
        &cred,
    );
    // No pending delay in this seed: the change is in force at once.
    assert_eq!(
        (status, rs["status"].as_str()),
        (202, Some("ACTIVE")),
        "{rs}"
    );

    // DNS over UDP: the old value until the change has propagated.
    assert_eq!(
        txt_count(&udp_ask(&sim, "_acme-challenge.example.test.")),
        (RCODE::NoError, false, 1)
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while txt_count(&udp_ask(&sim, "_acme-challenge.example.test.")).2 != 2 {
        assert!(Instant::now() < deadline, "change never served");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        txt_count(&tcp_ask(&sim, "_acme-challenge.example.test.")),
        (RCODE::NoError, false, 2)
    );
    assert_eq!(
        txt_count(&udp_ask(&sim, "missing.example.test.")).0,
        RCODE::NameError
    );

    // The log has each request, access keys but no secrets, and the served change.
    let secrets = sim.secrets();
    assert!(secrets.contains(&cred["secret"].as_str().unwrap().to_string()));
    let log = sim.log_json();
    let text = log.to_string();
    assert!(!text.contains(cred["secret"].as_str().unwrap()));
    assert!(!text.contains(cred["securitytoken"].as_str().unwrap()));
    let requests = log["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 6);
    assert_eq!(requests[1]["access_key"], cred["access"]);
    assert_eq!(requests[3]["code"], "DNS.0312");
    let served = log["served"].as_array().unwrap();
    assert_eq!(served.len(), 1);
    assert_eq!(
        served[0]["records"],
        json!(["\"keep-me\"", "\"new-value\""])
    );
    let put_t = requests[5]["t_ms"].as_i64().unwrap();
    let served_t = served[0]["t_ms"].as_i64().unwrap();
    assert!(
        (served_t - put_t - 300).abs() < 100,
        "served at accept + delay: {put_t} {served_t}"
    );

    // Control endpoints over HTTP agree with the library calls.
    let (status, _, body) = http(&sim, "GET", "/_sim/state", &[], "").unwrap();
    assert_eq!(status, 200);
    let state: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(state["zones"], sim.state_json()["zones"]);
    let (status, _, _) = http(&sim, "POST", "/_sim/reset-log", &[], "").unwrap();
    assert_eq!(status, 200);
    assert_eq!(sim.log_json()["requests"], json!([]));
    sim.shutdown();
}

#[test]
fn shutdown_frees_the_ports() {
    let sim = demo_sim();
    let (http_addr, dns_addr) = (sim.http_addr(), sim.dns_addr());
    drop(sim);
    let seed = Seed::demo();
    let again = Sim::start(SimOptions {
        seed,
        http_addr,
        dns_addr,
        ..SimOptions::default()
    })
    .unwrap();
    assert_eq!((again.http_addr(), again.dns_addr()), (http_addr, dns_addr));
}

#[test]
fn invalid_seed_is_refused() {
    let mut seed = Seed::demo();
    seed.zones[0].records[0].records = vec!["unquoted".into()];
    let err = Sim::start(SimOptions {
        seed,
        ..SimOptions::default()
    })
    .err()
    .unwrap();
    assert!(format!("{err:#}").contains("quotation mark"), "{err:#}");
}
