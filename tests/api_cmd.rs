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
    let zid = public_zone_id(&sim, "sub.example.test.");
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

/// The OTC how-to's `aksk_apicall` script, as its users type it:
/// `aksk_apicall [--metadata URL | --ak AK] [--sk SK] [--token TOKEN] {GET,PUT,POST,DELETE} url [body]`,
/// with the long forms `--access-key`, `--secret-key`, `--security-token` and a body `@file`.
#[test]
fn the_seed_scripts_command_lines_work_unchanged() {
    let sim = start(base_seed());
    let zones = format!("{}/v2/zones", sim.base_url());
    let zone_count = |stdout: &str| {
        let v: Value = serde_json::from_str(stdout).expect("JSON on stdout");
        v["zones"].as_array().map(Vec::len).unwrap_or(0)
    };
    // No OTC_METADATA_URL: the URL comes from the command line only.
    let bare = || {
        let mut c = cmd(&sim);
        c.env_remove("OTC_METADATA_URL");
        c
    };

    // `aksk_apicall GET https://dns.eu-de.otc.t-systems.com/v2/zones` (no credentials: metadata).
    let mut c = bare();
    c.args(["api", "--metadata", &sim.metadata_url(), "GET", &zones]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "--metadata: {}", r.stderr);
    assert!(zone_count(&r.stdout) >= 2);
    let mut c = bare();
    c.args(["api", "-m", &sim.metadata_url(), "GET", &zones]);
    assert_eq!(run(&sim, &mut c).code, 0);

    // Permanent keys, in every spelling the script accepts.
    let (ak, sk) = (
        "AKSTATIC000000000001",
        "SKstatic-secret-0000000000000000000000001",
    );
    for (a, s) in [
        ("--access-key", "--secret-key"),
        ("--ak", "--sk"),
        ("-a", "-s"),
    ] {
        let mut c = bare();
        c.args(["api", a, ak, s, sk, "GET", &zones]);
        let r = run(&sim, &mut c);
        assert_eq!(r.code, 0, "{a} {s}: {}", r.stderr);
        assert!(zone_count(&r.stdout) >= 2);
        // A secret on the command line warns whichever name it was given under.
        assert!(
            r.stderr
                .contains("warning: --sk on the command line is visible in `ps`"),
            "{a} {s}: {}",
            r.stderr
        );
    }

    // Temporary keys with --security-token: read them from the metadata service as the
    // how-to's step 2 does, then call with all three.
    let out = bare()
        .args(["api", "--metadata", &sim.metadata_url()])
        .args(["--show-secrets", "GET", &sim.metadata_url()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let cred: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cred = &cred["credential"];
    let (tak, tsk, token) = (
        cred["access"].as_str().unwrap(),
        cred["secret"].as_str().unwrap(),
        cred["securitytoken"].as_str().unwrap(),
    );
    let mut c = bare();
    c.args([
        "api",
        "--access-key",
        tak,
        "--secret-key",
        tsk,
        "--security-token",
        token,
        "GET",
        &zones,
    ]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "--security-token: {}", r.stderr);
    assert!(
        r.stderr
            .contains("warning: --token on the command line is visible in `ps`"),
        "{}",
        r.stderr
    );
    // Without its token the temporary key is refused: the token was really sent.
    let mut c = bare();
    c.args([
        "api",
        "--access-key",
        tak,
        "--secret-key",
        tsk,
        "GET",
        &zones,
    ]);
    assert_eq!(run(&sim, &mut c).code, 1);

    // POST with `@file`, then DELETE, with the long forms.
    let zid = public_zone_id(&sim, "sub.example.test.");
    let dir = std::env::temp_dir().join(format!("otc-api-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let body = dir.join("body.json");
    std::fs::write(
        &body,
        r#"{"name": "_seed.sub.example.test.", "type": "TXT", "records": ["\"from-aksk\""]}"#,
    )
    .unwrap();
    let mut c = bare();
    c.args([
        "api",
        "--access-key",
        ak,
        "--secret-key",
        sk,
        "POST",
        &format!("{zones}/{zid}/recordsets"),
        &format!("@{}", body.display()),
    ]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "POST @file: {}", r.stderr);
    assert_eq!(
        txt_set(
            &sim,
            "public",
            "sub.example.test.",
            "_seed.sub.example.test."
        )
        .unwrap()
        .0,
        vec!["from-aksk"]
    );
    let created: Value = serde_json::from_str(&r.stdout).unwrap();
    let mut c = bare();
    c.args([
        "api",
        "--metadata",
        &sim.metadata_url(),
        "DELETE",
        &format!(
            "{zones}/{zid}/recordsets/{}",
            created["id"].as_str().unwrap()
        ),
    ]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "DELETE: {}", r.stderr);
    std::fs::remove_dir_all(dir).ok();
}
