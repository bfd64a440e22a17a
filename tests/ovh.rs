//! `--cloud ovh` end to end: the built binary, with a cleared environment,
//! against the simulator's OVHcloud module (token endpoint, /1.0/auth/time,
//! /1.0/domain/zone…, IAM policies, refresh-then-serve DNS). Every run goes
//! through `common::run`, which fails on any secret the simulator knows
//! (client secrets, application secrets, consumer keys, issued tokens) in
//! the output. Scenarios every cloud passes (apex+wildcard, re-run, nested
//! zone, day-old sweep, throttling…) are in matrix.rs; this file holds what
//! only OVH does (classic keys, regions, IAM policies, `ovh.conf`, tokens).

mod common;

use common::cloud::{Cloud, challenge_on};
use common::world::World;

use std::process::Command;

use common::{Run, cmd_for, configure, request_log, reset_log, run, start_cloud};
use otc_sim::Sim;
use serde_json::{Value, json};

const ALL: (&str, &str) = ("sa-all", "SA-SECRET-ALL-000000000001");
const ZONE: (&str, &str) = ("sa-zone", "SA-SECRET-ZONE-00000000002");
const NO_CREATE: (&str, &str) = ("sa-nocreate", "SA-SECRET-NOCREATE-000003");
const AK: &str = "AKCLASSIC00000001";
const AS: &str = "AS-CLASSIC-SECRET-0000000001";
const CK: &str = "CK-CLASSIC-CONSUMER-000000001";

fn policy(actions: &[&str]) -> Value {
    json!({"actions": actions, "zones": ["example.test"]})
}

fn seed() -> Value {
    let hook = [
        "dnsZone:apiovh:get",
        "dnsZone:apiovh:record/get",
        "dnsZone:apiovh:record/create",
        "dnsZone:apiovh:record/delete",
        "dnsZone:apiovh:refresh",
    ];
    json!({
        "nameservers": ["localhost."],
        "propagation_delay_ms": 300,
        "ovh": {
            "zones": [{"name": "example.test", "records": [
                {"subDomain": "_acme-challenge", "fieldType": "TXT", "target": "\"foreign-keep\"", "ttl": 600},
                {"subDomain": "xacme-challenge", "fieldType": "TXT", "target": "lookalike"},
                {"subDomain": "", "fieldType": "TXT", "target": "\"v=spf1 -all\""}
            ]}],
            "service_accounts": [
                {"client_id": ALL.0, "client_secret": ALL.1},
                {"client_id": ZONE.0, "client_secret": ZONE.1, "policy": policy(&hook)},
                {"client_id": NO_CREATE.0, "client_secret": NO_CREATE.1,
                 "policy": policy(&[hook[0], hook[1], hook[3], hook[4]])}
            ],
            "classic_keys": [{"application_key": AK, "application_secret": AS, "consumer_key": CK}]
        }
    })
}

fn sim() -> Sim {
    start_cloud(seed(), "ovh")
}

/// The hook for `--cloud ovh` with a service account in the environment.
fn ovh(sim: &Sim, account: (&str, &str)) -> Command {
    let mut c = cmd_for(sim, "ovh");
    c.env("OVH_CLIENT_ID", account.0)
        .env("OVH_CLIENT_SECRET", account.1);
    c
}

/// certbot's environment for one challenge.
fn certbot(
    sim: &Sim,
    mut c: Command,
    hook: &str,
    domain: &str,
    value: &str,
    left: u32,
    all: &str,
) -> Run {
    challenge_on(
        &mut c,
        hook,
        domain,
        value,
        Some(&left.to_string()),
        Some(all),
    );
    run(sim, &mut c)
}

fn ok(r: &Run) {
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
}

