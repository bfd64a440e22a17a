//! Shared harness: start the simulator in-process, run the built binary with a
//! cleared environment against it, and fail if any output carries a secret
//! the simulator issued.
#![allow(dead_code)]

use std::process::{Command, Output};

use otc_sim::{CloudKind, Seed, Sim, SimOptions};
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_otc-acme-hook");

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn start(seed: Value) -> Sim {
    let seed = Seed::from_json(&seed.to_string()).expect("seed parses");
    Sim::start(SimOptions {
        seed,
        ..SimOptions::default()
    })
    .expect("simulator starts")
}

/// Starts the simulator of `cloud` (`"otc"`, `"ovh"`…) from `seed`.
pub fn start_cloud(seed: Value, cloud: &str) -> Sim {
    let seed = Seed::from_json(&seed.to_string()).expect("seed parses");
    Sim::start(SimOptions {
        seed,
        cloud: CloudKind::from_name(cloud).expect("a simulated cloud"),
        ..SimOptions::default()
    })
    .expect("simulator starts")
}

/// [`cmd`] for `--cloud cloud` (`OTC_CLOUD`), its API endpoints pointed at `sim`.
pub fn cmd_for(sim: &Sim, cloud: &str) -> Command {
    let mut c = cmd(sim);
    c.env("OTC_CLOUD", cloud);
    if cloud == "ovh" {
        c.env("OTC_DNS_ENDPOINT", format!("{}/1.0", sim.base_url()))
            .env(
                "OTC_TOKEN_ENDPOINT",
                format!("{}/auth/oauth2/token", sim.base_url()),
            )
            .env_remove("OTC_METADATA_URL")
            // Never an ovh.conf of the developer's.
            .current_dir(std::env::temp_dir());
    }
    c
}

/// A seed with the zones most tests use.
pub fn base_seed() -> Value {
    serde_json::json!({
        "credentials": [{"access": "AKSTATIC000000000001", "secret": "SKstatic-secret-0000000000000000000000001"}],
        "metadata": {"enabled": true},
        "zones": [
            {"name": "example.test.", "zone_type": "public", "records": [
                {"name": "_acme-challenge.example.test.", "type": "TXT", "ttl": 600,
                 "records": ["\"foreign-keep\""], "description": "someone else's"},
                {"name": "example.test.", "type": "TXT", "ttl": 3600, "records": ["\"v=spf1 -all\""]}
            ]},
            {"name": "sub.example.test.", "zone_type": "public"},
            {"name": "example.test.", "zone_type": "private", "records": [
                {"name": "_acme-challenge.example.test.", "type": "TXT", "ttl": 300, "records": ["\"private-value\""]}
            ]}
        ],
        "pending_delay_ms": 0,
        "propagation_delay_ms": 0
    })
}

/// A command with nothing of the developer's environment, pointed at `sim`.
pub fn cmd(sim: &Sim) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("OTC_DNS_ENDPOINT", sim.base_url())
        .env("OTC_METADATA_URL", sim.metadata_url())
        .env("OTC_NAMESERVER_PORT", sim.dns_addr().port().to_string())
        .env("OTC_PROPAGATION_TIMEOUT", "20")
        .env("OTC_LOCK_DIR", lock_dir(sim))
        .env("OTC_HTTP_TIMEOUT", "5");
    c
}

/// A lock directory per simulator, so tests never share journals.
pub fn lock_dir(sim: &Sim) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "otc-test-locks-{}-{}",
        std::process::id(),
        sim.http_addr().port()
    ))
}

/// Creates `dir` private (mode 0700), as the hook wants its state directory;
/// a test that writes a journal first needs it so.
pub fn private_dir(dir: &std::path::Path) {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .unwrap();
}

/// Whether the tests run as root (CI does): some cases need a second user.
/// A test that needs root (a second user, root-owned files) fails elsewhere,
/// saying why, instead of passing unseen: the tests run as root (CI does).
pub fn require_root(why: &str) {
    assert!(
        is_root(),
        "this test {why}: run the tests as root, as scripts/test-all.sh and CI do"
    );
}

