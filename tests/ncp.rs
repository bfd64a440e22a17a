//! `--cloud ncp` end to end: the built binary, a cleared environment, the
//! simulator's NAVER Cloud (server role metadata v1/v2, Global DNS v1 with
//! every signature checked, DNS serving a domain only after apply).
//! `run()` fails any test whose output carries a secret the simulator knows.
//! Scenarios every cloud passes are in matrix.rs; this file holds what only
//! NCP does (metadata v1/v2, the server role, apply and rollback, keys).

mod common;

use common::ncp::{self, AK, SK, applies, assert_foreign_intact, assert_no_rollback, certbot};
use common::{Run, configure, requests, reset_log, run};
use serde_json::{Value, json};

const APEX: &str = "ncpApexValue-0001";
const WILD: &str = "ncpWildValue-0002";
const ALL: &str = "example.test,*.example.test";

fn ok(r: &Run, what: &str) {
    assert_eq!(
        r.code, 0,
        "{what}:\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
}

/// certbot's run for apex + wildcard: two auth hooks, then two cleanups.
fn certbot_run(sim: &otc_sim::Sim) {
    ok(
        &certbot(sim, "auth", "example.test", APEX, 1, ALL),
        "auth apex",
    );
    ok(
        &certbot(sim, "auth", "example.test", WILD, 0, ALL),
        "auth wildcard",
    );
}

fn certbot_cleanup(sim: &otc_sim::Sim) {
    ok(
        &certbot(sim, "cleanup", "example.test", APEX, 1, ALL),
        "cleanup apex",
    );
    ok(
        &certbot(sim, "cleanup", "example.test", WILD, 0, ALL),
        "cleanup wildcard",
    );
}

/// The logged metadata requests: (method, path, status).
fn metadata_requests(sim: &otc_sim::Sim) -> Vec<(String, String, u64)> {
    requests(sim)
        .into_iter()
        .filter(|(_, p, _)| p.starts_with("/latest/"))
        .collect()
}

fn log(sim: &otc_sim::Sim) -> Vec<Value> {
    sim.log_json()["requests"].as_array().unwrap().clone()
}

#[test]
fn lego_exec_default_mode_present_and_cleanup() {
    let sim = ncp::start(ncp::seed());
    for verb in ["present", "cleanup"] {
        let mut c = ncp::cmd(&sim);
        c.args([verb, "_acme-challenge.example.test.", APEX]);
        ok(&run(&sim, &mut c), verb);
        if verb == "present" {
            assert!(ncp::served(&sim, "_acme-challenge.example.test.").contains(&APEX.to_string()));
        }
    }
    assert_eq!(
        applies(&sim),
        [("120".to_string(), 2)],
        "one apply per hook"
    );
    assert_eq!(
        ncp::served(&sim, "_acme-challenge.example.test."),
        ["foreign-keep"]
    );
    assert_no_rollback(&sim);
}

#[test]
fn metadata_v2_token_on_every_get() {
    let sim = ncp::start(ncp::seed());
    ok(
        &certbot(&sim, "auth", "example.test", APEX, 0, "example.test"),
        "auth",
    );
    let md = metadata_requests(&sim);
    assert_eq!(
        md[0],
        ("PUT".into(), "/latest/api/token".into(), 200),
        "{md:?}"
    );
    assert_eq!(md[1], ("GET".into(), ncp::METADATA_PATH.into(), 200));
    assert_eq!(
        md[2],
        (
            "GET".into(),
            format!("{}/{}", ncp::METADATA_PATH, ncp::ROLE),
            200
        )
    );
    assert_eq!(md.len(), 3, "{md:?}");
}

#[test]
fn metadata_v1_when_the_service_has_no_v2() {
    let sim = ncp::start(ncp::seed());
    configure(&sim, json!({"metadata_mode": "absent"}));
    ok(
        &certbot(&sim, "auth", "example.test", APEX, 0, "example.test"),
        "auth",
    );
    let md = metadata_requests(&sim);
    assert_eq!(
        md[0],
        ("PUT".into(), "/latest/api/token".into(), 404),
        "{md:?}"
    );
    assert!(
        md[1..].iter().all(|(m, _, s)| m == "GET" && *s == 200),
        "{md:?}"
    );
    assert_eq!(md.len(), 3);
}

#[test]
fn metadata_set_to_v2_required_works() {
    let sim = ncp::start(ncp::seed());
    configure(&sim, json!({"metadata_mode": "required"}));
    ok(
        &certbot(&sim, "auth", "example.test", APEX, 0, "example.test"),
        "auth",
    );
    let md = metadata_requests(&sim);
    assert!(
        md.iter().all(|(_, _, s)| *s == 200),
        "no 401: the token was sent {md:?}"
    );
    assert_eq!(ncp::served(&sim, "_acme-challenge.example.test.").len(), 2);
}

#[test]
fn metadata_down_is_one_line_telling_to_attach_a_server_role() {
    let sim = ncp::start(ncp::seed());
    configure(&sim, json!({"metadata_down": true}));
    let r = certbot(&sim, "auth", "example.test", APEX, 0, "example.test");
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    assert!(
        lines[0].starts_with("otc-acme-hook: credentials: "),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("attach a server role"), "{}", lines[0]);
    assert_eq!(
        ncp::count(&sim, "GET", "/dns/v1/"),
        0,
        "no DNS call without keys"
    );
}

#[test]
fn expired_role_keys_are_fetched_again_once() {
    let sim = ncp::start(ncp::seed());
    // Keys live 2 s; the first DNS call is held 2.5 s: it arrives with an expired key.
    configure(
        &sim,
        json!({"credential_ttl_secs": 2,
               "faults": [{"kind": "slow", "ms": 2500, "path_prefix": "/dns/v1/", "count": 1}]}),
    );
    let r = certbot(&sim, "auth", "example.test", APEX, 0, "example.test");
    ok(&r, "auth");
    let entries = log(&sim);
    let refused: Vec<&Value> = entries.iter().filter(|e| e["status"] == 401).collect();
    assert_eq!(refused.len(), 1, "one refusal: {entries:?}");
    let issued: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["issued"].as_str())
        .collect();
    assert_eq!(issued.len(), 2, "the role asked twice: {issued:?}");
    assert_ne!(issued[0], issued[1]);
    assert_eq!(refused[0]["access_key"].as_str(), Some(issued[0]));
}

