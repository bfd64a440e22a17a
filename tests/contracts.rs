//! The ACME clients' contracts besides certbot's: lego `exec` (default and
//! RAW), acme.sh's dnsapi functions, and the `check` preflight.

mod common;

use common::*;
use otc_acme_hook::certbot::key_authorization_digest;
use otc_sim::Sim;
use serde_json::json;

const NAME: &str = "_acme-challenge.www.example.test.";

fn lego(sim: &Sim, args: &[&str]) -> Run {
    let mut c = cmd(sim);
    c.args(args);
    run(sim, &mut c)
}

fn values(sim: &Sim, name: &str) -> Vec<String> {
    txt_set(sim, "public", "example.test.", name)
        .map(|(v, _)| v)
        .unwrap_or_default()
}

#[test]
fn lego_default_mode_present_and_cleanup() {
    let sim = start(base_seed());
    // A value starting with '-' is a value, not a flag.
    let r = lego(&sim, &["present", NAME, "-lego-value_1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("all nameservers serve"),
        "present waits like auth: {}",
        r.stderr
    );
    assert_eq!(values(&sim, NAME), vec!["-lego-value_1"]);
    let r = lego(&sim, &["cleanup", NAME, "-lego-value_1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_gone_or_going(&sim, "-lego-value_1");
    // The foreign value survives the lego path as well.
    let r = lego(
        &sim,
        &["present", "_acme-challenge.example.test.", "lego-apex"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = lego(
        &sim,
        &["cleanup", "_acme-challenge.example.test.", "lego-apex"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_foreign_intact(&sim);
}

#[test]
fn lego_raw_mode_computes_the_value() {
    let sim = start(base_seed());
    let key_auth = "tokenABC.thumbprintXYZ";
    let want = key_authorization_digest(key_auth);
    let r = lego(
        &sim,
        &["present", "--", "www.example.test", "tokenABC", key_auth],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(values(&sim, NAME), vec![want.clone()]);
    let r = lego(
        &sim,
        &["cleanup", "--", "www.example.test", "tokenABC", key_auth],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("removed TXT value {want}")),
        "{}",
        r.stderr
    );
}

#[test]
fn lego_wrong_arity_is_rejected_before_the_network() {
    let sim = start(base_seed());
    for args in [
        &["present"][..],
        &["present", NAME][..],
        &["present", NAME, "a", "b", "c"][..],
        &["cleanup", NAME][..],
        &["present", "not a name.", "v"][..],
    ] {
        let r = lego(&sim, args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
    }
    assert!(requests(&sim).is_empty());
}

#[test]
fn acme_sh_functions() {
    let sim = start(base_seed());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/packaging/acme.sh/dns_otc_hook.sh"
    );
    let dir = scratch_dir(&sim, "acmesh");
    let stubs = acme_sh_stubs(&dir.join("account.conf"));
    // acme.sh provides _info/_err/_debug; the stubs log them like acme.sh does.
    let body = format!(
        r#"{stubs}
. '{script}'
dns_otc_hook_add _acme-challenge.www.example.test acmesh-value-1 || exit 11
dns_otc_hook_add _acme-challenge.example.test acmesh-value-2 || exit 12
dns_otc_hook_rm _acme-challenge.www.example.test acmesh-value-1 || exit 13
dns_otc_hook_rm _acme-challenge.example.test acmesh-value-2 || exit 14
"#
    );
    let mut c = std::process::Command::new("sh");
    c.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("OTC_ACME_HOOK_BIN", BIN)
        .env("OTC_DNS_ENDPOINT", sim.base_url())
        .env("OTC_METADATA_URL", sim.metadata_url())
        .env("OTC_NAMESERVER_PORT", sim.dns_addr().port().to_string())
        .args(["-c", &body]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("[info] otc-acme-hook: adding TXT value at _acme-challenge.www.example.test"),
        "{}",
        r.stdout
    );
    let adds = requests(&sim)
        .iter()
        .filter(|(m, _, _)| m == "POST" || m == "PUT")
        .count();
    assert!(adds >= 2, "values were written");
    assert!(!sim.state_json().to_string().contains("acmesh-value-2"));
    assert_foreign_intact(&sim);

    // A failing add reports through _err and returns 1.
    let body = format!(
        r#"{stubs}
_info() {{ :; }}
. '{script}'
dns_otc_hook_add _acme-challenge.www.other.invalid v
"#
    );
    let mut c = std::process::Command::new("sh");
    c.env_clear()
        .env("OTC_ACME_HOOK_BIN", BIN)
        .env("OTC_DNS_ENDPOINT", sim.base_url())
        .env("OTC_METADATA_URL", sim.metadata_url())
        .args(["-c", &body]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("[err] otc-acme-hook could not add"),
        "{}",
        r.stderr
    );
}

/// A fresh directory of this test's own.
fn scratch_dir(sim: &Sim, what: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "otc-test-{what}-{}-{}",
        std::process::id(),
        sim.http_addr().port()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// acme.sh's logging and account-configuration functions, the configuration
/// kept in `store` as acme.sh keeps it in account.conf (`SAVED_NAME=value`).
fn acme_sh_stubs(store: &std::path::Path) -> String {
    let store = store.display();
    format!(
        r#"_info() {{ echo "[info] $*"; }}
_err() {{ echo "[err] $*" >&2; }}
_debug() {{ :; }}
_saveaccountconf_mutable() {{
  {{ grep -v "^SAVED_$1=" '{store}' 2>/dev/null; printf 'SAVED_%s=%s\n' "$1" "$2"; }} >'{store}.new' &&
    mv '{store}.new' '{store}'
}}
_readaccountconf_mutable() {{ sed -n "s/^SAVED_$1=//p" '{store}' 2>/dev/null | tail -n 1; }}
"#
    )
}

/// An acme.sh renewal from cron has an empty environment: the script must
/// find the binary and every setting it saved at issue time.
#[test]
fn acme_sh_renewal_remembers_the_binary_and_settings() {
    let sim = start(base_seed());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/packaging/acme.sh/dns_otc_hook.sh"
    );
    let dir = scratch_dir(&sim, "acmesh-renewal");
    let bin_dir = dir.join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let bin = bin_dir.join("otc-acme-hook");
    std::os::unix::fs::symlink(BIN, &bin).unwrap();
    let store = dir.join("account.conf");
    let stubs = acme_sh_stubs(&store);
    let body = |value: &str| {
        format!(
            r#"{stubs}
. '{script}'
dns_otc_hook_add _acme-challenge.www.example.test {value} || exit 11
dns_otc_hook_rm _acme-challenge.www.example.test {value} || exit 12
"#
        )
    };

    // Issue: the binary on PATH, settings and static keys in the environment; the
    // metadata service can't answer, so only those keys can sign.
    let mut c = std::process::Command::new("sh");
    c.env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
        .env("OTC_DNS_ENDPOINT", sim.base_url())
        .env(
            "OTC_METADATA_URL",
            "http://127.0.0.1:1/openstack/latest/securitykey",
        )
        .env("OTC_NAMESERVER_PORT", sim.dns_addr().port().to_string())
        .env("OTC_LOCK_DIR", lock_dir(&sim))
        .env("OTC_PROPAGATION_TIMEOUT", "20")
        .env("OS_ACCESS_KEY", "AKSTATIC000000000001")
        .env("OS_SECRET_KEY", "SKstatic-secret-0000000000000000000000001")
        .args(["-c", &body("acmesh-issue")]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "issue: {}\n{}", r.stdout, r.stderr);
    let saved = std::fs::read_to_string(&store).unwrap();
    for line in [
        format!("SAVED_OTC_ACME_HOOK_BIN={}", bin.display()),
        format!("SAVED_OTC_DNS_ENDPOINT={}", sim.base_url()),
        format!("SAVED_OTC_LOCK_DIR={}", lock_dir(&sim).display()),
        "SAVED_OS_ACCESS_KEY=AKSTATIC000000000001".to_string(),
        // Given in the environment, so saved (acme.sh's model).
        "SAVED_OS_SECRET_KEY=SKstatic-secret-0000000000000000000000001".to_string(),
    ] {
        assert!(saved.lines().any(|l| l == line), "{line} not saved");
    }
    let issued = requests(&sim).len();

    // Renewal: `env -i`, a PATH without the binary's directory.
    let mut c = std::process::Command::new("/usr/bin/env");
    c.env_clear().args([
        "-i",
        "PATH=/usr/bin:/bin",
        "sh",
        "-c",
        &format!(
            "command -v otc-acme-hook && exit 20\n{}",
            body("acmesh-renewal")
        ),
    ]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "renewal: {}\n{}", r.stdout, r.stderr);
    let log = sim.log_json();
    let renewal: Vec<&serde_json::Value> = log["requests"].as_array().unwrap()[issued..]
        .iter()
        .collect();
    let writes = renewal
        .iter()
        .filter(|q| {
            let m = q["method"].as_str().unwrap_or("");
            (m == "POST" || m == "PUT" || m == "DELETE")
                && q["status"].as_u64().is_some_and(|s| s < 300)
        })
        .count();
    assert!(writes >= 2, "the renewal added and removed: {renewal:?}");
    assert!(
        renewal
            .iter()
            .filter_map(|q| q["access_key"].as_str())
            .all(|k| k == "AKSTATIC000000000001"),
        "signed with the saved keys: {renewal:?}"
    );
    let state = sim.state_json().to_string();
    assert!(!state.contains("acmesh-issue") && !state.contains("acmesh-renewal"));
    assert_foreign_intact(&sim);
    let _ = std::fs::remove_dir_all(&dir);
}

fn check(sim: &Sim, args: &[&str]) -> Run {
    let mut c = cmd(sim);
    c.arg("check")
        .args(args)
        .args(["--resolver", &sim.dns_addr().to_string()]);
    run(sim, &mut c)
}

#[test]
fn check_passes_on_a_working_setup() {
    let sim = start(base_seed());
    let r = check(
        &sim,
        &["example.test", "*.example.test", "a.sub.example.test"],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    for line in [
        "ok    credentials: ECS agency (access key",
        "ok    clock: within",
        "ok    zone example.test: _acme-challenge.example.test. lies in public zone example.test.",
        "ok    probe example.test: added and removed a TXT value at _acme-challenge.example.test.",
        "ok    zone a.sub.example.test: _acme-challenge.a.sub.example.test. lies in public zone sub.example.test.",
        "ok    nameserver localhost.: ",
        "ok    delegation of example.test.: NS localhost.",
    ] {
        assert!(r.stdout.contains(line), "missing {line:?} in\n{}", r.stdout);
    }
    assert!(!r.stdout.contains("FAIL"));
    assert_foreign_intact(&sim);
    // --read-only writes nothing.
    let writes = |sim: &Sim| {
        requests(sim)
            .iter()
            .filter(|(m, p, _)| m != "GET" && p.starts_with("/v2/"))
            .count()
    };
    let before = writes(&sim);
    let r = check(&sim, &["example.test", "--read-only"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("skipped (--read-only)"));
    assert_eq!(writes(&sim), before);
}

fn fail_line(r: &Run, prefix: &str) -> String {
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    r.stdout
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line {prefix:?} in\n{}", r.stdout))
        .to_string()
}

#[test]
fn check_credentials_failure() {
    let sim = start(base_seed());
    configure(&sim, json!({"metadata_down": true}));
    let r = check(&sim, &["example.test"]);
    let l = fail_line(&r, "FAIL  credentials: ");
    assert!(l.contains("; fix: attach an IAM agency"), "{l}");
}

#[test]
fn check_zone_failure() {
    let sim = start(base_seed());
    let r = check(&sim, &["www.other.invalid"]);
    let l = fail_line(&r, "FAIL  zone www.other.invalid: ");
    assert!(
        l.contains("no public zone holds") && l.contains("; fix: create the zone"),
        "{l}"
    );
}

#[test]
fn check_probe_failure() {
    let sim = start(base_seed());
    configure(
        &sim,
        json!({"faults": [{"kind": "status", "status": 403, "code": "DNS.0002",
        "message": "forbidden", "count": 10, "method": "PUT", "path_prefix": "/v2/"}]}),
    );
    let r = check(&sim, &["example.test"]);
    let l = fail_line(&r, "FAIL  probe example.test: ");
    assert!(
        l.contains("HTTP 403") && l.contains("; fix: permission denied: give the agency"),
        "{l}"
    );
    assert_foreign_intact(&sim);
}

#[test]
fn check_nameserver_failure() {
    let sim = start(base_seed());
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let ns = silent.local_addr().unwrap().to_string();
    let r = check(
        &sim,
        &[
            "example.test",
            "--read-only",
            "--no-cname",
            "--nameserver",
            &ns,
        ],
    );
    let l = fail_line(&r, &format!("FAIL  nameserver {ns}: "));
    assert!(l.contains("; fix: open port 53"), "{l}");
}

#[test]
fn check_delegation_failure() {
    let sim = start(base_seed());
    // What the world sees: another server that names other nameservers for the zone.
    let mut other = base_seed();
    other["nameservers"] = json!(["ns1.elsewhere.test."]);
    let world = start(other);
    let mut c = cmd(&sim);
    c.args([
        "check",
        "example.test",
        "--read-only",
        "--resolver",
        &world.dns_addr().to_string(),
    ]);
    let r = run(&sim, &mut c);
    let l = fail_line(&r, "FAIL  delegation of example.test.: ");
    assert!(
        l.contains("the resolver sees NS ns1.elsewhere.test., the API names localhost."),
        "{l}"
    );
    assert!(
        l.contains("; fix: set the zone's NS records at the registrar to localhost."),
        "{l}"
    );
}

#[test]
fn check_warns_about_clock_skew() {
    let sim = start(base_seed());
    configure(&sim, json!({"clock_offset_secs": 1200}));
    let r = check(&sim, &["example.test", "--read-only"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("warn  clock: 1200 s behind the API's Date"),
        "{}",
        r.stdout
    );
}

#[test]
fn man_page_and_completions_come_from_the_cli_definition() {
    let out = std::process::Command::new(BIN)
        .args(["generate", "man"])
        .env_clear()
        .output()
        .unwrap();
    let man = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for flag in [
        "\\-\\-dns\\-endpoint",
        "\\-\\-agency\\-name",
        "\\-\\-no\\-wait\\-once",
        "OS_SECRET_KEY",
    ] {
        assert!(man.contains(flag), "man page lacks {flag}");
    }
    for shell in ["bash", "zsh", "fish"] {
        let out = std::process::Command::new(BIN)
            .args(["generate", "completions", shell])
            .env_clear()
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("propagation-timeout"),
            "{shell}"
        );
    }
}
