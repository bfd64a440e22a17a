//! The ACME clients' contracts besides certbot's: lego `exec` (default and
//! RAW), acme.sh's dnsapi functions, and the `check` preflight.

mod common;

use common::*;
use otc_acme_hook::flow::contracts::key_authorization_digest;
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
    let script = ACME_SH_SCRIPT;
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
    let mut c = std::process::Command::new(DASH);
    c.env_clear()
        .current_dir(&dir)
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
    let mut c = std::process::Command::new(DASH);
    c.env_clear()
        .current_dir(&dir)
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

/// acme.sh 3.1.4's logging and account-configuration functions, written from
/// what they do (not from acme.sh's code), the configuration kept in `store`
/// as acme.sh keeps it in account.conf. Every acme.sh start sources that file
/// with `sh` (dash on Debian), so a run begins with it too: a line that breaks
/// the file stops acme.sh (exit 2), and code in it runs.
fn acme_sh_stubs(store: &std::path::Path) -> String {
    let store = store.display();
    format!(
        r#"if [ -f '{store}' ]; then . '{store}'; fi
_info() {{ echo "[info] $*"; }}
_err() {{ echo "[err] $*" >&2; }}
_debug() {{ :; }}
# _save_conf: KEY='VALUE' in place of the key's line, the value not escaped.
_save_conf() {{
  {{ grep -v "^$2=" "$1" 2>/dev/null; printf "%s='%s'\n" "$2" "$3"; }} >"$1.new" && mv "$1.new" "$1"
}}
# KEY VALUE [base64]: saved as SAVED_KEY, base64-encoded and marked so when asked.
_saveaccountconf_mutable() {{
  _sacm_v="$2"
  if [ "${{3:-}}" = base64 ]; then
    _sacm_v="__ACME_BASE64__START_$(printf '%s' "$2" | base64 | tr -d '\n')__ACME_BASE64__END_"
  fi
  _save_conf '{store}' "SAVED_$1" "$_sacm_v"
}}
# KEY: the saved value, decoded when it was saved base64-encoded.
_readaccountconf_mutable() {{
  _racm_v="$( if [ -f '{store}' ]; then . '{store}'; fi; eval "printf '%s' \"\${{SAVED_$1:-}}\"" )"
  case $_racm_v in
    __ACME_BASE64__START_*__ACME_BASE64__END_)
      _racm_v="${{_racm_v#__ACME_BASE64__START_}}"
      _racm_v="$(printf '%s' "${{_racm_v%__ACME_BASE64__END_}}" | base64 -d)"
      ;;
  esac
  printf '%s' "$_racm_v"
}}
"#
    )
}

/// acme.sh's shell on Debian, which sources account.conf at every start.
const DASH: &str = "/usr/bin/dash";

const ACME_SH_SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/packaging/acme.sh/dns_otc_hook.sh"
);

/// What the script gets back from `store` at renewal: each saved variable
/// (an empty, blanked one is not saved) with its value byte for byte (read
/// as acme.sh gives it where the script has no reader of its own, as before).
fn saved(store: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    let text = std::fs::read_to_string(store).unwrap_or_default();
    let keys: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("SAVED_")?.split_once('=').map(|(k, _)| k))
        .collect();
    let body = format!(
        r#"{stubs}
. '{ACME_SH_SCRIPT}'
for k in {keys}; do
  if command -v _otc_hook_read >/dev/null; then
    _otc_hook_read "$k"
  else
    _otc_value="$(_readaccountconf_mutable "$k")"
  fi
  printf '%s ' "$k"; printf '%s' "$_otc_value" | od -An -v -tx1 | tr -d ' \n'; echo
done
"#,
        stubs = acme_sh_stubs(store),
        keys = keys.join(" ")
    );
    let out = std::process::Command::new(DASH)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .args(["-c", &body])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "account.conf reads: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let (k, hex) = l.split_once(' ')?;
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            Some((k.to_string(), String::from_utf8(bytes).unwrap()))
        })
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

