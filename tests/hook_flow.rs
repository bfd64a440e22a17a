//! certbot auth/cleanup against the OTC simulator, with metadata
//! credentials. Scenarios every cloud passes are in matrix.rs.

mod common;

use common::cloud::Cloud;
use common::*;
use serde_json::json;

const APEX: &str = "apexValue-0001";
const WILD: &str = "wildValue-0002";

#[test]
fn apex_and_wildcard_share_one_set_and_cleanup_keeps_the_other() {
    // Hooks outside a certbot run (lego, acme.sh): each writes and removes its own value.
    let sim = start(base_seed());
    let hook = |verb: &str, value: &str| {
        let mut c = cmd(&sim);
        c.args([verb, "_acme-challenge.example.test.", value]);
        let r = run(&sim, &mut c);
        assert_eq!(r.code, 0, "{verb} {value}: {}", r.stderr);
        r
    };
    let r = hook("present", APEX);
    // Not under certbot: the audit lines are progress on stderr, stdout stays empty.
    assert!(r.stdout.is_empty(), "present prints nothing on stdout");
    assert!(
        r.stderr.contains(
            "added TXT value apexValue-0001 at _acme-challenge.example.test. in zone example.test."
        ),
        "{}",
        r.stderr
    );
    hook("present", WILD);
    let (vals, ttl) = txt_set(
        &sim,
        "public",
        "example.test.",
        "_acme-challenge.example.test.",
    )
    .unwrap();
    assert_eq!(vals, vec!["foreign-keep", APEX, WILD]);
    assert_eq!(ttl, 600, "the existing set keeps its TTL");

    let r = hook("cleanup", APEX);
    assert!(
        r.stderr.contains("removed TXT value apexValue-0001"),
        "{}",
        r.stderr
    );
    let vals = public_txt(&sim, "example.test.", "_acme-challenge.example.test.");
    assert_eq!(vals, vec!["foreign-keep", WILD]);
    hook("cleanup", WILD);
    assert_foreign_intact(&sim);
    let vals = public_txt(&sim, "example.test.", "_acme-challenge.example.test.");
    assert_eq!(vals, vec!["foreign-keep"]);
}

#[test]
fn new_set_is_created_and_deleted_with_its_last_value() {
    let sim = start(base_seed());
    let r = certbot_one(&sim, "auth", "www.example.test", APEX);
    assert!(r.stdout.contains("(new recordset)"), "{}", r.stdout);
    let (vals, ttl) = txt_set(
        &sim,
        "public",
        "example.test.",
        "_acme-challenge.www.example.test.",
    )
    .unwrap();
    assert_eq!((vals, ttl), (vec![APEX.to_string()], 300));
    let r = certbot_one(&sim, "cleanup", "www.example.test", APEX);
    assert!(r.stdout.contains("recordset deleted"), "{}", r.stdout);
    // Deletion is pending for a moment at most; the set is gone or going.
    assert_gone_or_going(&sim, APEX);
    assert_foreign_intact(&sim);
}

#[test]
fn zones_over_several_pages_are_followed() {
    let mut seed = base_seed();
    seed["page_size"] = json!(2);
    let zones = seed["zones"].as_array_mut().unwrap();
    for i in 0..7 {
        zones.insert(
            0,
            json!({"name": format!("z{i}.example.test."), "zone_type": "public"}),
        );
    }
    zones.push(json!({"name": "zz.example.test.", "zone_type": "public"}));
    let sim = start(seed);
    let r = certbot_one(&sim, "auth", "x.zz.example.test", APEX);
    assert!(
        r.stdout.contains("in zone zz.example.test."),
        "{}",
        r.stdout
    );
    let zone_pages = requests(&sim)
        .iter()
        .filter(|(m, p, _)| m == "GET" && p == "/v2/zones")
        .count();
    assert!(zone_pages >= 5, "expected several pages, got {zone_pages}");
}

