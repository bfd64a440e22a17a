//! `otc-acme-hook api`: signed calls with redacted output.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn get_path_against_the_dns_endpoint() {
    let sim = start(base_seed());
    let mut c = cmd(&sim);
    c.args(["api", "GET", "/v2/zones?type=public"]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).expect("JSON on stdout");
    assert!(v["zones"].as_array().unwrap().len() >= 2);
    assert!(r.stdout.contains("\n  "), "pretty-printed");
}

#[test]
fn post_put_delete_roundtrip_with_body_from_file_and_stdin() {
    let sim = start(base_seed());
    let zid = sim.state_json()["zones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["name"] == "sub.example.test." && z["zone_type"] == "public")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let dir = std::env::temp_dir().join(format!("otc-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let body = dir.join("body.json");
    std::fs::write(
        &body,
        r#"{ "name": "_x.sub.example.test.", "type": "TXT", "records": ["\"v1\""] }"#,
    )
    .unwrap();
    let mut c = cmd(&sim);
    c.args([
        "api",
        "POST",
        &format!("/v2/zones/{zid}/recordsets"),
        &format!("@{}", body.display()),
    ]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let created: Value = serde_json::from_str(&r.stdout).unwrap();
    let rid = created["id"].as_str().unwrap();

    let mut c = cmd(&sim);
    c.args([
        "api",
        "PUT",
        &format!("{}/v2/zones/{zid}/recordsets/{rid}", sim.base_url()),
        "-",
    ])
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"records":["\"v2\""]}"#)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        txt_set(&sim, "public", "sub.example.test.", "_x.sub.example.test.")
            .unwrap()
            .0,
        vec!["v2"]
    );

    let mut c = cmd(&sim);
    c.args([
        "api",
        "DELETE",
        &format!("/v2/zones/{zid}/recordsets/{rid}"),
    ]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn secrets_in_answers_are_redacted_unless_asked() {
    let sim = start(base_seed());
    let url = sim.metadata_url();
    let mut c = cmd(&sim);
    c.args(["api", "GET", &url]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    // A key named like a credential hides its whole value, nested keys and all.
    assert_eq!(v["credential"], "** redacted **");
    assert!(!r.stdout.contains("securitytoken"), "{}", r.stdout);

    let mut c = cmd(&sim);
    c.args(["api", "--show-secrets", "GET", &url]);
    let out = c.output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_ne!(v["credential"]["secret"], "** redacted **");
    assert!(
        v["credential"]["access"]
            .as_str()
            .is_some_and(|a| !a.is_empty())
    );
}

#[test]
fn non_2xx_exits_1_with_status_and_code() {
    let sim = start(base_seed());
    let mut c = cmd(&sim);
    c.args(["api", "GET", "/v2/zones/does-not-exist/recordsets"]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.starts_with(
            "otc-acme-hook: api: GET /v2/zones/does-not-exist/recordsets: HTTP 404 DNS.0302"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn bad_body_and_plain_http_are_rejected_before_the_network() {
    let sim = start(base_seed());
    for args in [
        vec!["api", "POST", "/v2/zones", "{not json"],
        vec!["api", "GET", "http://dns.example.com/v2/zones"],
        vec!["api", "TRACE", "/v2/zones"],
        vec!["api", "GET", "/v2/zones", "@/nonexistent/file.json"],
    ] {
        let mut c = cmd(&sim);
        c.args(&args);
        let r = run(&sim, &mut c);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
    }
    assert!(requests(&sim).is_empty());
}