pub fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs `cmd` as the unprivileged user `nobody` when root, else as ourselves.
pub fn as_other_user(cmd: &[&str]) -> std::process::Output {
    let mut c = if is_root() {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]);
        c.args(cmd);
        c
    } else {
        let mut c = std::process::Command::new(cmd[0]);
        c.args(&cmd[1..]);
        c
    };
    c.output().expect("command runs")
}

/// Runs and checks that no secret the simulator knows shows up in the output.
pub fn run(sim: &Sim, c: &mut Command) -> Run {
    let out: Output = c.output().expect("binary runs");
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_no_secrets(sim, &r);
    r
}

pub fn assert_no_secrets(sim: &Sim, r: &Run) {
    for s in sim.secrets() {
        assert!(
            !r.stdout.contains(&s) && !r.stderr.contains(&s),
            "a secret leaked into the output:\nstdout: {}\nstderr: {}",
            r.stdout,
            r.stderr
        );
    }
}

/// certbot's environment for one challenge.
pub fn certbot(sim: &Sim, hook: &str, domain: &str, value: &str, remaining: u32, all: &str) -> Run {
    let mut c = cmd(sim);
    let left = remaining.to_string();
    cloud::challenge_on(&mut c, hook, domain, value, Some(&left), Some(all));
    run(sim, &mut c)
}

/// OTC's `auth` of `v-resilience` for `example.test` outside a certbot run
/// (no countdown), with `extra` arguments after the hook's name.
pub fn lone_auth(sim: &Sim, extra: &[&str]) -> Run {
    let mut c = cloud::Cloud::Otc
        .certbot(sim)
        .hook_args(extra.iter().copied())
        .lone("auth", "example.test", "v-resilience");
    run(sim, &mut c)
}

/// The values of a TXT set in a public zone, which must exist.
pub fn public_txt(sim: &Sim, zone: &str, name: &str) -> Vec<String> {
    txt_set(sim, "public", zone, name)
        .unwrap_or_else(|| panic!("no TXT set {name} in public zone {zone}"))
        .0
}

/// A hook of a one-name certificate (`CERTBOT_ALL_DOMAINS` is `domain`, no challenge
/// left after it), which must succeed.
pub fn certbot_one(sim: &Sim, hook: &str, domain: &str, value: &str) -> Run {
    let r = certbot(sim, hook, domain, value, 0, domain);
    assert_eq!(r.code, 0, "{hook} {domain}: {}{}", r.stdout, r.stderr);
    r
}

/// The TXT values (unquoted) and TTL of a recordset in the simulator's API state.
pub fn txt_set(sim: &Sim, zone_type: &str, zone: &str, name: &str) -> Option<(Vec<String>, u64)> {
    let state = sim.state_json();
    let z = state["zones"]
        .as_array()?
        .iter()
        .find(|z| z["name"] == zone && z["zone_type"] == zone_type)?;
    let rs = z["recordsets"]
        .as_array()?
        .iter()
        .find(|r| r["name"] == name && r["type"] == "TXT")?;
    let values = rs["records"]
        .as_array()?
        .iter()
        .map(|v| v.as_str().unwrap().trim_matches('"').to_string())
        .collect();
    Some((values, rs["ttl"].as_u64().unwrap_or(0)))
}