#[test]
fn os_names_are_not_read_for_ncp() {
    let sim = ncp::start(ncp::seed());
    let mut c = ncp::cmd(&sim);
    c.args(["present", "_acme-challenge.example.test.", APEX])
        .env("OS_ACCESS_KEY", AK)
        .env("OS_SECRET_KEY", SK)
        .env("OS_SECURITY_TOKEN", "otc-token-not-for-ncp");
    ok(&run(&sim, &mut c), "present");
    let used: Vec<String> = log(&sim)
        .iter()
        .filter(|e| e["path"].as_str().unwrap().starts_with("/dns/v1/"))
        .map(|e| e["access_key"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(!used.is_empty() && used.iter().all(|k| k != AK), "{used:?}");
    assert!(
        !metadata_requests(&sim).is_empty(),
        "the server role answered"
    );
}

#[test]
fn ncloud_environment_keys_and_the_command_line_sk_warning() {
    let sim = ncp::start(ncp::seed());
    let mut c = ncp::cmd(&sim);
    c.args(["present", "_acme-challenge.example.test.", APEX])
        .env("NCLOUD_ACCESS_KEY", AK)
        .env("NCLOUD_SECRET_KEY", SK);
    ok(&run(&sim, &mut c), "present (alias names)");
    assert!(
        metadata_requests(&sim).is_empty(),
        "keys first, no metadata"
    );
    assert!(log(&sim).iter().any(|e| e["access_key"] == AK));

    let mut c = ncp::cmd(&sim);
    c.args([
        "--ak",
        AK,
        "--sk",
        SK,
        "cleanup",
        "_acme-challenge.example.test.",
        APEX,
    ]);
    let r = run(&sim, &mut c);
    ok(&r, "cleanup with --ak/--sk");
    assert!(
        r.stderr
            .contains("--sk on the command line is visible in `ps`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("prefer the server role"), "{}", r.stderr);
}

#[test]
fn ncloud_configure_must_be_private_and_is_read_when_it_is() {
    use std::os::unix::fs::PermissionsExt;
    let sim = ncp::start(ncp::seed());
    let home = std::env::temp_dir().join(format!("ncp-home-{}", std::process::id()));
    std::fs::create_dir_all(home.join(".ncloud")).unwrap();
    let conf = home.join(".ncloud/configure");
    std::fs::write(
        &conf,
        format!("[DEFAULT]\nncloud_access_key_id = {AK}\nncloud_secret_access_key = {SK}\n"),
    )
    .unwrap();
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o644)).unwrap();
    let present = || {
        let mut c = ncp::cmd(&sim);
        c.args(["present", "_acme-challenge.example.test.", APEX])
            .env("HOME", &home);
        run(&sim, &mut c)
    };
    let r = present();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("chmod 600 {}", conf.display())),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(requests(&sim).is_empty(), "rejected before any call");

    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o600)).unwrap();
    ok(&present(), "present with a private configure");
    assert!(metadata_requests(&sim).is_empty());
    assert!(log(&sim).iter().any(|e| e["access_key"] == AK));
    std::fs::remove_dir_all(&home).ok();
}

