//! Hosts and processes at once on one zone (OTC, whose API applies a
//! read-modify-write of a whole set): no value is lost. (Hosts at once on
//! every cloud is `matrix::*::hosts_at_once`.)

mod common;

use std::path::Path;
use std::process::Stdio;

use common::cloud::Cloud;
use common::*;
use serde_json::json;

/// One certbot run of apex + wildcard on `domain` from its own lock directory
/// (a host of its own); its last hook must succeed.
fn host_run(sim: &otc_sim::Sim, dir: &Path, domain: &str, values: [&str; 2]) -> Result<(), String> {
    for (i, v) in values.iter().enumerate() {
        let out = Cloud::Otc
            .certbot(sim)
            .env("OTC_LOCK_DIR", dir)
            .challenge(
                "auth",
                domain,
                v,
                Some(&(1 - i).to_string()),
                Some(&format!("{domain},{domain}")),
            )
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
        let mut c = Cloud::Otc
            .certbot(&sim)
            .env("OTC_LOCK_DIR", lock_dir(&sim).join(format!("fleet-{h}")))
            .hook_args(["--no-dns-check"])
            .challenge(
                verb,
                "example.test",
                &format!("fleet-{h}"),
                Some("0"),
                Some("example.test"),
            );
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
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
fn two_auths_at_the_same_moment_both_land() {
    for round in 0..8 {
        let mut seed = base_seed();
        seed["pending_delay_ms"] = json!(150);
        let sim = start(seed);
        // Odd rounds: two hosts (separate lock directories), so the API's own
        // conflicts (DNS.0312, DNS.0314, lost updates) are met and ridden out.
        let dirs = if round % 2 == 0 {
            [lock_dir(&sim), lock_dir(&sim)]
        } else {
            [lock_dir(&sim).join("a"), lock_dir(&sim).join("b")]
        };
        let domain = if round % 4 < 2 {
            "race.example.test"
        } else {
            "example.test"
        };
        let children: Vec<_> = ["race-a", "race-b"]
            .iter()
            .zip(dirs.iter())
            .map(|(v, dir)| {
                let mut c = Cloud::Otc
                    .certbot(&sim)
                    .env("OTC_LOCK_DIR", dir)
                    .hook_args(["--no-dns-check"])
                    .lone("auth", domain, &format!("{v}-{round}"));
                c.stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped());
                c.spawn().unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let name = format!("_acme-challenge.{domain}.");
        let vals = txt_set(&sim, "public", "example.test.", &name).unwrap().0;
        for v in ["race-a", "race-b"] {
            assert!(
                vals.contains(&format!("{v}-{round}")),
                "round {round}: {vals:?}"
            );
        }
        assert_foreign_intact(&sim);
    }
}
