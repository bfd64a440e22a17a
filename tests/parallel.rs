//! `--parallel N` / `OTC_PARALLEL`: how many of a run's requests may be in
//! flight at once. Outside 1..=32 it is refused before any request (exit 2),
//! from a flag, the environment or a config file; inside, a run works as before.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;

fn auth(sim: &otc_sim::Sim, setup: impl FnOnce(&mut std::process::Command)) -> Run {
    let mut c = cmd(sim);
    c.arg("auth")
        .env("CERTBOT_DOMAIN", "par.example.test")
        .env("CERTBOT_VALIDATION", "v-parallel")
        .env("CERTBOT_REMAINING_CHALLENGES", "0")
        .env("CERTBOT_ALL_DOMAINS", "par.example.test");
    setup(&mut c);
    run(sim, &mut c)
}

fn assert_refused(sim: &otc_sim::Sim, r: &Run, shown: &str) {
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "one line: {}", r.stderr);
    assert!(
        r.stderr.contains("--parallel") && r.stderr.contains(shown),
        "{}",
        r.stderr
    );
    assert!(requests(sim).is_empty(), "{:?}", requests(sim));
}

#[test]
fn outside_one_to_thirty_two_is_refused_before_any_request() {
    let sim = start(base_seed());
    for v in ["0", "33", "-1", "eight"] {
        let r = auth(&sim, |c| {
            c.arg(format!("--parallel={v}"));
        });
        assert_refused(&sim, &r, v);
        let r = auth(&sim, |c| {
            c.env("OTC_PARALLEL", v);
        });
        assert_refused(&sim, &r, v);
    }
    let d = std::env::temp_dir().join(format!("otc-parallel-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let conf = d.join("config");
    std::fs::write(&conf, "OTC_PARALLEL=64\n").unwrap();
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = auth(&sim, |c| {
        c.arg("--config").arg(&conf);
    });
    assert_refused(&sim, &r, "64");
    assert!(
        r.stderr.contains("OTC_PARALLEL is set in config file"),
        "{}",
        r.stderr
    );
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn one_and_thirty_two_are_accepted_and_the_run_works() {
    let sim = start(base_seed());
    for (how, v) in [("flag", "1"), ("env", "32")] {
        let r = auth(&sim, |c| {
            if how == "flag" {
                c.args(["--parallel", v]);
            } else {
                c.env("OTC_PARALLEL", v);
            }
        });
        assert_eq!(r.code, 0, "--parallel {v}: {}{}", r.stdout, r.stderr);
        assert_eq!(
            public_txt(&sim, "example.test.", "_acme-challenge.par.example.test."),
            vec!["v-parallel"]
        );
    }
}