/// `base` as certbot runs hook `i` of the run `run_of` (challenges in certbot's
/// order as `(domain, value)`, a wildcard as `*.name`): `hook` with
/// `CERTBOT_DOMAIN`, `CERTBOT_VALIDATION`, the countdown and every domain.
pub fn certbot_hook_of(
    mut base: Command,
    hook: &str,
    run_of: &[(String, String)],
    i: usize,
) -> Command {
    let all = run_of
        .iter()
        .map(|(d, _)| d.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let (d, v) = &run_of[i];
    let left = (run_of.len() - 1 - i).to_string();
    cloud::challenge_on(
        &mut base,
        hook,
        d.trim_start_matches("*."),
        v,
        Some(&left),
        Some(&all),
    );
    base
}

/// Whether the simulator's authoritative DNS serves TXT value `v` at any
/// name of any zone (every cloud's simulator fills the same `dns` view).
pub fn served_by_dns(sim: &Sim, v: &str) -> bool {
    sim.state_json()["dns"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|z| z["rrsets"].as_array().unwrap().clone())
        .filter(|r| r["type"] == "TXT")
        .flat_map(|r| r["records"].as_array().unwrap().clone())
        .any(|x| x.as_str().unwrap().trim_matches('"') == v)
}

/// One request of the simulator's log.
#[derive(Debug, Clone)]
pub struct Req {
    /// When it arrived, ms since the Unix epoch.
    pub t_ms: i64,
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u64,
}

/// The requests of a log document (`Sim::log_json`), in order.
pub fn request_log(log: &Value) -> Vec<Req> {
    log["requests"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| Req {
                    t_ms: r["t_ms"].as_i64().unwrap_or(0),
                    method: r["method"].as_str().unwrap_or("").to_string(),
                    path: r["path"].as_str().unwrap_or("").to_string(),
                    query: r["query"].as_str().unwrap_or("").to_string(),
                    status: r["status"].as_u64().unwrap_or(0),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Requests the simulator logged (method, path, status).
pub fn requests(sim: &Sim) -> Vec<(String, String, u64)> {
    request_log(&sim.log_json())
        .into_iter()
        .map(|r| (r.method, r.path, r.status))
        .collect()
}

/// The id of the public zone `name` in the simulator's state.
pub fn public_zone_id(sim: &Sim, name: &str) -> String {
    sim.state_json()["zones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["name"] == name && z["zone_type"] == "public")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Empties the simulator's request log.
pub fn reset_log(sim: &Sim) {
    let agent: ureq::Agent = ureq::Agent::config_builder().proxy(None).build().into();
    agent
        .post(format!("{}/_sim/reset-log", sim.base_url()))
        .send_empty()
        .unwrap();
}

/// Writes of TXT sets (POST, PUT or DELETE of recordsets) in the simulator's log.
pub fn set_writes(sim: &Sim) -> usize {
    requests(sim)
        .iter()
        .filter(|(m, p, _)| {
            matches!(m.as_str(), "POST" | "PUT" | "DELETE") && p.contains("/recordsets")
        })
        .count()
}

/// POSTs to the simulator's control API.
pub fn configure(sim: &Sim, body: Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder().proxy(None).build().into();
    agent
        .post(format!("{}/_sim/config", sim.base_url()))
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .expect("config accepted");
}

/// The foreign values every test seeds must be intact.
pub fn assert_foreign_intact(sim: &Sim) {
    let (vals, ttl) = txt_set(
        sim,
        "public",
        "example.test.",
        "_acme-challenge.example.test.",
    )
    .expect("the foreign set still exists");
    assert!(vals.contains(&"foreign-keep".to_string()), "{vals:?}");
    assert_eq!(ttl, 600);
    let (vals, _) = txt_set(sim, "public", "example.test.", "example.test.").unwrap();
    assert_eq!(vals, vec!["v=spf1 -all"]);
    let (vals, _) = txt_set(
        sim,
        "private",
        "example.test.",
        "_acme-challenge.example.test.",
    )
    .unwrap();
    assert_eq!(vals, vec!["private-value"], "private zone touched");
}
pub mod cloud;
pub mod hostile;
pub mod ncp;
pub mod proxy;
pub mod world;

/// `value` is gone from the API's state, or every set holding it is on its
/// way out (`PENDING_DELETE`): another set's deletion proves nothing.
pub fn assert_gone_or_going(sim: &Sim, value: &str) {
    let state = sim.state_json();
    if !state.to_string().contains(value) {
        return;
    }
    let holding: Vec<&Value> = state["zones"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|z| z["recordsets"].as_array().into_iter().flatten())
        .filter(|r| {
            r["records"].as_array().is_some_and(|v| {
                v.iter()
                    .any(|x| x.as_str().is_some_and(|s| s.trim_matches('"') == value))
            })
        })
        .collect();
    assert!(
        !holding.is_empty() && holding.iter().all(|r| r["status"] == "PENDING_DELETE"),
        "{value} still there: {state}"
    );
}
