//! A run cut short and what it leaves: `--deadline` is checked against the
//! propagation timeout and ends a hanging run; a write the deadline cut off
//! is swept a day later; a sweep that fails never fails the run. (The
//! day-old sweep on every cloud is `matrix::*::day_old_sweep`.)

mod common;

use common::cloud::Cloud;
use common::*;
use otc_sim::Sim;
use serde_json::json;

#[test]
fn deadline_shorter_than_propagation_timeout_is_refused() {
    let sim = start(base_seed());
    let r = lone_auth(&sim, &["--deadline", "10", "--propagation-timeout", "20"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--deadline (10s) is shorter than --propagation-timeout (20s)"),
        "{}",
        r.stderr
    );
    assert!(requests(&sim).is_empty());
}

#[test]
fn deadline_ends_a_hanging_run() {
    let sim = start(base_seed());
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let r = lone_auth(
        &sim,
        &[
            "--nameserver",
            &silent.local_addr().unwrap().to_string(),
            "--no-cname",
            "--propagation-timeout",
            "2",
            "--deadline",
            "2",
        ],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("deadline") || r.stderr.contains("propagation: after"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_write_cut_off_by_the_deadline_is_swept_a_day_later() {
    let sim = start(base_seed());
    configure(
        &sim,
        json!({"faults": [{"kind": "slow", "ms": 4000, "method": "POST", "path_prefix": "/v2/zones/"}]}),
    );
    let mut c = Cloud::Otc
        .certbot(&sim)
        .hook_args([
            "--deadline",
            "3",
            "--propagation-timeout",
            "2",
            "--http-timeout",
            "10",
        ])
        .lone("auth", "cut.example.test", "v-cut-off");
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

fn write_journal(sim: &Sim, entries: &[(i64, &str, &str)]) {
    let dir = lock_dir(sim);
    private_dir(&dir);
    let zid = public_zone_id(sim, "example.test.");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut text = String::new();
    for (age, name, value) in entries {
        text.push_str(&format!(
            "{}\t{}\t{zid}\texample.test.\t{name}\t{value}\n",
            now - age,
            sim.base_url()
        ));
    }
    std::fs::write(dir.join("journal.tsv"), text).unwrap();
}

#[test]
fn sweep_failures_never_fail_the_run() {
    let sim = start(base_seed());
    write_journal(
        &sim,
        &[(
            2 * 86_400,
            "_acme-challenge.example.test.",
            "foreign-keep\"evil",
        )],
    );
    configure(&sim, json!({}));
    let r = certbot_one(&sim, "auth", "www.example.test", "v-sweep");
    assert!(
        r.stderr.contains("journal: dropping an invalid entry"),
        "{}",
        r.stderr
    );
    assert_foreign_intact(&sim);
}
