//! Hosts the state directory and run joining must not rely on: a user
//! without a home of their own (a `User=` unit whose home is `/nonexistent`,
//! `DynamicUser=`) and a host where /proc tells no ancestor (hardened
//! containers, `hidepid`). Each runs the built binary in a mount namespace of
//! its own (`unshare`), with fresh tmpfs over `/var/tmp` and `/run/user` (`TMPDIR` inside the first)
//! or `/proc`, so nothing of the machine's is read or left behind.

mod common;

use std::process::Command;

use common::*;
use otc_sim::Sim;

/// One hook of a certbot run: `(hook, domain, value, remaining)`.
type Hook<'a> = (&'a str, &'a str, &'a str, usize);

/// The hooks of a certbot run of `challenges`, in certbot's order.
fn run_of<'a>(hook: &'a str, challenges: &[(&'a str, &'a str)]) -> Vec<Hook<'a>> {
    challenges
        .iter()
        .enumerate()
        .map(|(i, (d, v))| (hook, *d, *v, challenges.len() - 1 - i))
        .collect()
}

/// Runs `setup` (shell lines, as root), then `hooks` (one process each, as
/// `nobody` when `as_nobody`), then `after`, from one shell in a new mount
/// namespace. Returns the shell's exit code and output.
fn in_namespace(
    sim: &Sim,
    base: Command,
    setup: &str,
    hooks: &[Hook],
    after: &str,
    as_nobody: bool,
) -> Run {
    let all = {
        let mut v: Vec<&str> = Vec::new();
        for (_, d, _, _) in hooks {
            if !v.contains(d) {
                v.push(d);
            }
        }
        v.join(",")
    };
    let mut script = format!("set -e\n{setup}\n");
    let who = if as_nobody {
        "setpriv --reuid=nobody --regid=nogroup --clear-groups -- "
    } else {
        ""
    };
    for (hook, d, v, left) in hooks {
        script.push_str(&format!(
            "CERTBOT_DOMAIN='{}' CERTBOT_VALIDATION='{v}' CERTBOT_REMAINING_CHALLENGES={left} CERTBOT_ALL_DOMAINS='{all}' {who}'{BIN}' {hook} -v\n",
            d.trim_start_matches("*."),
        ));
    }
    script.push_str(after);
    let mut c = Command::new("unshare");
    if is_root() {
        c.arg("--mount");
    } else {
        c.args(["--mount", "--map-root-user"]);
    }
    c.args(["--propagation", "private", "sh", "-c", &script]);
    c.env_clear();
    for (k, v) in base.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    c.env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    run(sim, &mut c)
}

/// The environment of a hook of a user without a home: no lock directory.
fn homeless(sim: &Sim) -> Command {
    let mut c = cmd(sim);
    c.env_remove("OTC_LOCK_DIR")
        .env("HOME", "/nonexistent")
        .env("TMPDIR", "/var/tmp/tmp");
    c
}

const PAIRS: [(&str, &str); 4] = [
    ("h0.example.test", "h0-apex"),
    ("*.h0.example.test", "h0-wild"),
    ("h1.example.test", "h1-apex"),
    ("*.h1.example.test", "h1-wild"),
];

/// Fresh tmpfs over the places a user without a home may keep state, and a
/// fresh `TMPDIR` inside (not a tmpfs over /tmp: the tests' own binaries may
/// live there, as in a CI checkout under /tmp).
const FRESH_TMP: &str = "mount -t tmpfs -o mode=1777 none /var/tmp\n\
                         mkdir -m 1777 /var/tmp/tmp\n\
                         mount -t tmpfs -o mode=755 none /run/user\n";

/// Auth hooks, a look at what is served, then the cleanup hooks.
fn whole_run(sim: &Sim, setup: &str, after: &str) -> Run {
    let mut hooks = run_of("auth", &PAIRS);
    hooks.extend(run_of("cleanup", &PAIRS));
    let r = in_namespace(sim, homeless(sim), setup, &hooks, after, true);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    r
}

/// Every value of the run was written (each name's set at some point held it)
/// and is gone now.
fn every_value_written_then_removed(sim: &Sim) {
    let log = sim.log_json().to_string();
    for (_, v) in PAIRS {
        assert!(log.contains(v), "{v} was never written: {log}");
        assert_gone_or_going(sim, v);
    }
    assert_foreign_intact(sim);
}