#[test]
fn a_small_skew_is_not_blamed_and_bad_keys_are_one_line() {
    let sim = ncp::start(ncp::seed());
    let mut c = ncp::cmd(&sim);
    c.args(["present", "_acme-challenge.example.test.", APEX])
        .env("NCLOUD_ACCESS_KEY_ID", AK)
        .env("NCLOUD_SECRET_ACCESS_KEY", "not-the-secret");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("HTTP 401"), "{}", r.stderr);
    assert!(r.stderr.contains("Authentication Failed"), "{}", r.stderr);
    assert!(r.stderr.contains("clock"), "{}", r.stderr);
    assert_eq!(
        log(&sim).iter().filter(|e| e["status"] == 401).count(),
        1,
        "no retry"
    );
}

#[test]
fn check_applies_twice_and_names_role_zone_nameservers_delegation_clock() {
    let sim = ncp::start(ncp::seed());
    let mut c = ncp::cmd(&sim);
    c.args(["check", "example.test", "www.sub.example.test"]);
    let r = run(&sim, &mut c);
    ok(&r, "check");
    for line in [
        "ok    credentials: server role (access key ncp_…, temporary, expires ",
        "ok    clock: within",
        "ok    DNS API: ",
        "ok    zone example.test: _acme-challenge.example.test. lies in public zone example.test. (id 120)",
        "ok    probe example.test: added and removed a TXT value at _acme-challenge.example.test.",
        "ok    zone www.sub.example.test: _acme-challenge.www.sub.example.test. lies in public zone sub.example.test. (id 121)",
        "ok    nameserver localhost.: ",
        "ok    delegation of example.test.: NS localhost. (the API names none)",
    ] {
        assert!(r.stdout.contains(line), "missing {line:?} in\n{}", r.stdout);
    }
    assert_eq!(
        applies(&sim),
        [("120".to_string(), 2), ("121".to_string(), 2)],
        "the probe is applied, then its removal"
    );
    assert_foreign_intact(&sim);
    assert_no_rollback(&sim);
    assert!(ncp::count(&sim, "GET", "/ncpdns/domain").ge(&1));
    let probe = requests(&sim)
        .into_iter()
        .find(|(_, p, _)| p == "/dns/v1/ncpdns/domain")
        .unwrap();
    assert_eq!(probe.2, 200);
}

