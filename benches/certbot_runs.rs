//! Benchmark: certbot-style runs of the real `otc-acme-hook` binary against
//! the in-process simulator, hook overhead, `api GET` against a minimal
//! Python signed GET, and peak RSS. Prints figures only: targets get a
//! ✓/✗, nothing is asserted.
//!
//! ```text
//! cargo bench --bench certbot_runs              # everything (~3 min on 2 cores)
//! cargo bench --bench certbot_runs -- --quick   # N = 1, 5 and fewer repetitions
//! cargo bench --bench certbot_runs -- --only rss # one of: runs, overhead, api, rss, latency
//! cargo bench --bench certbot_runs -- --only latency --clouds otc --sizes 2,20
//! ```
//!
//! The latency rows (`--only latency`): one certbot run per cloud (otc, ovh,
//! ncp) and size (2, 20, 100 challenges; `--quick`: 2, 20) with the
//! simulator adding 80 ms to every remote API call; `--clouds` and `--sizes`
//! pick a subset.
//!
//! Definitions (also printed with the results):
//! - A run: the auth hook once per challenge, one after the other as certbot
//!   does, with `CERTBOT_REMAINING_CHALLENGES` counting down to 0 and
//!   `CERTBOT_ALL_DOMAINS` naming every domain of the run. Then every cleanup
//!   hook, timed separately. A fresh simulator per run.
//! - Waiting hooks: the last one in wait-once mode; every one with
//!   `--no-wait-once`. The waiting phase of a hook runs from its last write
//!   request (POST/PUT) to its exit.
//! - Detection lag: a waiting hook's exit minus the moment the simulator's DNS
//!   began serving the last of the values it waits for (its own value with
//!   `--no-wait-once`, every value of the run in wait-once mode).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use otc_sim::Sim;

#[path = "../tests/common/mod.rs"]
mod common;
use common::Req;
use serde_json::{Value, json};

use common::BIN;
const ZONE: &str = "bench.test";
/// Propagation delay D of the runs.
const PROPAGATION_MS: u64 = 2000;
const PENDING_MS: u64 = 500;
/// Target: wait-once total ≤ D + 1 s.
const TARGET_TOTAL_MS: f64 = (PROPAGATION_MS + 1000) as f64;
const TARGET_LAG_MS: f64 = 500.0;
const TARGET_RATE: usize = 1;
const TARGET_OVERHEAD_MS: f64 = 15.0;
const TARGET_SPEEDUP: f64 = 10.0;
const TARGET_RSS_MIB: f64 = 8.0;
/// Upper bound on any one hook's wait (the hook's default is 300 s).
const HOOK_PROPAGATION_TIMEOUT: &str = "30";

/// The 1-minute load average, to judge whether other work shared the CPUs.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".to_string())
}

fn mark(ok: bool) -> &'static str {
    if ok { "✓" } else { "✗" }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The value at quantile `q` (nearest rank) of `xs`.
fn quantile(xs: &[f64], q: f64) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn start_sim(propagation_ms: u64, pending_ms: u64) -> Sim {
    common::start(json!({
        "metadata": {"enabled": true},
        "zones": [{"name": format!("{ZONE}."), "zone_type": "public"}],
        "propagation_delay_ms": propagation_ms,
        "pending_delay_ms": pending_ms
    }))
}

/// The hooks' lock directory (per-name locks, journal of values not yet
/// removed): one of our own, so runs neither see nor leave state in the
/// host's `/run/lock/otc-acme-hook`. Removed at the end.
fn lock_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| std::env::temp_dir().join(format!("otc-bench-locks-{}", std::process::id())))
}

/// The tests' hook command (cleared environment, pointed at `sim`), with the
/// bench's lock directory and propagation timeout.
fn hook(sim: &Sim) -> Command {
    let mut c = common::cmd(sim);
    c.env("OTC_LOCK_DIR", lock_dir())
        .env("OTC_PROPAGATION_TIMEOUT", HOOK_PROPAGATION_TIMEOUT)
        .stdin(Stdio::null());
    c
}

/// An ACME-like validation value: 43 characters, unique per `tag` and `i`.
fn value(tag: &str, i: usize) -> String {
    format!("{:A<43}", format!("{tag}-{i:03}-"))
}

fn describe_failure(what: &str, out: &Output) -> String {
    format!(
        "{what} exited {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).trim()
    )
}

// ---------------------------------------------------------------- runs

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    WaitOnce,
    PerHook,
}

impl Mode {
    fn label(self) -> &'static str {
        match self {
            Mode::WaitOnce => "wait-once",
            Mode::PerHook => "wait-per-hook",
        }
    }
}

struct Challenge {
    domain: String,
    value: String,
}

/// `n` challenges: `n` distinct names, or `n / 2` names each as apex and
/// wildcard (adjacent, as `-d a -d '*.a' -d b -d '*.b'`).
fn challenges(tag: &str, n: usize, pairs: bool) -> (Vec<Challenge>, String) {
    let mut list = Vec::new();
    let mut all = Vec::new();
    if pairs {
        for j in 0..n / 2 {
            let d = format!("pair{j}.{ZONE}");
            for k in 0..2 {
                list.push(Challenge {
                    domain: d.clone(),
                    value: value(tag, 2 * j + k),
                });
            }
            all.push(d.clone());
            all.push(format!("*.{d}"));
        }
    } else {
        for i in 0..n {
            let d = format!("name{i}.{ZONE}");
            list.push(Challenge {
                domain: d.clone(),
                value: value(tag, i),
            });
            all.push(d);
        }
    }
    (list, all.join(","))
}

struct HookRun {
    start_ms: i64,
    end_ms: i64,
    wall: Duration,
}

fn is_metadata(r: &Req) -> bool {
    r.path.starts_with("/openstack/") || r.path.starts_with("/meta-data/")
}

fn is_write(r: &Req) -> bool {
    !is_metadata(r) && matches!(r.method.as_str(), "POST" | "PUT" | "PATCH")
}