/// acme.sh running the script's add and remove functions for `value`.
fn acme_sh_body(store: &std::path::Path, value: &str) -> String {
    format!(
        r#"{stubs}
. '{ACME_SH_SCRIPT}'
dns_otc_hook_add _acme-challenge.www.example.test {value} || exit 11
dns_otc_hook_rm _acme-challenge.www.example.test {value} || exit 12
"#,
        stubs = acme_sh_stubs(store)
    )
}

/// A renewal from cron: `env -i`, a PATH without the binary, dash.
fn acme_sh_renewal(dir: &std::path::Path, body: &str) -> std::process::Command {
    let mut c = std::process::Command::new("/usr/bin/env");
    c.env_clear().current_dir(dir).args([
        "-i",
        "PATH=/usr/bin:/bin",
        DASH,
        "-c",
        &format!("command -v otc-acme-hook && exit 20\n{body}"),
    ]);
    c
}

/// An acme.sh renewal from cron has an empty environment: the script must
/// find the binary and every setting it saved at issue time.
#[test]
fn acme_sh_renewal_remembers_the_binary_and_settings() {
    let sim = start(base_seed());
    let dir = scratch_dir(&sim, "acmesh-renewal");
    let bin_dir = dir.join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let bin = bin_dir.join("otc-acme-hook");
    std::os::unix::fs::symlink(BIN, &bin).unwrap();
    let store = dir.join("account.conf");

    // Issue: the binary on PATH, settings and static keys in the environment; the
    // metadata service can't answer, so only those keys can sign.
    let mut c = std::process::Command::new(DASH);
    c.env_clear()
        .current_dir(&dir)
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
        .args(["-c", &acme_sh_body(&store, "acmesh-issue")]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "issue: {}\n{}", r.stdout, r.stderr);
    let saved = saved(&store);
    let lock = lock_dir(&sim).display().to_string();
    let base = sim.base_url();
    let port = sim.dns_addr().port().to_string();
    let bin_path = bin.display().to_string();
    for (name, value) in [
        ("OTC_ACME_HOOK_BIN", bin_path.as_str()),
        ("OTC_DNS_ENDPOINT", base.as_str()),
        (
            "OTC_METADATA_URL",
            "http://127.0.0.1:1/openstack/latest/securitykey",
        ),
        ("OTC_NAMESERVER_PORT", port.as_str()),
        ("OTC_LOCK_DIR", lock.as_str()),
        ("OTC_PROPAGATION_TIMEOUT", "20"),
        ("OS_ACCESS_KEY", "AKSTATIC000000000001"),
        // Given in the environment, so saved (acme.sh's model).
        ("OS_SECRET_KEY", "SKstatic-secret-0000000000000000000000001"),
    ] {
        assert_eq!(saved.get(name).map(String::as_str), Some(value), "{name}");
    }
    // Base64, never a plain value in a file every acme.sh start sources.
    let text = std::fs::read_to_string(&store).unwrap();
    assert!(
        !text.contains("SKstatic-secret") && !text.contains(&base),
        "{text}"
    );
    let issued = requests(&sim).len();

    // Renewal: `env -i`, a PATH without the binary's directory.
    let mut c = acme_sh_renewal(&dir, &acme_sh_body(&store, "acmesh-renewal"));
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
    // The renewal saved the same again.
    assert_eq!(self::saved(&store), saved);
    let _ = std::fs::remove_dir_all(&dir);
}