#[test]
fn api_calls_any_path_signed_and_redacted() {
    let sim = ncp::start(ncp::seed());
    let mut c = ncp::cmd(&sim);
    c.args(["api", "GET", "/ncpdns/domain?page=0&size=10"]);
    let r = run(&sim, &mut c);
    ok(&r, "api");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let names: Vec<&str> = v["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["example.test", "sub.example.test"]);
    // An absolute URL works too, and an error answer is one line.
    let mut c = ncp::cmd(&sim);
    c.args([
        "api",
        "GET",
        &format!("{}/ncpdns/record/999?page=0&size=1", ncp::dns_base(&sim)),
    ]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("HTTP 404") && r.stderr.contains("X00002"),
        "{}",
        r.stderr
    );
    // The metadata document's secret is redacted by `api`.
    let mut c = ncp::cmd(&sim);
    c.args([
        "api",
        "GET",
        &format!("{}/{}", ncp::metadata_url(&sim), ncp::ROLE),
    ]);
    let r = run(&sim, &mut c);
    ok(&r, "api metadata");
    assert!(r.stdout.contains("SecretAccessKey"), "{}", r.stdout);
}

#[test]
fn another_clouds_flag_is_refused_and_a_token_is_rejected() {
    let sim = ncp::start(ncp::seed());
    let mut c = ncp::cmd(&sim);
    c.args([
        "--agency-name",
        "x",
        "present",
        "_acme-challenge.example.test.",
        APEX,
    ]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("--agency-name belongs to --cloud otc/huawei"),
        "{}",
        r.stderr
    );
    let mut c = ncp::cmd(&sim);
    c.args([
        "--token",
        "T",
        "present",
        "_acme-challenge.example.test.",
        APEX,
    ]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("NCP keys take no security token"),
        "{}",
        r.stderr
    );
    let mut c = ncp::cmd(&sim);
    c.args([
        "--region",
        "fin",
        "present",
        "_acme-challenge.example.test.",
        APEX,
    ]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(requests(&sim).is_empty());
}

#[test]
fn a_crashed_runs_value_is_swept_a_day_later_and_published_by_the_next_run() {
    let sim = ncp::start(ncp::seed());
    // A run that wrote and then died: its value stays, the journal remembers it.
    let mut c = ncp::cmd(&sim);
    c.args([
        "present",
        "_acme-challenge.example.test.",
        "crashed-run-value",
    ]);
    ok(&run(&sim, &mut c), "present");
    let journal = common::lock_dir(&sim).join("journal.tsv");
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(text.contains("crashed-run-value"), "{text}");
    // ... two days ago.
    let aged: String = text
        .lines()
        .map(|l| {
            let (t, rest) = l.split_once('\t').unwrap();
            format!("{}\t{rest}\n", t.parse::<i64>().unwrap() - 2 * 86_400)
        })
        .collect();
    std::fs::write(&journal, aged).unwrap();
    reset_log(&sim);

    ok(
        &certbot(
            &sim,
            "auth",
            "www.sub.example.test",
            APEX,
            0,
            "www.sub.example.test",
        ),
        "auth",
    );
    assert_eq!(
        ncp::txt(&sim, "example.test", "_acme-challenge"),
        ["foreign-keep"]
    );
    assert_eq!(
        ncp::served(&sim, "_acme-challenge.example.test."),
        ["foreign-keep"],
        "the sweep was applied"
    );
    assert_eq!(ncp::pending(&sim, "example.test"), 0);
    let mut a = applies(&sim);
    a.sort();
    assert_eq!(
        a,
        [("120".to_string(), 1), ("121".to_string(), 1)],
        "one apply per zone"
    );
    assert!(
        !std::fs::read_to_string(&journal)
            .unwrap()
            .contains("crashed-run-value")
    );
    assert_no_rollback(&sim);
}

/// Another cloud's settings in the environment (or a shared config file) are
/// not read: no rejection, and the run uses this cloud's identity.
#[test]
fn another_clouds_variables_in_the_environment_are_not_read() {
    let sim = ncp::start(ncp::seed());
    let mut c = ncp::cmd(&sim);
    c.env("OTC_AGENCY_NAME", "dns-agency")
        .env("OTC_AGENCY_DOMAIN_NAME", "partner")
        .env("OTC_IDP_ID", "cce-idp")
        .args(["present", "_acme-challenge.example.test.", APEX]);
    ok(&run(&sim, &mut c), "present");
    let mut c = ncp::cmd(&sim);
    c.env("OTC_AGENCY_NAME", "dns-agency")
        .args(["cleanup", "_acme-challenge.example.test.", APEX]);
    ok(&run(&sim, &mut c), "cleanup");
    assert!(
        !requests(&sim).iter().any(|(_, p, _)| p.contains("/v3")),
        "no IAM call"
    );
}

/// ncp-api.md Corrections: a server role without the Global DNS policy gets
/// the gateway's 401 with code 210. One stderr line naming the managed policy
/// and the server role; the request log shows no second metadata fetch and
/// no retry of the refused call.
#[test]
fn a_role_without_the_dns_policy_is_one_line_naming_the_policy_no_refetch_no_retry() {
    let sim = ncp::start(ncp::seed());
    configure(&sim, json!({"role_dns_policy": false}));
    let mut c = ncp::cmd(&sim);
    c.args(["present", "_acme-challenge.example.test.", APEX]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    let line = r.stderr.trim_end();
    assert!(line.starts_with("otc-acme-hook: "), "{line}");
    assert!(line.contains("HTTP 401 210: Permission Denied"), "{line}");
    assert!(line.contains("NCP_GLOBAL_DNS_MANAGER"), "{line}");
    assert!(line.contains("server role"), "{line}");
    assert!(!line.contains("clock"), "{line}");
    // The role's keys were fetched once (role id, then its keys), never again.
    let role_docs = metadata_requests(&sim)
        .into_iter()
        .filter(|(m, p, _)| m == "GET" && p.ends_with(ncp::ROLE))
        .count();
    assert_eq!(role_docs, 1, "{:?}", metadata_requests(&sim));
    let dns: Vec<(String, String, u64)> = requests(&sim)
        .into_iter()
        .filter(|(_, p, _)| p.starts_with("/dns/v1/"))
        .collect();
    assert_eq!(dns.len(), 1, "one refused call, not retried: {dns:?}");
    assert_eq!(dns[0].2, 401);
    let codes: Vec<String> = log(&sim)
        .iter()
        .filter_map(|e| e["code"].as_str().map(str::to_string))
        .collect();
    assert!(codes.iter().any(|c| c == "210"), "{codes:?}");
    assert_eq!(applies(&sim), []);

    // `check` says it the same way, on its DNS API line.
    let mut c = ncp::cmd(&sim);
    c.args(["check", "--read-only", "example.test"]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("FAIL  DNS API: ") && l.contains("NCP_GLOBAL_DNS_MANAGER")),
        "{}",
        r.stdout
    );
}

/// A re-run that finds its values in place applies nothing, so it passes
/// where NCP would refuse an apply with nothing pending (the simulator told
/// to answer one with X00006); its cleanup applies once, as it changed the domain.
#[test]
fn a_rerun_with_everything_in_place_applies_nothing_and_passes_where_an_empty_apply_is_refused() {
    let sim = ncp::start(ncp::seed());
    certbot_run(&sim);
    assert_eq!(applies(&sim), [("120".to_string(), 1)]);
    configure(&sim, json!({"refuse_empty_apply": true}));
    reset_log(&sim);
    // certbot's same run again (its hooks called again with the same values).
    certbot_run(&sim);
    assert_eq!(applies(&sim), [], "nothing changed, nothing applied");
    assert_eq!(ncp::count(&sim, "POST", "/ncpdns/record/"), 0);
    // The refusal is real: an apply of an unchanged domain fails.
    let mut c = ncp::cmd(&sim);
    c.args(["api", "PUT", "/ncpdns/record/apply/120"]);
    let r = run(&sim, &mut c);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(
        format!("{}{}", r.stdout, r.stderr).contains("X00006"),
        "{}{}",
        r.stdout,
        r.stderr
    );
    reset_log(&sim);
    certbot_cleanup(&sim);
    assert_eq!(applies(&sim), [("120".to_string(), 1)]);
    assert_eq!(
        ncp::served(&sim, "_acme-challenge.example.test."),
        ["foreign-keep"]
    );
    // A cleanup of values already gone (and forgotten) applies nothing either.
    reset_log(&sim);
    certbot_cleanup(&sim);
    assert_eq!(applies(&sim), []);
    // lego's present, then again for the value already there: one apply.
    reset_log(&sim);
    for _ in 0..2 {
        let mut c = ncp::cmd(&sim);
        c.args(["present", "_acme-challenge.example.test.", "lego-value"]);
        ok(&run(&sim, &mut c), "present");
    }
    assert_eq!(applies(&sim), [("120".to_string(), 1)]);
    assert_foreign_intact(&sim);
    assert_no_rollback(&sim);
}

/// The crash-recovery case: a run whose apply failed every try (four in its
/// flow, four in its last commit) leaves its value listed but unserved
/// (journaled as sending); the re-run finds it
/// present and applies the domain once, even with empty applies refused.
#[test]
fn a_value_left_unapplied_by_a_failed_run_is_applied_by_the_rerun() {
    let sim = ncp::start(ncp::seed());
    configure(
        &sim,
        json!({"faults": [
            {"kind": "status", "status": 503, "count": 8, "path_prefix": "/dns/v1/ncpdns/record/apply/"}
        ]}),
    );
    let r = certbot(&sim, "auth", "example.test", APEX, 0, "example.test");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(ncp::txt(&sim, "example.test", "_acme-challenge").len(), 2);
    assert_eq!(
        ncp::served(&sim, "_acme-challenge.example.test."),
        ["foreign-keep"]
    );
    configure(&sim, json!({"refuse_empty_apply": true}));
    reset_log(&sim);
    ok(
        &certbot(&sim, "auth", "example.test", APEX, 0, "example.test"),
        "auth again",
    );
    assert_eq!(applies(&sim), [("120".to_string(), 1)]);
    assert_eq!(ncp::count(&sim, "POST", "/ncpdns/record/"), 0);
    let mut served = ncp::served(&sim, "_acme-challenge.example.test.");
    served.sort();
    assert_eq!(served, ["foreign-keep", APEX]);
    // Published now: a third run applies nothing.
    reset_log(&sim);
    ok(
        &certbot(&sim, "auth", "example.test", APEX, 0, "example.test"),
        "auth a third time",
    );
    assert_eq!(applies(&sim), []);
    assert_no_rollback(&sim);
}

/// A domain whose apex is the challenge name (host `@`), among more TXT
/// records than one page holds, one of them with our value at another host:
/// the apex is read without `searchContent` (the simulator's search is by
/// record name, so `@` finds nothing), page by page, by exact host.
#[test]
fn apex_and_wildcard_at_a_domains_apex() {
    let mut seed = ncp::seed();
    let mut records = vec![
        json!({"host": "@", "type": "TXT", "content": "foreign-apex"}),
        json!({"host": "_acme-challenge", "type": "TXT", "content": APEX}),
    ];
    for i in 0..150 {
        records.push(json!({"host": format!("h{i}"), "type": "TXT", "content": format!("x{i}")}));
    }
    seed["ncp"]["domains"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": 130, "name": "_acme-challenge.apex.test", "records": records}));
    let sim = ncp::start(seed);
    let all = "apex.test,*.apex.test";
    ok(
        &certbot(&sim, "auth", "apex.test", APEX, 1, all),
        "auth apex",
    );
    ok(
        &certbot(&sim, "auth", "apex.test", WILD, 0, all),
        "auth wildcard",
    );
    let mut vals = ncp::txt(&sim, "_acme-challenge.apex.test", "@");
    vals.sort();
    assert_eq!(vals, ["foreign-apex", APEX, WILD]);
    let mut served = ncp::served(&sim, "_acme-challenge.apex.test.");
    served.sort();
    assert_eq!(served, ["foreign-apex", APEX, WILD]);
    assert_eq!(applies(&sim), [("130".to_string(), 1)]);
    let reads: Vec<String> = common::request_log(&sim.log_json())
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == "/dns/v1/ncpdns/record/130")
        .map(|r| r.query)
        .collect();
    assert!(!reads.is_empty());
    assert!(
        reads.iter().all(|q| !q.contains("searchContent")),
        "{reads:?}"
    );
    assert!(
        reads.iter().any(|q| q.contains("page=1")),
        "paged: {reads:?}"
    );

    reset_log(&sim);
    ok(
        &certbot(&sim, "cleanup", "apex.test", APEX, 1, all),
        "cleanup apex",
    );
    ok(
        &certbot(&sim, "cleanup", "apex.test", WILD, 0, all),
        "cleanup wildcard",
    );
    assert_eq!(
        ncp::txt(&sim, "_acme-challenge.apex.test", "@"),
        ["foreign-apex"]
    );
    assert_eq!(
        ncp::served(&sim, "_acme-challenge.apex.test."),
        ["foreign-apex"]
    );
    // Our value at another host of the domain is not ours to remove.
    assert_eq!(
        ncp::txt(&sim, "_acme-challenge.apex.test", "_acme-challenge"),
        [APEX]
    );
    assert_eq!(applies(&sim), [("130".to_string(), 1)]);
    assert_no_rollback(&sim);
}

/// The simulator's DELETE answers 200 with no body (the docs show none):
/// the hook's cleanup does not rely on one.
#[test]
fn a_delete_answered_without_a_body_is_a_clean_removal() {
    let sim = ncp::start(ncp::seed());
    let one = "example.test";
    ok(&certbot(&sim, "auth", one, APEX, 0, one), "auth");
    reset_log(&sim);
    ok(&certbot(&sim, "cleanup", one, APEX, 0, one), "cleanup");
    let deletes: Vec<Value> = log(&sim)
        .into_iter()
        .filter(|e| e["method"] == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0]["status"], 200);
    assert_eq!(
        ncp::txt(&sim, "example.test", "_acme-challenge"),
        ["foreign-keep"]
    );
    assert_foreign_intact(&sim);
}

/// What one hook asked of the API, from the simulator's request log.
#[derive(Debug)]
struct HookCalls {
    hook: String,
    /// `GET /ncpdns/domain` (filtered or not).
    domains: usize,
    /// `GET /ncpdns/record/{id}`: with `searchContent` (one name) or without
    /// (the domain's TXT records, each page).
    searches: usize,
    listings: usize,
    posts: usize,
    deletes: usize,
    applies: usize,
    /// Every Global DNS call.
    dns: usize,
    /// The link-local metadata service (not counted in the budget).
    metadata: usize,
}

fn calls_of(hook: String, sim: &otc_sim::Sim) -> HookCalls {
    let log = common::request_log(&sim.log_json());
    let n = |f: &dyn Fn(&common::Req) -> bool| log.iter().filter(|r| f(r)).count();
    let record_get =
        |r: &common::Req| r.method == "GET" && r.path.starts_with("/dns/v1/ncpdns/record/");
    HookCalls {
        hook,
        domains: n(&|r| r.method == "GET" && r.path == "/dns/v1/ncpdns/domain"),
        searches: n(&|r| record_get(r) && r.query.contains("searchContent=")),
        listings: n(&|r| record_get(r) && !r.query.contains("searchContent=")),
        posts: n(&|r| r.method == "POST" && r.path.starts_with("/dns/v1/")),
        deletes: n(&|r| r.method == "DELETE" && r.path.starts_with("/dns/v1/")),
        applies: n(&|r| r.method == "PUT" && r.path.contains("/record/apply/")),
        dns: n(&|r| r.path.starts_with("/dns/v1/")),
        metadata: n(&|r| r.path.starts_with("/latest/")),
    }
}

/// Issue 20: a certbot run of 5 apex+wildcard pairs and 5 names (15
/// challenges, 10 TXT names) in one domain finds the domain with one listing
/// per hook process, never a lookup per suffix per name, and the last auth
/// hook reads every name with one listing of the domain's TXT records.
/// Prints the calls of every hook (from the simulator's request log).
#[test]
fn a_run_of_many_names_in_one_domain_lists_domains_once_per_hook() {
    let sim = ncp::start(ncp::seed());
    let mut challenges: Vec<String> = Vec::new();
    for i in 0..5 {
        challenges.push(format!("p{i}.example.test"));
        challenges.push(format!("*.p{i}.example.test"));
    }
    for i in 0..5 {
        challenges.push(format!("n{i}.example.test"));
    }
    let all = challenges.join(",");
    let mut rows: Vec<HookCalls> = Vec::new();
    for phase in ["auth", "cleanup"] {
        for (k, c) in challenges.iter().enumerate() {
            reset_log(&sim);
            let remaining = (challenges.len() - 1 - k) as u32;
            // certbot names a wildcard's challenge by its base domain.
            let domain = c.trim_start_matches("*.");
            let value = format!("ncpManyValue-{k:04}");
            ok(
                &certbot(&sim, phase, domain, &value, remaining, &all),
                &format!("{phase} {c}"),
            );
            if phase == "auth" && remaining == 0 {
                for i in 0..5 {
                    let mut v = ncp::served(&sim, &format!("_acme-challenge.p{i}.example.test."));
                    v.sort();
                    let want = [2 * i, 2 * i + 1].map(|k| format!("ncpManyValue-{k:04}"));
                    assert_eq!(v, want);
                }
            }
            rows.push(calls_of(format!("{phase} {k:2} {c}"), &sim));
        }
    }
    println!("hook                      domains searches listings POST DELETE apply  dns metadata");
    for r in &rows {
        println!(
            "{:25} {:7} {:8} {:8} {:4} {:6} {:5} {:4} {:8}",
            r.hook,
            r.domains,
            r.searches,
            r.listings,
            r.posts,
            r.deletes,
            r.applies,
            r.dns,
            r.metadata
        );
    }
    for phase in ["auth", "cleanup"] {
        let of = |f: &dyn Fn(&HookCalls) -> usize| -> usize {
            rows.iter()
                .filter(|r| r.hook.starts_with(phase))
                .map(f)
                .sum()
        };
        println!(
            "{phase}: {} Global DNS calls ({} domain listings, {} searches, {} TXT listings), {} metadata",
            of(&|r| r.dns),
            of(&|r| r.domains),
            of(&|r| r.searches),
            of(&|r| r.listings),
            of(&|r| r.metadata),
        );
    }
    // Every value gone, the foreign records untouched.
    for i in 0..5 {
        let v = ncp::txt(&sim, "example.test", &format!("_acme-challenge.p{i}"));
        assert!(v.is_empty(), "cleaned up: {v:?}");
    }
    assert_foreign_intact(&sim);
    assert_no_rollback(&sim);
    // One domain listing at most per hook process: never one per suffix per name.
    for r in &rows {
        assert!(r.domains <= 1, "{r:?}");
    }
    let last_auth = &rows[challenges.len() - 1];
    assert_eq!(last_auth.domains, 1, "{last_auth:?}");
    // The run's 10 names read with one listing of the domain's TXT records,
    // and one more after the batch's POST, whose answer names no ids.
    assert_eq!(last_auth.listings, 2, "{last_auth:?}");
    assert_eq!(last_auth.applies, 1, "{last_auth:?}");
}