struct RunResult {
    mode: Mode,
    pairs: bool,
    n: usize,
    names: usize,
    total: Duration,
    api: usize,
    metadata: usize,
    non_2xx: usize,
    /// Busiest 1-s window of API requests in any waiting phase.
    max_rate: usize,
    /// Busiest 1-s window of one same request repeated (a poll, or a lookup made
    /// again) in any waiting phase.
    poll_rate: usize,
    /// API requests in the waiting phases, summed.
    wait_reqs: usize,
    /// What the waiting phase of the last hook asked, by method and path shape.
    wait_breakdown: Vec<(String, usize)>,
    /// When the DNS served the last value of the run, ms after the first hook started.
    served_all_ms: Option<i64>,
    /// Worst and last hook's detection lag; `None` if a value was never served.
    lag_worst: Option<i64>,
    lag_last: Option<i64>,
    /// Hooks that exited before DNS served what they waited for.
    early: usize,
    /// TXT set writes (POST/PUT/DELETE of recordsets) of the auth hooks, and of the cleanups.
    writes: usize,
    cleanup_writes: Option<usize>,
    /// Auth hooks that made any API request (the others only journaled their value).
    api_hooks: usize,
    /// Cleanup hooks' total ms, "failed", or "—" (not run).
    cleanup: String,
    errors: Vec<String>,
}

/// The first moment the DNS served `value` (in a TXT set holding it).
fn first_served(log: &Value, value: &str) -> Option<i64> {
    let quoted = format!("\"{value}\"");
    log["served"]
        .as_array()?
        .iter()
        .filter(|e| {
            e["records"]
                .as_array()
                .is_some_and(|r| r.iter().any(|v| v.as_str() == Some(&quoted)))
        })
        .filter_map(|e| e["t_ms"].as_i64())
        .min()
}