#[test]
fn a_user_without_a_home_batches_in_a_stable_private_directory() {
    common::require_root("needs root for a second user");
    let sim = start(base_seed());
    let r = whole_run(
        &sim,
        FRESH_TMP,
        "stat -c 'dir %U %a %F' /var/tmp/otc-acme-hook-65534\necho \"tmp: $(ls -A /var/tmp/tmp)\"\n",
    );
    // Batched: the early hooks recorded their values, the last wrote each name
    // once; the first cleanup removed them all.
    assert_eq!(
        r.stderr.matches("recorded TXT value").count(),
        3,
        "{}",
        r.stderr
    );
    assert_eq!(
        r.stderr
            .matches("was removed with the other values")
            .count(),
        3,
        "{}",
        r.stderr
    );
    assert_eq!(set_writes(&sim), 4, "{:?}", requests(&sim));
    assert!(
        r.stderr
            .contains("state directory /var/tmp/otc-acme-hook-65534"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    assert!(
        r.stdout.contains("dir nobody 700 directory"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("tmp: \n"),
        "nothing left in /tmp: {}",
        r.stdout
    );
    every_value_written_then_removed(&sim);
}

#[test]
fn a_systemd_state_directory_is_used_by_a_user_without_a_home() {
    common::require_root("needs root for a second user");
    let sim = start(base_seed());
    // StateDirectory= of a User= unit: /var/lib/NAME, the user's, 0755.
    let setup =
        format!("{FRESH_TMP}mkdir -m 755 /var/tmp/unit-state\nchown nobody /var/tmp/unit-state\n");
    let mut base = homeless(&sim);
    base.env("STATE_DIRECTORY", "/var/tmp/unit-state");
    let mut hooks = run_of("auth", &PAIRS);
    hooks.extend(run_of("cleanup", &PAIRS));
    let r = in_namespace(&sim, base, &setup, &hooks, "", true);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("state directory /var/tmp/unit-state/otc-acme-hook-65534"),
        "{}",
        r.stderr
    );
    assert_eq!(
        r.stderr.matches("recorded TXT value").count(),
        3,
        "{}",
        r.stderr
    );
    every_value_written_then_removed(&sim);
}

#[test]
fn without_a_stable_directory_each_hook_writes_its_own_value_and_leaves_no_temp_dir() {
    common::require_root("needs root for a second user");
    let sim = start(base_seed());
    // /var/tmp/otc-acme-hook-65534 is taken (root's, open to all): refused.
    let setup = format!("{FRESH_TMP}mkdir -m 755 /var/tmp/otc-acme-hook-65534\n");
    let r = whole_run(&sim, &setup, "echo \"tmp: $(ls -A /var/tmp/tmp)\"\n");
    assert_eq!(
        r.stderr.matches("recorded TXT value").count(),
        0,
        "{}",
        r.stderr
    );
    assert_eq!(
        r.stderr
            .matches("the hooks of a certbot run are not batched")
            .count(),
        8,
        "{}",
        r.stderr
    );
    assert!(
        r.stdout.contains("tmp: \n"),
        "a temp dir was left: {}",
        r.stdout
    );
    // Each value was served before its hook returned: certbot's validation of
    // every challenge would pass.
    let served = sim.log_json()["served"].to_string();
    for (_, v) in PAIRS {
        assert!(served.contains(v), "{v} never served: {served}");
    }
    every_value_written_then_removed(&sim);
}

/// Two runs of the same names in a namespace whose /proc is an empty tmpfs:
/// the first dies after two of its three auth hooks, the second runs whole.
#[test]
fn without_proc_a_dead_runs_values_are_never_sent() {
    let sim = start(base_seed());
    let dead = [
        ("k.example.test", "dead-apex"),
        ("*.k.example.test", "dead-wild"),
        ("k2.example.test", "dead-k2"),
    ];
    let fresh = [
        ("k.example.test", "fresh-apex"),
        ("*.k.example.test", "fresh-wild"),
        ("k2.example.test", "fresh-k2"),
    ];
    let mut hooks = run_of("auth", &dead);
    hooks.truncate(2);
    hooks.extend(run_of("auth", &fresh));
    let journal = lock_dir(&sim).join("journal.tsv");
    let r = in_namespace(
        &sim,
        cmd(&sim),
        "mount -t tmpfs none /proc\n",
        &hooks,
        &format!(
            "echo \"proc: $(ls -A /proc)\"\ncat '{}'\n",
            journal.display()
        ),
        false,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("proc: \n"), "{}", r.stdout);
    assert!(
        !r.stdout.contains(";anc="),
        "no ancestor was read: {}",
        r.stdout
    );
    let state = sim.state_json().to_string();
    assert!(
        !state.contains("dead-"),
        "a dead run's values are never sent: {state}"
    );
    assert_eq!(
        public_txt(&sim, "example.test.", "_acme-challenge.k.example.test."),
        vec!["fresh-apex", "fresh-wild"]
    );
    assert_eq!(
        public_txt(&sim, "example.test.", "_acme-challenge.k2.example.test."),
        vec!["fresh-k2"]
    );
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(!text.contains("dead-"), "dropped from the journal: {text}");
    // The cleanup, without /proc too.
    let r = in_namespace(
        &sim,
        cmd(&sim),
        "mount -t tmpfs none /proc\n",
        &run_of("cleanup", &fresh),
        "",
        false,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    for (_, v) in fresh {
        assert_gone_or_going(&sim, v);
    }
    assert_foreign_intact(&sim);
}
