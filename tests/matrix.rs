//! Scenarios every cloud must pass, written once and run for each cloud
//! (`each_cloud!` makes `otc::S`, `ovh::S` and `ncp::S` of scenario `S`),
//! over one harness (`common::cloud`) and one view of the simulator's state
//! (`common::world`: zones → names → values held and served, commits,
//! calls). The built binary runs with a cleared environment; every run
//! fails if its output carries a secret the simulator knows.
//!
//! | scenario                      | otc | ovh | ncp |
//! |-------------------------------|-----|-----|-----|
//! | `apex_and_wildcard`           |  ✓  |  ✓  |  ✓  |
//! | `rerun_is_idempotent`         |  ✓  |  ✓  |  ✓  |
//! | `nested_zone`                 |  ✓  |  ✓  |  ✓  |
//! | `day_old_sweep`               |  ✓  |  ✓  |  ✓  |
//! | `throttling`                  |  ✓  |  ✓  |  ✓  |
//! | `clock_skew`                  |  ✓  |  ✓¹ |  ✓  |
//! | `config_file`                 |  ✓  |  ✓  |  ✓  |
//! | `check_and_api`               |  ✓  |  ✓  |  ✓  |
//! | `hosts_at_once`               |  ✓  |  ✓  |  ✓  |
//! | `another_clouds_flags`        |  ✓  |  ✓  |  ✓  |
//!
//! ¹ An OVH service account's bearer token carries no time, so a skewed
//! clock is refused nowhere: the cell checks that the run is unharmed and
//! nothing is refused (classic keys, which sign with the API's time, are in
//! ovh.rs).
//!
//! Commits differ by design: OVH refreshes a zone, NCP applies a domain,
//! OTC serves a set once it is `ACTIVE` (no commit call). Each scenario says
//! what it expects of each through [`commits`].
//!
//! Cloud-only behaviour stays in per-cloud files: OTC agencies and CCE
//! (identity.rs), OVH classic keys, regions and `ovh.conf` (ovh.rs), NCP
//! metadata v1/v2 and rollback (ncp.rs).

mod common;

use std::process::Stdio;

use common::cloud::Cloud;
use common::world::World;
use common::{Run, configure, lock_dir, private_dir, reset_log, run};
use otc_sim::Sim;
use serde_json::{Value, json};

const ACME: &str = "_acme-challenge.example.test.";

