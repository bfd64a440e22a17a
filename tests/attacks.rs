//! Hardening, round 2: one test per way the hook was turned against root, made
//! to leak a secret, or made to lose a foreign value (as an attacker, a
//! careless operator and a hostile network would try it, on loopback).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::hostile::{Hostile, json};
use common::*;
use serde_json::json;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("otc-attack-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// A world-writable, sticky directory, like /tmp.
fn shared_dir(name: &str) -> PathBuf {
    let d = scratch(name);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o1777)).unwrap();
    d
}

fn uid() -> String {
    String::from_utf8(
        std::process::Command::new("id")
            .arg("-u")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string()
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn a_shared_lock_dir_keeps_its_mode_and_gets_a_private_subdir() {
    let sim = start(base_seed());
    let d = shared_dir("chmod");
    let mut c = cmd(&sim);
    c.args(["auth", "-v"])
        .env("OTC_LOCK_DIR", &d)
        .env("CERTBOT_DOMAIN", "example.test")
        .env("CERTBOT_VALIDATION", "v-shared");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(mode(&d), 0o1777, "the shared directory is never chmod-ed");
    let mine = d.join(format!("otc-acme-hook-{}", uid()));
    assert_eq!(mode(&mine), 0o700);
    assert!(mine.join("journal.tsv").exists());
    assert!(
        r.stderr
            .contains(&format!("state directory {}", mine.display())),
        "-v names the directory used: {}",
        r.stderr
    );
    certbot_one(&sim, "cleanup", "example.test", "v-shared");
}

#[test]
fn planted_symlinks_are_never_followed_and_a_taken_subdir_is_refused() {
    let sim = start(base_seed());
    let d = shared_dir("planted");
    let victim = scratch("victim-file");
    std::fs::write(&victim, "precious").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    let created = scratch("victim-new");
    // Another user plants links where older versions wrote.
    for (name, target) in [
        ("journal.tsv.tmp", &victim),
        ("journal.tsv", &victim),
        ("journal.lock", &created),
    ] {
        let out = as_other_user(&[
            "ln",
            "-s",
            target.to_str().unwrap(),
            d.join(name).to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{out:?}");
    }
    let mut c = cmd(&sim);
    c.arg("auth")
        .env("OTC_LOCK_DIR", &d)
        .env("CERTBOT_DOMAIN", "example.test")
        .env("CERTBOT_VALIDATION", "v-planted");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(!created.exists(), "nothing created at a link's target");
    let mut c = cmd(&sim);
    c.arg("cleanup")
        .env("OTC_LOCK_DIR", &d)
        .env("CERTBOT_DOMAIN", "example.test")
        .env("CERTBOT_VALIDATION", "v-planted");
    assert_eq!(run(&sim, &mut c).code, 0);

    // Another user takes the private subdirectory's name first: refused, before any request.
    let d2 = shared_dir("taken");
    let theirs = scratch("theirs");
    std::fs::create_dir_all(&theirs).unwrap();
    std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o777)).unwrap();
    let sub = d2.join(format!("otc-acme-hook-{}", uid()));
    let out = as_other_user(&["ln", "-s", theirs.to_str().unwrap(), sub.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let before = requests(&sim).len();
    let mut c = cmd(&sim);
    c.arg("auth")
        .env("OTC_LOCK_DIR", &d2)
        .env("CERTBOT_DOMAIN", "example.test")
        .env("CERTBOT_VALIDATION", "v-taken");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is taken"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert_eq!(requests(&sim).len(), before, "no request");
    assert_eq!(std::fs::read_dir(&theirs).unwrap().count(), 0);
    // The lock dir itself a symlink: refused too.
    let link = scratch("link");
    std::os::unix::fs::symlink(&d, &link).unwrap();
    let mut c = cmd(&sim);
    c.arg("auth")
        .env("OTC_LOCK_DIR", &link)
        .env("CERTBOT_DOMAIN", "example.test")
        .env("CERTBOT_VALIDATION", "v-link");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is a symlink"), "{}", r.stderr);
}

#[test]
fn another_user_cannot_block_the_default_state_directory() {
    let sim = start(base_seed());
    // What blocked renewals before: another user creating the old shared default.
    let blocker = Path::new("/run/lock/otc-acme-hook");
    let planted = blocker.parent().is_some_and(Path::is_dir)
        && !blocker.exists()
        && as_other_user(&["mkdir", "-m", "700", blocker.to_str().unwrap()])
            .status
            .success();
    let xdg_state = scratch("xdg-state");
    let mut c = cmd(&sim);
    c.env_remove("OTC_LOCK_DIR")
        .args(["auth", "-v"])
        // A shell's runtime directory no longer moves the state elsewhere.
        .env("XDG_RUNTIME_DIR", scratch("runtime"))
        .env("XDG_STATE_HOME", &xdg_state)
        .env("CERTBOT_DOMAIN", "example.test")
        .env("CERTBOT_VALIDATION", "v-default-dir");
    let r = run(&sim, &mut c);
    if planted {
        let _ = std::fs::remove_dir(blocker);
    }
    assert_eq!(r.code, 0, "{}", r.stderr);
    let expected = if is_root() {
        PathBuf::from("/var/lib/otc-acme-hook")
    } else {
        xdg_state.join("otc-acme-hook")
    };
    assert!(
        r.stderr
            .contains(&format!("state directory {}", expected.display())),
        "{}",
        r.stderr
    );
    let mut c = cmd(&sim);
    c.env_remove("OTC_LOCK_DIR")
        .arg("cleanup")
        .env("XDG_STATE_HOME", &xdg_state)
        .env("CERTBOT_DOMAIN", "example.test")
        .env("CERTBOT_VALIDATION", "v-default-dir");
    assert_eq!(run(&sim, &mut c).code, 0);
    assert_foreign_intact(&sim);

    // Another user without a usable home gets /var/tmp/otc-acme-hook-UID (a
    // fresh /var/tmp of a mount namespace of its own: nothing left on the machine).
    if is_root() {
        let out = std::process::Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c"])
            .arg(format!(
                "mount -t tmpfs -o mode=1777 none /var/tmp && exec setpriv --reuid=nobody --regid=nogroup --clear-groups -- '{BIN}' auth --no-dns-check -v"
            ))
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HOME", "/nonexistent")
            .env("OTC_DNS_ENDPOINT", sim.base_url())
            .env("OTC_METADATA_URL", sim.metadata_url())
            .env("CERTBOT_DOMAIN", "nobody.example.test")
            .env("CERTBOT_VALIDATION", "v-nobody")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(
            stderr.contains("state directory /var/tmp/otc-acme-hook-65534"),
            "{stderr}"
        );
        assert!(!stderr.contains("warning"), "{stderr}");
    }
}

#[test]
fn error_answers_of_the_metadata_service_never_quote_a_credential_document() {
    let doc = r#"{"credential":{"access":"AKLEAK0000","secret":"SKLEAK-secret-value","securitytoken":"TOKLEAK-token-value","expires_at":"2030-01-01T00:00:00Z"}}"#;
    for status in [500, 203] {
        let server = Hostile::start(move |m, _| match m {
            "PUT" => json(404, "{}"),
            _ => json(status, doc),
        });
        let sim = start(base_seed());
        let mut c = cmd(&sim);
        c.arg("auth")
            .env(
                "OTC_METADATA_URL",
                format!("{}/openstack/latest/securitykey", server.url()),
            )
            .env("CERTBOT_DOMAIN", "example.test")
            .env("CERTBOT_VALIDATION", "v-meta");
        let r = run(&sim, &mut c);
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(r.stderr.contains(&format!("HTTP {status}")), "{}", r.stderr);
        for s in ["SKLEAK", "TOKLEAK"] {
            assert!(
                !r.stderr.contains(s) && !r.stdout.contains(s),
                "{}",
                r.stderr
            );
        }
    }
}

#[test]
fn the_pod_token_never_goes_through_a_proxy() {
    let mut seed = base_seed();
    seed["metadata"] = json!({"enabled": false});
    seed["pod_identities"] =
        json!([{"token": "pod-sa-token-never-proxied", "project_id": "p1", "cluster_id": "c1"}]);
    let sim = start(seed);
    let token = scratch("pod-token");
    std::fs::write(&token, "pod-sa-token-never-proxied").unwrap();
    let proxy = proxy::Proxy::start();
    let mut c = cmd(&sim);
    c.arg("auth")
        .env("HTTPS_PROXY", proxy.url())
        .env("HTTP_PROXY", proxy.url())
        .env(
            "HC_CONTAINER_CREDENTIALS_FULL_URI",
            sim.pod_credentials_url(),
        )
        .env("HC_CONTAINER_AUTHORIZATION_TOKEN_FILE", &token)
        .env("CERTBOT_DOMAIN", "example.test")
        .env("CERTBOT_VALIDATION", "v-pod");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(proxy.seen().is_empty(), "{:?}", proxy.seen());
}

#[test]
fn a_listing_without_records_stops_the_run_before_any_write() {
    let zones = r#"{"zones":[{"id":"z1","name":"example.test.","zone_type":"public"}],"links":{}}"#;
    let partial = r#"{"recordsets":[{"id":"rs1","name":"_acme-challenge.example.test.","type":"TXT","ttl":600,"status":"ACTIVE"}],"links":{}}"#;
    let server = Hostile::start(move |m, p| match (m, p) {
        ("GET", p) if p.starts_with("/v2/zones?") => json(200, zones),
        ("GET", p) if p.starts_with("/v2/zones/z1/recordsets") => json(200, partial),
        _ => json(500, r#"{"code":"X","message":"no"}"#),
    });
    let sim = start(base_seed());
    let mut c = cmd(&sim);
    c.args(["auth", "--no-dns-check", "--no-cname"])
        .env("OTC_DNS_ENDPOINT", server.url())
        .env("OS_ACCESS_KEY", "AKSTATIC000000000001")
        .env("OS_SECRET_KEY", "SKstatic-secret-0000000000000000000000001")
        .env("CERTBOT_DOMAIN", "example.test")
        .env("CERTBOT_VALIDATION", "v-partial");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("unreadable answer"), "{}", r.stderr);
    let writes: Vec<String> = server
        .seen()
        .into_iter()
        .filter(|s| !s.starts_with("GET"))
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
}

#[test]
fn a_write_cut_off_by_the_deadline_is_swept_a_day_later() {
    let sim = start(base_seed());
    configure(
        &sim,
        json!({"faults": [{"kind": "slow", "ms": 4000, "method": "POST", "path_prefix": "/v2/zones/"}]}),
    );
    let mut c = cmd(&sim);
    c.args([
        "auth",
        "--deadline",
        "3",
        "--propagation-timeout",
        "2",
        "--http-timeout",
        "10",
    ])
    .env("CERTBOT_DOMAIN", "cut.example.test")
    .env("CERTBOT_VALIDATION", "v-cut-off");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("deadline"), "{}", r.stderr);
    let journal = lock_dir(&sim).join("journal.tsv");
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(
        text.lines()
            .any(|l| l.contains("\tv-cut-off\t") && l.ends_with("\tsending")),
        "{text}"
    );
    // The request lands after the hook is gone.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while txt_set(
        &sim,
        "public",
        "example.test.",
        "_acme-challenge.cut.example.test.",
    )
    .is_none()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the write never landed"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // A day later, the next run sweeps it.
    let aged: String = text
        .lines()
        .map(|l| {
            let (t, rest) = l.split_once('\t').unwrap();
            format!("{}\t{rest}\n", t.parse::<i64>().unwrap() - 2 * 86_400)
        })
        .collect();
    std::fs::write(&journal, aged).unwrap();
    let r = certbot_one(&sim, "auth", "www.example.test", "v-next-day");
    // Under certbot, a successful hook's lines are on stdout.
    assert!(
        r.stdout.contains("removing a leftover value v-cut-off"),
        "{}",
        r.stdout
    );
    assert_gone_or_going(&sim, "v-cut-off");
    assert_foreign_intact(&sim);
}

/// One certbot run of apex + wildcard on `domain` from its own lock directory
/// (a host of its own); its last hook must succeed.
fn host_run(sim: &otc_sim::Sim, dir: &Path, domain: &str, values: [&str; 2]) -> Result<(), String> {
    for (i, v) in values.iter().enumerate() {
        let out = cmd(sim)
            .arg("auth")
            .env("OTC_LOCK_DIR", dir)
            .env("CERTBOT_DOMAIN", domain)
            .env("CERTBOT_VALIDATION", v)
            .env("CERTBOT_REMAINING_CHALLENGES", (1 - i).to_string())
            .env("CERTBOT_ALL_DOMAINS", format!("{domain},{domain}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
    }
    Ok(())
}

#[test]
fn two_hosts_running_apex_and_wildcard_at_once_keep_every_value() {
    let mut seed = base_seed();
    // An API that applies writes at once: the read-modify-write race is widest.
    seed["pending_delay_ms"] = json!(0);
    let sim = start(seed);
    for round in 0..6 {
        let vals = [
            [format!("a1-{round}"), format!("a2-{round}")],
            [format!("b1-{round}"), format!("b2-{round}")],
        ];
        let errors: Vec<Result<(), String>> = std::thread::scope(|s| {
            let hs: Vec<_> = vals
                .iter()
                .enumerate()
                .map(|(h, v)| {
                    let dir = lock_dir(&sim).join(format!("host-{h}"));
                    let sim = &sim;
                    s.spawn(move || host_run(sim, &dir, "race.example.test", [&v[0], &v[1]]))
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for e in errors {
            e.unwrap();
        }
        let present = public_txt(&sim, "example.test.", "_acme-challenge.race.example.test.");
        for v in vals.iter().flatten() {
            assert!(present.contains(v), "round {round}: {v} lost: {present:?}");
        }
    }
}

#[test]
fn ten_hosts_on_one_name_all_succeed_and_clean_up() {
    let mut seed = base_seed();
    seed["pending_delay_ms"] = json!(0);
    let sim = start(seed);
    let hook = |verb: &str, h: usize| {
        let mut c = cmd(&sim);
        c.args([verb, "--no-dns-check"])
            .env("OTC_LOCK_DIR", lock_dir(&sim).join(format!("fleet-{h}")))
            .env("CERTBOT_DOMAIN", "example.test")
            .env("CERTBOT_VALIDATION", format!("fleet-{h}"))
            .env("CERTBOT_REMAINING_CHALLENGES", "0")
            .env("CERTBOT_ALL_DOMAINS", "example.test")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c.spawn().unwrap()
    };
    for verb in ["auth", "cleanup"] {
        let children: Vec<_> = (0..10).map(|h| hook(verb, h)).collect();
        for (h, child) in children.into_iter().enumerate() {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{verb} host {h}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let present = public_txt(&sim, "example.test.", "_acme-challenge.example.test.");
        for h in 0..10 {
            assert_eq!(
                present.contains(&format!("fleet-{h}")),
                verb == "auth",
                "{verb}: {present:?}"
            );
        }
    }
    assert_foreign_intact(&sim);
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
    let mut c = cmd(&sim);
    c.arg("auth")
        .env("CERTBOT_DOMAIN", &domain)
        .env("CERTBOT_VALIDATION", "v-long");
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("253"), "{}", r.stderr);
    assert!(requests(&sim).is_empty(), "{:?}", requests(&sim));
}

#[test]
fn a_reset_or_stalled_metadata_token_request_falls_back_to_the_plain_get() {
    let sim = start(base_seed());
    for fault in [
        json!({"kind": "reset"}),
        json!({"kind": "slow", "ms": 5000}),
    ] {
        let mut f = fault.clone();
        f["method"] = json!("PUT");
        f["path_prefix"] = json!("/meta-data/");
        configure(&sim, json!({"faults": [f]}));
        let r = certbot_one(&sim, "auth", "example.test", "v-token-fallback");
        assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    }
    certbot_one(&sim, "cleanup", "example.test", "v-token-fallback");
}

#[test]
fn api_redacts_every_secret_looking_field() {
    let body = r#"{"security_token":"L1","secret_key":"L2","client_secret":"L3","private_key":"L4","access_key_secret":"L5","id_token":"L6","passwd":"L7","nested":[{"Consumer-Key":"L8","sk":"L9"}],"name":"shown"}"#;
    let server = Hostile::start(move |_, _| json(200, body));
    let sim = start(base_seed());
    let mut c = cmd(&sim);
    c.args(["api", "GET", &format!("{}/anything", server.url())]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for leak in ["L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8", "L9"] {
        assert!(!r.stdout.contains(&format!("\"{leak}\"")), "{}", r.stdout);
    }
    assert!(r.stdout.contains("shown"), "{}", r.stdout);
}

#[test]
fn control_characters_from_a_server_never_reach_the_terminal() {
    let sim = start(base_seed());
    configure(
        &sim,
        json!({"faults": [{"kind": "status", "status": 400, "code": "DNS.0400",
            "message": "bad \u{1b}[2J\u{1b}]0;owned\u{7}\r\nforged line", "method": "POST"}]}),
    );
    let r = certbot(
        &sim,
        "auth",
        "esc.example.test",
        "v-esc",
        0,
        "esc.example.test",
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        !r.stderr.contains('\u{1b}') && !r.stderr.contains('\r'),
        "{:?}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{:?}", r.stderr);
    assert!(r.stderr.contains("\\u{1b}[2J"), "{:?}", r.stderr);
}

#[test]
fn a_password_in_an_endpoint_url_is_refused_and_never_printed() {
    let sim = start(base_seed());
    for flag in ["--dns-endpoint", "--iam-endpoint"] {
        let mut c = cmd(&sim);
        c.args(["auth", flag, "https://user:PA55W0RD@dns.example.test"])
            .env("CERTBOT_DOMAIN", "example.test")
            .env("CERTBOT_VALIDATION", "v-userinfo");
        let r = run(&sim, &mut c);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(!r.stderr.contains("PA55W0RD"), "{}", r.stderr);
        assert!(r.stderr.contains("credentials in URLs"), "{}", r.stderr);
    }
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