#[test]
fn pending_sets_are_waited_for() {
    let mut seed = base_seed();
    seed["pending_delay_ms"] = json!(1500);
    let sim = start(seed);
    let all = "p.example.test,*.p.example.test";
    // The first auth creates the set (PENDING_CREATE); the second must wait before changing it.
    let r = certbot(&sim, "auth", "p.example.test", APEX, 1, all);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = certbot(&sim, "auth", "p.example.test", WILD, 0, all);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let vals = public_txt(&sim, "example.test.", "_acme-challenge.p.example.test.");
    assert_eq!(vals, vec![APEX, WILD]);
    assert!(
        !requests(&sim).iter().any(|(_, _, s)| *s == 400),
        "no DNS.0314 expected: the hook waits for ACTIVE first"
    );
    // Back-to-back cleanups on one set: the second waits for the first to settle.
    for v in [APEX, WILD] {
        let r = certbot(&sim, "cleanup", "p.example.test", v, 0, all);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    assert_gone_or_going(&sim, WILD);
    assert_foreign_intact(&sim);
}

#[test]
fn forced_zone() {
    let sim = start(base_seed());
    let mut c = Cloud::Otc
        .certbot(&sim)
        .hook_args(["--zone", "example.test"])
        .lone("auth", "www.example.test", APEX);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        txt_set(
            &sim,
            "public",
            "example.test.",
            "_acme-challenge.www.example.test."
        )
        .is_some()
    );
    // Only the named zone was looked up.
    let log = sim.log_json().to_string();
    assert!(log.contains("name=example.test"), "{log}");
    let mut c = Cloud::Otc
        .certbot(&sim)
        .hook_args(["--zone", "other.test"])
        .lone("auth", "example.test", APEX);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("no public zone named other.test."),
        "{}",
        r.stderr
    );
}

#[test]
fn unknown_domain_names_the_zones_tried() {
    let sim = start(base_seed());
    let r = certbot(&sim, "auth", "www.other.test", APEX, 0, "");
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("otc-acme-hook: auth: no public zone holds _acme-challenge.www.other.test. (tried www.other.test., other.test., test.)"),
        "{}",
        r.stderr
    );
}

#[test]
fn metadata_down_exits_1_with_the_agency_hint() {
    let sim = start(base_seed());
    configure(&sim, json!({"metadata_down": true}));
    let r = certbot(&sim, "auth", "example.test", APEX, 0, "");
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("otc-acme-hook: credentials: "),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("attach an IAM agency"), "{}", r.stderr);

    // Nothing listening at all: same hint.
    let mut c = Cloud::Otc
        .certbot(&sim)
        .env(
            "OTC_METADATA_URL",
            "http://127.0.0.1:1/openstack/latest/securitykey",
        )
        .lone("auth", "example.test", APEX);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("attach an IAM agency"), "{}", r.stderr);
}

#[test]
fn no_agency_attached() {
    let mut seed = base_seed();
    seed["metadata"] = json!({"enabled": false});
    let sim = start(seed);
    let r = certbot(&sim, "auth", "example.test", APEX, 0, "");
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("HTTP 401") && r.stderr.contains("attach an IAM agency"),
        "{}",
        r.stderr
    );
}

#[test]
fn static_keys_from_env_are_used() {
    let sim = start(base_seed());
    let mut c = Cloud::Otc
        .certbot(&sim)
        .env("OS_ACCESS_KEY", "AKSTATIC000000000001")
        .env(
            "OS_ACCESS_SECRET",
            "SKstatic-secret-0000000000000000000000001",
        )
        .env(
            "OTC_METADATA_URL",
            "http://127.0.0.1:1/openstack/latest/securitykey",
        )
        .lone("auth", "example.test", APEX);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.is_empty(),
        "no warning, nothing on stderr: {}",
        r.stderr
    );
    let log = sim.log_json();
    let keys: Vec<&str> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["access_key"].as_str())
        .collect();
    assert!(
        !keys.is_empty() && keys.iter().all(|k| *k == "AKSTATIC000000000001"),
        "{keys:?}"
    );
}

#[test]
fn wrong_secret_key_is_rejected_by_the_simulator() {
    let sim = start(base_seed());
    let mut c = Cloud::Otc
        .certbot(&sim)
        .env("OS_ACCESS_KEY", "AKSTATIC000000000001")
        .env("OS_SECRET_KEY", "SK-wrong-secret")
        .lone("auth", "example.test", APEX);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("HTTP 401"), "{}", r.stderr);
    assert!(
        r.stderr.contains("clock"),
        "the 401 hint names signature and clock: {}",
        r.stderr
    );
    assert!(!r.stderr.contains("SK-wrong-secret"));
    assert!(requests(&sim).iter().any(|(_, _, s)| *s == 401));
    assert_foreign_intact(&sim);
}