/// issue 18: a shell that sourced an OpenStack openrc has OS_PASSWORD (the IAM
/// user's console password) and OS_USERNAME; the hook never reads them, so
/// the script never saves them, nor another cloud's keys, nor anything else
/// the hook ignores.
#[test]
fn acme_sh_saves_only_what_the_hook_reads_never_an_openrc_password() {
    let sim = start(base_seed());
    let dir = scratch_dir(&sim, "acmesh-openrc");
    let store = dir.join("account.conf");
    let openrc = [
        ("OS_PASSWORD", "Console-Passw0rd-of-the-IAM-user"),
        ("OS_USERNAME", "iam-user-name-0001"),
        ("OS_AUTH_URL", "https://iam.eu-de.otc.t-systems.com/v3"),
        ("OS_PROJECT_NAME", "eu-de_project"),
        ("OS_USER_DOMAIN_NAME", "OTC-EU-DE-00000000001"),
        ("OS_IDENTITY_API_VERSION", "3"),
        // Another cloud's secret and a name the hook doesn't know.
        ("OVH_CLIENT_SECRET", "OVH-SECRET-NOT-READ-BY-OTC"),
        ("OTC_NOT_A_SETTING", "ignored-value-0001"),
    ];
    let mut c = std::process::Command::new(DASH);
    c.env_clear()
        .current_dir(&dir)
        .env("PATH", "/usr/bin:/bin")
        .env("OTC_ACME_HOOK_BIN", BIN)
        .env("OTC_DNS_ENDPOINT", sim.base_url())
        .env(
            "OTC_METADATA_URL",
            "http://127.0.0.1:1/openstack/latest/securitykey",
        )
        .env("OTC_NAMESERVER_PORT", sim.dns_addr().port().to_string())
        .env("OTC_LOCK_DIR", lock_dir(&sim))
        .env("OS_ACCESS_KEY", "AKSTATIC000000000001")
        .env("OS_SECRET_KEY", "SKstatic-secret-0000000000000000000000001")
        .envs(openrc)
        .args(["-c", &acme_sh_body(&store, "acmesh-openrc")]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "issue: {}\n{}", r.stdout, r.stderr);
    let saved = saved(&store);
    let text = std::fs::read_to_string(&store).unwrap();
    for (name, value) in openrc {
        assert!(!saved.contains_key(name), "{name} saved: {saved:?}");
        assert!(
            value.len() < 8 || !text.contains(value),
            "{name}'s value in account.conf"
        );
    }
    assert!(!saved["DNS_OTC_HOOK_VARS"].contains("OS_PASSWORD"));
    // Exactly the variables the hook reads, as the binary lists them.
    let out = std::process::Command::new(BIN)
        .env_clear()
        .args(["generate", "acme-sh-vars"])
        .output()
        .unwrap();
    let read: Vec<String> = String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect();
    // Session tokens are listed as temporary: the script never saves them.
    let listing = String::from_utf8(out.stdout.clone()).unwrap();
    for token in ["OS_SECURITY_TOKEN", "OS_ACCESS_TOKEN"] {
        assert!(
            listing.lines().any(|l| l == format!("{token} temporary")),
            "{listing}"
        );
    }
    for name in saved.keys() {
        assert!(
            read.contains(name) || name == "OTC_ACME_HOOK_BIN" || name == "DNS_OTC_HOOK_VARS",
            "{name} saved but not read"
        );
    }
    assert!(saved.contains_key("OS_SECRET_KEY") && saved.contains_key("OTC_LOCK_DIR"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// issue 18: an older script saved every OS_*/OTC_* variable as is. Its
/// account.conf still renews, and the values the hook doesn't read (an
/// openrc's password) are blanked there.
#[test]
fn acme_sh_older_account_conf_renews_and_loses_the_password() {
    let sim = start(base_seed());
    let dir = scratch_dir(&sim, "acmesh-older");
    let store = dir.join("account.conf");
    let names = "OS_ACCESS_KEY OS_PASSWORD OS_SECRET_KEY OTC_ACME_HOOK_BIN OTC_DNS_ENDPOINT \
                 OTC_LOCK_DIR OTC_METADATA_URL OTC_NAMESERVER_PORT";
    std::fs::write(
        &store,
        format!(
            "SAVED_OS_ACCESS_KEY='AKSTATIC000000000001'\n\
             SAVED_OS_SECRET_KEY='SKstatic-secret-0000000000000000000000001'\n\
             SAVED_OS_PASSWORD='Console-Passw0rd-of-the-IAM-user'\n\
             SAVED_OTC_ACME_HOOK_BIN='{BIN}'\n\
             SAVED_OTC_DNS_ENDPOINT='{}'\n\
             SAVED_OTC_LOCK_DIR='{}'\n\
             SAVED_OTC_METADATA_URL='http://127.0.0.1:1/openstack/latest/securitykey'\n\
             SAVED_OTC_NAMESERVER_PORT='{}'\n\
             SAVED_DNS_OTC_HOOK_NAMES='{names}'\n",
            sim.base_url(),
            lock_dir(&sim).display(),
            sim.dns_addr().port()
        ),
    )
    .unwrap();
    let mut c = acme_sh_renewal(&dir, &acme_sh_body(&store, "acmesh-older"));
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "renewal: {}\n{}", r.stdout, r.stderr);
    let text = std::fs::read_to_string(&store).unwrap();
    assert!(!text.contains("Console-Passw0rd"), "{text}");
    let saved = saved(&store);
    assert!(!saved.contains_key("OS_PASSWORD"), "{saved:?}");
    assert!(!saved.contains_key("DNS_OTC_HOOK_NAMES"), "{saved:?}");
    assert_eq!(saved["OS_ACCESS_KEY"], "AKSTATIC000000000001");
    assert_eq!(saved["OTC_ACME_HOOK_BIN"], BIN);
    // And the next renewal reads the new format.
    let mut c = acme_sh_renewal(&dir, &acme_sh_body(&store, "acmesh-older-2"));
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "renewal: {}\n{}", r.stdout, r.stderr);
    assert_foreign_intact(&sim);
    let _ = std::fs::remove_dir_all(&dir);
}

/// issue 18: acme.sh writes `SAVED_KEY='value'` unescaped and sources
/// account.conf at every start, so one apostrophe stopped every renewal and a
/// crafted value ran as code. Saved values with quotes, `$()`, backticks and
/// newlines come back byte for byte, and nothing runs.
#[test]
fn acme_sh_values_with_quotes_code_and_newlines_round_trip_and_never_run() {
    let sim = start(base_seed());
    let dir = scratch_dir(&sim, "acmesh-quotes");
    let store = dir.join("account.conf");
    let d = dir.display();
    // The state directory is a setting the run uses: its name proves the bytes.
    let lock = format!(
        "{d}/state it's \"q\" $(touch {d}/PWNED1) `touch {d}/PWNED2` \\ $HOME ${{IFS}}\nline 2\n"
    );
    let hostile = [
        ("OTC_LOCK_DIR", lock.as_str()),
        // issue 18's crafted zone value, in a setting this run doesn't use.
        (
            "OTC_CCE_CLUSTER_ID",
            &*format!("ex'$(touch {d}/PWNED3)'ample.test"),
        ),
        (
            "OTC_CCE_PROJECT_ID",
            &*format!("\n\"; touch {d}/PWNED4; \"'\\''\n`id`\t${{PATH}}\n\n"),
        ),
    ]
    .map(|(k, v)| (k, v.to_string()));
    let body = |value: &str| {
        let dump: String = hostile
            .iter()
            .map(|(k, _)| format!("printf '%s' \"${k}\" > '{d}/got-{k}'\n"))
            .collect();
        format!("{}{dump}", acme_sh_body(&store, value))
    };
    let mut c = std::process::Command::new(DASH);
    c.env_clear()
        .current_dir(&dir)
        .env("PATH", "/usr/bin:/bin")
        .env("OTC_ACME_HOOK_BIN", BIN)
        .env("OTC_DNS_ENDPOINT", sim.base_url())
        .env(
            "OTC_METADATA_URL",
            "http://127.0.0.1:1/openstack/latest/securitykey",
        )
        .env("OTC_NAMESERVER_PORT", sim.dns_addr().port().to_string())
        .env("OTC_PROPAGATION_TIMEOUT", "20")
        .env("OS_ACCESS_KEY", "AKSTATIC000000000001")
        .env("OS_SECRET_KEY", "SKstatic-secret-0000000000000000000000001")
        .envs(hostile.clone())
        .args(["-c", &body("acmesh-quotes-issue")]);
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "issue: {}\n{}", r.stdout, r.stderr);
    let saved = saved(&store);
    for (k, v) in &hostile {
        assert_eq!(saved.get(*k), Some(v), "{k} saved byte for byte");
    }
    for (k, _) in &hostile {
        std::fs::remove_file(dir.join(format!("got-{k}"))).unwrap();
    }

    // The renewal (dash sources account.conf first) gets every value back.
    let mut c = acme_sh_renewal(&dir, &body("acmesh-quotes-renewal"));
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "renewal: {}\n{}", r.stdout, r.stderr);
    for (k, v) in &hostile {
        let got = std::fs::read(dir.join(format!("got-{k}"))).unwrap();
        assert_eq!(
            String::from_utf8(got).unwrap(),
            *v,
            "{k} back byte for byte"
        );
    }
    // The hook kept its state in exactly that directory.
    assert!(std::path::Path::new(&lock).is_dir(), "{lock:?}");
    for k in ["PWNED1", "PWNED2", "PWNED3", "PWNED4"] {
        assert!(!dir.join(k).exists(), "{k}: a saved value ran as code");
    }
    let state = sim.state_json().to_string();
    assert!(!state.contains("acmesh-quotes"));
    assert_foreign_intact(&sim);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The environment `c` (a [`cmd`]-style command) would give the binary.