/// `/v2/zones/<id>/recordsets/<id>` → `/v2/zones/{id}/recordsets/{id}`.
fn path_shape(p: &str) -> String {
    p.split('/')
        .map(|s| {
            if s.len() >= 16 && s.chars().all(|c| c.is_ascii_hexdigit()) {
                "{id}"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn max_window(times: &[i64], window_ms: i64) -> usize {
    let mut best = 0;
    for (i, t) in times.iter().enumerate() {
        let n = times[i..]
            .iter()
            .take_while(|u| **u < t + window_ms)
            .count();
        best = best.max(n);
    }
    best
}

/// Runs every cleanup hook; their total wall time if all succeeded and no
/// TXT set is left (pending deletions count as gone).
fn cleanups(
    sim: &Sim,
    list: &[Challenge],
    all: &str,
    errors: &mut Vec<String>,
) -> Option<Duration> {
    let n = list.len();
    let t = Instant::now();
    let mut ok = true;
    for (i, ch) in list.iter().enumerate() {
        let out = hook(sim)
            .arg("cleanup")
            .env("CERTBOT_DOMAIN", &ch.domain)
            .env("CERTBOT_VALIDATION", &ch.value)
            .env("CERTBOT_REMAINING_CHALLENGES", (n - 1 - i).to_string())
            .env("CERTBOT_ALL_DOMAINS", all)
            .output()
            .expect("hook runs");
        if !out.status.success() {
            ok = false;
            errors.push(describe_failure(&format!("cleanup {}", ch.domain), &out));
        }
    }
    let took = t.elapsed();
    let left: Vec<String> = sim.state_json()["zones"]
        .as_array()
        .map(|zs| {
            zs.iter()
                .filter_map(|z| z["recordsets"].as_array())
                .flatten()
                .filter(|r| r["type"] == "TXT" && r["status"] != "PENDING_DELETE")
                .map(|r| format!("{} {}", r["name"], r["records"]))
                .collect()
        })
        .unwrap_or_default();
    if !left.is_empty() {
        ok = false;
        errors.push(format!(
            "TXT set(s) left after all cleanups: {}",
            left.join("; ")
        ));
    }
    ok.then_some(took)
}

fn certbot_run(mode: Mode, n: usize, pairs: bool) -> RunResult {
    let sim = start_sim(PROPAGATION_MS, PENDING_MS);
    let tag = format!("{}{}{n}", &mode.label()[..6], if pairs { "p" } else { "n" });
    let (list, all) = challenges(&tag, n, pairs);
    let mut errors = Vec::new();
    let mut runs = Vec::new();
    let t0 = now_ms();
    for (i, ch) in list.iter().enumerate() {
        let mut c = hook(&sim);
        c.arg("auth");
        if mode == Mode::PerHook {
            c.arg("--no-wait-once");
        }
        c.env("CERTBOT_DOMAIN", &ch.domain)
            .env("CERTBOT_VALIDATION", &ch.value)
            .env("CERTBOT_REMAINING_CHALLENGES", (n - 1 - i).to_string())
            .env("CERTBOT_ALL_DOMAINS", &all);
        let start_ms = now_ms();
        let t = Instant::now();
        let out = c.output().expect("hook runs");
        let wall = t.elapsed();
        let end_ms = now_ms();
        if !out.status.success() {
            errors.push(describe_failure(&format!("auth {}", ch.domain), &out));
        }
        runs.push(HookRun {
            start_ms,
            end_ms,
            wall,
        });
    }
    let log = sim.log_json();
    let total: Duration = runs.iter().map(|r| r.wall).sum();

    // Cleanups, timed on their own. The cleanup hook has no wait mode, so
    // only the wait-once runs time them.
    let cleanup = if mode == Mode::WaitOnce {
        cleanups(&sim, &list, &all, &mut errors)
            .map_or("failed".to_string(), |d| format!("{:.0}", ms(d)))
    } else {
        "—".to_string()
    };

    let reqs = common::request_log(&log);
    let api: Vec<&Req> = reqs.iter().filter(|r| !is_metadata(r)).collect();
    let set_write = |r: &Req| {
        !is_metadata(r)
            && matches!(r.method.as_str(), "POST" | "PUT" | "DELETE")
            && r.path.contains("/recordsets")
    };
    let writes = reqs.iter().filter(|r| set_write(r)).count();
    let api_hooks = runs
        .iter()
        .filter(|h| {
            reqs.iter()
                .any(|r| r.t_ms >= h.start_ms && r.t_ms <= h.end_ms)
        })
        .count();
    let cleanup_writes = (mode == Mode::WaitOnce).then(|| {
        common::request_log(&sim.log_json())
            .iter()
            .filter(|r| set_write(r))
            .count()
            - writes
    });
    let metadata = reqs.len() - api.len();
    let non_2xx = reqs
        .iter()
        .filter(|r| !(200..300).contains(&r.status))
        .count();

    // Waiting hooks and what each waits for.
    let waiting: Vec<usize> = match mode {
        Mode::WaitOnce => vec![list.len() - 1],
        Mode::PerHook => (0..list.len()).collect(),
    };
    let mut max_rate = 0;
    let mut poll_rate = 0;
    let mut wait_reqs = 0;
    let mut wait_breakdown: HashMap<String, usize> = HashMap::new();
    let mut lags = Vec::new();
    let mut early = 0;
    let mut lag_missing = false;
    for &h in &waiting {
        let run = &runs[h];
        // The hook's requests: sequential hooks, so by time.
        let mine: Vec<&&Req> = api
            .iter()
            .filter(|r| r.t_ms >= run.start_ms && r.t_ms <= run.end_ms)
            .collect();
        let after = mine.iter().rposition(|r| is_write(r)).map_or(0, |i| i + 1);
        let phase = &mine[after..];
        let times: Vec<i64> = phase.iter().map(|r| r.t_ms).collect();
        max_rate = max_rate.max(max_window(&times, 1000));
        let mut same: HashMap<(&str, &str, &str), Vec<i64>> = HashMap::new();
        for r in phase {
            same.entry((&r.method, &r.path, &r.query))
                .or_default()
                .push(r.t_ms);
        }
        for ts in same.values() {
            poll_rate = poll_rate.max(max_window(ts, 1000));
        }
        wait_reqs += phase.len();
        if h == list.len() - 1 {
            for r in phase {
                *wait_breakdown
                    .entry(format!("{} {}", r.method, path_shape(&r.path)))
                    .or_default() += 1;
            }
        }
        let values: Vec<&str> = match mode {
            Mode::WaitOnce => list.iter().map(|c| c.value.as_str()).collect(),
            Mode::PerHook => vec![list[h].value.as_str()],
        };
        let served: Option<Vec<i64>> = values.iter().map(|v| first_served(&log, v)).collect();
        match served.and_then(|s| s.into_iter().max()) {
            Some(t) => {
                let lag = run.end_ms - t;
                if lag < 0 {
                    early += 1;
                }
                lags.push(lag);
            }
            None => lag_missing = true,
        }
    }
    let served_all: Option<Vec<i64>> = list.iter().map(|c| first_served(&log, &c.value)).collect();
    let mut wait_breakdown: Vec<(String, usize)> = wait_breakdown.into_iter().collect();
    wait_breakdown.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let names = if pairs { n / 2 } else { n };
    RunResult {
        mode,
        pairs,
        n,
        names,
        total,
        api: api.len(),
        metadata,
        non_2xx,
        max_rate,
        poll_rate,
        wait_reqs,
        wait_breakdown,
        served_all_ms: served_all.and_then(|s| s.into_iter().max()).map(|t| t - t0),
        lag_worst: if lag_missing {
            None
        } else {
            lags.iter().copied().max()
        },
        lag_last: if lag_missing {
            None
        } else {
            lags.last().copied()
        },
        early,
        writes,
        cleanup_writes,
        api_hooks,
        cleanup,
        errors,
    }
}

fn print_runs(results: &[RunResult]) {
    println!(
        "\n## certbot-style runs (D = {} s propagation, {} s pending)\n",
        PROPAGATION_MS as f64 / 1000.0,
        PENDING_MS as f64 / 1000.0
    );
    println!(
        "| mode | challenges | names | total auth ms | ≤ D+1 s | API calls (per hook) | metadata calls | non-2xx | hooks that touched the API | set writes (auth) | waiting: API reqs | busiest 1 s | ≤ 1/s | repeats/s | ≤ 1/s | all served at ms | detection lag ms (worst / last) | ≤ 0.5 s | cleanup ms | ≤ 1 s | set writes (cleanup) |"
    );
    println!(
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for r in results {
        let total = ms(r.total);
        let total_target = match r.mode {
            Mode::WaitOnce => mark(total <= TARGET_TOTAL_MS).to_string(),
            Mode::PerHook => "—".to_string(),
        };
        let lag = match (r.lag_worst, r.lag_last) {
            (Some(w), Some(l)) => format!("{w} / {l}"),
            _ => "never served".to_string(),
        };
        let lag_ok = r
            .lag_worst
            .is_some_and(|w| w >= 0 && w as f64 <= TARGET_LAG_MS);
        let cleanup_ok = match r.cleanup.parse::<f64>() {
            Ok(ms) => mark(ms <= 1000.0).to_string(),
            Err(_) => "—".to_string(),
        };
        println!(
            "| {} | {}{} | {} | {:.0} | {} | {} ({:.1}) | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.mode.label(),
            r.n,
            if r.pairs { " (apex+wildcard)" } else { "" },
            r.names,
            total,
            total_target,
            r.api,
            r.api as f64 / r.n as f64,
            r.metadata,
            r.non_2xx,
            r.api_hooks,
            r.writes,
            r.wait_reqs,
            r.max_rate,
            mark(r.max_rate <= TARGET_RATE),
            r.poll_rate,
            mark(r.poll_rate <= TARGET_RATE),
            r.served_all_ms
                .map_or("never".to_string(), |t| t.to_string()),
            lag,
            mark(lag_ok),
            r.cleanup,
            cleanup_ok,
            r.cleanup_writes.map_or("—".to_string(), |w| w.to_string()),
        );
    }
    println!();
    println!(
        "- total auth ms: the auth hooks' wall times summed (start to exit, one after the other). Cleanups are timed separately (last column, all cleanup hooks of the run in order; wait-once runs only, as the cleanup hook has no wait mode) and are not in it."
    );
    println!(
        "- hooks that touched the API: auth hooks that made any request (metadata included); in a wait-once run the early hooks only journal their value. set writes: POST/PUT/DELETE of recordsets, for the auth hooks and for the cleanups; one per TXT name is the floor. On OTC a zone's commit is the one wait for its sets to settle, made by the run's last hook."
    );
    println!(
        "- API calls: every logged request but the metadata service's (`/openstack/`, `/meta-data/`), which are counted apart; non-2xx counts both."
    );
    println!(
        "- waiting: the waiting phase of a hook is its API requests after its last POST/PUT, until it exits; waiting hooks are the last one (wait-once) or every one (wait-per-hook). API reqs: all requests in those phases. busiest 1 s: the most of them in any 1-s window (the lookups after the write included). repeats/s: the most times one same request (method, path, query) occurs in any 1-s window: the polling rate, or a lookup made again."
    );
    println!(
        "- all served at: when the simulator's DNS began serving the last value of the run, ms after the first hook started (the floor of a wait-once total)."
    );
    println!(
        "- detection lag: a waiting hook's exit minus the moment DNS began serving the last value it waits for (all of the run's values for wait-once, its own for wait-per-hook); worst over waiting hooks / the last hook. Negative = the hook returned before DNS served."
    );
    println!(
        "- apex+wildcard rows: N/2 names, each challenged twice under the same CERTBOT_DOMAIN (apex, then `*.`) with different values, adjacent as certbot gets them from `-d a -d '*.a' -d b ...`."
    );
    for r in results {
        if !r.wait_breakdown.is_empty() && r.mode == Mode::WaitOnce {
            let parts: Vec<String> = r
                .wait_breakdown
                .iter()
                .map(|(k, v)| format!("{v}× {k}"))
                .collect();
            println!(
                "- waiting phase of the last hook, {} N={}{}: {}",
                r.mode.label(),
                r.n,
                if r.pairs { " apex+wildcard" } else { "" },
                parts.join(", ")
            );
        }
    }
    for r in results {
        if r.early > 0 {
            println!(
                "- **{} N={}{}: {} hook(s) exited before DNS served their values**",
                r.mode.label(),
                r.n,
                if r.pairs { " pairs" } else { "" },
                r.early
            );
        }
        for e in &r.errors {
            println!(
                "- **{} N={}{}: {e}**",
                r.mode.label(),
                r.n,
                if r.pairs { " pairs" } else { "" }
            );
        }
    }
}

// ---------------------------------------------------------------- overhead

fn api_count(sim: &Sim) -> usize {
    common::request_log(&sim.log_json())
        .iter()
        .filter(|r| !is_metadata(r))
        .count()
}

fn hook_overhead(runs: usize) {
    let sim = start_sim(0, 0);
    let mut times = Vec::new();
    let mut failures = Vec::new();
    let mut api = 0;
    let warmup = 3;
    for i in 0..runs + warmup {
        let d = format!("ovh{i}.{ZONE}");
        let v = value("ovh", i);
        let mut c = hook(&sim);
        c.env("CERTBOT_DOMAIN", &d)
            .env("CERTBOT_VALIDATION", &v)
            .env("CERTBOT_REMAINING_CHALLENGES", "0")
            .env("CERTBOT_ALL_DOMAINS", &d);
        let before = api_count(&sim);
        let t = Instant::now();
        let out = c.arg("auth").output().expect("hook runs");
        let wall = t.elapsed();
        api += api_count(&sim) - before;
        if !out.status.success() {
            failures.push(describe_failure("auth", &out));
        } else if i >= warmup {
            times.push(ms(wall));
        }
        // Untimed: as certbot would, so the journal stays as small as in real use.
        let mut c = hook(&sim);
        c.env("CERTBOT_DOMAIN", &d).env("CERTBOT_VALIDATION", &v);
        let out = c.arg("cleanup").output().expect("hook runs");
        if !out.status.success() {
            failures.push(describe_failure("cleanup", &out));
        }
    }
    println!(
        "\n## Hook overhead (no delays, loopback; load average {} before)\n",
        load()
    );
    println!("| what | runs | median ms | p90 ms | min ms | max ms | ≤ 15 ms median |");
    println!("|---|---|---|---|---|---|---|");
    if times.is_empty() {
        println!("| auth, fresh name | 0 | — | — | — | — | ✗ |");
    } else {
        let med = median(&times);
        println!(
            "| auth, fresh name, DNS check on | {} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
            times.len(),
            med,
            quantile(&times, 0.9),
            quantile(&times, 0.0),
            quantile(&times, 1.0),
            mark(med <= TARGET_OVERHEAD_MS)
        );
    }
    println!();
    println!(
        "- Process start to exit, measured by the parent around spawn+wait. Each run is a certbot run of one challenge on a fresh name (`CERTBOT_REMAINING_CHALLENGES=0`): zone lookup, read, create, read back until ACTIVE, nameservers, one UDP TXT query; its cleanup runs after it, untimed. {} warm-up runs not counted; {:.1} API requests per auth.",
        warmup,
        api as f64 / (runs + warmup) as f64
    );
    for f in failures {
        println!("- **{f}**");
    }
}

// ---------------------------------------------------------------- api GET

/// The real interpreter behind `python3` (a pyenv shim would add its own start-up).
fn python() -> Option<(PathBuf, String)> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, platform; print(sys.executable); print(platform.python_version())",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines();
    let exe = PathBuf::from(lines.next()?.trim());
    let version = lines.next().unwrap_or("?").trim().to_string();
    Some((exe, version))
}

fn py_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/py_signed_get.py")
}

fn api_cmd(sim: &Sim) -> Command {
    let mut c = hook(sim);
    c.args(["api", "GET", "/v2/zones"]);
    c
}

fn py_cmd(sim: &Sim, exe: &Path) -> Command {
    let mut c = Command::new(exe);
    c.arg(py_script())
        .arg(sim.base_url())
        .arg("/v2/zones")
        .stdin(Stdio::null());
    c
}

/// Runs `c`, returns its wall time if it exited 0 and printed the zone.
fn timed_ok(c: &mut Command, what: &str) -> Result<f64, String> {
    let t = Instant::now();
    let out = c.output().map_err(|e| format!("{what}: {e}"))?;
    let wall = ms(t.elapsed());
    if !out.status.success() {
        return Err(describe_failure(what, &out));
    }
    if !String::from_utf8_lossy(&out.stdout).contains(&format!("\"{ZONE}.\"")) {
        return Err(format!("{what}: the answer does not list {ZONE}."));
    }
    Ok(wall)
}

fn api_get(runs: usize) {
    println!(
        "\n## `otc-acme-hook api GET /v2/zones` vs Python (stdlib) signed GET (load average {} before)\n",
        load()
    );
    let Some((exe, version)) = python() else {
        println!("not measured: no python3 found");
        return;
    };
    let sim = start_sim(0, 0);
    let mut rust = Vec::new();
    let mut py = Vec::new();
    let mut failures = Vec::new();
    let warmup = 2;
    for i in 0..runs + warmup {
        // Alternate which goes first, so neither always follows the other.
        for which in if i % 2 == 0 { [0, 1] } else { [1, 0] } {
            let r = if which == 0 {
                timed_ok(&mut api_cmd(&sim), "otc-acme-hook api GET")
            } else {
                timed_ok(&mut py_cmd(&sim, &exe), "py_signed_get.py")
            };
            match r {
                Ok(t) if i >= warmup => {
                    if which == 0 {
                        rust.push(t)
                    } else {
                        py.push(t)
                    }
                }
                Ok(_) => {}
                Err(e) => failures.push(e),
            }
        }
    }
    // Every Python GET must have been accepted: 200 on a signed request.
    let py_statuses: Vec<u64> = common::request_log(&sim.log_json())
        .iter()
        .filter(|r| r.path == "/v2/zones")
        .map(|r| r.status)
        .collect();
    let all_200 = py_statuses.iter().all(|s| *s == 200);
    println!("| client | runs | median ms | p90 ms | min ms |");
    println!("|---|---|---|---|---|");
    for (name, xs) in [
        ("otc-acme-hook api GET", &rust),
        (&*format!("python3 {version} benches/py_signed_get.py"), &py),
    ] {
        if xs.is_empty() {
            println!("| {name} | 0 | — | — | — |");
        } else {
            println!(
                "| {name} | {} | {:.1} | {:.1} | {:.1} |",
                xs.len(),
                median(xs),
                quantile(xs, 0.9),
                quantile(xs, 0.0)
            );
        }
    }
    if !rust.is_empty() && !py.is_empty() {
        let ratio = median(&py) / median(&rust);
        println!(
            "\nspeed-up (Python median / hook median): **{ratio:.1}×** — target ≥ {TARGET_SPEEDUP}×: {}; fastest runs: {:.1}×",
            mark(ratio >= TARGET_SPEEDUP),
            quantile(&py, 0.0) / quantile(&rust, 0.0)
        );
    }
    println!(
        "\n- Both: process start to exit, a fresh process each time, run alternately ({warmup} warm-up pairs not counted), both fetching temporary credentials from the simulator's metadata service first (the hook also asks for a metadata session token), then one signed GET. Python interpreter: {} (run directly, not through a shim).",
        exe.display()
    );
    println!(
        "- GET /v2/zones answered 200 by the simulator, which checks every signature: {}/{} (both clients; the Python script exits 1 on anything but 200, and every run above exited 0 with the zone listed)",
        py_statuses.iter().filter(|s| **s == 200).count(),
        py_statuses.len()
    );
    if !all_200 {
        println!("- **some signed GETs were refused**");
    }
    for f in failures {
        println!("- **{f}**");
    }
}

// ---------------------------------------------------------------- RSS

/// Peak RSS in KiB of `c` run under GNU time, and `None` if `c` exited 0, else
/// its exit code and the last line of its stderr.
/// `clear_env`: `c` starts from a cleared environment (the hook's commands do).
fn peak_rss_kib(c: &Command, clear_env: bool) -> Result<(u64, Option<String>), String> {
    let out_file = std::env::temp_dir().join(format!("otc-bench-rss-{}", std::process::id()));
    let mut t = Command::new("/usr/bin/time");
    t.arg("-f").arg("%M").arg("-o").arg(&out_file);
    t.arg(c.get_program()).args(c.get_args());
    if clear_env {
        t.env_clear();
    }
    for (k, v) in c.get_envs() {
        match v {
            Some(v) => t.env(k, v),
            None => t.env_remove(k),
        };
    }
    t.stdin(Stdio::null());
    let out = t.output().map_err(|e| format!("/usr/bin/time: {e}"))?;
    let text = std::fs::read_to_string(&out_file).unwrap_or_default();
    let _ = std::fs::remove_file(&out_file);
    // GNU time writes "Command exited with non-zero status N" before the figure.
    let kib = text
        .lines()
        .filter_map(|l| l.trim().parse::<u64>().ok())
        .next_back()
        .ok_or_else(|| format!("no figure from /usr/bin/time: {text:?}"))?;
    let failure = (!out.status.success()).then(|| {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr
            .lines()
            .rfind(|l| !l.starts_with("Command exited with"))
            .unwrap_or("")
            .trim()
            .to_string();
        format!("exited {:?}: {last}", out.status.code())
    });
    Ok((kib, failure))
}

fn gnu_time_available() -> bool {
    Command::new("/usr/bin/time")
        .args(["-f", "%M", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A loopback TLS server (Python's `ssl`, certificate made with `openssl`)
/// that answers every request with a one-zone listing, so the RSS rows can
/// include real TLS handshakes. Killed and cleaned up on drop.
struct TlsPeer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

const TLS_SERVER_PY: &str = r#"
import socket, ssl, sys
cert, key, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)
srv.settimeout(120)
print(srv.getsockname()[1], flush=True)
body = b'{"zones":[{"name":"bench.test."}]}'
head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n"
for _ in range(count):
    try:
        conn, _ = srv.accept()
    except OSError:
        break
    try:
        conn.settimeout(10)
        with ctx.wrap_socket(conn, server_side=True) as tls:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = tls.recv(4096)
                if not chunk:
                    break
                data += chunk
            tls.sendall(head % len(body) + body)
    except (OSError, ssl.SSLError):
        conn.close()
"#;

impl TlsPeer {
    /// Fails with the reason when `openssl` or the server does not start.
    fn start(python: &Path, connections: usize) -> Result<TlsPeer, String> {
        let dir = std::env::temp_dir().join(format!("otc-bench-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let out = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=otc-acme-hook bench self-signed",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-addext",
                "basicConstraints=critical,CA:FALSE",
                "-addext",
                "extendedKeyUsage=serverAuth",
                "-keyout",
            ])
            .arg(dir.join("key.pem"))
            .arg("-out")
            .arg(dir.join("cert.pem"))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("openssl: {e}"))?;
        if !out.status.success() {
            return Err(describe_failure("openssl req", &out));
        }
        let mut child = Command::new(python)
            .arg("-c")
            .arg(TLS_SERVER_PY)
            .arg(dir.join("cert.pem"))
            .arg(dir.join("key.pem"))
            .arg(connections.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("python TLS server: {e}"))?;
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        let read = BufReader::new(stdout).read_line(&mut line);
        let port = read.ok().and_then(|_| line.trim().parse::<u16>().ok());
        let mut peer = TlsPeer {
            child,
            port: 0,
            dir,
        };
        match port {
            Some(p) => {
                peer.port = p;
                Ok(peer)
            }
            None => Err("python TLS server did not start".to_string()),
        }
    }

    fn cert(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }
}

impl Drop for TlsPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One row of the RSS table.
struct RssRow {
    name: &'static str,
    /// Counted against the 8 MiB target.
    target: bool,
    result: Result<Vec<u64>, String>,
    /// How an expected failure failed (last run).
    failure: Option<String>,
}

/// (name, counts for the target, must exit 0, clears the environment, command)
type RssSpec<'a> = (
    &'static str,
    bool,
    bool,
    bool,
    Box<dyn Fn(usize) -> Command + 'a>,
);

fn rss(runs: usize) {
    println!("\n## Peak RSS (GNU time %M, loopback)\n");
    if !gnu_time_available() {
        println!(
            "not measured: /usr/bin/time (GNU time) is missing; install it with `apt-get install -y time` (scripts/bench.sh does)"
        );
        return;
    }
    let owned = start_sim(0, 0);
    let sim = &owned;
    let py = python();
    let peer = match &py {
        Some((exe, _)) => TlsPeer::start(exe, 4 * runs),
        None => Err("no python3".to_string()),
    };
    let mut specs: Vec<RssSpec> = vec![
        (
            "auth, http simulator (fresh name, DNS check on)",
            true,
            true,
            true,
            Box::new(|i| {
                let d = format!("rss{i}.{ZONE}");
                let mut c = hook(sim);
                c.arg("auth")
                    .env("CERTBOT_DOMAIN", &d)
                    .env("CERTBOT_VALIDATION", value("rss", i))
                    .env("CERTBOT_REMAINING_CHALLENGES", "0")
                    .env("CERTBOT_ALL_DOMAINS", &d);
                c
            }),
        ),
        (
            "api GET /v2/zones, http simulator",
            true,
            true,
            true,
            Box::new(|_| api_cmd(sim)),
        ),
    ];
    if let Ok(peer) = &peer {
        let url = format!("https://127.0.0.1:{}/v2/zones", peer.port);
        let url2 = url.clone();
        let cert = peer.cert();
        specs.push((
            "api GET https:// (platform verifier reads the system roots; the self-signed certificate is refused as it should be; OTC_RETRIES=0)",
            true,
            false,
            true,
            Box::new(move |_| {
                let mut c = hook(sim);
                c.env("OTC_RETRIES", "0").args(["api", "GET", &url]);
                c
            }),
        ));
        specs.push((
            "api GET https:// with --ca-file (system bundle + ours parsed, full TLS handshake, 200)",
            true,
            true,
            true,
            Box::new(move |_| {
                let mut c = hook(sim);
                c.env("OTC_CA_FILE", &cert).args(["api", "GET", &url2]);
                c
            }),
        ));
    }
    if let Some((exe, _)) = &py {
        specs.push((
            "python3 benches/py_signed_get.py, http simulator (informational)",
            false,
            true,
            false,
            Box::new(|_| py_cmd(sim, exe)),
        ));
    }
    let mut rows = Vec::new();
    for (name, target, must_succeed, clear_env, make) in &specs {
        let mut kibs = Vec::new();
        let mut err = None;
        let mut failure = None;
        for i in 0..runs {
            match peak_rss_kib(&make(i), *clear_env) {
                Ok((k, None)) => kibs.push(k),
                Ok((k, Some(f))) if !must_succeed => {
                    kibs.push(k);
                    failure = Some(f);
                }
                Ok((_, Some(f))) => {
                    err = Some(f);
                    break;
                }
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        rows.push(RssRow {
            name,
            target: *target,
            result: err.map_or(Ok(kibs), Err),
            failure,
        });
    }
    println!("| process | runs | peak RSS MiB (max) | median MiB | ≤ 8 MiB |");
    println!("|---|---|---|---|---|");
    let mut notes = Vec::new();
    for row in rows {
        if let Some(f) = &row.failure {
            notes.push(format!("- {}: {f}", row.name));
        }
        match row.result {
            Ok(kibs) if !kibs.is_empty() => {
                let mibs: Vec<f64> = kibs.iter().map(|k| *k as f64 / 1024.0).collect();
                let max = quantile(&mibs, 1.0);
                println!(
                    "| {} | {} | {:.2} | {:.2} | {} |",
                    row.name,
                    mibs.len(),
                    max,
                    median(&mibs),
                    if row.target {
                        mark(max <= TARGET_RSS_MIB)
                    } else {
                        "—"
                    }
                );
            }
            Ok(_) => println!("| {} | 0 | not measured | — | — |", row.name),
            Err(e) => println!("| {} | — | not measured ({e}) | — | — |", row.name),
        }
    }
    println!();
    if let Err(e) = &peer {
        println!("- https rows not measured: {e}");
    }
    for n in notes {
        println!("{n}");
    }
    println!(
        "- The https rows talk to a loopback TLS server (Python `ssl`, a certificate made with `openssl` for 127.0.0.1); credentials still come from the http simulator."
    );
}

// ---------------------------------------------------------------- latency

/// The round trip the latency rows add to every remote API call.
const LATENCY_MS: u64 = 80;
/// The latency rows' hooks wait up to the hook's default: a slow run must
/// show its time, not a timeout.
const LATENCY_PROPAGATION_TIMEOUT: &str = "300";
const OVH_ACCOUNT: (&str, &str) = ("sa-bench", "SA-BENCH-SECRET-000000000001");
const NCP_ROLE: &str = "b2c3d4e5-0000-4000-8000-00000bench01";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Cloud {
    Otc,
    Ovh,
    Ncp,
}

impl Cloud {
    const ALL: [Cloud; 3] = [Cloud::Otc, Cloud::Ovh, Cloud::Ncp];

    fn name(self) -> &'static str {
        match self {
            Cloud::Otc => "otc",
            Cloud::Ovh => "ovh",
            Cloud::Ncp => "ncp",
        }
    }

    /// The zone `bench.test`, D = 2 s, 80 ms per remote call; each cloud's
    /// usual credentials: OTC and NCP from the metadata service (OTC's
    /// record sets pending 0.5 s, as in the loopback runs), OVH a service
    /// account (OAuth2 token endpoint).
    fn start(self) -> Sim {
        let common = |extra: Value| {
            let mut seed = json!({
                "propagation_delay_ms": PROPAGATION_MS,
                "latency_ms": LATENCY_MS,
            });
            seed.as_object_mut()
                .expect("an object")
                .extend(extra.as_object().expect("an object").clone());
            seed
        };
        match self {
            Cloud::Otc => common::start(common(json!({
                "metadata": {"enabled": true},
                "zones": [{"name": format!("{ZONE}."), "zone_type": "public"}],
                "pending_delay_ms": PENDING_MS,
            }))),
            Cloud::Ovh => common::start_cloud(
                common(json!({"ovh": {
                    "zones": [{"name": ZONE}],
                    "service_accounts": [{"client_id": OVH_ACCOUNT.0, "client_secret": OVH_ACCOUNT.1}],
                }})),
                "ovh",
            ),
            Cloud::Ncp => common::ncp::start(common(json!({"ncp": {
                "role": {"id": NCP_ROLE, "name": "dns-role"},
                "domains": [{"id": 310, "name": ZONE}],
            }}))),
        }
    }

    /// The hook as the tests run it for this cloud, with `locks` as its
    /// state directory.
    fn hook(self, sim: &Sim, locks: &Path) -> Command {
        let mut c = match self {
            Cloud::Otc => common::cmd(sim),
            Cloud::Ovh => {
                let mut c = common::cmd_for(sim, "ovh");
                c.env("OVH_CLIENT_ID", OVH_ACCOUNT.0)
                    .env("OVH_CLIENT_SECRET", OVH_ACCOUNT.1);
                c
            }
            Cloud::Ncp => common::ncp::cmd(sim),
        };
        c.env("OTC_LOCK_DIR", locks)
            .env("OTC_PROPAGATION_TIMEOUT", LATENCY_PROPAGATION_TIMEOUT)
            .stdin(Stdio::null());
        c
    }

    /// Our values still held by the API (not a pending deletion) after the cleanups.
    fn left(self, sim: &Sim, values: &[String]) -> Vec<String> {
        let state = sim.state_json();
        let held: Vec<&Value> = match self {
            Cloud::Otc => state["zones"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|z| z["recordsets"].as_array())
                .flatten()
                .filter(|r| r["type"] == "TXT" && r["status"] != "PENDING_DELETE")
                .collect(),
            Cloud::Ovh => state["ovh"]["zones"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|z| z["records"].as_array())
                .flatten()
                .collect(),
            Cloud::Ncp => state["domains"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d["records"].as_array())
                .flatten()
                .collect(),
        };
        let text: Vec<String> = held.iter().map(|r| r.to_string()).collect();
        values
            .iter()
            .filter(|v| text.iter().any(|t| t.contains(v.as_str())))
            .cloned()
            .collect()
    }
}

/// `n` challenges mixed as a certificate for a few names and their
/// wildcards: `max(1, n / 4)` apex+wildcard pairs (adjacent, as
/// `-d a -d '*.a'`), then distinct names for the rest; one zone.
/// 2 = 1 pair; 20 = 5 pairs + 10 names (15 TXT names); 100 = 25 + 50 (75).
fn mixed_challenges(tag: &str, n: usize) -> (Vec<Challenge>, String, usize) {
    let pairs = (n / 4).max(1).min(n / 2);
    let (mut list, all) = challenges(tag, 2 * pairs, true);
    let mut all = vec![all];
    for i in 0..n - 2 * pairs {
        let d = format!("name{i}.{ZONE}");
        list.push(Challenge {
            domain: d.clone(),
            value: value(tag, 2 * pairs + i),
        });
        all.push(d);
    }
    (list, all.join(","), n - pairs)
}

struct LatencyRow {
    cloud: Cloud,
    n: usize,
    txt_names: usize,
    auth: Duration,
    cleanup: Duration,
    /// Remote API calls (token endpoint included, metadata not) of the auth hooks, the cleanups.
    auth_calls: usize,
    cleanup_calls: usize,
    /// The most remote calls one hook made.
    max_per_hook: usize,
    /// The most remote calls in flight at once, by the simulator's count.
    peak: u64,
    metadata: usize,
    errors: Vec<String>,
}

/// One certbot run of `n` challenges against `cloud` at 80 ms per call: the
/// auth hooks one after the other, then the cleanups, each hook a fresh
/// process with certbot's environment.
fn latency_run(cloud: Cloud, n: usize) -> LatencyRow {
    let sim = cloud.start();
    let locks = std::env::temp_dir().join(format!(
        "otc-bench-locks-{}-{}-{n}",
        std::process::id(),
        cloud.name()
    ));
    let (list, all, txt_names) = mixed_challenges(&format!("lat{}{n}", cloud.name()), n);
    let mut errors = Vec::new();
    // (start, end) of each hook, ms since the epoch; hooks never overlap.
    let mut windows = Vec::new();
    let mut phase = |action: &str, errors: &mut Vec<String>| {
        let t = Instant::now();
        for (i, ch) in list.iter().enumerate() {
            let start = now_ms();
            let out = cloud
                .hook(&sim, &locks)
                .arg(action)
                .env("CERTBOT_DOMAIN", &ch.domain)
                .env("CERTBOT_VALIDATION", &ch.value)
                .env("CERTBOT_REMAINING_CHALLENGES", (n - 1 - i).to_string())
                .env("CERTBOT_ALL_DOMAINS", &all)
                .output()
                .expect("hook runs");
            windows.push((start, now_ms()));
            if !out.status.success() {
                errors.push(describe_failure(&format!("{action} {}", ch.domain), &out));
            }
        }
        t.elapsed()
    };
    let auth = phase("auth", &mut errors);
    let unserved = list
        .iter()
        .filter(|c| first_served(&sim.log_json(), &c.value).is_none())
        .count();
    if unserved > 0 {
        errors.push(format!(
            "{unserved} value(s) not served by DNS when the auth phase ended"
        ));
    }
    let auth_log = sim.log_json();
    let cleanup = phase("cleanup", &mut errors);
    let log = sim.log_json();
    let values: Vec<String> = list.iter().map(|c| c.value.clone()).collect();
    let left = cloud.left(&sim, &values);
    if !left.is_empty() {
        errors.push(format!("{} value(s) left after the cleanups", left.len()));
    }
    let _ = std::fs::remove_dir_all(&locks);

    let remote_times = |log: &Value| -> Vec<i64> {
        log["requests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["remote"] == true)
            .filter_map(|r| r["t_ms"].as_i64())
            .collect()
    };
    let all_times = remote_times(&log);
    let auth_calls = remote_times(&auth_log).len();
    let max_per_hook = windows
        .iter()
        .map(|(a, b)| all_times.iter().filter(|&&t| t >= *a && t <= *b).count())
        .max()
        .unwrap_or(0);
    let total_requests = log["requests"].as_array().map_or(0, Vec::len);
    LatencyRow {
        cloud,
        n,
        txt_names,
        auth,
        cleanup,
        auth_calls,
        cleanup_calls: all_times.len() - auth_calls,
        max_per_hook,
        peak: log["concurrency"]["api_peak"].as_u64().unwrap_or(0),
        metadata: total_requests - all_times.len(),
        errors,
    }
}

/// The goals of issue 20 for `n` challenges: (auth, cleanup) upper bounds in s.
fn latency_goals(n: usize) -> Option<(f64, f64)> {
    let d = PROPAGATION_MS as f64 / 1000.0;
    match n {
        20 => Some((d + 1.0, 1.0)),
        100 => Some((d + 2.0, 2.0)),
        _ => None,
    }
}

fn print_latency(rows: &[LatencyRow]) {
    println!(
        "\n## certbot runs at {LATENCY_MS} ms per API call (D = {} s propagation, one run each)\n",
        PROPAGATION_MS as f64 / 1000.0
    );
    println!(
        "| cloud | challenges | TXT names | auth phase s | goal | cleanup phase s | goal | remote API calls (auth + cleanup) | calls per hook (max) | peak concurrency | metadata calls |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let (auth, cleanup) = (r.auth.as_secs_f64(), r.cleanup.as_secs_f64());
        let (auth_goal, cleanup_goal) = match latency_goals(r.n) {
            Some((a, c)) if r.errors.is_empty() => (
                format!("≤ {a:.0} s {}", mark(auth <= a)),
                format!("≤ {c:.0} s {}", mark(cleanup <= c)),
            ),
            Some((a, c)) => (format!("≤ {a:.0} s ✗"), format!("≤ {c:.0} s ✗")),
            None => ("—".to_string(), "—".to_string()),
        };
        println!(
            "| {} | {} | {} | {auth:.2} | {auth_goal} | {cleanup:.2} | {cleanup_goal} | {} ({} + {}) | {} | {} | {} |",
            r.cloud.name(),
            r.n,
            r.txt_names,
            r.auth_calls + r.cleanup_calls,
            r.auth_calls,
            r.cleanup_calls,
            r.max_per_hook,
            r.peak,
            r.metadata,
        );
    }
    println!();
    println!(
        "- The simulator of each cloud answers every remote call (DNS API, OAuth2 token, IAM) {LATENCY_MS} ms later, half before handling it and half after; the link-local metadata service answers at once and is counted apart (metadata calls). Remote API calls and peak concurrency (the most remote calls in flight at once) come from the simulator's request log."
    );
    println!(
        "- A run: certbot's auth hooks one after the other (CERTBOT_REMAINING_CHALLENGES counting down, CERTBOT_ALL_DOMAINS naming every domain), then the cleanup hooks; phases are wall time, first hook's start to last hook's exit. Challenges: max(1, N/4) apex+wildcard pairs, then distinct names, all in one zone: 2 = 1 pair, 20 = 5 pairs + 10 names, 100 = 25 pairs + 50 names. Credentials: OTC and NCP from the metadata service, OVH a service account with no policy (OAuth2 token endpoint). OTC record sets stay pending {} s.",
        PENDING_MS as f64 / 1000.0
    );
    println!(
        "- Goals (issue 20): auth ≤ D + 1 s and cleanup ≤ 1 s for 20 challenges, auth ≤ D + 2 s and cleanup ≤ 2 s for 100; a run with an error gets ✗. Figures only, one run per row."
    );
    for r in rows {
        for e in &r.errors {
            println!("- **{} N={}: {e}**", r.cloud.name(), r.n);
        }
    }
}

/// `--clouds otc,ovh` and `--sizes 2,20`: a subset of the latency rows.
fn latency_selection(args: &[String], quick: bool) -> (Vec<Cloud>, Vec<usize>) {
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    let clouds = match value("--clouds") {
        Some(list) => Cloud::ALL
            .into_iter()
            .filter(|c| list.split(',').any(|n| n == c.name()))
            .collect(),
        None => Cloud::ALL.to_vec(),
    };
    let sizes = match value("--sizes") {
        Some(list) => list.split(',').filter_map(|n| n.parse().ok()).collect(),
        None if quick => vec![2, 20],
        None => vec![2, 20, 100],
    };
    (clouds, sizes)
}

// ---------------------------------------------------------------- main

fn main() {
    // cargo bench passes `--bench`; other harness flags are ignored too.
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(String::as_str);
    let run = |section: &str| only.is_none_or(|o| o == section);
    let ns: &[usize] = if quick { &[1, 5] } else { &[1, 5, 10, 20] };
    // Apex+wildcard: 2, 10 and 20 challenges waiting once; 10 (5 names) waiting
    // per hook, where each challenge costs about D + 0.5 s and 20 would add a minute.
    let pairs_n = |mode| -> &'static [usize] {
        match (quick, mode) {
            (true, _) => &[4],
            (false, Mode::WaitOnce) => &[2, 10, 20],
            (false, Mode::PerHook) => &[10],
        }
    };
    let started = Instant::now();

    println!("# otc-acme-hook benchmark");
    println!(
        "\nbinary: {BIN}\nmachine: {} CPU(s) available, load average {}{}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load(),
        if quick { "; --quick" } else { "" }
    );
    println!(
        "hooks' lock directory (OTC_LOCK_DIR): {}, fresh, removed at the end",
        lock_dir().display()
    );
    println!(
        "(the overhead and api GET figures are a few ms of CPU each: other work on the machine inflates them; the load average is printed before each)"
    );

    if run("runs") {
        let mut results = Vec::new();
        for mode in [Mode::WaitOnce, Mode::PerHook] {
            for &n in ns {
                eprintln!("running {} N={n} ...", mode.label());
                results.push(certbot_run(mode, n, false));
            }
            for &p in pairs_n(mode) {
                eprintln!("running {} apex+wildcard, {p} challenges ...", mode.label());
                results.push(certbot_run(mode, p, true));
            }
        }
        print_runs(&results);
        let _ = std::io::stdout().flush();
    }
    if run("overhead") {
        eprintln!("running hook overhead ...");
        hook_overhead(if quick { 10 } else { 40 });
    }
    if run("api") {
        eprintln!("running api GET comparison ...");
        api_get(if quick { 6 } else { 25 });
    }
    if run("rss") {
        eprintln!("running peak RSS ...");
        rss(if quick { 2 } else { 5 });
    }
    if run("latency") {
        let (clouds, sizes) = latency_selection(&args, quick);
        let mut rows = Vec::new();
        for cloud in clouds {
            for &n in &sizes {
                eprintln!(
                    "running {} at {LATENCY_MS} ms per call, {n} challenges ...",
                    cloud.name()
                );
                let t = Instant::now();
                rows.push(latency_run(cloud, n));
                eprintln!("  took {:.0} s", t.elapsed().as_secs_f64());
            }
        }
        print_latency(&rows);
    }

    let _ = std::fs::remove_dir_all(lock_dir());
    println!(
        "\n(benchmark took {:.0} s; figures only, no target is asserted)",
        started.elapsed().as_secs_f64()
    );
}