#[test]
fn secret_flag_warns() {
    let sim = start(base_seed());
    let mut c = Cloud::Otc
        .certbot(&sim)
        .hook_args([
            "--ak",
            "AKSTATIC000000000001",
            "--sk",
            "SKstatic-secret-0000000000000000000000001",
        ])
        .lone("auth", "example.test", APEX);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Under certbot a warning stays on stderr, alone; the audit line is on stdout.
    let warnings: Vec<&str> = r.stderr.lines().collect();
    assert!(
        !warnings.is_empty()
            && warnings
                .iter()
                .all(|l| l.starts_with("otc-acme-hook: warning: ")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("warning: --sk on the command line"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("added TXT value"), "{}", r.stdout);
    assert!(!r.stdout.contains("warning"), "{}", r.stdout);
}

/// certbot logs a hook's stderr as a warning ("ran with error output"): a
/// successful auth and cleanup leave stderr empty, their audit lines on stdout.
#[test]
fn certbot_success_writes_nothing_on_stderr() {
    let sim = start(base_seed());
    for hook in ["auth", "cleanup"] {
        let r = certbot(&sim, hook, "www.example.test", APEX, 0, "www.example.test");
        assert_eq!(r.code, 0, "{hook}: {}{}", r.stdout, r.stderr);
        assert_eq!(r.stderr, "", "{hook} wrote on stderr");
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert!(
            !lines.is_empty() && lines.iter().all(|l| l.starts_with("otc-acme-hook: ")),
            "{hook}: {}",
            r.stdout
        );
    }
    let r = certbot(&sim, "auth", "example.test", WILD, 0, "example.test");
    assert!(
        r.stdout
            .contains("all nameservers serve the challenge values"),
        "the wait is reported on stdout: {}",
        r.stdout
    );
    assert_eq!(r.stderr, "");
    let r = certbot(&sim, "cleanup", "example.test", WILD, 0, "example.test");
    assert_eq!(r.stderr, "");
    assert!(r.stdout.contains("removed TXT value"), "{}", r.stdout);
    assert_foreign_intact(&sim);
}

/// `-v` keeps today's behaviour under certbot: every line on stderr, nothing on stdout.
#[test]
fn certbot_verbose_keeps_lines_on_stderr() {
    let sim = start(base_seed());
    for hook in ["auth", "cleanup"] {
        let mut c = Cloud::Otc.certbot(&sim).hook_args(["-v"]).challenge(
            hook,
            "www.example.test",
            APEX,
            Some("0"),
            Some("www.example.test"),
        );
        let r = run(&sim, &mut c);
        assert_eq!(r.code, 0, "{hook}: {}", r.stderr);
        assert_eq!(r.stdout, "", "{hook} -v wrote on stdout");
        let done = if hook == "auth" {
            "added TXT value"
        } else {
            "removed TXT value"
        };
        assert!(r.stderr.contains(done), "{hook}: {}", r.stderr);
    }
    assert_foreign_intact(&sim);
}

#[test]
fn help_with_secrets_in_the_environment_shows_none() {
    let sim = start(base_seed());
    for args in [
        &["--help"][..],
        &["auth", "--help"],
        &["api", "--help"],
        &["help", "cleanup"],
    ] {
        let mut c = cmd(&sim);
        c.args(args)
            .env("OS_ACCESS_KEY", "AKIDHELPLEAK")
            .env("OS_SECRET_KEY", "SECRETHELPLEAK")
            .env("OS_SECURITY_TOKEN", "TOKENHELPLEAK");
        let r = run(&sim, &mut c);
        assert_eq!(r.code, 0);
        assert!(r.stdout.contains("OS_SECRET_KEY"), "{}", r.stdout);
        for s in ["AKIDHELPLEAK", "SECRETHELPLEAK", "TOKENHELPLEAK"] {
            assert!(
                !r.stdout.contains(s) && !r.stderr.contains(s),
                "{args:?} printed {s}"
            );
        }
    }
}

#[test]
fn verbose_run_prints_no_secret() {
    let sim = start(base_seed());
    let mut c = Cloud::Otc
        .certbot(&sim)
        .hook_args(["-v"])
        .lone("auth", "example.test", APEX);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("credentials from ECS agency"),
        "{}",
        r.stderr
    );
}