/// `(subDomain, target)` of the zone's TXT records as the API holds them.
fn records(sim: &Sim, which: &str) -> Vec<(String, String)> {
    let state = sim.state_json();
    let z = state["ovh"]["zones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["name"] == "example.test")
        .unwrap()
        .clone();
    let mut v: Vec<(String, String)> = z[which]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["fieldType"] == "TXT")
        .map(|r| {
            (
                r["subDomain"].as_str().unwrap().to_string(),
                r["target"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// A TXT target as OVH stores a value the hook sent bare: quoted.
fn q(v: &str) -> String {
    format!("\"{v}\"")
}

fn targets_at(sim: &Sim, sub: &str) -> Vec<String> {
    records(sim, "records")
        .into_iter()
        .filter(|(s, _)| s == sub)
        .map(|(_, t)| t)
        .collect()
}

/// What the authoritative DNS serves now at `name`.
fn served(sim: &Sim, name: &str) -> Vec<String> {
    World::of(Cloud::Ovh, sim).served(name)
}

/// `(method, path)` of every logged request.
fn calls(sim: &Sim) -> Vec<(String, String)> {
    request_log(&sim.log_json())
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect()
}

fn count(sim: &Sim, method: &str, suffix: &str) -> usize {
    calls(sim)
        .iter()
        .filter(|(m, p)| m == method && p.ends_with(suffix))
        .count()
}

fn refreshes(sim: &Sim) -> usize {
    World::of(Cloud::Ovh, sim).commits_of("example.test")
}

fn assert_foreign_intact(sim: &Sim) {
    assert!(
        targets_at(sim, "_acme-challenge").contains(&"\"foreign-keep\"".to_string()),
        "{:?}",
        records(sim, "records")
    );
    assert_eq!(targets_at(sim, "xacme-challenge"), ["lookalike"]);
    assert_eq!(targets_at(sim, ""), ["\"v=spf1 -all\""]);
}

#[test]
fn a_zone_scoped_policy_probes_zones_when_the_listing_is_refused() {
    let sim = sim();
    ok(&certbot(
        &sim,
        ovh(&sim, ZONE),
        "auth",
        "example.test",
        "val-scoped",
        0,
        "example.test",
    ));
    let c = calls(&sim);
    let listing = request_log(&sim.log_json())
        .into_iter()
        .find(|r| r.method == "GET" && r.path == "/1.0/domain/zone")
        .expect("the listing was tried");
    assert_eq!(listing.status, 403);
    assert!(
        c.iter()
            .any(|(m, p)| m == "GET" && p == "/1.0/domain/zone/example.test"),
        "{c:?}"
    );
    ok(&certbot(
        &sim,
        ovh(&sim, ZONE),
        "cleanup",
        "example.test",
        "val-scoped",
        0,
        "example.test",
    ));
    assert_eq!(targets_at(&sim, "_acme-challenge"), ["\"foreign-keep\""]);
}

#[test]
fn a_403_names_the_missing_iam_action_and_the_policy_fix() {
    let sim = sim();
    let r = certbot(
        &sim,
        ovh(&sim, NO_CREATE),
        "auth",
        "example.test",
        "val-denied",
        0,
        "example.test",
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    assert!(lines[0].starts_with("otc-acme-hook: "), "{}", lines[0]);
    assert!(
        lines[0].contains("dnsZone:apiovh:record/create"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("IAM policy"), "{}", lines[0]);
    assert_foreign_intact(&sim);
}

#[test]
fn a_refused_secret_is_one_line_naming_the_service_account() {
    let sim = sim();
    let r = certbot(
        &sim,
        ovh(&sim, (ALL.0, "not-the-secret-1234567890")),
        "auth",
        "example.test",
        "val-x",
        0,
        "example.test",
    );
    assert_eq!(r.code, 1);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    assert!(lines[0].contains("invalid_client"), "{}", lines[0]);
    assert!(lines[0].contains("service account sa-all"), "{}", lines[0]);
    assert!(lines[0].contains("OVH_CLIENT_SECRET"), "{}", lines[0]);
    assert!(!r.stderr.contains("not-the-secret"), "{}", r.stderr);
    // Refused once, never retried.
    assert_eq!(count(&sim, "POST", "/auth/oauth2/token"), 1);
}

#[test]
fn an_expired_token_is_renewed_once_per_process() {
    let sim = sim();
    // The API refuses the first token once, as it does an expired one.
    configure(
        &sim,
        json!({"faults": [{"kind": "status", "status": 401, "path_prefix": "/1.0/domain"}]}),
    );
    ok(&certbot(
        &sim,
        ovh(&sim, ALL),
        "auth",
        "example.test",
        "val-renew",
        0,
        "example.test",
    ));
    assert_eq!(
        count(&sim, "POST", "/auth/oauth2/token"),
        2,
        "{:?}",
        calls(&sim)
    );
    assert!(targets_at(&sim, "_acme-challenge").contains(&q("val-renew")));

    // Tokens that die at once (lifetime via /_sim/config): one renewal, then the 401 stands.
    configure(&sim, json!({"token_lifetime_secs": 0}));
    reset_log(&sim);
    let r = certbot(
        &sim,
        ovh(&sim, ALL),
        "cleanup",
        "example.test",
        "val-renew",
        0,
        "example.test",
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("HTTP 401"), "{}", r.stderr);
    let tokens = count(&sim, "POST", "/auth/oauth2/token");
    let unauthorized = request_log(&sim.log_json())
        .iter()
        .filter(|r| r.status == 401)
        .count();
    assert_eq!(unauthorized, 2, "{:?}", calls(&sim));
    assert!(tokens <= 3, "{tokens}: {:?}", calls(&sim));
}

#[test]
fn a_pre_minted_access_token() {
    let sim = sim();
    let agent: ureq::Agent = ureq::Agent::config_builder().proxy(None).build().into();
    let text = agent
        .post(format!("{}/auth/oauth2/token", sim.base_url()))
        .content_type("application/x-www-form-urlencoded")
        .send(format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&scope=all",
            ALL.0, ALL.1
        ))
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    let token = body["access_token"].as_str().unwrap().to_string();
    reset_log(&sim);
    let mut c = cmd_for(&sim, "ovh");
    c.env("OVH_ACCESS_TOKEN", &token);
    ok(&certbot(
        &sim,
        c,
        "auth",
        "example.test",
        "val-pre",
        0,
        "example.test",
    ));
    assert_eq!(
        count(&sim, "POST", "/auth/oauth2/token"),
        0,
        "{:?}",
        calls(&sim)
    );
    assert!(targets_at(&sim, "_acme-challenge").contains(&q("val-pre")));
}

fn classic(sim: &Sim) -> Command {
    let mut c = cmd_for(sim, "ovh");
    c.env("OVH_APPLICATION_KEY", AK)
        .env("OVH_APPLICATION_SECRET", AS)
        .env("OVH_CONSUMER_KEY", CK);
    c
}

#[test]
fn classic_keys_sign_with_the_server_time() {
    let sim = sim();
    // The API's clock is 20 minutes ahead of ours: far outside its window.
    configure(&sim, json!({"clock_offset_secs": 1200}));
    ok(&certbot(
        &sim,
        classic(&sim),
        "auth",
        "example.test",
        "val-classic",
        0,
        "example.test",
    ));
    assert_eq!(count(&sim, "GET", "/1.0/auth/time"), 1, "{:?}", calls(&sim));
    let log = sim.log_json();
    let signed: Vec<&Value> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"].as_str().unwrap().starts_with("/1.0/domain"))
        .collect();
    assert!(!signed.is_empty());
    for r in signed {
        assert_eq!(
            (r["auth"].as_str(), r["access_key"].as_str()),
            (Some("ovh-signature"), Some(AK)),
            "{r}"
        );
        assert!(
            r["status"].as_u64().unwrap() < 400
                || r["path"] == "/1.0/domain/zone/_acme-challenge.example.test",
            "{r}"
        );
    }
    ok(&certbot(
        &sim,
        classic(&sim),
        "cleanup",
        "example.test",
        "val-classic",
        0,
        "example.test",
    ));
    assert_eq!(targets_at(&sim, "_acme-challenge"), ["\"foreign-keep\""]);
}

#[test]
fn rejections_before_any_call() {
    let sim = sim();
    // A service account and classic keys together.
    let mut c = classic(&sim);
    c.env("OVH_CLIENT_ID", ALL.0)
        .env("OVH_CLIENT_SECRET", ALL.1);
    let r = certbot(&sim, c, "auth", "example.test", "v", 0, "example.test");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("give one kind of OVH credentials"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    // An OVH flag on the command line under --cloud otc names ovh.
    let mut c = cmd_for(&sim, "ovh");
    c.args(["--cloud", "otc", "--client-id", "x", "auth"]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("--client-id belongs to --cloud ovh, not --cloud otc"),
        "{}",
        r.stderr
    );
    let mut c = cmd_for(&sim, "ovh");
    c.args([
        "--cloud",
        "otc",
        "auth",
        "--token-endpoint",
        "http://127.0.0.1:1/t",
    ]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("--token-endpoint belongs to --cloud ovh"),
        "{}",
        r.stderr
    );
    // An OTC flag under --cloud ovh names otc.
    let mut c = ovh(&sim, ALL);
    c.args(["--agency-name", "a", "auth"]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("--agency-name belongs to --cloud otc/huawei, not --cloud ovh"),
        "{}",
        r.stderr
    );
    // --sk on the command line is an OTC key.
    let mut c = ovh(&sim, ALL);
    c.args(["--sk", "x", "auth"]);
    assert_eq!(run(&sim, &mut c).code, 2);
    // A region that is not OVH's.
    let mut c = ovh(&sim, ALL);
    c.args(["--region", "eu-de", "auth"]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not an OVHcloud region"), "{}", r.stderr);
    assert!(calls(&sim).is_empty(), "{:?}", calls(&sim));
}

#[test]
fn an_ovh_variable_under_another_cloud_is_not_read() {
    let sim = sim();
    let mut c = cmd_for(&sim, "ovh");
    // --cloud otc with OVH_* and OTC_TOKEN_ENDPOINT set: not refused, unused,
    // and said in one warning line (names only) that says where the cloud is chosen.
    c.env("OVH_CLIENT_ID", "x")
        .env("OVH_CLIENT_SECRET", "y")
        .args(["--cloud", "otc", "--credentials", "static"]);
    let r = certbot(&sim, c, "auth", "example.test", "v", 0, "example.test");
    assert_ne!(r.code, 0);
    assert!(!r.stderr.contains("belongs to"), "{}", r.stderr);
    let warned: Vec<&str> = r.stderr.lines().filter(|l| l.contains("OVH_")).collect();
    assert_eq!(
        warned,
        [
            "otc-acme-hook: warning: OVH_CLIENT_ID, OVH_CLIENT_SECRET are set but the cloud in force is otc (--cloud otc), so they are ignored; to use them, set OTC_CLOUD=ovh in the config file"
        ],
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("OS_ACCESS_KEY"), "{}", r.stderr);
    assert_eq!(count(&sim, "POST", "/auth/oauth2/token"), 0);
}

#[test]
fn a_client_secret_on_the_command_line_is_warned_about() {
    let sim = sim();
    let mut c = cmd_for(&sim, "ovh");
    c.args([
        "--client-id",
        ALL.0,
        "--client-secret",
        ALL.1,
        "--region",
        "eu",
    ]);
    let r = certbot(
        &sim,
        c,
        "auth",
        "example.test",
        "val-flag",
        0,
        "example.test",
    );
    ok(&r);
    assert!(
        r.stderr
            .contains("--client-secret on the command line is visible in `ps`"),
        "{}",
        r.stderr
    );
}

/// Where the calls of `--region`/`OTC_REGION`/`OVH_ENDPOINT` go, without the
/// network: a refused proxy makes the hook name the URL it tried.
fn tried(env: &[(&str, &str)], args: &[&str]) -> String {
    let mut c = Command::new(common::BIN);
    c.env_clear()
        .env("HTTPS_PROXY", "http://127.0.0.1:1")
        .env("OTC_RETRIES", "0")
        .env("OTC_HTTP_TIMEOUT", "2")
        .current_dir(std::env::temp_dir())
        .envs(env.iter().copied())
        .args(["--cloud", "ovh", "-v", "api", "GET", "/domain/zone"])
        .args(args);
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn regions_choose_the_api_base_and_the_token_url() {
    let sa = [("OVH_CLIENT_ID", "cid"), ("OVH_CLIENT_SECRET", "cs")];
    let e = tried(&sa, &[]);
    assert!(e.contains("https://eu.api.ovh.com/1.0/domain/zone"), "{e}");
    assert!(
        e.contains("OAuth2 token from https://www.ovh.com/auth/oauth2/token"),
        "{e}"
    );
    let e = tried(&[sa[0], sa[1], ("OTC_REGION", "ca")], &[]);
    assert!(e.contains("https://ca.api.ovh.com/1.0/domain/zone"), "{e}");
    assert!(
        e.contains("OAuth2 token from https://ca.ovh.com/auth/oauth2/token"),
        "{e}"
    );
    let e = tried(&sa, &["--region", "us"]);
    assert!(
        e.contains("https://api.us.ovhcloud.com/1.0/domain/zone"),
        "{e}"
    );
    assert!(
        e.contains("OAuth2 token from https://us.ovhcloud.com/auth/oauth2/token"),
        "{e}"
    );
    // OVH_ENDPOINT below --region / OTC_REGION.
    let e = tried(&[sa[0], sa[1], ("OVH_ENDPOINT", "ovh-ca")], &[]);
    assert!(e.contains("https://ca.api.ovh.com/1.0/"), "{e}");
    let e = tried(
        &[sa[0], sa[1], ("OVH_ENDPOINT", "ovh-ca")],
        &["--region", "us"],
    );
    assert!(e.contains("https://api.us.ovhcloud.com/1.0/"), "{e}");
    assert!(!e.contains("cs"), "{e}");
}

#[test]
fn check_and_api() {
    let sim = sim();
    let mut c = ovh(&sim, ZONE);
    c.args([
        "check",
        "example.test",
        "--resolver",
        &sim.dns_addr().to_string(),
    ]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    for line in [
        "ok    credentials: service account sa-zone from environment",
        "ok    clock:",
        "ok    DNS API:",
        // A call the zone-scoped policy grants (not the refused listing).
        "ok    credentials work: GET /1.0/domain/zone/example.test answered",
        "ok    zone example.test: _acme-challenge.example.test. lies in public zone example.test.",
        "ok    probe example.test: added and removed a TXT value",
        "ok    nameserver localhost.:",
        "ok    delegation of example.test.: NS localhost.",
    ] {
        assert!(r.stdout.contains(line), "{line}\n{}", r.stdout);
    }
    // The probe was created, refreshed and removed.
    assert!(count(&sim, "POST", "/domain/zone/example.test/record") >= 1);
    assert!(refreshes(&sim) >= 2, "{:?}", calls(&sim));
    assert_eq!(targets_at(&sim, "_acme-challenge"), ["\"foreign-keep\""]);
    assert_eq!(records(&sim, "published"), records(&sim, "records"));
    assert_auth_time_unauthenticated(&sim, 1);

    // Without a domain, a zone-scoped policy may not list zones: a warning, not a failure.
    reset_log(&sim);
    let mut c = ovh(&sim, ZONE);
    c.args(["check"]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("warn  credentials work: accepted, but GET /1.0/domain/zone is refused"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("dnsZone:apiovh:get"), "{}", r.stdout);

    // Classic keys: check reads the API's clock, unsigned, and the listing, signed.
    reset_log(&sim);
    let mut c = classic(&sim);
    c.args(["check"]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("application key AKCLASSIC00000001"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("ok    clock:"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("ok    credentials work: GET /1.0/domain/zone answered"),
        "{}",
        r.stdout
    );
    // check's probe and the signer's server-time read.
    assert_auth_time_unauthenticated(&sim, 2);

    // api: any path, authorized as the DNS calls, secrets redacted.
    let mut c = ovh(&sim, ALL);
    c.args(["api", "GET", "/domain/zone/example.test"]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["nameServers"], json!(["localhost."]));
    let mut c = classic(&sim);
    c.args(["api", "GET", "/domain/zone"]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        serde_json::from_str::<Value>(&r.stdout).unwrap(),
        json!(["example.test"])
    );
    // A denied call is one line with the missing action.
    let mut c = ovh(&sim, ZONE);
    c.args(["api", "GET", "/domain/zone"]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("missing IAM action dnsZone:apiovh:get"),
        "{}",
        r.stderr
    );
    // A refused secret: check's credentials line fails with the fix, exit 1;
    // the API itself answered (/auth/time needs no credentials).
    let mut c = ovh(&sim, (ALL.0, "wrong-secret-0000000000"));
    c.args(["check"]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("ok    DNS API:"), "{}", r.stdout);
    let fail = r
        .stdout
        .lines()
        .find(|l| l.starts_with("FAIL  credentials work:"))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(fail.contains("invalid_client"), "{fail}");
    assert!(
        fail.contains("fix: check OVH_CLIENT_ID and OVH_CLIENT_SECRET"),
        "{fail}"
    );
}

/// Every `GET /1.0/auth/time` was answered 200 and carried no credentials
/// (the simulator refuses it signed, as OVH's `/auth` routes break then).
fn assert_auth_time_unauthenticated(sim: &Sim, expected: usize) {
    let log = sim.log_json();
    let times: Vec<&Value> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"] == "/1.0/auth/time")
        .collect();
    assert_eq!(times.len(), expected, "{times:?}");
    for r in times {
        assert_eq!(r["status"], 200, "{r}");
        assert!(r["auth"].is_null() && r["access_key"].is_null(), "{r}");
    }
}

fn with_records(extra: &[(&str, &str)]) -> Value {
    let mut s = seed();
    let recs = s["ovh"]["zones"][0]["records"].as_array_mut().unwrap();
    for (sub, target) in extra {
        recs.push(json!({"subDomain": sub, "fieldType": "TXT", "target": target}));
    }
    s
}

#[test]
fn the_secret_from_a_file_a_systemd_credential_or_the_credentials_file() {
    use std::os::unix::fs::PermissionsExt;
    let sim = sim();
    let dir = std::env::temp_dir().join(format!("otc-test-ovh-secrets-{}", std::process::id()));
    common::private_dir(&dir);
    let secret_file = dir.join("secret");
    std::fs::write(&secret_file, format!("{}\n", ALL.1)).unwrap();
    std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut c = cmd_for(&sim, "ovh");
    c.env("OVH_CLIENT_ID", ALL.0)
        .env("OVH_CLIENT_SECRET_FILE", &secret_file)
        .arg("-v");
    let r = certbot(&sim, c, "auth", "example.test", "v-file", 0, "example.test");
    ok(&r);
    assert!(
        r.stderr
            .contains("service account sa-all from environment + OVH_CLIENT_SECRET_FILE"),
        "{}",
        r.stderr
    );

    // systemd's LoadCredential=: $CREDENTIALS_DIRECTORY/ovh_client_secret.
    let creds = dir.join("creds");
    common::private_dir(&creds);
    let f = creds.join("ovh_client_secret");
    std::fs::write(&f, ALL.1).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o400)).unwrap();
    let mut c = cmd_for(&sim, "ovh");
    c.env("OVH_CLIENT_ID", ALL.0)
        .env("CREDENTIALS_DIRECTORY", &creds)
        .arg("-v");
    let r = certbot(
        &sim,
        c,
        "cleanup",
        "example.test",
        "v-file",
        0,
        "example.test",
    );
    ok(&r);
    assert!(
        r.stderr.contains("systemd credential ovh_client_secret"),
        "{}",
        r.stderr
    );

    // --credentials-file: client_id and client_secret, mode 600; readable by others is refused.
    let cf = dir.join("ovh.creds");
    std::fs::write(
        &cf,
        format!("client_id = {}\nclient_secret = {}\n", ZONE.0, ZONE.1),
    )
    .unwrap();
    std::fs::set_permissions(&cf, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut c = cmd_for(&sim, "ovh");
    c.env("OTC_CREDENTIALS_FILE", &cf);
    ok(&certbot(
        &sim,
        c,
        "auth",
        "example.test",
        "v-cf",
        0,
        "example.test",
    ));
    assert!(targets_at(&sim, "_acme-challenge").contains(&q("v-cf")));
    std::fs::set_permissions(&cf, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut c = cmd_for(&sim, "ovh");
    c.env("OTC_CREDENTIALS_FILE", &cf);
    let r = certbot(
        &sim,
        c,
        "cleanup",
        "example.test",
        "v-cf",
        0,
        "example.test",
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("chmod 600"), "{}", r.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_create_whose_answer_is_lost_is_re_read_never_repeated() {
    let sim = sim();
    // The record is created, but the connection closes before the answer.
    configure(
        &sim,
        json!({"faults": [{"kind": "lost_answer", "method": "POST",
                           "path_prefix": "/1.0/domain/zone/example.test/record"}]}),
    );
    let r = certbot(
        &sim,
        ovh(&sim, ALL),
        "auth",
        "example.test",
        "v-lost",
        0,
        "example.test",
    );
    ok(&r);
    assert_eq!(
        count(&sim, "POST", "/domain/zone/example.test/record"),
        1,
        "{:?}",
        calls(&sim)
    );
    let mine: Vec<String> = targets_at(&sim, "_acme-challenge")
        .into_iter()
        .filter(|t| *t == q("v-lost"))
        .collect();
    assert_eq!(mine.len(), 1, "one record for the value");
    assert_eq!(refreshes(&sim), 1);
    assert_eq!(
        served(&sim, "_acme-challenge.example.test."),
        ["foreign-keep", "v-lost"]
    );
}

#[test]
fn cleanup_removes_our_value_quoted_or_not_and_zone_forces_one() {
    // The API quotes what it is sent; a record made another way may hold the value bare.
    let sim = start_cloud(
        with_records(&[
            ("_acme-challenge", "\"v-quoted\""),
            ("_acme-challenge", "v-bare"),
        ]),
        "ovh",
    );
    for v in ["v-quoted", "v-bare"] {
        ok(&certbot(
            &sim,
            ovh(&sim, ALL),
            "cleanup",
            "example.test",
            v,
            0,
            "example.test",
        ));
    }
    assert_eq!(targets_at(&sim, "_acme-challenge"), ["\"foreign-keep\""]);
    assert_foreign_intact(&sim);
    // --zone: this zone, no lookup.
    reset_log(&sim);
    let mut c = ovh(&sim, ZONE);
    c.args(["--zone", "example.test"]);
    ok(&certbot(
        &sim,
        c,
        "auth",
        "a.b.example.test",
        "v-zone",
        0,
        "a.b.example.test",
    ));
    assert!(
        !calls(&sim)
            .iter()
            .any(|(m, p)| m == "GET" && p == "/1.0/domain/zone"),
        "{:?}",
        calls(&sim)
    );
    assert_eq!(targets_at(&sim, "_acme-challenge.a.b"), [q("v-zone")]);
}

#[test]
fn the_ovh_sdks_ovh_conf() {
    use std::os::unix::fs::PermissionsExt;
    let sim = sim();
    let dir = std::env::temp_dir().join(format!("otc-test-ovh-conf-{}", std::process::id()));
    common::private_dir(&dir);
    let conf = dir.join("ovh.conf");
    std::fs::write(
        &conf,
        format!(
            "[default]\nendpoint=ovh-eu\n\n[ovh-eu]\nclient_id={}\nclient_secret={}\n",
            ALL.0, ALL.1
        ),
    )
    .unwrap();
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut c = cmd_for(&sim, "ovh");
    c.current_dir(&dir).arg("-v");
    let r = certbot(&sim, c, "auth", "example.test", "v-conf", 0, "example.test");
    ok(&r);
    assert!(
        r.stderr.contains("service account sa-all from ./ovh.conf"),
        "{}",
        r.stderr
    );
    // The environment wins over ovh.conf.
    let mut c = ovh(&sim, ZONE);
    c.current_dir(&dir).arg("-v");
    let r = certbot(
        &sim,
        c,
        "cleanup",
        "example.test",
        "v-conf",
        0,
        "example.test",
    );
    ok(&r);
    assert!(
        r.stderr
            .contains("service account sa-zone from environment"),
        "{}",
        r.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_configuration_file_holds_the_ovh_settings() {
    use std::os::unix::fs::PermissionsExt;
    let sim = sim();
    let dir = std::env::temp_dir().join(format!("otc-test-ovh-config-{}", std::process::id()));
    common::private_dir(&dir);
    let conf = dir.join("config");
    std::fs::write(
        &conf,
        format!(
            "OTC_CLOUD=ovh\nOTC_DNS_ENDPOINT={base}/1.0\nOVH_APPLICATION_KEY={AK}\nOVH_APPLICATION_SECRET={AS}\nOVH_CONSUMER_KEY={CK}\n",
            base = sim.base_url()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o600)).unwrap();
    // Only the simulator's ports and the lock directory in the environment.
    let mut c = cmd_for(&sim, "ovh");
    c.env_remove("OTC_CLOUD")
        .env_remove("OTC_DNS_ENDPOINT")
        .arg("--config")
        .arg(&conf)
        .arg("-v");
    let r = certbot(
        &sim,
        c,
        "auth",
        "example.test",
        "v-config",
        0,
        "example.test",
    );
    ok(&r);
    assert!(
        r.stderr.contains("application key AKCLASSIC00000001"),
        "{}",
        r.stderr
    );
    assert!(targets_at(&sim, "_acme-challenge").contains(&q("v-config")));
    // Holding secrets, the file must be private.
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut c = cmd_for(&sim, "ovh");
    c.arg("--config").arg(&conf);
    let r = certbot(
        &sim,
        c,
        "cleanup",
        "example.test",
        "v-config",
        0,
        "example.test",
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_short_lived_token_is_reused_not_fetched_for_every_call() {
    let sim = sim();
    // Under a minute: the hook used to fetch a token for every call (6 for 6).
    configure(&sim, json!({"token_lifetime_secs": 40}));
    ok(&certbot(
        &sim,
        ovh(&sim, ALL),
        "auth",
        "example.test",
        "val-short",
        0,
        "example.test",
    ));
    let api_calls = calls(&sim)
        .iter()
        .filter(|(_, p)| p.starts_with("/1.0/domain"))
        .count();
    assert!(api_calls >= 6, "{:?}", calls(&sim));
    assert_eq!(
        count(&sim, "POST", "/auth/oauth2/token"),
        1,
        "{:?}",
        calls(&sim)
    );
    assert!(targets_at(&sim, "_acme-challenge").contains(&q("val-short")));
    // `api GET /auth/time` goes out bare: no token for it either.
    reset_log(&sim);
    let mut c = ovh(&sim, ALL);
    c.args(["api", "GET", "/auth/time"]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(count(&sim, "POST", "/auth/oauth2/token"), 0);
    assert_auth_time_unauthenticated(&sim, 1);
}

/// `_acme-challenge.example.test` is a CNAME to the apex of a zone of its
/// own, whose records the API answers with `"subDomain": null`.
fn apex_seed() -> Value {
    let mut s = seed();
    s["ovh"]["zones"] = json!([
        {"name": "example.test", "records": [
            {"subDomain": "_acme-challenge", "fieldType": "CNAME", "target": "acme-zone.test.", "ttl": 600}
        ]},
        {"name": "acme-zone.test", "records": [
            {"subDomain": "", "fieldType": "TXT", "target": "\"foreign-apex\"", "ttl": 600},
            {"subDomain": "www", "fieldType": "TXT", "target": "\"foreign-www\"", "ttl": 600}
        ]}
    ]);
    s["ovh"]["apex_sub_domain_null"] = json!(true);
    s
}

/// Targets of the TXT records at `sub` of `zone`, as the API holds them.
fn zone_targets(sim: &Sim, zone: &str, sub: &str) -> Vec<String> {
    let state = sim.state_json();
    let mut v: Vec<String> = state["ovh"]["zones"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|z| z["name"] == zone)
        .flat_map(|z| z["records"].as_array().unwrap().clone())
        .filter(|r| r["fieldType"] == "TXT" && r["subDomain"] == sub)
        .map(|r| r["target"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn apex_and_wildcard_at_a_zone_apex_answered_with_a_null_sub_domain() {
    let sim = start_cloud(apex_seed(), "ovh");
    let all = "example.test,*.example.test";
    let resolver = sim.dns_addr().to_string();
    let hook = |step: &str, domain: &str, value: &str, left: u32| {
        let mut c = ovh(&sim, ALL);
        c.args(["--resolver", &resolver]);
        certbot(&sim, c, step, domain, value, left, all)
    };
    ok(&hook("auth", "example.test", "val-apex", 1));
    ok(&hook("auth", "*.example.test", "val-wild", 0));
    assert_eq!(
        zone_targets(&sim, "acme-zone.test", ""),
        ["\"foreign-apex\"", "\"val-apex\"", "\"val-wild\""]
    );
    assert_eq!(
        served(&sim, "acme-zone.test."),
        ["foreign-apex", "val-apex", "val-wild"]
    );
    // The records were read back with a null subDomain (the knob is on).
    let reads = request_log(&sim.log_json())
        .into_iter()
        .filter(|r| {
            r.method == "GET"
                && r.path
                    .starts_with("/1.0/domain/zone/acme-zone.test/record/")
        })
        .count();
    assert!(reads >= 1, "{:?}", calls(&sim));
    // The name's own zone is at most read (while its CNAME question was out), never written.
    let own_zone: Vec<(String, String)> = calls(&sim)
        .into_iter()
        .filter(|(_, p)| p.starts_with("/1.0/domain/zone/example.test/record"))
        .collect();
    assert!(own_zone.len() <= 1, "{own_zone:?}");
    assert!(own_zone.iter().all(|(m, _)| m == "GET"), "{own_zone:?}");
    ok(&hook("cleanup", "example.test", "val-apex", 1));
    ok(&hook("cleanup", "*.example.test", "val-wild", 0));
    // Only our values went: the foreign apex value and the other name stay.
    assert_eq!(
        zone_targets(&sim, "acme-zone.test", ""),
        ["\"foreign-apex\""]
    );
    assert_eq!(
        zone_targets(&sim, "acme-zone.test", "www"),
        ["\"foreign-www\""]
    );
    assert_eq!(count(&sim, "DELETE", ""), 2, "{:?}", calls(&sim));
    // check follows the CNAME too, and its credentials line reads the zone it lands in.
    let mut c = ovh(&sim, ALL);
    c.args(["check", "example.test", "--resolver", &resolver]);
    let r = run(&sim, &mut c);
    let out = format!("{}{}", r.stdout, r.stderr);
    assert!(
        out.contains("ok    credentials work: GET /1.0/domain/zone/acme-zone.test answered"),
        "{out}"
    );
    assert_eq!(out.matches("is a CNAME to").count(), 1, "{out}");
    assert_eq!(
        zone_targets(&sim, "acme-zone.test", ""),
        ["\"foreign-apex\""]
    );
}