macro_rules! each_cloud {
    ($($scenario:ident),* $(,)?) => {
        mod otc {
            $(#[test] fn $scenario() { super::$scenario(super::Cloud::Otc) })*
        }
        mod ovh {
            $(#[test] fn $scenario() { super::$scenario(super::Cloud::Ovh) })*
        }
        mod ncp {
            $(#[test] fn $scenario() { super::$scenario(super::Cloud::Ncp) })*
        }
    };
}

each_cloud!(
    apex_and_wildcard,
    rerun_is_idempotent,
    nested_zone,
    day_old_sweep,
    throttling,
    clock_skew,
    config_file,
    check_and_api,
    hosts_at_once,
    another_clouds_flags,
);

fn ok(cloud: Cloud, r: &Run, what: &str) {
    assert_eq!(
        r.code,
        0,
        "{} {what}:\nstdout: {}\nstderr: {}",
        cloud.name(),
        r.stdout,
        r.stderr
    );
}

/// The commits a run over `zones` must make: one per zone on OVH and NCP,
/// none on OTC.
fn commits(cloud: Cloud, zones: &[&str]) -> Vec<(String, usize)> {
    match cloud {
        Cloud::Otc => vec![],
        _ => zones.iter().map(|z| (common::world::fqdn(z), 1)).collect(),
    }
}

/// The seed's foreign records, held and served as seeded, in every cloud;
/// nothing waits for a commit; NCP never rolled back.
fn assert_untouched(cloud: Cloud, sim: &Sim) {
    let w = World::of(cloud, sim);
    let acme = w.name(ACME);
    assert!(acme.held.contains(&"foreign-keep".to_string()), "{acme:?}");
    // As stored, quoting included: a foreign record re-created in another
    // form would hold the same value and still not be the one seeded.
    let seeded = World::of(cloud, &cloud.sim());
    for raw in &seeded.name(ACME).raw {
        assert!(acme.raw.contains(raw), "{raw} at {ACME}: {acme:?}");
    }
    for name in ["example.test.", "xacme-challenge.example.test."] {
        assert_eq!(w.name(name).raw, seeded.name(name).raw, "{name}");
    }
    assert!(
        acme.served.contains(&"foreign-keep".to_string()),
        "{acme:?}"
    );
    assert_eq!(w.held("example.test."), ["v=spf1 -all"]);
    assert_eq!(w.held("xacme-challenge.example.test."), ["lookalike"]);
    assert_eq!(w.zone("example.test.").pending, 0, "an edit not committed");
    assert_eq!(w.count("PUT", "/rollback/"), 0, "rollback called");
    if cloud == Cloud::Otc {
        common::assert_foreign_intact(sim);
    }
    if cloud == Cloud::Ncp {
        common::ncp::assert_no_rollback(sim);
    }
}

/// What DNS serves at `name` once the last commit has propagated (OVH's
/// seed serves a refresh 300 ms late; cleanup does not wait for DNS).
fn served_settled(cloud: Cloud, sim: &Sim, name: &str) -> Vec<String> {
    let mut served = World::of(cloud, sim).served(name);
    for _ in 0..50 {
        let held = World::of(cloud, sim).held(name);
        if served == held {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        served = World::of(cloud, sim).served(name);
    }
    served
}

/// The API holds each of `values` at `name` once, as every cloud's API
/// stores a TXT value the hook sent: quoted.
fn assert_held_quoted(w: &World, name: &str, values: &[&str]) {
    let raw = w.name(name).raw;
    for v in values {
        let q = format!("\"{v}\"");
        assert_eq!(
            raw.iter().filter(|r| **r == q).count(),
            1,
            "{v} at {name}: {raw:?}"
        );
    }
}

fn journal(sim: &Sim) -> String {
    std::fs::read_to_string(lock_dir(sim).join("journal.tsv")).unwrap_or_default()
}

/// certbot's run for `example.test` and `*.example.test`: the first hook
/// only notes its value; the last writes both at once, commits the zone
/// once and waits until DNS serves both. Cleanup removes both, commits once,
/// and leaves the foreign value and an empty journal.
fn apex_and_wildcard(cloud: Cloud) {
    let sim = cloud.sim();
    let hooks = cloud.certbot(&sim);
    let run_of = [
        ("example.test", "apexValue-0001"),
        ("*.example.test", "wildValue-0002"),
    ];
    let r = run(&sim, &mut hooks.hook_of("auth", &run_of, 0));
    ok(cloud, &r, "first auth");
    assert!(
        r.stdout.contains("recorded TXT value apexValue-0001"),
        "{}",
        r.stdout
    );
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    assert!(
        World::of(cloud, &sim).calls.is_empty(),
        "an early hook makes no request"
    );
    let r = run(&sim, &mut hooks.hook_of("auth", &run_of, 1));
    ok(cloud, &r, "last auth");
    let w = World::of(cloud, &sim);
    let all = ["apexValue-0001", "foreign-keep", "wildValue-0002"];
    assert_eq!(w.held(ACME), all);
    assert_eq!(w.served(ACME), all, "the last hook waited for DNS");
    assert_held_quoted(&w, ACME, &["apexValue-0001", "wildValue-0002"]);
    if cloud == Cloud::Otc {
        assert_eq!(
            w.name(ACME).ttl,
            Some(600),
            "the existing set keeps its TTL"
        );
    }
    // OTC writes the set once; OVH a record per value; NCP one batch.
    let adds = match cloud {
        Cloud::Ovh => 2,
        _ => 1,
    };
    assert_eq!(w.adds(), adds, "{:?}", w.writes());
    assert_eq!(w.commits(), commits(cloud, &["example.test"]));
    // Every DNS call is signed by the cloud's usual identity.
    let ids = cloud.identities(&w);
    for c in w.dns_calls() {
        let k = c.access_key.clone().unwrap_or_default();
        assert!(ids.contains(&k), "{c:?} not signed by {ids:?}");
    }
    if cloud == Cloud::Ovh {
        assert!(
            w.dns_calls()
                .iter()
                .all(|c| c.auth.as_deref() == Some("bearer"))
        );
    }

    reset_log(&sim);
    let r = run(&sim, &mut hooks.hook_of("cleanup", &run_of, 0));
    ok(cloud, &r, "first cleanup");
    assert!(
        r.stdout
            .contains("removed TXT values apexValue-0001, wildValue-0002"),
        "{}",
        r.stdout
    );
    // The first cleanup hook removed both values, before the last one runs.
    assert_eq!(World::of(cloud, &sim).held(ACME), ["foreign-keep"]);
    let r = run(&sim, &mut hooks.hook_of("cleanup", &run_of, 1));
    ok(cloud, &r, "last cleanup");
    let w = World::of(cloud, &sim);
    assert_eq!(w.held(ACME), ["foreign-keep"]);
    assert_eq!(served_settled(cloud, &sim, ACME), ["foreign-keep"]);
    // OTC shrinks the set (a PUT); OVH deletes a record per value; NCP one batch.
    let removes = match cloud {
        Cloud::Otc => 0,
        Cloud::Ovh => 2,
        Cloud::Ncp => 1,
    };
    assert_eq!(w.removes(), removes, "{:?}", w.writes());
    assert_eq!(w.writes().len(), adds, "{:?}", w.writes());
    assert_eq!(w.commits(), commits(cloud, &["example.test"]));
    assert_untouched(cloud, &sim);
    assert!(journal(&sim).trim().is_empty(), "{}", journal(&sim));
}

/// Each hook process commits its zone once. The same value again (certbot
/// retried, or a re-run) writes nothing; cleaning up what is gone, or was
/// never added, succeeds and writes nothing.
fn rerun_is_idempotent(cloud: Cloud) {
    let sim = cloud.sim();
    let hooks = cloud.certbot(&sim);
    hooks.ok("auth", "example.test", "val-again");
    let w = World::of(cloud, &sim);
    assert_eq!(w.commits(), commits(cloud, &["example.test"]));
    assert_held_quoted(&w, ACME, &["val-again"]);
    reset_log(&sim);
    hooks.ok("auth", "example.test", "val-again");
    let w = World::of(cloud, &sim);
    assert_eq!(w.writes().len(), 0, "{:?}", w.writes());
    assert_eq!(w.held(ACME), ["foreign-keep", "val-again"], "no duplicate");
    reset_log(&sim);
    hooks.ok("cleanup", "example.test", "val-again");
    let w = World::of(cloud, &sim);
    assert_eq!(w.commits(), commits(cloud, &["example.test"]));
    assert_eq!(w.held(ACME), ["foreign-keep"]);
    reset_log(&sim);
    hooks.ok("cleanup", "example.test", "val-again");
    hooks.ok("cleanup", "example.test", "never-added");
    let r = hooks.run("cleanup", "nothing.example.test", "never-added", 0, "");
    ok(cloud, &r, "cleanup of a value never added");
    assert!(r.stdout.contains("nothing to remove"), "{}", r.stdout);
    let w = World::of(cloud, &sim);
    assert_eq!(w.writes().len(), 0, "{:?}", w.writes());
    assert_eq!(w.held(ACME), ["foreign-keep"]);
    assert_untouched(cloud, &sim);
}

/// The longest zone suffix wins (`www.sub.example.test` lies in
/// `sub.example.test`), and a name several labels under a zone's apex
/// (`deep.er.example.test`) lies in that zone.
fn nested_zone(cloud: Cloud) {
    let sim = cloud.sim();
    let hooks = cloud.certbot(&sim);
    let nested = "_acme-challenge.www.sub.example.test.";
    let deep = "_acme-challenge.deep.er.example.test.";
    let r = hooks.ok("auth", "www.sub.example.test", "val-nested");
    assert!(
        r.stdout.contains("in zone sub.example.test."),
        "{}",
        r.stdout
    );
    let w = World::of(cloud, &sim);
    assert_eq!(
        w.zone("sub.example.test").names[nested].held,
        ["val-nested"]
    );
    assert!(!w.zone("example.test").names.contains_key(nested));
    assert_eq!(w.served(nested), ["val-nested"]);
    assert_held_quoted(&w, nested, &["val-nested"]);
    assert_eq!(w.commits(), commits(cloud, &["sub.example.test"]));
    reset_log(&sim);
    hooks.ok("auth", "deep.er.example.test", "val-deep");
    let w = World::of(cloud, &sim);
    assert_eq!(w.zone("example.test").names[deep].held, ["val-deep"]);
    assert_eq!(w.served(deep), ["val-deep"]);
    assert_held_quoted(&w, deep, &["val-deep"]);
    assert_eq!(w.commits(), commits(cloud, &["example.test"]));
    hooks.ok("cleanup", "www.sub.example.test", "val-nested");
    hooks.ok("cleanup", "deep.er.example.test", "val-deep");
    let w = World::of(cloud, &sim);
    for n in [nested, deep] {
        assert!(w.held(n).is_empty(), "{n}: {:?}", w.name(n));
        assert!(
            served_settled(cloud, &sim, n).is_empty(),
            "{n}: {:?}",
            w.name(n)
        );
    }
    assert_eq!(w.zone("sub.example.test").pending, 0);
    assert_untouched(cloud, &sim);
}

/// A value a crashed run left two days ago is swept by the next run (and
/// the removal committed); one left an hour ago, and foreign ones, stay.
fn day_old_sweep(cloud: Cloud) {
    let sim = cloud.start(cloud.seed_with(&["leftover-old", "leftover-recent"]));
    let zone = World::of(cloud, &sim).zone("example.test").id.clone();
    let dir = lock_dir(&sim);
    private_dir(&dir);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut text = String::new();
    for (age, name, value) in [
        (2 * 86_400, ACME, "leftover-old"),
        (3_600, ACME, "leftover-recent"),
        (
            3 * 86_400,
            "_acme-challenge.gone.example.test.",
            "already-gone",
        ),
    ] {
        text.push_str(&format!(
            "{}\t{}\t{zone}\texample.test.\t{name}\t{value}\n",
            now - age,
            sim.base_url()
        ));
    }
    std::fs::write(dir.join("journal.tsv"), text).unwrap();
    let hooks = cloud.certbot(&sim);
    let r = hooks.ok("auth", "www.example.test", "fresh-value");
    assert!(
        r.stdout.contains("removing a leftover value leftover-old"),
        "{}",
        r.stdout
    );
    let w = World::of(cloud, &sim);
    let kept = ["foreign-keep", "leftover-recent"];
    assert_eq!(w.held(ACME), kept, "only the day-old value went");
    assert_eq!(w.served(ACME), kept, "the sweep was committed");
    assert_eq!(w.held("_acme-challenge.www.example.test."), ["fresh-value"]);
    assert_held_quoted(&w, "_acme-challenge.www.example.test.", &["fresh-value"]);
    assert_eq!(w.commits(), commits(cloud, &["example.test"]));
    let j = journal(&sim);
    assert!(
        !j.contains("leftover-old") && !j.contains("already-gone"),
        "{j}"
    );
    assert!(
        j.contains("leftover-recent") && j.contains("fresh-value"),
        "{j}"
    );
    // Cleanup forgets its own entry.
    hooks.ok("cleanup", "www.example.test", "fresh-value");
    assert!(!journal(&sim).contains("fresh-value"), "{}", journal(&sim));
    assert_untouched(cloud, &sim);
}

/// Two 429s on the DNS API are waited out and a 503 on a read is retried:
/// the value is written once. Where a commit fails (OVH: 500 on the
/// refresh, NCP: 503 on the apply), the commit alone is retried, never the
/// write.
fn throttling(cloud: Cloud) {
    let sim = cloud.sim();
    let zone = World::of(cloud, &sim).zone("example.test").id.clone();
    let dns = cloud.dns_path();
    let mut faults = vec![
        json!({"kind": "429", "count": 2, "retry_after": 0, "path_prefix": dns}),
        json!({"kind": "status", "status": 503, "count": 1, "path_prefix": dns, "method": "GET"}),
    ];
    let mut expected = vec!["429", "429", "status"];
    if let Some(p) = cloud.commit_path(&zone) {
        let status = if cloud == Cloud::Ovh { 500 } else { 503 };
        faults.push(json!({"kind": "status", "status": status, "count": 1, "path_prefix": p}));
        expected.push("status");
    }
    configure(&sim, json!({ "faults": faults }));
    let r = cloud.certbot(&sim).ok("auth", "example.test", "v-retry");
    assert!(r.stdout.contains("HTTP 429; retrying"), "{}", r.stdout);
    let w = World::of(cloud, &sim);
    let faults: Vec<&str> = w.calls.iter().filter_map(|c| c.fault.as_deref()).collect();
    assert_eq!(faults, expected, "{:?}", w.calls);
    assert_eq!(w.answered(429), 2);
    // The read's 503, and NCP's apply's.
    let unavailable = if cloud == Cloud::Ncp { 2 } else { 1 };
    assert_eq!(w.answered(503), unavailable, "{:?}", w.calls);
    assert_eq!(
        w.answered(500),
        usize::from(cloud == Cloud::Ovh),
        "the refresh's 500"
    );
    assert_eq!(w.adds(), 1, "never the write again: {:?}", w.writes());
    let again = match cloud {
        Cloud::Otc => vec![],
        _ => vec![(common::world::fqdn("example.test"), 2)],
    };
    assert_eq!(w.commits(), again, "the commit again");
    assert_eq!(w.served(ACME), ["foreign-keep", "v-retry"]);
    assert_untouched(cloud, &sim);
}

/// A host clock 20 minutes off either way: OTC and NCP sign with the time,
/// so one request is refused, the skew is learnt from the answer's `Date`
/// and named with the fix; OVH's bearer carries no time (nothing refused).
fn clock_skew(cloud: Cloud) {
    for offset in [1200i64, -1200] {
        let sim = cloud.sim();
        configure(&sim, json!({"clock_offset_secs": offset}));
        let r = cloud.certbot(&sim).ok("auth", "example.test", "v-skew");
        let w = World::of(cloud, &sim);
        let word = if offset > 0 { "behind" } else { "ahead of" };
        if cloud == Cloud::Ovh {
            assert_eq!(w.answered(401), 0, "{:?}", w.calls);
            assert!(!r.stderr.contains("clock"), "{}", r.stderr);
        } else {
            assert_eq!(w.answered(401), 1, "offset {offset}: one refusal");
            assert!(
                r.stderr.contains(&format!(
                    "warning: this host's clock is 1200 s {word} the API's"
                )),
                "{}",
                r.stderr
            );
            assert!(r.stderr.contains("NTP"), "{}", r.stderr);
        }
        assert_eq!(w.held(ACME), ["foreign-keep", "v-skew"]);
        assert_untouched(cloud, &sim);
    }
}

/// A config file (`OTC_CONFIG`, `--config`) may choose the cloud and hold
/// its endpoint and static key (the environment holds only the simulator's
/// ports and the lock directory); holding a secret, it must be private.
fn config_file(cloud: Cloud) {
    use std::os::unix::fs::PermissionsExt;
    let sim = cloud.sim();
    let dir = lock_dir(&sim).with_extension("conf");
    private_dir(&dir);
    let conf = dir.join("config");
    std::fs::write(&conf, cloud.config_lines(&sim)).unwrap();
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o600)).unwrap();
    let hooks = cloud
        .certbot(&sim)
        .env_remove("OTC_CLOUD")
        .env_remove("OTC_DNS_ENDPOINT")
        .env_remove("OTC_METADATA_URL")
        .env_remove("OVH_CLIENT_ID")
        .env_remove("OVH_CLIENT_SECRET");
    hooks
        .clone()
        .env("OTC_CONFIG", &conf)
        .ok("auth", "example.test", "v-config");
    let w = World::of(cloud, &sim);
    assert_eq!(w.held(ACME), ["foreign-keep", "v-config"]);
    let key = cloud.static_key().0;
    assert!(!w.dns_calls().is_empty());
    for c in w.dns_calls() {
        assert_eq!(c.access_key.as_deref(), Some(key), "{c:?}");
    }
    // The file's key: no metadata service, only the DNS API (and OVH's
    // token endpoint).
    assert!(
        w.calls
            .iter()
            .all(|c| c.path.starts_with(cloud.dns_path()) || c.path == "/auth/oauth2/token"),
        "{:?}",
        w.calls
    );
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o644)).unwrap();
    reset_log(&sim);
    for how in [
        hooks.clone().env("OTC_CONFIG", &conf),
        hooks.clone().arg("--config").arg(&conf),
    ] {
        let r = how.run("cleanup", "example.test", "v-config", 0, "example.test");
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stderr.contains("chmod 600"), "{}", r.stderr);
    }
    assert!(World::of(cloud, &sim).calls.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `check` finds each name's zone, adds and removes a probe value (and
/// commits both), reaches the nameserver and the delegation; `--read-only`
/// writes nothing. `api` calls any path of the DNS API, signed; an error
/// answer is one line, exit 1.
fn check_and_api(cloud: Cloud) {
    let sim = cloud.sim();
    let resolver = sim.dns_addr().to_string();
    let mut c = cloud.cmd(&sim);
    c.args([
        "check",
        "example.test",
        "www.sub.example.test",
        "--resolver",
        &resolver,
    ]);
    let r = run(&sim, &mut c);
    ok(cloud, &r, "check");
    for line in [
        "ok    credentials: ",
        "ok    clock: ",
        "ok    zone example.test: _acme-challenge.example.test. lies in public zone example.test.",
        "ok    probe example.test: added and removed a TXT value at _acme-challenge.example.test.",
        "ok    zone www.sub.example.test: _acme-challenge.www.sub.example.test. lies in public zone sub.example.test.",
        "ok    nameserver localhost.: ",
        "ok    delegation of example.test.: NS localhost.",
    ] {
        assert!(r.stdout.contains(line), "missing {line:?} in\n{}", r.stdout);
    }
    assert!(!r.stdout.contains("FAIL"), "{}", r.stdout);
    let w = World::of(cloud, &sim);
    assert!(w.adds() >= 2, "a probe per zone: {:?}", w.writes());
    assert_eq!(w.held(ACME), ["foreign-keep"], "the probe is gone");
    assert_eq!(w.served(ACME), ["foreign-keep"]);
    if cloud != Cloud::Otc {
        for z in ["example.test", "sub.example.test"] {
            assert!(w.commits_of(z) >= 2, "{z}: the probe, then its removal");
        }
    }
    assert_untouched(cloud, &sim);

    reset_log(&sim);
    let mut c = cloud.cmd(&sim);
    c.args([
        "check",
        "example.test",
        "--read-only",
        "--resolver",
        &resolver,
    ]);
    let r = run(&sim, &mut c);
    ok(cloud, &r, "check --read-only");
    assert!(r.stdout.contains("skipped (--read-only)"), "{}", r.stdout);
    let w = World::of(cloud, &sim);
    assert!(
        w.writes().is_empty() && w.commits().is_empty(),
        "{:?}",
        w.calls
    );

    let mut c = cloud.cmd(&sim);
    c.args(["api", "GET", cloud.zone_listing()]);
    let r = run(&sim, &mut c);
    ok(cloud, &r, "api");
    let v: Value = serde_json::from_str(&r.stdout).expect("JSON on stdout");
    assert!(v.to_string().contains("sub.example.test"), "{v}");
    let mut c = cloud.cmd(&sim);
    let missing = match cloud {
        Cloud::Otc => "/v2/zones/no-such-zone",
        Cloud::Ovh => "/domain/zone/no-such-zone.test",
        Cloud::Ncp => "/ncpdns/record/999?page=0&size=1",
    };
    c.args(["api", "GET", missing]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("HTTP 404"), "{}", r.stderr);
}

/// Six hosts (own lock directories) run auth on one name at once, then
/// cleanup at once: every value is held and served, then none is.
fn hosts_at_once(cloud: Cloud) {
    let sim = cloud.sim();
    let hosts = 6;
    let spawn = |verb: &str, h: usize| {
        let hooks = cloud
            .certbot(&sim)
            .env("OTC_LOCK_DIR", lock_dir(&sim).join(format!("host-{h}")));
        let mut c = hooks.command(
            verb,
            "example.test",
            &format!("host-{h}"),
            0,
            "example.test",
        );
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        c.spawn().unwrap()
    };
    for verb in ["auth", "cleanup"] {
        let children: Vec<_> = (0..hosts).map(|h| spawn(verb, h)).collect();
        for (h, child) in children.into_iter().enumerate() {
            let out = child.wait_with_output().unwrap();
            let r = Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            };
            common::assert_no_secrets(&sim, &r);
            ok(cloud, &r, &format!("{verb} host {h}"));
        }
        let w = World::of(cloud, &sim);
        let (held, served) = (w.held(ACME), served_settled(cloud, &sim, ACME));
        for h in 0..hosts {
            let v = format!("host-{h}");
            assert_eq!(held.contains(&v), verb == "auth", "{verb}: {held:?}");
            assert_eq!(served.contains(&v), verb == "auth", "{verb}: {served:?}");
        }
    }
    assert_untouched(cloud, &sim);
}

/// A flag of another cloud is refused before any call, in one line naming
/// the cloud it belongs to.
fn another_clouds_flags(cloud: Cloud) {
    let sim = cloud.sim();
    for (flag, owner) in [("--agency-name", "otc/huawei"), ("--client-id", "ovh")] {
        if owner.split('/').any(|o| o == cloud.name()) {
            continue;
        }
        let r = cloud.certbot(&sim).args([flag, "x"]).run(
            "auth",
            "example.test",
            "v",
            0,
            "example.test",
        );
        assert_eq!(r.code, 2, "{flag}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(
            r.stderr.contains(&format!(
                "{flag} belongs to --cloud {owner}, not --cloud {}",
                cloud.name()
            )),
            "{}",
            r.stderr
        );
    }
    assert!(World::of(cloud, &sim).calls.is_empty());
}