fn envs_of(c: &std::process::Command) -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
    c.get_envs()
        .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned())))
        .collect()
}

/// acme.sh at issue time under dash, with `env` and the binary not on PATH.
fn acme_sh_issue(
    dir: &std::path::Path,
    env: Vec<(std::ffi::OsString, std::ffi::OsString)>,
    body: &str,
) -> std::process::Command {
    let mut c = std::process::Command::new(DASH);
    c.env_clear()
        .current_dir(dir)
        .envs(env)
        .env("PATH", "/usr/bin:/bin")
        .env("OTC_ACME_HOOK_BIN", BIN)
        .args(["-c", body]);
    c
}

/// issue 18: renewals restored OTC_CLOUD=ovh but not OVH_CLIENT_ID nor
/// OVH_CLIENT_SECRET_FILE, so the first renewal failed. The service account's
/// id and secret file come back under `env -i` (the secret itself stays in
/// its file, never in account.conf).
#[test]
fn acme_sh_ovh_renewal_gets_its_credentials_back() {
    let seed = json!({
        "nameservers": ["localhost."],
        "propagation_delay_ms": 0,
        "ovh": {
            "zones": [{"name": "example.test", "records": [
                {"subDomain": "_acme-challenge", "fieldType": "TXT", "target": "\"foreign-keep\"", "ttl": 600}
            ]}],
            "service_accounts": [
                {"client_id": "sa-acmesh", "client_secret": "SA-SECRET-ACMESH-0000000001"}
            ]
        }
    });
    let sim = start_cloud(seed, "ovh");
    let dir = scratch_dir(&sim, "acmesh-ovh");
    let store = dir.join("account.conf");
    let secret_file = dir.join("ovh_client_secret");
    std::fs::write(&secret_file, "SA-SECRET-ACMESH-0000000001\n").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let mut env = envs_of(&cmd_for(&sim, "ovh"));
    env.push(("OVH_CLIENT_ID".into(), "sa-acmesh".into()));
    env.push(("OVH_CLIENT_SECRET_FILE".into(), secret_file.clone().into()));
    let mut c = acme_sh_issue(&dir, env, &acme_sh_body(&store, "acmesh-ovh-issue"));
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "issue: {}\n{}", r.stdout, r.stderr);
    let saved = saved(&store);
    assert_eq!(saved["OTC_CLOUD"], "ovh");
    assert_eq!(saved["OVH_CLIENT_ID"], "sa-acmesh");
    assert_eq!(
        saved["OVH_CLIENT_SECRET_FILE"],
        secret_file.display().to_string()
    );
    assert!(!saved.contains_key("OVH_CLIENT_SECRET"));
    let text = std::fs::read_to_string(&store).unwrap();
    assert!(!text.contains("SA-SECRET"), "{text}");
    let issued = requests(&sim).len();

    let mut c = acme_sh_renewal(&dir, &acme_sh_body(&store, "acmesh-ovh-renewal"));
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "renewal: {}\n{}", r.stdout, r.stderr);
    let renewal = &requests(&sim)[issued..];
    let ok = |method: &str, part: &str| {
        renewal
            .iter()
            .any(|(m, p, s)| m == method && p.contains(part) && *s < 300)
    };
    assert!(ok("POST", "/auth/oauth2/token"), "{renewal:?}");
    assert!(ok("POST", "/record"), "{renewal:?}");
    assert!(ok("DELETE", "/record/"), "{renewal:?}");
    let state = sim.state_json().to_string();
    assert!(state.contains("foreign-keep") && !state.contains("acmesh-ovh"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// issue 18: renewals didn't restore NCLOUD_*, so an NCP renewal silently
/// signed with the server role instead of the keys given at issue time. The
/// keys come back under `env -i` and sign every DNS call.
#[test]
fn acme_sh_ncp_renewal_gets_its_keys_back() {
    use common::ncp;
    let sim = ncp::start(ncp::seed());
    let dir = scratch_dir(&sim, "acmesh-ncp");
    let store = dir.join("account.conf");
    let mut env = envs_of(&ncp::cmd(&sim));
    env.push(("NCLOUD_ACCESS_KEY_ID".into(), ncp::AK.into()));
    env.push(("NCLOUD_SECRET_ACCESS_KEY".into(), ncp::SK.into()));
    let mut c = acme_sh_issue(&dir, env, &acme_sh_body(&store, "acmesh-ncp-issue"));
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "issue: {}\n{}", r.stdout, r.stderr);
    let saved = saved(&store);
    assert_eq!(saved["OTC_CLOUD"], "ncp");
    assert_eq!(saved["NCLOUD_ACCESS_KEY_ID"], ncp::AK);
    // Given in the environment, so saved (acme.sh's model), base64-encoded.
    assert_eq!(saved["NCLOUD_SECRET_ACCESS_KEY"], ncp::SK);
    assert!(!std::fs::read_to_string(&store).unwrap().contains(ncp::SK));
    let issued = sim.log_json()["requests"].as_array().unwrap().len();

    let mut c = acme_sh_renewal(&dir, &acme_sh_body(&store, "acmesh-ncp-renewal"));
    let r = run(&sim, &mut c);
    assert_eq!(r.code, 0, "renewal: {}\n{}", r.stdout, r.stderr);
    let log = sim.log_json();
    let dns: Vec<&serde_json::Value> = log["requests"].as_array().unwrap()[issued..]
        .iter()
        .filter(|q| q["path"].as_str().unwrap_or("").starts_with("/dns/v1/"))
        .collect();
    assert!(
        dns.iter().any(|q| q["method"] == "POST"),
        "the renewal wrote: {dns:?}"
    );
    assert!(
        dns.iter().all(|q| q["access_key"] == ncp::AK),
        "signed with the saved keys, not the server role: {dns:?}"
    );
    assert!(
        ncp::txt(&sim, "example.test", "_acme-challenge").contains(&"foreign-keep".to_string())
    );
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
