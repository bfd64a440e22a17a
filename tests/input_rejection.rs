//! Input refused before any network call (exit 2, one line): malformed
//! domains, values and settings, a challenge name longer than DNS allows,
//! a name that is no challenge name (lego without `--any-name`), a password
//! in an endpoint URL (never printed).

mod common;

use common::cloud::Cloud;
use common::*;

#[test]
fn invalid_input_is_rejected_before_any_network_call() {
    let sim = start(base_seed());
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)]);
    let cases: &[Case] = &[
        (&["auth"], &[]),
        (&["auth"], &[("CERTBOT_DOMAIN", "example.test")]),
        (
            &["auth"],
            &[
                ("CERTBOT_DOMAIN", "exa mple.test"),
                ("CERTBOT_VALIDATION", "x"),
            ],
        ),
        (
            &["auth"],
            &[("CERTBOT_DOMAIN", "a..test"), ("CERTBOT_VALIDATION", "x")],
        ),
        (
            &["auth"],
            &[
                ("CERTBOT_DOMAIN", "bücher.test"),
                ("CERTBOT_VALIDATION", "x"),
            ],
        ),
        (
            &["cleanup"],
            &[
                ("CERTBOT_DOMAIN", "example.test"),
                ("CERTBOT_VALIDATION", "a\"b"),
            ],
        ),
        (
            &["auth", "--dns-endpoint", "http://dns.example.com"],
            &[
                ("CERTBOT_DOMAIN", "example.test"),
                ("CERTBOT_VALIDATION", "x"),
            ],
        ),
        (
            &["auth", "--dns-endpoint", "not a url"],
            &[
                ("CERTBOT_DOMAIN", "example.test"),
                ("CERTBOT_VALIDATION", "x"),
            ],
        ),
        (&["auth", "--bogus"], &[]),
        (&["frobnicate"], &[]),
    ];
    for (args, envs) in cases {
        let mut c = cmd(&sim);
        c.args(*args).envs(envs.iter().copied());
        let r = run(&sim, &mut c);
        assert_eq!(r.code, 2, "{args:?} {envs:?}: {}", r.stderr);
    }
    assert!(
        requests(&sim).is_empty(),
        "a rejected run touched the network: {:?}",
        requests(&sim)
    );
}

#[test]
fn more_invalid_input_is_rejected_before_any_network_call() {
    let sim = start(base_seed());
    let long_label = format!("{}.example.test", "a".repeat(64));
    let long_value = "v".repeat(256);
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![("CERTBOT_DOMAIN", ""), ("CERTBOT_VALIDATION", "v")],
        vec![("CERTBOT_DOMAIN", &long_label), ("CERTBOT_VALIDATION", "v")],
        vec![
            ("CERTBOT_DOMAIN", "example.test"),
            ("CERTBOT_VALIDATION", &long_value),
        ],
        vec![
            ("CERTBOT_DOMAIN", "example.test"),
            ("CERTBOT_VALIDATION", "back\\slash"),
        ],
        vec![
            ("CERTBOT_DOMAIN", "example.test"),
            ("CERTBOT_VALIDATION", "v"),
            ("CERTBOT_REMAINING_CHALLENGES", "x"),
        ],
        vec![
            ("CERTBOT_DOMAIN", "example.test"),
            ("CERTBOT_VALIDATION", "v"),
            ("CERTBOT_ALL_DOMAINS", "ok.test,bad domain"),
        ],
        vec![
            ("CERTBOT_DOMAIN", "example.test"),
            ("CERTBOT_VALIDATION", "v"),
            ("OTC_DNS_ENDPOINT", "https://"),
        ],
        vec![
            ("CERTBOT_DOMAIN", "example.test"),
            ("CERTBOT_VALIDATION", "v"),
            ("OTC_IAM_ENDPOINT", "http://iam.example.com"),
        ],
        vec![
            ("CERTBOT_DOMAIN", "example.test"),
            ("CERTBOT_VALIDATION", "v"),
            ("OTC_NAMESERVERS", "[::1"),
        ],
    ];
    for envs in cases {
        let mut c = cmd(&sim);
        c.arg("auth").envs(envs.iter().copied());
        let r = run(&sim, &mut c);
        assert_eq!(r.code, 2, "{envs:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{envs:?}: {}", r.stderr);
    }
    assert!(requests(&sim).is_empty());
}

#[test]
fn a_challenge_name_longer_than_dns_allows_is_rejected_before_any_call() {
    let sim = start(base_seed());
    let domain = format!(
        "{}.{}.example.test",
        vec!["a".repeat(60); 3].join("."),
        "b".repeat(49)
    );
    assert_eq!(domain.len(), 245);
    let mut c = Cloud::Otc.certbot(&sim).lone("auth", &domain, "v-long");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("253"), "{}", r.stderr);
    assert!(requests(&sim).is_empty(), "{:?}", requests(&sim));
}

#[test]
fn lego_writes_only_challenge_names_unless_any_name() {
    let sim = start(base_seed());
    let mut c = cmd(&sim);
    c.args(["present", "www.example.test.", "v-www"]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--any-name"), "{}", r.stderr);
    assert!(requests(&sim).is_empty());
    for verb in ["present", "cleanup"] {
        let mut c = cmd(&sim);
        c.args([verb, "--any-name", "www.example.test.", "v-www"]);
        let r = run(&sim, &mut c);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let here = txt_set(&sim, "public", "example.test.", "www.example.test.");
        assert_eq!(
            here.is_some_and(|(v, _)| v.contains(&"v-www".to_string())),
            verb == "present"
        );
    }
}

#[test]
fn a_password_in_an_endpoint_url_is_refused_and_never_printed() {
    let sim = start(base_seed());
    for flag in ["--dns-endpoint", "--iam-endpoint"] {
        let mut c = Cloud::Otc
            .certbot(&sim)
            .hook_args([flag, "https://user:PA55W0RD@dns.example.test"])
            .lone("auth", "example.test", "v-userinfo");
        let r = run(&sim, &mut c);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(!r.stderr.contains("PA55W0RD"), "{}", r.stderr);
        assert!(r.stderr.contains("credentials in URLs"), "{}", r.stderr);
    }
}
